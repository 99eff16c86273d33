"""SHIPPING_LIST_METHODS_FOR_CHECKOUT: signed checkouts in, Saleor's JSON array of options out."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from app.domain.shipping.measures import AttributeReading
from app.runtime import Runtime
from app.services.shipping.model import Cart, CartLine, CheckoutOption, Place
from app.webhooks import shipping_list_methods_for_checkout as route
from tests.api.conftest import Send
from tests.builders import SHOP_API_URL, body_of
from tests.conftest import FixedClock
from tests.fakes.checkout_shipping import FakeCheckoutShipping, answer_checkouts_with
from tests.fakes.saleor_signer import SaleorSigner

EVENT = "SHIPPING_LIST_METHODS_FOR_CHECKOUT"


def _line(**overrides: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "quantity": 2,
        "undiscountedTotalPrice": {"amount": 37.8, "currency": "USD"},
        "variant": {
            "id": "UHJvZHVjdFZhcmlhbnQ6MQ==",
            "sku": "BEAN-ETH-250",
            "weight": {"unit": "G", "value": 250.0},
            "product": {"productType": {"name": "Coffee"}},
        },
    }
    line.update(overrides)
    return line


def _checkout(**overrides: Any) -> dict[str, Any]:
    checkout: dict[str, Any] = {
        "id": "Q2hlY2tvdXQ6YWJj",
        "channel": {"slug": "default-channel", "currencyCode": "USD"},
        "shippingAddress": {
            "streetAddress1": "12 Elm St",
            "city": "PORTLAND",
            "postalCode": "97205",
            "country": {"code": "US"},
            "countryArea": "OR",
        },
        "lines": [_line()],
    }
    checkout.update(overrides)
    return checkout


def _body(checkout: dict[str, Any] | None, **extra: Any) -> bytes:
    return body_of(
        {
            "__typename": "ShippingListMethodsForCheckout",
            "issuedAt": "2026-11-26T12:00:00+00:00",
            "version": "3.20.119",
            "checkout": checkout,
            **extra,
        }
    )


def _option(level: str = "expedited", **overrides: Any) -> CheckoutOption:
    values: dict[str, Any] = {
        "id": level,
        "name": f"{level.capitalize()}, arrives Tue 1 Dec",
        "amount": Decimal("12.50"),
        "currency": "USD",
        "minimum_delivery_days": 1,
        "maximum_delivery_days": 3,
        "description": "UPS 2nd Day Air",
    }
    values.update(overrides)
    return CheckoutOption(**values)


@pytest.fixture
def shipping(monkeypatch: pytest.MonkeyPatch) -> FakeCheckoutShipping:
    fake = FakeCheckoutShipping([_option("standard", amount=Decimal("5.90")), _option()])
    answer_checkouts_with(monkeypatch, fake)
    return fake


async def _ask(send: Send, body: bytes, **kwargs: Any) -> httpx.Response:
    return await send(EVENT, body, process=False, **kwargs)


@pytest.mark.usefixtures("installation")
class TestCheckoutOptions:
    async def test_answers_each_option_as_saleor_reads_it(self, send: Send, shipping: FakeCheckoutShipping) -> None:
        response = await _ask(send, _body(_checkout()))
        assert response.status_code == 200
        assert response.json() == [
            {
                "id": "standard",
                "name": "Standard, arrives Tue 1 Dec",
                "amount": "5.90",
                "currency": "USD",
                "minimum_delivery_days": 1,
                "maximum_delivery_days": 3,
                "description": "UPS 2nd Day Air",
            },
            {
                "id": "expedited",
                "name": "Expedited, arrives Tue 1 Dec",
                "amount": "12.50",
                "currency": "USD",
                "minimum_delivery_days": 1,
                "maximum_delivery_days": 3,
                "description": "UPS 2nd Day Air",
            },
        ]

    async def test_quotes_the_cart_the_checkout_holds(
        self, send: Send, shipping: FakeCheckoutShipping, clock: FixedClock
    ) -> None:
        pound = _line(
            quantity=1,
            undiscountedTotalPrice={"amount": "149.00", "currency": "USD"},
            variant={
                "id": "UHJvZHVjdFZhcmlhbnQ6Mg==",
                "sku": None,
                "weight": {"unit": "LB", "value": 2},
                "product": {"productType": None},
            },
        )
        await _ask(send, _body(_checkout(lines=[_line(), pound])))
        assert shipping.asked == [
            (
                SHOP_API_URL,
                Cart(
                    channel="default-channel",
                    currency="USD",
                    destination=Place(
                        country="US", postal_code="97205", city="PORTLAND", country_area="OR", street="12 Elm St"
                    ),
                    lines=(
                        CartLine(
                            "UHJvZHVjdFZhcmlhbnQ6MQ==", "BEAN-ETH-250", "Coffee", 2, Decimal("0.250"), Decimal("37.8")
                        ),
                        CartLine("UHJvZHVjdFZhcmlhbnQ6Mg==", None, None, 1, Decimal("0.90718474"), Decimal("149.00")),
                    ),
                ),
                clock.now(),
            )
        ]

    async def test_the_sizes_weights_and_company_saleor_sends_reach_quoting(
        self, send: Send, shipping: FakeCheckoutShipping
    ) -> None:
        """As the ParcelFacts fragment selects them: the variant's attributes before its product's, the
        product's and product type's weights for a variant without one, and the address's company."""
        length = {"attribute": {"slug": "length", "unit": "MM"}, "values": [{"name": "180"}]}
        unset = {"attribute": {"slug": "height", "unit": "CM"}, "values": []}
        size = {"attribute": {"slug": "package-size", "unit": None}, "values": [{"name": "20 x 15 x 10 cm"}]}
        lamp = _line(
            variant={
                "id": "UHJvZHVjdFZhcmlhbnQ6Mw==",
                "sku": "LAMP-1",
                "weight": None,
                "attributes": [length, unset],
                "product": {
                    "weight": {"unit": "G", "value": 800},
                    "attributes": [size],
                    "productType": {"name": "Lamps", "weight": {"unit": "KG", "value": 1.2}},
                },
            }
        )
        address = {**_checkout()["shippingAddress"], "companyName": "Acme Corp"}

        await _ask(send, _body(_checkout(lines=[lamp], shippingAddress=address)))

        ((_, cart, _),) = shipping.asked
        assert cart.destination.company_name == "Acme Corp"
        assert not cart.destination.residential
        (line,) = cart.lines
        assert (line.weight_kg, line.product_weight_kg, line.product_type_weight_kg) == (
            None,
            Decimal("0.800"),
            Decimal("1.2"),
        )
        assert line.attributes == (
            AttributeReading("length", "MM", ("180",)),
            AttributeReading("height", "CM", ()),
            AttributeReading("package-size", None, ("20 x 15 x 10 cm",)),
        )

    async def test_a_checkout_without_attributes_or_company_is_a_home_with_no_sizes(
        self, send: Send, shipping: FakeCheckoutShipping
    ) -> None:
        await _ask(send, _body(_checkout()))
        ((_, cart, _),) = shipping.asked
        assert cart.destination.residential
        assert cart.lines[0].attributes == ()
        assert cart.lines[0].product_weight_kg is None

    @pytest.mark.parametrize(
        ("unit", "value", "kg"),
        [
            ("G", 1500, "1.5"),
            ("KG", 2.5, "2.5"),
            ("OZ", 16, "0.453592370"),
            ("LB", 1, "0.45359237"),
            ("TONNE", 0.002, "2"),
        ],
    )
    async def test_weights_reach_quoting_in_kilograms(
        self, send: Send, shipping: FakeCheckoutShipping, unit: str, value: float, kg: str
    ) -> None:
        line = _line(variant={**_line()["variant"], "weight": {"unit": unit, "value": value}})
        await _ask(send, _body(_checkout(lines=[line])))
        ((_, cart, _),) = shipping.asked
        assert cart.lines[0].weight_kg == Decimal(kg)

    async def test_a_variant_without_weight_is_quoted_with_none(
        self, send: Send, shipping: FakeCheckoutShipping
    ) -> None:
        line = _line(variant={**_line()["variant"], "weight": None})
        await _ask(send, _body(_checkout(lines=[line])))
        assert shipping.asked[0][1].lines[0].weight_kg is None

    async def test_long_names_and_descriptions_are_shortened_to_what_saleor_keeps(
        self, send: Send, shipping: FakeCheckoutShipping
    ) -> None:
        shipping.options = [_option(name="N" * 130, description="D" * 300)]
        (answer,) = (await _ask(send, _body(_checkout()))).json()
        assert (len(answer["name"]), len(answer["description"])) == (100, 255)
        assert answer["name"].endswith("…")

    async def test_options_in_another_currency_are_left_out(self, send: Send, shipping: FakeCheckoutShipping) -> None:
        shipping.options = [_option("standard", currency="EUR"), _option()]
        assert [o["id"] for o in (await _ask(send, _body(_checkout()))).json()] == ["expedited"]


@pytest.mark.usefixtures("installation")
class TestNothingToOffer:
    async def test_a_checkout_without_shipping_address_gets_no_options_and_no_quote(
        self, send: Send, shipping: FakeCheckoutShipping, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger=route.__name__):
            response = await _ask(send, _body(_checkout(shippingAddress=None)))
        assert (response.status_code, response.json(), shipping.asked) == (200, [], [])
        assert "no shipping address yet" in caplog.text

    async def test_a_checkout_saleor_could_not_render_gets_no_options_and_a_log_line(
        self, send: Send, shipping: FakeCheckoutShipping, caplog: pytest.LogCaptureFixture
    ) -> None:
        error = {
            "message": "Resolving this field is not allowed in synchronous events.",
            "path": ["event", "checkout", "totalPrice"],
        }
        with caplog.at_level(logging.WARNING, logger=route.__name__):
            response = await _ask(send, _body(None, errors=[error]))
        assert (response.status_code, response.json(), shipping.asked) == (200, [], [])
        (record,) = caplog.records
        assert record.reason == error["message"]  # type: ignore[attr-defined]

    async def test_quoting_that_fails_answers_no_options_never_an_error(
        self, send: Send, shipping: FakeCheckoutShipping, caplog: pytest.LogCaptureFixture
    ) -> None:
        shipping.error = RuntimeError("rate tables unreadable")
        with caplog.at_level(logging.WARNING, logger=route.__name__):
            response = await _ask(send, _body(_checkout()))
        assert (response.status_code, response.json()) == (200, [])
        assert "rate tables unreadable" in caplog.records[0].reason  # type: ignore[attr-defined]

    async def test_a_database_that_fails_before_the_signature_is_checked_answers_no_options_never_an_error(
        self, send: Send, shipping: FakeCheckoutShipping, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def unreachable(*_: object) -> None:
            raise OperationalError("SELECT installations", {}, ConnectionRefusedError())

        runtime.installations.forget(SHOP_API_URL)
        monkeypatch.setattr(runtime.installations, "get", unreachable)
        response = await _ask(send, _body(_checkout()))
        assert (response.status_code, response.json(), shipping.asked) == (200, [], [])

    async def test_quoting_that_hangs_is_cut_off_in_time(
        self, send: Send, shipping: FakeCheckoutShipping, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(route, "ANSWER_WITHIN_SECONDS", 0.05)
        shipping.delay_seconds = 5
        response = await _ask(send, _body(_checkout()))
        assert (response.status_code, response.json()) == (200, [])


@pytest.mark.usefixtures("installation")
class TestRefused:
    async def test_a_bad_signature_is_refused_before_the_body_is_read(
        self, send: Send, shipping: FakeCheckoutShipping
    ) -> None:
        response = await _ask(send, _body(_checkout()), signed_by=SaleorSigner(1))
        assert response.status_code == 401
        assert shipping.asked == []

    async def test_a_body_that_is_not_our_subscription_is_refused(
        self, send: Send, shipping: FakeCheckoutShipping
    ) -> None:
        response = await _ask(send, body_of({"__typename": "ShippingListMethodsForCheckout", "checkout": {"id": 1}}))
        assert response.status_code == 400
        assert shipping.asked == []

    async def test_the_body_must_be_this_event(self, send: Send, shipping: FakeCheckoutShipping) -> None:
        body = json.loads(_body(_checkout()))
        body["__typename"] = "OrderCreated"
        response = await _ask(send, body_of(body))
        assert (response.status_code, response.json()["error"]["type"]) == (400, "WRONG_EVENT")

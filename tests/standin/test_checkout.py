"""Checkout through the stand-in: delivery methods listed by calling the real app's sync webhook,
its answer read as Saleor reads it, the shopper's choice carried into the order the app then receives."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.saleor.jwks import parse_key_set
from app.saleor.signature import verify_webhook_signature
from app.services.shipping.model import CheckoutOption
from app.standin import checkout as checkouts
from app.standin.actions import ActionRefused
from app.standin.facade import StandIn
from app.standin.graphql_api import EventEnvelope
from app.standin.state import Address, App, AppWebhook, Checkout, to_global_id
from app.standin.webhooks import render
from app.webhooks.payloads import OrderEventPayload
from tests.conftest import FixedClock
from tests.fakes.checkout_shipping import FakeCheckoutShipping, answer_checkouts_with
from tests.standin.conftest import MANIFEST_URL, Catalogue, run

PORTLAND = Address(
    first_name="Grace",
    last_name="Hopper",
    street_address1="12 Elm St",
    city="PORTLAND",
    postal_code="97205",
    country="US",
    country_area="OR",
)


def _app_id(identifier: str, option: str) -> str:
    return base64.b64encode(f"app:{identifier}:{option}".encode()).decode()


def _option(level: str, amount: str, days: tuple[int, int], currency: str = "USD") -> CheckoutOption:
    return CheckoutOption(level, f"{level.capitalize()}, arrives Tue 1 Dec", Decimal(amount), currency, *days, "UPS")


@pytest.fixture
def quoting(monkeypatch: pytest.MonkeyPatch) -> FakeCheckoutShipping:
    fake = FakeCheckoutShipping([_option("standard", "5.90", (3, 5)), _option("expedited", "14.20", (1, 3))])
    answer_checkouts_with(monkeypatch, fake)
    return fake


@pytest.fixture
async def installed(ops: FastAPI, standin: StandIn) -> App:
    return await standin.install(MANIFEST_URL)


def _cart(standin: StandIn, catalogue: Catalogue, clock: FixedClock, address: Address | None = PORTLAND) -> Checkout:
    return checkouts.create_checkout(
        standin.store,
        catalogue.channel,
        [(catalogue.mug, 2), (catalogue.tee, 1)],
        at=clock.now(),
        customer=catalogue.customer,
        shipping_address=address,
    )


@pytest.fixture
def own_method(standin: StandIn, catalogue: Catalogue) -> Any:
    return standin.store.add_shipping_method(name="Flat rate", price=Decimal("7.00"), currency="USD")


@pytest.mark.usefixtures("installed")
class TestListingCallsTheApp:
    async def test_the_stores_methods_come_first_then_the_apps_options_under_saleors_ids(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, quoting: FakeCheckoutShipping, own_method: Any
    ) -> None:
        methods = await standin.list_delivery_methods(_cart(standin, catalogue, clock))
        assert [(m.global_id, m.name, m.price, m.minimum_delivery_days, m.maximum_delivery_days) for m in methods] == [
            (to_global_id("ShippingMethod", own_method.pk), "Flat rate", Decimal("7.00"), None, None),
            (_app_id("app.saleor-ops", "standard"), "Standard, arrives Tue 1 Dec", Decimal("5.90"), 3, 5),
            (_app_id("app.saleor-ops", "expedited"), "Expedited, arrives Tue 1 Dec", Decimal("14.20"), 1, 3),
        ]

    async def test_the_app_quotes_the_checkouts_cart(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, quoting: FakeCheckoutShipping
    ) -> None:
        await standin.list_delivery_methods(_cart(standin, catalogue, clock))
        ((api_url, cart, now),) = quoting.asked
        assert (api_url, now, cart.channel, cart.currency) == (standin.api_url, clock.now(), "default-channel", "USD")
        assert (cart.destination.country, cart.destination.postal_code, cart.destination.country_area) == (
            "US",
            "97205",
            "OR",
        )
        assert [
            (line.sku, line.quantity, line.weight_kg, line.line_total, line.product_type) for line in cart.lines
        ] == [
            ("MUG-BLUE", 2, Decimal("0.4"), Decimal("25.0"), "Drinkware"),
            ("TEE-M", 1, None, Decimal("20.0"), "Apparel"),
        ]

    async def test_without_an_address_the_app_is_asked_all_the_same_and_offers_nothing(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, quoting: FakeCheckoutShipping, own_method: Any
    ) -> None:
        asked: list[str] = []

        async def counting(request: Any) -> None:
            asked.append(request.headers["saleor-event"])

        assert standin.http is not None
        standin.http.event_hooks["request"].append(counting)
        assert await standin.list_delivery_methods(_cart(standin, catalogue, clock, address=None)) == []
        assert (asked, quoting.asked) == (["shipping_list_methods_for_checkout"], [])

    async def test_an_app_without_manage_shipping_is_not_asked(
        self, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock, quoting: FakeCheckoutShipping
    ) -> None:
        installed.permissions = ("MANAGE_ORDERS",)
        assert await standin.list_delivery_methods(_cart(standin, catalogue, clock)) == []
        assert quoting.asked == []

    async def test_an_app_answering_nothing_leaves_the_stores_own_methods(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, quoting: FakeCheckoutShipping, own_method: Any
    ) -> None:
        quoting.options = []
        assert await standin.list_delivery_methods(_cart(standin, catalogue, clock)) == [own_method]

    async def test_options_in_another_currency_are_dropped(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, quoting: FakeCheckoutShipping
    ) -> None:
        quoting.options = [_option("standard", "5.90", (3, 5), currency="EUR")]
        assert await standin.list_delivery_methods(_cart(standin, catalogue, clock)) == []


@pytest.mark.usefixtures("installed")
class TestTheChoiceReachesTheOrder:
    async def test_an_apps_option_becomes_the_orders_shipping_and_the_app_reads_which_it_was(
        self, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock, quoting: FakeCheckoutShipping
    ) -> None:
        cart = _cart(standin, catalogue, clock)
        await standin.list_delivery_methods(cart)
        checkouts.select_delivery_method(cart, _app_id("app.saleor-ops", "expedited"))
        order = checkouts.complete_checkout(standin.store, cart, at=clock.now())
        assert standin.store.checkouts == {}
        assert (order.shipping_price_gross, order.total_gross) == (Decimal("14.20"), Decimal("59.20"))
        assert order.private_metadata == {"external_app_shipping_id": _app_id("app.saleor-ops", "expedited")}

        body = standin.payload_for("ORDER_CREATED", order, installed)
        assert body is not None
        payload = OrderEventPayload.model_validate_json(body)
        assert payload.order.shipping_method_name == "Expedited, arrives Tue 1 Dec"
        assert payload.order.shipping_price is not None
        assert payload.order.shipping_price.gross.amount == Decimal("14.2")
        assert payload.order.delivery_method is not None
        assert payload.order.delivery_method.offered_by_app() == ("app.saleor-ops", "expedited")

        deliveries = await standin.deliver_pending()
        assert [d.response.status_code for d in deliveries if d.event == "ORDER_CREATED"] == [200]

    async def test_the_stores_own_method_reads_back_as_saleors_shipping_method(
        self,
        standin: StandIn,
        installed: App,
        catalogue: Catalogue,
        clock: FixedClock,
        quoting: FakeCheckoutShipping,
        own_method: Any,
    ) -> None:
        cart = _cart(standin, catalogue, clock)
        await standin.list_delivery_methods(cart)
        checkouts.select_delivery_method(cart, to_global_id("ShippingMethod", own_method.pk))
        order = checkouts.complete_checkout(standin.store, cart, at=clock.now())
        body = standin.payload_for("ORDER_CREATED", order, installed)
        assert body is not None
        delivery_method = OrderEventPayload.model_validate_json(body).order.delivery_method
        assert delivery_method is not None
        assert (delivery_method.id, delivery_method.offered_by_app()) == (
            to_global_id("ShippingMethod", own_method.pk),
            None,
        )

    async def test_a_method_not_listed_cannot_be_chosen_nor_completed_without_one(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, quoting: FakeCheckoutShipping
    ) -> None:
        cart = _cart(standin, catalogue, clock)
        with pytest.raises(ActionRefused, match="DELIVERY_METHOD_NOT_APPLICABLE"):
            checkouts.select_delivery_method(cart, _app_id("app.saleor-ops", "overnight"))
        with pytest.raises(ActionRefused, match="SHIPPING_METHOD_NOT_SET"):
            checkouts.complete_checkout(standin.store, cart, at=clock.now())
        assert standin.store.orders == {}


class TestSyncPayload:
    async def test_a_field_that_calls_a_sync_webhook_nulls_the_checkout(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        app = standin.store.add_app(
            App(
                pk=standin.store.next_pk("App"),
                identifier="x",
                name="x",
                token="t",
                permissions=("MANAGE_SHIPPING",),
                is_installed=True,
            )
        )
        query = """
            subscription { event { ... on ShippingListMethodsForCheckout { checkout { id shippingMethods { id } } } } }
        """
        webhook = AppWebhook("list", "https://x.test/", query, ("SHIPPING_LIST_METHODS_FOR_CHECKOUT",))
        app.webhooks.append(webhook)
        event = EventEnvelope(
            typename="ShippingListMethodsForCheckout",
            issued_at=clock.now(),
            version="3.20.119",
            recipient=app,
            checkout=_cart(standin, catalogue, clock),
        )
        body = render(standin.store, webhook, event)
        assert body is not None
        rendered = json.loads(body)
        assert rendered["checkout"] is None
        assert rendered["errors"][0]["message"] == "Resolving this field is not allowed in synchronous events."


APP = App(pk=7, identifier="", name="x", token="t")


class TestAnswersReadAsSaleorReadsThem:
    def test_invalid_items_are_skipped_one_by_one(self) -> None:
        good = {"id": 1, "name": "Standard", "amount": "5.90", "currency": "USD", "maximum_delivery_days": 5}
        answer = [
            good,
            {**good, "id": "long", "name": "N" * 101},
            {**good, "id": "negative", "amount": -1},
            {**good, "id": "usd", "currency": "usd"},
            {**good, "id": "desc", "description": "D" * 256},
            {**good, "id": "days", "minimum_delivery_days": -1},
            {"name": "no id", "amount": 1, "currency": "USD"},
            {**good, "id": "meta", "metadata": {"a": 1}, "private_metadata": None},
        ]
        methods = checkouts.parse_app_methods(answer, APP, "USD")
        assert [(m.external_id, m.price, m.maximum_delivery_days, m.metadata) for m in methods] == [
            (_app_id("7", "1"), Decimal("5.90"), 5, {}),
            (_app_id("7", "meta"), Decimal("5.90"), 5, {}),
        ]

    @pytest.mark.parametrize("answer", [None, {"id": "x"}, "[]", 3])
    def test_anything_but_an_array_gives_nothing(self, answer: Any) -> None:
        assert checkouts.parse_app_methods(answer, APP, "USD") == []


class TestAnAppThatFailsToAnswer:
    @pytest.mark.parametrize(
        "answer",
        [
            httpx.Response(500, json=[{"id": "a", "name": "A", "amount": 1, "currency": "USD"}]),
            httpx.Response(200, text="not json"),
            httpx.Response(302, headers={"location": "https://x.test/elsewhere"}),
        ],
        ids=["error", "not-json", "redirect"],
    )
    async def test_contributes_nothing_and_the_stores_methods_remain(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock, own_method: Any, answer: httpx.Response
    ) -> None:
        app = standin.store.add_app(
            App(pk=standin.store.next_pk("App"), identifier="x", name="x", token="t", permissions=("MANAGE_SHIPPING",))
        )
        app.is_installed = True
        query = "subscription { event { ... on ShippingListMethodsForCheckout { checkout { id } } } }"
        app.webhooks.append(
            AppWebhook(
                "list",
                "https://x.test/list",
                query,
                ("SHIPPING_LIST_METHODS_FOR_CHECKOUT",),
                custom_headers={"x-shop": "1"},
            )
        )
        seen: list[httpx.Request] = []

        def respond(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return answer

        standin.http = httpx.AsyncClient(transport=httpx.MockTransport(respond))
        assert await standin.list_delivery_methods(_cart(standin, catalogue, clock)) == [own_method]
        (request,) = seen
        verify_webhook_signature(
            request.headers["saleor-signature"], request.content, parse_key_set(standin.key.jwks_text())
        )
        assert (request.headers["saleor-event"], request.headers["x-shop"]) == (
            "shipping_list_methods_for_checkout",
            "1",
        )


CREATE = """
mutation Create($input: CheckoutCreateInput!) {
  checkoutCreate(input: $input) {
    checkout { id email lines { quantity undiscountedTotalPrice { amount currency } } shippingAddress { city } }
    errors { field code message }
  }
}
"""
METHODS = """
query Methods($id: ID) {
  checkout(id: $id) { shippingMethods { id name price { amount currency } minimumDeliveryDays maximumDeliveryDays } }
}
"""
CHOOSE = """
mutation Choose($id: ID, $method: ID) {
  checkoutDeliveryMethodUpdate(id: $id, deliveryMethodId: $method) {
    checkout { deliveryMethod { ... on ShippingMethod { id name } } }
    errors { field code }
  }
}
"""
COMPLETE = """
mutation Complete($id: ID) {
  checkoutComplete(id: $id) {
    order {
      number shippingMethodName shippingPrice { gross { amount } } deliveryMethod { ... on ShippingMethod { id } }
    }
    confirmationNeeded
    errors { field code message }
  }
}
"""


def _create_input(catalogue: Catalogue, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "channel": "default-channel",
        "email": "grace@example.com",
        "lines": [{"variantId": to_global_id("ProductVariant", catalogue.mug.pk), "quantity": 2}],
        "shippingAddress": {"streetAddress1": "12 Elm St", "city": "PORTLAND", "postalCode": "97205", "country": "US"},
    }
    values.update(overrides)
    return values


@pytest.mark.usefixtures("installed")
class TestThroughTheGraphqlApi:
    async def test_create_list_choose_complete(
        self, standin: StandIn, caller: App, catalogue: Catalogue, quoting: FakeCheckoutShipping
    ) -> None:
        created = (await run(standin, caller, CREATE, input=_create_input(catalogue)))["checkoutCreate"]
        assert created["errors"] == []
        assert created["checkout"]["lines"] == [
            {"quantity": 2, "undiscountedTotalPrice": {"amount": 25.0, "currency": "USD"}}
        ]
        checkout_id = created["checkout"]["id"]

        listed = (await run(standin, caller, METHODS, id=checkout_id))["checkout"]["shippingMethods"]
        expedited = _app_id("app.saleor-ops", "expedited")
        assert [(m["id"], m["price"]["amount"], m["maximumDeliveryDays"]) for m in listed] == [
            (_app_id("app.saleor-ops", "standard"), 5.9, 5),
            (expedited, 14.2, 3),
        ]
        assert len(quoting.asked) == 1

        chosen = (await run(standin, caller, CHOOSE, id=checkout_id, method=expedited))["checkoutDeliveryMethodUpdate"]
        assert chosen == {
            "checkout": {"deliveryMethod": {"id": expedited, "name": "Expedited, arrives Tue 1 Dec"}},
            "errors": [],
        }
        completed = (await run(standin, caller, COMPLETE, id=checkout_id))["checkoutComplete"]
        assert completed == {
            "order": {
                "number": "1",
                "shippingMethodName": "Expedited, arrives Tue 1 Dec",
                "shippingPrice": {"gross": {"amount": 14.2}},
                "deliveryMethod": {"id": expedited},
            },
            "confirmationNeeded": False,
            "errors": [],
        }
        assert (await run(standin, caller, METHODS, id=checkout_id))["checkout"] is None

    async def test_choosing_a_method_of_a_checkout_never_listed_lists_it_first(
        self, standin: StandIn, caller: App, catalogue: Catalogue, quoting: FakeCheckoutShipping
    ) -> None:
        checkout_id = (await run(standin, caller, CREATE, input=_create_input(catalogue)))["checkoutCreate"][
            "checkout"
        ]["id"]
        standard = _app_id("app.saleor-ops", "standard")
        chosen = (await run(standin, caller, CHOOSE, id=checkout_id, method=standard))["checkoutDeliveryMethodUpdate"]
        assert (chosen["checkout"]["deliveryMethod"]["id"], len(quoting.asked)) == (standard, 1)

    async def test_refusals_carry_saleors_codes(
        self, standin: StandIn, caller: App, catalogue: Catalogue, quoting: FakeCheckoutShipping
    ) -> None:
        unknown = (await run(standin, caller, CREATE, input=_create_input(catalogue, channel="nope")))["checkoutCreate"]
        assert (unknown["checkout"], [(e["field"], e["code"]) for e in unknown["errors"]]) == (
            None,
            [("channel", "NOT_FOUND")],
        )
        checkout_id = (await run(standin, caller, CREATE, input=_create_input(catalogue)))["checkoutCreate"][
            "checkout"
        ]["id"]
        not_listed = await run(standin, caller, CHOOSE, id=checkout_id, method=_app_id("app.saleor-ops", "overnight"))
        assert [(e["field"], e["code"]) for e in not_listed["checkoutDeliveryMethodUpdate"]["errors"]] == [
            ("deliveryMethodId", "DELIVERY_METHOD_NOT_APPLICABLE")
        ]
        incomplete = (await run(standin, caller, COMPLETE, id=checkout_id))["checkoutComplete"]
        assert (incomplete["order"], [e["code"] for e in incomplete["errors"]]) == (None, ["SHIPPING_METHOD_NOT_SET"])
        assert standin.store.orders == {}

"""The checkout webhook answered by the shipping quoter itself: settings and rate tables saved in the
dashboard, a signed checkout in, the options Saleor shows out."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app import dependencies
from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import ChargeKind, Quote
from app.runtime import Runtime
from app.services.shipping.quoting import QuotingCache
from tests.api.conftest import Send
from tests.api.dashboard.test_shipping_rate_tables import FILE, _upload
from tests.api.dashboard.test_shipping_rate_tester import MANAGER, SETTINGS
from tests.api.receipt_answers import EAST_ID, WAREHOUSES
from tests.api.webhooks.test_shipping_list_methods_for_checkout import EVENT, _body, _checkout, _line
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.shipping import FakeCarrierQuotes

SHOES = {
    "id": "UHJvZHVjdFZhcmlhbnQ6Mg==",
    "sku": "SHOE-42",
    "weight": {"unit": "KG", "value": 1.0},
    "product": {"productType": {"name": "Shoes"}},
}
TEXAS = {
    "streetAddress1": "1 Main St",
    "city": "DALLAS",
    "postalCode": "75001",
    "country": {"code": "US"},
    "countryArea": "TX",
}


@pytest.fixture(autouse=True)
async def shop(installation: Any, client: httpx.AsyncClient, fake_saleor: FakeSaleor, staff_headers: Any) -> None:
    fake_saleor.on("Warehouses", WAREHOUSES)
    assert (await _upload(client, staff_headers(*MANAGER), FILE)).status_code == 200
    saved = await client.post("/api/dashboard/settings/shipping", data=SETTINGS, headers=staff_headers(*MANAGER))
    assert saved.status_code == 200, saved.text


async def test_the_quoter_answers_the_checkout_from_the_rate_tables(send: Send) -> None:
    checkout = _checkout(shippingAddress=TEXAS, lines=[_line(quantity=1, variant=SHOES)])
    response = await send(EVENT, _body(checkout), process=False)
    assert response.status_code == 200
    (option,) = response.json()
    # Thursday 26 November 2026, 06:00 in Chicago, is Thanksgiving: handling starts on Friday and takes
    # up to a business day; UPS Ground's zone takes 1–2 more.
    assert option == {
        "id": "standard",
        "name": "Standard, arrives 30 Nov\u2009–\u20092 Dec",
        "amount": "23.71",
        "currency": "USD",
        "minimum_delivery_days": 4,
        "maximum_delivery_days": 6,
        "description": None,
    }


async def test_an_address_no_table_covers_gets_no_option(send: Send) -> None:
    paris = {**TEXAS, "city": "PARIS", "postalCode": "75001", "country": {"code": "FR"}, "countryArea": ""}
    checkout = _checkout(shippingAddress=paris, lines=[_line(quantity=1, variant=SHOES)])
    response = await send(EVENT, _body(checkout), process=False)
    assert response.status_code == 200
    assert response.json() == []


async def test_a_store_without_carrier_accounts_has_them_read_once_not_at_every_checkout(
    send: Send, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime.stores_without_carrier_accounts, "ttl_seconds", 60.0)  # however slow the machine
    statements: list[str] = []

    def heard(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", heard)
    try:
        for postal_code in ("75001", "75201", "75401"):  # each its own question to the carriers
            address = {**TEXAS, "postalCode": postal_code}
            checkout = _checkout(shippingAddress=address, lines=[_line(quantity=1, variant=SHOES)])
            response = await send(EVENT, _body(checkout), process=False)
            assert [option["id"] for option in response.json()] == ["standard"]
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", heard)
    assert len([statement for statement in statements if "carrier_accounts" in statement]) == 1


async def test_a_due_shipping_revision_is_confirmed_on_a_session_of_its_own_while_checkouts_answer(
    send: Send,
    runtime: Runtime,
    client: httpx.AsyncClient,
    staff_headers: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seconds = [0.0]
    monkeypatch.setattr(runtime, "quoting", QuotingCache(monotonic=lambda: seconds[0]))
    checkout = _body(_checkout(shippingAddress=TEXAS, lines=[_line(quantity=1, variant=SHOES)]))

    async def standard_price() -> str:
        response = await send(EVENT, checkout, process=False)
        (option,) = response.json()
        return str(option["amount"])

    assert await standard_price() == "23.71"
    (channel,) = json.loads(SETTINGS["channels"])
    flat = {**channel, "levels": {"standard": {"promise_days": 5, "flat_price": "4.44"}}}
    changed = {**SETTINGS, "channels": json.dumps([flat])}
    saved = await client.post("/api/dashboard/settings/shipping", data=changed, headers=staff_headers(*MANAGER))
    assert saved.status_code == 200, saved.text
    seconds[0] += 1.0
    assert await standard_price() == "23.71"  # due: the kept values answer while the revision is confirmed
    for _ in range(100):  # the confirmation reads the new settings on its own session
        await asyncio.sleep(0.01)
        if await standard_price() == "4.44":
            break
    assert await standard_price() == "4.44"


async def test_a_checkout_asked_again_is_answered_from_what_was_kept_without_a_database_session(
    send: Send, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    price = Money(Decimal("6.20"), "USD")
    ground = Quote(
        EAST_ID, "UPS", "Ground", Level.STANDARD, "live", price, ((ChargeKind.BASE, price),), Decimal("1.5"),
        Transit(1, 2), frozenset(range(5)),
    )  # fmt: skip
    carrier = FakeCarrierQuotes(ground)
    # Live quotes, as an account's (only answers derived from them are kept): in place of Karrio's adapter.
    monkeypatch.setattr(dependencies, "KarrioCarrierQuotes", lambda *_: carrier)
    sessions = runtime.sessions
    opened: list[None] = []  # a None for each session opened

    def counted() -> object:
        opened.append(None)
        return sessions()

    checkout = _body(_checkout(shippingAddress=TEXAS, lines=[_line(quantity=1, variant=SHOES)]))
    answers = [(await send(EVENT, checkout, process=False)).json() for _ in range(2)]  # quoted, then kept
    monkeypatch.setattr(runtime, "sessions", counted)
    answers.append((await send(EVENT, checkout, process=False)).json())

    assert opened == []
    assert answers[0] == answers[1] == answers[2]
    assert [option["amount"] for option in answers[2]] == ["6.20"]
    assert len(carrier.requests) == 1

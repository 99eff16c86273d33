"""Shipping on the order through the stand-in: a shopper checks out with the app's option, fraud clears
(or holds) the order, and the service chosen reaches the order's metadata and notes once; fulfilments
are checked against the promise when they are created."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI

from app.db.repositories.fraud import SqlFraudRepository
from app.db.repositories.pipeline import SqlEffectOutbox
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping import SqlRateTableStore
from app.db.repositories.support import SqlTicketStore
from app.domain.fraud.lists import parse_list_entry
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.shipping.model import Level
from app.domain.shipping.rates import RateTable
from app.domain.support.model import Priority, StoreReason
from app.domain.support.ticket import Status
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.fraud import ReviewClosed, ReviewOutcome, decide_review
from app.services.settings import SECTIONS, change_settings
from app.standin import actions
from app.standin import checkout as checkouts
from app.standin.facade import StandIn
from app.standin.state import Address, App, Order, to_global_id
from tests.conftest import FixedClock
from tests.standin.conftest import MANIFEST_URL, Catalogue
from tests.unit.domain.shipping.builders import make_service, make_zone

API_URL = SaleorApiUrl("http://shop.standin/graphql/")
PORTLAND = Address(
    first_name="Ada",
    last_name="Lovelace",
    street_address1="12 Elm St",
    city="PORTLAND",
    postal_code="97205",
    country="US",
    country_area="OR",
)
NOTE_PREFIX = "Saleor Ops shipping"
APP_EXPEDITED = base64.b64encode(b"app:app.saleor-ops:expedited").decode()


def _service(name: str, level: Level, price: str, transit: tuple[int, int]) -> Any:
    return make_service("UPS", name, level=level, zones=[make_zone(bracket_prices=[("10", price)], transit=transit)])


@pytest.fixture
async def installed(ops: FastAPI, standin: StandIn, catalogue: Catalogue, clock: FixedClock) -> App:
    app = await standin.install(MANIFEST_URL)
    main = to_global_id("Warehouse", catalogue.main.pk)
    runtime: Runtime = ops.state.runtime
    settings = {
        "locale": "en_US",
        "warehouses": [
            {
                "id": main,
                "name": "Main",
                "origin": {"country": "US", "postal_code": "78702", "city": "Austin", "country_area": "TX"},
                "time_zone": "America/Chicago",
                "cutoffs": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "14:00"),
            }
        ],
        "channels": [
            {
                "channel": "default-channel",
                "warehouse": main,
                "levels": {"standard": {"promise_days": 5}, "expedited": {"promise_days": 3}},
            }
        ],
        "boxes": [{"name": "M", "length_cm": 40, "width_cm": 30, "height_cm": 20, "max_weight_kg": 20}],
        "product_types": [{"product_type": "Drinkware", "length_cm": 12, "width_cm": 10, "height_cm": 10}],
    }
    services = (
        _service("Ground", Level.STANDARD, "8.00", (3, 5)),
        _service("2nd Day Air", Level.EXPEDITED, "15.00", (2, 2)),
        _service("Next Day Air", Level.OVERNIGHT, "30.00", (1, 1)),
    )
    async with runtime.sessions.begin() as session:
        saved = await change_settings(
            SqlSettingsStore(session), API_URL, SECTIONS["shipping"], settings, changed_by="test", now=clock.now()
        )
        assert not hasattr(saved, "errors"), saved
        await SqlRateTableStore(session).replace_rate_tables(API_URL, [RateTable(main, "USD", services, {})])
    return app


async def _place(standin: StandIn, catalogue: Catalogue, clock: FixedClock, method: str = APP_EXPEDITED) -> Order:
    """A shopper's checkout of two mugs, shipped with ``method`` (the app's expedited option); the app told of it."""
    cart = checkouts.create_checkout(
        standin.store,
        catalogue.channel,
        [(catalogue.mug, 2)],
        at=clock.now(),
        customer=catalogue.customer,
        shipping_address=PORTLAND,
    )
    methods = await standin.list_delivery_methods(cart)
    assert method in [m.global_id for m in methods], [m.name for m in methods]
    checkouts.select_delivery_method(cart, method)
    order = checkouts.complete_checkout(standin.store, cart, at=clock.now())
    await standin.deliver_pending()
    return order


def _shipping(order: Order) -> dict[str, Any] | None:
    value = order.private_metadata.get("ops.shipping")
    return None if value is None else dict(json.loads(value))


def _notes(order: Order) -> list[str]:
    messages = [e.message or "" for e in order.events if e.type == "NOTE_ADDED"]
    return [message for message in messages if message.startswith(NOTE_PREFIX)]


async def _block_customer(ops: FastAPI, clock: FixedClock) -> None:
    runtime: Runtime = ops.state.runtime
    async with runtime.sessions.begin() as session:
        entry = parse_list_entry("email", "ada@example.com", allow=False)
        await SqlFraudRepository(session).add_list_entry(API_URL, entry, by="test", at=clock.now())


async def _decide(ops: FastAPI, standin: StandIn, order: Order, *, approve: bool) -> None:
    """A person closes the order's review in the dashboard; Saleor then reports what that wrote."""
    runtime: Runtime = ops.state.runtime
    installation = await runtime.installations.get(API_URL)
    assert installation is not None
    order_id = to_global_id("Order", order.pk)
    async with runtime.sessions.begin() as session:
        closed = await decide_review(
            API_URL,
            order_id,
            approve=approve,
            reason=ReviewOutcome.APPROVED if approve else ReviewOutcome.REFUNDED_AS_FRAUD,
            cancel=False,
            note="",
            by="staff@example.com",
            fraud=SqlFraudRepository(session),
            saleor=runtime.deciding(installation, SqlEffectOutbox(session), f"review:{order_id}"),
            now=runtime.clock.now(),
        )
    assert isinstance(closed, ReviewClosed)
    worker: Worker = ops.state.worker
    await worker.drain()
    await standin.deliver_pending()


@pytest.mark.usefixtures("installed")
class TestChosenOnceCleared:
    async def test_an_approved_order_gets_its_service_and_one_note(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = await _place(standin, catalogue, clock)
        shipping = _shipping(order)
        assert shipping is not None
        (shipment,) = shipping["shipments"]
        assert shipment["source"] == to_global_id("Warehouse", catalogue.main.pk)
        assert (shipment["carrier"], shipment["service"], shipment["level"]) == ("UPS", "2nd Day Air", "expedited")
        assert shipment["meetsPromise"] is True
        (note,) = _notes(order)
        assert note.startswith("Saleor Ops shipping (expedited): ")
        assert "UPS 2nd Day Air, 15.00 USD" in note

    async def test_an_order_shipped_with_the_stores_own_method_is_left_alone(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        own = standin.store.add_shipping_method(name="Flat rate", price=Decimal("7.00"), currency="USD")
        order = await _place(standin, catalogue, clock, to_global_id("ShippingMethod", own.pk))
        assert json.loads(order.private_metadata["ops.fraud"])["decision"] == "approve"
        assert _shipping(order) is None
        assert _notes(order) == []

    async def test_a_redelivery_and_later_events_write_nothing_again(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = await _place(standin, catalogue, clock)
        written = order.private_metadata["ops.shipping"]
        await standin.deliver("ORDER_CREATED", order)  # the same delivery again
        clock.advance(minutes=5)
        await standin.deliver("ORDER_CREATED", order)  # Saleor's retry, issued later
        await standin.deliver("ORDER_UPDATED", order)
        await standin.deliver_pending()
        assert order.private_metadata["ops.shipping"] == written
        assert len(_notes(order)) == 1

    async def test_an_order_held_for_review_gets_nothing_until_approved(
        self, ops: FastAPI, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        await _block_customer(ops, clock)
        order = await _place(standin, catalogue, clock)
        assert json.loads(order.private_metadata["ops.fraud"])["decision"] == "reject"
        assert _shipping(order) is None
        assert _notes(order) == []

        clock.advance(minutes=10)
        await _decide(ops, standin, order, approve=True)
        shipping = _shipping(order)
        assert shipping is not None
        assert [s["service"] for s in shipping["shipments"]] == ["2nd Day Air"]
        assert len(_notes(order)) == 1

    async def test_an_order_held_for_review_has_a_support_ticket_until_the_review_is_closed(
        self, ops: FastAPI, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        await _block_customer(ops, clock)
        order = await _place(standin, catalogue, clock)
        runtime: Runtime = ops.state.runtime
        order_id = SaleorId(to_global_id("Order", order.pk))
        async with runtime.sessions() as session:
            (held,) = await SqlTicketStore(session).for_order(API_URL, order_id)
        assert (held.store_reason, held.status) == (StoreReason.HELD_FOR_REVIEW, Status.NEW)
        clock.advance(minutes=10)
        await _decide(ops, standin, order, approve=True)  # Saleor reports the note the review wrote
        async with runtime.sessions() as session:
            (cleared,) = await SqlTicketStore(session).for_order(API_URL, order_id)
        assert cleared.status is Status.CLOSED

    async def test_a_rejected_order_gets_nothing(
        self, ops: FastAPI, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        await _block_customer(ops, clock)
        order = await _place(standin, catalogue, clock)
        clock.advance(minutes=10)
        await _decide(ops, standin, order, approve=False)
        assert _shipping(order) is None
        assert _notes(order) == []


async def _fulfil(standin: StandIn, order: Order, catalogue: Catalogue, at: datetime) -> None:
    (line,) = order.lines
    main = to_global_id("Warehouse", catalogue.main.pk)
    actions.fulfill_order(
        standin.store, order, [(to_global_id("OrderLine", line.pk), [(main, 2)])], at=at, principal=None
    )
    await standin.deliver_pending()


@pytest.mark.usefixtures("installed")
class TestFulfilmentRecheck:
    async def test_goods_leaving_in_time_keep_the_service(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = await _place(standin, catalogue, clock)
        before = order.private_metadata["ops.shipping"]
        clock.advance(hours=1)
        await _fulfil(standin, order, catalogue, clock.now())
        assert order.private_metadata["ops.shipping"] == before
        assert len(_notes(order)) == 1

    async def test_goods_leaving_late_are_reshopped(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = await _place(standin, catalogue, clock)
        clock.current = RESHOP_AT
        await _fulfil(standin, order, catalogue, clock.now())
        shipping = _shipping(order)
        assert shipping is not None
        (shipment,) = shipping["shipments"]
        assert (shipment["service"], shipment["meetsPromise"]) == ("Next Day Air", True)
        notes = _notes(order)
        assert len(notes) == 2
        assert "re-shopped" in notes[1]
        assert "UPS 2nd Day Air would arrive by" in notes[1]

    async def test_goods_nothing_brings_in_time_flag_the_order_once(
        self, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = await _place(standin, catalogue, clock)
        clock.current = FLAG_AT
        await _fulfil(standin, order, catalogue, clock.now())
        shipping = _shipping(order)
        assert shipping is not None
        (shipment,) = shipping["shipments"]
        assert shipment["meetsPromise"] is False
        (fulfillment,) = order.fulfillments
        clock.advance(minutes=5)
        await standin.deliver("FULFILLMENT_CREATED", fulfillment)  # Saleor's retry
        notes = _notes(order)
        assert len(notes) == 2
        assert "nothing arrives by the promised" in notes[1]

    async def test_goods_nothing_brings_in_time_open_one_support_ticket_for_the_customer(
        self, ops: FastAPI, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = await _place(standin, catalogue, clock)
        clock.current = FLAG_AT
        await _fulfil(standin, order, catalogue, clock.now())
        (fulfillment,) = order.fulfillments
        clock.advance(minutes=5)
        await standin.deliver("FULFILLMENT_CREATED", fulfillment)  # Saleor's retry
        runtime: Runtime = ops.state.runtime
        order_id = SaleorId(to_global_id("Order", order.pk))
        async with runtime.sessions() as session:
            (ticket,) = await SqlTicketStore(session).for_order(API_URL, order_id)
        assert (ticket.store_reason, ticket.priority) == (StoreReason.PROMISE_AT_RISK, Priority.HIGH)
        assert ticket.subject == f"Order {order.number} may miss its promised delivery date"
        assert ticket.requester.email == "ada@example.com"
        assert ticket.description.startswith("No service brings the goods by the promised date.\nFulfilment ")
        assert "after the promised 2026-12-02" in ticket.description

    async def test_goods_leaving_in_time_open_no_support_ticket(
        self, ops: FastAPI, standin: StandIn, catalogue: Catalogue, clock: FixedClock
    ) -> None:
        order = await _place(standin, catalogue, clock)
        clock.current = RESHOP_AT  # too late for the service chosen, not for another one
        await _fulfil(standin, order, catalogue, clock.now())
        runtime: Runtime = ops.state.runtime
        async with runtime.sessions() as session:
            assert await SqlTicketStore(session).for_order(API_URL, SaleorId(to_global_id("Order", order.pk))) == []


# The order is placed on Thursday 26 November 2026 (Thanksgiving) and promised for Wednesday 2 December.
# Goods leaving Monday morning are too late for the two-day service, not for the next-day one; leaving
# Monday after the 14:00 cut-off, they go Tuesday, and nothing arrives by Wednesday.
RESHOP_AT = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
FLAG_AT = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)

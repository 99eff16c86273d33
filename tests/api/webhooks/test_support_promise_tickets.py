"""A shipment that can no longer keep its promise opens one ticket; it closes once a later fulfilment's re-check
finds every shipment of the order in time again."""

from typing import Any

import pytest

from app.db.repositories.shipping_decisions import SqlShippingDecisions
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorId
from app.domain.shipping.model import Level
from app.domain.support.model import StoreReason
from app.domain.support.store import store_ticket_key
from app.domain.support.ticket import Author, Status, Ticket
from app.runtime import Runtime
from app.services.shipping.model import OrderShipping, ShipmentShipping
from tests.api.conftest import Send
from tests.builders import NOW, SHOP_API_URL, body_of, fulfillment_payload, order_payload

pytestmark = pytest.mark.usefixtures("installation")
ORDER = SaleorId("T3JkZXI6MQ==")
WAREHOUSE = "V2FyZWhvdXNlOjE="
FIRST, SECOND = "RnVsZmlsbG1lbnQ6MQ==", "RnVsZmlsbG1lbnQ6Mg=="


def _entry(meets: bool) -> dict[str, Any]:
    return {"carrier": "UPS", "service": "Ground", "promisedBy": "2026-12-02", "meetsPromise": meets}


async def _decided(runtime: Runtime, meets: bool, *checked: str) -> None:
    """The order's shipping as shipping's re-check of ``checked`` left it."""
    decision = OrderShipping(
        ORDER,
        Level.STANDARD,
        (ShipmentShipping(WAREHOUSE, _entry(meets), ("Fulfilment checked.",)),),
        checked,
        NOW,
        NOW,
    )
    async with runtime.sessions.begin() as session:
        decisions = SqlShippingDecisions(session)
        if await decisions.get(SHOP_API_URL, ORDER) is None:
            await decisions.add(SHOP_API_URL, decision)
        else:
            await decisions.replace(SHOP_API_URL, decision)


def _fulfilment(fulfillment_id: str, issued_at: str) -> bytes:
    shipped = fulfillment_payload(fulfillment_id=fulfillment_id, warehouse_id=WAREHOUSE, lines=[])
    event = order_payload(typename="FulfillmentCreated", issued_at=issued_at, fulfillments=[shipped])
    event["fulfillment"] = shipped
    return body_of(event)


async def _ticket(runtime: Runtime) -> Ticket | None:
    async with runtime.sessions() as session:
        key = store_ticket_key(ORDER, StoreReason.PROMISE_AT_RISK)
        return await SqlTicketStore(session).opened_by_store(SHOP_API_URL, key)


async def test_a_promise_kept_again_on_a_later_re_check_closes_the_ticket(send: Send, runtime: Runtime) -> None:
    await _decided(runtime, False, FIRST)
    await send("FULFILLMENT_CREATED", _fulfilment(FIRST, "2026-11-26T15:00:00+00:00"))
    opened = await _ticket(runtime)
    assert opened is not None
    assert opened.status is Status.NEW

    await _decided(runtime, True, FIRST, SECOND)
    await send("FULFILLMENT_CREATED", _fulfilment(SECOND, "2026-11-26T16:00:00+00:00"))
    closed = await _ticket(runtime)
    assert closed is not None
    assert closed.status is Status.CLOSED
    (note,) = closed.thread
    assert note.author is Author.STORE
    assert note.body == f"Fulfilment {SECOND} was re-checked: every shipment now keeps its promised date."


async def test_a_later_re_check_still_late_keeps_the_ticket_open(send: Send, runtime: Runtime) -> None:
    await _decided(runtime, False, FIRST)
    await send("FULFILLMENT_CREATED", _fulfilment(FIRST, "2026-11-26T15:00:00+00:00"))
    await _decided(runtime, False, FIRST, SECOND)
    await send("FULFILLMENT_CREATED", _fulfilment(SECOND, "2026-11-26T16:00:00+00:00"))
    ticket = await _ticket(runtime)
    assert ticket is not None
    assert (ticket.status, ticket.thread) == (Status.NEW, ())

"""The store opens one support ticket for an order fulfilled with more units than the inventory ledger held,
naming the SKUs and units short, and closes it once receipts cover them."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorId
from app.domain.inventory import CostingPolicy, Move, MoveKind
from app.domain.support.model import Priority, StoreReason
from app.domain.support.store import store_ticket_key
from app.domain.support.ticket import Author, Status, Ticket
from app.pipeline.housekeeping import clear_covered_stock_tickets
from app.runtime import Runtime
from app.services.inventory import book
from app.services.ports import LedgerEntry
from tests.api.conftest import Send
from tests.builders import NOW, SHOP_API_URL, body_of, fulfillment_payload, order_line_payload, order_payload

pytestmark = pytest.mark.usefixtures("installation")
WAREHOUSE = "V2FyZWhvdXNlOjE="
LINE = "T3JkZXJMaW5lOjE="
ORDER = SaleorId("T3JkZXI6MQ==")
SHORT_KEY = store_ticket_key(ORDER, StoreReason.SOLD_BEYOND_STOCK)
SHIPPED = [("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 5)]


def _order(typename: str, *fulfillments: dict[str, Any], issued_at: str = "2026-11-26T15:00:01+00:00") -> bytes:
    line = order_line_payload(line_id=LINE, quantity=5, unit_price="24.60", unit_price_net="20.00")
    return body_of(order_payload(typename=typename, issued_at=issued_at, lines=[line], fulfillments=list(fulfillments)))


async def _receive(runtime: Runtime, receipt_id: str, units: int, *, after: timedelta = timedelta(0)) -> None:
    move = Move(receipt_id, MoveKind.RECEIPT, "SKU-1", WAREHOUSE, NOW + after, units, "USD", unit_cost=Decimal(10))
    async with runtime.sessions.begin() as session:
        await book(
            SHOP_API_URL,
            [LedgerEntry(move, "csv", "test")],
            ledger=SqlInventoryLedger(session),
            policy=CostingPolicy(),
            now=NOW + after,
        )


async def _ticket(runtime: Runtime) -> Ticket | None:
    async with runtime.sessions() as session:
        return await SqlTicketStore(session).opened_by_store(SHOP_API_URL, SHORT_KEY)


async def test_a_fulfilment_beyond_stock_opens_one_ticket_closed_once_a_receipt_covers_it(
    send: Send, runtime: Runtime
) -> None:
    await _receive(runtime, "R1", 2)
    shipped = fulfillment_payload(warehouse_id=WAREHOUSE, lines=SHIPPED)
    assert (await send("FULFILLMENT_CREATED", _order("FulfillmentCreated", shipped))).status_code == 200
    ticket = await _ticket(runtime)
    assert ticket is not None
    assert (ticket.subject, ticket.priority, ticket.tags, ticket.order_ids) == (
        "Order 1001 was sold beyond stock",
        Priority.HIGH,
        frozenset({"store-sold-beyond-stock"}),
        (ORDER,),
    )
    assert ticket.requester.email == "buyer@example.com"
    assert f"- SKU-1 from warehouse {WAREHOUSE}: 3 unit(s) short" in ticket.description
    assert ticket.description.startswith("The order was fulfilled with 3 unit(s) the inventory ledger did not hold")

    # ORDER_FULFILLED repeats the fulfilment: still one ticket, and nothing covered yet.
    await send("ORDER_FULFILLED", _order("OrderFulfilled", shipped, issued_at="2026-11-26T15:00:02+00:00"))
    assert await _ticket(runtime) == ticket
    assert await clear_covered_stock_tickets(runtime, NOW + timedelta(hours=1)) == 0

    await _receive(runtime, "R2", 2, after=timedelta(hours=1))  # one unit still short
    assert await clear_covered_stock_tickets(runtime, NOW + timedelta(hours=2)) == 0
    await _receive(runtime, "R3", 4, after=timedelta(hours=2))
    assert await clear_covered_stock_tickets(runtime, NOW + timedelta(hours=3)) == 1
    closed = await _ticket(runtime)
    assert closed is not None
    assert closed.status is Status.CLOSED
    (note,) = closed.thread
    assert (note.author, note.public) == (Author.STORE, False)
    assert "a receipt or return arrived" in note.body
    assert await clear_covered_stock_tickets(runtime, NOW + timedelta(hours=4)) == 0, "cleared once"


async def test_a_fulfilment_the_stock_holds_opens_no_ticket(send: Send, runtime: Runtime) -> None:
    await _receive(runtime, "R1", 5)
    await send(
        "FULFILLMENT_CREATED", _order("FulfillmentCreated", fulfillment_payload(warehouse_id=WAREHOUSE, lines=SHIPPED))
    )
    assert await _ticket(runtime) is None


async def test_a_sku_the_store_never_stocked_in_the_ledger_opens_no_ticket(send: Send, runtime: Runtime) -> None:
    # Valued from Saleor's cost price: the store keeps no stock of it here, so no sale is beyond it.
    await send(
        "FULFILLMENT_CREATED", _order("FulfillmentCreated", fulfillment_payload(warehouse_id=WAREHOUSE, lines=SHIPPED))
    )
    assert await _ticket(runtime) is None


async def test_a_cancelled_fulfilment_clears_the_shortfall_on_its_own_event(send: Send, runtime: Runtime) -> None:
    await _receive(runtime, "R1", 1)
    await send(
        "FULFILLMENT_CREATED", _order("FulfillmentCreated", fulfillment_payload(warehouse_id=WAREHOUSE, lines=SHIPPED))
    )
    opened = await _ticket(runtime)
    assert opened is not None
    assert "4 unit(s) short" in opened.description
    cancelled = fulfillment_payload(status="CANCELED", warehouse_id=WAREHOUSE, lines=SHIPPED)
    await send("FULFILLMENT_CANCELED", _order("FulfillmentCanceled", cancelled, issued_at="2026-11-26T16:00:00+00:00"))
    closed = await _ticket(runtime)
    assert closed is not None
    assert closed.status is Status.CLOSED

"""Fulfilment webhooks book the goods that left or came back and write COGS into Saleor."""

import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.models import InventoryMoveRow
from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.saleor_names import SqlSaleorNames
from app.domain.inventory import CostingPolicy, Move, MoveKind
from app.runtime import Runtime
from app.services.inventory import book
from app.services.ports import LedgerEntry, SaleorName
from tests.api.conftest import Send
from tests.builders import (
    NOW,
    SHOP_API_URL,
    body_of,
    fulfillment_payload,
    order_line_payload,
    order_payload,
    variant_payload,
)
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
WAREHOUSE = "V2FyZWhvdXNlOjE="
LINE = "T3JkZXJMaW5lOjE="
ORDER = "T3JkZXI6MQ=="
StaffHeaders = Callable[..., dict[str, str]]


def _order(
    typename: str, *fulfillments: dict[str, Any], issued_at: str = "2026-11-26T15:00:01+00:00", **fields: Any
) -> bytes:
    line = order_line_payload(
        line_id=LINE,
        quantity=10,
        unit_price="24.60",
        unit_price_net="20.00",
        variant=variant_payload(cost_prices={"default-channel": "9"}),
    )
    return body_of(
        order_payload(typename=typename, issued_at=issued_at, lines=[line], fulfillments=list(fulfillments), **fields)
    )


async def _receive(runtime: Runtime) -> None:
    receipts = [
        Move(
            id=rid,
            kind=MoveKind.RECEIPT,
            sku="SKU-1",
            warehouse=WAREHOUSE,
            at=NOW,
            quantity=q,
            currency="USD",
            unit_cost=Decimal(cost),
        )
        for rid, q, cost in (("R1", 8, "10"), ("R2", 4, "16"))
    ]
    async with runtime.sessions.begin() as session:
        await book(
            SHOP_API_URL,
            [LedgerEntry(move, "csv", "test") for move in receipts],
            ledger=SqlInventoryLedger(session),
            policy=CostingPolicy(),
            now=NOW,
        )


async def _moves(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InventoryMoveRow)) or 0)


async def test_a_fulfilment_books_its_cost_and_writes_it_back_once(
    send: Send, fake_saleor: FakeSaleor, runtime: Runtime, client: httpx.AsyncClient, staff_headers: StaffHeaders
) -> None:
    await _receive(runtime)
    shipped = fulfillment_payload(warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 10)])
    assert (await send("FULFILLMENT_CREATED", _order("FulfillmentCreated", shipped))).status_code == 200
    (call,) = fake_saleor.calls("RecordCogs")
    variables = call["variables"]
    document = json.loads(variables["metadata"][0]["value"])
    assert (document["revenue"], document["cogs"], document["grossMargin"], document["marginPct"]) == (
        "200.00",
        "112.00",
        "88.00",
        "44.00",
    )
    assert variables["line0"] == LINE
    assert json.loads(variables["lineMetadata0"][0]["value"])["layers"][1] == {
        "receiptId": "R2",
        "quantity": 2,
        "unitCost": "16.00",
    }
    assert "gross margin 88.00 USD (44.00%)" in variables["note"]
    # The order's card in the dashboard shows the same, from the ledger.
    card = await client.get("/api/dashboard/fragments/order", params={"orderId": ORDER}, headers=staff_headers())
    assert "<strong>$112.00</strong> on sales of $200.00 (FIFO)" in card.text
    assert "(44.00%)" in card.text
    assert "2 × $16.00" in card.text
    # ORDER_FULFILLED follows with the same fulfilment: nothing new to book or write.
    assert (await send("ORDER_FULFILLED", _order("OrderFulfilled", shipped))).status_code == 200
    assert len(fake_saleor.calls("RecordCogs")) == 1
    assert await _moves(runtime) == 3


async def test_a_cancelled_fulfilment_reverses_the_cost(send: Send, fake_saleor: FakeSaleor, runtime: Runtime) -> None:
    await _receive(runtime)
    lines = [("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 10)]
    await send(
        "FULFILLMENT_CREATED", _order("FulfillmentCreated", fulfillment_payload(warehouse_id=WAREHOUSE, lines=lines))
    )
    cancelled = fulfillment_payload(status="CANCELED", warehouse_id=WAREHOUSE, lines=lines)
    await send("FULFILLMENT_CANCELED", _order("FulfillmentCanceled", cancelled, issued_at="2026-11-26T16:00:00+00:00"))
    last = fake_saleor.calls("RecordCogs")[-1]["variables"]
    assert json.loads(last["metadata"][0]["value"])["cogs"] == "0.00"


async def test_our_own_note_coming_back_as_order_updated_is_left_alone(
    send: Send, fake_saleor: FakeSaleor, runtime: Runtime
) -> None:
    shipped = fulfillment_payload(warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 2)])
    ours = json.loads(_order("OrderUpdated", shipped))
    ours["issuingPrincipal"] = {"__typename": "App", "id": fake_saleor.app_id}
    await send("ORDER_UPDATED", body_of(ours))
    assert await _moves(runtime) == 0
    # A person's later update carrying the same fulfilment does book it (from Saleor's cost price: no receipts).
    await send("ORDER_UPDATED", _order("OrderUpdated", shipped, issued_at="2026-11-26T15:00:02+00:00"))
    assert json.loads(fake_saleor.calls("RecordCogs")[0]["variables"]["metadata"][0]["value"])["cogs"] == "18.00"


async def test_saleor_down_during_write_back_books_once_and_writes_the_cogs_when_saleor_is_back(
    send: Send, fake_saleor: FakeSaleor, runtime: Runtime, app: FastAPI, clock: FixedClock
) -> None:
    fake_saleor.on("RecordCogs", httpx.Response(503), {"data": {"updatePrivateMetadata": {"errors": []}}})
    shipped = fulfillment_payload(warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 2)])
    body = _order("FulfillmentCreated", shipped)
    assert (await send("FULFILLMENT_CREATED", body)).status_code == 200
    assert (await send("FULFILLMENT_CREATED", body)).status_code == 200  # Saleor's retry: nothing new
    assert await _moves(runtime) == 1
    assert len(fake_saleor.calls("RecordCogs")) == 1
    clock.advance(hours=1)
    await app.state.worker.drain()
    assert len(fake_saleor.calls("RecordCogs")) == 2
    assert await _moves(runtime) == 1


async def test_the_warehouse_and_a_sku_less_variant_are_learned_by_name_from_the_payload(
    send: Send, runtime: Runtime
) -> None:
    mug = "UHJvZHVjdFZhcmlhbnQ6Nw=="
    line = order_line_payload(line_id=LINE, sku=None, variant_id=mug, quantity=1, productName="Mug", variantName="Blue")
    shipped = fulfillment_payload(warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 1)])
    shipped["warehouse"]["name"] = "Main warehouse"
    body = body_of(order_payload(typename="FulfillmentCreated", lines=[line], fulfillments=[shipped]))
    assert (await send("FULFILLMENT_CREATED", body)).status_code == 200
    async with runtime.sessions() as session:
        names = await SqlSaleorNames(session).lookup(SHOP_API_URL, [WAREHOUSE, mug])
    assert names == {
        WAREHOUSE: SaleorName(WAREHOUSE, "Main warehouse", "main-warehouse"),
        mug: SaleorName(mug, "Mug / Blue"),
    }


async def _pool(runtime: Runtime) -> tuple[int, Decimal]:
    """SKU-1's stock in the warehouse by the ledger: units and value."""
    async with runtime.sessions() as session:
        stored = (await SqlInventoryLedger(session).pools(SHOP_API_URL, [("SKU-1", WAREHOUSE)]))[("SKU-1", WAREHOUSE)]
    return stored.pool.quantity, stored.pool.value


def _cogs_written(fake_saleor: FakeSaleor) -> str:
    document = json.loads(fake_saleor.calls("RecordCogs")[-1]["variables"]["metadata"][0]["value"])
    cogs: str = document["cogs"]
    return cogs


async def test_a_fulfilment_cancelled_on_3_20_is_reversed_from_the_events_own_fulfilment(
    send: Send, fake_saleor: FakeSaleor, runtime: Runtime
) -> None:
    await _receive(runtime)
    lines = [("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 10)]
    await send(
        "FULFILLMENT_CREATED", _order("FulfillmentCreated", fulfillment_payload(warehouse_id=WAREHOUSE, lines=lines))
    )
    # Saleor before 3.20.86 leaves CANCELED fulfilments out of Order.fulfillments for apps: only
    # the event's own ``fulfillment`` shows what was cancelled.
    event = json.loads(_order("FulfillmentCanceled", issued_at="2026-11-26T16:00:00+00:00"))
    event["fulfillment"] = fulfillment_payload(status="CANCELED", warehouse_id=WAREHOUSE, lines=lines)
    assert (await send("FULFILLMENT_CANCELED", body_of(event))).status_code == 200
    assert _cogs_written(fake_saleor) == "0.00"
    assert await _pool(runtime) == (12, Decimal("144"))


async def test_a_refund_without_a_return_moves_no_goods(send: Send, fake_saleor: FakeSaleor, runtime: Runtime) -> None:
    await _receive(runtime)
    shipped = ("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 2)
    await send(
        "FULFILLMENT_CREATED",
        _order("FulfillmentCreated", fulfillment_payload(warehouse_id=WAREHOUSE, lines=[shipped])),
    )
    assert _cogs_written(fake_saleor) == "20.00"
    # orderFulfillmentRefundProducts moves the refunded unit out of the FULFILLED line into a
    # new REFUNDED fulfilment, under a new line id, and sends ORDER_UPDATED.
    kept = fulfillment_payload(warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 1)])
    refunded = fulfillment_payload(
        fulfillment_id="RnVsZmlsbG1lbnQ6Mg==",
        status="REFUNDED",
        created="2026-11-26T17:00:00+00:00",
        warehouse_id=WAREHOUSE,
        lines=[("RnVsZmlsbG1lbnRMaW5lOjI=", LINE, 1)],
    )
    await send("ORDER_UPDATED", _order("OrderUpdated", kept, refunded, issued_at="2026-11-26T17:00:01+00:00"))
    assert await _pool(runtime) == (10, Decimal("124"))
    assert _cogs_written(fake_saleor) == "20.00"
    # Cancelling what is left of the fulfilment brings back the one unit still in it, not two.
    cancelled = fulfillment_payload(
        status="CANCELED", warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 1)]
    )
    await send(
        "FULFILLMENT_CANCELED",
        _order("FulfillmentCanceled", cancelled, refunded, issued_at="2026-11-26T18:00:00+00:00"),
    )
    assert await _pool(runtime) == (11, Decimal("134"))
    assert _cogs_written(fake_saleor) == "10.00"


async def test_refunding_unfulfilled_units_books_nothing(send: Send, fake_saleor: FakeSaleor, runtime: Runtime) -> None:
    await _receive(runtime)
    # Units refunded before they shipped: a REFUNDED fulfilment whose lines hold no stock, so no warehouse.
    refunded = fulfillment_payload(status="REFUNDED", warehouse_id=None, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 3)])
    assert (await send("ORDER_UPDATED", _order("OrderUpdated", refunded))).status_code == 200
    assert fake_saleor.calls("RecordCogs") == []
    assert await _pool(runtime) == (12, Decimal("144"))


async def test_a_return_after_a_landed_cost_comes_back_with_it(
    send: Send, fake_saleor: FakeSaleor, runtime: Runtime
) -> None:
    receipt = Move("R1", MoveKind.RECEIPT, "SKU-1", WAREHOUSE, NOW, 10, "USD", unit_cost=Decimal(10))
    freight = Move("L1", MoveKind.LANDED_COST, "SKU-1", WAREHOUSE, NOW, 10, "USD", amount=Decimal(20), receipt_id="R1")

    async def book_now(move: Move) -> None:
        async with runtime.sessions.begin() as session:
            entries = [LedgerEntry(move, "csv", "test")]
            await book(SHOP_API_URL, entries, ledger=SqlInventoryLedger(session), policy=CostingPolicy(), now=NOW)

    await book_now(receipt)
    shipped = fulfillment_payload(warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 4)])
    await send("FULFILLMENT_CREATED", _order("FulfillmentCreated", shipped))
    await book_now(dataclasses.replace(freight, at=NOW + timedelta(days=1)))
    kept = fulfillment_payload(warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 2)])
    returned = fulfillment_payload(
        fulfillment_id="RnVsZmlsbG1lbnQ6Mg==",
        status="RETURNED",
        created="2026-11-28T10:00:00+00:00",
        warehouse_id=WAREHOUSE,
        lines=[("RnVsZmlsbG1lbnRMaW5lOjI=", LINE, 2)],
    )
    await send("ORDER_UPDATED", _order("OrderUpdated", kept, returned, issued_at="2026-11-28T10:00:01+00:00"))

    assert await _pool(runtime) == (8, Decimal(96))
    # The order's two mugs still out cost 12 each: 10, and the 2 of freight the landed cost put on them.
    document = json.loads(fake_saleor.calls("RecordCogs")[-1]["variables"]["metadata"][0]["value"])
    assert (document["cogs"], document["lines"][0]["layers"]) == (
        "24.00",
        [{"receiptId": "R1", "quantity": 2, "unitCost": "12.00"}],
    )


async def test_returning_refunded_units_that_never_shipped_brings_nothing_back(
    send: Send, fake_saleor: FakeSaleor, runtime: Runtime
) -> None:
    await _receive(runtime)
    shipped = fulfillment_payload(warehouse_id=WAREHOUSE, lines=[("RnVsZmlsbG1lbnRMaW5lOjE=", LINE, 2)])
    await send("FULFILLMENT_CREATED", _order("FulfillmentCreated", shipped))
    assert await _pool(runtime) == (10, Decimal("124"))
    # A unit refunded before it shipped, then "returned": Saleor moves it from the REFUNDED
    # fulfilment into a REFUNDED_AND_RETURNED one; its line holds no stock, so neither names a warehouse.
    back = fulfillment_payload(
        fulfillment_id="RnVsZmlsbG1lbnQ6Mw==",
        status="REFUNDED_AND_RETURNED",
        created="2026-11-26T18:00:00+00:00",
        warehouse_id=None,
        lines=[("RnVsZmlsbG1lbnRMaW5lOjM=", LINE, 1)],
    )
    await send("ORDER_UPDATED", _order("OrderUpdated", shipped, back, issued_at="2026-11-26T18:00:01+00:00"))
    assert await _pool(runtime) == (10, Decimal("124"))
    assert _cogs_written(fake_saleor) == "20.00"

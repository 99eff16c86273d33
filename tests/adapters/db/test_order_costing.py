"""Costing an order from what Saleor says about its fulfilments, over the SQL ledger."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from app.db.repositories.inventory import SqlInventoryLedger
from app.domain.installation import Installation
from app.domain.inventory import CostingPolicy, Move, MoveKind
from app.runtime import Runtime
from app.services.inventory import book
from app.services.order_costing import (
    CostedLine,
    FulfilledUnits,
    FulfillmentView,
    OrderFulfillments,
    cost_order,
    recost_orders,
)
from app.services.ports import LedgerEntry
from tests.builders import NOW, SHOP_API_URL
from tests.fakes.in_memory import FakeSaleorGateway

POLICY = CostingPolicy()
LINE = CostedLine("line-1", "SKU-1", "variant-1", "Shoes", 10, Decimal("20"), Decimal("9"))


@pytest.fixture
async def ledger(runtime: Runtime, installation: Installation) -> AsyncIterator[SqlInventoryLedger]:
    async with runtime.sessions() as session:
        yield SqlInventoryLedger(session)
        await session.commit()


async def receive(ledger: SqlInventoryLedger, move_id: str, quantity: int, cost: str, hours: float) -> None:
    move = Move(
        id=move_id,
        kind=MoveKind.RECEIPT,
        sku="SKU-1",
        warehouse="W1",
        at=NOW + timedelta(hours=hours),
        quantity=quantity,
        currency="USD",
        unit_cost=Decimal(cost),
    )
    await book(SHOP_API_URL, [LedgerEntry(move, "csv", "test")], ledger=ledger, policy=POLICY, now=NOW)


def order(*fulfillments: FulfillmentView) -> OrderFulfillments:
    return OrderFulfillments("order-1", "17", "USD", (LINE,), fulfillments)


def shipped(status: str = "FULFILLED", quantity: int = 10) -> FulfillmentView:
    return FulfillmentView("f-1", status, NOW + timedelta(hours=2), "W1", (FulfilledUnits("fl-1", "line-1", quantity),))


async def cost(ledger: SqlInventoryLedger, saleor: FakeSaleorGateway, the_order: OrderFulfillments, hours: float = 5):
    return await cost_order(
        SHOP_API_URL,
        the_order,
        seen_at=NOW + timedelta(hours=hours),
        ledger=ledger,
        policy=POLICY,
        saleor=saleor,
        now=NOW,
    )


def written(saleor: FakeSaleorGateway, kind: str) -> list[dict[str, str]]:
    return [payload for call, _, payload in saleor.calls if call == kind]  # type: ignore[misc]


async def test_a_fulfilment_is_costed_and_written_back_once(ledger: SqlInventoryLedger) -> None:
    await receive(ledger, "R1", 8, "10", 0)
    await receive(ledger, "R2", 4, "16", 1)
    saleor = FakeSaleorGateway()
    costed = await cost(ledger, saleor, order(shipped()))
    assert costed is not None
    assert costed.document is not None
    assert (costed.document["revenue"], costed.document["cogs"], costed.document["grossMargin"]) == (
        "200.00",
        "112.00",
        "88.00",
    )
    (order_metadata,) = written(saleor, "metadata")
    assert json.loads(order_metadata["ops.cogs"]) == costed.document
    (line_metadata,) = written(saleor, "line_metadata")
    assert json.loads(line_metadata["ops.cogs"])["layers"] == [
        {"receiptId": "R1", "quantity": 8, "unitCost": "10.00"},
        {"receiptId": "R2", "quantity": 2, "unitCost": "16.00"},
    ]
    (note,) = written(saleor, "note")
    assert "112.00 USD" in str(note)
    assert "88.00 USD (44.00%)" in str(note)
    # Saleor delivers ORDER_FULFILLED after FULFILLMENT_CREATED: nothing new, nothing written.
    assert await cost(ledger, saleor, order(shipped())) is None
    assert len(saleor.calls) == 3


async def test_a_cancelled_fulfilment_comes_back_at_the_cost_it_left_with(ledger: SqlInventoryLedger) -> None:
    await receive(ledger, "R1", 8, "10", 0)
    await receive(ledger, "R2", 4, "16", 1)
    saleor = FakeSaleorGateway()
    await cost(ledger, saleor, order(shipped()))
    costed = await cost(ledger, saleor, order(shipped("CANCELED")))
    assert costed is not None
    assert costed.document is not None
    assert (costed.document["cogs"], costed.document["revenue"], costed.document["lines"][0]["quantity"]) == (
        "0.00",
        "0.00",
        0,
    )
    (pool,) = (await ledger.pools(SHOP_API_URL, [("SKU-1", "W1")])).values()
    assert (pool.pool.quantity, pool.pool.value) == (12, Decimal("144"))


async def test_returned_units_reverse_the_layers_the_issue_took_last(ledger: SqlInventoryLedger) -> None:
    await receive(ledger, "R1", 8, "10", 0)
    await receive(ledger, "R2", 4, "16", 1)
    saleor = FakeSaleorGateway()
    # Returned lines keep their stock, so the fulfilment names the warehouse the goods left from.
    returned = FulfillmentView(
        "f-2", "RETURNED", NOW + timedelta(hours=4), "W1", (FulfilledUnits("fl-2", "line-1", 3),)
    )
    await cost(ledger, saleor, order(shipped(quantity=10)))
    # Saleor moves returned units out of the fulfilment line into a RETURNED fulfilment.
    costed = await cost(ledger, saleor, order(shipped(quantity=7), returned))
    assert costed is not None
    assert costed.document is not None
    line = costed.document["lines"][0]
    # 10 shipped took 8 @ 10 and 2 @ 16; 3 came back: the 2 @ 16 and one @ 10.
    assert (line["quantity"], line["cogs"], costed.document["revenue"]) == (7, "70.00", "140.00")


async def test_a_sale_from_an_empty_pool_is_costed_at_saleors_cost_price(ledger: SqlInventoryLedger) -> None:
    saleor = FakeSaleorGateway()
    costed = await cost(ledger, saleor, order(shipped(quantity=2)))
    assert costed is not None
    assert costed.document is not None
    assert costed.document["cogs"] == "18.00"
    assert costed.document["lines"][0]["layers"] == [{"receiptId": None, "quantity": 2, "unitCost": "9.00"}]


async def test_lines_without_a_variant_or_warehouse_are_named_not_costed(ledger: SqlInventoryLedger) -> None:
    saleor = FakeSaleorGateway()
    nowhere = FulfillmentView("f-1", "FULFILLED", NOW, None, (FulfilledUnits("fl-1", "line-1", 1),))
    assert await cost(ledger, saleor, order(nowhere)) is None
    assert saleor.calls == []


async def test_a_receipt_covering_units_sold_beyond_stock_rewrites_the_orders_cogs(ledger: SqlInventoryLedger) -> None:
    saleor = FakeSaleorGateway()
    await cost(ledger, saleor, order(shipped(quantity=2)))  # nothing in stock: 2 @ Saleor's 9
    arrival = Move(
        id="R9",
        kind=MoveKind.RECEIPT,
        sku="SKU-1",
        warehouse="W1",
        at=NOW + timedelta(hours=6),
        quantity=5,
        currency="USD",
        unit_cost=Decimal("12"),
    )
    booking = await book(SHOP_API_URL, [LedgerEntry(arrival, "csv", "test")], ledger=ledger, policy=POLICY, now=NOW)
    assert booking.recosted_issues == {"issue:fl-1"}
    assert await recost_orders(SHOP_API_URL, booking.recosted_issues, ledger=ledger, saleor=saleor) == 1
    document = json.loads(written(saleor, "metadata")[-1]["ops.cogs"])
    assert (document["cogs"], document["revenue"]) == ("24.00", "40.00")
    assert document["lines"][0]["layers"] == [{"receiptId": "R9", "quantity": 2, "unitCost": "12.00"}]
    assert "Updated" in str(written(saleor, "note")[-1])

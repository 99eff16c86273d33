"""The fraud check's margin uses what the cost ledger says the goods cost, once it knows."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.db.models import FraudAssessmentRow
from app.db.repositories.inventory import SqlInventoryLedger
from app.domain.inventory import CostingPolicy, Move, MoveKind
from app.runtime import Runtime
from app.services.inventory import book
from app.services.ports import LedgerEntry
from tests.api.conftest import Send
from tests.builders import NOW, SHOP_API_URL, body_of, order_line_payload, order_payload, variant_payload
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")


def _order(order_id: str) -> bytes:
    line = order_line_payload(
        quantity=2, unit_price="64.95", variant=variant_payload(cost_prices={"default-channel": "10"})
    )
    return body_of(order_payload(order_id=order_id, lines=[line]))


async def _margin(runtime: Runtime, order_id: str) -> Decimal:
    async with runtime.sessions() as session:
        margin = await session.scalar(select(FraudAssessmentRow.margin).where(FraudAssessmentRow.order_id == order_id))
    assert margin is not None
    return margin


async def test_the_margin_check_costs_lines_from_the_ledger(
    send: Send, fake_saleor: FakeSaleor, runtime: Runtime
) -> None:
    await send(body=_order("T3JkZXI6MQ=="))
    with_saleor_cost = await _margin(runtime, "T3JkZXI6MQ==")
    receipt = Move(
        id="R1",
        kind=MoveKind.RECEIPT,
        sku="SKU-1",
        warehouse="W1",
        at=NOW,
        quantity=5,
        currency="USD",
        unit_cost=Decimal("25"),
    )
    async with runtime.sessions.begin() as session:
        await book(
            SHOP_API_URL,
            [LedgerEntry(receipt, "csv", "test")],
            ledger=SqlInventoryLedger(session),
            policy=CostingPolicy(),
            now=NOW,
        )
    await send(body=_order("T3JkZXI6Mg=="))
    # Two units at 25 from the ledger instead of 10 from Saleor's cost price.
    assert with_saleor_cost - await _margin(runtime, "T3JkZXI6Mg==") == Decimal("30")

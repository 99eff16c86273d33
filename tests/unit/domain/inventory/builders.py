"""Keyword-only builders for ledger moves in the inventory tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.domain.inventory import CostPool, LayerTake, Method, Move, MoveKind, Posting, empty_pool, replay

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
SKU = "SKU-1"
WAREHOUSE = "WH-1"
OTHER_WAREHOUSE = "WH-2"
CURRENCY = "USD"


def at(day: int = 0, *, hour: int = 0) -> datetime:
    return T0 + timedelta(days=day, hours=hour)


def make_move(
    kind: MoveKind,
    *,
    id: str,
    quantity: int,
    day: int = 0,
    when: datetime | None = None,
    sku: str = SKU,
    warehouse: str = WAREHOUSE,
    currency: str = CURRENCY,
    unit_cost: Decimal | str | None = None,
    amount: Decimal | str | None = None,
    receipt_id: str | None = None,
    cost_of: Iterable[LayerTake] = (),
    related_move_id: str | None = None,
    counterpart_warehouse: str | None = None,
    method: Method | None = None,
    reference: str = "",
    seq: int = 0,
) -> Move:
    return Move(
        id=id,
        kind=kind,
        sku=sku,
        warehouse=warehouse,
        at=at(day) if when is None else when,
        quantity=quantity,
        currency=currency,
        unit_cost=None if unit_cost is None else Decimal(unit_cost),
        amount=None if amount is None else Decimal(amount),
        receipt_id=receipt_id,
        cost_of=tuple(cost_of),
        related_move_id=related_move_id,
        counterpart_warehouse=counterpart_warehouse,
        method=method,
        reference=reference,
        seq=seq,
    )


def receipt(*, id: str, quantity: int, unit_cost: Decimal | str, day: int = 0, **fields: object) -> Move:
    return make_move(MoveKind.RECEIPT, id=id, quantity=quantity, unit_cost=unit_cost, day=day, **fields)  # type: ignore[arg-type]


def issue(*, id: str, quantity: int, day: int = 0, **fields: object) -> Move:
    return make_move(MoveKind.ISSUE, id=id, quantity=quantity, day=day, **fields)  # type: ignore[arg-type]


def take(receipt_id: str | None, quantity: int, unit_cost: str) -> LayerTake:
    return LayerTake(receipt_id, quantity, Decimal(unit_cost))


def pool(
    method: Method = Method.FIFO, *, warehouse: str = WAREHOUSE, unit_cost: str = "0", currency: str = CURRENCY
) -> CostPool:
    return empty_pool(SKU, warehouse, currency, method, unit_cost=Decimal(unit_cost))


def run(
    moves: Iterable[Move], method: Method = Method.FIFO, *, currency: str = CURRENCY
) -> tuple[CostPool, list[Posting]]:
    return replay(moves, pool(method, currency=currency))


def odoo_example() -> list[Move]:
    """Odoo's cheat-sheet example: receive 8 @ 10, receive 4 @ 16, deliver 10, receive 2 @ 6."""
    return [
        receipt(id="R1", quantity=8, unit_cost="10", day=1),
        receipt(id="R2", quantity=4, unit_cost="16", day=2),
        issue(id="I1", quantity=10, day=3, reference="line-1"),
        receipt(id="R3", quantity=2, unit_cost="6", day=4),
    ]

"""Ledger histories for the valuation report tests: Odoo's worked example and a seeded mixed one."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.inventory import Move, MoveKind
from app.services.ports import LedgerEntry


def at(day: str, time: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}:00+00:00")


def entry(
    move_id: str,
    kind: MoveKind,
    quantity: int,
    when: datetime,
    *,
    sku: str = "SKU-1",
    warehouse: str = "W1",
    currency: str = "USD",
    unit_cost: str | None = None,
    unit_price: str | None = None,
) -> LedgerEntry:
    move = Move(
        id=move_id,
        kind=kind,
        sku=sku,
        warehouse=warehouse,
        at=when,
        quantity=quantity,
        currency=currency,
        unit_cost=None if unit_cost is None else Decimal(unit_cost),
        reference=f"line-{move_id}" if kind is MoveKind.ISSUE else f"ref-{move_id}",
    )
    sold = kind in (MoveKind.ISSUE, MoveKind.CUSTOMER_RETURN)
    return LedgerEntry(
        move,
        source="saleor" if sold else "csv",
        recorded_by="test",
        order_id=f"order-{move_id}" if sold else None,
        unit_price=None if unit_price is None else Decimal(unit_price),
    )


# Odoo's cheat sheet, spread over two months: receive 8 @ 10 and 4 @ 16, deliver 10 (sold at 20
# each), receive 2 @ 6. FIFO: COGS 112, 44 left; LIFO: 124, 32; AVCO: 120, 36.
ODOO = [
    entry("R1", MoveKind.RECEIPT, 8, at("2026-10-05"), unit_cost="10"),
    entry("R2", MoveKind.RECEIPT, 4, at("2026-10-20"), unit_cost="16"),
    entry("I1", MoveKind.ISSUE, 10, at("2026-11-03"), unit_price="20"),
    entry("R3", MoveKind.RECEIPT, 2, at("2026-11-20"), unit_cost="6"),
]


def mixed_history(*, seed: int, count: int = 120) -> list[LedgerEntry]:
    """Receipts, sales (running stock negative at times, corrected by the next receipt) and
    returns, in two pools with different currencies, spread over three months, some sales
    late in the evening so the store's zone moves them to the next day."""
    rng = random.Random(seed)
    pools = {("SKU-A", "W1"): "USD", ("SKU-B", "W2"): "EUR"}
    stock = dict.fromkeys(pools, 0)
    sold: dict[tuple[str, str], list[int]] = {key: [] for key in pools}
    entries = []
    moment = at("2026-09-01")
    for number in range(count):
        moment += timedelta(hours=rng.choice([1, 5, 17, 22.5]))
        key = rng.choice(list(pools))
        sku, warehouse = key
        common = {"sku": sku, "warehouse": warehouse, "currency": pools[key]}
        roll = rng.random()
        if roll < 0.3 or stock[key] < -5:
            quantity = rng.randint(3, 12)
            stock[key] += quantity
            cost = f"{rng.randint(500, 1500) / 100:.2f}"
            entries.append(entry(f"R{number}", MoveKind.RECEIPT, quantity, moment, unit_cost=cost, **common))
        elif roll < 0.38 and sold[key]:
            # Unlinked, so every report values it alike: at the pool's last known cost.
            returned = rng.randint(1, sold[key].pop())
            stock[key] += returned
            entries.append(entry(f"C{number}", MoveKind.CUSTOMER_RETURN, returned, moment, unit_price="25", **common))
        else:
            quantity = rng.randint(1, 4)
            stock[key] -= quantity
            sold[key].append(quantity)
            price = f"{rng.randint(1500, 3000) / 100:.2f}"
            entries.append(entry(f"I{number}", MoveKind.ISSUE, quantity, moment, unit_price=price, **common))
    return entries

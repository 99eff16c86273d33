"""Orders sold beyond stock: the units an order's issues took that the cost ledger did not hold, as long as
no incoming move (a receipt, a return, a count) has covered them. Only pools whose stock the store records
count (one that ever had a receipt, a count gain or a transfer in): a SKU the store never stocked in the
ledger is valued from Saleor's cost price, and every sale of it is not a ticket.

The ledger's pools keep what is still short per outgoing move (``CostPool.shortfalls``), whichever way the
covering units arrived (a receipt CSV, the stock-move API, the opening balance, another order's return), so
an order's shortfall is read there, not from its own postings (which keep what the issue took at the time).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.inventory import MoveKind
from app.domain.support.model import StoreReason
from app.services.ports import InventoryLedger, PoolKey, SettingsStore, SupportDesk
from app.services.support.desk import clear_store_cause

COVERED = "The stock now covers every unit this order sold beyond it: a receipt or return arrived."


@dataclass(frozen=True, slots=True)
class Shortfall:
    """Units of one SKU an order took from a warehouse that did not hold them, still uncovered."""

    sku: str
    warehouse: str
    units: int


async def order_shortfalls(url: SaleorApiUrl, order_id: str, *, ledger: InventoryLedger) -> tuple[Shortfall, ...]:
    """What the order's issues took beyond stock and nothing has covered yet, per SKU and warehouse."""
    postings = await ledger.order_postings(url, order_id)
    issues = {p.move.id: (p.move.sku, p.move.warehouse) for p in postings if p.move.kind is MoveKind.ISSUE}
    if not issues:
        return ()
    stocked = await ledger.stocked(url, set(issues.values()))
    short: Counter[PoolKey] = Counter()
    for key, stored in (await ledger.pools(url, stocked)).items():
        for shortfall in stored.pool.shortfalls:
            if shortfall.move_id in issues:
                short[key] += shortfall.quantity
    return tuple(Shortfall(sku, warehouse, units) for (sku, warehouse), units in sorted(short.items()) if units)


def shortfall_details(shortfalls: Sequence[Shortfall]) -> str:
    """The ticket's description: which SKUs, where, and how many units short."""
    total = sum(shortfall.units for shortfall in shortfalls)
    lines = [
        f"- {shortfall.sku} from warehouse {shortfall.warehouse}: {shortfall.units} unit(s) short"
        for shortfall in shortfalls
    ]
    return "\n".join(
        [
            f"The order was fulfilled with {total} unit(s) the inventory ledger did not hold:",
            *lines,
            "Their cost is provisional (Saleor's cost price) until a receipt covers them; "
            "the ticket closes once one does.",
        ]
    )


async def clear_covered_shortfalls(
    desk: SupportDesk, settings: SettingsStore, ledger: InventoryLedger, url: SaleorApiUrl, now: datetime
) -> int:
    """Clear the cause of every store ticket about an order sold beyond stock whose units are now covered;
    how many were cleared."""
    cleared = 0
    for order_id in await desk.store_causes_open(url, StoreReason.SOLD_BEYOND_STOCK):
        if await order_shortfalls(url, order_id, ledger=ledger):
            continue
        if await clear_store_cause(
            desk, settings, url, SaleorId(order_id), StoreReason.SOLD_BEYOND_STOCK, COVERED, now
        ):
            cleared += 1
    return cleared

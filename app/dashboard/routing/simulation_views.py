"""Pure builders of the Routing → Simulator tab: the form read into a number of orders, and the replay's
totals and differing orders as the page shows them. No I/O, tested without HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale

from app.dashboard.inventory.report_views import money
from app.domain.money import Money
from app.services.routing.simulation import MAX_ORDERS, Simulation, Skipped

DEFAULT_ORDERS = 100


def read_orders(text: str) -> int | str:
    """How many of the latest orders to replay, or why the field is refused."""
    try:
        count = int(text.strip())
    except ValueError:
        return f"a whole number of orders from 1 to {MAX_ORDERS}"
    if not 1 <= count <= MAX_ORDERS:
        return f"from 1 to {MAX_ORDERS} orders, got {count}"
    return count


def _money(amount: Money, locale: Locale) -> str:
    return money(amount.amount, amount.currency, locale)


@dataclass(frozen=True, slots=True)
class TotalRow:
    measure: str
    plan: str
    saleor: str


@dataclass(frozen=True, slots=True)
class DifferingRow:
    order_id: str
    number: str
    plan_cost: str
    saleor_cost: str
    explanation: str


@dataclass(frozen=True, slots=True)
class SimulationView:
    found: int  # the latest orders kept, up to as many as were asked for
    replayed: int
    differ: int
    totals: tuple[TotalRow, ...]
    differing: tuple[DifferingRow, ...]
    skipped: tuple[Skipped, ...]
    not_reached: int


def simulation_view(found: int, simulation: Simulation, locale: Locale) -> SimulationView:
    totals = simulation.totals
    rows = [
        TotalRow("Shipments", str(totals.plan_shipments), str(totals.saleor_shipments)),
        *(
            TotalRow(f"Landed cost ({costs.plan.currency})", _money(costs.plan, locale), _money(costs.saleor, locale))
            for costs in totals.costs
        ),
        TotalRow(
            "Promises kept",
            f"{totals.plan_promises_kept} of {totals.orders}",
            f"{totals.saleor_promises_kept} of {totals.orders}",
        ),
    ]
    differing = tuple(
        DifferingRow(
            replay.order_id,
            replay.number,
            _money(replay.plan.landed_cost, locale),
            _money(replay.saleor.landed_cost, locale),
            replay.explanation(),
        )
        for replay in simulation.differing
    )
    return SimulationView(
        found, totals.orders, totals.differ, tuple(rows), differing, simulation.skipped, simulation.not_reached
    )

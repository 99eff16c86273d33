"""The simulator: past orders planned again under the store's sources and shipping settings as they are
now, against the allocation Saleor made when each was placed. Nothing is kept, written or sent.

Each order is replayed from the first event the app kept of it: its lines, the stock each warehouse
could spare for them then and Saleor's allocation per line. It is planned as on that day (the promise
counts from when it was placed, shipments leave from then) with the quotes, sources and unit costs
the planner weighs (``planning.planning_inputs``), and Saleor's allocation is priced with the very
same, so that the two differ only in where the units ship from.

The work is bounded: at most ``MAX_ORDERS`` orders, the store's sources and the ledger's unit costs
read once for all of them, and the replay stops when ``TIME_BUDGET`` has passed, saying how many
orders it did not reach. Quotes come from rate tables and carriers' answers already cached: no carrier
is asked (``OriginQuotes`` given by the caller). Each order asks each (source, set of lines) once, and
Saleor's allocation is priced from the same answers; across orders, the shipping capability keeps
each table price per origin, destination area, parcels and shipping day while the revision holds (the
dashboard reads it once per replay), so orders alike are priced once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from app.domain.ids import SaleorApiUrl
from app.domain.routing.model import InvalidSource
from app.domain.routing.plan import Unroutable
from app.domain.routing.planner import price_allocation, route
from app.domain.routing.simulation import Replay, Totals, totals
from app.services.ports import RoutingSources
from app.services.routing.model import RoutingSetup
from app.services.routing.planning import OrderToRoute, OriginQuotes, UnitCosts, planning_inputs

MAX_ORDERS = 1000
TIME_BUDGET = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class PastOrder:
    """An order as the first event kept of it showed it: what routing needs of it (or why it cannot be
    routed) and, per line id, the units Saleor allocated to each warehouse."""

    order_id: str
    number: str
    to_route: OrderToRoute | str
    allocation: Mapping[str, tuple[tuple[str, int], ...]]


@dataclass(frozen=True, slots=True)
class Skipped:
    """An order the simulator could not compare, and why (a source removed, a line without SKU...)."""

    order_id: str
    number: str
    reason: str


@dataclass(frozen=True, slots=True)
class Simulation:
    replays: tuple[Replay, ...]
    skipped: tuple[Skipped, ...]
    not_reached: int  # orders left when the time budget ran out

    @property
    def totals(self) -> Totals:
        return totals(self.replays)

    @property
    def differing(self) -> tuple[Replay, ...]:
        return tuple(replay for replay in self.replays if replay.differs)


class _CostsReadOnce:
    """``UnitCosts`` for every order's SKUs, asked of the ledger once per currency."""

    def __init__(self, unit_costs: UnitCosts, skus: Collection[str]) -> None:
        self._unit_costs = unit_costs
        self._skus = skus
        self._known: dict[str, Mapping[str, Decimal]] = {}

    async def __call__(self, url: SaleorApiUrl, skus: Collection[str], currency: str) -> Mapping[str, Decimal]:
        if currency not in self._known:
            self._known[currency] = await self._unit_costs(url, self._skus, currency)
        known = self._known[currency]
        return {sku: known[sku] for sku in skus if sku in known}


async def simulate(
    url: SaleorApiUrl,
    orders: Sequence[PastOrder],
    *,
    sources: RoutingSources,
    quotes: OriginQuotes,
    unit_costs: UnitCosts,
    clock: Callable[[], float] = time.monotonic,
    budget: timedelta = TIME_BUDGET,
) -> Simulation:
    """Plans each of ``orders`` (at most ``MAX_ORDERS``, most recent first) and prices Saleor's allocation
    of it alike, until ``budget`` of ``clock`` has passed."""
    if len(orders) > MAX_ORDERS:
        raise ValueError(f"the simulator replays at most {MAX_ORDERS} orders, asked for {len(orders)}")
    routable = [order.to_route for order in orders if isinstance(order.to_route, OrderToRoute)]
    skus = {line.sku for to_route in routable for line in to_route.lines}
    setup = await sources.setup(url, skus)
    costs = _CostsReadOnce(unit_costs, skus)
    replays: list[Replay] = []
    skipped: list[Skipped] = []
    deadline = clock() + budget.total_seconds()
    for done, order in enumerate(orders):
        if clock() > deadline:
            return Simulation(tuple(replays), tuple(skipped), len(orders) - done)
        outcome = await _replay(url, order, setup=setup, quotes=quotes, unit_costs=costs)
        if isinstance(outcome, Replay):
            replays.append(outcome)
        else:
            skipped.append(Skipped(order.order_id, order.number, outcome))
    return Simulation(tuple(replays), tuple(skipped), 0)


async def _replay(
    url: SaleorApiUrl, order: PastOrder, *, setup: RoutingSetup, quotes: OriginQuotes, unit_costs: UnitCosts
) -> Replay | str:
    to_route = order.to_route
    if isinstance(to_route, str):
        return to_route
    placed_at = to_route.placed.placed_at
    inputs = await planning_inputs(
        url, to_route, to_route.lines, setup=setup, quotes=quotes, unit_costs=unit_costs, now=placed_at
    )
    if isinstance(inputs, Unroutable):
        return inputs.explanation[0]
    try:
        plan = route(
            inputs.lines,
            inputs.sources,
            inputs.quoter,
            promised_by=inputs.promised_by,
            planned_on=placed_at.date(),
            currency=inputs.currency,
            unit_costs=inputs.unit_costs,
        )
        saleor = price_allocation(
            inputs.lines,
            inputs.sources,
            inputs.quoter,
            order.allocation,
            promised_by=inputs.promised_by,
            currency=inputs.currency,
            unit_costs=inputs.unit_costs,
        )
    except InvalidSource as exc:
        return f"no plan: {exc}"
    if isinstance(plan, Unroutable):
        return plan.explanation[0]
    if isinstance(saleor, str):
        return f"Saleor's allocation cannot be priced: {saleor}"
    return Replay(order.order_id, order.number, plan, saleor)

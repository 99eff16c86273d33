"""The simulator through the service: past orders planned as on the day they were placed, against
Saleor's allocation priced alike; orders it cannot compare are said, and the work is bounded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.routing.plan import Plan
from app.services.routing.model import RoutingSetup, SupplierOffer
from app.services.routing.planning import OrderToRoute
from app.services.routing.simulation import MAX_ORDERS, PastOrder, Simulation, simulate
from tests.builders import SHOP_API_URL
from tests.fakes.routing import InMemoryRoutingSources
from tests.unit.services.routing.builders import (
    ACME,
    EAST,
    NOW,
    WEST,
    FakeOriginQuotes,
    line,
    order_to_route,
    setup,
    usd,
)

Allocation = Mapping[str, tuple[tuple[str, int], ...]]


def _past(number: str, allocation: Allocation, to_route: OrderToRoute | str | None = None) -> PastOrder:
    return PastOrder(f"order-{number}", number, order_to_route() if to_route is None else to_route, allocation)


class Costs:
    def __init__(self, costs: Mapping[str, str] | None = None) -> None:
        self.costs = {sku: Decimal(cost) for sku, cost in (costs or {}).items()}
        self.asked: list[tuple[frozenset[str], str]] = []

    async def __call__(self, url: SaleorApiUrl, skus: object, currency: str) -> dict[str, Decimal]:
        assert isinstance(skus, set | frozenset)
        self.asked.append((frozenset(skus), currency))
        return self.costs


async def _simulate(
    orders: Sequence[PastOrder],
    *,
    sources: InMemoryRoutingSources | None = None,
    quotes: FakeOriginQuotes | None = None,
    costs: Costs | None = None,
    clock: list[float] | None = None,
) -> Simulation:
    ticks = iter(clock or [])
    sources, quotes, costs = sources or InMemoryRoutingSources(setup()), quotes or FakeOriginQuotes(), costs or Costs()
    if clock is None:
        return await simulate(SHOP_API_URL, orders, sources=sources, quotes=quotes, unit_costs=costs)
    return await simulate(
        SHOP_API_URL, orders, sources=sources, quotes=quotes, unit_costs=costs, clock=lambda: next(ticks)
    )


# The builders' order: two mugs (East has none; West, the 3PL, and Acme, the supplier, have them) and a tee.
SALEORS = {"L1": ((WEST, 2),), "L2": ((EAST, 1),)}


async def test_an_order_is_planned_as_on_the_day_it_was_placed_and_compared_with_saleor() -> None:
    quotes = FakeOriginQuotes()
    simulation = await _simulate([_past("1001", SALEORS)], quotes=quotes)
    (replay,) = simulation.replays
    assert (replay.order_id, replay.number) == ("order-1001", "1001")
    # Saleor: East ships the tee, the 3PL the mugs; the plan ships everything from the 3PL in one go.
    assert [s.source.id for s in replay.saleor.shipments] == [EAST, WEST]
    assert [s.source.id for s in replay.plan.shipments] == [WEST]
    assert replay.differs
    assert "1 shipment instead of Saleor's 2" in replay.explanation()
    assert {leaves_at for _, _, leaves_at in quotes.asked} <= {NOW, NOW + timedelta(days=1)}  # Acme's handling
    assert simulation.totals.differ == 1
    assert simulation.skipped == ()
    assert simulation.not_reached == 0


async def test_sources_and_unit_costs_are_read_once_for_every_order() -> None:
    sources, costs = InMemoryRoutingSources(setup()), Costs({"MUG": "2.00"})
    tees = order_to_route(None, line("L9", "CAP", 1))
    await _simulate(
        [_past("1", SALEORS), _past("2", SALEORS), _past("3", {"L9": ((EAST, 1),)}, tees)], sources=sources, costs=costs
    )
    assert sources.asked == [frozenset({"MUG", "TEE", "CAP"})]
    assert costs.asked == [(frozenset({"MUG", "TEE", "CAP"}), "USD")]


async def test_orders_that_cannot_be_compared_are_said_with_the_reason() -> None:
    gone = _past("2", {"L1": ((SaleorId("WH-gone"), 2),), "L2": ((EAST, 1),)})
    short = _past("3", {"L1": ((WEST, 1),), "L2": ((EAST, 1),)})
    no_stock = _past("4", SALEORS, order_to_route({EAST: {"MUG": 0, "TEE": 0}}))
    simulation = await _simulate(
        [_past("1", SALEORS, "line L1 has no SKU"), gone, short, no_stock],
        sources=InMemoryRoutingSources(setup(mug_offer=0)),
    )
    assert simulation.replays == ()
    assert [(s.number, s.reason) for s in simulation.skipped] == [
        ("1", "line L1 has no SKU"),
        ("2", "Saleor's allocation cannot be priced: L1 (MUG): allocated to WH-gone, which is not a source"),
        ("3", "Saleor's allocation cannot be priced: L1 (MUG × 2): 1 allocated"),
        ("4", "no plan: MUG: 0 of 2 in stock across the sources; TEE: 0 of 1 in stock across the sources"),
    ]


async def test_a_channel_that_promises_no_such_delivery_is_said() -> None:
    simulation = await _simulate([_past("1", SALEORS)], quotes=FakeOriginQuotes(promise=None))
    ((_, reason),) = [(s.number, s.reason) for s in simulation.skipped]
    assert reason == "no plan: channel default promises no expedited delivery"


async def test_the_replay_stops_when_its_time_budget_has_passed() -> None:
    # Started at 0; the first two orders start within the 10 s budget, the third finds it spent.
    simulation = await _simulate([_past(str(n), SALEORS) for n in range(5)], clock=[0.0, 1.0, 9.0, 10.5])
    assert len(simulation.replays) == 2
    assert simulation.not_reached == 3


async def test_more_orders_than_the_simulator_replays_are_refused() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_ORDERS}"):
        await _simulate([_past("1", SALEORS)] * (MAX_ORDERS + 1))


# Properties: under random stock and orders, against Saleor allocating each line greedily (the first
# source in the merchant's order with all its units, else spilled over them in that order).

WAREHOUSES = (ACME, EAST, WEST)  # the merchant's order: equal priorities, then ids
SKUS = ("MUG", "TEE", "CAP", "HAT")


@st.composite
def stores(draw: st.DrawFn) -> tuple[OrderToRoute, RoutingSetup, dict[str, int]]:
    """An order of distinct SKUs, Saleor's stock of East and West, and Acme's offers."""
    count = draw(st.integers(1, len(SKUS)))
    skus = draw(st.permutations(SKUS))[:count]
    lines = tuple(line(f"L{i}", sku, draw(st.integers(1, 4))) for i, sku in enumerate(skus))
    stock = {warehouse: {sku: draw(st.integers(0, 5)) for sku in skus} for warehouse in (EAST, WEST)}
    offers = {sku: draw(st.integers(0, 5)) for sku in skus}
    store = setup(mug_offer=0)
    store = replace(
        store, offers={"p-acme": {sku: SupplierOffer(sku, usd("3.00"), 0, units) for sku, units in offers.items()}}
    )
    return order_to_route(stock, *lines), store, offers


def _greedy(order: OrderToRoute, offers: Mapping[str, int]) -> dict[str, tuple[tuple[str, int], ...]] | None:
    held = {ACME: offers, **order.stock}
    allocation: dict[str, tuple[tuple[str, int], ...]] = {}
    for each in order.lines:
        wanted = each.cart.quantity
        whole = [w for w in WAREHOUSES if held[w].get(each.sku, 0) >= wanted]
        if whole:
            allocation[each.id] = ((whole[0], wanted),)
            continue
        parts: list[tuple[str, int]] = []
        for warehouse in WAREHOUSES:
            taken = min(wanted, held[warehouse].get(each.sku, 0))
            if taken:
                parts.append((warehouse, taken))
                wanted -= taken
        if wanted:
            return None  # Saleor would not have taken the order
        allocation[each.id] = tuple(parts)
    return allocation


@settings(max_examples=60, deadline=None)
@given(stores())
async def test_a_replayed_plan_ships_what_was_ordered_from_stock_and_never_in_more_shipments_than_greedy(
    store: tuple[OrderToRoute, RoutingSetup, dict[str, int]],
) -> None:
    order, sources, offers = store
    allocation = _greedy(order, offers)
    if allocation is None:
        return
    simulation = await _simulate([_past("1", allocation, order)], sources=InMemoryRoutingSources(sources))
    (replay,) = simulation.replays
    plan: Plan = replay.plan
    shipped = {each.id: sum(quantity for _, quantity in plan.units_by_line().get(each.id, [])) for each in order.lines}
    assert shipped == {each.id: each.cart.quantity for each in order.lines}
    held = {ACME: offers, **order.stock}
    for shipment in plan.shipments:
        for units in shipment.units:
            assert units.quantity <= held[SaleorId(shipment.source.id)][units.line.sku]
    assert len(plan.shipments) <= len(replay.saleor.shipments)

"""Properties of routing over random sources, stock, rates and orders."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.money import Money
from app.domain.routing.model import OrderLine, Source, SourceKind
from app.domain.routing.plan import Plan, Unroutable
from app.domain.routing.planner import Problem, brute_force, exact_search, heuristic_search, heuristic_seed, route
from tests.unit.domain.routing.builders import PROMISED, TODAY, Rate, in_house, rates, supplier, third_party, usd

cents = st.integers(min_value=0, max_value=2_000).map(lambda value: str(Decimal(value).scaleb(-2)))


@dataclass(frozen=True)
class Instance:
    lines: list[OrderLine]
    sources: list[Source]
    table: dict[str, Rate | None]
    unit_costs: dict[str, Money]

    def route(self) -> Plan | Unroutable:
        return route(
            self.lines,
            self.sources,
            rates(self.table, default=None),
            promised_by=PROMISED,
            planned_on=TODAY,
            currency="USD",
            unit_costs=self.unit_costs,
        )

    def problem(self) -> Problem:
        merchant_order = sorted(self.sources, key=lambda source: (source.priority, source.id))
        return Problem(
            self.lines,
            merchant_order,
            rates(self.table, default=None),
            promised_by=PROMISED,
            currency="USD",
            unit_costs=self.unit_costs,
        )


@st.composite
def instances(
    draw: st.DrawFn, *, sources: int, skus: int, lines: int, rated: bool = False, distinct_skus: bool = False
) -> Instance:
    catalogue = [f"S{i}" for i in range(draw(st.integers(1, skus)))]
    built: list[Source] = []
    table: dict[str, Rate | None] = {}
    for index in range(draw(st.integers(1, sources))):
        source_id = f"src{index}"
        stock = {sku: draw(st.integers(0, 5)) for sku in catalogue}
        priority = draw(st.integers(0, 3))
        kind = draw(st.sampled_from(list(SourceKind)))
        if kind is SourceKind.IN_HOUSE:
            built.append(in_house(source_id, stock=stock, priority=priority))
        elif kind is SourceKind.THIRD_PARTY:
            built.append(
                third_party(source_id, stock=stock, per_order=draw(cents), per_unit=draw(cents), priority=priority)
            )
        else:
            prices = {sku: draw(cents) for sku in catalogue}
            handling = 0 if rated else draw(st.integers(0, 3))
            built.append(supplier(source_id, stock=stock, prices=prices, handling_days=handling, priority=priority))
        days = st.integers(0, 3) if rated else st.integers(0, 8)
        rate = st.builds(Rate, base=cents, per_unit=cents, days=days)
        table[source_id] = draw(rate if rated else st.one_of(st.none(), rate, rate, rate))
    count = draw(st.integers(1, lines))
    if distinct_skus:
        catalogue_order = draw(st.permutations(catalogue))
        count = min(count, len(catalogue_order))
        skus_of_lines = catalogue_order[:count]
    else:
        skus_of_lines = [draw(st.sampled_from(catalogue)) for _ in range(count)]
    order = [OrderLine(f"L{i}", sku, draw(st.integers(1, 4))) for i, sku in enumerate(skus_of_lines)]
    unit_costs = {sku: usd(draw(cents)) for sku in catalogue if draw(st.booleans())}
    return Instance(order, built, table, unit_costs)


def _short_of_stock(instance: Instance) -> bool:
    wanted: Counter[str] = Counter()
    for line in instance.lines:
        wanted[line.sku] += line.quantity
    return any(sum(s.in_stock(sku) for s in instance.sources) < units for sku, units in wanted.items())


def _check_conservation(instance: Instance) -> None:
    result = instance.route()
    if _short_of_stock(instance):
        assert isinstance(result, Unroutable)
        return
    if isinstance(result, Unroutable):
        assert result.explanation[0].startswith("no plan: no combination of sources")
        return
    by_line = result.units_by_line()
    assert {line.id: sum(q for _, q in by_line[line.id]) for line in instance.lines} == {
        line.id: line.quantity for line in instance.lines
    }
    shipped: Counter[tuple[str, str]] = Counter()
    for shipment in result.shipments:
        assert instance.table[shipment.source.id] is not None
        for units in shipment.units:
            shipped[shipment.source.id, units.line.sku] += units.quantity
    stock = {source.id: source for source in instance.sources}
    assert all(units <= stock[source].in_stock(sku) for (source, sku), units in shipped.items())
    assert len(result.explanation) == 1 + len(instance.lines)
    assert len(result.to_metadata()["plan"]) == sum(len(units) for units in by_line.values())  # type: ignore[arg-type]


@given(instances(sources=4, skus=4, lines=5))
def test_an_exact_plan_ships_exactly_what_was_ordered_from_stock_that_exists(instance: Instance) -> None:
    _check_conservation(instance)


@settings(max_examples=40, deadline=None)
@given(instances(sources=10, skus=12, lines=12))
def test_a_heuristic_plan_ships_exactly_what_was_ordered_from_stock_that_exists(instance: Instance) -> None:
    _check_conservation(instance)


@settings(deadline=None)
@given(instances(sources=4, skus=4, lines=5))
def test_the_exact_search_finds_the_best_of_all_combinations(instance: Instance) -> None:
    problem = instance.problem()
    options = [problem.options(item, exhaustive=True) for item in problem.items]
    if not all(options):
        return

    found = exact_search(problem, options, heuristic_seed(problem, options))

    _, best = brute_force(problem, options)
    assert problem.key(found) == best


def _greedy_shipments(instance: Instance) -> int:
    """Saleor's sorting-order allocation: each line from the first source that holds it, else spilled
    over the sources in the merchant's order."""
    merchant_order = sorted(instance.sources, key=lambda source: (source.priority, source.id))
    used: set[str] = set()
    for line in instance.lines:
        whole = [source for source in merchant_order if source.in_stock(line.sku) >= line.quantity]
        if whole:
            used.add(whole[0].id)
            continue
        wanted = line.quantity
        for source in merchant_order:
            if wanted and source.in_stock(line.sku):
                used.add(source.id)
                wanted -= min(wanted, source.in_stock(line.sku))
    return len(used)


@settings(max_examples=60, deadline=None)
@given(instances(sources=10, skus=14, lines=14, rated=True, distinct_skus=True))
def test_the_heuristic_never_ships_in_more_shipments_than_the_greedy_baseline(instance: Instance) -> None:
    if _short_of_stock(instance):
        return
    problem = instance.problem()
    options = [problem.options(item, exhaustive=False) for item in problem.items]

    planned = heuristic_search(problem, options)

    assert len(problem.shipments(planned)) <= _greedy_shipments(instance)


@settings(deadline=None)
@given(instances(sources=4, skus=4, lines=5, rated=True, distinct_skus=True))
def test_an_exact_plan_never_ships_in_more_shipments_than_the_greedy_baseline(instance: Instance) -> None:
    if _short_of_stock(instance):
        return

    result = instance.route()

    assert isinstance(result, Plan)
    assert len(result.shipments) <= _greedy_shipments(instance)

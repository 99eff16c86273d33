"""Choosing the sources for an order: the fewest shipments, then the lowest landed cost, then the
merchant's priority, all within the promised date.

The units of one SKU ship from a single source when any source holds them all; only otherwise are
they split, over a set of sources none of which could be left out, each filled in order of its unit
cost. A plan whose shipments all arrive by the promised date beats any that does not; when none
does, the plan whose last shipment arrives earliest is chosen and flagged late.

Landed cost per shipment is the origin's shipping quote for the promised level, plus a 3PL's
pick-and-pack fee per order and per unit, plus the goods: the supplier's price for a dropship
supplier, the in-house unit cost from the ledger for the merchant's own stock (in its warehouse or
at a 3PL; a SKU the ledger has no cost for counts at zero, which favours own stock).

Orders of at most ``EXACT_MAX_SKUS`` SKUs over at most ``EXACT_MAX_SOURCES`` sources are searched
exactly, by branch and bound: SKUs with the fewest options first, each partial plan bounded below by
its shipments so far (plus one when a remaining SKU needs a new source), its quoted shipments so far
(quotes never fall when lines are added: the ``Quoter`` contract) and the cheapest goods and unit
fees of the remaining SKUs. Larger orders get a bounded heuristic: the better of two seeds (each SKU
from its most preferred source that holds it; greedy set cover, the source shipping the most SKUs
first, ties to the cheaper), then at most ``IMPROVEMENT_ROUNDS`` rounds of local moves (one SKU to
another option; every SKU off one source onto the others used, or onto those and one unused source)
kept only when they improve the plan.
Both are deterministic: every tie ends on the sources' order (priority, then id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations, product

from app.domain.money import Money, currency_exponent
from app.domain.routing.model import (
    InvalidSource,
    OrderLine,
    OriginQuote,
    Quoter,
    Shipment,
    Source,
    SourceKind,
    Units,
)
from app.domain.routing.plan import Plan, PlannedShipment, Search, Unroutable

EXACT_MAX_SKUS = 8
EXACT_MAX_SOURCES = 6
IMPROVEMENT_ROUNDS = 4
ZERO = Decimal(0)

LineUnits = tuple[tuple[int, int], ...]
"""(line index, quantity) pairs in line order."""


@dataclass(frozen=True, slots=True)
class _Part:
    source: int
    units: LineUnits


@dataclass(frozen=True, slots=True)
class Option:
    """One way to ship a SKU's units: a single part, or a split over several sources."""

    parts: tuple[_Part, ...]
    sources: tuple[int, ...]
    variable: Decimal
    """Goods and per-unit fees: what the units cost wherever they ship with."""
    source_set: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Priced:
    quote: OriginQuote
    fees: Decimal
    goods: Decimal
    landed: Decimal


_UNPRICED = _Priced(OriginQuote(Money(ZERO, "USD"), date.min), ZERO, ZERO, ZERO)
"""What ``Problem.priced`` finds for a shipment it has not priced yet (None means no quote)."""


@dataclass(frozen=True, slots=True)
class _Item:
    sku: str
    lines: tuple[int, ...]
    quantity: int


Key = tuple[bool, date, int, Decimal, tuple[int, ...], tuple[tuple[int, ...], ...]]
"""Late, the latest arrival when late, shipments, landed cost, sources used, each SKU's sources."""


class Problem:
    """One order against its eligible sources, in the merchant's order (priority, then id)."""

    def __init__(
        self,
        lines: Sequence[OrderLine],
        sources: Sequence[Source],
        quoter: Quoter,
        *,
        promised_by: date,
        currency: str,
        unit_costs: Mapping[str, Money],
    ) -> None:
        self.lines = tuple(lines)
        self.sources = tuple(sources)
        self.quoter = quoter
        self.promised_by = promised_by
        self.currency = currency
        self.unit_costs = unit_costs
        by_sku: dict[str, list[int]] = {}
        for index, line in enumerate(self.lines):
            by_sku.setdefault(line.sku, []).append(index)
        self.items = tuple(
            _Item(sku, tuple(indexes), sum(self.lines[i].quantity for i in indexes)) for sku, indexes in by_sku.items()
        )
        self._priced: dict[tuple[int, LineUnits], _Priced | None] = {}
        # Pricing is asked for again and again with the same lines: each part of the answer is made once.
        self.units: dict[tuple[int, int], Units] = {}
        self._line_goods: dict[tuple[int, int], Decimal] = {}

    def goods_cost(self, source: int, sku: str) -> Decimal:
        origin = self.sources[source]
        if origin.kind is SourceKind.DROPSHIP:
            return origin.catalogue[sku].unit_price.amount
        own = self.unit_costs.get(sku)
        return ZERO if own is None else own.amount

    def unit_cost(self, source: int, sku: str) -> Decimal:
        fees = self.sources[source].fees
        return self.goods_cost(source, sku) + (ZERO if fees is None else fees.per_unit.amount)

    def _option(self, item: _Item, allocation: Sequence[tuple[int, int]]) -> Option:
        """The allocation's units handed to the item's lines in order."""
        parts = []
        lines = iter(item.lines)
        line = next(lines)
        left = self.lines[line].quantity
        variable = ZERO
        for source, quantity in allocation:
            variable += quantity * self.unit_cost(source, item.sku)
            units = []
            while quantity:
                if not left:
                    line = next(lines)
                    left = self.lines[line].quantity
                taken = min(quantity, left)
                units.append((line, taken))
                quantity -= taken
                left -= taken
            parts.append(_Part(source, tuple(units)))
        sources = tuple(sorted(source for source, _ in allocation))
        return Option(tuple(parts), sources, variable, frozenset(sources))

    def _split(self, item: _Item, sources: Iterable[int], stock: Sequence[int]) -> Option:
        """Fills the cheapest source first; with no source to spare each one gets at least a unit."""
        allocation = []
        wanted = item.quantity
        for source in sorted(sources, key=lambda s: (self.unit_cost(s, item.sku), s)):
            taken = min(wanted, stock[source])
            allocation.append((source, taken))
            wanted -= taken
        return self._option(item, allocation)

    def _minimal(self, item: _Item, covering: Sequence[int], stock: Sequence[int]) -> tuple[int, ...]:
        """Drops the least preferred sources the others can do without."""
        kept = list(covering)
        total = sum(stock[s] for s in kept)
        for source in reversed(covering):
            if total - stock[source] >= item.quantity:
                kept.remove(source)
                total -= stock[source]
        return tuple(kept)

    def _prefix(self, item: _Item, ordered: Iterable[int], stock: Sequence[int]) -> tuple[int, ...]:
        taken: list[int] = []
        total = 0
        for source in ordered:
            taken.append(source)
            total += stock[source]
            if total >= item.quantity:
                break
        return self._minimal(item, taken, stock)

    def options(self, item: _Item, *, exhaustive: bool) -> list[Option]:
        """Whole options in source order, else splits: every minimal covering set when ``exhaustive``,
        otherwise the one taking sources in the merchant's order and the one taking the cheapest first.
        The first option is the merchant's order either way. Empty when the sources lack the units."""
        stock = [source.in_stock(item.sku) for source in self.sources]
        whole = [s for s, units in enumerate(stock) if units >= item.quantity]
        if whole:
            # Every whole option ships the item's lines in full: one set of units for all of them.
            units = tuple((line, self.lines[line].quantity) for line in item.lines)
            return [
                Option((_Part(s, units),), (s,), ZERO + item.quantity * self.unit_cost(s, item.sku), frozenset((s,)))
                for s in whole
            ]
        holders = [s for s, units in enumerate(stock) if units]
        if sum(stock) < item.quantity:
            return []
        sets = [self._prefix(item, holders, stock)]
        if exhaustive:
            for size in range(2, len(holders) + 1):
                for chosen in combinations(holders, size):
                    covers = sum(stock[s] for s in chosen) >= item.quantity
                    if covers and self._minimal(item, chosen, stock) == chosen and chosen not in sets:
                        sets.append(chosen)
        else:
            cheapest_first = self._prefix(item, sorted(holders, key=lambda s: (self.unit_cost(s, item.sku), s)), stock)
            if cheapest_first not in sets:
                sets.append(cheapest_first)
        return [self._split(item, chosen, stock) for chosen in sets]

    def priced(self, source: int, units: LineUnits) -> _Priced | None:
        key = (source, units)
        priced = self._priced.get(key, _UNPRICED)
        if priced is _UNPRICED:
            priced = self._priced[key] = self._price(source, units)
        return priced

    def _price(self, source: int, units: LineUnits) -> _Priced | None:
        origin = self.sources[source]
        shipped = []
        for line_units in units:
            shipped_units = self.units.get(line_units)
            if shipped_units is None:
                index, quantity = line_units
                shipped_units = self.units[line_units] = Units(self.lines[index], quantity)
            shipped.append(shipped_units)
        quote = self.quoter(Shipment(origin, tuple(shipped)))
        if quote is None:
            return None
        if quote.shipping.currency != self.currency:
            raise InvalidSource(
                "quote.shipping", f"{origin.label} quoted {quote.shipping.currency}, not {self.currency}"
            )
        count = 0
        goods = ZERO
        for index, quantity in units:
            count += quantity
            unit_goods = self._line_goods.get((source, index))
            if unit_goods is None:
                unit_goods = self._line_goods[source, index] = self.goods_cost(source, self.lines[index].sku)
            goods += quantity * unit_goods
        fees = ZERO if origin.fees is None else origin.fees.per_order.amount + count * origin.fees.per_unit.amount
        return _Priced(quote, fees, goods, quote.shipping.amount + fees + goods)

    def shipments(self, choice: Sequence[Option]) -> dict[int, LineUnits]:
        gathered: dict[int, list[tuple[int, int]]] = {}
        for option in choice:
            for part in option.parts:
                gathered.setdefault(part.source, []).extend(part.units)
        return {source: tuple(sorted(units)) for source, units in sorted(gathered.items())}

    def key(self, choice: Sequence[Option]) -> Key | None:
        """How good a complete plan is, lower is better; None when an origin cannot quote its shipment."""
        total = ZERO
        latest = date.min
        shipments = self.shipments(choice)
        for source, units in shipments.items():
            priced = self.priced(source, units)
            if priced is None:
                return None
            total += priced.landed
            latest = max(latest, priced.quote.arrives)
        late = latest > self.promised_by
        return (
            late,
            latest if late else date.min,
            len(shipments),
            total,
            tuple(shipments),
            tuple(option.sources for option in choice),
        )


def _better(key: Key | None, than: Key | None) -> bool:
    return key is not None and (than is None or key < than)


def exact_search(problem: Problem, options: Sequence[Sequence[Option]], incumbent: Sequence[Option]) -> list[Option]:
    """The plan with the lowest key of all combinations of the SKUs' options, by branch and bound."""
    count = len(options)
    order = sorted(range(count), key=lambda item: (len(options[item]), item))
    cheapest_rest = [ZERO] * (count + 1)
    for depth in range(count - 1, -1, -1):
        cheapest_rest[depth] = cheapest_rest[depth + 1] + min(option.variable for option in options[order[depth]])
    # Per depth, each SKU still to choose as the sources of its single-source options and the source
    # sets of its splits: a SKU needs a new source unless one of these is among the sources used.
    rest_sources = [
        [
            (
                frozenset(o.sources[0] for o in options[order[rest]] if len(o.sources) == 1),
                [o.source_set for o in options[order[rest]] if len(o.sources) > 1],
            )
            for rest in range(depth, count)
        ]
        for depth in range(count + 1)
    ]
    best = list(incumbent)
    best_key = problem.key(best)
    chosen: list[Option] = list(incumbent)
    committed: dict[int, list[tuple[int, int]]] = {}

    def bound(depth: int) -> tuple[bool, date, int, Decimal] | None:
        """A lower bound on any completion's key; None when no completion can beat the best so far or
        be quoted at all."""
        needs_another = any(
            singles.isdisjoint(committed) and not any(split.issubset(committed) for split in splits)
            for singles, splits in rest_sources[depth]
        )
        shipments = len(committed) + needs_another
        if best_key is not None and not best_key[0] and shipments > best_key[2]:
            return None  # more shipments than a plan on time, late or not: no need to quote
        late = False
        latest = date.min
        cost = ZERO
        for source, units in committed.items():
            priced = problem.priced(source, tuple(sorted(units)))
            if priced is None:
                return None
            cost += priced.landed
            if priced.quote.arrives > problem.promised_by:
                late = True
                latest = max(latest, priced.quote.arrives)
        return late, latest, shipments, cost + cheapest_rest[depth]

    def visit(depth: int) -> None:
        nonlocal best, best_key
        item = order[depth]
        used = set(committed)
        for option in sorted(options[item], key=lambda o: (not o.source_set <= used, o.variable, o.sources)):
            chosen[item] = option
            for part in option.parts:
                committed.setdefault(part.source, []).extend(part.units)
            low = bound(depth + 1)
            if low is not None and depth + 1 == count:
                # A complete plan: its bound is its key's first half (``Problem.key``), nothing left to add.
                key = (*low, tuple(sorted(committed)), tuple([option.sources for option in chosen]))
                if _better(key, best_key):
                    best, best_key = list(chosen), key
            elif low is not None and (best_key is None or low <= best_key[:4]):
                visit(depth + 1)
            for part in option.parts:
                units = committed[part.source]
                del units[len(units) - len(part.units) :]
                if not units:
                    del committed[part.source]

    if count:
        visit(0)
    return best


def brute_force(problem: Problem, options: Sequence[Sequence[Option]]) -> tuple[list[Option], Key | None]:
    """Every combination tried: what the exact search must match, for tests on small orders."""
    best: list[Option] = []
    best_key: Key | None = None
    for choice in product(*options):
        key = problem.key(choice)
        if _better(key, best_key):
            best, best_key = list(choice), key
    return best, best_key


def _merchant_order_seed(options: Sequence[Sequence[Option]]) -> list[Option]:
    return [item_options[0] for item_options in options]


def _coverage_seed(problem: Problem, options: Sequence[Sequence[Option]]) -> list[Option]:
    chosen: list[Option | None] = [None] * len(options)
    whole = [{o.sources[0]: o for o in item_options if len(o.parts) == 1} for item_options in options]
    open_items = {item for item in range(len(options)) if whole[item]}
    used: set[int] = set()
    while open_items:
        candidates: dict[int, list[int]] = {}
        for item in sorted(open_items):
            for source in whole[item]:
                candidates.setdefault(source, []).append(item)
        source = min(
            candidates,
            key=lambda s: (-len(candidates[s]), sum(whole[i][s].variable for i in candidates[s]), s),
        )
        for item in candidates[source]:
            chosen[item] = whole[item][source]
        open_items -= set(candidates[source])
        used.add(source)
    for item, item_options in enumerate(options):
        if chosen[item] is None:
            chosen[item] = min(item_options, key=lambda o: (len(o.source_set - used), o.variable, o.sources))
    return [option for option in chosen if option is not None]


def _moved_off(
    current: Sequence[Option], options: Sequence[Sequence[Option]], closed: int, targets: set[int]
) -> list[Option] | None:
    """Every SKU shipping from ``closed`` moved to its cheapest option among ``targets``; None if one cannot."""
    candidate = list(current)
    for item, option in enumerate(current):
        if closed in option.source_set:
            elsewhere = [o for o in options[item] if o.source_set <= targets]
            if not elsewhere:
                return None
            candidate[item] = min(elsewhere, key=lambda o: (o.variable, o.sources))
    return candidate


def heuristic_search(problem: Problem, options: Sequence[Sequence[Option]]) -> list[Option]:
    current = heuristic_seed(problem, options)
    current_key = problem.key(current)
    for _ in range(IMPROVEMENT_ROUNDS):
        improved = False
        for item, item_options in enumerate(options):
            for option in item_options:
                if option is current[item]:
                    continue
                candidate = [*current[:item], option, *current[item + 1 :]]
                key = problem.key(candidate)
                if _better(key, current_key):
                    current, current_key, improved = candidate, key, True
        for closed in sorted(problem.shipments(current)):
            used = set(problem.shipments(current))
            if closed not in used:
                continue  # an earlier move in this round closed it already
            others = used - {closed}
            for replacement in [None, *(s for s in range(len(problem.sources)) if s not in used)]:
                targets = others if replacement is None else others | {replacement}
                moved = _moved_off(current, options, closed, targets)
                key = None if moved is None else problem.key(moved)
                if moved is not None and _better(key, current_key):
                    current, current_key, improved = moved, key, True
                    break
        if not improved:
            break
    return current


def _check(
    lines: Sequence[OrderLine],
    sources: Sequence[Source],
    excluded: Mapping[str, str],
    currency: str,
    unit_costs: Mapping[str, Money],
) -> None:
    if not lines:
        raise InvalidSource("lines", "an order to route needs at least one line")
    for label, ids in (("line", [line.id for line in lines]), ("source", [source.id for source in sources])):
        duplicates = sorted(i for i, count in Counter(ids).items() if count > 1)
        if duplicates:
            raise InvalidSource(f"{label}s", f"ids must be unique, repeated: {', '.join(duplicates)}")
    unknown = sorted(set(excluded) - {source.id for source in sources})
    if unknown:
        raise InvalidSource("excluded", f"no such source: {', '.join(unknown)}")
    skus = {line.sku for line in lines}  # a catalogue or ledger may be long: only the order's SKUs matter
    for source in sources:
        currencies = {source.catalogue[sku].unit_price.currency for sku in skus if sku in source.catalogue}
        if source.fees is not None:
            currencies |= {source.fees.per_order.currency, source.fees.per_unit.currency}
        if currencies - {currency}:
            raise InvalidSource(f"source {source.id}", f"prices and fees must be in {currency}")
    if any(sku in unit_costs and unit_costs[sku].currency != currency for sku in skus):
        raise InvalidSource("unit_costs", f"in-house unit costs must be in {currency}")


def route(
    lines: Sequence[OrderLine],
    sources: Sequence[Source],
    quoter: Quoter,
    *,
    promised_by: date,
    planned_on: date,
    currency: str,
    unit_costs: Mapping[str, Money] | None = None,
    excluded: Mapping[str, str] | None = None,
) -> Plan | Unroutable:
    """Plans the order over ``sources`` but those ``excluded`` (source id → why: a partner that rejected
    the hand-off or did not answer); the explanation counts days from ``planned_on``."""
    excluded = excluded or {}
    costs = unit_costs or {}
    _check(lines, sources, excluded, currency, costs)
    merchant_order = sorted(sources, key=lambda source: (source.priority, source.id))
    eligible = [source for source in merchant_order if source.id not in excluded]
    problem = Problem(lines, eligible, quoter, promised_by=promised_by, currency=currency, unit_costs=costs)
    exact = len(problem.items) <= EXACT_MAX_SKUS and len(eligible) <= EXACT_MAX_SOURCES
    options = [problem.options(item, exhaustive=exact) for item in problem.items]
    explain = _Explainer(problem, merchant_order, excluded, planned_on)
    short = [item for item, item_options in zip(problem.items, options, strict=True) if not item_options]
    if short:
        summary = "no plan: " + "; ".join(
            f"{item.sku}: {sum(s.in_stock(item.sku) for s in eligible)} of {item.quantity} in stock across the sources"
            for item in short
        )
        return Unroutable((summary, *explain.exclusions(), *explain.lines({})))
    if exact:
        choice = exact_search(problem, options, heuristic_seed(problem, options))
    else:
        choice = heuristic_search(problem, options)
    if problem.key(choice) is None:
        summary = "no plan: no combination of sources can ship every line to the destination"
        return Unroutable((summary, *explain.exclusions(), *explain.lines({})))
    shipped = problem.shipments(choice)
    shipments = tuple(_planned(problem, source, units, currency) for source, units in shipped.items())
    plan = Plan(problem.lines, shipments, promised_by, Search.EXACT if exact else Search.HEURISTIC, ())
    chosen = {(source, line): qty for source, units in shipped.items() for line, qty in units}
    explanation = (explain.summary(plan, len(problem.items)), *explain.exclusions(), *explain.lines(chosen))
    return replace(plan, explanation=explanation)


def price_allocation(
    lines: Sequence[OrderLine],
    sources: Sequence[Source],
    quoter: Quoter,
    allocation: Mapping[str, Sequence[tuple[str, int]]],
    *,
    promised_by: date,
    currency: str,
    unit_costs: Mapping[str, Money] | None = None,
) -> Plan | str:
    """Another allocation (line id → source id and units, as Saleor allocated the order) priced and dated
    as plans are, to compare with one; or why it cannot be: units not allocated, an unknown source, a
    shipment with no quote."""
    costs = unit_costs or {}
    _check(lines, sources, {}, currency, costs)
    merchant_order = sorted(sources, key=lambda source: (source.priority, source.id))
    problem = Problem(lines, merchant_order, quoter, promised_by=promised_by, currency=currency, unit_costs=costs)
    index = {source.id: i for i, source in enumerate(merchant_order)}
    gathered: dict[int, list[tuple[int, int]]] = {}
    for line_index, line in enumerate(lines):
        parts = allocation.get(line.id, ())
        allocated = sum(quantity for _, quantity in parts)
        if allocated != line.quantity:
            return f"{line.id} ({line.sku} × {line.quantity}): {allocated} allocated"
        for source_id, quantity in parts:
            if not quantity:
                continue
            if source_id not in index:
                return f"{line.id} ({line.sku}): allocated to {source_id}, which is not a source"
            gathered.setdefault(index[source_id], []).append((line_index, quantity))
    shipments = []
    for source, units in sorted(gathered.items()):
        if problem.priced(source, tuple(sorted(units))) is None:
            # The caller's quoter knows why: no rate to the destination, or (a supplier's feed) no stock.
            return f"{merchant_order[source].label}: its shipment has no quote"
        shipments.append(_planned(problem, source, tuple(sorted(units)), currency))
    return Plan(problem.lines, tuple(shipments), promised_by, Search.NONE, ())


def heuristic_seed(problem: Problem, options: Sequence[Sequence[Option]]) -> list[Option]:
    """The better of the heuristic's two seeds, the exact search's first bound."""
    merchant, coverage = _merchant_order_seed(options), _coverage_seed(problem, options)
    return coverage if _better(problem.key(coverage), problem.key(merchant)) else merchant


def _planned(problem: Problem, source: int, units: LineUnits, currency: str) -> PlannedShipment:
    priced = problem.priced(source, units)
    assert priced is not None, "a chosen plan's shipments are all quoted"
    return PlannedShipment(
        problem.sources[source],
        tuple(problem.units[line_units] for line_units in units),  # all priced, so all made
        priced.quote,
        Money(priced.fees, currency),
        Money(priced.goods, currency),
    )


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


class _Explainer:
    """Per line, every source's fate in the merchant's order: left out, short of stock, no rate, or what
    shipping the line alone from there would take and cost; the sources chosen say so."""

    def __init__(
        self, problem: Problem, merchant_order: Sequence[Source], excluded: Mapping[str, str], planned_on: date
    ) -> None:
        self.problem = problem
        self.merchant_order = merchant_order
        self.excluded = excluded
        self.planned_on = planned_on
        index = {source.id: i for i, source in enumerate(problem.sources)}
        self.origins = [(origin, origin.label, index.get(origin.id)) for origin in merchant_order]
        """Each source in the merchant's order with its label and its index in the problem (None when left out)."""
        self.cent = Decimal(1).scaleb(-currency_exponent(problem.currency))  # Money.quantized's step

    def _money(self, amount: Decimal) -> str:
        return f"{amount.quantize(self.cent, rounding=ROUND_HALF_UP)} {self.problem.currency}"

    def summary(self, plan: Plan, skus: int) -> str:
        count = len(plan.shipments)
        names = ", ".join(shipment.source.label for shipment in plan.shipments)
        head = (
            f"{count} shipment{'s' if count > 1 else ''} ({names}), landed cost {self._money(plan.landed_cost.amount)}"
        )
        if plan.meets_promise:
            timing = f"all arrive by {plan.latest_arrival}, within the promise of {plan.promised_by}"
        else:
            timing = (
                f"LATE: no plan arrives by the promised {plan.promised_by}; "
                f"this one, the earliest, by {plan.latest_arrival}"
            )
        search = (
            "exact search"
            if plan.search is Search.EXACT
            else f"heuristic search (more than {EXACT_MAX_SKUS} SKUs or {EXACT_MAX_SOURCES} sources)"
        )
        sources = len(self.problem.sources)
        rules = "fewest shipments, then landed cost, then priority"
        return f"{head}; {timing}; {rules}; {search}, {skus} SKUs × {sources} sources"

    def exclusions(self) -> list[str]:
        return [
            f"re-planned without {source.label}: {self.excluded[source.id]}"
            for source in self.merchant_order
            if source.id in self.excluded
        ]

    def lines(self, chosen: Mapping[tuple[int, int], int]) -> list[str]:
        return [self._line(index, line, chosen) for index, line in enumerate(self.problem.lines)]

    def _line(self, index: int, line: OrderLine, chosen: Mapping[tuple[int, int], int]) -> str:
        fates = []
        for origin, label, source in self.origins:
            if source is None:
                fates.append(f"{label}: left out ({self.excluded[origin.id]})")
                continue
            stock = origin.stock.get(line.sku, 0)
            taken = chosen.get((source, index), 0)
            if not taken and stock < line.quantity:
                fates.append(
                    f"{label}: {stock} in stock" if not stock else f"{label}: {stock} of {line.quantity} in stock"
                )
                continue
            priced = self.problem.priced(source, ((index, taken or line.quantity),))
            if priced is None:
                fates.append(f"{label}: no rate to the destination")
            else:
                arrives = priced.quote.arrives
                days = _days((arrives - self.planned_on).days)
                late = ", after the promise" if arrives > self.problem.promised_by else ""
                fates.append(f"{label}: {days}, {self._money(priced.landed)}{late}")
            if taken:
                fates.append("chosen" if taken == line.quantity else f"chosen for {taken} of {line.quantity}")
        return f"{line.id} ({line.sku} × {line.quantity}): " + "; ".join(fates)

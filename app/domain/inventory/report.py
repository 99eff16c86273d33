"""Reports over a ledger: valuation as of a date (and under every method side by side),
COGS and margin by period, inventory value over time, and a SKU's move history."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from app.domain.inventory.method import Method
from app.domain.inventory.move import Move, MoveKind, sort_key
from app.domain.inventory.pool import ZERO, CostPool, empty_pool
from app.domain.inventory.posting import Posting
from app.domain.inventory.valuation import post_linked

PoolKey = tuple[str, str]


def post_ledger(
    moves: Iterable[Move],
    method: Method,
    *,
    until: datetime | None = None,
    what_if: bool = False,
) -> Iterator[tuple[CostPool, Posting]]:
    """Value a whole ledger (any number of pools) from empty pools under ``method``.

    Yields each pool after each move, in the deterministic order, for moves at or before
    ``until``. Customer returns and transfer in-legs whose issue or out-leg is in ``moves``
    take their cost from that move's posting in this run (corrected, less earlier returns),
    so a what-if method values them consistently. ``what_if`` ignores revaluation moves: the
    history is valued as if ``method`` had always been used.
    """
    ordered = sorted(
        (
            move
            for move in moves
            if (until is None or move.at <= until) and not (what_if and move.kind is MoveKind.REVALUATION)
        ),
        key=sort_key,
    )
    yield from post_linked(ordered, {}, lambda move: empty_pool(move.sku, move.warehouse, move.currency, method))


@dataclass(frozen=True, slots=True)
class StockValue:
    sku: str
    warehouse: str
    currency: str
    method: Method
    quantity: int
    value: Decimal
    unit_cost: Decimal


def value_as_of(moves: Iterable[Move], method: Method, at: datetime) -> tuple[StockValue, ...]:
    """Stock by warehouse and SKU at ``at`` (inclusive) under ``method``, revaluation moves
    honoured; pools with neither stock nor value are left out."""
    pools: dict[PoolKey, CostPool] = {}
    for pool, _ in post_ledger(moves, method, until=at):
        pools[pool.sku, pool.warehouse] = pool
    return tuple(
        StockValue(pool.sku, pool.warehouse, pool.currency, pool.method, pool.quantity, pool.value, pool.average_cost)
        for pool in sorted(pools.values(), key=lambda pool: (pool.warehouse, pool.sku))
        if pool.quantity or pool.value
    )


@dataclass(frozen=True, slots=True)
class MethodComparison:
    """One pool's stock valued, and its COGS to date, under each method on the same history."""

    sku: str
    warehouse: str
    currency: str
    quantity: int
    value: Mapping[Method, Decimal]
    cogs: Mapping[Method, Decimal]


def compare_methods(
    moves: Iterable[Move], at: datetime | None = None, methods: Iterable[Method] = tuple(Method)
) -> tuple[MethodComparison, ...]:
    """The same history valued under each method (what-if: revaluation moves ignored)."""
    history = list(moves)
    chosen = tuple(methods)
    quantity: dict[PoolKey, tuple[str, int]] = {}
    value: dict[PoolKey, dict[Method, Decimal]] = {}
    cogs: dict[PoolKey, dict[Method, Decimal]] = {}
    for method in chosen:
        for pool, posting in post_ledger(history, method, until=at, what_if=True):
            key = (pool.sku, pool.warehouse)
            quantity[key] = (pool.currency, pool.quantity)
            value.setdefault(key, {})[method] = pool.value
            pool_cogs = cogs.setdefault(key, {})
            pool_cogs[method] = pool_cogs.get(method, ZERO) + posting.cogs
    return tuple(
        MethodComparison(sku, warehouse, *quantity[sku, warehouse], value[sku, warehouse], cogs[sku, warehouse])
        for warehouse, sku in sorted((warehouse, sku) for sku, warehouse in quantity)
    )


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


def period_start(at: datetime, period: Period, tz: tzinfo = UTC) -> date:
    """First day of the period containing ``at`` in zone ``tz`` (weeks start on Monday)."""
    day = at.astimezone(tz).date()
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    if period is Period.QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


def next_period(start: date, period: Period) -> date:
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
    month = start.month - 1 + months
    year = start.year + month // 12
    return date(year, month % 12 + 1, min(start.day, calendar.monthrange(year, month % 12 + 1)[1]))


def periods(first: date, last: date, period: Period) -> Iterator[date]:
    """The starts of every period from the one starting ``first`` to the one starting ``last``."""
    current = first
    while current <= last:
        yield current
        current = next_period(current, period)


@dataclass(frozen=True, slots=True)
class PeriodMargin:
    start: date
    revenue: Decimal
    cogs: Decimal
    gross_margin: Decimal
    margin_pct: Decimal | None


def margin_pct(revenue: Decimal, cogs: Decimal) -> Decimal | None:
    """``(revenue - cogs) / revenue * 100`` to two places, half up; ``None`` without revenue."""
    if not revenue:
        return None
    return ((revenue - cogs) / revenue * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def cogs_by_period(
    postings: Iterable[Posting],
    sales: Iterable[tuple[datetime, Decimal]] = (),
    period: Period = Period.MONTH,
    tz: tzinfo = UTC,
) -> tuple[PeriodMargin, ...]:
    """COGS (issues, corrections, returns, landed cost on sold units) and gross margin per
    period, every period from the first to the last with activity; ``sales`` are (time, net
    sales) pairs."""
    cogs: dict[date, Decimal] = {}
    revenue: dict[date, Decimal] = {}
    for posting in postings:
        if posting.cogs:
            start = period_start(posting.move.at, period, tz)
            cogs[start] = cogs.get(start, ZERO) + posting.cogs
    for at, amount in sales:
        start = period_start(at, period, tz)
        revenue[start] = revenue.get(start, ZERO) + amount
    starts = cogs.keys() | revenue.keys()
    if not starts:
        return ()
    rows = []
    for start in periods(min(starts), max(starts), period):
        period_revenue, period_cogs = revenue.get(start, ZERO), cogs.get(start, ZERO)
        rows.append(
            PeriodMargin(
                start,
                period_revenue,
                period_cogs,
                period_revenue - period_cogs,
                margin_pct(period_revenue, period_cogs),
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class ValuePoint:
    """Stock and its value at the end of the period starting ``start``."""

    start: date
    quantity: int
    value: Decimal


def value_over_time(
    postings: Iterable[Posting], period: Period = Period.MONTH, tz: tzinfo = UTC
) -> tuple[ValuePoint, ...]:
    """Inventory value at the end of each period, summed over pools, from the postings' balances."""
    balances: dict[PoolKey, tuple[int, Decimal]] = {}
    ends: dict[date, tuple[int, Decimal]] = {}
    total_quantity, total_value = 0, ZERO
    for posting in sorted(postings, key=lambda posting: sort_key(posting.move)):
        move = posting.move
        key = (move.sku, move.warehouse)
        quantity, value = balances.get(key, (0, ZERO))
        total_quantity += posting.balance_quantity - quantity
        total_value += posting.balance_value - value
        balances[key] = (posting.balance_quantity, posting.balance_value)
        ends[period_start(move.at, period, tz)] = (total_quantity, total_value)
    if not ends:
        return ()
    points = []
    last = (0, ZERO)
    for start in periods(min(ends), max(ends), period):
        last = ends.get(start, last)
        points.append(ValuePoint(start, *last))
    return tuple(points)


def move_history(postings: Iterable[Posting], sku: str, warehouse: str | None = None) -> tuple[Posting, ...]:
    """A SKU's postings (in one warehouse, or all), in ledger order, with running balances."""
    return tuple(
        sorted(
            (
                posting
                for posting in postings
                if posting.move.sku == sku and (warehouse is None or posting.move.warehouse == warehouse)
            ),
            key=lambda posting: sort_key(posting.move),
        )
    )

"""The valuation reports over the stored ledger: stock as of a date, the methods side by side,
COGS and gross margin by period, inventory value over time and a SKU's move history.

Each report reads what the ledger already holds rather than valuing it again: stock as of a date
is each pool's running balance after its latest move; margin and value over time sum the
postings' COGS and value changes (in the database, per quarter hour) and bucket them with the
domain's period helpers. Only the comparison of methods replays moves (``compare_methods``).
Currencies stay apart: a store may cost pools in several, and their amounts are never added.
Nothing is rounded here; views round to the currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Protocol

from app.domain.ids import SaleorApiUrl
from app.domain.inventory import (
    Method,
    MethodComparison,
    Move,
    Period,
    PeriodMargin,
    Posting,
    StockValue,
    ValuePoint,
    compare_methods,
    margin_pct,
    move_history,
    period_start,
    periods,
)
from app.services.ports import SaleorName

ZERO = Decimal(0)
# The slots the ledger's activity is summed in before it is bucketed into periods. Every time
# zone's offset is a whole number of quarter hours, so each slot lies within one local day.
ACTIVITY_GRAIN = timedelta(minutes=15)
# compare_methods replays every move it is given, three times: with the loading, about 75 µs a
# move (0.75 s for 10,000). Beyond this the page asks for a SKU or a warehouse instead.
METHODS_MAX_MOVES = 10_000


@dataclass(frozen=True, slots=True)
class SlotSales:
    """The COGS and net sales of one currency in one ``ACTIVITY_GRAIN`` slot."""

    start: datetime
    currency: str
    cogs: Decimal
    revenue: Decimal  # of issues less customer returns, where the move knows its price


@dataclass(frozen=True, slots=True)
class SlotStock:
    """The change of stock and of its value in one currency in one ``ACTIVITY_GRAIN`` slot."""

    start: datetime
    currency: str
    quantity: int
    value: Decimal


@dataclass(frozen=True, slots=True)
class LedgerLine:
    posting: Posting
    order_id: str | None  # the Saleor order of an issue or customer return


class InventoryReports(Protocol):
    """Read queries over the stored ledger (``SqlInventoryReports`` implements it)."""

    async def stock_as_of(self, url: SaleorApiUrl, at: datetime) -> list[StockValue]:
        """Each pool's balance after its latest move at or before ``at``; empty pools left out."""

    async def count_moves(
        self, url: SaleorApiUrl, at: datetime, *, sku: str | None = None, warehouse: str | None = None
    ) -> int: ...

    async def moves_until(
        self, url: SaleorApiUrl, at: datetime, *, sku: str | None = None, warehouse: str | None = None
    ) -> list[Move]: ...

    async def sales_by_slot(self, url: SaleorApiUrl) -> list[SlotSales]:
        """The postings' COGS and the moves' net sales per ``ACTIVITY_GRAIN`` slot, in time order."""

    async def stock_by_slot(self, url: SaleorApiUrl) -> list[SlotStock]:
        """The postings' stock and value changes per ``ACTIVITY_GRAIN`` slot, in time order."""

    async def ledger(
        self, url: SaleorApiUrl, *, sku: str, warehouse: str | None = None, latest: int | None = None
    ) -> tuple[list[LedgerLine], int]:
        """A SKU's postings in ledger order (only the ``latest`` ones, when given) and how many it has."""

    async def warehouses(self, url: SaleorApiUrl) -> list[str]: ...

    async def names(self, url: SaleorApiUrl, ids: Collection[str]) -> dict[str, SaleorName]:
        """What the store calls these warehouses and SKU-less variants, as far as the app has learned."""


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The last instant of ``day`` in ``zone``, in UTC: stock "as of a date" includes the whole day."""
    midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return midnight.astimezone(UTC) - timedelta(microseconds=1)  # datetimes resolve microseconds


def _sum_by_currency(amounts: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for currency, amount in amounts:
        totals[currency] = totals.get(currency, ZERO) + amount
    return dict(sorted(totals.items()))


@dataclass(frozen=True, slots=True)
class WarehouseStock:
    warehouse: str
    rows: tuple[StockValue, ...]
    totals: Mapping[str, Decimal]  # value per currency


@dataclass(frozen=True, slots=True)
class StockValuation:
    at: datetime
    warehouses: tuple[WarehouseStock, ...]
    totals: Mapping[str, Decimal]  # value per currency, every warehouse
    names: Mapping[str, SaleorName]  # by warehouse id or SKU-less variant id, where known


async def stock_valuation(reports: InventoryReports, url: SaleorApiUrl, at: datetime) -> StockValuation:
    """Stock by warehouse and SKU at ``at``, from the stored running balances (no replay)."""
    rows = await reports.stock_as_of(url, at)
    by_warehouse: dict[str, list[StockValue]] = defaultdict(list)
    for row in rows:
        by_warehouse[row.warehouse].append(row)
    warehouses = tuple(
        WarehouseStock(name, tuple(stock), _sum_by_currency((row.currency, row.value) for row in stock))
        for name, stock in sorted(by_warehouse.items())
    )
    names = await reports.names(url, {key for row in rows for key in (row.warehouse, row.sku)})
    return StockValuation(at, warehouses, _sum_by_currency((row.currency, row.value) for row in rows), names)


@dataclass(frozen=True, slots=True)
class MethodTotal:
    value: Decimal
    cogs: Decimal


@dataclass(frozen=True, slots=True)
class MethodsReport:
    at: datetime
    moves: int  # how many moves the history has (each valued under every method, unless too many)
    valued: bool  # False when there were more than METHODS_MAX_MOVES: nothing was replayed
    rows: tuple[MethodComparison, ...]
    totals: Mapping[str, Mapping[Method, MethodTotal]]  # per currency, per method
    names: Mapping[str, SaleorName]  # by warehouse id or SKU-less variant id, where known


async def methods_side_by_side(
    reports: InventoryReports,
    url: SaleorApiUrl,
    at: datetime,
    *,
    sku: str | None = None,
    warehouse: str | None = None,
) -> MethodsReport:
    """FIFO, LIFO and AVCO on the same history up to ``at``, as if each had always been used."""
    count = await reports.count_moves(url, at, sku=sku, warehouse=warehouse)
    if count > METHODS_MAX_MOVES:
        return MethodsReport(at, count, False, (), {}, {})
    rows = compare_methods(await reports.moves_until(url, at, sku=sku, warehouse=warehouse))
    totals: dict[str, dict[Method, MethodTotal]] = {}
    for row in rows:
        per_method = totals.setdefault(row.currency, {})
        for method in Method:
            before = per_method.get(method, MethodTotal(ZERO, ZERO))
            per_method[method] = MethodTotal(before.value + row.value[method], before.cogs + row.cogs[method])
    names = await reports.names(url, {key for row in rows for key in (row.warehouse, row.sku)})
    return MethodsReport(at, count, True, rows, dict(sorted(totals.items())), names)


@dataclass(frozen=True, slots=True)
class CurrencyMargins:
    currency: str
    rows: tuple[PeriodMargin, ...]
    total: PeriodMargin  # every period together; its start is the first period's


async def margin_by_period(
    reports: InventoryReports, url: SaleorApiUrl, period: Period, zone: tzinfo
) -> tuple[CurrencyMargins, ...]:
    """Revenue, COGS (issues, their corrections, returns, landed cost on sold units) and gross
    margin per period in ``zone``, every period from the first to the last with either; the
    figures ``cogs_by_period`` gives over the same postings, one table per currency."""
    sums: dict[str, dict[date, tuple[Decimal, Decimal]]] = defaultdict(dict)
    for slot in await reports.sales_by_slot(url):
        if slot.cogs or slot.revenue:
            start = period_start(slot.start, period, zone)
            revenue, cogs = sums[slot.currency].get(start, (ZERO, ZERO))
            sums[slot.currency][start] = (revenue + slot.revenue, cogs + slot.cogs)
    tables = []
    for currency, by_start in sorted(sums.items()):
        starts = list(periods(min(by_start), max(by_start), period))
        rows = tuple(_margin(start, *by_start.get(start, (ZERO, ZERO))) for start in starts)
        revenue, cogs = sum((row.revenue for row in rows), ZERO), sum((row.cogs for row in rows), ZERO)
        tables.append(CurrencyMargins(currency, rows, _margin(starts[0], revenue, cogs)))
    return tuple(tables)


def _margin(start: date, revenue: Decimal, cogs: Decimal) -> PeriodMargin:
    return PeriodMargin(start, revenue, cogs, revenue - cogs, margin_pct(revenue, cogs))


@dataclass(frozen=True, slots=True)
class CurrencyValues:
    currency: str
    points: tuple[ValuePoint, ...]


async def value_by_period(
    reports: InventoryReports, url: SaleorApiUrl, period: Period, zone: tzinfo
) -> tuple[CurrencyValues, ...]:
    """Stock and its value at the end of each period in ``zone``, quiet periods carried over:
    the running balances ``value_over_time`` reads, as the sum of the postings' changes (every
    pool starts empty, so its balance is the sum of its postings)."""
    ends: dict[str, dict[date, tuple[int, Decimal]]] = defaultdict(dict)
    running: dict[str, tuple[int, Decimal]] = {}
    for slot in await reports.stock_by_slot(url):
        quantity, value = running.get(slot.currency, (0, ZERO))
        running[slot.currency] = balance = (quantity + slot.quantity, value + slot.value)
        ends[slot.currency][period_start(slot.start, period, zone)] = balance
    series = []
    for currency, by_start in sorted(ends.items()):
        points, last = [], (0, ZERO)
        for start in periods(min(by_start), max(by_start), period):
            last = by_start.get(start, last)
            points.append(ValuePoint(start, *last))
        series.append(CurrencyValues(currency, tuple(points)))
    return tuple(series)


@dataclass(frozen=True, slots=True)
class SkuHistory:
    sku: str
    warehouse: str | None
    lines: tuple[LedgerLine, ...]  # in ledger order
    total: int  # moves the SKU has; more than ``lines`` when only the latest were asked for
    names: Mapping[str, SaleorName]  # by warehouse id or SKU-less variant id, where known


async def sku_history(
    reports: InventoryReports, url: SaleorApiUrl, sku: str, warehouse: str | None = None, *, latest: int | None = None
) -> SkuHistory:
    """A SKU's moves in ledger order with their postings (running balance, layers, corrections)."""
    lines, total = await reports.ledger(url, sku=sku, warehouse=warehouse, latest=latest)
    order_of = {line.posting.move.id: line.order_id for line in lines}
    ordered = move_history((line.posting for line in lines), sku, warehouse)
    names = await reports.names(url, {sku, *(line.posting.move.warehouse for line in lines)})
    return SkuHistory(
        sku, warehouse, tuple(LedgerLine(posting, order_of[posting.move.id]) for posting in ordered), total, names
    )

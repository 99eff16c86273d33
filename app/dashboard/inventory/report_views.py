"""Pure builders for the cost and valuation pages and their CSV files: no I/O.

Amounts are rounded to their currency (half up, ``app.domain.money``) here and only here, and a
rounded zero never shows a minus sign. Pages format for the viewer's locale; CSV files carry plain
numbers (``1234.50``) that spreadsheets and scripts read the same everywhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_percent

from app.dashboard.view_models import local_time
from app.domain.inventory import (
    UNIT_COST_PLACES,
    Correction,
    LayerTake,
    Method,
    MoveKind,
    Period,
    PeriodMargin,
    Posting,
    ValuePoint,
    unit_cost_of,
    unit_cost_text,
)
from app.domain.money import Money
from app.services.inventory_reports import LedgerLine, MethodsReport, StockValuation
from app.services.ports import SaleorName

_UNIT_COST_STEP = Decimal(1).scaleb(-UNIT_COST_PLACES)
METHODS = tuple(Method)
KIND_LABELS = {
    MoveKind.RECEIPT: "Receipt",
    MoveKind.ISSUE: "Sale",
    MoveKind.CUSTOMER_RETURN: "Customer return",
    MoveKind.RETURN_TO_SUPPLIER: "Return to supplier",
    MoveKind.ADJUSTMENT_IN: "Count gain",
    MoveKind.ADJUSTMENT_OUT: "Write-off",
    MoveKind.TRANSFER_OUT: "Transfer out",
    MoveKind.TRANSFER_IN: "Transfer in",
    MoveKind.LANDED_COST: "Landed cost",
    MoveKind.REVALUATION: "Method change",
}


def rounded(amount: Decimal, currency: str) -> Decimal:
    """``amount`` half up to the currency's minor unit, never ``-0.00``."""
    quantized = Money(amount, currency).quantized().amount
    return quantized if quantized else abs(quantized)


def money_text(amount: Decimal, currency: str) -> str:
    """For CSV: ``1234.50``, ``112`` in JPY."""
    return format(rounded(amount, currency), "f")


def money(amount: Decimal, currency: str, locale: Locale) -> str:
    """For pages: ``$1,234.50``, ``1 234,50 €``; babel only formats the already rounded amount."""
    return format_currency(rounded(amount, currency), currency, locale=locale, decimal_quantization=False)


def _unit_cost(cost: Decimal) -> Decimal:
    quantized = cost.quantize(_UNIT_COST_STEP, ROUND_HALF_UP)
    return quantized if quantized else abs(quantized)


def unit_cost(cost: Decimal, currency: str, locale: Locale) -> str:
    """For pages, with its currency like every amount: the currency's places at least, six at most
    (``$10.00``, ``$11.333333``); babel drops the trailing zeros beyond the currency's places."""
    return format_currency(_unit_cost(cost), currency, locale=locale, decimal_quantization=False)


def percent(value: Decimal | None, locale: Locale) -> str:
    """Margin % as the domain gives it (two places); a dash without revenue."""
    return "–" if value is None else format_percent(value / 100, format="#,##0.00%", locale=locale)


def period_label(start: date, period: Period, locale: Locale) -> str:
    if period is Period.DAY:
        return format_date(start, format="medium", locale=locale)
    if period is Period.WEEK:
        return "Week of " + format_date(start, format="medium", locale=locale)
    if period is Period.MONTH:
        return format_date(start, format="MMM y", locale=locale)
    if period is Period.QUARTER:
        return format_date(start, format="QQQ y", locale=locale)
    return str(start.year)


def as_of_text(day: date | None, zone: ZoneInfo, locale: Locale) -> str:
    if day is None:
        return f"As of now ({zone.key})"
    return f"As of the end of {format_date(day, format='long', locale=locale)} ({zone.key})"


def layers_text(takes: Iterable[LayerTake], currency: str) -> str:
    """``8 from R1 @ 10.00; 2 beyond stock @ 16.00``."""
    return "; ".join(
        f"{take.quantity} {'from ' + take.receipt_id if take.receipt_id else 'beyond stock'} "
        f"@ {unit_cost_text(take.unit_cost, currency)}"
        for take in takes
    )


def corrections_text(corrections: Iterable[Correction], currency: str) -> str:
    """``2 of M7 now from R3 @ 12.00 (was 10.00): 4.00``."""
    return "; ".join(
        f"{c.quantity} of {c.move_id} now from {c.receipt_id} @ {unit_cost_text(c.unit_cost, currency)} "
        f"(was {unit_cost_text(c.provisional_unit_cost, currency)}): {money_text(c.amount, currency)}"
        for c in corrections
    )


def _posting_unit_cost(posting: Posting) -> Decimal | None:
    """What each unit was valued at: the value moved per unit, or the move's own cost."""
    if posting.quantity:
        return unit_cost_of(abs(posting.value), abs(posting.quantity))
    return posting.move.unit_cost


# Pages


@dataclass(frozen=True, slots=True)
class StockRow:
    sku: str
    item: str  # "Product / Variant" when the variant has no SKU
    method: str
    quantity: int
    unit_cost: str
    value: str


def name_of(names: Mapping[str, SaleorName], saleor_id: str) -> str:
    """What the store calls a warehouse or a variant; its Saleor id until the app has learned that."""
    known = names.get(saleor_id)
    return known.name if known else saleor_id


def _slug_of(names: Mapping[str, SaleorName], saleor_id: str) -> str:
    known = names.get(saleor_id)
    return known.slug or "" if known else ""


def _item_of(names: Mapping[str, SaleorName], sku: str) -> str:
    """ "Product / Variant" for a variant without a SKU (the ledger keys it by its id); else empty."""
    known = names.get(sku)
    return known.name if known else ""


def warehouse_options(warehouses: Sequence[str], names: Mapping[str, SaleorName]) -> list[tuple[str, str]]:
    """(id, name) for a warehouse filter, by name."""
    return sorted(((warehouse, name_of(names, warehouse)) for warehouse in warehouses), key=lambda pair: pair[1])


@dataclass(frozen=True, slots=True)
class WarehouseTable:
    warehouse: str  # its Saleor id
    name: str
    rows: list[StockRow]
    totals: list[str]  # one per currency


def valuation_tables(valuation: StockValuation, locale: Locale) -> list[WarehouseTable]:
    names = valuation.names
    return [
        WarehouseTable(
            warehouse=stock.warehouse,
            name=name_of(names, stock.warehouse),
            rows=[
                StockRow(
                    sku=row.sku,
                    item=_item_of(names, row.sku),
                    method=row.method.value.upper(),
                    quantity=row.quantity,
                    unit_cost=unit_cost(row.unit_cost, row.currency, locale),
                    value=money(row.value, row.currency, locale),
                )
                for row in stock.rows
            ],
            totals=[money(value, currency, locale) for currency, value in stock.totals.items()],
        )
        for stock in valuation.warehouses
    ]


@dataclass(frozen=True, slots=True)
class MethodsRow:
    sku: str
    item: str  # "Product / Variant" when the variant has no SKU
    warehouse: str  # its name, once learned
    quantity: int
    values: list[str]  # per method, in METHODS order
    cogs: list[str]


def methods_rows(report: MethodsReport, locale: Locale) -> list[MethodsRow]:
    return [
        MethodsRow(
            sku=row.sku,
            item=_item_of(report.names, row.sku),
            warehouse=name_of(report.names, row.warehouse),
            quantity=row.quantity,
            values=[money(row.value[method], row.currency, locale) for method in METHODS],
            cogs=[money(row.cogs[method], row.currency, locale) for method in METHODS],
        )
        for row in report.rows
    ]


def methods_totals(report: MethodsReport, locale: Locale) -> list[tuple[str, list[str], list[str]]]:
    """(currency, values per method, COGS per method)."""
    return [
        (
            currency,
            [money(totals[method].value, currency, locale) for method in METHODS],
            [money(totals[method].cogs, currency, locale) for method in METHODS],
        )
        for currency, totals in report.totals.items()
    ]


@dataclass(frozen=True, slots=True)
class MarginRow:
    period: str
    revenue: str
    cogs: str
    gross_margin: str
    margin_pct: str
    loss: bool


def margin_row(row: PeriodMargin, label: str, currency: str, locale: Locale) -> MarginRow:
    return MarginRow(
        period=label,
        revenue=money(row.revenue, currency, locale),
        cogs=money(row.cogs, currency, locale),
        gross_margin=money(row.gross_margin, currency, locale),
        margin_pct=percent(row.margin_pct, locale),
        loss=rounded(row.gross_margin, currency) < 0,
    )


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: str
    kind: str
    warehouse: str
    quantity: int  # signed: the stock change
    unit_cost: str
    value: str
    cogs: str
    balance_quantity: int
    balance_value: str
    layers: str
    corrections: str
    reference: str
    order_id: str | None


def history_rows(
    lines: Sequence[LedgerLine], names: Mapping[str, SaleorName], zone: ZoneInfo, locale: Locale
) -> list[HistoryRow]:
    rows = []
    for line in lines:
        posting, move = line.posting, line.posting.move
        cost = _posting_unit_cost(posting)
        rows.append(
            HistoryRow(
                at=local_time(move.at, zone, locale),
                kind=KIND_LABELS[move.kind],
                warehouse=name_of(names, move.warehouse),
                quantity=posting.quantity,
                unit_cost="" if cost is None else unit_cost(cost, move.currency, locale),
                value=money(posting.value, move.currency, locale),
                cogs=money(posting.cogs, move.currency, locale) if posting.cogs else "",
                balance_quantity=posting.balance_quantity,
                balance_value=money(posting.balance_value, move.currency, locale),
                layers=layers_text(posting.layers, move.currency),
                corrections=corrections_text(posting.corrections, move.currency),
                reference=move.reference,
                order_id=line.order_id,
            )
        )
    return rows


# The chart: inline SVG drawn on the server (no script, nothing downloaded); its colours come
# from app.css, so it follows the dashboard's theme.

CHART_WIDTH, CHART_HEIGHT = 720, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 96, 16, 12, 28
_MAX_MARKERS = 62  # beyond that, markers would overlap: the line alone
_X_LABELS = 6


@dataclass(frozen=True, slots=True)
class ChartMark:
    x: float
    y: float
    label: str
    anchor: str = "end"  # SVG text-anchor


def _x_anchor(index: int, count: int) -> str:
    """The outer labels lean inwards, so they stay inside the picture."""
    if count == 1:
        return "middle"
    return "start" if index == 0 else "end" if index == count - 1 else "middle"


@dataclass(frozen=True, slots=True)
class Chart:
    currency: str
    width: int
    height: int
    left: float  # the plot's edges
    right: float
    line: str  # the polyline's points
    baseline: float  # y of the zero line
    markers: list[ChartMark]
    x_labels: list[ChartMark]
    y_labels: list[ChartMark]
    summary: str  # what a screen reader hears instead of the picture


def value_chart(points: Sequence[ValuePoint], currency: str, period: Period, locale: Locale) -> Chart:
    """A line of the inventory value at the end of each period."""
    values = [point.value for point in points]
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    span = high - low or Decimal(1)
    plot_width, plot_height = CHART_WIDTH - _LEFT - _RIGHT, CHART_HEIGHT - _TOP - _BOTTOM

    def x_of(index: int) -> float:
        return round(_LEFT + (plot_width * index / (len(points) - 1) if len(points) > 1 else plot_width / 2), 1)

    def y_of(value: Decimal) -> float:
        return round(_TOP + plot_height * float((high - value) / span), 1)

    labels = [period_label(point.start, period, locale) for point in points]
    count = min(len(points), _X_LABELS)
    shown = sorted({round(i * (len(points) - 1) / (count - 1)) for i in range(count)}) if count > 1 else [0]
    ticks = [low + span * part / 3 for part in range(4)] if high != low else [low]
    return Chart(
        currency=currency,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=_LEFT,
        right=CHART_WIDTH - _RIGHT,
        line=" ".join(f"{x_of(i)},{y_of(point.value)}" for i, point in enumerate(points)),
        baseline=y_of(Decimal(0)),
        markers=[
            ChartMark(x_of(i), y_of(point.value), f"{labels[i]}: {money(point.value, currency, locale)}")
            for i, point in enumerate(points)
        ]
        if len(points) <= _MAX_MARKERS
        else [],
        x_labels=[ChartMark(x_of(i), CHART_HEIGHT - 8, labels[i], _x_anchor(i, len(points))) for i in shown],
        y_labels=[ChartMark(_LEFT - 8, y_of(tick), money(tick, currency, locale)) for tick in ticks],
        summary=(
            f"Inventory value in {currency} from {labels[0]} to {labels[-1]}: "
            f"{money(values[0], currency, locale)} to {money(values[-1], currency, locale)}, "
            f"lowest {money(min(values), currency, locale)}, highest {money(max(values), currency, locale)}."
        ),
    )


# CSV files

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula is kept as text (OWASP's CSV injection advice)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def valuation_csv(valuation: StockValuation) -> str:
    names = valuation.names
    return _csv(
        ["warehouse", "warehouse_slug", "sku", "item", "currency", "method", "quantity", "unit_cost", "value"],
        (
            [
                _cell(name_of(names, row.warehouse)),
                _cell(_slug_of(names, row.warehouse)),
                _cell(row.sku),
                _cell(_item_of(names, row.sku)),
                row.currency,
                row.method.value,
                row.quantity,
                unit_cost_text(row.unit_cost, row.currency),
                money_text(row.value, row.currency),
            ]
            for stock in valuation.warehouses
            for row in stock.rows
        ),
    )


def methods_csv(report: MethodsReport) -> str:
    return _csv(
        [
            "warehouse",
            "warehouse_slug",
            "sku",
            "item",
            "currency",
            "quantity",
            *(f"value_{method.value}" for method in METHODS),
            *(f"cogs_{method.value}" for method in METHODS),
        ],
        (
            [
                _cell(name_of(report.names, row.warehouse)),
                _cell(_slug_of(report.names, row.warehouse)),
                _cell(row.sku),
                _cell(_item_of(report.names, row.sku)),
                row.currency,
                row.quantity,
                *(money_text(row.value[method], row.currency) for method in METHODS),
                *(money_text(row.cogs[method], row.currency) for method in METHODS),
            ]
            for row in report.rows
        ),
    )


def margin_csv(tables: Iterable[tuple[str, Sequence[PeriodMargin]]]) -> str:
    return _csv(
        ["currency", "period_start", "revenue", "cogs", "gross_margin", "margin_pct"],
        (
            [
                currency,
                row.start.isoformat(),
                money_text(row.revenue, currency),
                money_text(row.cogs, currency),
                money_text(row.gross_margin, currency),
                "" if row.margin_pct is None else format(row.margin_pct, "f"),
            ]
            for currency, rows in tables
            for row in rows
        ),
    )


def history_csv(lines: Iterable[LedgerLine], zone: tzinfo) -> str:
    rows = []
    for line in lines:
        posting, move = line.posting, line.posting.move
        cost = _posting_unit_cost(posting)
        rows.append(
            [
                move.at.astimezone(zone).isoformat(),
                _cell(move.id),
                move.kind.value,
                _cell(move.warehouse),
                move.currency,
                posting.quantity,
                "" if cost is None else unit_cost_text(cost, move.currency),
                money_text(posting.value, move.currency),
                money_text(posting.cogs, move.currency),
                money_text(posting.variance, move.currency),
                posting.balance_quantity,
                money_text(posting.balance_value, move.currency),
                _cell(layers_text(posting.layers, move.currency)),
                _cell(corrections_text(posting.corrections, move.currency)),
                _cell(move.reference),
                _cell(line.order_id or ""),
            ]
        )
    return _csv(
        [
            "at",
            "move_id",
            "kind",
            "warehouse",
            "currency",
            "quantity",
            "unit_cost",
            "value_change",
            "cogs",
            "variance",
            "balance_quantity",
            "balance_value",
            "layers",
            "corrections",
            "reference",
            "order_id",
        ],
        rows,
    )


def file_name(*parts: str) -> str:
    """A download name safe in a Content-Disposition header and on every file system."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(part for part in parts if part)) + ".csv"

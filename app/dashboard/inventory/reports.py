"""Cost and valuation reports inside the dashboard (Products → Cost & valuation), and their CSV files.

Each report is a fragment of the ``inventory`` page; its tabs and filter forms ask app.js for
another fragment (``data-fragment``), and its CSV link is fetched with the dashboard token
(``data-download``), as every call here needs it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.dashboard.inventory import report_views as views
from app.dashboard.router import templates
from app.dashboard.view_models import parse_locale
from app.dependencies import (
    DashboardContext,
    InventoryReportsDep,
    RuntimeDep,
    SettingsStoreDep,
    require_permissions,
)
from app.domain.ids import SaleorApiUrl
from app.domain.inventory import Method, Period
from app.services.inventory_reports import (
    InventoryReports,
    end_of_day,
    margin_by_period,
    methods_side_by_side,
    sku_history,
    stock_valuation,
    value_by_period,
)
from app.services.settings import store_timezone

router = APIRouter()
ViewerDep = Annotated[DashboardContext, Depends(require_permissions("MANAGE_ORDERS"))]
DayQuery = Annotated[date | None, Query(alias="date")]
TextQuery = Annotated[str | None, Query(max_length=256)]
FRAGMENTS = "/api/dashboard/fragments/inventory"
EXPORTS = "/api/dashboard/inventory"
REPORTS = {
    "valuation": "Stock valuation",
    "methods": "FIFO · LIFO · AVCO",
    "margin": "COGS and margin",
    "value": "Value over time",
    "history": "Move history",
}
HISTORY_ROWS = 500  # the latest moves on the page; the CSV has them all


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _query(**params: object) -> str:
    """The query string of the given filters that are set."""
    present = {name: str(value) for name, value in params.items() if value is not None}
    return "?" + urlencode(present) if present else ""


def _as_of(day: date | None, zone: ZoneInfo, now: datetime) -> datetime:
    """Now, or the end of the chosen day in the store's zone."""
    return now if day is None else end_of_day(day, zone)


def _picked(day: date | None, zone: ZoneInfo, now: datetime) -> date:
    """The day the date picker shows: the chosen one, or today in the store's zone."""
    return day or now.astimezone(zone).date()


def _fragment(request: Request, report: str, context: dict[str, object]) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        f"fragments/inventory_{report}.html",
        {"report": report, "reports": REPORTS, "fragments": FRAGMENTS, **context},
    )


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"},
    )


async def _warehouse_options(reports: InventoryReports, url: SaleorApiUrl) -> list[tuple[str, str]]:
    warehouses = await reports.warehouses(url)
    return views.warehouse_options(warehouses, await reports.names(url, warehouses))


@router.get(FRAGMENTS, response_class=HTMLResponse)
@router.get(FRAGMENTS + "/valuation", response_class=HTMLResponse)
async def valuation_fragment(
    request: Request,
    viewer: ViewerDep,
    reports: InventoryReportsDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    day: DayQuery = None,
    locale: str | None = None,
) -> HTMLResponse:
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    zone, language = await store_timezone(settings, url), parse_locale(locale)
    valuation = await stock_valuation(reports, url, _as_of(day, zone, now))
    return _fragment(
        request,
        "valuation",
        {
            "tables": views.valuation_tables(valuation, language),
            "totals": [views.money(value, currency, language) for currency, value in valuation.totals.items()],
            "date": _picked(day, zone, now).isoformat(),
            "as_of": views.as_of_text(day, zone, language),
            "download": f"{EXPORTS}/valuation.csv" + _query(date=day),
        },
    )


@router.get(EXPORTS + "/valuation.csv")
async def valuation_csv(
    viewer: ViewerDep,
    reports: InventoryReportsDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    day: DayQuery = None,
) -> Response:
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    zone = await store_timezone(settings, url)
    valuation = await stock_valuation(reports, url, _as_of(day, zone, now))
    name = views.file_name("stock-valuation", _picked(day, zone, now).isoformat())
    return _csv(views.valuation_csv(valuation), name)


@router.get(FRAGMENTS + "/methods", response_class=HTMLResponse)
async def methods_fragment(
    request: Request,
    viewer: ViewerDep,
    reports: InventoryReportsDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    day: DayQuery = None,
    sku: TextQuery = None,
    warehouse: TextQuery = None,
    locale: str | None = None,
) -> HTMLResponse:
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    zone, language = await store_timezone(settings, url), parse_locale(locale)
    sku, warehouse = _text(sku), _text(warehouse)
    report = await methods_side_by_side(reports, url, _as_of(day, zone, now), sku=sku, warehouse=warehouse)
    return _fragment(
        request,
        "methods",
        {
            "methods": [method.value.upper() for method in views.METHODS],
            "rows": views.methods_rows(report, language),
            "totals": views.methods_totals(report, language),
            "moves": report.moves,
            "valued": report.valued,
            "lifo_notice": Method.LIFO.ifrs_notice,
            "date": _picked(day, zone, now).isoformat(),
            "as_of": views.as_of_text(day, zone, language),
            "sku": sku or "",
            "warehouse": warehouse or "",
            "warehouses": await _warehouse_options(reports, url),
            "download": f"{EXPORTS}/methods.csv" + _query(date=day, sku=sku, warehouse=warehouse),
        },
    )


@router.get(EXPORTS + "/methods.csv")
async def methods_csv(
    viewer: ViewerDep,
    reports: InventoryReportsDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    day: DayQuery = None,
    sku: TextQuery = None,
    warehouse: TextQuery = None,
) -> Response:
    url, now = viewer.installation.saleor_api_url, runtime.clock.now()
    zone = await store_timezone(settings, url)
    sku, warehouse = _text(sku), _text(warehouse)
    report = await methods_side_by_side(reports, url, _as_of(day, zone, now), sku=sku, warehouse=warehouse)
    if not report.valued:
        message = f"{report.moves:,} moves are too many to value three times; choose a SKU or a warehouse."
        return JSONResponse({"error": {"type": "TOO_MANY_MOVES", "message": message}}, status_code=422)
    name = views.file_name("cost-methods", _picked(day, zone, now).isoformat(), sku or "", warehouse or "")
    return _csv(views.methods_csv(report), name)


@router.get(FRAGMENTS + "/margin", response_class=HTMLResponse)
async def margin_fragment(
    request: Request,
    viewer: ViewerDep,
    reports: InventoryReportsDep,
    settings: SettingsStoreDep,
    period: Period = Period.MONTH,
    locale: str | None = None,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    zone, language = await store_timezone(settings, url), parse_locale(locale)
    tables = await margin_by_period(reports, url, period, zone)
    return _fragment(
        request,
        "margin",
        {
            "tables": [
                (
                    table.currency,
                    [
                        views.margin_row(row, views.period_label(row.start, period, language), table.currency, language)
                        for row in table.rows
                    ],
                    views.margin_row(table.total, "Total", table.currency, language),
                )
                for table in tables
            ],
            "period": period.value,
            "periods": [choice.value for choice in Period],
            "timezone": zone.key,
            "download": f"{EXPORTS}/margin.csv" + _query(period=period.value),
        },
    )


@router.get(EXPORTS + "/margin.csv")
async def margin_csv(
    viewer: ViewerDep, reports: InventoryReportsDep, settings: SettingsStoreDep, period: Period = Period.MONTH
) -> Response:
    url = viewer.installation.saleor_api_url
    tables = await margin_by_period(reports, url, period, await store_timezone(settings, url))
    text = views.margin_csv((table.currency, table.rows) for table in tables)
    return _csv(text, views.file_name("cogs-and-margin-by", period.value))


@router.get(FRAGMENTS + "/value", response_class=HTMLResponse)
async def value_fragment(
    request: Request,
    viewer: ViewerDep,
    reports: InventoryReportsDep,
    settings: SettingsStoreDep,
    period: Period = Period.MONTH,
    locale: str | None = None,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    zone, language = await store_timezone(settings, url), parse_locale(locale)
    series = await value_by_period(reports, url, period, zone)
    return _fragment(
        request,
        "value",
        {
            "charts": [
                (
                    views.value_chart(values.points, values.currency, period, language),
                    [
                        (
                            views.period_label(point.start, period, language),
                            point.quantity,
                            views.money(point.value, values.currency, language),
                        )
                        for point in values.points
                    ],
                )
                for values in series
            ],
            "period": period.value,
            "periods": [choice.value for choice in Period],
            "timezone": zone.key,
        },
    )


@router.get(FRAGMENTS + "/history", response_class=HTMLResponse)
async def history_fragment(
    request: Request,
    viewer: ViewerDep,
    reports: InventoryReportsDep,
    settings: SettingsStoreDep,
    sku: TextQuery = None,
    warehouse: TextQuery = None,
    locale: str | None = None,
) -> HTMLResponse:
    url = viewer.installation.saleor_api_url
    zone, language = await store_timezone(settings, url), parse_locale(locale)
    sku, warehouse = _text(sku), _text(warehouse)
    history = None if sku is None else await sku_history(reports, url, sku, warehouse, latest=HISTORY_ROWS)
    return _fragment(
        request,
        "history",
        {
            "rows": [] if history is None else views.history_rows(history.lines, history.names, zone, language),
            "total": 0 if history is None else history.total,
            "sku": sku or "",
            "item": "" if history is None else views.name_of(history.names, history.sku),
            "warehouse": warehouse or "",
            "warehouses": await _warehouse_options(reports, url),
            "timezone": zone.key,
            "download": f"{EXPORTS}/history.csv" + _query(sku=sku, warehouse=warehouse),
        },
    )


@router.get(EXPORTS + "/history.csv")
async def history_csv(
    viewer: ViewerDep,
    reports: InventoryReportsDep,
    settings: SettingsStoreDep,
    sku: Annotated[str, Query(min_length=1, max_length=256)],
    warehouse: TextQuery = None,
) -> Response:
    url = viewer.installation.saleor_api_url
    warehouse = _text(warehouse)
    history = await sku_history(reports, url, sku.strip(), warehouse)
    text = views.history_csv(history.lines, await store_timezone(settings, url))
    return _csv(text, views.file_name("moves", sku, warehouse or ""))

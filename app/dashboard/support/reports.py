"""Support → Reports, a tab beside the inbox: first reply and resolution times and SLA attainment of the tickets
created in a period, per week, assignee or reason, and the same figures as a CSV file.

Like the rest of Support it needs ``MANAGE_ORDERS``. Days and weeks are the support team's (its settings'
time zone), as its business hours are.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.dashboard.router import templates
from app.dashboard.support import report_views as views
from app.dashboard.support.tickets import SupportStaffDep
from app.dashboard.view_models import parse_locale
from app.dependencies import RuntimeDep, SettingsStoreDep, SupportReportsDep
from app.domain.support.reports import GroupBy
from app.services.support.reports import LONGEST_PERIOD, PeriodReport, ReportPeriod, support_report

FromQuery = Annotated[date | None, Query(alias="from")]
ToQuery = Annotated[date | None, Query(alias="to")]


def _period(first: date | None, last: date | None) -> ReportPeriod | None:
    """The chosen days; None (the recent weeks) when neither is chosen. ``ValueError`` names what is wrong."""
    if first is None and last is None:
        return None
    if first is None or last is None:
        raise ValueError("Choose both the first and the last day, or neither for the last four weeks.")
    return ReportPeriod(first, last)


async def _report(
    viewer: SupportStaffDep,
    reports: SupportReportsDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    period: ReportPeriod | None,
    group: GroupBy,
) -> PeriodReport:
    url = viewer.installation.saleor_api_url
    return await support_report(reports, settings, url, period, group, runtime.clock.now())


router = APIRouter()


@router.get(views.FRAGMENT, response_class=HTMLResponse)
async def reports_fragment(
    request: Request,
    viewer: SupportStaffDep,
    reports: SupportReportsDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    first: FromQuery = None,
    last: ToQuery = None,
    group: GroupBy = GroupBy.WEEK,
    locale: str | None = None,
) -> HTMLResponse:
    language = parse_locale(locale)
    context: dict[str, Any] = {
        "support_tab": "reports",
        "fragment": views.FRAGMENT,
        "group": group.value,
        "groups": [(choice.value, views.GROUP_LABELS[choice]) for choice in GroupBy],
        "group_label": views.GROUP_LABELS[group],
        "metrics": ["First reply", "Next reply", "Resolution"],
        "longest": LONGEST_PERIOD.days,
        "first": "" if first is None else first.isoformat(),
        "last": "" if last is None else last.isoformat(),
        "problem": None,
        "rows": [],
    }
    try:
        period = _period(first, last)
    except ValueError as exc:
        context["problem"] = str(exc)
        return templates.TemplateResponse(request, "fragments/support_reports.html", context, status_code=422)
    result = await _report(viewer, reports, settings, runtime, period, group)
    shown = result.period
    query = {"from": shown.first_day.isoformat(), "to": shown.last_day.isoformat(), "group": group.value}
    context |= {
        "first": shown.first_day.isoformat(),
        "last": shown.last_day.isoformat(),
        "timezone": result.time_zone,
        "rows": views.report_rows(result.report, language),
        "total": views.total_row(result.report, language),
        "download": f"{views.EXPORT}?{urlencode(query)}",
    }
    return templates.TemplateResponse(request, "fragments/support_reports.html", context)


@router.get(views.EXPORT)
async def reports_csv(
    viewer: SupportStaffDep,
    reports: SupportReportsDep,
    settings: SettingsStoreDep,
    runtime: RuntimeDep,
    first: FromQuery = None,
    last: ToQuery = None,
    group: GroupBy = GroupBy.WEEK,
) -> Response:
    try:
        period = _period(first, last)
    except ValueError as exc:
        return JSONResponse({"error": {"type": "INVALID_PERIOD", "message": str(exc)}}, status_code=422)
    result = await _report(viewer, reports, settings, runtime, period, group)
    return Response(
        views.report_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{views.csv_name(result)}"',
            "cache-control": "no-store",
        },
    )

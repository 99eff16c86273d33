"""Pure builders of Support → Reports and its CSV file: no I/O.

Durations are rounded to whole minutes (half up) and attainment to one place here, for the page and the
file alike, so both show the same figures: the page as ``2 h 30 min`` and ``66.7%`` in the viewer's
locale, the file as plain numbers (``150``, ``66.7``) that spreadsheets and scripts read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_percent

# The CSV writer the cost reports use: plain numbers, and text a spreadsheet would run kept as text.
from app.dashboard.inventory.report_views import _cell, _csv, file_name
from app.domain.support.reports import Attainment, GroupBy, ReportRow, SupportReport, Times
from app.domain.support.sla import Metric
from app.services.support.reports import PeriodReport

FRAGMENT = "/api/dashboard/fragments/support/reports"
EXPORT = "/api/dashboard/support/reports.csv"
GROUP_LABELS = {GroupBy.WEEK: "Week", GroupBy.ASSIGNEE: "Assignee", GroupBy.REASON: "Reason"}
METRICS = (Metric.FIRST_REPLY, Metric.NEXT_REPLY, Metric.RESOLUTION)
TOTAL = "total"


def minutes(duration: timedelta | None) -> int | None:
    """Whole minutes, half up."""
    if duration is None:
        return None
    return int((Decimal(duration // timedelta(microseconds=1)) / 60_000_000).quantize(Decimal(1), ROUND_HALF_UP))


def duration_text(duration: timedelta | None) -> str:
    """``2 h 30 min``, ``45 min``, ``0 min``; a dash for none."""
    whole = minutes(duration)
    if whole is None:
        return "–"
    hours, rest = divmod(whole, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours:,} h {rest} min" if rest else f"{hours:,} h"


def percent_text(attainment: Attainment, locale: Locale) -> str:
    share = attainment.percent
    return "–" if share is None else format_percent(share / 100, format="#,##0.0%", locale=locale)


def week_label(monday: date, locale: Locale) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d} · {format_date(monday, format='medium', locale=locale)}"


def group_label(group_by: GroupBy, key: str, locale: Locale) -> str:
    match group_by:
        case GroupBy.WEEK:
            return week_label(date.fromisoformat(key), locale)
        case GroupBy.ASSIGNEE:
            return key or "Unassigned"
        case GroupBy.REASON:
            return key.replace("_", " ")


@dataclass(frozen=True, slots=True)
class AttainmentView:
    percent: str
    achieved: int
    breached: int
    low: bool  # below the whole: some clock breached


@dataclass(frozen=True, slots=True)
class RowView:
    label: str
    tickets: int
    replied: int
    first_reply_median: str
    first_reply_p90: str
    resolved: int
    resolution_median: str
    resolution_p90: str
    attainment: list[AttainmentView]  # in METRICS order
    breached_tickets: int


def row_view(row: ReportRow, label: str, locale: Locale) -> RowView:
    return RowView(
        label=label,
        tickets=row.tickets,
        replied=row.first_reply.count,
        first_reply_median=duration_text(row.first_reply.median),
        first_reply_p90=duration_text(row.first_reply.p90),
        resolved=row.resolution.count,
        resolution_median=duration_text(row.resolution.median),
        resolution_p90=duration_text(row.resolution.p90),
        attainment=[
            AttainmentView(percent_text(a, locale), a.achieved, a.breached, a.breached > 0)
            for a in (row.attainment[metric] for metric in METRICS)
        ],
        breached_tickets=row.breached_tickets,
    )


def report_rows(report: SupportReport, locale: Locale) -> list[RowView]:
    return [row_view(row, group_label(report.group_by, row.key, locale), locale) for row in report.rows]


def total_row(report: SupportReport, locale: Locale) -> RowView:
    return row_view(report.total, "Total", locale)


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _times_cells(times: Times) -> list[object]:
    return [times.count, _number(minutes(times.median)), _number(minutes(times.p90))]


def _attainment_cells(attainment: Attainment) -> list[object]:
    share = attainment.percent
    return ["" if share is None else format(share, "f"), attainment.achieved, attainment.breached]


def _csv_row(group: Sequence[object], row: ReportRow) -> list[object]:
    return [
        *group,
        row.tickets,
        *_times_cells(row.first_reply),
        *_times_cells(row.resolution),
        *(cell for metric in METRICS for cell in _attainment_cells(row.attainment[metric])),
        row.breached_tickets,
    ]


def report_csv(result: PeriodReport) -> str:
    """A row per group and a last ``total`` row; weeks by their Monday and ISO week."""
    report = result.report
    group_columns = ["week_start", "iso_week"] if report.group_by is GroupBy.WEEK else [report.group_by.value]
    header = [
        *group_columns,
        "tickets",
        "replied",
        "first_reply_median_minutes",
        "first_reply_p90_minutes",
        "resolved",
        "resolution_median_minutes",
        "resolution_p90_minutes",
        *(f"{metric.value}_{part}" for metric in METRICS for part in ("sla_pct", "achieved", "breached")),
        "breached_tickets",
    ]

    def group(key: str) -> list[object]:
        if report.group_by is GroupBy.WEEK:
            year, week, _ = date.fromisoformat(key).isocalendar()
            return [key, f"{year}-W{week:02d}"]
        return [_cell(key)]

    blank = [""] * (len(group_columns) - 1)
    rows = [_csv_row(group(row.key), row) for row in report.rows]
    rows.append(_csv_row([TOTAL, *blank], report.total))
    return _csv(header, rows)


def csv_name(result: PeriodReport) -> str:
    period = result.period
    return file_name(
        "support-by", result.report.group_by.value, period.first_day.isoformat(), period.last_day.isoformat()
    )

"""Support reports (``app.services.ports.SupportReportSource``) on a real database.

Each ticket's measures are kept with it by the desk whenever it changes (``SqlTicketStore.set_sla``), so a report
reads only small columns of ``support_tickets``, over the index range ``ix_support_tickets_tenant_created`` gives
the period: no thread, history or tag is read and nothing is measured at report time.

On PostgreSQL the report is one grouped query and one for the total: counts and sums per group, a clock still
going counted missed once its deadline is before the report's time, and the medians and 90th percentiles by
``percentile_cont`` (linear between ranks, as ``app.domain.support.reports.percentile``). SQLite has no such
aggregate: there the tickets' columns are read in pages and the domain groups them (``summarize``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import SupportTicketRow
from app.db.repositories.support import measure_columns, measures_of
from app.domain.ids import SaleorApiUrl
from app.domain.support.reports import (
    MEDIAN,
    P90,
    Attainment,
    GroupBy,
    MeasuredTicket,
    ReportRow,
    SupportReport,
    TicketMeasures,
    Times,
    report_order,
    summarize,
    week_starts,
)
from app.domain.support.sla import Metric

REPORT_PAGE = 20_000
_T = SupportTicketRow
_MEASURES = [getattr(_T, name) for name in measure_columns(TicketMeasures())]
_TIMES = {"first_reply": _T.first_reply_micros, "resolution": _T.resolution_micros}


class SqlSupportReports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def report(
        self,
        saleor_api_url: SaleorApiUrl,
        start: datetime,
        end: datetime,
        group_by: GroupBy,
        zone: tzinfo,
        now: datetime,
    ) -> SupportReport:
        if (await self._session.connection()).dialect.name != "postgresql":
            measured = [ticket async for page in self.measured_created(saleor_api_url, start, end) for ticket in page]
            return summarize(measured, group_by, zone, now)
        period = (_T.saleor_api_url == saleor_api_url, _T.created_at >= start, _T.created_at < end)
        key = _group_key(group_by, start, end, zone).label("key")
        grouped = await self._session.execute(select(key, *_aggregates(now)).where(*period).group_by(key))
        rows = {row.key: _row(row.key, row) for row in grouped}
        (total,) = await self._session.execute(select(literal("").label("key"), *_aggregates(now)).where(*period))
        return SupportReport(group_by, tuple(rows[key] for key in report_order(rows)), _row("", total))

    async def measured_created(
        self, saleor_api_url: SaleorApiUrl, start: datetime, end: datetime, *, page: int = REPORT_PAGE
    ) -> AsyncIterator[list[MeasuredTicket]]:
        """The tickets created in [start, end), in pages by creation, as the desk last measured them."""
        columns = select(_T.number, _T.created_at, _T.assignee, _T.channel, _T.store_reason, *_MEASURES).where(
            _T.saleor_api_url == saleor_api_url, _T.created_at >= start, _T.created_at < end
        )
        after: tuple[datetime, int] | None = None
        while True:
            statement = columns if after is None else columns.where(tuple_(_T.created_at, _T.number) > tuple_(*after))
            rows = (await self._session.execute(statement.order_by(_T.created_at, _T.number).limit(page))).all()
            if not rows:
                return
            yield [
                # The reason as ``ticket_reason`` names it: why the store opened it, or the customer's channel.
                MeasuredTicket(row.created_at, row.assignee, row.store_reason or row.channel, measures_of(row))
                for row in rows
            ]
            if len(rows) < page:
                return
            after = (rows[-1].created_at, rows[-1].number)


def _group_key(group_by: GroupBy, start: datetime, end: datetime, zone: tzinfo) -> ColumnElement[str]:
    match group_by:
        case GroupBy.ASSIGNEE:
            return func.coalesce(_T.assignee, "")
        case GroupBy.REASON:
            return func.coalesce(_T.store_reason, _T.channel)
        case GroupBy.WEEK:
            # The team's weeks as ranges of instants: a zone's calendar is Python's, not the database's.
            weeks = week_starts(start, end, zone)
            before_next = [
                (_T.created_at < begins, monday.isoformat())
                for (monday, _), (_, begins) in zip(weeks, weeks[1:], strict=False)
            ]
            last = weeks[-1][0].isoformat()
            return case(*before_next, else_=last) if before_next else literal(last)


def _aggregates(now: datetime) -> list[ColumnElement[Any]]:
    columns: list[ColumnElement[Any]] = [func.count().label("tickets")]
    missed_any = []
    for metric in Metric:
        achieved, breached, due = (getattr(_T, f"{metric.value}_{part}") for part in ("achieved", "breached", "due_at"))
        late = case((due < now, 1), else_=0)
        columns += [
            func.sum(achieved).label(f"{metric.value}_achieved"),
            func.sum(breached + late).label(f"{metric.value}_missed"),
        ]
        missed_any += [breached > 0, due < now]
    columns.append(func.sum(case((or_(*missed_any), 1), else_=0)).label("breached_tickets"))
    for name, micros in _TIMES.items():
        columns += [
            func.count(micros).label(f"{name}_count"),
            func.percentile_cont(float(MEDIAN)).within_group(micros).label(f"{name}_median"),
            func.percentile_cont(float(P90)).within_group(micros).label(f"{name}_p90"),
        ]
    return columns


def _duration(micros: float | None) -> timedelta | None:
    return None if micros is None else timedelta(microseconds=round(micros))


def _row(key: str, row: Any) -> ReportRow:
    times = {
        name: Times(
            row._mapping[f"{name}_count"],
            _duration(row._mapping[f"{name}_median"]),
            _duration(row._mapping[f"{name}_p90"]),
        )
        for name in _TIMES
    }
    return ReportRow(
        key=key,
        tickets=row.tickets,
        first_reply=times["first_reply"],
        resolution=times["resolution"],
        attainment={
            metric: Attainment(
                int(row._mapping[f"{metric.value}_achieved"] or 0), int(row._mapping[f"{metric.value}_missed"] or 0)
            )
            for metric in Metric
        },
        breached_tickets=int(row.breached_tickets or 0),
    )

"""The tickets a support report groups (``app.services.ports.SupportReportSource``), on a real database.

Each ticket's measures are kept with it by the desk whenever it changes (``SqlTicketStore.set_sla``), so a report
reads only small columns of ``support_tickets``: its creation, assignee, reason and measures, in pages ordered by
(created_at, number), the order the index ``ix_support_tickets_tenant_created`` gives. No thread, history or tag
is read and nothing is measured at report time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import SupportTicketRow
from app.db.repositories.support import measure_columns, measures_of
from app.domain.ids import SaleorApiUrl
from app.domain.support.reports import MeasuredTicket, TicketMeasures

REPORT_PAGE = 20_000
_MEASURES = [getattr(SupportTicketRow, name) for name in measure_columns(TicketMeasures())]


class SqlSupportReports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def measured_created(
        self, saleor_api_url: SaleorApiUrl, start: datetime, end: datetime, *, page: int = REPORT_PAGE
    ) -> AsyncIterator[list[MeasuredTicket]]:
        T = SupportTicketRow
        columns = select(T.number, T.created_at, T.assignee, T.channel, T.store_reason, *_MEASURES).where(
            T.saleor_api_url == saleor_api_url, T.created_at >= start, T.created_at < end
        )
        after: tuple[datetime, int] | None = None
        while True:
            statement = columns if after is None else columns.where(tuple_(T.created_at, T.number) > tuple_(*after))
            rows = (await self._session.execute(statement.order_by(T.created_at, T.number).limit(page))).all()
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

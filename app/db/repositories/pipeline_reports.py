"""What the dashboard shows of the pipeline, for one store: its deliveries and effects that are not
done (waiting, retrying, being sent, failed), and how many were done lately.

Deliveries and effects are kept alike (status, attempts, next attempt, last error), so each report
reads either table; where they differ (the event or the kind, when it arrived, when it was done),
``_Source`` names the columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.models import EffectRow, OrderEventRow
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.pipeline import Status
from app.domain.pipeline.backlog import BacklogCounts, BacklogItem


@dataclass(frozen=True, slots=True)
class _Source:
    row: type[OrderEventRow] | type[EffectRow]
    what: InstrumentedAttribute[str]  # the delivery's event, the effect's kind
    since: InstrumentedAttribute[datetime]  # received, decided
    finished: InstrumentedAttribute[datetime | None]  # processed, delivered
    open: tuple[Status, ...]  # the statuses of what is not done

    def not_done(self) -> ColumnElement[bool]:
        # Also as "not done", in the very words of the partial index of effects not done: SQLite uses a
        # partial index only for a query that repeats its condition, with the value written out.
        return and_(self.row.status.in_(self.open), self.row.status != literal_column(f"'{Status.DONE}'"))


_DELIVERIES = _Source(
    OrderEventRow,
    OrderEventRow.event,
    OrderEventRow.received_at,
    OrderEventRow.processed_at,
    (Status.PENDING, Status.FAILED),  # a delivery is processed in one transaction: never "sending"
)
_EFFECTS = _Source(
    EffectRow,
    EffectRow.kind,
    EffectRow.created_at,
    EffectRow.done_at,
    (Status.PENDING, Status.SENDING, Status.FAILED),
)


class SqlPipelineReports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def delivery_counts(self, url: SaleorApiUrl, *, done_since: datetime | None = None) -> BacklogCounts:
        """The store's deliveries by where they stand; ``done`` counts those processed since then (if asked)."""
        return await self._counts(_DELIVERIES, url, done_since)

    async def effect_counts(self, url: SaleorApiUrl, *, done_since: datetime | None = None) -> BacklogCounts:
        """The store's effects by where they stand; ``done`` counts those delivered since then (if asked)."""
        return await self._counts(_EFFECTS, url, done_since)

    async def deliveries_not_done(self, url: SaleorApiUrl, limit: int) -> list[BacklogItem]:
        """The store's deliveries still to be processed or given up on, newest first."""
        return await self._not_done(_DELIVERIES, url, limit)

    async def effects_not_done(self, url: SaleorApiUrl, limit: int) -> list[BacklogItem]:
        """The store's effects still to reach Saleor or given up on, newest first."""
        return await self._not_done(_EFFECTS, url, limit)

    async def _counts(self, source: _Source, url: SaleorApiUrl, done_since: datetime | None) -> BacklogCounts:
        T = source.row
        by_status = await self._session.execute(
            select(T.status, func.count(), func.sum(case((T.attempts > 0, 1), else_=0)))
            .where(T.saleor_api_url == url, source.not_done())
            .group_by(T.status)
        )
        counts = {"waiting": 0, "retrying": 0, "sending": 0, "failed": 0}
        for status, total, tried in by_status:
            if status == Status.PENDING:
                counts["waiting"] += int(total) - int(tried)
                counts["retrying"] += int(tried)
            else:
                counts[status] += int(total)
        if done_since is None:
            return BacklogCounts(**counts)
        done = await self._session.scalar(
            select(func.count()).select_from(T).where(T.saleor_api_url == url, source.finished >= done_since)
        )
        return BacklogCounts(**counts, done=int(done or 0))

    async def _not_done(self, source: _Source, url: SaleorApiUrl, limit: int) -> list[BacklogItem]:
        T = source.row
        rows = (
            await self._session.execute(
                select(
                    T.id,
                    source.what.label("what"),
                    T.order_id,
                    T.status,
                    T.attempts,
                    T.next_attempt_at,
                    T.last_error,
                    source.since.label("since"),
                )
                .where(T.saleor_api_url == url, source.not_done())
                .order_by(source.since.desc(), T.id.desc())
                .limit(limit)
            )
        ).all()
        numbers = await self._order_numbers(url, {row.order_id for row in rows})
        return [
            BacklogItem(
                id=row.id,
                what=row.what,
                order_id=SaleorId(row.order_id),
                order_number=numbers.get(row.order_id),
                status=row.status,
                attempts=row.attempts,
                next_attempt_at=row.next_attempt_at,
                last_error=row.last_error,
                since=row.since,
            )
            for row in rows
        ]

    async def _order_numbers(self, url: SaleorApiUrl, order_ids: set[str]) -> dict[str, str]:
        """The number Saleor gave each order, as its deliveries carried it (effects have none of their own)."""
        if not order_ids:
            return {}
        rows = await self._session.execute(
            select(OrderEventRow.order_id, func.max(OrderEventRow.order_number))
            .where(OrderEventRow.saleor_api_url == url, OrderEventRow.order_id.in_(order_ids))
            .group_by(OrderEventRow.order_id)
        )
        return {order_id: number for order_id, number in rows if number is not None}

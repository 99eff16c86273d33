"""The tickets a support report measures (``app.services.ports.SupportReportSource``), on a real database.

Tickets are read in pages ordered by (created_at, number), the index ``ix_support_tickets_tenant_created``
gives that order, and each page's public messages, status history and tags follow in one query each: four
queries per page, whatever the number of tickets, and never more than a page held at once. Only what the
SLA measurement and the grouping read is loaded: no subjects, descriptions or message bodies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import SupportMessageRow, SupportStatusChangeRow, SupportTicketRow, SupportTicketTagRow
from app.domain.ids import SaleorApiUrl
from app.domain.money import Money
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.ticket import Author, Message, Requester, Status, StatusChange, Ticket, TicketId

REPORT_PAGE = 5_000


class SqlSupportReports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def tickets_created(
        self, saleor_api_url: SaleorApiUrl, start: datetime, end: datetime, *, page: int = REPORT_PAGE
    ) -> AsyncIterator[list[Ticket]]:
        T = SupportTicketRow
        columns = select(
            T.number,
            T.requester_email,
            T.channel,
            T.status,
            T.priority,
            T.assignee,
            T.order_value,
            T.order_currency,
            T.store_reason,
            T.created_at,
            T.updated_at,
        ).where(T.saleor_api_url == saleor_api_url, T.created_at >= start, T.created_at < end)
        after: tuple[datetime, int] | None = None
        while True:
            statement = columns if after is None else columns.where(tuple_(T.created_at, T.number) > tuple_(*after))
            rows = (await self._session.execute(statement.order_by(T.created_at, T.number).limit(page))).all()
            if not rows:
                return
            first, last = rows[0], rows[-1]
            threads, histories, tags = await self._entries(
                saleor_api_url, (first.created_at, first.number), (last.created_at, last.number)
            )
            yield [
                Ticket(
                    id=TicketId(str(row.number)),
                    requester=Requester(row.requester_email),
                    subject="",
                    description="",
                    channel=Channel(row.channel),
                    created_at=row.created_at,
                    status=Status(row.status),
                    priority=Priority(row.priority),
                    assignee=row.assignee,
                    tags=frozenset(tags.get(row.number, ())),
                    order_value=None
                    if row.order_value is None or row.order_currency is None
                    else Money(row.order_value, row.order_currency),
                    thread=tuple(threads.get(row.number, ())),
                    history=tuple(histories.get(row.number, ())),
                    updated_at=row.updated_at,
                    store_reason=None if row.store_reason is None else StoreReason(row.store_reason),
                )
                for row in rows
            ]
            if len(rows) < page:
                return
            after = (rows[-1].created_at, rows[-1].number)

    async def _entries(
        self, saleor_api_url: SaleorApiUrl, first: tuple[datetime, int], last: tuple[datetime, int]
    ) -> tuple[dict[int, list[Message]], dict[int, list[StatusChange]], dict[int, list[str]]]:
        """The entries of the page's tickets, from ``first`` to ``last`` (created_at, number) both included: a range
        of the creation index joined to each table's key, where a list of thousands of numbers would make
        PostgreSQL plan a statement of thousands of parameters per page."""
        T, M, S, G = SupportTicketRow, SupportMessageRow, SupportStatusChangeRow, SupportTicketTagRow
        page = (
            T.saleor_api_url == saleor_api_url,
            tuple_(T.created_at, T.number) >= tuple_(*first),
            tuple_(T.created_at, T.number) <= tuple_(*last),
        )
        threads: dict[int, list[Message]] = {}
        messages = await self._session.execute(
            select(M.ticket_number, M.author, M.written_at)
            .join(T, (T.saleor_api_url == M.saleor_api_url) & (T.number == M.ticket_number))
            .where(*page, M.public.is_(True))
            .order_by(M.ticket_number, M.position)
        )
        for number, author, written_at in messages:
            threads.setdefault(number, []).append(Message(Author(author), "", "", True, written_at))
        histories: dict[int, list[StatusChange]] = {}
        changes = await self._session.execute(
            select(S.ticket_number, S.status, S.changed_at)
            .join(T, (T.saleor_api_url == S.saleor_api_url) & (T.number == S.ticket_number))
            .where(*page)
            .order_by(S.ticket_number, S.position)
        )
        for number, status, changed_at in changes:
            histories.setdefault(number, []).append(StatusChange(Status(status), changed_at))
        tags: dict[int, list[str]] = {}
        for number, tag in await self._session.execute(
            select(G.ticket_number, G.tag)
            .join(T, (T.saleor_api_url == G.saleor_api_url) & (T.number == G.ticket_number))
            .where(*page)
        ):
            tags.setdefault(number, []).append(tag)
        return threads, histories, tags

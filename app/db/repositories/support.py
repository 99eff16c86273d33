"""Support tickets on a real database (``app.services.ports.SupportDesk``).

A ticket is a row of ``support_tickets`` with its thread, status history, orders and tags in their own
tables. The domain only ever appends to a thread and a history, so saving a ticket adds the entries
past those already kept; orders and tags are replaced by what the ticket holds. Ticket numbers come
from a per-store counter, so two tickets opened at once never share one.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    PAYLOAD_KEPT,
    OrderEventRow,
    SupportCounterRow,
    SupportMessageRow,
    SupportStatusChangeRow,
    SupportTicketOrderRow,
    SupportTicketRow,
    SupportTicketTagRow,
)
from app.db.upsert import insert_if_absent
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.reports import NO_CLOCKS, ClockCounts, TicketMeasures
from app.domain.support.sla import Metric
from app.domain.support.store import store_key_order
from app.domain.support.ticket import Author, Message, Requester, Status, StatusChange, Ticket, TicketId
from app.services.support.model import InboxPage, InboxQuery, InboxRow, SlaDue, UnknownTicket

_TICKETS = cast(Table, SupportTicketRow.__table__)
_COUNTERS = cast(Table, SupportCounterRow.__table__)


def ticket_number(ticket_id: TicketId) -> int:
    """The number a ticket id stands for; a ticket id that is not one names no ticket."""
    if not ticket_id.isdigit() or len(ticket_id) > 9:
        raise UnknownTicket(ticket_id)
    return int(ticket_id)


TAG_LENGTH = 64
_MICROSECOND = timedelta(microseconds=1)


def measure_columns(measures: TicketMeasures) -> dict[str, Any]:
    """A ticket's report measures as its columns: times in microseconds, then per metric ``<metric>_achieved``,
    ``<metric>_breached`` and ``<metric>_due_at``."""
    columns: dict[str, Any] = {
        "first_reply_micros": None if measures.first_reply is None else measures.first_reply // _MICROSECOND,
        "resolution_micros": None if measures.resolution is None else measures.resolution // _MICROSECOND,
    }
    for metric in Metric:
        counts = measures.counts(metric)
        columns |= {
            f"{metric.value}_achieved": counts.achieved,
            f"{metric.value}_breached": counts.breached,
            f"{metric.value}_due_at": counts.due_at,
        }
    return columns


def measures_of(row: Any) -> TicketMeasures:
    """The measures ``measure_columns`` kept, from a row holding those columns."""
    clocks = {
        metric: ClockCounts(
            getattr(row, f"{metric.value}_achieved"),
            getattr(row, f"{metric.value}_breached"),
            getattr(row, f"{metric.value}_due_at"),
        )
        for metric in Metric
    }
    return TicketMeasures(
        first_reply=None if row.first_reply_micros is None else row.first_reply_micros * _MICROSECOND,
        resolution=None if row.resolution_micros is None else row.resolution_micros * _MICROSECOND,
        clocks={metric: counts for metric, counts in clocks.items() if counts != NO_CLOCKS},
    )


def _columns(ticket: Ticket) -> dict[str, Any]:
    """The ticket's own columns, as ``add`` writes them and ``save`` replaces them; a tag too long to keep is
    refused before anything is written."""
    long_tags = sorted(tag for tag in ticket.tags if len(tag) > TAG_LENGTH)
    if long_tags:
        raise ValueError(f"a tag has at most {TAG_LENGTH} characters: {', '.join(long_tags)}")
    return {
        "requester_email": ticket.requester.email,
        "requester_customer_id": ticket.requester.customer_id,
        "subject": ticket.subject,
        "description": ticket.description,
        "channel": ticket.channel.value,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "assignee": ticket.assignee,
        "order_value": None if ticket.order_value is None else ticket.order_value.amount,
        "order_currency": None if ticket.order_value is None else ticket.order_value.currency,
        "follow_up_of": None if ticket.follow_up_of is None else ticket_number(ticket.follow_up_of),
        "store_reason": None if ticket.store_reason is None else ticket.store_reason.value,
        "updated_at": ticket.updated_at or ticket.created_at,
        "solved_at": ticket.solved_at,
    }


class SqlTicketStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_id(self, saleor_api_url: SaleorApiUrl) -> TicketId:
        await insert_if_absent(self._session, _COUNTERS, {"saleor_api_url": saleor_api_url, "last_number": 0})
        # The update locks the store's counter row until the transaction ends: numbers are never shared.
        number = await self._session.scalar(
            update(SupportCounterRow)
            .where(SupportCounterRow.saleor_api_url == saleor_api_url)
            .values(last_number=SupportCounterRow.last_number + 1)
            .returning(SupportCounterRow.last_number)
        )
        assert number is not None, "the counter row was just ensured"
        return TicketId(str(number))

    async def get(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId) -> Ticket | None:
        return await self._read(saleor_api_url, ticket_id, lock=False)

    async def get_for_update(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId) -> Ticket | None:
        return await self._read(saleor_api_url, ticket_id, lock=True)

    async def opened_by_store(self, saleor_api_url: SaleorApiUrl, store_key: str) -> Ticket | None:
        row = await self._session.scalar(
            select(SupportTicketRow).where(
                SupportTicketRow.saleor_api_url == saleor_api_url, SupportTicketRow.store_key == store_key
            )
        )
        return None if row is None else await self._ticket(row)

    async def add(self, saleor_api_url: SaleorApiUrl, ticket: Ticket, *, store_key: str | None = None) -> bool:
        number = ticket_number(ticket.id)
        added = await insert_if_absent(
            self._session,
            _TICKETS,
            {
                "saleor_api_url": saleor_api_url,
                "number": number,
                "store_key": store_key,
                "created_at": ticket.created_at,
                **_columns(ticket),
            },
        )
        if added:
            await self._append_entries(saleor_api_url, number, ticket, kept_messages=0, kept_changes=0)
            await self._replace_links(saleor_api_url, number, ticket)
        return added

    async def save(self, saleor_api_url: SaleorApiUrl, ticket: Ticket) -> None:
        number = ticket_number(ticket.id)
        result = await self._session.execute(
            update(SupportTicketRow)
            .where(SupportTicketRow.saleor_api_url == saleor_api_url, SupportTicketRow.number == number)
            .values(**_columns(ticket))
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise UnknownTicket(ticket.id)
        kept_messages = await self._count(SupportMessageRow, saleor_api_url, number)
        kept_changes = await self._count(SupportStatusChangeRow, saleor_api_url, number)
        await self._append_entries(saleor_api_url, number, ticket, kept_messages, kept_changes)
        await self._replace_links(saleor_api_url, number, ticket)

    async def set_sla(
        self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId, due: SlaDue, measures: TicketMeasures
    ) -> None:
        await self._session.execute(
            update(SupportTicketRow)
            .where(
                SupportTicketRow.saleor_api_url == saleor_api_url, SupportTicketRow.number == ticket_number(ticket_id)
            )
            .values(
                sla_policy=due.policy,
                sla_due_at=due.due_at,
                sla_due_metric=None if due.metric is None else due.metric.value,
                **measure_columns(measures),
            )
        )

    async def sla_due(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId) -> SlaDue | None:
        T = SupportTicketRow
        row = (
            await self._session.execute(
                select(T.sla_policy, T.sla_due_at, T.sla_due_metric).where(
                    T.saleor_api_url == saleor_api_url, T.number == ticket_number(ticket_id)
                )
            )
        ).first()
        if row is None:
            return None
        policy, due_at, metric = row
        return SlaDue(policy, due_at, None if metric is None else Metric(metric))

    async def inbox(self, saleor_api_url: SaleorApiUrl, query: InboxQuery) -> InboxPage:
        T = SupportTicketRow
        statement = select(T).where(T.saleor_api_url == saleor_api_url)
        if query.statuses:
            statement = statement.where(T.status.in_(sorted(status.value for status in query.statuses)))
        if query.assignee is not None:
            statement = statement.where(T.assignee == query.assignee)
        if query.unassigned:
            statement = statement.where(T.assignee.is_(None))
        if query.tag is not None:
            tagged = exists().where(
                SupportTicketTagRow.saleor_api_url == saleor_api_url,
                SupportTicketTagRow.tag == query.tag,
                SupportTicketTagRow.ticket_number == T.number,
            )
            statement = statement.where(tagged)
        if query.due_before is not None:
            statement = statement.where(T.sla_due_at < query.due_before)
        statement = (
            statement.order_by(T.sla_due_at.asc().nulls_last(), T.number)
            .offset(query.offset)
            .limit(query.limit + 1)  # one more tells whether a next page exists
        )
        rows = list((await self._session.scalars(statement)).all())
        page = rows[: query.limit]
        tags = await self._tags(saleor_api_url, [row.number for row in page])
        return InboxPage(
            tuple(
                InboxRow(
                    id=TicketId(str(row.number)),
                    subject=row.subject,
                    requester=row.requester_email,
                    status=Status(row.status),
                    priority=Priority(row.priority),
                    assignee=row.assignee,
                    tags=frozenset(tags.get(row.number, ())),
                    updated_at=row.updated_at,
                    sla_due_at=row.sla_due_at,
                    sla_metric=None if row.sla_due_metric is None else Metric(row.sla_due_metric),
                )
                for row in page
            ),
            has_more=len(rows) > query.limit,
        )

    async def solved_before(self, saleor_api_url: SaleorApiUrl, before: datetime, limit: int) -> list[TicketId]:
        T = SupportTicketRow
        numbers = await self._session.scalars(
            select(T.number)
            .where(T.saleor_api_url == saleor_api_url, T.status == Status.SOLVED.value, T.solved_at <= before)
            .order_by(T.solved_at, T.number)
            .limit(limit)
        )
        return [TicketId(str(number)) for number in numbers]

    async def for_order(self, saleor_api_url: SaleorApiUrl, order_id: SaleorId) -> list[Ticket]:
        L = SupportTicketOrderRow
        rows = await self._session.scalars(
            select(SupportTicketRow)
            .join(
                L, (L.saleor_api_url == SupportTicketRow.saleor_api_url) & (L.ticket_number == SupportTicketRow.number)
            )
            .where(L.saleor_api_url == saleor_api_url, L.order_id == order_id)
            .order_by(SupportTicketRow.number.desc())
        )
        return [await self._ticket(row) for row in rows.all()]

    async def order_numbers(self, saleor_api_url: SaleorApiUrl, order_ids: Collection[SaleorId]) -> dict[SaleorId, str]:
        E = OrderEventRow
        rows = await self._session.execute(
            select(E.order_id, func.max(E.order_number))
            .where(E.saleor_api_url == saleor_api_url, E.order_id.in_(sorted(order_ids)), E.order_number.is_not(None))
            .group_by(E.order_id)
        )
        return {SaleorId(order_id): number for order_id, number in rows if number is not None}

    async def order_customer(self, saleor_api_url: SaleorApiUrl, order_id: SaleorId) -> tuple[str, str] | None:
        """The order's number and its customer's e-mail, from the latest webhook body still kept that names
        one; None when none does (the bodies are erased after the store's retention)."""
        E = OrderEventRow
        rows = await self._session.execute(
            select(E.order_number, E.payload)
            .where(E.saleor_api_url == saleor_api_url, E.order_id == order_id, PAYLOAD_KEPT)
            .order_by(E.issued_at.desc(), E.id.desc())
            .limit(5)
        )
        for number, payload in rows:
            try:
                order = json.loads(payload).get("order") or {}
            except (ValueError, AttributeError):
                continue
            email = order.get("userEmail") or (order.get("user") or {}).get("email")
            if isinstance(email, str) and email:
                return str(number or order.get("number") or order_id), email
        return None

    async def assignees(self, saleor_api_url: SaleorApiUrl) -> list[str]:
        T = SupportTicketRow
        rows = await self._session.scalars(
            select(T.assignee).where(T.saleor_api_url == saleor_api_url, T.assignee.is_not(None)).distinct()
        )
        return sorted(assignee for assignee in rows if assignee is not None)

    async def store_causes_open(self, saleor_api_url: SaleorApiUrl, reason: StoreReason) -> list[SaleorId]:
        T, M = SupportTicketRow, SupportMessageRow
        cleared = exists().where(
            M.saleor_api_url == saleor_api_url, M.ticket_number == T.number, M.author == Author.STORE.value
        )
        keys = await self._session.scalars(
            select(T.store_key)
            .where(
                T.saleor_api_url == saleor_api_url,
                T.store_reason == reason.value,
                T.status != Status.CLOSED.value,
                ~cleared,
            )
            .order_by(T.number)
        )
        return [store_key_order(key) for key in keys if key is not None]

    async def _read(self, saleor_api_url: SaleorApiUrl, ticket_id: TicketId, *, lock: bool) -> Ticket | None:
        if not ticket_id.isdigit() or len(ticket_id) > 9:
            return None
        statement = select(SupportTicketRow).where(
            SupportTicketRow.saleor_api_url == saleor_api_url, SupportTicketRow.number == int(ticket_id)
        )
        row = await self._session.scalar(statement.with_for_update() if lock else statement)
        return None if row is None else await self._ticket(row)

    async def _ticket(self, row: SupportTicketRow) -> Ticket:
        url, number = SaleorApiUrl(row.saleor_api_url), row.number
        M, S, L = SupportMessageRow, SupportStatusChangeRow, SupportTicketOrderRow
        messages = await self._session.scalars(
            select(M).where(M.saleor_api_url == url, M.ticket_number == number).order_by(M.position)
        )
        changes = await self._session.scalars(
            select(S).where(S.saleor_api_url == url, S.ticket_number == number).order_by(S.position)
        )
        orders = await self._session.scalars(
            select(L.order_id).where(L.saleor_api_url == url, L.ticket_number == number).order_by(L.position)
        )
        tags = await self._tags(url, [number])
        return Ticket(
            id=TicketId(str(number)),
            requester=Requester(
                row.requester_email,
                None if row.requester_customer_id is None else SaleorId(row.requester_customer_id),
            ),
            subject=row.subject,
            description=row.description,
            channel=Channel(row.channel),
            created_at=row.created_at,
            status=Status(row.status),
            priority=Priority(row.priority),
            assignee=row.assignee,
            tags=frozenset(tags.get(number, ())),
            order_ids=tuple(SaleorId(order_id) for order_id in orders),
            order_value=None
            if row.order_value is None or row.order_currency is None
            else Money(row.order_value, row.order_currency),
            thread=tuple(
                Message(Author(m.author), m.author_name, m.body, m.public, m.written_at) for m in messages.all()
            ),
            history=tuple(StatusChange(Status(c.status), c.changed_at) for c in changes.all()),
            updated_at=row.updated_at,
            follow_up_of=None if row.follow_up_of is None else TicketId(str(row.follow_up_of)),
            store_reason=None if row.store_reason is None else StoreReason(row.store_reason),
        )

    async def _tags(self, saleor_api_url: SaleorApiUrl, numbers: Sequence[int]) -> dict[int, list[str]]:
        if not numbers:
            return {}
        G = SupportTicketTagRow
        rows = await self._session.execute(
            select(G.ticket_number, G.tag)
            .where(G.saleor_api_url == saleor_api_url, G.ticket_number.in_(numbers))
            .order_by(G.tag)
        )
        tags: dict[int, list[str]] = {}
        for number, tag in rows:
            tags.setdefault(number, []).append(tag)
        return tags

    async def _count(
        self, row: type[SupportMessageRow] | type[SupportStatusChangeRow], saleor_api_url: SaleorApiUrl, number: int
    ) -> int:
        count = await self._session.scalar(
            select(func.count()).where(row.saleor_api_url == saleor_api_url, row.ticket_number == number)
        )
        return int(count or 0)

    async def _append_entries(
        self, saleor_api_url: SaleorApiUrl, number: int, ticket: Ticket, kept_messages: int, kept_changes: int
    ) -> None:
        key = {"saleor_api_url": saleor_api_url, "ticket_number": number}
        messages = [
            {
                **key,
                "position": position,
                "author": message.author.value,
                "author_name": message.author_name,
                "body": message.body,
                "public": message.public,
                "written_at": message.at,
            }
            for position, message in enumerate(ticket.thread)
            if position >= kept_messages
        ]
        if messages:
            await self._session.execute(insert(SupportMessageRow), messages)
        changes = [
            {**key, "position": position, "status": change.status.value, "changed_at": change.at}
            for position, change in enumerate(ticket.history)
            if position >= kept_changes
        ]
        if changes:
            await self._session.execute(insert(SupportStatusChangeRow), changes)

    async def _replace_links(self, saleor_api_url: SaleorApiUrl, number: int, ticket: Ticket) -> None:
        L, G = SupportTicketOrderRow, SupportTicketTagRow
        await self._session.execute(delete(L).where(L.saleor_api_url == saleor_api_url, L.ticket_number == number))
        await self._session.execute(delete(G).where(G.saleor_api_url == saleor_api_url, G.ticket_number == number))
        key = {"saleor_api_url": saleor_api_url, "ticket_number": number}
        if ticket.order_ids:
            await self._session.execute(
                insert(L),
                [
                    {**key, "order_id": order_id, "position": position}
                    for position, order_id in enumerate(ticket.order_ids)
                ],
            )
        if ticket.tags:
            await self._session.execute(insert(G), [{**key, "tag": tag} for tag in sorted(ticket.tags)])

"""Support tickets on a real database: numbered per store, read back whole, once per store key, listed by the
inbox by what breaches first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.export import store_tables
from app.db.models import SupportTicketRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.retention import SqlRetentionStore
from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorId, saleor_api_url
from app.domain.installation import Installation
from app.domain.money import Money
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.reports import TicketMeasures
from app.domain.support.sla import Metric
from app.domain.support.store import open_store_ticket, store_ticket_key
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    CustomerReplied,
    NoteAdded,
    OrderLinked,
    Requester,
    Status,
    StatusSet,
    TagsChanged,
    Ticket,
    TicketEvent,
    TicketId,
    apply_ticket_event,
    open_ticket,
)
from app.runtime import Runtime
from app.services.support.model import InboxQuery, SlaDue, UnknownTicket
from tests.builders import NOW, make_installation

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")
ORDER = SaleorId("T3JkZXI6MQ==")


@pytest.fixture
async def session(runtime: Runtime, installation: Installation) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )
        yield session


@pytest.fixture
def tickets(session: AsyncSession) -> SqlTicketStore:
    return SqlTicketStore(session)


def _ticket(ticket_id: TicketId, **changes: object) -> Ticket:
    ticket = open_ticket(
        ticket_id,
        requester=Requester("ann@example.com", SaleorId("VXNlcjox")),
        subject="Where is my parcel?",
        description="It has been a week.",
        channel=Channel.EMAIL,
        now=NOW,
        tags=("shipping",),
        order_ids=(ORDER,),
        order_value=Money(Decimal("120.50"), "USD"),
    )
    return replace(ticket, **changes)  # type: ignore[arg-type]


def _worked(ticket: Ticket) -> Ticket:
    """A ticket with a public reply, a note, a customer's answer, an assignee, a second order and a tag."""
    events: list[TicketEvent] = [
        Assigned("agent@shop.test"),
        AgentReplied("agent@shop.test", "It left yesterday.", Status.PENDING),
        CustomerReplied("It has not arrived."),
        NoteAdded("agent@shop.test", "Ask the carrier."),
        OrderLinked(SaleorId("T3JkZXI6Mg==")),
        TagsChanged(added=frozenset({"carrier"}), removed=frozenset({"shipping"})),
    ]
    for minutes, event in enumerate(events, start=1):
        ticket, _ = apply_ticket_event(ticket, event, NOW + timedelta(minutes=minutes))
    return ticket


async def test_ticket_numbers_count_up_per_store(tickets: SqlTicketStore) -> None:
    assert [await tickets.next_id(SHOP) for _ in range(3)] == ["1", "2", "3"]
    assert await tickets.next_id(OTHER) == "1"


async def test_a_ticket_is_read_back_whole_after_it_is_added_and_saved(tickets: SqlTicketStore) -> None:
    ticket = _ticket(await tickets.next_id(SHOP))
    assert await tickets.add(SHOP, ticket)
    assert await tickets.get(SHOP, ticket.id) == ticket
    worked = _worked(ticket)
    await tickets.save(SHOP, worked)
    assert await tickets.get(SHOP, ticket.id) == worked
    assert await tickets.get(OTHER, ticket.id) is None
    assert await tickets.get(SHOP, TicketId("nope")) is None


async def test_saving_a_ticket_never_added_is_refused(tickets: SqlTicketStore) -> None:
    with pytest.raises(UnknownTicket):
        await tickets.save(SHOP, _ticket(TicketId("7")))


async def test_a_tag_too_long_to_keep_is_refused_before_anything_is_written(tickets: SqlTicketStore) -> None:
    ticket = _ticket(await tickets.next_id(SHOP), tags=frozenset({"x" * 65}))
    with pytest.raises(ValueError, match="at most 64"):
        await tickets.add(SHOP, ticket)
    assert await tickets.get(SHOP, ticket.id) is None


async def test_the_store_opens_one_ticket_per_store_key(tickets: SqlTicketStore) -> None:
    key = store_ticket_key(ORDER, StoreReason.HELD_FOR_REVIEW)

    def held(ticket_id: TicketId) -> Ticket:
        return open_store_ticket(
            ticket_id,
            order_id=ORDER,
            order_number="1042",
            reason=StoreReason.HELD_FOR_REVIEW,
            requester=Requester("ann@example.com"),
            details="Held: the card's country differs from the address.",
            now=NOW,
        )

    first = held(await tickets.next_id(SHOP))
    assert await tickets.add(SHOP, first, store_key=key)
    assert not await tickets.add(SHOP, held(await tickets.next_id(SHOP)), store_key=key)
    assert await tickets.opened_by_store(SHOP, key) == first
    assert await tickets.opened_by_store(OTHER, key) is None
    assert await tickets.add(OTHER, held(await tickets.next_id(OTHER)), store_key=key)
    assert [ticket.id for ticket in await tickets.for_order(SHOP, ORDER)] == [first.id]


async def test_the_inbox_lists_what_breaches_first_and_filters(tickets: SqlTicketStore) -> None:
    due = {"1": NOW + timedelta(hours=5), "2": NOW + timedelta(hours=1), "3": None, "4": NOW - timedelta(hours=2)}
    for number, due_at in due.items():
        ticket_id = await tickets.next_id(SHOP)
        assert ticket_id == number
        ticket = _ticket(ticket_id)
        if number == "2":
            ticket = _worked(ticket)
        await tickets.add(SHOP, ticket)
        await tickets.set_sla(
            SHOP,
            ticket_id,
            SlaDue("Standard", due_at, None if due_at is None else Metric.FIRST_REPLY),
            TicketMeasures(),
        )

    async def ids(**filters: object) -> list[str]:
        page = await tickets.inbox(SHOP, InboxQuery(**filters))  # type: ignore[arg-type]
        return [row.id for row in page.rows]

    assert await ids() == ["4", "2", "1", "3"]
    assert await ids(statuses=frozenset({Status.NEW})) == ["4", "1", "3"]
    assert await ids(statuses=frozenset({Status.PENDING, Status.OPEN})) == ["2"]
    assert await ids(assignee="agent@shop.test") == ["2"]
    assert await tickets.assignees(SHOP) == ["agent@shop.test"]
    assert await ids(unassigned=True) == ["4", "1", "3"]
    assert await ids(tag="carrier") == ["2"]
    assert await ids(tag="shipping") == ["4", "1", "3"]
    assert await ids(due_before=NOW + timedelta(hours=2)) == ["4", "2"]
    first = await tickets.inbox(SHOP, InboxQuery(limit=3))
    assert first.has_more
    assert [row.id for row in first.rows] == ["4", "2", "1"]
    rest = await tickets.inbox(SHOP, InboxQuery(offset=3, limit=3))
    assert not rest.has_more
    assert [row.id for row in rest.rows] == ["3"]
    row = first.rows[1]
    assert (row.status, row.priority, row.assignee, row.tags) == (
        Status.OPEN,  # the customer's answer reopened it
        Priority.NORMAL,
        "agent@shop.test",
        frozenset({"carrier"}),
    )
    assert (row.sla_due_at, row.sla_metric) == (due["2"], Metric.FIRST_REPLY)
    assert await tickets.sla_due(SHOP, TicketId("3")) == SlaDue("Standard")
    assert (await tickets.inbox(OTHER, InboxQuery())).rows == ()


async def test_solved_tickets_are_found_by_when_they_were_solved(tickets: SqlTicketStore) -> None:
    for _ in range(3):
        await tickets.add(SHOP, _ticket(await tickets.next_id(SHOP), assignee="agent@shop.test"))
    for ticket_id, hours in (("1", 1), ("2", 3)):
        kept = await tickets.get(SHOP, TicketId(ticket_id))
        assert kept is not None
        solved, _ = apply_ticket_event(kept, StatusSet(Status.SOLVED), NOW + timedelta(hours=hours))
        await tickets.save(SHOP, solved)
    assert await tickets.solved_before(SHOP, NOW + timedelta(hours=4), 10) == ["1", "2"]
    assert await tickets.solved_before(SHOP, NOW + timedelta(hours=2), 10) == ["1"]
    assert await tickets.solved_before(SHOP, NOW + timedelta(hours=4), 1) == ["1"]


async def test_deleting_a_store_deletes_its_tickets_with_all_their_rows(
    session: AsyncSession, tickets: SqlTicketStore, runtime: Runtime
) -> None:
    for url in (SHOP, OTHER):
        ticket = _worked(_ticket(await tickets.next_id(url)))
        await tickets.add(url, ticket)
    await SqlInstallationStore(session, runtime.cipher).uninstall(SHOP, NOW)
    assert await SqlRetentionStore(session).delete_uninstalled(SHOP, uninstalled_before=NOW)
    for table in store_tables():
        if table.name.startswith("support_"):
            kept = await session.execute(select(table.c.saleor_api_url, func.count()).group_by(table.c.saleor_api_url))
            # The other store's rows stay (it has none of the tables a ticket does not write, e.g. macros).
            assert [url for url, _ in kept] in ([OTHER], []), table.name
    tickets_kept = await session.execute(select(SupportTicketRow.saleor_api_url))
    assert tickets_kept.scalars().all() == [OTHER]

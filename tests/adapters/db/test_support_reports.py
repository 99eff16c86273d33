"""The tickets a support report measures, read from a real database: those created in [start, end) of one store,
in pages by creation, with their public messages, status history and tags, and measured as the desk's own
tickets are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.support import SqlTicketStore
from app.db.repositories.support_reports import SqlSupportReports
from app.domain.ids import SaleorId, saleor_api_url
from app.domain.installation import Installation
from app.domain.money import Money
from app.domain.support.hours import BusinessHours
from app.domain.support.model import Channel, Priority
from app.domain.support.reports import measure_ticket
from app.domain.support.sla import Metric, SlaPolicy
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    CustomerReplied,
    NoteAdded,
    Requester,
    Status,
    StatusSet,
    TagsChanged,
    Ticket,
    TicketEvent,
    apply_ticket_event,
    open_ticket,
)
from app.runtime import Runtime
from tests.builders import NOW, make_installation

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def session(runtime: Runtime, installation: Installation) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )
        yield session


async def _keep(store: SqlTicketStore, url: str, minutes_after: int, *events: TicketEvent) -> Ticket:
    """A ticket created ``minutes_after`` NOW, then the events a minute apart, kept as the desk keeps it."""
    created = NOW + minutes_after * MINUTE
    ticket = open_ticket(
        await store.next_id(saleor_api_url(url)),
        requester=Requester("ann@example.com"),
        subject="Where is my parcel?",
        description="It has been a week.",
        channel=Channel.EMAIL,
        now=created,
        priority=Priority.HIGH,
        tags=("shipping",),
        order_ids=(SaleorId("T3JkZXI6MQ=="),),
        order_value=Money(Decimal("120.50"), "USD"),
    )
    assert await store.add(saleor_api_url(url), ticket)
    for step, event in enumerate(events, start=1):
        ticket, _ = apply_ticket_event(ticket, event, created + step * MINUTE)
    if events:
        await store.save(saleor_api_url(url), ticket)
    return ticket


async def _read(reports: SqlSupportReports, start_minute: int, end_minute: int, page: int = 100) -> list[list[Ticket]]:
    start, end = NOW + start_minute * MINUTE, NOW + end_minute * MINUTE
    return [batch async for batch in reports.tickets_created(SHOP, start, end, page=page)]


WORKED: tuple[TicketEvent, ...] = (
    Assigned("agent@shop.test"),
    NoteAdded("agent@shop.test", "Ask the carrier."),
    AgentReplied("agent@shop.test", "It left yesterday.", Status.PENDING),
    CustomerReplied("It has not arrived."),
    TagsChanged(added=frozenset({"carrier"})),
    AgentReplied("agent@shop.test", "Found it.", Status.SOLVED),
)


async def test_the_period_is_start_included_end_excluded_of_one_store_in_order_of_creation(
    session: AsyncSession,
) -> None:
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    for minutes in (30, 0, 10, 20):  # numbered 1..4 in this order
        await _keep(store, SHOP, minutes)
    await _keep(store, OTHER, 10)
    pages = await _read(reports, 0, 30)
    assert [[ticket.id for ticket in page] for page in pages] == [["2", "3", "4"]]


async def test_pages_follow_on_from_the_last_ticket_even_when_tickets_share_a_creation_time(
    session: AsyncSession,
) -> None:
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    for minutes in (0, 0, 0, 5, 5):
        await _keep(store, SHOP, minutes)
    pages = await _read(reports, 0, 60, page=2)
    assert [[ticket.id for ticket in page] for page in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert await _read(reports, 60, 120) == []


async def test_a_ticket_is_read_with_what_its_measurement_needs_and_measures_as_the_kept_one(
    session: AsyncSession,
) -> None:
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    kept = await _keep(store, SHOP, 0, *WORKED)
    [[read]] = await _read(reports, 0, 60)
    # Only public messages, by whom and when; no bodies.
    assert [(m.author, m.at) for m in read.thread] == [(m.author, m.at) for m in kept.thread if m.public]
    assert all(m.public and not m.body for m in read.thread)
    assert read.history == kept.history
    assert read.tags == kept.tags == frozenset({"shipping", "carrier"})
    assert (read.assignee, read.status, read.priority, read.channel) == (
        kept.assignee,
        kept.status,
        kept.priority,
        kept.channel,
    )
    assert read.order_value == kept.order_value
    assert read.created_at == kept.created_at
    targets = {Priority.HIGH: {Metric.FIRST_REPLY: 2, Metric.NEXT_REPLY: 5, Metric.RESOLUTION: 30}}
    policy = SlaPolicy("always", targets, BusinessHours.always())
    later = NOW + timedelta(hours=1)
    assert measure_ticket(read, policy, policy.hours, later) == measure_ticket(kept, policy, policy.hours, later)


async def test_an_unworked_ticket_has_no_thread_and_its_first_status(session: AsyncSession) -> None:
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    kept = await _keep(store, SHOP, 0, StatusSet(Status.OPEN))
    [[read]] = await _read(reports, 0, 1)
    assert read.thread == ()
    assert [change.status for change in read.history] == [Status.NEW, Status.OPEN]
    assert read.history == kept.history

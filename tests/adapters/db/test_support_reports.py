"""The tickets a support report groups, read from a real database: those created in [start, end) of one store, in
pages by creation, each with the measures the desk kept at its latest change; and the migration that measured the
tickets kept before measures were."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.db.base import Base
from app.db.migrate import alembic_config
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.support import SqlTicketStore
from app.db.repositories.support_reports import SqlSupportReports
from app.domain.ids import SaleorId, saleor_api_url
from app.domain.installation import Installation
from app.domain.money import Money
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.reports import ClockCounts, GroupBy, MeasuredTicket, measure_ticket, summarize
from app.domain.support.sla import Metric, select_policy
from app.domain.support.store import open_store_ticket
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
    open_ticket,
)
from app.runtime import Runtime
from app.security import SecretCipher
from app.services.support.desk import act, add_ticket
from app.services.support.settings import SupportSettings
from tests.builders import NOW, make_installation
from tests.fakes.in_memory import InMemorySettingsStore

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")
MINUTE = timedelta(minutes=1)
CONFIGURATION = SupportSettings().configuration()  # the defaults: Standard, 9-17 UTC on weekdays


@pytest.fixture
async def session(runtime: Runtime, installation: Installation) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )
        yield session


async def _keep(store: SqlTicketStore, url: str, minutes_after: int, *events: TicketEvent) -> Ticket:
    """A ticket created ``minutes_after`` NOW, then the events a minute apart, kept through the desk."""
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
    settings = InMemorySettingsStore()
    assert await add_ticket(store, settings, saleor_api_url(url), ticket, created)
    for step, event in enumerate(events, start=1):
        ticket = (await act(store, settings, saleor_api_url(url), ticket.id, event, created + step * MINUTE)).ticket
    return ticket


def _as_measured_at_its_last_change(ticket: Ticket) -> MeasuredTicket:
    policy = select_policy(CONFIGURATION.policies, ticket)
    return measure_ticket(ticket, policy, CONFIGURATION.hours, ticket.updated_at or ticket.created_at)


async def _read(
    reports: SqlSupportReports, start_minute: int, end_minute: int, page: int = 100
) -> list[list[MeasuredTicket]]:
    start, end = NOW + start_minute * MINUTE, NOW + end_minute * MINUTE
    return [batch async for batch in reports.measured_created(SHOP, start, end, page=page)]


def _minutes(pages: list[list[MeasuredTicket]]) -> list[list[int]]:
    return [[(ticket.created_at - NOW) // MINUTE for ticket in page] for page in pages]


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
    for minutes in (30, 0, 10, 20):
        await _keep(store, SHOP, minutes)
    await _keep(store, OTHER, 10)
    assert _minutes(await _read(reports, 0, 30)) == [[0, 10, 20]]


async def test_pages_follow_on_from_the_last_ticket_even_when_tickets_share_a_creation_time(
    session: AsyncSession,
) -> None:
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    for minutes in (0, 0, 0, 5, 5):
        await _keep(store, SHOP, minutes)
    assert _minutes(await _read(reports, 0, 60, page=2)) == [[0, 0], [0, 5], [5]]
    assert await _read(reports, 60, 120) == []


async def test_a_worked_ticket_is_read_with_the_measures_of_its_last_change(session: AsyncSession) -> None:
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    kept = await _keep(store, SHOP, 0, *WORKED)
    [[read]] = await _read(reports, 0, 60)
    assert read == _as_measured_at_its_last_change(kept)
    assert (read.assignee, read.reason) == ("agent@shop.test", "email")
    assert read.measures.first_reply == 3 * MINUTE
    assert read.measures.counts(Metric.NEXT_REPLY).achieved == 1


async def test_a_new_ticket_keeps_the_deadline_of_its_clocks_still_going(session: AsyncSession) -> None:
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    kept = await _keep(store, SHOP, 0, StatusSet(Status.OPEN))
    [[read]] = await _read(reports, 0, 1)
    assert read == _as_measured_at_its_last_change(kept)
    assert read.measures.first_reply is None
    # Standard, high priority: a first reply in 2 business hours, a resolution in 16 (9-17 UTC on weekdays).
    assert read.measures.counts(Metric.FIRST_REPLY) == ClockCounts(0, 0, NOW + timedelta(hours=2))
    # Thursday noon + 16 business hours: 5 on Thursday, 8 on Friday, 3 after the weekend.
    assert read.measures.counts(Metric.RESOLUTION).due_at == NOW + timedelta(days=4)


async def test_a_store_ticket_is_read_with_its_reason(session: AsyncSession) -> None:
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    ticket = open_store_ticket(
        await store.next_id(SHOP),
        order_id=SaleorId("T3JkZXI6MQ=="),
        order_number="1001",
        reason=StoreReason.SOLD_BEYOND_STOCK,
        requester=Requester("ann@example.com"),
        details="3 units short",
        now=NOW,
    )
    assert await add_ticket(store, InMemorySettingsStore(), SHOP, ticket, NOW)
    [[read]] = await _read(reports, 0, 1)
    assert read.reason == "sold_beyond_stock"


async def test_the_migration_measures_the_tickets_kept_before_measures_were(tmp_path: Path) -> None:
    """Kept with their measures at head, rolled back past the measures and brought forward again: the backfill
    measures each ticket from its thread and history as the desk does (at migration time, for clocks going).
    On its own SQLite file, or on the test PostgreSQL database (left at head and emptied)."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path}/backfill.db"
    config = alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "head")
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions.begin() as session:
            await SqlInstallationStore(session, SecretCipher("test")).save(
                make_installation(saleor_api_url=SHOP, jwks="{}")
            )
            store = SqlTicketStore(session)
            worked = await _keep(store, SHOP, 0, *WORKED)
            waiting = await _keep(store, SHOP, 10, Assigned("agent@shop.test"))
            kept = [page async for page in SqlSupportReports(session).measured_created(SHOP, NOW, NOW + 60 * MINUTE)]
        await engine.dispose()
        await asyncio.to_thread(command.downgrade, config, "0010f_support_created_index")
        await asyncio.to_thread(command.upgrade, config, "head")
        engine = create_async_engine(url)
        async with async_sessionmaker(engine)() as session:
            reports = SqlSupportReports(session)
            [[worked_read, waiting_read]] = [
                page async for page in reports.measured_created(SHOP, NOW, NOW + 60 * MINUTE)
            ]
        assert [[worked_read, waiting_read]] == kept
        assert worked_read == _as_measured_at_its_last_change(worked)
        assert waiting_read.measures.counts(Metric.FIRST_REPLY) == ClockCounts(
            0, 0, NOW + timedelta(hours=2, minutes=10)
        )
        assert waiting.assignee == waiting_read.assignee
    finally:
        async with async_sessionmaker(engine).begin() as session:
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(delete(table))
        await engine.dispose()


@pytest.mark.parametrize("group_by", list(GroupBy))
async def test_the_report_has_the_figures_the_domain_gives_the_measured_tickets(
    session: AsyncSession, group_by: GroupBy
) -> None:
    """On PostgreSQL a grouped query (the team's weeks as ranges of instants, percentiles by percentile_cont); on
    SQLite the domain's own grouping: the same report either way."""
    store, reports = SqlTicketStore(session), SqlSupportReports(session)
    day = 24 * 60
    await _keep(store, SHOP, 0, *WORKED)
    await _keep(store, SHOP, 3 * day, Assigned("bo@shop.test"), AgentReplied("bo@shop.test", "Soon."))
    await _keep(store, SHOP, 3 * day + 12 * 60)  # Monday 00:00 UTC, still Sunday in New York
    await _keep(
        store, SHOP, 5 * day, Assigned("agent@shop.test"), AgentReplied("agent@shop.test", "Done.", Status.SOLVED)
    )
    await _keep(store, SHOP, 10 * day, Assigned("bo@shop.test"))
    await _keep(store, OTHER, 1 * day, *WORKED)
    held = open_store_ticket(
        await store.next_id(SHOP),
        order_id=SaleorId("T3JkZXI6Mg=="),
        order_number="1002",
        reason=StoreReason.HELD_FOR_REVIEW,
        requester=Requester("ann@example.com"),
        details="Held",
        now=NOW + timedelta(days=1),
    )
    assert await add_ticket(store, InMemorySettingsStore(), SHOP, held, NOW + timedelta(days=1))
    zone = ZoneInfo("America/New_York")
    start, end = NOW - timedelta(days=1), NOW + timedelta(days=14)
    for now in (NOW + timedelta(days=10, minutes=30), NOW + timedelta(days=40)):
        measured = [ticket async for page in reports.measured_created(SHOP, start, end) for ticket in page]
        assert len(measured) == 6
        expected = summarize(measured, group_by, zone, now)
        assert len(expected.rows) >= 2
        assert expected.total.first_reply.count == 3
        assert await reports.report(SHOP, start, end, group_by, zone, now) == expected
    assert await reports.report(SHOP, end, end + timedelta(days=7), group_by, zone, now) == summarize(
        [], group_by, zone, now
    )

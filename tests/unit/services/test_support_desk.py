"""The support desk on the SQL store: events applied with the ticket's SLA kept for the inbox, refused events
changing nothing, the store's own tickets opened once and closed when their cause clears, solved tickets
closed once the store's days have passed, and the support settings validated as a whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from app.db.repositories.support import SqlTicketStore
from app.domain.ids import SaleorId
from app.domain.installation import Installation
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.sla import ClockState, Metric
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    CustomerReplied,
    Requester,
    Status,
    StatusSet,
    TicketClosed,
    TicketId,
    TicketRefused,
    open_ticket,
)
from app.runtime import Runtime
from app.services.settings import SECTIONS, SettingsRejected, SettingsSaved, change_settings
from app.services.support.desk import (
    StoreCause,
    act,
    add_ticket,
    clear_store_cause,
    close_solved,
    open_for_store,
    view,
)
from app.services.support.model import SlaDue, UnknownTicket
from tests.builders import SHOP_API_URL
from tests.fakes.in_memory import InMemorySettingsStore

SUPPORT = SECTIONS["support"]
MONDAY_4PM = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # the default hours: 09:00-17:00 UTC, Monday to Friday
ORDER = SaleorId("T3JkZXI6MQ==")
AGENT = "agent@shop.test"


@pytest.fixture
async def desk(runtime: Runtime, installation: Installation) -> AsyncIterator[SqlTicketStore]:
    async with runtime.sessions.begin() as session:
        yield SqlTicketStore(session)


@pytest.fixture
def store_settings() -> InMemorySettingsStore:
    return InMemorySettingsStore()


async def _opened(
    desk: SqlTicketStore, store_settings: InMemorySettingsStore, priority: Priority = Priority.NORMAL
) -> TicketId:
    ticket = open_ticket(
        await desk.next_id(SHOP_API_URL),
        requester=Requester("ann@example.com"),
        subject="Where is my parcel?",
        description="It has been a week.",
        channel=Channel.EMAIL,
        now=MONDAY_4PM,
        priority=priority,
        order_ids=(ORDER,),
    )
    assert await add_ticket(desk, store_settings, SHOP_API_URL, ticket, MONDAY_4PM)
    return ticket.id


async def test_a_new_ticket_is_due_its_first_reply_in_business_hours(
    desk: SqlTicketStore, store_settings: InMemorySettingsStore
) -> None:
    ticket_id = await _opened(desk, store_settings)
    # 8 business hours from Monday 16:00: one hour on Monday, seven on Tuesday.
    due = SlaDue("Standard", datetime(2026, 12, 1, 16, 0, tzinfo=UTC), Metric.FIRST_REPLY)
    assert await desk.sla_due(SHOP_API_URL, ticket_id) == due


async def test_a_reply_moves_what_is_due_next_and_pending_pauses_it(
    desk: SqlTicketStore, store_settings: InMemorySettingsStore
) -> None:
    ticket_id = await _opened(desk, store_settings)
    replied = await act(
        desk,
        store_settings,
        SHOP_API_URL,
        ticket_id,
        AgentReplied(AGENT, "On its way."),
        MONDAY_4PM + timedelta(minutes=30),
    )
    assert replied.ticket.status is Status.OPEN
    assert [n.recipient for n in replied.notifications] == ["ann@example.com"]
    assert replied.sla is not None
    assert [(c.metric, c.state) for c in replied.sla.clocks] == [
        (Metric.FIRST_REPLY, ClockState.ACHIEVED),
        (Metric.RESOLUTION, ClockState.RUNNING),
    ]
    # 40 business hours: Monday's last hour, Tuesday to Friday, and seven hours of the next Monday.
    resolution = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    assert await desk.sla_due(SHOP_API_URL, ticket_id) == SlaDue("Standard", resolution, Metric.RESOLUTION)

    later = MONDAY_4PM + timedelta(minutes=40)
    await act(desk, store_settings, SHOP_API_URL, ticket_id, StatusSet(Status.PENDING), later)
    assert await desk.sla_due(SHOP_API_URL, ticket_id) == SlaDue("Standard")

    answered = await act(desk, store_settings, SHOP_API_URL, ticket_id, CustomerReplied("Still nothing."), later)
    assert answered.ticket.status is Status.OPEN
    kept = await desk.sla_due(SHOP_API_URL, ticket_id)
    assert kept is not None
    assert kept.metric is Metric.NEXT_REPLY  # 8 business hours, before the resolution's 40
    assert kept.due_at == datetime(2026, 12, 1, 16, 40, tzinfo=UTC)


async def test_a_refused_event_changes_nothing(desk: SqlTicketStore, store_settings: InMemorySettingsStore) -> None:
    ticket_id = await _opened(desk, store_settings)
    before = await desk.get(SHOP_API_URL, ticket_id)
    with pytest.raises(TicketRefused, match="needs an assignee"):
        await act(desk, store_settings, SHOP_API_URL, ticket_id, StatusSet(Status.SOLVED), MONDAY_4PM)
    assert await desk.get(SHOP_API_URL, ticket_id) == before
    with pytest.raises(UnknownTicket):
        await act(desk, store_settings, SHOP_API_URL, TicketId("99"), Assigned(AGENT), MONDAY_4PM)


async def test_a_policy_that_matches_no_ticket_leaves_it_without_sla(
    desk: SqlTicketStore, store_settings: InMemorySettingsStore
) -> None:
    policies = '[{"name": "VIP", "tags": ["vip"], "targets": {"normal": {"first_reply": 60}}}]'
    saved = await change_settings(
        store_settings, SHOP_API_URL, SUPPORT, {"policies": policies}, changed_by=AGENT, now=MONDAY_4PM
    )
    assert isinstance(saved, SettingsSaved)
    ticket_id = await _opened(desk, store_settings)
    assert await desk.sla_due(SHOP_API_URL, ticket_id) == SlaDue()
    shown = await view(desk, store_settings, SHOP_API_URL, ticket_id, MONDAY_4PM)
    assert shown is not None
    assert shown[1] is None


async def test_solved_tickets_close_after_the_stores_days(
    desk: SqlTicketStore, store_settings: InMemorySettingsStore
) -> None:
    early, late = await _opened(desk, store_settings), await _opened(desk, store_settings)
    for ticket_id, at in ((early, MONDAY_4PM), (late, MONDAY_4PM + timedelta(days=1))):
        await act(desk, store_settings, SHOP_API_URL, ticket_id, Assigned(AGENT), at)
        await act(desk, store_settings, SHOP_API_URL, ticket_id, StatusSet(Status.SOLVED), at)

    assert await close_solved(desk, store_settings, SHOP_API_URL, MONDAY_4PM + timedelta(days=4, hours=12)) == 1
    closed, solved = await desk.get(SHOP_API_URL, early), await desk.get(SHOP_API_URL, late)
    assert closed is not None
    assert solved is not None
    assert (closed.status, solved.status) == (Status.CLOSED, Status.SOLVED)
    with pytest.raises(TicketClosed):
        await act(
            desk, store_settings, SHOP_API_URL, early, CustomerReplied("One more thing"), MONDAY_4PM + timedelta(days=5)
        )

    outcome = await change_settings(
        store_settings, SHOP_API_URL, SUPPORT, {"close_solved_after_days": "28"}, changed_by=AGENT, now=MONDAY_4PM
    )
    assert isinstance(outcome, SettingsSaved)
    assert await close_solved(desk, store_settings, SHOP_API_URL, MONDAY_4PM + timedelta(days=10)) == 0


async def test_the_store_opens_one_ticket_per_order_and_reason_and_closes_it_when_the_cause_clears(
    desk: SqlTicketStore, store_settings: InMemorySettingsStore
) -> None:
    cause = StoreCause(ORDER, "1042", StoreReason.HELD_FOR_REVIEW, Requester("ann@example.com"), "Score 80: review.")
    opened = await open_for_store(desk, store_settings, SHOP_API_URL, cause, MONDAY_4PM)
    assert opened is not None
    assert (opened.priority, opened.tags, opened.subject) == (
        Priority.HIGH,
        frozenset({"store-held-for-review"}),
        "Order 1042 is held for review",
    )
    assert await open_for_store(desk, store_settings, SHOP_API_URL, cause, MONDAY_4PM) is None
    due = await desk.sla_due(SHOP_API_URL, opened.id)
    # High: 2 business hours, the last of Monday's and the first of Tuesday's.
    assert due == SlaDue("Standard", datetime(2026, 12, 1, 10, 0, tzinfo=UTC), Metric.FIRST_REPLY)

    cleared = await clear_store_cause(
        desk, store_settings, SHOP_API_URL, ORDER, StoreReason.HELD_FOR_REVIEW, "Approved by staff.", MONDAY_4PM
    )
    assert cleared is not None
    assert cleared.ticket.status is Status.CLOSED
    assert await desk.sla_due(SHOP_API_URL, opened.id) == SlaDue("Standard")
    assert (
        await clear_store_cause(
            desk, store_settings, SHOP_API_URL, ORDER, StoreReason.HELD_FOR_REVIEW, "Again.", MONDAY_4PM
        )
        is None
    )


@pytest.mark.parametrize(
    ("submitted", "field", "reason"),
    [
        ({"hours": '{"mon": [["17:00", "09:00"]]}'}, "__all__", "does not open before"),
        ({"hours": '{"funday": [["09:00", "17:00"]]}'}, "hours", "weekdays are mon"),
        ({"hours": "{"}, "hours", "not valid JSON"),
        ({"holiday_country": "XX"}, "__all__", "not a country"),
        ({"holiday_country": "US", "holiday_subdivision": "ZZ"}, "__all__", "no subdivision"),
        ({"time_zone": "Mars/Olympus"}, "__all__", "not an IANA time zone"),
        ({"closures": "2026-13-01"}, "closures", "date"),
        (
            {"policies": '[{"name": "Big", "min_order_value": 500, "targets": {"high": {"first_reply": 5}}}]'},
            "__all__",
            "currency",
        ),
        (
            {"policies": '[{"name": "A", "targets": {"high": {"first_reply": 60, "resolution": 30}}}]'},
            "__all__",
            "shorter",
        ),
        (
            {
                "policies": '[{"name": "A", "targets": {"high": {"first_reply": 5}}}, '
                '{"name": "A", "targets": {"low": {"first_reply": 5}}}]'
            },
            "policies",
            "more than once",
        ),
        ({"close_solved_after_days": "29"}, "close_solved_after_days", "less than or equal to 28"),
    ],
)
async def test_support_settings_refuse_what_cannot_be_used_and_keep_nothing(
    store_settings: InMemorySettingsStore, submitted: dict[str, str], field: str, reason: str
) -> None:
    outcome = await change_settings(store_settings, SHOP_API_URL, SUPPORT, submitted, changed_by=AGENT, now=MONDAY_4PM)
    assert isinstance(outcome, SettingsRejected)
    assert reason in outcome.errors[field]
    assert store_settings.changes == []


async def test_support_settings_build_the_teams_calendar(store_settings: InMemorySettingsStore) -> None:
    submitted = {
        "time_zone": "America/New_York",
        "hours": '{"mon": [["09:00", "12:30"], ["13:30", "17:00"]], "sat": [["10:00", "14:00"]]}',
        "holiday_country": "us",
        "holiday_subdivision": "ny",
        "closures": "2026-12-24, 2026-12-31",
    }
    outcome = await change_settings(store_settings, SHOP_API_URL, SUPPORT, submitted, changed_by=AGENT, now=MONDAY_4PM)
    assert isinstance(outcome, SettingsSaved)
    hours = outcome.values.configuration().hours  # type: ignore[attr-defined]
    assert (hours.time_zone, hours.country, hours.subdivision) == ("America/New_York", "US", "NY")
    assert not hours.is_working_day(date(2026, 12, 24))
    assert not hours.is_working_day(date(2026, 11, 26))  # Thanksgiving
    assert hours.is_working_day(date(2026, 11, 28))  # a Saturday with hours

"""Support reports: business times to the first reply and to resolution, pauses left out, grouped per ISO week in
the team's zone, per assignee and per reason, with medians, 90th percentiles and SLA attainment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from app.domain.ids import SaleorId
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.reports import (
    Attainment,
    ClockCounts,
    GroupBy,
    MeasuredTicket,
    TicketMeasures,
    measure_ticket,
    percentile,
    summarize,
    ticket_reason,
    week_of,
)
from app.domain.support.sla import ClockState, Metric, SlaPolicy
from app.domain.support.store import open_store_ticket
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    CustomerReplied,
    Requester,
    Status,
    StatusSet,
    Ticket,
    TicketEvent,
    TicketId,
    apply_ticket_event,
)
from tests.unit.domain.support.builders import make_hours, make_ticket

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
HOURS = make_hours()  # New York, 9-17 on weekdays, US holidays
NEW_YORK = HOURS.zone
MONDAY_10 = datetime(2026, 10, 5, 10, tzinfo=NEW_YORK)
TARGETS = {Priority.NORMAL: {Metric.FIRST_REPLY: 120, Metric.NEXT_REPLY: 240, Metric.RESOLUTION: 960}}
POLICY = SlaPolicy("standard", TARGETS, HOURS)
REPORT_AT = MONDAY_10 + timedelta(days=30)


def run(ticket: Ticket, *steps: tuple[timedelta, TicketEvent]) -> Ticket:
    for offset, event in steps:
        ticket = apply_ticket_event(ticket, event, ticket.created_at + offset)[0]
    return ticket


def opened(at: datetime = MONDAY_10) -> Ticket:
    return make_ticket(at=at.astimezone(UTC))


def measured(
    *,
    at: datetime = MONDAY_10,
    assignee: str | None = None,
    reason: str = "email",
    first_reply: timedelta | None = None,
    resolution: timedelta | None = None,
    states: tuple[tuple[Metric, ClockState], ...] = (),
) -> MeasuredTicket:
    """A ticket as the desk kept it; its clocks in ``states`` as a report at ``REPORT_AT`` sees them."""
    clocks: dict[Metric, ClockCounts] = {}
    for metric, state in states:
        kept = clocks.get(metric, ClockCounts())
        match state:
            case ClockState.ACHIEVED:
                kept = ClockCounts(kept.achieved + 1, kept.breached, kept.due_at)
            case ClockState.BREACHED:  # stopped late, or still going past its deadline
                kept = ClockCounts(kept.achieved, kept.breached, REPORT_AT - HOUR)
            case ClockState.RUNNING:
                kept = ClockCounts(kept.achieved, kept.breached, REPORT_AT + HOUR)
        clocks[metric] = kept
    return MeasuredTicket(at.astimezone(UTC), assignee, reason, TicketMeasures(first_reply, resolution, clocks))


def clocks(ticket: MeasuredTicket, now: datetime) -> list[tuple[Metric, int, int]]:
    """(metric, achieved, breached) of the ticket's clocks as a report at ``now`` counts them."""
    return [(metric, *counts.decided(now)) for metric, counts in ticket.measures.clocks.items()]


# Measuring one ticket


def test_first_reply_and_resolution_are_counted_in_business_hours() -> None:
    # Friday 16:00: an hour before closing, then the weekend; replied Monday 10:00, solved Monday 12:00.
    friday_16 = datetime(2026, 10, 9, 16, tzinfo=NEW_YORK)
    ticket = run(
        opened(friday_16),
        (timedelta(days=2, hours=18), Assigned("agent@shop.test")),
        (timedelta(days=2, hours=18), AgentReplied("agent@shop.test", "On it")),
        (timedelta(days=2, hours=20), StatusSet(Status.SOLVED)),
    )
    # Monday 12 October 2026 is Columbus Day, a US public holiday: only Friday's last hour counts.
    result = measure_ticket(ticket, POLICY, HOURS, ticket.created_at + timedelta(days=5))
    assert result.measures.first_reply == HOUR
    assert result.measures.resolution == HOUR
    assert result.assignee == "agent@shop.test"
    assert clocks(result, ticket.created_at + timedelta(days=30)) == [
        (Metric.FIRST_REPLY, 1, 0),
        (Metric.RESOLUTION, 1, 0),
    ]


def test_pending_and_on_hold_time_is_not_counted() -> None:
    ticket = run(
        opened(),
        (timedelta(0), Assigned("agent@shop.test")),
        (HOUR, StatusSet(Status.PENDING)),  # waiting for the customer for two hours
        (3 * HOUR, StatusSet(Status.OPEN)),
        (4 * HOUR, StatusSet(Status.ON_HOLD)),
        (5 * HOUR, StatusSet(Status.OPEN)),
        (6 * HOUR, AgentReplied("agent@shop.test", "Done", Status.SOLVED)),
    )
    result = measure_ticket(ticket, POLICY, HOURS, ticket.created_at + 7 * HOUR)
    assert result.measures.first_reply == 3 * HOUR
    assert result.measures.resolution == 3 * HOUR


def test_a_ticket_without_a_reply_has_no_first_reply_time_and_a_clock_breached_once_late() -> None:
    ticket = opened()
    kept = measure_ticket(ticket, POLICY, HOURS, ticket.created_at)  # as the desk kept it when it was opened
    assert kept.measures.first_reply is None
    assert kept.measures.resolution is None
    assert kept.measures.counts(Metric.FIRST_REPLY) == ClockCounts(0, 0, ticket.created_at + 2 * HOUR)
    assert clocks(kept, ticket.created_at + HOUR)[0] == (Metric.FIRST_REPLY, 0, 0), "not decided yet"
    assert clocks(kept, ticket.created_at + 3 * HOUR)[0] == (Metric.FIRST_REPLY, 0, 1), "missed, though unchanged"


def test_a_ticket_solved_without_a_reply_has_a_resolution_time_but_no_first_reply_time() -> None:
    ticket = run(opened(), (timedelta(0), Assigned("a@shop.test")), (30 * MINUTE, StatusSet(Status.SOLVED)))
    result = measure_ticket(ticket, POLICY, HOURS, ticket.created_at + HOUR)
    assert result.measures.first_reply is None
    assert result.measures.resolution == 30 * MINUTE


def test_a_reopened_ticket_stood_still_while_it_was_solved() -> None:
    ticket = run(
        opened(),
        (timedelta(0), Assigned("a@shop.test")),
        (HOUR, AgentReplied("a@shop.test", "Fixed", Status.SOLVED)),
        (3 * HOUR, CustomerReplied("Still broken")),  # reopens: two solved hours do not count
        (4 * HOUR, AgentReplied("a@shop.test", "Now fixed", Status.SOLVED)),
    )
    result = measure_ticket(ticket, POLICY, HOURS, ticket.created_at + 5 * HOUR)
    assert result.measures.first_reply == HOUR
    assert result.measures.resolution == 2 * HOUR


def test_without_a_policy_times_use_the_teams_hours_and_there_are_no_clocks() -> None:
    ticket = run(opened(datetime(2026, 10, 6, 16, tzinfo=NEW_YORK)), (18 * HOUR, AgentReplied("a@shop.test", "Hi")))
    result = measure_ticket(ticket, None, HOURS, ticket.created_at + 20 * HOUR)
    assert result.measures.first_reply == 2 * HOUR  # 16-17 on Tuesday, 9-10 on Wednesday
    assert result.measures.clocks == {}


def test_the_reason_is_the_stores_or_the_channel() -> None:
    store = open_store_ticket(
        TicketId("2"),
        order_id=SaleorId("T3JkZXI6MQ=="),
        order_number="1001",
        reason=StoreReason.HELD_FOR_REVIEW,
        requester=Requester("ana@example.com"),
        details="Held",
        now=MONDAY_10,
    )
    assert ticket_reason(store) == "held_for_review"
    assert ticket_reason(make_ticket(channel=Channel.WEB_FORM)) == "web_form"


# Percentiles and attainment


def test_percentiles_are_linear_between_the_closest_ranks() -> None:
    values = [timedelta(minutes=m) for m in (10, 20, 30, 40)]
    assert percentile(values, Fraction(1, 2)) == timedelta(minutes=25)
    assert percentile(values, Fraction(9, 10)) == timedelta(minutes=37)
    assert percentile(values, Fraction(0)) == timedelta(minutes=10)
    assert percentile(values, Fraction(1)) == timedelta(minutes=40)
    assert percentile([HOUR], Fraction(9, 10)) == HOUR
    assert percentile([], Fraction(1, 2)) is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile(values, Fraction(3, 2))


def test_attainment_is_achieved_of_decided_to_one_place() -> None:
    assert Attainment(2, 1).percent == Decimal("66.7")
    assert Attainment(1, 2).percent == Decimal("33.3")
    assert Attainment(1, 0).percent == Decimal("100.0")
    assert Attainment(0, 3).percent == Decimal("0.0")
    assert Attainment().percent is None


# Groups


def test_weeks_are_iso_weeks_in_the_teams_zone() -> None:
    # Sunday 23:30 in New York is Monday 04:30 UTC: it belongs to the week that ends that Sunday.
    sunday_late = datetime(2026, 10, 11, 23, 30, tzinfo=NEW_YORK)
    assert week_of(sunday_late, NEW_YORK) == date(2026, 10, 5)
    assert week_of(sunday_late, UTC) == date(2026, 10, 12)
    # The ISO week of 1 January 2027 (a Friday) starts in 2026.
    assert week_of(datetime(2027, 1, 1, 12, tzinfo=UTC), UTC) == date(2026, 12, 28)
    # Across the end of daylight saving time (1 November 2026 in New York).
    assert week_of(datetime(2026, 11, 2, 4, 30, tzinfo=UTC), NEW_YORK) == date(2026, 10, 26)


def test_a_weekly_report_has_a_row_per_week_in_order_and_a_total() -> None:
    tickets = [
        measured(at=datetime(2026, 10, 12, 9, tzinfo=NEW_YORK), first_reply=HOUR),
        measured(at=datetime(2026, 10, 11, 23, 30, tzinfo=NEW_YORK), first_reply=3 * HOUR),
        measured(at=MONDAY_10, first_reply=2 * HOUR, resolution=4 * HOUR),
    ]
    report = summarize(tickets, GroupBy.WEEK, ZoneInfo("America/New_York"), REPORT_AT)
    assert [(row.key, row.tickets) for row in report.rows] == [("2026-10-05", 2), ("2026-10-12", 1)]
    first_week = report.rows[0]
    assert first_week.first_reply.count == 2
    assert first_week.first_reply.median == timedelta(hours=2, minutes=30)
    assert first_week.resolution.count == 1
    assert first_week.resolution.median == 4 * HOUR
    assert report.total.tickets == 3
    assert report.total.first_reply.median == 2 * HOUR
    assert report.total.first_reply.p90 == timedelta(hours=2, minutes=48)
    # The same tickets weekly in UTC: the Sunday-night one is a Monday there.
    in_utc = summarize(tickets, GroupBy.WEEK, UTC, REPORT_AT)
    assert [(row.key, row.tickets) for row in in_utc.rows] == [("2026-10-05", 1), ("2026-10-12", 2)]


def test_attainment_and_breaches_per_assignee_with_the_unassigned_last() -> None:
    achieved, breached = ClockState.ACHIEVED, ClockState.BREACHED
    tickets = [
        measured(assignee="bo@shop.test", states=((Metric.FIRST_REPLY, achieved), (Metric.RESOLUTION, breached))),
        measured(assignee="bo@shop.test", states=((Metric.FIRST_REPLY, breached), (Metric.RESOLUTION, achieved))),
        measured(assignee="al@shop.test", states=((Metric.FIRST_REPLY, achieved), (Metric.RESOLUTION, achieved))),
        # Running in time and paused clocks are not decided yet.
        measured(states=((Metric.FIRST_REPLY, ClockState.RUNNING), (Metric.RESOLUTION, ClockState.PAUSED))),
        measured(assignee="al@shop.test", states=((Metric.NEXT_REPLY, breached), (Metric.NEXT_REPLY, achieved))),
    ]
    report = summarize(tickets, GroupBy.ASSIGNEE, UTC, REPORT_AT)
    assert [row.key for row in report.rows] == ["al@shop.test", "bo@shop.test", ""]
    al, bo, nobody = report.rows
    assert al.attainment[Metric.FIRST_REPLY] == Attainment(1, 0)
    assert al.attainment[Metric.NEXT_REPLY] == Attainment(1, 1)
    assert al.breached_tickets == 1
    assert bo.attainment[Metric.FIRST_REPLY] == Attainment(1, 1)
    assert bo.attainment[Metric.RESOLUTION] == Attainment(1, 1)
    assert bo.breached_tickets == 2
    assert nobody.attainment == {metric: Attainment() for metric in Metric}
    assert nobody.first_reply.median is None
    assert nobody.breached_tickets == 0
    assert report.total.attainment[Metric.FIRST_REPLY] == Attainment(2, 1)
    assert report.total.breached_tickets == 3


def test_a_missed_first_reply_fails_the_ticket_even_when_resolved_in_time() -> None:
    ticket = run(
        opened(),
        (timedelta(0), Assigned("a@shop.test")),
        (3 * HOUR, AgentReplied("a@shop.test", "Sorry for the wait", Status.SOLVED)),
    )
    report = summarize(
        [measure_ticket(ticket, POLICY, HOURS, ticket.created_at + 4 * HOUR)], GroupBy.REASON, UTC, REPORT_AT
    )
    (row,) = report.rows
    assert row.key == "email"
    assert row.attainment[Metric.FIRST_REPLY] == Attainment(0, 1)
    assert row.attainment[Metric.RESOLUTION] == Attainment(1, 0)
    assert row.breached_tickets == 1


def test_reasons_are_grouped_by_name_and_an_empty_report_has_an_empty_total() -> None:
    tickets = [measured(reason="web_form"), measured(reason="held_for_review"), measured(reason="web_form")]
    report = summarize(tickets, GroupBy.REASON, UTC, REPORT_AT)
    assert [(row.key, row.tickets) for row in report.rows] == [("held_for_review", 1), ("web_form", 2)]
    empty = summarize([], GroupBy.WEEK, UTC, REPORT_AT)
    assert empty.rows == ()
    assert empty.total.tickets == 0
    assert empty.total.first_reply.median is None


def test_summarize_reads_the_tickets_once() -> None:
    """A generator of measured tickets (as the service streams them) is enough."""
    report = summarize((measured(first_reply=HOUR) for _ in range(3)), GroupBy.WEEK, UTC, REPORT_AT)
    assert report.total.tickets == 3
    assert report.rows[0].tickets == 3

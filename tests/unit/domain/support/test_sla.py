from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.money import Money
from app.domain.support.hours import BusinessHours
from app.domain.support.model import Channel, InvalidSupportSetting, Priority
from app.domain.support.sla import (
    ClockState,
    Conditions,
    Metric,
    SlaClock,
    SlaPolicy,
    business_time_between,
    measure_sla,
    select_policy,
    sla_deadline,
)
from app.domain.support.ticket import (
    AgentReplied,
    Assigned,
    CustomerReplied,
    NoteAdded,
    Status,
    StatusSet,
    Ticket,
    TicketEvent,
    apply_ticket_event,
)
from tests.unit.domain.support.builders import WEEKDAYS_9_17, make_hours, make_ticket

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
NEW_YORK = make_hours().zone
TUESDAY_10 = datetime(2026, 10, 6, 10, tzinfo=NEW_YORK)

TARGETS = {
    Priority.URGENT: {Metric.FIRST_REPLY: 10, Metric.NEXT_REPLY: 30, Metric.RESOLUTION: 120},
    Priority.HIGH: {Metric.FIRST_REPLY: 30, Metric.NEXT_REPLY: 60, Metric.RESOLUTION: 480},
    Priority.NORMAL: {Metric.FIRST_REPLY: 120, Metric.NEXT_REPLY: 240, Metric.RESOLUTION: 960},
}


def policy(
    name: str = "default", conditions: Conditions | None = None, hours: BusinessHours | None = None
) -> SlaPolicy:
    return SlaPolicy(name, TARGETS, hours or make_hours(), conditions or Conditions())


def run(ticket: Ticket, *steps: tuple[timedelta, TicketEvent]) -> Ticket:
    """Apply each event at the ticket's creation plus its offset."""
    for offset, event in steps:
        ticket = apply_ticket_event(ticket, event, ticket.created_at + offset)[0]
    return ticket


def clock(ticket: Ticket, metric: Metric, now: datetime, **kwargs: timedelta) -> SlaClock:
    clocks = [c for c in measure_sla(ticket, policy(), now, **kwargs).clocks if c.metric is metric]
    return clocks[-1]


class TestPolicyMatching:
    def test_the_first_matching_policy_wins(self) -> None:
        vip = policy("vip", Conditions(tags=frozenset({"vip"})))
        urgent = policy("urgent", Conditions(priorities=frozenset({Priority.URGENT})))
        fallback = policy("fallback")
        ticket = make_ticket(priority=Priority.URGENT, tags=("vip",))
        assert select_policy([vip, urgent, fallback], ticket) is vip
        assert select_policy([urgent, vip, fallback], ticket) is urgent
        assert select_policy([vip, urgent, fallback], make_ticket()) is fallback

    def test_no_matching_policy_is_none(self) -> None:
        assert select_policy([policy("web", Conditions(channels=frozenset({Channel.WEB_FORM})))], make_ticket()) is None

    def test_every_condition_must_hold(self) -> None:
        both = Conditions(priorities=frozenset({Priority.HIGH}), tags=frozenset({"vip"}))
        assert not both.match(make_ticket(priority=Priority.HIGH))
        assert not both.match(make_ticket(tags=("vip",)))
        assert both.match(make_ticket(priority=Priority.HIGH, tags=("vip", "late")))

    @pytest.mark.parametrize(
        ("value", "matches"),
        [
            pytest.param(Money(Decimal("499.99"), "USD"), False, id="below"),
            pytest.param(Money(Decimal("500"), "USD"), True, id="minimum included"),
            pytest.param(Money(Decimal("2000"), "USD"), True, id="maximum included"),
            pytest.param(Money(Decimal("2000.01"), "USD"), False, id="above"),
            pytest.param(Money(Decimal("900"), "EUR"), False, id="another currency"),
            pytest.param(None, False, id="no order"),
        ],
    )
    def test_order_value_bounds(self, value: Money | None, matches: bool) -> None:
        big = Conditions(min_order_value=Money(Decimal(500), "USD"), max_order_value=Money(Decimal(2000), "USD"))
        assert big.match(replace(make_ticket(), order_value=value)) is matches

    def test_a_maximum_below_the_minimum_is_refused(self) -> None:
        with pytest.raises(InvalidSupportSetting, match="below the minimum"):
            Conditions(min_order_value=Money(Decimal(9), "USD"), max_order_value=Money(Decimal(1), "USD"))

    def test_a_policy_needs_a_name(self) -> None:
        with pytest.raises(InvalidSupportSetting, match="name"):
            SlaPolicy(" ", TARGETS, make_hours())

    def test_bounds_in_two_currencies_are_refused(self) -> None:
        with pytest.raises(InvalidSupportSetting, match="one currency"):
            Conditions(min_order_value=Money(Decimal(1), "USD"), max_order_value=Money(Decimal(9), "EUR"))

    @pytest.mark.parametrize(
        "targets",
        [
            pytest.param({Priority.LOW: {Metric.FIRST_REPLY: -1}}, id="negative"),
            pytest.param({Priority.LOW: {Metric.FIRST_REPLY: 1.5}}, id="fraction"),
            pytest.param({Priority.LOW: {Metric.FIRST_REPLY: 60, Metric.RESOLUTION: 30}}, id="resolve before reply"),
        ],
    )
    def test_bad_targets_are_refused_with_their_field(self, targets: dict[Priority, dict[Metric, int]]) -> None:
        with pytest.raises(InvalidSupportSetting, match="targets.low"):
            SlaPolicy("p", targets, make_hours())


class TestDeadlines:
    def test_a_pause_before_the_deadline_moves_it_by_the_business_time_paused(self) -> None:
        hours = make_hours()
        plain = sla_deadline(hours, TUESDAY_10, 4 * HOUR)
        paused = sla_deadline(hours, TUESDAY_10, 4 * HOUR, [(TUESDAY_10 + HOUR, TUESDAY_10 + 3 * HOUR)])
        assert plain == TUESDAY_10 + 4 * HOUR
        assert paused == TUESDAY_10 + 6 * HOUR

    def test_a_pause_overnight_only_costs_its_business_hours(self) -> None:
        hours = make_hours()
        evening = TUESDAY_10 + 6 * HOUR  # 16:00
        deadline = sla_deadline(hours, TUESDAY_10, 8 * HOUR, [(evening, evening + 18 * HOUR)])  # until 10:00
        assert deadline == datetime(2026, 10, 7, 12, tzinfo=NEW_YORK)  # 6 hours used, 2 left from 10:00

    def test_a_pause_after_the_deadline_changes_nothing(self) -> None:
        late = TUESDAY_10 + 5 * HOUR
        assert sla_deadline(make_hours(), TUESDAY_10, HOUR, [(late, None)]) == TUESDAY_10 + HOUR

    def test_a_pause_beginning_on_the_deadline_does_not_move_it(self) -> None:
        due = TUESDAY_10 + HOUR
        assert sla_deadline(make_hours(), TUESDAY_10, HOUR, [(due, due + HOUR)]) == due

    def test_a_zero_target_is_due_at_once_or_when_the_pause_around_it_ends(self) -> None:
        hours, night = make_hours(), TUESDAY_10 + 12 * HOUR
        assert sla_deadline(hours, night, timedelta(0)) == night
        assert sla_deadline(hours, night, timedelta(0), [(night - HOUR, night + HOUR)]) == night + HOUR
        assert sla_deadline(hours, night, timedelta(0), [(night - HOUR, None)]) is None

    def test_a_deadline_after_a_pause_in_another_zone_is_in_utc(self) -> None:
        resumed = datetime(2026, 10, 6, 12, tzinfo=NEW_YORK)
        deadline = sla_deadline(make_hours(), TUESDAY_10, 2 * HOUR, [(TUESDAY_10 + HOUR, resumed)])
        assert deadline == resumed + HOUR
        assert deadline is not None
        assert deadline.tzinfo is UTC

    def test_an_open_pause_has_no_deadline(self) -> None:
        assert sla_deadline(make_hours(), TUESDAY_10, 4 * HOUR, [(TUESDAY_10 + HOUR, None)]) is None

    def test_business_time_less_pauses(self) -> None:
        hours = make_hours()
        pauses = [(TUESDAY_10 + HOUR, TUESDAY_10 + 2 * HOUR), (TUESDAY_10 + 6 * HOUR, None)]
        assert business_time_between(hours, TUESDAY_10, TUESDAY_10 + 24 * HOUR, pauses) == 5 * HOUR

    def test_new_york_and_berlin_teams_differ_for_the_same_ticket(self) -> None:
        berlin = BusinessHours("Europe/Berlin", WEEKDAYS_9_17, "DE")
        start = datetime(2026, 10, 6, 14, tzinfo=UTC)  # 16:00 in Berlin, 10:00 in New York
        assert sla_deadline(berlin, start, 2 * HOUR) == datetime(2026, 10, 7, 8, tzinfo=UTC)
        assert sla_deadline(make_hours(), start, 2 * HOUR) == datetime(2026, 10, 6, 16, tzinfo=UTC)

    def test_a_deadline_over_the_autumn_change_keeps_wall_clock_hours(self) -> None:
        berlin = BusinessHours("Europe/Berlin", WEEKDAYS_9_17, "DE")
        friday = datetime(2026, 10, 23, 16, tzinfo=berlin.zone)  # clocks go back on Sunday 25 October
        assert sla_deadline(berlin, friday, 2 * HOUR) == datetime(2026, 10, 26, 10, tzinfo=berlin.zone)
        assert sla_deadline(berlin, friday, 2 * HOUR) == datetime(2026, 10, 26, 9, tzinfo=UTC)


class TestTicketClocks:
    def test_a_new_ticket_runs_first_reply_and_resolution(self) -> None:
        sla = measure_sla(make_ticket(at=TUESDAY_10), policy(), TUESDAY_10 + MINUTE)
        assert [(c.metric, c.state, c.deadline) for c in sla.clocks] == [
            (Metric.FIRST_REPLY, ClockState.RUNNING, TUESDAY_10 + 2 * HOUR),
            (Metric.RESOLUTION, ClockState.RUNNING, datetime(2026, 10, 8, 10, tzinfo=NEW_YORK)),  # 7 + 8 + 1 hours
        ]
        assert sla.due_next is sla.clocks[0]
        assert not sla.failed

    def test_a_reply_in_time_achieves_the_first_reply(self) -> None:
        ticket = run(make_ticket(at=TUESDAY_10), (HOUR, AgentReplied("alice", "Hi")))
        first = clock(ticket, Metric.FIRST_REPLY, TUESDAY_10 + 5 * HOUR)
        assert first.state is ClockState.ACHIEVED
        assert first.stopped_at == TUESDAY_10 + HOUR

    def test_a_running_clock_past_its_deadline_is_breached(self) -> None:
        assert clock(make_ticket(at=TUESDAY_10), Metric.FIRST_REPLY, TUESDAY_10 + 3 * HOUR).state is ClockState.BREACHED

    def test_a_reply_after_closing_time_misses_a_deadline_at_closing(self) -> None:
        late_evening = run(make_ticket(at=TUESDAY_10 + 5 * HOUR), (2 * HOUR, AgentReplied("alice", "Hi")))  # 17:00
        assert clock(late_evening, Metric.FIRST_REPLY, TUESDAY_10 + 7 * HOUR).state is ClockState.ACHIEVED
        later = run(make_ticket(at=TUESDAY_10 + 5 * HOUR), (3 * HOUR, AgentReplied("alice", "Hi")))  # 18:00
        assert clock(later, Metric.FIRST_REPLY, TUESDAY_10 + 8 * HOUR).state is ClockState.BREACHED

    def test_a_missed_first_reply_fails_the_sla_even_when_resolved_in_time(self) -> None:
        ticket = run(
            make_ticket(at=TUESDAY_10),
            (3 * HOUR, AgentReplied("alice", "Sorry for the wait")),
            (3 * HOUR, Assigned("alice")),
            (4 * HOUR, StatusSet(Status.SOLVED)),
        )
        sla = measure_sla(ticket, policy(), TUESDAY_10 + 5 * HOUR)
        states = {c.metric: c.state for c in sla.clocks}
        assert states == {Metric.FIRST_REPLY: ClockState.BREACHED, Metric.RESOLUTION: ClockState.ACHIEVED}
        assert sla.failed

    def test_pending_pauses_resolution_and_a_customer_reply_resumes_it(self) -> None:
        ticket = run(
            make_ticket(at=TUESDAY_10),
            (HOUR, AgentReplied("alice", "A photo, please?", Status.PENDING)),
        )
        paused = clock(ticket, Metric.RESOLUTION, TUESDAY_10 + 30 * HOUR)
        assert paused.state is ClockState.PAUSED
        assert paused.deadline is None
        resumed = run(ticket, (24 * HOUR, CustomerReplied("Here it is")))  # Wednesday 10:00
        resolution = clock(resumed, Metric.RESOLUTION, TUESDAY_10 + 24 * HOUR)
        # 16 business hours, 1 used on Tuesday: 15 left from Wednesday 10:00 → Thursday 17:00.
        assert resolution.deadline == datetime(2026, 10, 8, 17, tzinfo=NEW_YORK)
        assert resolution.state is ClockState.RUNNING

    def test_a_pause_over_the_spring_change_resumes_on_monday_wall_clock(self) -> None:
        friday = datetime(2026, 3, 6, 16, tzinfo=NEW_YORK)  # EST; New York springs forward on Sunday 8 March
        ticket = run(
            make_ticket(at=friday),
            (MINUTE, Assigned("al")),
            (30 * MINUTE, StatusSet(Status.ON_HOLD)),
            (datetime(2026, 3, 9, 14, tzinfo=UTC) - friday, StatusSet(Status.OPEN)),  # Monday 10:00 EDT
        )
        first = clock(ticket, Metric.FIRST_REPLY, datetime(2026, 3, 9, 10, 5, tzinfo=NEW_YORK))
        # Half an hour used on Friday, an hour and a half from Monday 10:00 EDT.
        assert first.deadline == datetime(2026, 3, 9, 15, 30, tzinfo=UTC)
        assert first.state is ClockState.RUNNING

    def test_on_hold_pauses_too(self) -> None:
        ticket = run(make_ticket(at=TUESDAY_10), (MINUTE, Assigned("al")), (HOUR, StatusSet(Status.ON_HOLD)))
        assert clock(ticket, Metric.FIRST_REPLY, TUESDAY_10 + 50 * HOUR).state is ClockState.PAUSED

    def test_each_customer_message_after_the_first_reply_starts_a_next_reply_clock(self) -> None:
        ticket = run(
            make_ticket(at=TUESDAY_10),
            (HOUR, AgentReplied("alice", "Hi")),
            (2 * HOUR, CustomerReplied("Thanks, and?")),
            (2 * HOUR + 10 * MINUTE, CustomerReplied("Hello?")),
            (3 * HOUR, AgentReplied("alice", "Here")),
            (4 * HOUR, CustomerReplied("One more thing")),
        )
        nexts = [
            c for c in measure_sla(ticket, policy(), TUESDAY_10 + 5 * HOUR).clocks if c.metric is Metric.NEXT_REPLY
        ]
        assert [(c.started_at, c.state) for c in nexts] == [
            (TUESDAY_10 + 2 * HOUR, ClockState.ACHIEVED),  # the oldest unanswered message starts it
            (TUESDAY_10 + 4 * HOUR, ClockState.RUNNING),
        ]
        assert nexts[1].deadline == datetime(2026, 10, 7, 10, tzinfo=NEW_YORK)

    def test_solving_stops_the_reply_clocks(self) -> None:
        ticket = run(make_ticket(at=TUESDAY_10), (MINUTE, Assigned("al")), (HOUR, StatusSet(Status.SOLVED)))
        first = clock(ticket, Metric.FIRST_REPLY, TUESDAY_10 + 30 * HOUR)
        assert first.state is ClockState.ACHIEVED

    def test_a_reopened_ticket_resumes_its_resolution_clock(self) -> None:
        ticket = run(
            make_ticket(at=TUESDAY_10),
            (MINUTE, Assigned("al")),
            (2 * HOUR, AgentReplied("al", "Fixed", Status.SOLVED)),
            (24 * HOUR, CustomerReplied("It is not")),
        )
        resolution = clock(ticket, Metric.RESOLUTION, TUESDAY_10 + 24 * HOUR)
        assert resolution.state is ClockState.RUNNING
        # 2 business hours used; 14 left from Wednesday 10:00 → Thursday 16:00.
        assert resolution.deadline == datetime(2026, 10, 8, 16, tzinfo=NEW_YORK)

    def test_a_warning_comes_within_the_lead_before_the_deadline(self) -> None:
        ticket = make_ticket(at=TUESDAY_10)
        assert not clock(ticket, Metric.FIRST_REPLY, TUESDAY_10 + 89 * MINUTE).warning
        assert clock(ticket, Metric.FIRST_REPLY, TUESDAY_10 + 90 * MINUTE).warning
        lead = {"warn_before": 10 * MINUTE}
        assert not clock(ticket, Metric.FIRST_REPLY, TUESDAY_10 + 90 * MINUTE, **lead).warning
        assert measure_sla(ticket, policy(), TUESDAY_10 + 90 * MINUTE).warnings[0].metric is Metric.FIRST_REPLY

    def test_notes_and_further_agent_replies_start_no_clock(self) -> None:
        ticket = run(
            make_ticket(at=TUESDAY_10),
            (MINUTE, NoteAdded("alice", "Checking the carrier")),
            (HOUR, AgentReplied("alice", "Hi")),
            (2 * HOUR, AgentReplied("alice", "Update: it left the depot")),
        )
        sla = measure_sla(ticket, policy(), TUESDAY_10 + 3 * HOUR)
        assert [c.metric for c in sla.clocks] == [Metric.FIRST_REPLY, Metric.RESOLUTION]
        assert sla.clocks[0].stopped_at == TUESDAY_10 + HOUR

    def test_a_negative_warning_lead_is_refused(self) -> None:
        with pytest.raises(InvalidSupportSetting, match="warn_before"):
            measure_sla(make_ticket(), policy(), TUESDAY_10, warn_before=-MINUTE)

    def test_a_priority_without_targets_has_no_clocks(self) -> None:
        sla = measure_sla(make_ticket(priority=Priority.LOW), policy(), TUESDAY_10)
        assert sla.clocks == ()
        assert sla.due_next is None

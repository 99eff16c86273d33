"""Support reports (issue 14, item 7): first reply and resolution times, and SLA attainment, per week, assignee
or reason.

Each ticket is measured whenever it changes (``ticket_measures``, kept with the ticket as its SLA due is): the
business time to its first public agent reply and to its resolution, in the hours of the SLA policy that
applies (the team's hours without one), pauses not counting, and per metric its SLA clocks decided and the
deadline of the one still going. ``summarize`` then groups the measured tickets at the report's time:

- Weeks are ISO weeks (Monday to Sunday) of the ticket's creation in the team's time zone.
- A ticket's reason is why the store opened it, or the channel its customer wrote through.
- Times are given as the median and the 90th percentile (linear between the closest ranks, as
  spreadsheets' PERCENTILE.INC), over the tickets that have one: a ticket nobody answered yet has no
  first reply time, an unsolved one no resolution time.
- Attainment counts the clocks decided: achieved, or breached (a clock past its deadline is breached
  for good, stopped or not). Clocks still running in time or paused are not decided yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from math import floor

from app.domain.support.hours import BusinessHours
from app.domain.support.sla import (
    ClockState,
    Metric,
    SlaClock,
    SlaPolicy,
    TicketSla,
    business_time_between,
    measure_sla,
    status_pauses,
)
from app.domain.support.ticket import PAUSED_STATUSES, Author, Status, Ticket

_FINISHED = frozenset({Status.SOLVED, Status.CLOSED})
MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)
PERCENT_STEP = Decimal("0.1")


class GroupBy(StrEnum):
    WEEK = "week"
    ASSIGNEE = "assignee"
    REASON = "reason"


@dataclass(frozen=True, slots=True)
class ClockCounts:
    """One metric's clocks on a ticket: those decided (achieved, breached for good once stopped late), and the
    deadline of the one still going, if any (a paused clock has none): past it, it counts as breached."""

    achieved: int = 0
    breached: int = 0
    due_at: datetime | None = None

    def decided(self, now: datetime) -> tuple[int, int]:
        """(achieved, breached) at ``now``, the clock still going counted once its deadline has passed."""
        late = self.due_at is not None and now > self.due_at
        return self.achieved, self.breached + late


NO_CLOCKS = ClockCounts()


@dataclass(frozen=True, slots=True)
class TicketMeasures:
    """What a report reads of a ticket, measured whenever the ticket changes and kept with it (as its SLA due is):
    nothing in it moves until the ticket changes again, but a deadline passing."""

    first_reply: timedelta | None = None  # business time to the first public agent reply; None without one
    resolution: timedelta | None = None  # business time until solved or closed; None while it is not
    clocks: Mapping[Metric, ClockCounts] = field(default_factory=dict)  # a metric left out has no clock

    def counts(self, metric: Metric) -> ClockCounts:
        return self.clocks.get(metric, NO_CLOCKS)


@dataclass(frozen=True, slots=True)
class MeasuredTicket:
    created_at: datetime
    assignee: str | None
    reason: str
    measures: TicketMeasures


def ticket_reason(ticket: Ticket) -> str:
    """Why the store opened the ticket, or the channel the customer wrote through."""
    return ticket.channel.value if ticket.store_reason is None else ticket.store_reason.value


def _first_reply_at(ticket: Ticket) -> datetime | None:
    return next((m.at for m in ticket.thread if m.public and m.author is Author.AGENT), None)


def _finished_at(ticket: Ticket) -> datetime | None:
    """When the ticket last became solved or closed, while it still is."""
    if ticket.status not in _FINISHED:
        return None
    finished = None
    for change in reversed(ticket.history):
        if change.status not in _FINISHED:
            break
        finished = change.at
    return finished


def _clock_counts(clocks: Iterable[SlaClock]) -> dict[Metric, ClockCounts]:
    counts: dict[Metric, ClockCounts] = {}
    for clock in clocks:
        kept = counts.get(clock.metric, NO_CLOCKS)
        if clock.stopped_at is None:
            # Still going (a running clock already late too): decided when a report reads it.
            counts[clock.metric] = replace(kept, due_at=clock.deadline)
        elif clock.state is ClockState.BREACHED:
            counts[clock.metric] = replace(kept, breached=kept.breached + 1)
        else:
            counts[clock.metric] = replace(kept, achieved=kept.achieved + 1)
    return {metric: kept for metric, kept in counts.items() if kept != NO_CLOCKS}  # a paused clock alone: nothing


def ticket_measures(ticket: Ticket, hours: BusinessHours, sla: TicketSla | None) -> TicketMeasures:
    """The ticket's times in ``hours`` (its policy's, the team's without one), pauses not counting, and its clocks
    as ``sla`` (``measure_sla`` under that policy; None without one) gives them."""
    first_reply, finished = _first_reply_at(ticket), _finished_at(ticket)
    return TicketMeasures(
        first_reply=None
        if first_reply is None
        else business_time_between(hours, ticket.created_at, first_reply, status_pauses(ticket, PAUSED_STATUSES)),
        # A solved ticket that was reopened stood still while it was solved, as its resolution clock does.
        resolution=None
        if finished is None
        else business_time_between(
            hours, ticket.created_at, finished, status_pauses(ticket, PAUSED_STATUSES | _FINISHED)
        ),
        clocks={} if sla is None else _clock_counts(sla.clocks),
    )


def measure_ticket(
    ticket: Ticket, policy: SlaPolicy | None, team_hours: BusinessHours, now: datetime
) -> MeasuredTicket:
    """The ticket as a report groups it, measured at ``now`` under ``policy`` (the first that matches it; None for
    none)."""
    hours = team_hours if policy is None else policy.hours
    sla = None if policy is None else measure_sla(ticket, policy, now)
    return MeasuredTicket(
        ticket.created_at, ticket.assignee, ticket_reason(ticket), ticket_measures(ticket, hours, sla)
    )


def percentile(ordered: Sequence[timedelta], share: Fraction) -> timedelta | None:
    """The ``share`` percentile of ``ordered`` (ascending), linear between the closest ranks; None for none."""
    if not ordered:
        return None
    if not 0 <= share <= 1:
        raise ValueError(f"a percentile is between 0 and 1, not {share}")
    rank = (len(ordered) - 1) * share
    low = floor(rank)
    part = rank - low
    if not part:
        return ordered[low]
    step = (ordered[low + 1] - ordered[low]) // timedelta(microseconds=1)
    return ordered[low] + timedelta(microseconds=round(step * part))


@dataclass(frozen=True, slots=True)
class Attainment:
    achieved: int = 0
    breached: int = 0

    @property
    def decided(self) -> int:
        return self.achieved + self.breached

    @property
    def percent(self) -> Decimal | None:
        """Achieved of the decided clocks, in percent to one place (half up); None when none is decided."""
        if not self.decided:
            return None
        return (Decimal(100 * self.achieved) / self.decided).quantize(PERCENT_STEP, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Times:
    count: int
    median: timedelta | None
    p90: timedelta | None


def _times(values: Iterable[timedelta]) -> Times:
    ordered = sorted(values)
    return Times(len(ordered), percentile(ordered, MEDIAN), percentile(ordered, P90))


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One group: ``key`` is the week's Monday (ISO date), the assignee ('' for none) or the reason."""

    key: str
    tickets: int
    first_reply: Times
    resolution: Times
    attainment: dict[Metric, Attainment]
    breached_tickets: int  # tickets with any clock breached


@dataclass(frozen=True, slots=True)
class SupportReport:
    group_by: GroupBy
    rows: tuple[ReportRow, ...]
    total: ReportRow


def week_of(instant: datetime, zone: tzinfo) -> date:
    """The Monday starting the ISO week of ``instant`` in ``zone``."""
    day = instant.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def _row(key: str, tickets: Sequence[MeasuredTicket], now: datetime) -> ReportRow:
    counts = {metric: [0, 0] for metric in Metric}
    breached_tickets = 0
    for ticket in tickets:
        breached = False
        for metric, clocks in ticket.measures.clocks.items():
            achieved, missed = clocks.decided(now)
            counts[metric][0] += achieved
            counts[metric][1] += missed
            breached = breached or missed > 0
        breached_tickets += breached
    return ReportRow(
        key=key,
        tickets=len(tickets),
        first_reply=_times(t.measures.first_reply for t in tickets if t.measures.first_reply is not None),
        resolution=_times(t.measures.resolution for t in tickets if t.measures.resolution is not None),
        attainment={metric: Attainment(*counts[metric]) for metric in Metric},
        breached_tickets=breached_tickets,
    )


def week_starts(start: datetime, end: datetime, zone: tzinfo) -> list[tuple[date, datetime]]:
    """The ISO weeks (in ``zone``) that [start, end) touches: each Monday and the instant its week starts."""
    weeks: list[tuple[date, datetime]] = []
    monday = week_of(start, zone)
    while True:
        begins = datetime.combine(monday, time(0), zone)
        if begins >= end:
            return weeks
        weeks.append((monday, begins))
        monday += timedelta(weeks=1)


def report_order(keys: Iterable[str]) -> list[str]:
    """Rows in order: weeks by date, assignees and reasons by name, the unassigned ('') last."""
    return sorted(keys, key=lambda key: (key == "", key))


def _grouping(group_by: GroupBy, zone: tzinfo) -> Callable[[MeasuredTicket], str]:
    match group_by:
        case GroupBy.WEEK:
            return lambda ticket: week_of(ticket.created_at, zone).isoformat()
        case GroupBy.ASSIGNEE:
            return lambda ticket: ticket.assignee or ""
        case GroupBy.REASON:
            return lambda ticket: ticket.reason


def summarize(measured: Iterable[MeasuredTicket], group_by: GroupBy, zone: tzinfo, now: datetime) -> SupportReport:
    """The report of the measured tickets at ``now`` (a clock still going is missed once past its deadline), a row
    per group (weeks in order, the unassigned last, reasons by name), and the total over all of them."""
    key_of = _grouping(group_by, zone)
    groups: dict[str, list[MeasuredTicket]] = {}
    everything: list[MeasuredTicket] = []
    for ticket in measured:
        groups.setdefault(key_of(ticket), []).append(ticket)
        everything.append(ticket)
    rows = tuple(_row(key, groups[key], now) for key in report_order(groups))
    return SupportReport(group_by, rows, _row("", everything, now))

"""SLA policies and each ticket's clocks (DOMAIN.md §5: Zendesk's metrics, Frappe Helpdesk's walk forward).

Policies are checked in order and the first whose conditions all hold applies. A policy gives, per
priority, targets in minutes for the first reply, the next reply and the resolution, counted in its
business hours and paused while the ticket is pending or on hold.

- First reply: from the ticket's creation to the first public agent reply.
- Next reply: from the oldest customer message left unanswered after the first reply to the next
  public agent reply; a ticket has one such clock per exchange.
- Resolution: from creation until the ticket is solved (or closed); while solved it stands still,
  and a reopened ticket's clock goes on from where it stood.

Solving a ticket stops its reply clocks too. A clock reached after its deadline is breached for good:
a missed first reply fails the SLA even when the resolution is in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from app.domain.money import Money
from app.domain.support.hours import NOTHING, BusinessHours, Gap
from app.domain.support.model import Channel, InvalidSupportSetting, Priority, as_utc
from app.domain.support.ticket import PAUSED_STATUSES, Author, Status, Ticket, normal_tags

Pause = Gap  # from, until (None: still paused)

_FINISHED = frozenset({Status.SOLVED, Status.CLOSED})
_STANDING_STILL = PAUSED_STATUSES | _FINISHED  # the resolution clock's pauses


class Metric(StrEnum):
    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"
    RESOLUTION = "resolution"


@dataclass(frozen=True, slots=True)
class Conditions:
    """What a ticket must have for a policy to apply; an empty condition holds for every ticket.

    Tags must all be on the ticket; order values are compared in the ticket's currency only (a ticket
    without an order value, or in another currency, does not meet a value condition).
    """

    priorities: frozenset[Priority] = frozenset()
    channels: frozenset[Channel] = frozenset()
    tags: frozenset[str] = frozenset()
    min_order_value: Money | None = None
    max_order_value: Money | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", normal_tags(self.tags))
        low, high = self.min_order_value, self.max_order_value
        if low is not None and high is not None:
            if low.currency != high.currency:
                raise InvalidSupportSetting("max_order_value", "the order value bounds need one currency")
            if high.amount < low.amount:
                raise InvalidSupportSetting("max_order_value", f"{high.amount} is below the minimum {low.amount}")

    def match(self, ticket: Ticket) -> bool:
        if self.priorities and ticket.priority not in self.priorities:
            return False
        if self.channels and ticket.channel not in self.channels:
            return False
        if not self.tags <= ticket.tags:
            return False
        return _within(ticket.order_value, self.min_order_value, self.max_order_value)


def _within(value: Money | None, low: Money | None, high: Money | None) -> bool:
    """Both bounds included."""
    for bound in (low, high):
        if bound is not None and (value is None or value.currency != bound.currency):
            return False
    if value is None:
        return True
    return (low is None or value.amount >= low.amount) and (high is None or value.amount <= high.amount)


_NO_TARGETS: Mapping[Metric, timedelta] = {}


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Targets in minutes per priority and metric; a metric a priority leaves out is not measured."""

    name: str
    targets: Mapping[Priority, Mapping[Metric, int]]
    hours: BusinessHours
    conditions: Conditions = Conditions()
    _durations: dict[Priority, dict[Metric, timedelta]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidSupportSetting("name", "a policy needs a name")
        for priority, metrics in self.targets.items():
            for metric, minutes in metrics.items():
                if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
                    raise InvalidSupportSetting(
                        f"targets.{priority}.{metric}", f"a whole number of minutes, not {minutes!r}"
                    )
            first, resolution = metrics.get(Metric.FIRST_REPLY), metrics.get(Metric.RESOLUTION)
            if first is not None and resolution is not None and resolution < first:
                raise InvalidSupportSetting(
                    f"targets.{priority}.resolution", f"{resolution} min is shorter than the first reply's {first}"
                )
        durations = {
            priority: {metric: timedelta(minutes=minutes) for metric, minutes in metrics.items()}
            for priority, metrics in self.targets.items()
        }
        object.__setattr__(self, "_durations", durations)

    def target(self, priority: Priority, metric: Metric) -> timedelta | None:
        return self.targets_for(priority).get(metric)

    def targets_for(self, priority: Priority) -> Mapping[Metric, timedelta]:
        """The priority's measured metrics and their targets."""
        return self._durations.get(priority, _NO_TARGETS)


def select_policy(policies: Iterable[SlaPolicy], ticket: Ticket) -> SlaPolicy | None:
    """The first policy whose conditions the ticket meets, None when none does."""
    return next((policy for policy in policies if policy.conditions.match(ticket)), None)


def sla_deadline(
    hours: BusinessHours, start: datetime, target: timedelta, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """When ``target`` of business time from ``start`` runs out, the (ordered, non-overlapping) pauses not
    counting; None while an open pause began before the deadline (the clock stands still, so there is no
    deadline yet)."""
    return hours.add_around(start, target, pauses)


def business_time_between(
    hours: BusinessHours, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> timedelta:
    """Business time from ``start`` to ``end`` less the business time inside the (non-overlapping) pauses."""
    total = hours.elapsed(start, end)
    for pause_from, pause_until in pauses:
        total -= hours.elapsed(max(pause_from, start), end if pause_until is None else min(pause_until, end))
    return total


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ACHIEVED = "achieved"
    BREACHED = "breached"


class SlaClock(NamedTuple):
    """One target measured on one ticket. ``deadline`` is None only while paused; ``warning`` says a running
    clock is within the warning lead of its deadline. A named tuple: an inbox builds several per ticket, and
    a frozen dataclass costs four times as much to build."""

    metric: Metric
    started_at: datetime
    target: timedelta
    deadline: datetime | None
    stopped_at: datetime | None
    state: ClockState
    warning: bool = False


@dataclass(frozen=True, slots=True)
class TicketSla:
    policy: str
    clocks: tuple[SlaClock, ...]

    @property
    def failed(self) -> bool:
        """Any clock breached, whatever happened after it."""
        breached = ClockState.BREACHED  # read once: an enum member read off its class is a slow lookup
        return any(clock.state is breached for clock in self.clocks)

    @property
    def due_next(self) -> SlaClock | None:
        """The running clock whose deadline comes first."""
        running = [clock for clock in self.clocks if clock.state is ClockState.RUNNING and clock.deadline]
        return min(running, key=lambda clock: clock.deadline or clock.started_at, default=None)

    @property
    def warnings(self) -> tuple[SlaClock, ...]:
        return tuple(clock for clock in self.clocks if clock.warning)


def status_pauses(ticket: Ticket, statuses: frozenset[Status]) -> list[Pause]:
    """The intervals the ticket spent in ``statuses``, from its status history."""
    pauses: list[Pause] = []
    since: datetime | None = None
    for change in ticket.history:
        if change.status in statuses and since is None:
            since = change.at
        elif change.status not in statuses and since is not None:
            pauses.append((since, change.at))
            since = None
    if since is not None:
        pauses.append((since, None))
    return pauses


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


def _clock(
    metric: Metric,
    hours: BusinessHours,
    start: datetime,
    target: timedelta,
    stop: datetime | None,
    pauses: Sequence[Pause],
    now: datetime,
    warn_before: timedelta,
) -> SlaClock:
    if stop is not None:
        # Pauses after the stop do not count, and one still open at the stop ends there.
        before_stop = [(since, stop if until is None else min(until, stop)) for since, until in pauses if since < stop]
        deadline = sla_deadline(hours, start, target, before_stop)
        state = ClockState.BREACHED if deadline is not None and stop > deadline else ClockState.ACHIEVED
        return SlaClock(metric, start, target, deadline, stop, state)
    deadline = sla_deadline(hours, start, target, pauses)
    if deadline is None:
        return SlaClock(metric, start, target, None, None, ClockState.PAUSED)
    if now > deadline:
        return SlaClock(metric, start, target, deadline, None, ClockState.BREACHED)
    return SlaClock(metric, start, target, deadline, None, ClockState.RUNNING, deadline - warn_before <= now)


def _reply_cycles(ticket: Ticket) -> tuple[datetime | None, list[tuple[datetime, datetime | None]]]:
    """The first public agent reply, and each exchange after it: (oldest unanswered customer message, reply)."""
    first_reply: datetime | None = None
    cycles: list[tuple[datetime, datetime | None]] = []
    waiting_since: datetime | None = None
    for message in ticket.thread:
        if not message.public:
            continue
        if message.author is Author.AGENT:
            if first_reply is None:
                first_reply = message.at
            elif waiting_since is not None:
                cycles.append((waiting_since, message.at))
                waiting_since = None
        elif message.author is Author.CUSTOMER and first_reply is not None and waiting_since is None:
            waiting_since = message.at
    if waiting_since is not None:
        cycles.append((waiting_since, None))
    return first_reply, cycles


def _earlier(one: datetime | None, other: datetime | None) -> datetime | None:
    if one is None:
        return other
    return one if other is None or one <= other else other


def measure_sla(
    ticket: Ticket, policy: SlaPolicy, now: datetime, *, warn_before: timedelta = timedelta(minutes=30)
) -> TicketSla:
    """The ticket's clocks under ``policy`` at ``now``: first reply, each next reply, resolution."""
    now = as_utc("now", now)
    if warn_before < NOTHING:
        raise InvalidSupportSetting("warn_before", f"a warning lead cannot be negative ({warn_before})")
    hours = policy.hours
    finished = _finished_at(ticket)
    paused = status_pauses(ticket, PAUSED_STATUSES)
    first_reply, cycles = _reply_cycles(ticket)
    clocks: list[SlaClock] = []

    targets = policy.targets_for(ticket.priority)
    target = targets.get(Metric.FIRST_REPLY)
    if target is not None:
        stop = _earlier(first_reply, finished)
        clocks.append(_clock(Metric.FIRST_REPLY, hours, ticket.created_at, target, stop, paused, now, warn_before))
    target = targets.get(Metric.NEXT_REPLY)
    if target is not None:
        for waiting_since, reply in cycles:
            stop = _earlier(reply, finished)  # a customer's message reopens a solved ticket: never after its finish
            clocks.append(_clock(Metric.NEXT_REPLY, hours, waiting_since, target, stop, paused, now, warn_before))
    target = targets.get(Metric.RESOLUTION)
    if target is not None:
        stood_still = status_pauses(ticket, _STANDING_STILL)
        clock = _clock(Metric.RESOLUTION, hours, ticket.created_at, target, finished, stood_still, now, warn_before)
        clocks.append(clock)
    return TicketSla(policy.name, tuple(clocks))

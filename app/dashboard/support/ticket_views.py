"""What the Support pages show: inbox rows and a ticket with its thread and SLA clocks, in the store's time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_timedelta

from app.dashboard.view_models import local_time
from app.domain.ids import SaleorId
from app.domain.support.model import Priority
from app.domain.support.sla import ClockState, Metric, SlaClock, TicketSla
from app.domain.support.ticket import Author, Status, Ticket
from app.services.support.model import InboxRow

FRAGMENT = "/api/dashboard/fragments/support"
ACTIONS = "/api/dashboard/support/tickets"
METRIC_LABELS = {Metric.FIRST_REPLY: "First reply", Metric.NEXT_REPLY: "Next reply", Metric.RESOLUTION: "Resolution"}
STATUS_LABELS = {status: status.value.replace("-", " ") for status in Status}
# The statuses a person may set; new and closed come only from the ticket's own rules.
SETTABLE_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED)
PRIORITIES = tuple(Priority)


def _until(deadline: datetime, now: datetime, locale: Locale) -> str:
    """ "in 3 hours" or "2 hours ago"."""
    return format_timedelta(deadline - now, add_direction=True, threshold=1.5, locale=locale)


@dataclass(frozen=True, slots=True)
class InboxView:
    id: str
    subject: str
    requester: str
    status: str
    status_label: str
    priority: str
    assignee: str | None
    tags: list[str]
    updated: str
    due_metric: str | None
    due_at: str | None
    due_in: str | None
    breached: bool
    warning: bool


def inbox_rows(
    rows: tuple[InboxRow, ...], now: datetime, warn_before: timedelta, zone: ZoneInfo, locale: Locale
) -> list[InboxView]:
    return [
        InboxView(
            id=row.id,
            subject=row.subject,
            requester=row.requester,
            status=row.status.value,
            status_label=STATUS_LABELS[row.status],
            priority=row.priority.value,
            assignee=row.assignee,
            tags=sorted(row.tags),
            updated=local_time(row.updated_at, zone, locale),
            due_metric=None if row.sla_metric is None else METRIC_LABELS[row.sla_metric],
            due_at=None if row.sla_due_at is None else local_time(row.sla_due_at, zone, locale),
            due_in=None if row.sla_due_at is None else _until(row.sla_due_at, now, locale),
            breached=row.sla_due_at is not None and row.sla_due_at < now,
            warning=row.sla_due_at is not None and now <= row.sla_due_at <= now + warn_before,
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class MessageView:
    author: str
    by_customer: bool
    by_store: bool
    public: bool
    at: str
    body: str


@dataclass(frozen=True, slots=True)
class ClockView:
    metric: str
    state: str
    target: str
    deadline: str | None
    due_in: str | None
    stopped: str | None
    warning: bool


@dataclass(frozen=True, slots=True)
class SlaView:
    policy: str
    clocks: list[ClockView]
    failed: bool
    due_next: ClockView | None
    warnings: int


def _clock(clock: SlaClock, now: datetime, zone: ZoneInfo, locale: Locale) -> ClockView:
    return ClockView(
        metric=METRIC_LABELS[clock.metric],
        state=clock.state.value,
        target=format_timedelta(clock.target, threshold=1.5, locale=locale),
        deadline=None if clock.deadline is None else local_time(clock.deadline, zone, locale),
        due_in=None
        if clock.deadline is None or clock.state not in (ClockState.RUNNING, ClockState.BREACHED) or clock.stopped_at
        else _until(clock.deadline, now, locale),
        stopped=None if clock.stopped_at is None else local_time(clock.stopped_at, zone, locale),
        warning=clock.warning,
    )


def sla_view(sla: TicketSla | None, now: datetime, zone: ZoneInfo, locale: Locale) -> SlaView | None:
    if sla is None:
        return None
    due_next = sla.due_next
    return SlaView(
        policy=sla.policy,
        clocks=[_clock(clock, now, zone, locale) for clock in sla.clocks],
        failed=sla.failed,
        due_next=None if due_next is None else _clock(due_next, now, zone, locale),
        warnings=len(sla.warnings),
    )


@dataclass(frozen=True, slots=True)
class TicketView:
    id: str
    subject: str
    description: str
    requester: str
    channel: str
    status: str
    status_label: str
    priority: str
    assignee: str | None
    tags: list[str]
    created: str
    store_reason: str | None
    follow_up_of: str | None
    orders: list[tuple[str, str | None]]  # (id, number when the app has heard it)
    thread: list[MessageView]


def ticket_view(ticket: Ticket, numbers: Mapping[SaleorId, str], zone: ZoneInfo, locale: Locale) -> TicketView:
    return TicketView(
        id=ticket.id,
        subject=ticket.subject,
        description=ticket.description,
        requester=ticket.requester.email,
        channel=ticket.channel.value.replace("_", " "),
        status=ticket.status.value,
        status_label=STATUS_LABELS[ticket.status],
        priority=ticket.priority.value,
        assignee=ticket.assignee,
        tags=sorted(ticket.tags),
        created=local_time(ticket.created_at, zone, locale),
        store_reason=None if ticket.store_reason is None else ticket.store_reason.value.replace("_", " "),
        follow_up_of=ticket.follow_up_of,
        orders=[(order_id, numbers.get(order_id)) for order_id in ticket.order_ids],
        thread=[
            MessageView(
                author=message.author_name,
                by_customer=message.author is Author.CUSTOMER,
                by_store=message.author is Author.STORE,
                public=message.public,
                at=local_time(message.at, zone, locale),
                body=message.body,
            )
            for message in ticket.thread
        ],
    )

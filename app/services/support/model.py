"""What support's storage keeps beside a ticket, and what the inbox asks of it and shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.support.model import Priority
from app.domain.support.sla import Metric
from app.domain.support.ticket import Status, TicketId

INBOX_PAGE = 50


class UnknownTicket(LookupError):
    """No ticket of the store has this id."""

    def __init__(self, ticket_id: TicketId) -> None:
        super().__init__(f"no ticket {ticket_id}")
        self.ticket_id = ticket_id


@dataclass(frozen=True, slots=True)
class SlaDue:
    """What the inbox sorts a ticket by: the SLA policy that applies (None: no policy matches), and the
    earliest deadline among its clocks still going, with that clock's metric (None while every clock is
    stopped or paused). A deadline only moves when the ticket changes, so it is kept, not recomputed."""

    policy: str | None = None
    due_at: datetime | None = None
    metric: Metric | None = None


NO_SLA = SlaDue()


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """The inbox's filters; each one left empty shows every ticket. ``due_before`` keeps the tickets with a
    deadline before then (the breached ones too), ``unassigned`` those without an assignee."""

    statuses: frozenset[Status] = frozenset()
    assignee: str | None = None
    unassigned: bool = False
    tag: str | None = None
    due_before: datetime | None = None
    offset: int = 0
    limit: int = INBOX_PAGE

    def __post_init__(self) -> None:
        if self.assignee is not None and self.unassigned:
            raise ValueError("the inbox shows one assignee's tickets or the unassigned ones, not both")
        if self.offset < 0 or not 0 < self.limit <= 500:
            raise ValueError(f"an inbox page starts at 0 or later and holds 1 to 500 tickets, not {self.limit}")


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: TicketId
    subject: str
    requester: str
    status: Status
    priority: Priority
    assignee: str | None
    tags: frozenset[str]
    updated_at: datetime
    sla_due_at: datetime | None
    sla_metric: Metric | None


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: tuple[InboxRow, ...]
    has_more: bool

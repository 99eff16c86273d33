"""Tickets and their statuses under Zendesk's rules (DOMAIN.md §5).

A ticket is new until someone works it; assigning it or replying publicly opens it. It never returns
to new. A customer's reply reopens a pending, on-hold or solved ticket. Solving needs an assignee.
Closed is final: nothing changes a closed ticket, and a customer who writes again gets a follow-up,
a new ticket linked to it. Solved tickets close on their own after 4 days (at most 28, as Zendesk's
standard automation).

Events are inputs: ``apply_ticket_event(ticket, event, now)`` returns the new ticket and what should be
sent because of it, or raises ``TicketRefused`` with the reason and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NewType

from app.domain.ids import SaleorId
from app.domain.money import Money
from app.domain.support.model import Channel, Priority, StoreReason, as_utc

TicketId = NewType("TicketId", str)

AUTO_CLOSE_AFTER = timedelta(days=4)
AUTO_CLOSE_LONGEST = timedelta(days=28)


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on-hold"
    SOLVED = "solved"
    CLOSED = "closed"


PAUSED_STATUSES = frozenset({Status.PENDING, Status.ON_HOLD})
_REOPENED_BY_CUSTOMER = frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED})


class Author(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    STORE = "store"


@dataclass(frozen=True, slots=True)
class Requester:
    email: str
    customer_id: SaleorId | None = None

    def __post_init__(self) -> None:
        local, at, domain = self.email.partition("@")
        if not local or not at or "." not in domain:
            raise ValueError(f"the requester needs an e-mail address, not {self.email!r}")


@dataclass(frozen=True, slots=True)
class Message:
    """One entry of the thread: a public reply the requester sees, or an internal note they never do."""

    author: Author
    author_name: str
    body: str
    public: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: Status
    at: datetime


@dataclass(frozen=True, slots=True)
class Ticket:
    id: TicketId
    requester: Requester
    subject: str
    description: str
    channel: Channel
    created_at: datetime
    status: Status = Status.NEW
    priority: Priority = Priority.NORMAL
    assignee: str | None = None
    tags: frozenset[str] = frozenset()
    order_ids: tuple[SaleorId, ...] = ()
    order_value: Money | None = None
    thread: tuple[Message, ...] = ()
    history: tuple[StatusChange, ...] = ()
    updated_at: datetime | None = None
    follow_up_of: TicketId | None = None
    store_reason: StoreReason | None = None

    @property
    def solved_at(self) -> datetime | None:
        """When the ticket was last solved, while it is solved (or closed after being solved)."""
        if self.status not in (Status.SOLVED, Status.CLOSED):
            return None
        return next((change.at for change in reversed(self.history) if change.status is Status.SOLVED), None)


class TicketRefused(ValueError):
    """An event the ticket's rules do not allow; the ticket is left as it was."""

    def __init__(self, ticket_id: TicketId, reason: str) -> None:
        super().__init__(f"ticket {ticket_id}: {reason}")
        self.ticket_id = ticket_id
        self.reason = reason


class TicketClosed(TicketRefused):
    """A closed ticket takes no change; a customer writing again opens a follow-up (``open_follow_up``)."""


# Events: what happened to a ticket, from the customer, an agent, the store or the clock.


@dataclass(frozen=True, slots=True)
class CustomerReplied:
    body: str


@dataclass(frozen=True, slots=True)
class AgentReplied:
    """A public reply, submitted as ``status`` (Zendesk's "submit as"); None keeps it (a new ticket opens)."""

    agent: str
    body: str
    status: Status | None = None


@dataclass(frozen=True, slots=True)
class NoteAdded:
    author: str
    body: str


@dataclass(frozen=True, slots=True)
class Assigned:
    assignee: str | None


@dataclass(frozen=True, slots=True)
class StatusSet:
    status: Status


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    priority: Priority


@dataclass(frozen=True, slots=True)
class TagsChanged:
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OrderLinked:
    order_id: SaleorId


@dataclass(frozen=True, slots=True)
class SolvedTicketClosed:
    """The automation closing a ticket solved long enough (``tickets_due_to_close``)."""


@dataclass(frozen=True, slots=True)
class CauseCleared:
    """What made the store open the ticket is over (the order approved, the shipment confirmed)."""

    reason: StoreReason
    explanation: str


TicketEvent = (
    CustomerReplied
    | AgentReplied
    | NoteAdded
    | Assigned
    | StatusSet
    | PriorityChanged
    | TagsChanged
    | OrderLinked
    | SolvedTicketClosed
    | CauseCleared
)


class NotificationKind(StrEnum):
    REPLY_TO_REQUESTER = "reply_to_requester"  # an agent's public reply goes out to the requester
    CUSTOMER_REPLIED = "customer_replied"  # the assignee hears the customer wrote
    ASSIGNED = "assigned"  # the new assignee hears the ticket is theirs
    CAUSE_CLEARED = "cause_cleared"  # the assignee hears the store's reason is over, the conversation is not


@dataclass(frozen=True, slots=True)
class Notification:
    kind: NotificationKind
    ticket_id: TicketId
    recipient: str
    message: Message | None = None


def _normal_tag(tag: str) -> str:
    normal = tag.strip().lower()
    if not normal or any(character.isspace() for character in normal):
        raise ValueError(f"a tag is one word, not {tag!r}")
    return normal


def normal_tags(tags: Iterable[str]) -> frozenset[str]:
    return frozenset(_normal_tag(tag) for tag in tags)


def open_ticket(
    ticket_id: TicketId,
    *,
    requester: Requester,
    subject: str,
    description: str,
    channel: Channel,
    now: datetime,
    priority: Priority = Priority.NORMAL,
    tags: Iterable[str] = (),
    order_ids: Sequence[SaleorId] = (),
    order_value: Money | None = None,
    follow_up_of: TicketId | None = None,
    store_reason: StoreReason | None = None,
) -> Ticket:
    now = as_utc("now", now)
    if not subject.strip():
        raise ValueError("a ticket needs a subject")
    if (store_reason is None) != (channel is not Channel.STORE):
        raise ValueError("a ticket the store opens has a reason, and only such a ticket")
    return Ticket(
        id=ticket_id,
        requester=requester,
        subject=subject.strip(),
        description=description,
        channel=channel,
        created_at=now,
        priority=priority,
        tags=normal_tags(tags),
        order_ids=tuple(dict.fromkeys(order_ids)),
        order_value=order_value,
        history=(StatusChange(Status.NEW, now),),
        updated_at=now,
        follow_up_of=follow_up_of,
        store_reason=store_reason,
    )


def open_follow_up(closed: Ticket, ticket_id: TicketId, *, body: str, now: datetime) -> Ticket:
    """A new ticket for a customer writing about a closed one: same requester, orders, priority and tags."""
    if closed.status is not Status.CLOSED:
        raise TicketRefused(closed.id, f"only a closed ticket gets a follow-up; this one is {closed.status}")
    return open_ticket(
        ticket_id,
        requester=closed.requester,
        subject=closed.subject if closed.subject.lower().startswith("re:") else f"Re: {closed.subject}",
        description=body,
        channel=closed.channel if closed.channel is not Channel.STORE else Channel.EMAIL,
        now=now,
        priority=closed.priority,
        tags=closed.tags,
        order_ids=closed.order_ids,
        order_value=closed.order_value,
        follow_up_of=closed.id,
    )


def _with_status(ticket: Ticket, status: Status, now: datetime) -> Ticket:
    if status is ticket.status:
        return ticket
    return replace(ticket, status=status, history=(*ticket.history, StatusChange(status, now)))


def _check_target_status(ticket: Ticket, status: Status, assignee: str | None) -> None:
    if status is Status.NEW and ticket.status is not Status.NEW:
        raise TicketRefused(ticket.id, "a ticket never returns to new")
    if status is Status.CLOSED:
        raise TicketRefused(ticket.id, "tickets close on their own once solved, or when the store's cause clears")
    if status is Status.SOLVED and assignee is None:
        raise TicketRefused(ticket.id, "solving a ticket needs an assignee")


def _public_conversation(ticket: Ticket) -> bool:
    return any(message.public for message in ticket.thread)


def apply_ticket_event(ticket: Ticket, event: TicketEvent, now: datetime) -> tuple[Ticket, tuple[Notification, ...]]:
    """The ticket after ``event`` at ``now``, and the notifications it causes; ``TicketRefused`` when the rules
    forbid it (``TicketClosed`` for any change to a closed ticket)."""
    now = as_utc("now", now)
    if ticket.updated_at is not None and now < ticket.updated_at:
        raise TicketRefused(ticket.id, f"an event at {now} comes before the ticket's last change ({ticket.updated_at})")
    if ticket.status is Status.CLOSED:
        raise TicketClosed(ticket.id, "a closed ticket cannot change; a new message opens a follow-up ticket")
    changed, notifications = _apply(ticket, event, now)
    return replace(changed, updated_at=now), notifications


def _apply(ticket: Ticket, event: TicketEvent, now: datetime) -> tuple[Ticket, tuple[Notification, ...]]:
    match event:
        case CustomerReplied(body=body):
            message = Message(Author.CUSTOMER, ticket.requester.email, body, True, now)
            changed = replace(ticket, thread=(*ticket.thread, message))
            if ticket.status in _REOPENED_BY_CUSTOMER:
                changed = _with_status(changed, Status.OPEN, now)
            if ticket.assignee is None:
                return changed, ()
            return changed, (Notification(NotificationKind.CUSTOMER_REPLIED, ticket.id, ticket.assignee, message),)
        case AgentReplied(agent=agent, body=body, status=status):
            target = status or (Status.OPEN if ticket.status is Status.NEW else ticket.status)
            _check_target_status(ticket, target, ticket.assignee)
            message = Message(Author.AGENT, agent, body, True, now)
            changed = _with_status(replace(ticket, thread=(*ticket.thread, message)), target, now)
            reply = Notification(NotificationKind.REPLY_TO_REQUESTER, ticket.id, ticket.requester.email, message)
            return changed, (reply,)
        case NoteAdded(author=author, body=body):
            note = Message(Author.AGENT, author, body, False, now)
            return replace(ticket, thread=(*ticket.thread, note)), ()
        case Assigned(assignee=assignee):
            if assignee is None and ticket.status is Status.SOLVED:
                raise TicketRefused(ticket.id, "a solved ticket keeps its assignee")
            if assignee == ticket.assignee:
                return ticket, ()
            changed = replace(ticket, assignee=assignee)
            if ticket.status is Status.NEW and assignee is not None:
                changed = _with_status(changed, Status.OPEN, now)
            if assignee is None:
                return changed, ()
            return changed, (Notification(NotificationKind.ASSIGNED, ticket.id, assignee),)
        case StatusSet(status=status):
            _check_target_status(ticket, status, ticket.assignee)
            return _with_status(ticket, status, now), ()
        case PriorityChanged(priority=priority):
            return replace(ticket, priority=priority), ()
        case TagsChanged(added=added, removed=removed):
            return replace(ticket, tags=(ticket.tags - normal_tags(removed)) | normal_tags(added)), ()
        case OrderLinked(order_id=order_id):
            if order_id in ticket.order_ids:
                return ticket, ()
            return replace(ticket, order_ids=(*ticket.order_ids, order_id)), ()
        case SolvedTicketClosed():
            if ticket.status is not Status.SOLVED:
                raise TicketRefused(ticket.id, f"only a solved ticket closes on its own; this one is {ticket.status}")
            return _with_status(ticket, Status.CLOSED, now), ()
        case CauseCleared(reason=reason, explanation=explanation):
            if ticket.store_reason is not reason:
                raise TicketRefused(ticket.id, f"the store did not open this ticket because of {reason}")
            return _clear_cause(ticket, explanation, now)


def _clear_cause(ticket: Ticket, explanation: str, now: datetime) -> tuple[Ticket, tuple[Notification, ...]]:
    """A ticket nobody has written in yet closes with the store's note; one with a conversation stays with
    its people, who are told (the customer may still be waiting for an answer)."""
    note = Message(Author.STORE, "store", explanation, False, now)
    changed = replace(ticket, thread=(*ticket.thread, note))
    if not _public_conversation(ticket):
        return _with_status(changed, Status.CLOSED, now), ()
    if ticket.assignee is None:
        return changed, ()
    return changed, (Notification(NotificationKind.CAUSE_CLEARED, ticket.id, ticket.assignee, note),)


def tickets_due_to_close(
    tickets: Iterable[Ticket], now: datetime, *, after: timedelta = AUTO_CLOSE_AFTER
) -> list[Ticket]:
    """The solved tickets whose solving is at least ``after`` old at ``now`` (Zendesk: 4 days, up to 28)."""
    now = as_utc("now", now)
    if not timedelta(0) < after <= AUTO_CLOSE_LONGEST:
        raise ValueError(f"solved tickets close after more than nothing and at most 28 days, not {after}")
    due = []
    for ticket in tickets:
        solved_at = ticket.solved_at
        if ticket.status is Status.SOLVED and solved_at is not None and solved_at + after <= now:
            due.append(ticket)
    return due

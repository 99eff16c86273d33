"""The support desk: every change to a ticket goes through its domain event, and leaves the ticket's SLA
(the policy that applies and the next deadline the inbox sorts by) recomputed from the store's settings.

The notifications an event causes (a reply to send to the requester, an assignee to tell) are handed
back to the caller, who sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.support.model import Priority, StoreReason
from app.domain.support.reports import ticket_measures
from app.domain.support.sla import TicketSla, measure_sla, select_policy
from app.domain.support.store import open_store_ticket, store_ticket_key
from app.domain.support.ticket import (
    Author,
    CauseCleared,
    Notification,
    Requester,
    SolvedTicketClosed,
    Status,
    Ticket,
    TicketEvent,
    TicketId,
    TicketRefused,
    apply_ticket_event,
)
from app.services.ports import SettingsStore, SlaTicketStore, SupportDesk
from app.services.settings import SECTIONS, read_settings
from app.services.support.model import NO_SLA, SlaDue, UnknownTicket
from app.services.support.settings import SupportConfiguration, SupportSettings

CLOSE_BATCH = 200


async def support_configuration(settings: SettingsStore, saleor_api_url: SaleorApiUrl) -> SupportConfiguration:
    support = await read_settings(settings, saleor_api_url, SECTIONS["support"])
    assert isinstance(support, SupportSettings)
    return support.configuration()


def ticket_sla(configuration: SupportConfiguration, ticket: Ticket, now: datetime) -> TicketSla | None:
    """The ticket's clocks under the first policy it matches; None when none does."""
    policy = select_policy(configuration.policies, ticket)
    if policy is None:
        return None
    return measure_sla(ticket, policy, now, warn_before=configuration.warn_before)


def sla_due(sla: TicketSla | None) -> SlaDue:
    """What the inbox sorts by: the earliest deadline of a clock still going, breached or not yet."""
    if sla is None:
        return NO_SLA
    going = [clock for clock in sla.clocks if clock.stopped_at is None and clock.deadline is not None]
    first = min(going, key=lambda clock: (clock.deadline, clock.metric.value), default=None)
    if first is None:
        return SlaDue(sla.policy)
    return SlaDue(sla.policy, first.deadline, first.metric)


@dataclass(frozen=True, slots=True)
class DeskChange:
    ticket: Ticket
    notifications: tuple[Notification, ...]
    sla: TicketSla | None


async def _keep_sla(
    desk: SlaTicketStore, configuration: SupportConfiguration, url: SaleorApiUrl, ticket: Ticket, now: datetime
) -> TicketSla | None:
    """Keep the ticket's SLA due and its report measures, in the hours of the policy that applies (the team's
    without one), as they stand after this change."""
    policy = select_policy(configuration.policies, ticket)
    sla = None if policy is None else measure_sla(ticket, policy, now, warn_before=configuration.warn_before)
    hours = configuration.hours if policy is None else policy.hours
    await desk.set_sla(url, ticket.id, sla_due(sla), ticket_measures(ticket, hours, sla))
    return sla


async def add_ticket(
    desk: SlaTicketStore,
    settings: SettingsStore,
    url: SaleorApiUrl,
    ticket: Ticket,
    now: datetime,
    *,
    store_key: str | None = None,
) -> bool:
    """Keep a new ticket with its SLA; False (nothing kept) when one is already kept under ``store_key``."""
    if not await desk.add(url, ticket, store_key=store_key):
        return False
    await _keep_sla(desk, await support_configuration(settings, url), url, ticket, now)
    return True


async def act(
    desk: SlaTicketStore,
    settings: SettingsStore,
    url: SaleorApiUrl,
    ticket_id: TicketId,
    event: TicketEvent,
    now: datetime,
) -> DeskChange:
    """Apply ``event`` to the ticket (locked while it changes), keep it and its SLA. ``UnknownTicket`` when the
    store has no such ticket, ``TicketRefused`` when its rules forbid the event: then nothing changes."""
    ticket = await desk.get_for_update(url, ticket_id)
    if ticket is None:
        raise UnknownTicket(ticket_id)
    changed, notifications = apply_ticket_event(ticket, event, now)
    await desk.save(url, changed)
    sla = await _keep_sla(desk, await support_configuration(settings, url), url, changed, now)
    return DeskChange(changed, notifications, sla)


async def view(
    desk: SupportDesk, settings: SettingsStore, url: SaleorApiUrl, ticket_id: TicketId, now: datetime
) -> tuple[Ticket, TicketSla | None] | None:
    """The ticket and its clocks as they stand at ``now``; None for an unknown ticket."""
    ticket = await desk.get(url, ticket_id)
    if ticket is None:
        return None
    return ticket, ticket_sla(await support_configuration(settings, url), ticket, now)


@dataclass(frozen=True, slots=True)
class StoreCause:
    """Why the store opens a ticket about an order, and whom it concerns."""

    order_id: SaleorId
    order_number: str
    reason: StoreReason
    requester: Requester
    details: str
    order_value: Money | None = None
    priority: Priority | None = None


async def open_for_store(
    desk: SupportDesk, settings: SettingsStore, url: SaleorApiUrl, cause: StoreCause, now: datetime
) -> Ticket | None:
    """The store's ticket about the order for the reason, opened once: None when one was already opened."""
    key = store_ticket_key(cause.order_id, cause.reason)
    if await desk.opened_by_store(url, key) is not None:
        return None
    ticket = open_store_ticket(
        await desk.next_id(url),
        order_id=cause.order_id,
        order_number=cause.order_number,
        reason=cause.reason,
        requester=cause.requester,
        details=cause.details,
        now=now,
        order_value=cause.order_value,
        priority=cause.priority,
    )
    if not await add_ticket(desk, settings, url, ticket, now, store_key=key):
        return None  # another worker opened it in the meantime
    return ticket


async def clear_store_cause(
    desk: SupportDesk,
    settings: SettingsStore,
    url: SaleorApiUrl,
    order_id: SaleorId,
    reason: StoreReason,
    explanation: str,
    now: datetime,
) -> DeskChange | None:
    """Tell the store's ticket about the order that its cause is over (it closes unless people talk in it);
    None when the store opened none, or was told already (the store's note is in the thread, or it closed)."""
    ticket = await desk.opened_by_store(url, store_ticket_key(order_id, reason))
    if ticket is None or ticket.status is Status.CLOSED:
        return None
    if any(message.author is Author.STORE for message in ticket.thread):
        return None
    return await act(desk, settings, url, ticket.id, CauseCleared(reason, explanation), now)


async def close_solved(
    desk: SupportDesk, settings: SettingsStore, url: SaleorApiUrl, now: datetime, *, limit: int = CLOSE_BATCH
) -> int:
    """Close up to ``limit`` tickets solved longer ago than the store's setting; how many closed."""
    configuration = await support_configuration(settings, url)
    closed = 0
    for ticket_id in await desk.solved_before(url, now - configuration.close_solved_after, limit):
        try:
            await act(desk, settings, url, ticket_id, SolvedTicketClosed(), now)
        except TicketRefused:  # the customer wrote since it was listed: reopened, it stays
            continue
        closed += 1
    return closed

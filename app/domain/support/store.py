"""Tickets the store opens itself, before the customer writes: once per order and reason, with the
reason's tag (so SLA policies can match it) and priority, closed when the cause clears (``CauseCleared``)."""

from __future__ import annotations

from datetime import datetime

from app.domain.ids import SaleorId
from app.domain.money import Money
from app.domain.support.model import Channel, Priority, StoreReason
from app.domain.support.ticket import Requester, Ticket, TicketId, open_ticket

DEFAULT_PRIORITY: dict[StoreReason, Priority] = {
    StoreReason.HELD_FOR_REVIEW: Priority.HIGH,  # the customer paid and nothing ships until someone decides
    StoreReason.PROMISE_AT_RISK: Priority.HIGH,
    StoreReason.PARTNER_REJECTED: Priority.HIGH,
    StoreReason.PARTNER_NO_ANSWER: Priority.NORMAL,
    StoreReason.EFFECT_FAILED: Priority.NORMAL,
    StoreReason.SOLD_BEYOND_STOCK: Priority.HIGH,
}

_SUBJECTS: dict[StoreReason, str] = {
    StoreReason.HELD_FOR_REVIEW: "Order {number} is held for review",
    StoreReason.PROMISE_AT_RISK: "Order {number} may miss its promised delivery date",
    StoreReason.PARTNER_REJECTED: "A partner rejected order {number}",
    StoreReason.PARTNER_NO_ANSWER: "A partner has not answered about order {number}",
    StoreReason.EFFECT_FAILED: "The app could not update order {number} in Saleor",
    StoreReason.SOLD_BEYOND_STOCK: "Order {number} was sold beyond stock",
}


def store_ticket_key(order_id: SaleorId, reason: StoreReason) -> str:
    """The natural key that keeps the store to one ticket per order and reason."""
    if not order_id:
        raise ValueError("a store ticket needs its order")
    return f"{reason.value}:{order_id}"


def store_key_order(key: str) -> SaleorId:
    """The order a store ticket's key (``store_ticket_key``) names."""
    _, colon, order_id = key.partition(":")
    if not colon or not order_id:
        raise ValueError(f"not a store ticket's key: {key!r}")
    return SaleorId(order_id)


def reason_tag(reason: StoreReason) -> str:
    return f"store-{reason.value.replace('_', '-')}"


def open_store_ticket(
    ticket_id: TicketId,
    *,
    order_id: SaleorId,
    order_number: str,
    reason: StoreReason,
    requester: Requester,
    details: str,
    now: datetime,
    order_value: Money | None = None,
    priority: Priority | None = None,
) -> Ticket:
    """A ticket about ``order_id`` for ``reason``, in the reason's priority unless one is given."""
    return open_ticket(
        ticket_id,
        requester=requester,
        subject=_SUBJECTS[reason].format(number=order_number),
        description=details,
        channel=Channel.STORE,
        now=now,
        priority=priority or DEFAULT_PRIORITY[reason],
        tags=(reason_tag(reason),),
        order_ids=(order_id,),
        order_value=order_value,
        store_reason=reason,
    )

"""What a staff user may do to a ticket's order in Saleor from the ticket, and why not when they may not.

Saleor itself decides: the app calls it with the user's own dashboard token, whose permissions are those the
user holds that the app holds too. These rules only spare the person a button Saleor would refuse, and say
why beforehand: the permission missing, or the order's state (Saleor cancels no order with goods out).
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class OrderAction(StrEnum):
    CANCEL = "cancel"
    NOTE = "note"
    REFUND = "refund"


ACTION_LABELS = {
    OrderAction.CANCEL: "Cancel the order",
    OrderAction.NOTE: "Add a note to the order",
    OrderAction.REFUND: "Grant a refund",
}
# The permission Saleor asks for each mutation (orderCancel, orderNoteAdd, orderGrantRefundCreate), 3.20 as now.
ACTION_PERMISSION = {
    OrderAction.CANCEL: "MANAGE_ORDERS",
    OrderAction.NOTE: "MANAGE_ORDERS",
    OrderAction.REFUND: "MANAGE_ORDERS",
}
# Saleor's OrderStatus values an order can no longer be cancelled from.
_NOT_CANCELLABLE = {"CANCELED": "it is cancelled already", "DRAFT": "it is a draft", "EXPIRED": "it has expired"}


def action_refusal(
    action: OrderAction, *, status: str, goods_out: bool, charged: bool, permissions: Collection[str]
) -> str | None:
    """Why the user may not take ``action`` on an order in ``status`` (None: they may). ``charged``: a payment
    transaction of the order charged money, which a refund is granted against.

    ``permissions`` are the dashboard token's effective ones, the only ones Saleor grants the call."""
    needed = ACTION_PERMISSION[action]
    if needed not in permissions:
        return f"Your Saleor account (as this app may act for it) lacks {needed}."
    if action is OrderAction.CANCEL:
        if status in _NOT_CANCELLABLE:
            return f"Saleor cannot cancel this order: {_NOT_CANCELLABLE[status]}."
        if goods_out:
            return "Saleor cannot cancel this order: goods were fulfilled. Cancel its fulfilments in Saleor first."
    if action is OrderAction.REFUND and not charged:
        return (
            "No payment transaction of this order charged anything to refund against "
            "(an order paid the legacy way is refunded from Saleor's order page)."
        )
    return None

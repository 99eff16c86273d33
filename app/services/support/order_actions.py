"""A ticket's order acted on in Saleor by the staff user working the ticket, with their own permissions.

Saleor is called with the user's dashboard token (``SupportSaleor`` is built on it), so Saleor refuses what
the user may not do whatever the app may. Each action taken leaves an internal note on the ticket saying
who did what; one refused (by these rules or by Saleor) changes nothing and says why.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.money import Money
from app.domain.support.order_actions import ACTION_LABELS, OrderAction, action_refusal
from app.domain.support.ticket import NoteAdded, Status, Ticket, TicketId
from app.errors import SaleorApiError, SaleorGraphQLError, SaleorMutationError, SaleorUnavailableError
from app.services.ports import SettingsStore, SupportDesk, SupportOrder, SupportSaleor
from app.services.support.desk import DeskChange, act
from app.services.support.model import UnknownTicket

NOTE_LIMIT = 2_000  # characters of a note added to the order


class OrderActionRefused(ValueError):
    """Not done: the reason is the message, and neither Saleor nor the ticket changed."""


@dataclass(frozen=True, slots=True)
class ActionChoice:
    action: OrderAction
    label: str
    refusal: str | None  # None: the user may take it


def action_choices(order: SupportOrder, permissions: Collection[str]) -> list[ActionChoice]:
    """Every action, with why the user may not take it (the buttons the ticket shows, or their reasons)."""
    return [
        ActionChoice(
            action,
            ACTION_LABELS[action],
            action_refusal(
                action,
                status=order.status,
                goods_out=order.goods_out,
                charged=order.charged is not None,
                permissions=permissions,
            ),
        )
        for action in OrderAction
    ]


def saleor_refusal(exc: SaleorApiError) -> str:
    """What Saleor said, for a person: its errors' messages, or that it could not be reached."""
    if isinstance(exc, SaleorMutationError | SaleorGraphQLError):
        return "Saleor refused: " + "; ".join(error.message.rstrip(".") for error in exc.errors) + "."
    if isinstance(exc, SaleorUnavailableError):
        return "Saleor could not be reached. Try again in a moment."
    return f"Saleor could not be asked: {exc}."


async def take_order_action(
    saleor: SupportSaleor,
    desk: SupportDesk,
    settings: SettingsStore,
    url: SaleorApiUrl,
    ticket_id: TicketId,
    *,
    action: OrderAction,
    order_id: SaleorId,
    note: str,
    staff: str,
    permissions: Collection[str],
    now: datetime,
    amount: str = "",
) -> tuple[DeskChange, str]:
    """Take ``action`` on the ticket's order in Saleor, then note it on the ticket; what to tell the person.
    ``note`` is the order note, or a refund's reason; ``amount`` the refund's, as typed."""
    ticket = await desk.get(url, ticket_id)
    if ticket is None:
        raise UnknownTicket(ticket_id)
    if order_id not in ticket.order_ids:
        raise OrderActionRefused("This ticket is not about that order.")
    if ticket.status is Status.CLOSED:
        raise OrderActionRefused("This ticket is closed: act on the order from a follow-up or in Saleor.")
    note = note.strip()
    if action is OrderAction.NOTE and not note:
        raise OrderActionRefused("Write the note for the order first.")
    if len(note) > NOTE_LIMIT:
        raise OrderActionRefused(f"A note to the order has at most {NOTE_LIMIT} characters, not {len(note)}.")
    try:
        order = await saleor.support_order(order_id)
        if order is None:
            raise OrderActionRefused("Saleor has no such order, or your account may not see it.")
        refusal = action_refusal(
            action,
            status=order.status,
            goods_out=order.goods_out,
            charged=order.charged is not None,
            permissions=permissions,
        )
        if refusal is not None:
            raise OrderActionRefused(refusal)
        if action is OrderAction.CANCEL:
            await saleor.cancel_order(order_id)
            done = f"cancelled order #{order.number} in Saleor"
        elif action is OrderAction.NOTE:
            await saleor.add_order_note(order_id, note)
            done = f"added a note to order #{order.number} in Saleor: {note}"
        else:
            assert order.refund_transaction is not None  # action_refusal refuses a refund without one
            assert order.charged is not None
            refund = refund_amount(amount, order.charged)
            await saleor.grant_refund(order_id, order.refund_transaction, refund, note)
            done = (
                f"granted a refund of {refund.amount} {refund.currency} on order #{order.number} in Saleor"
                f"{': ' + note if note else ''} (the payment app sends it once someone who may handle payments does)"
            )
    except SaleorApiError as exc:
        raise OrderActionRefused(saleor_refusal(exc)) from exc
    change = await act(desk, settings, url, ticket.id, NoteAdded(staff, f"{staff} {done}"), now)
    return change, f"{ACTION_LABELS[action]}: done."


def refund_amount(typed: str, charged: Money) -> Money:
    """The refund a person typed, in the transaction's currency: more than nothing, at most what it charged."""
    try:
        amount = Decimal(typed.strip().replace(",", "."))
    except InvalidOperation:
        raise OrderActionRefused(f"Type the amount to refund, e.g. 12.50, not {typed!r}.") from None
    if not amount.is_finite() or amount <= 0:
        raise OrderActionRefused("A refund is more than nothing.")
    if amount > charged.amount:
        raise OrderActionRefused(f"At most {charged.amount} {charged.currency} was charged to refund, not {amount}.")
    return Money(amount, charged.currency)


def order_in_view(ticket: Ticket, chosen: str | None) -> SaleorId | None:
    """The order a ticket's page acts on and fills macros from: the one the person chose among the ticket's
    orders, else the first it is about."""
    if chosen and chosen in ticket.order_ids:
        return SaleorId(chosen)
    return ticket.order_ids[0] if ticket.order_ids else None

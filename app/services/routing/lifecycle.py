"""What becomes of an order's hand-offs after its plan: cancelled when the order no longer needs them,
expired when their partner lets its acceptance window pass, and the store's tickets about partners
that dropped their share.

- **Cancelled** (``cancel_order_hand_offs``): fraud rejects an order already handed off, or Saleor
  cancels it. Each open hand-off is marked cancelled and its partner told (``cancel_hand_offs``); one
  note on the order names them. Callbacks about it are refused from then on.
- **Expired** (``expire_unanswered``, from housekeeping): a hand-off still unanswered when its
  partner's acceptance window ends is treated as a rejection. It is cancelled at the partner and a
  note says so; the note makes Saleor send ORDER_UPDATED, on which the routing subscriber re-plans
  its units without that partner (``app.services.routing.planning.replan_rejected``).
- **Tickets**: the subscriber opens one per order and reason (a partner rejected, or did not answer);
  its cause clears once nothing of the order waits on a partner any more (``partners_settled``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Protocol

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.support.model import StoreReason
from app.services.ports import RoutingPlans, RoutingSources, SaleorWriter, SettingsStore, SupportDesk
from app.services.routing.hand_offs import HandOffWriter, OrderForPartners, cancel_hand_offs, described
from app.services.routing.model import Partner
from app.services.routing.planning import NOTE_PREFIX
from app.services.routing.plans import HandOff, HandOffStatus, OrderRouting
from app.services.support.desk import clear_store_cause

EXPIRE_BATCH = 100
PARTNER_REASONS = {
    HandOffStatus.REJECTED: StoreReason.PARTNER_REJECTED,
    HandOffStatus.EXPIRED: StoreReason.PARTNER_NO_ANSWER,
}


class OrderWriter(HandOffWriter, SaleorWriter, Protocol):
    """What an expiry writes: the cancel to the partner and the note to Saleor (``Outbox`` does both)."""


async def _partners(url: SaleorApiUrl, sources: RoutingSources) -> dict[str, Partner]:
    return {partner.id: partner for partner in (await sources.setup(url, ())).partners}


async def cancel_order_hand_offs(
    url: SaleorApiUrl,
    order_id: str,
    why: str,
    *,
    order: OrderForPartners,
    plans: RoutingPlans,
    sources: RoutingSources,
    saleor: SaleorWriter,
    partners: HandOffWriter,
    now: datetime,
) -> tuple[HandOff, ...]:
    """Cancel every open hand-off of the order, said in one note; what was cancelled (none the second time)."""
    open_ = [hand_off for hand_off in await plans.hand_offs(url, order_id) if hand_off.is_open]
    if not open_:
        return ()
    known = await _partners(url, sources)
    cancelled = await cancel_hand_offs(
        url, open_, why, order=order, partners=known, plans=plans, writer=partners, now=now
    )
    if cancelled:
        note = f"{NOTE_PREFIX}: cancelled at the partner: {described(cancelled, known)}; {why}"
        await saleor.add_order_note(SaleorId(order_id), note)
    return cancelled


def _hours(partner: Partner) -> str:
    hours = int(partner.acceptance_window.total_seconds() // 3600)
    return f"{hours} hour{'' if hours == 1 else 's'}"


async def expire_unanswered(
    url: SaleorApiUrl,
    *,
    plans: RoutingPlans,
    sources: RoutingSources,
    writer_for: Callable[[str], OrderWriter],
    order_for: Callable[[str], Awaitable[OrderForPartners]],
    now: datetime,
    limit: int = EXPIRE_BATCH,
) -> int:
    """Expire up to ``limit`` of the store's hand-offs whose partner's acceptance window has passed
    unanswered; how many. ``writer_for(cause)`` writes each one's cancel and note, named after it, so
    a second run (or a second worker) sends nothing twice; ``order_for(order id)`` is the order as the
    cancel names it."""
    known = await _partners(url, sources)
    expired = 0
    for partner in known.values():
        if expired >= limit:
            break
        for hand_off in await plans.unanswered(url, partner.id, now - partner.acceptance_window, limit - expired):
            writer = writer_for(f"hand-off-expired:{hand_off.id}")
            why = f"no answer within {_hours(partner)}"
            ended = await cancel_hand_offs(
                url,
                [hand_off],
                why,
                order=await order_for(hand_off.order_id),
                partners=known,
                plans=plans,
                writer=writer,
                now=now,
                status=HandOffStatus.EXPIRED,
            )
            if not ended:
                continue  # answered, or expired by another worker, since it was listed
            note = (
                f"{NOTE_PREFIX}: {described(ended, known)} got no answer within {_hours(partner)}: "
                f"hand-off {hand_off.id} is cancelled there and its units are re-planned without it"
            )
            await writer.add_order_note(SaleorId(hand_off.order_id), note)
            expired += 1
    return expired


def partners_settled(routing: OrderRouting, hand_offs: Iterable[HandOff]) -> bool:
    """Nothing of the order waits on a partner: no hand-off unanswered, none dropped and not re-planned yet."""
    for hand_off in hand_offs:
        if hand_off.status is HandOffStatus.SENT:
            return False
        if hand_off.is_dropped and hand_off.warehouse_id not in routing.excluded:
            return False
    return routing.routed


async def settle_partner_tickets(
    url: SaleorApiUrl,
    order_id: str,
    *,
    plans: RoutingPlans,
    desk: SupportDesk,
    settings: SettingsStore,
    now: datetime,
) -> None:
    """Clear the causes of the store's tickets about partners that dropped the order's lines, once the
    lines re-planned are accepted or shipped (``partners_settled``)."""
    routing = await plans.get(url, order_id)
    if routing is None or routing.revision == 1:
        return  # never re-planned: no partner dropped anything
    if not partners_settled(routing, await plans.hand_offs(url, order_id)):
        return
    explanation = "The re-planned lines are accepted by their sources or shipped."
    for reason in PARTNER_REASONS.values():
        await clear_store_cause(desk, settings, url, SaleorId(order_id), reason, explanation, now)

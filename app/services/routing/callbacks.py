"""Partner callbacks: a partner accepts or rejects a hand-off, and confirms each shipment it sends.

Every callback is signed like a hand-off (``app.services.routing.signing``) with the partner's secret;
one whose timestamp is stale or whose signature was seen before is a replay. What a callback asks is
checked whole before anything changes, and repeating what was done already changes nothing: a second
accept, the same rejection, a shipment id confirmed before with the same content.

A confirmed shipment becomes a Saleor fulfilment from the partner's warehouse with its tracking number
(an effect). A rejection is noted on the order; the note makes Saleor send ORDER_UPDATED, on which the
routing subscriber re-plans the rejected units without that partner
(``app.services.routing.planning.replan_rejected``). A hand-off the app ended (cancelled, or expired
unanswered: ``app.services.routing.lifecycle``) takes no callback any more; each is refused saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.routing.model import SourceKind
from app.services.ports import RoutingPlans, RoutingSources, SaleorWriter
from app.services.routing.planning import NOTE_PREFIX
from app.services.routing.plans import HandOff, HandOffStatus, PartnerShipment
from app.services.routing.signing import signature_problem


class CallbackRefused(Exception):
    """Why a callback changes nothing: ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def verified_hand_off(
    hand_off_id: str,
    *,
    timestamp: str,
    signature: str,
    body: str,
    plans: RoutingPlans,
    sources: RoutingSources,
    now: datetime,
) -> tuple[SaleorApiUrl, HandOff]:
    """The hand-off a callback is about, once its signature holds and it is no replay."""
    found = await plans.hand_off(hand_off_id)
    if found is None:
        raise CallbackRefused(404, f"no hand-off {hand_off_id}")
    url, hand_off = found
    secret = await sources.partner_secret(url, hand_off.partner_id)
    if secret is None:
        raise CallbackRefused(401, f"partner {hand_off.partner_id} is no longer set up")
    problem = signature_problem(secret, timestamp, body, signature, now)
    if problem is not None:
        raise CallbackRefused(401, problem)
    if not await plans.first_sight(url, signature.strip().lower(), now):
        raise CallbackRefused(409, "a replay: this signed request was taken already")
    return url, hand_off


def _refuse_ended(hand_off: HandOff, asked: str) -> None:
    """A hand-off the app ended (cancelled, or expired unanswered) takes no callback: say why."""
    if hand_off.status is HandOffStatus.CANCELLED:
        raise CallbackRefused(409, f"the hand-off was cancelled ({hand_off.reason}): {asked} is refused")
    if hand_off.status is HandOffStatus.EXPIRED:
        raise CallbackRefused(
            409,
            f"the hand-off expired unanswered ({hand_off.reason}) and was cancelled, its units re-planned: "
            f"{asked} is refused",
        )


async def accept(url: SaleorApiUrl, hand_off: HandOff, *, plans: RoutingPlans, now: datetime) -> HandOff:
    _refuse_ended(hand_off, "accepting it")
    if hand_off.status is HandOffStatus.REJECTED:
        raise CallbackRefused(409, "the hand-off was rejected already")
    if hand_off.status is HandOffStatus.ACCEPTED:
        return hand_off
    accepted = replace(hand_off, status=HandOffStatus.ACCEPTED, updated_at=now)
    await plans.save_hand_off(url, accepted)
    return accepted


def _units(hand_off: HandOff) -> str:
    return ", ".join(f"{units.sku} × {units.quantity}" for units in hand_off.units)


async def reject(
    url: SaleorApiUrl,
    hand_off: HandOff,
    reason: str,
    *,
    plans: RoutingPlans,
    sources: RoutingSources,
    saleor: SaleorWriter,
    now: datetime,
) -> HandOff:
    """Reject the hand-off, said on the order; its units are re-planned on the event the note causes."""
    _refuse_ended(hand_off, "rejecting it")
    if hand_off.status is HandOffStatus.REJECTED:
        return hand_off
    if any(hand_off.shipped.values()):
        raise CallbackRefused(409, "units of the hand-off were shipped already: it can no longer be rejected")
    rejected = replace(hand_off, status=HandOffStatus.REJECTED, reason=reason, updated_at=now)
    await plans.save_hand_off(url, rejected)
    partner = await _partner_name(url, hand_off, sources)
    why = reason or "no reason given"
    note = (
        f"{NOTE_PREFIX}: {partner} rejected hand-off {hand_off.id} ({_units(hand_off)}): {why}; "
        "its units are re-planned without it"
    )
    await saleor.add_order_note(SaleorId(hand_off.order_id), note)
    return rejected


async def _partner_name(url: SaleorApiUrl, hand_off: HandOff, sources: RoutingSources) -> str:
    setup = await sources.setup(url, {units.sku for units in hand_off.units})
    return next((p.name for p in setup.partners if p.id == hand_off.partner_id), hand_off.partner_id)


async def confirm_shipment(
    url: SaleorApiUrl,
    hand_off: HandOff,
    shipment: PartnerShipment,
    *,
    plans: RoutingPlans,
    sources: RoutingSources,
    saleor: SaleorWriter,
    now: datetime,
) -> HandOff:
    """Keep the shipment and make it a Saleor fulfilment; the same shipment again changes nothing."""
    known = await plans.shipment(hand_off.id, shipment.shipment_id)
    if known is not None:
        same = (known.carrier, known.tracking_number, dict(known.lines)) == (
            shipment.carrier,
            shipment.tracking_number,
            dict(shipment.lines),
        )
        if not same:
            raise CallbackRefused(409, f"shipment {shipment.shipment_id} was confirmed already with other content")
        return hand_off
    _refuse_ended(hand_off, "a shipment confirmed after the cancel")
    if hand_off.status is HandOffStatus.REJECTED:
        raise CallbackRefused(409, "the hand-off was rejected: nothing of it may ship")
    _check_lines(hand_off, shipment.lines)
    shipped = dict(hand_off.shipped)
    for line, quantity in shipment.lines.items():
        shipped[line] = shipped.get(line, 0) + quantity
    updated = replace(hand_off, status=HandOffStatus.ACCEPTED, shipped=shipped, updated_at=now)
    await plans.save_hand_off(url, updated)
    await plans.add_shipment(url, shipment)
    setup = await sources.setup(url, {units.sku for units in hand_off.units})
    kind = next((p.kind for p in setup.partners if p.id == hand_off.partner_id), None)
    await saleor.fulfill_order(
        SaleorId(hand_off.order_id),
        hand_off.warehouse_id,
        shipment.lines,
        shipment.tracking_number,
        # A supplier's stock is its feed's, not Saleor's: its warehouse may hold none in Saleor.
        allow_stock_to_be_exceeded=kind is SourceKind.DROPSHIP,
    )
    return updated


def _check_lines(hand_off: HandOff, lines: Mapping[str, int]) -> None:
    if not lines:
        raise CallbackRefused(422, "a shipment needs at least one line")
    for line, quantity in lines.items():
        if quantity < 1:
            raise CallbackRefused(422, f"line {line}: the quantity must be 1 or more, got {quantity}")
        if hand_off.handed(line) == 0:
            raise CallbackRefused(422, f"line {line} was not handed off in {hand_off.id}")
        left = hand_off.unshipped(line)
        if quantity > left:
            raise CallbackRefused(
                422, f"line {line}: {quantity} units is more than the {left} handed off and not shipped yet"
            )

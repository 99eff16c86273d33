"""Shipping on the order: once fraud clears an order, the carrier service each shipment goes with is
chosen, kept and written to Saleor (``ops.shipping`` and one note); when goods leave, the service is
checked against the promise again, re-shopped if it no longer keeps it, and the order flagged when
nothing does. The shipments are those of routing's plan (DESIGN.md: routing.plan ▶ shipping.select),
chosen again when routing re-plans, or Saleor's allocation when the store has no plan for the order.

Nothing here calls a carrier: the pipeline's quoter reads only the live answers checkout already
fetched (``LiveQuoteCache``), and the rate tables answer the rest, so a decision stays one short
database transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from app.domain.fraud import Decision
from app.domain.ids import SaleorApiUrl, SaleorId
from app.services.fraud import ReviewOutcome
from app.services.ports import FraudRepository, SaleorWriter, ShippingDecisions
from app.services.shipping.model import OrderShipment, OrderShipping, PlacedOrder, ShipmentShipping
from app.services.shipping.quoting import ShipmentDecision, ShippingQuoter

log = logging.getLogger(__name__)

METADATA_KEY = "ops.shipping"
NOTE_PREFIX = "Saleor Ops shipping"


class Clearance(StrEnum):
    CLEARED = "cleared"
    WAITING = "waiting"  # not assessed yet, held for payment or for a person
    REFUSED = "refused"  # a person rejected it, or Saleor cancelled it


async def fraud_clearance(url: SaleorApiUrl, order_id: str, fraud: FraudRepository) -> tuple[Clearance, str]:
    """Whether fraud lets the order ship, and why: an approved assessment with nothing held, or a review a
    person closed as approved."""
    review = await fraud.review(url, order_id)
    if review is not None:
        if review.status != "closed":
            return Clearance.WAITING, f"held ({review.status.replace('_', ' ')})"
        if review.closed_reason == ReviewOutcome.APPROVED:
            return Clearance.CLEARED, f"review approved by {review.closed_by}"
        return Clearance.REFUSED, f"review closed as {review.closed_reason}"
    assessments = await fraud.assessments(url, order_id)
    if not assessments:
        return Clearance.WAITING, "not assessed yet"
    latest = assessments[-1]  # oldest first: the paid stage after the created one
    if latest.decision == Decision.APPROVE.value:
        return Clearance.CLEARED, f"approved at the {latest.stage.value} stage"
    return Clearance.WAITING, f"{latest.decision} at the {latest.stage.value} stage"


@dataclass(frozen=True, slots=True)
class Chosen:
    decision: OrderShipping
    note: str


@dataclass(frozen=True, slots=True)
class NotChosen:
    reason: str


def _shipment(
    decision: ShipmentDecision, units: Mapping[str, int], *, before: tuple[str, ...] = ()
) -> ShipmentShipping:
    selection = decision.selection
    entry = selection.ops_shipment(decision.warehouse_id) if selection is not None else None
    return ShipmentShipping(decision.warehouse_id, entry, (*before, *decision.lines()), dict(units))


def _ships(shipment: OrderShipment, decided: ShipmentShipping) -> bool:
    """Whether ``decided`` is the same shipment: the same units from the same warehouse."""
    return shipment.warehouse_id == decided.source and shipment.units == dict(decided.units)


async def _write(saleor: SaleorWriter, decision: OrderShipping, note: str) -> None:
    await saleor.record_shipping(SaleorId(decision.order_id), {METADATA_KEY: json.dumps(decision.metadata())}, note)


def _basis(plan_revision: int | None) -> str:
    return "Saleor's allocation" if plan_revision is None else f"routing's plan (revision {plan_revision})"


async def choose_order_shipping(
    url: SaleorApiUrl,
    order_id: str,
    order: PlacedOrder,
    *,
    plan_revision: int | None = None,
    fraud: FraudRepository,
    decisions: ShippingDecisions,
    quoter: ShippingQuoter,
    saleor: SaleorWriter,
    now: datetime,
) -> Chosen | NotChosen:
    """Choose each shipment's service once the order is cleared. ``order``'s shipments are routing's plan
    at ``plan_revision``, or Saleor's allocation when None (the store has no plan for the order).

    Chosen once per plan revision: later events and redeliveries write nothing. When routing re-plans,
    the shipments the new plan no longer has are dropped, new ones are chosen for as they leave (when
    routing planned, else now), and those it keeps keep their service; ``ops.shipping`` is rewritten
    with one note."""
    stored = await decisions.get(url, order_id)
    if stored is not None:
        if stored.plan_revision == plan_revision:
            return NotChosen("chosen already")
        return await _rechoose(url, stored, order, plan_revision, decisions, quoter, saleor, now)
    clearance, why = await fraud_clearance(url, order_id, fraud)
    if clearance is not Clearance.CLEARED:
        return NotChosen(f"fraud: {why}")
    chosen = await quoter.select_for_order(url, order)
    decision = OrderShipping(
        order_id=order_id,
        level=chosen.level,
        shipments=tuple(
            _shipment(decided, shipment.units)
            for shipment, decided in zip(order.shipments, chosen.shipments, strict=True)
        ),
        checked_fulfillments=(),
        decided_at=now,
        updated_at=now,
        plan_revision=plan_revision,
    )
    if not await decisions.add(url, decision):
        return NotChosen("chosen already")
    note = f"{NOTE_PREFIX} ({chosen.level}): " + "; ".join(shipment.note() for shipment in chosen.shipments)
    if plan_revision is not None:
        note += f"; as planned by {_basis(plan_revision)}"
    await _write(saleor, decision, note)
    log.info(
        "shipping chosen",
        extra={
            "saleor_api_url": url,
            "order_id": order_id,
            "level": chosen.level.value,
            "plan_revision": plan_revision,
            "needs_attention": decision.needs_attention,
        },
    )
    return Chosen(decision, note)


async def _rechoose(
    url: SaleorApiUrl,
    stored: OrderShipping,
    order: PlacedOrder,
    plan_revision: int | None,
    decisions: ShippingDecisions,
    quoter: ShippingQuoter,
    saleor: SaleorWriter,
    now: datetime,
) -> Chosen | NotChosen:
    left = list(stored.shipments)
    kept: dict[int, ShipmentShipping] = {}
    for index, shipment in enumerate(order.shipments):
        same = next((decided for decided in left if _ships(shipment, decided)), None)
        if same is not None:
            left.remove(same)
            kept[index] = same
    if len(kept) == len(order.shipments) and not left:
        await decisions.replace(url, replace(stored, plan_revision=plan_revision, updated_at=now))
        return NotChosen(f"{_basis(plan_revision)} ships as before")
    # The whole order is quoted, as rules weigh its value and product types; a new shipment leaves when
    # routing planned it, or now at the earliest, and answers to the promise made at checkout.
    chosen = await quoter.select_for_order(url, order, now)
    fresh = [decided for index, decided in enumerate(chosen.shipments) if index not in kept]
    shipments = tuple(
        kept[index] if index in kept else _shipment(decided, shipment.units)
        for index, (shipment, decided) in enumerate(zip(order.shipments, chosen.shipments, strict=True))
    )
    revised = replace(stored, shipments=shipments, plan_revision=plan_revision, updated_at=now)
    await decisions.replace(url, revised)
    parts = [decided.note() for decided in fresh]
    parts += [f"{gone.source}: its shipment is no longer planned" for gone in left]
    note = f"{NOTE_PREFIX} ({stored.level}), re-chosen for {_basis(plan_revision)}: " + "; ".join(parts)
    await _write(saleor, revised, note)
    log.info(
        "shipping re-chosen",
        extra={
            "saleor_api_url": url,
            "order_id": stored.order_id,
            "plan_revision": plan_revision,
            "chosen": len(fresh),
            "dropped": len(left),
        },
    )
    return Chosen(revised, note)


class Recheck(StrEnum):
    KEPT = "kept"  # the chosen service still arrives in time
    RESHOPPED = "reshopped"  # another one does
    FLAGGED = "flagged"  # none does


@dataclass(frozen=True, slots=True)
class Rechecked:
    outcome: Recheck
    decision: OrderShipping
    note: str | None  # None when the service was kept: nothing is written


@dataclass(frozen=True, slots=True)
class NotRechecked:
    reason: str


def _answering(shipments: Sequence[ShipmentShipping], sent: OrderShipment) -> ShipmentShipping | None:
    """The shipment with a service that goods ``sent`` answer to: of those leaving their warehouse, the one
    planned with most of their units; goods sent from a warehouse nothing was planned from answer to the
    shipment planned with most of them, or else the first."""
    sent_units = sent.units

    def carried(decided: ShipmentShipping) -> int:
        return sum(min(quantity, decided.units.get(line_id, 0)) for line_id, quantity in sent_units.items())

    priced = [decided for decided in shipments if decided.entry is not None]
    return max(priced, key=lambda decided: (decided.source == sent.warehouse_id, carried(decided)), default=None)


async def recheck_fulfilment(
    url: SaleorApiUrl,
    order_id: str,
    fulfillment_id: str,
    shipped: PlacedOrder | str,
    *,
    leaves_at: datetime,
    decisions: ShippingDecisions,
    quoter: ShippingQuoter,
    saleor: SaleorWriter,
    now: datetime,
) -> Rechecked | NotRechecked:
    """Check, once per fulfilment, that the service chosen for the goods it sends still arrives by the
    promised date when they leave at ``leaves_at``; ``shipped`` is the order as that one shipment."""
    stored = await decisions.get(url, order_id)
    if stored is None:
        return NotRechecked("no service was chosen for the order")
    if fulfillment_id in stored.checked_fulfillments:
        return NotRechecked("checked already")
    if isinstance(shipped, str):
        return NotRechecked(shipped)
    (shipment,) = shipped.shipments
    warehouse = shipment.warehouse_id
    planned = _answering(stored.shipments, shipment)
    if planned is None or planned.entry is None:
        return NotRechecked("no shipment of the order had a service to check")
    promised_by = date.fromisoformat(str(planned.entry["promisedBy"]))
    was = f"{planned.entry['carrier']} {planned.entry['service']}"
    requoted = await quoter.reselect_for_order(url, replace(shipped, level=stored.level), leaves_at, promised_by)
    (now_decided,) = requoted.shipments
    candidates = now_decided.selection.candidates if now_decided.selection is not None else ()
    current = next((candidate for candidate in candidates if candidate.label == was), None)
    checked = (*stored.checked_fulfillments, fulfillment_id)
    if current is not None and current.window.latest <= promised_by:
        kept = replace(stored, checked_fulfillments=checked, updated_at=now)
        await decisions.replace(url, kept)
        return Rechecked(Recheck.KEPT, kept, None)
    why = (
        f"{was} no longer quotes it"
        if current is None
        else f"{was} would arrive by {current.window.latest}, after the promised {promised_by}"
    )
    head = f"Fulfilment {fulfillment_id} from {warehouse}, leaving {leaves_at.isoformat()}: {why}"
    replacement = _shipment(now_decided, planned.units, before=(head,))
    if now_decided.meets_promise:
        outcome, result = Recheck.RESHOPPED, f"re-shopped: {now_decided.note()}"
    else:
        outcome, result = Recheck.FLAGGED, f"nothing arrives by the promised {promised_by}: {now_decided.note()}"
        if replacement.entry is None:  # no service at all: the planned one stays, marked late
            late = {**planned.entry, "source": warehouse, "meetsPromise": False}
            replacement = ShipmentShipping(warehouse, late, replacement.explanation, replacement.units)
    shipments = tuple(replacement if s is planned else s for s in stored.shipments)
    updated = replace(stored, shipments=shipments, checked_fulfillments=checked, updated_at=now)
    await decisions.replace(url, updated)
    note = f"{NOTE_PREFIX} re-check ({stored.level}): {head}; {result}"
    await _write(saleor, updated, note)
    log.info(
        "shipping re-checked",
        extra={"saleor_api_url": url, "order_id": order_id, "fulfillment": fulfillment_id, "outcome": outcome.value},
    )
    return Rechecked(outcome, updated, note)

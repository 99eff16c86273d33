"""Shipping on the order: once fraud clears an order, the carrier service each shipment goes with is
chosen, kept once and written to Saleor (``ops.shipping`` and one note); when goods leave, the service
is checked against the promise again, re-shopped if it no longer keeps it, and the order flagged when
nothing does.

Nothing here calls a carrier: the pipeline's quoter reads only the live answers checkout already
fetched (``LiveQuoteCache``), and the rate tables answer the rest, so a decision stays one short
database transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from app.domain.fraud import Decision
from app.domain.ids import SaleorApiUrl, SaleorId
from app.services.fraud import ReviewOutcome
from app.services.ports import FraudRepository, SaleorWriter, ShippingDecisions
from app.services.shipping.model import OrderShipping, PlacedOrder, ShipmentShipping
from app.services.shipping.quoting import ShipmentDecision, ShippingQuoter

log = logging.getLogger(__name__)

METADATA_KEY = "ops.shipping"


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


def _shipment(decision: ShipmentDecision, *, before: tuple[str, ...] = ()) -> ShipmentShipping:
    selection = decision.selection
    entry = selection.ops_shipment(decision.warehouse_id) if selection is not None else None
    return ShipmentShipping(decision.warehouse_id, entry, (*before, *decision.lines()))


async def _write(saleor: SaleorWriter, decision: OrderShipping, note: str) -> None:
    await saleor.record_shipping(SaleorId(decision.order_id), {METADATA_KEY: json.dumps(decision.metadata())}, note)


async def choose_order_shipping(
    url: SaleorApiUrl,
    order_id: str,
    order: PlacedOrder,
    *,
    fraud: FraudRepository,
    decisions: ShippingDecisions,
    quoter: ShippingQuoter,
    saleor: SaleorWriter,
    now: datetime,
) -> Chosen | NotChosen:
    """Choose each shipment's service once the order is cleared. Chosen once per order: later events and
    redeliveries write nothing."""
    if await decisions.get(url, order_id) is not None:
        return NotChosen("chosen already")
    clearance, why = await fraud_clearance(url, order_id, fraud)
    if clearance is not Clearance.CLEARED:
        return NotChosen(f"fraud: {why}")
    chosen = await quoter.select_for_order(url, order)
    decision = OrderShipping(
        order_id=order_id,
        level=chosen.level,
        shipments=tuple(_shipment(shipment) for shipment in chosen.shipments),
        checked_fulfillments=(),
        decided_at=now,
        updated_at=now,
    )
    if not await decisions.add(url, decision):
        return NotChosen("chosen already")
    note = f"Saleor Ops shipping ({chosen.level}): " + "; ".join(shipment.note() for shipment in chosen.shipments)
    await _write(saleor, decision, note)
    log.info(
        "shipping chosen",
        extra={
            "saleor_api_url": url,
            "order_id": order_id,
            "level": chosen.level.value,
            "needs_attention": decision.needs_attention,
        },
    )
    return Chosen(decision, note)


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
    # The shipment planned from this warehouse; goods sent from another one answer to the first promise.
    planned = next((s for s in stored.shipments if s.source == warehouse and s.entry is not None), None) or next(
        (s for s in stored.shipments if s.entry is not None), None
    )
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
    replacement = _shipment(now_decided, before=(head,))
    if now_decided.meets_promise:
        outcome, result = Recheck.RESHOPPED, f"re-shopped: {now_decided.note()}"
    else:
        outcome, result = Recheck.FLAGGED, f"nothing arrives by the promised {promised_by}: {now_decided.note()}"
        if replacement.entry is None:  # no service at all: the planned one stays, marked late
            late = {**planned.entry, "source": warehouse, "meetsPromise": False}
            replacement = ShipmentShipping(warehouse, late, replacement.explanation)
    shipments = tuple(replacement if s is planned else s for s in stored.shipments)
    updated = replace(stored, shipments=shipments, checked_fulfillments=checked, updated_at=now)
    await decisions.replace(url, updated)
    note = f"Saleor Ops shipping re-check ({stored.level}): {head}; {result}"
    await _write(saleor, updated, note)
    log.info(
        "shipping re-checked",
        extra={"saleor_api_url": url, "order_id": order_id, "fulfillment": fulfillment_id, "outcome": outcome.value},
    )
    return Rechecked(outcome, updated, note)

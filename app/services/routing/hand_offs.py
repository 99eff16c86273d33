"""Hand-offs: each 3PL or supplier shipment of a plan sent to its partner through the pipeline's effects
(stored with the plan, sent by the dispatcher, retried with backoff while the partner or its mail
server is down): signed JSON posted to the partner's endpoint (``app.integrations.partners``), or a
purchase order e-mailed to a partner that takes e-mail (``app.services.routing.purchase_orders``).
Shipments left to the merchant's own warehouse staff send nothing.

A hand-off the order no longer needs (fraud rejected the order, Saleor cancelled it, the partner let
its acceptance window pass, staff re-routed it) is cancelled: marked so, and a signed cancel message
posted to the same endpoint (or, to a partner that takes e-mail, the purchase order's cancel e-mailed)
in the partner's lane of effects, so it never overtakes the hand-off. Both posted messages carry
``type`` (``hand_off`` or ``hand_off.cancel``); ``app.api.partner_messages`` documents them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.routing.model import SourceKind
from app.services.ports import RoutingPlans
from app.services.routing.model import HandOffMethod, Partner, RoutingSetup
from app.services.routing.plans import HandOff, HandOffStatus, OrderRouting, RoutedShipment, RoutedUnits
from app.services.routing.purchase_orders import PurchaseOrder, PurchaseOrderCancel, PurchaseOrderLine


class HandOffWriter(Protocol):
    """Where hand-offs go: one effect each (``app.services.pipeline.Outbox``)."""

    async def send_hand_off(
        self, order_id: SaleorId, partner_id: str, endpoint: str, body: Mapping[str, Any]
    ) -> None: ...
    async def cancel_hand_off(
        self, order_id: SaleorId, partner_id: str, endpoint: str, body: Mapping[str, Any]
    ) -> None: ...
    async def send_purchase_order(
        self, order_id: SaleorId, partner_id: str, to: str, purchase_order: Mapping[str, Any]
    ) -> None: ...
    async def cancel_purchase_order(
        self, order_id: SaleorId, partner_id: str, to: str, cancel: Mapping[str, Any]
    ) -> None: ...


HAND_OFF_MESSAGE = "hand_off"
CANCEL_MESSAGE = "hand_off.cancel"


@dataclass(frozen=True, slots=True)
class OrderForPartners:
    """What partners are told of the order besides their units: its number, where to ship, and each
    line's product name by line id."""

    number: str
    ship_to: Mapping[str, str]
    line_names: Mapping[str, str]


def _body(hand_off: HandOff, order: OrderForPartners) -> dict[str, Any]:
    return {
        "type": HAND_OFF_MESSAGE,
        "handOffId": hand_off.id,
        "orderId": hand_off.order_id,
        "orderNumber": order.number,
        "warehouseId": hand_off.warehouse_id,
        "shipTo": dict(order.ship_to),
        "lines": [{"lineId": u.line_id, "sku": u.sku, "quantity": u.quantity} for u in hand_off.units],
    }


def _purchase_order(hand_off: HandOff, partner: Partner, setup: RoutingSetup, order: OrderForPartners) -> PurchaseOrder:
    """A supplier's units at its feed's prices; a 3PL's with its pick-and-pack fees."""
    offers = setup.offers.get(partner.id, {}) if partner.kind is SourceKind.DROPSHIP else {}
    return PurchaseOrder(
        hand_off_id=hand_off.id,
        order_number=order.number,
        partner_name=partner.name,
        ship_to=order.ship_to,
        lines=tuple(
            PurchaseOrderLine(
                units.line_id,
                units.sku,
                order.line_names.get(units.line_id, ""),
                units.quantity,
                offer.unit_price if (offer := offers.get(units.sku)) is not None else None,
            )
            for units in hand_off.units
        ),
        answer_within=partner.acceptance_window,
        fees=partner.fees if partner.kind is SourceKind.THIRD_PARTY else None,
    )


async def hand_off_shipments(
    url: SaleorApiUrl,
    routing: OrderRouting,
    shipments: tuple[RoutedShipment, ...],
    setup: RoutingSetup,
    *,
    order: OrderForPartners,
    plans: RoutingPlans,
    writer: HandOffWriter,
    now: datetime,
) -> tuple[HandOff, ...]:
    """A hand-off kept and sent for each partner's shipment among ``shipments`` of ``routing``."""
    partners = {partner.id: partner for partner in setup.partners}
    kept: list[HandOff] = []
    for shipment in shipments:
        partner = partners.get(shipment.partner_id) if shipment.partner_id is not None else None
        if partner is None:
            continue
        hand_off = HandOff(
            id=uuid.uuid4().hex,
            order_id=routing.order_id,
            revision=routing.revision,
            partner_id=partner.id,
            warehouse_id=shipment.warehouse_id,
            units=shipment.units,
            status=HandOffStatus.SENT,
            created_at=now,
            updated_at=now,
        )
        await plans.add_hand_off(url, hand_off)
        order_id = SaleorId(routing.order_id)
        if partner.hand_off is HandOffMethod.EMAIL:
            purchase_order = _purchase_order(hand_off, partner, setup, order).to_payload()
            await writer.send_purchase_order(order_id, partner.id, partner.address, purchase_order)
        else:
            await writer.send_hand_off(order_id, partner.id, partner.address, _body(hand_off, order))
        kept.append(hand_off)
    return tuple(kept)


def _unshipped(hand_off: HandOff) -> list[tuple[RoutedUnits, int]]:
    """What the partner must no longer ship: the hand-off's units not shipped yet."""
    return [(u, left) for u in hand_off.units if (left := min(u.quantity, hand_off.unshipped(u.line_id))) > 0]


def _cancel_body(hand_off: HandOff, reason: str) -> dict[str, Any]:
    return {
        "type": CANCEL_MESSAGE,
        "handOffId": hand_off.id,
        "orderId": hand_off.order_id,
        "reason": reason,
        "lines": [{"lineId": u.line_id, "sku": u.sku, "quantity": left} for u, left in _unshipped(hand_off)],
    }


def _purchase_order_cancel(
    hand_off: HandOff, partner: Partner, order: OrderForPartners, reason: str
) -> PurchaseOrderCancel:
    return PurchaseOrderCancel(
        hand_off_id=hand_off.id,
        order_number=order.number,
        partner_name=partner.name,
        lines=tuple(
            PurchaseOrderLine(u.line_id, u.sku, order.line_names.get(u.line_id, ""), left, None)
            for u, left in _unshipped(hand_off)
        ),
        reason=reason,
    )


async def _send_cancel(
    writer: HandOffWriter, hand_off: HandOff, partner: Partner, order: OrderForPartners, reason: str
) -> None:
    """The cancel the way the partner took the hand-off: posted, or e-mailed."""
    order_id = SaleorId(hand_off.order_id)
    if partner.hand_off is HandOffMethod.EMAIL:
        cancel = _purchase_order_cancel(hand_off, partner, order, reason).to_payload()
        await writer.cancel_purchase_order(order_id, partner.id, partner.address, cancel)
    else:
        await writer.cancel_hand_off(order_id, partner.id, partner.address, _cancel_body(hand_off, reason))


async def cancel_hand_offs(
    url: SaleorApiUrl,
    hand_offs: Iterable[HandOff],
    reason: str,
    *,
    order: OrderForPartners,
    partners: Mapping[str, Partner],
    plans: RoutingPlans,
    writer: HandOffWriter,
    now: datetime,
    status: HandOffStatus = HandOffStatus.CANCELLED,
) -> tuple[HandOff, ...]:
    """Cancel each open one of ``hand_offs`` (``status`` says why: cancelled, or expired unanswered) and
    tell its partner (the cancel e-mailed to one that takes e-mail names ``order``, their order); what
    was cancelled. One that someone else answered or ended since it was read is left as they made it. A
    partner no longer set up has nothing to be told."""
    cancelled: list[HandOff] = []
    for hand_off in hand_offs:
        if not hand_off.is_open:
            continue
        ended = replace(hand_off, status=status, reason=reason, updated_at=now)
        if not await plans.end_hand_off(url, ended, hand_off.status):
            continue
        partner = partners.get(hand_off.partner_id)
        if partner is not None:
            await _send_cancel(writer, hand_off, partner, order, reason)
        cancelled.append(ended)
    return tuple(cancelled)


def described(hand_offs: Iterable[HandOff], partners: Mapping[str, Partner]) -> str:
    """Each hand-off's partner and units, as notes and tickets name them: West (MUG-1 × 2), Acme (CUP-1 × 1)."""
    return ", ".join(
        f"{partners[h.partner_id].name if h.partner_id in partners else h.partner_id} "
        f"({', '.join(f'{u.sku} × {u.quantity}' for u in h.units)})"
        for h in hand_offs
    )

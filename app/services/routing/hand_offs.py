"""Hand-offs: each 3PL or supplier shipment of a plan sent to its partner as signed JSON, through the
pipeline's effects (stored with the plan, posted by the dispatcher with ``app.integrations.partners``,
retried with backoff while the partner is down). Shipments left to the merchant's own warehouse
staff send nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.domain.ids import SaleorApiUrl, SaleorId
from app.services.ports import RoutingPlans
from app.services.routing.model import HandOffMethod, Partner
from app.services.routing.plans import HandOff, HandOffStatus, OrderRouting, RoutedShipment


class HandOffWriter(Protocol):
    """Where hand-offs go: one effect each (``app.services.pipeline.Outbox``)."""

    async def send_hand_off(
        self, order_id: SaleorId, partner_id: str, endpoint: str, body: Mapping[str, Any]
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class HandedOff:
    hand_offs: tuple[HandOff, ...]
    notes: tuple[str, ...]  # what the merchant must do by hand (partners taking e-mail)


def _body(hand_off: HandOff, ship_to: Mapping[str, str], number: str) -> dict[str, Any]:
    return {
        "handOffId": hand_off.id,
        "orderId": hand_off.order_id,
        "orderNumber": number,
        "warehouseId": hand_off.warehouse_id,
        "shipTo": dict(ship_to),
        "lines": [{"lineId": u.line_id, "sku": u.sku, "quantity": u.quantity} for u in hand_off.units],
    }


async def hand_off_shipments(
    url: SaleorApiUrl,
    routing: OrderRouting,
    shipments: tuple[RoutedShipment, ...],
    partners: Mapping[str, Partner],
    *,
    number: str,
    ship_to: Mapping[str, str],
    plans: RoutingPlans,
    writer: HandOffWriter,
    now: datetime,
) -> HandedOff:
    """A hand-off kept and sent for each partner's shipment among ``shipments`` of ``routing``."""
    kept: list[HandOff] = []
    notes: list[str] = []
    for shipment in shipments:
        partner = partners.get(shipment.partner_id) if shipment.partner_id is not None else None
        if partner is None:
            continue
        if partner.hand_off is HandOffMethod.EMAIL:
            notes.append(f"{partner.name} takes orders by e-mail ({partner.address}): send it this shipment by hand")
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
        await writer.send_hand_off(
            SaleorId(routing.order_id), partner.id, partner.address, _body(hand_off, ship_to, number)
        )
        kept.append(hand_off)
    return HandedOff(tuple(kept), tuple(notes))

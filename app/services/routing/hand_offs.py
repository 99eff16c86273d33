"""Hand-offs: each 3PL or supplier shipment of a plan sent to its partner as signed JSON, through the
pipeline's effects (stored with the plan, posted by the dispatcher, retried with backoff while the
partner is down). Shipments left to the merchant's own warehouse staff send nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from app.domain.ids import SaleorApiUrl, SaleorId
from app.services.ports import RoutingPlans
from app.services.routing.model import HandOffMethod, Partner
from app.services.routing.plans import HandOff, HandOffStatus, OrderRouting, RoutedShipment
from app.services.routing.signing import signed_headers


class HandOffWriter(Protocol):
    """Where hand-offs go: one effect each (``app.services.pipeline.Outbox``)."""

    async def send_hand_off(
        self, order_id: SaleorId, partner_id: str, endpoint: str, body: Mapping[str, Any]
    ) -> None: ...


class PartnerRefused(Exception):
    """The partner answered 4xx: sending the same again will not help; a person must look."""


class PartnerUnavailable(Exception):
    """The partner is down or busy (5xx, 408, 429, no answer): tried again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


async def post_hand_off(
    http: httpx.AsyncClient,
    endpoint: str,
    body: Mapping[str, Any],
    secret: str,
    now: datetime,
    *,
    timeout_seconds: float,
) -> str:
    """POST the signed hand-off; what the partner answered, or ``PartnerRefused`` / ``PartnerUnavailable``."""
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    try:
        response = await http.post(
            endpoint, content=text, headers=signed_headers(secret, text, now), timeout=timeout_seconds
        )
    except httpx.HTTPError as exc:
        raise PartnerUnavailable(f"{endpoint}: {type(exc).__name__}") from exc
    if response.is_success:
        return f"accepted for delivery by the partner ({response.status_code})"
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise PartnerUnavailable(f"{endpoint} answered {response.status_code}", _retry_after(response))
    raise PartnerRefused(f"{endpoint} answered {response.status_code}: {response.text[:200]}")

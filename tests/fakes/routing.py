"""In-memory routing: a store's sources (the port the sources' storage implements), its plans and
hand-offs, and a writer recording what routing writes to Saleor."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.domain.ids import SaleorApiUrl, SaleorId
from app.services.routing.model import RoutingSetup
from app.services.routing.plans import HandOff, HandOffStatus, OpenHandOff, OrderRouting, PartnerShipment
from tests.builders import SHOP_API_URL


@dataclass
class InMemoryRoutingSources:
    """One setup for every store; ``offers`` as given are narrowed to the asked SKUs, as the port says."""

    setup_: RoutingSetup = field(default_factory=RoutingSetup)
    secrets: dict[str, str] = field(default_factory=dict)
    asked: list[frozenset[str]] = field(default_factory=list)

    async def has_partners(self, saleor_api_url: SaleorApiUrl) -> bool:
        return bool(self.setup_.partners)

    async def setup(self, saleor_api_url: SaleorApiUrl, skus: Collection[str]) -> RoutingSetup:
        self.asked.append(frozenset(skus))
        offers = {
            supplier: {sku: offer for sku, offer in by_sku.items() if sku in skus}
            for supplier, by_sku in self.setup_.offers.items()
        }
        return replace(self.setup_, offers=offers)

    async def partner_secret(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> str | None:
        return self.secrets.get(partner_id)


class InMemoryRoutingPlans:
    def __init__(self) -> None:
        self.plans: dict[str, OrderRouting] = {}
        self.hand_offs_: list[HandOff] = []
        self.shipments: dict[tuple[str, str], PartnerShipment] = {}
        self.signatures: set[str] = set()

    async def get(self, saleor_api_url: SaleorApiUrl, order_id: str) -> OrderRouting | None:
        return self.plans.get(order_id)

    async def add(self, saleor_api_url: SaleorApiUrl, routing: OrderRouting) -> bool:
        if routing.order_id in self.plans:
            return False
        self.plans[routing.order_id] = routing
        return True

    async def revise(self, saleor_api_url: SaleorApiUrl, routing: OrderRouting) -> bool:
        kept = self.plans.get(routing.order_id)
        if kept is None or kept.revision != routing.revision - 1:
            return False
        self.plans[routing.order_id] = routing
        return True

    async def add_hand_off(self, saleor_api_url: SaleorApiUrl, hand_off: HandOff) -> None:
        self.hand_offs_.append(hand_off)

    async def hand_offs(self, saleor_api_url: SaleorApiUrl, order_id: str) -> list[HandOff]:
        return [hand_off for hand_off in self.hand_offs_ if hand_off.order_id == order_id]

    async def hand_off(self, hand_off_id: str) -> tuple[SaleorApiUrl, HandOff] | None:
        found = next((hand_off for hand_off in self.hand_offs_ if hand_off.id == hand_off_id), None)
        return None if found is None else (SHOP_API_URL, found)

    async def save_hand_off(self, saleor_api_url: SaleorApiUrl, hand_off: HandOff) -> None:
        self.hand_offs_ = [hand_off if kept.id == hand_off.id else kept for kept in self.hand_offs_]

    async def open_hand_offs(self, saleor_api_url: SaleorApiUrl, partner_id: str) -> list[OpenHandOff]:
        return [
            OpenHandOff(hand_off, None)
            for hand_off in self.hand_offs_
            if hand_off.partner_id == partner_id and hand_off.is_open
        ]

    async def end_hand_off(self, saleor_api_url: SaleorApiUrl, ended: HandOff, was: HandOffStatus) -> bool:
        kept = next((hand_off for hand_off in self.hand_offs_ if hand_off.id == ended.id), None)
        if kept is None or kept.status is not was:
            return False
        await self.save_hand_off(saleor_api_url, replace(kept, status=ended.status, reason=ended.reason))
        return True

    async def unanswered(
        self, saleor_api_url: SaleorApiUrl, partner_id: str, sent_before: datetime, limit: int
    ) -> list[HandOff]:
        waiting = [
            h
            for h in self.hand_offs_
            if h.partner_id == partner_id and h.status is HandOffStatus.SENT and h.created_at < sent_before
        ]
        return sorted(waiting, key=lambda h: (h.created_at, h.id))[:limit]

    async def shipment(self, hand_off_id: str, shipment_id: str) -> PartnerShipment | None:
        return self.shipments.get((hand_off_id, shipment_id))

    async def add_shipment(self, saleor_api_url: SaleorApiUrl, shipment: PartnerShipment) -> None:
        self.shipments[(shipment.hand_off_id, shipment.shipment_id)] = shipment

    async def first_sight(self, saleor_api_url: SaleorApiUrl, signature: str, now: datetime) -> bool:
        if signature in self.signatures:
            return False
        self.signatures.add(signature)
        return True


class RecordingHandOffs:
    """The hand-offs a decision sent, and the cancels, as (order id, partner id, endpoint, body), and the
    purchase orders it e-mailed, and their cancels, as (order id, partner id, address, purchase order or cancel)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, dict[str, Any]]] = []
        self.cancelled: list[tuple[str, str, str, dict[str, Any]]] = []
        self.mailed: list[tuple[str, str, str, dict[str, Any]]] = []
        self.mailed_cancels: list[tuple[str, str, str, dict[str, Any]]] = []

    async def send_hand_off(self, order_id: SaleorId, partner_id: str, endpoint: str, body: Mapping[str, Any]) -> None:
        self.sent.append((order_id, partner_id, endpoint, dict(body)))

    async def send_purchase_order(
        self, order_id: SaleorId, partner_id: str, to: str, purchase_order: Mapping[str, Any]
    ) -> None:
        self.mailed.append((order_id, partner_id, to, dict(purchase_order)))

    async def cancel_hand_off(
        self, order_id: SaleorId, partner_id: str, endpoint: str, body: Mapping[str, Any]
    ) -> None:
        self.cancelled.append((order_id, partner_id, endpoint, dict(body)))

    async def cancel_purchase_order(
        self, order_id: SaleorId, partner_id: str, to: str, cancel: Mapping[str, Any]
    ) -> None:
        self.mailed_cancels.append((order_id, partner_id, to, dict(cancel)))

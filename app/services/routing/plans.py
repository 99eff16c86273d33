"""What routing keeps per order: the plan's shipments as they were handed off, and each hand-off's
progress with its partner (``app.services.routing.planning``, ``app.services.routing.callbacks``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.domain.ids import SaleorId
from app.domain.routing.model import SourceKind


@dataclass(frozen=True, slots=True)
class RoutedUnits:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class RoutedShipment:
    """One source's share of a plan: the Saleor warehouse it ships from, and the partner running it
    (None for the merchant's own); ``leaves_at`` is when it was planned to leave, a supplier's after
    its handling days (None in plans kept before it was recorded)."""

    warehouse_id: SaleorId
    kind: SourceKind
    partner_id: str | None
    units: tuple[RoutedUnits, ...]
    leaves_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderRouting:
    """An order's plan, made once fraud cleared it and revised when a partner rejects its share.

    ``metadata`` is the latest ``ops.routing`` written; ``shipments`` empty when no plan ships the
    order (``routed`` False); ``excluded`` names, per warehouse, why it is left out of re-plans."""

    order_id: str
    revision: int
    routed: bool
    shipments: tuple[RoutedShipment, ...]
    metadata: Mapping[str, object]
    decided_at: datetime
    updated_at: datetime
    excluded: Mapping[str, str] = field(default_factory=dict)


class HandOffStatus(StrEnum):
    SENT = "sent"  # the effect that posts it is stored; the partner has not answered
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # its units wait for the next plan of the order
    EXPIRED = "expired"  # not answered within the partner's acceptance window: cancelled there, re-planned
    CANCELLED = "cancelled"  # the order no longer needs it (fraud, a cancel in Saleor, a re-route by hand)


@dataclass(frozen=True, slots=True)
class HandOff:
    """A shipment handed to a partner. ``id`` is the opaque reference partners call back with;
    ``shipped`` counts, per order line, the units its confirmed shipments sent."""

    id: str
    order_id: str
    revision: int
    partner_id: str
    warehouse_id: SaleorId
    units: tuple[RoutedUnits, ...]
    status: HandOffStatus
    created_at: datetime
    updated_at: datetime
    shipped: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""  # the partner's, when it rejected; ours, when it expired or was cancelled

    @property
    def is_open(self) -> bool:
        """Its partner has units of it still to ship (sent or accepted, not all shipped): what a cancel
        must reach, and what keeps the partner from being removed."""
        live = self.status in (HandOffStatus.SENT, HandOffStatus.ACCEPTED)
        return live and any(self.unshipped(units.line_id) > 0 for units in self.units)

    @property
    def is_dropped(self) -> bool:
        """Its partner will not ship it (rejected, or let the acceptance window pass): its units are re-planned."""
        return self.status in (HandOffStatus.REJECTED, HandOffStatus.EXPIRED)

    def handed(self, line_id: str) -> int:
        return sum(units.quantity for units in self.units if units.line_id == line_id)

    def unshipped(self, line_id: str) -> int:
        return self.handed(line_id) - self.shipped.get(line_id, 0)


@dataclass(frozen=True, slots=True)
class OpenHandOff:
    """An open hand-off with the number of its order, where a webhook brought one."""

    hand_off: HandOff
    order_number: str | None


@dataclass(frozen=True, slots=True)
class PartnerShipment:
    """A shipment a partner confirmed for a hand-off, under its own ``shipment_id``; ``lines`` maps
    order line id to the units it sent."""

    hand_off_id: str
    shipment_id: str
    carrier: str
    tracking_number: str
    lines: Mapping[str, int]
    confirmed_at: datetime

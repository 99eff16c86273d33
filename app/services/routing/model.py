"""What routing keeps of a store's sources, shared by the sources pages, the planner's subscriber and
the partner callbacks.

Every source is a Saleor warehouse, so that Saleor's fulfilments and stock stay true: the merchant's
own warehouses (in-house unless a 3PL partner runs them), a 3PL's warehouse, and one warehouse per
dropship supplier. Stock of in-house and 3PL warehouses comes from Saleor; a supplier's comes from its
feed (its offers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.ids import SaleorId
from app.domain.money import Money
from app.domain.routing.model import PickPackFees, SourceKind


class HandOffMethod(StrEnum):
    """How a partner receives the shipments routed to it."""

    WEBHOOK = "webhook"  # signed JSON posted to the partner's endpoint
    EMAIL = "email"  # a purchase order with a CSV, e-mailed (app.services.routing.purchase_orders)


@dataclass(frozen=True, slots=True)
class Partner:
    """A 3PL (``SourceKind.THIRD_PARTY``, with pick-and-pack ``fees``) or a dropship supplier
    (``SourceKind.DROPSHIP``), shipping from the Saleor warehouse ``warehouse_id``. ``address`` is the
    endpoint URL or the e-mail address, per ``hand_off``. Its signing secret is kept apart, encrypted
    (``RoutingSources.partner_secret``)."""

    id: str
    name: str
    kind: SourceKind
    warehouse_id: SaleorId
    hand_off: HandOffMethod
    address: str
    acceptance_window: timedelta
    priority: int = 0
    fees: PickPackFees | None = None


@dataclass(frozen=True, slots=True)
class SupplierOffer:
    """A SKU a supplier sells, as its latest feed said: price per unit, days before it hands over, and
    the units it can ship."""

    sku: str
    unit_price: Money
    handling_days: int
    stock: int


@dataclass(frozen=True, slots=True)
class KeptOffer:
    """An offer as the sources page lists it: with when the feed that brought it was imported."""

    offer: SupplierOffer
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RoutingSetup:
    """A store's sources as the planner needs them for an order's SKUs.

    ``in_house`` gives the merchant's priority of each warehouse it ships itself (a lower number is
    preferred); a warehouse neither in it nor any partner's is the merchant's own at priority 0.
    ``offers`` holds, per supplier id, its offers for the asked SKUs only."""

    partners: tuple[Partner, ...] = ()
    in_house: Mapping[SaleorId, int] = field(default_factory=dict)
    offers: Mapping[str, Mapping[str, SupplierOffer]] = field(default_factory=dict)

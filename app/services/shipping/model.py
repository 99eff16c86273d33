"""The shapes shipping's services, adapters and routes exchange: a shopper's cart, a place to ship
from or to, a request for live carrier quotes and what the carriers answered, and the options a
checkout is offered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from app.domain.shipping.measures import AttributeReading
from app.domain.shipping.model import Level
from app.domain.shipping.parcels import Parcel
from app.domain.shipping.rates import Quote


@dataclass(frozen=True, slots=True)
class Place:
    """An address as far as carriers price it; ``country`` is ISO 3166-1 alpha-2, upper case. A company
    name makes it a business address, as carriers take it; without one it is a home."""

    country: str
    postal_code: str = ""
    city: str = ""
    country_area: str = ""
    street: str = ""
    company_name: str = ""

    @property
    def residential(self) -> bool:
        return not self.company_name.strip()


@dataclass(frozen=True, slots=True)
class CartLine:
    variant_id: str
    sku: str | None
    product_type: str | None  # the product type's name, as rules and default boxes name it
    quantity: int
    weight_kg: Decimal | None  # None when Saleor knows no weight for the variant
    line_total: Decimal  # undiscounted, in the cart's currency
    # Saleor's fallbacks when the variant has no weight of its own, as it weighs order lines.
    product_weight_kg: Decimal | None = None
    product_type_weight_kg: Decimal | None = None
    # The variant's attributes, then its product's: where the merchant keeps the packed size.
    attributes: tuple[AttributeReading, ...] = ()
    line_id: str = ""  # the order line these units are of; a checkout's lines have none


@dataclass(frozen=True, slots=True)
class Cart:
    """What a checkout asks options for: its channel, currency, destination and lines."""

    channel: str
    currency: str
    destination: Place
    lines: tuple[CartLine, ...]

    @property
    def value(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class CheckoutOption:
    """One delivery option as Saleor's ``SHIPPING_LIST_METHODS_FOR_CHECKOUT`` answer carries it.

    ``id`` is stable across calls (the level, e.g. ``expedited``): Saleor keeps it in the method's ID
    and the order names it later.
    """

    id: str
    name: str  # "Expedited, arrives Wed 9 Dec"; at most 100 characters
    amount: Decimal
    currency: str
    minimum_delivery_days: int | None
    maximum_delivery_days: int | None
    description: str | None  # at most 255 characters


@dataclass(frozen=True, slots=True)
class RateRequest:
    """Live quotes wanted for ``parcels`` leaving ``warehouse_id`` (at ``origin``) for ``destination``."""

    warehouse_id: str
    origin: Place
    destination: Place
    residential: bool
    parcels: tuple[Parcel, ...]
    currency: str


@dataclass(frozen=True, slots=True)
class LiveQuotes:
    """What the store's carrier accounts answered in time; ``problems`` says which failed and why."""

    quotes: tuple[Quote, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderShipment:
    """The lines of a placed order that leave one warehouse (its Saleor id); ``leaves_at`` is when
    routing planned it to leave, when it did (a supplier's after its handling days)."""

    warehouse_id: str
    lines: tuple[CartLine, ...]
    leaves_at: datetime | None = None

    @property
    def units(self) -> dict[str, int]:
        """Units per order line id."""
        units: dict[str, int] = {}
        for line in self.lines:
            units[line.line_id] = units.get(line.line_id, 0) + line.quantity
        return units


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """What choosing the carrier services of a placed order needs; ``level`` is the one the shopper chose
    (the checkout option's id)."""

    channel: str
    currency: str
    destination: Place
    level: Level
    placed_at: datetime
    shipments: tuple[OrderShipment, ...]

    @property
    def value(self) -> Decimal:
        return sum((line.line_total for shipment in self.shipments for line in shipment.lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class CredentialField:
    """One value a carrier's API needs to sign in; ``secret`` ones are never shown back."""

    name: str
    label: str
    required: bool
    secret: bool


@dataclass(frozen=True, slots=True)
class CarrierSpec:
    """A carrier the app can connect: its Karrio name (e.g. ``dhl_express``), title and credential fields."""

    name: str
    title: str
    fields: tuple[CredentialField, ...]

    def credential(self, name: str) -> CredentialField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True, slots=True)
class NewCarrierAccount:
    """A carrier account as the merchant connects it; ``service_levels`` overrides the carrier's default
    level of a service (e.g. ``ups_3_day_select`` → expedited)."""

    carrier: str
    label: str
    credentials: Mapping[str, str]
    test_mode: bool
    service_levels: Mapping[str, Level] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CarrierAccount:
    """A connected carrier account of one store, its credentials decrypted."""

    id: int
    carrier: str
    label: str
    credentials: Mapping[str, str]
    test_mode: bool
    active: bool
    created_at: datetime
    service_levels: Mapping[str, Level] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """What a sample rate request through an account answered: ``ok``, or the carrier's message."""

    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class ShipmentShipping:
    """One shipment of an order as decided: its ``ops.shipping`` entry (None when no service could be
    chosen) and why, candidate by candidate; ``units`` it carries per order line id."""

    source: str  # the Saleor id of the warehouse it leaves from
    entry: Mapping[str, object] | None
    explanation: tuple[str, ...]
    units: Mapping[str, int] = field(default_factory=dict)

    @property
    def meets_promise(self) -> bool:
        return self.entry is not None and self.entry.get("meetsPromise") is True


@dataclass(frozen=True, slots=True)
class OrderShipping:
    """The services an order's shipments go with, kept per order; ``checked_fulfillments`` are the
    fulfilments already re-checked against the promise. The shipments are routing's plan at
    ``plan_revision``, or Saleor's allocation when it is None (the store has no plan for the order)."""

    order_id: str
    level: Level
    shipments: tuple[ShipmentShipping, ...]
    checked_fulfillments: tuple[str, ...]
    decided_at: datetime
    updated_at: datetime
    plan_revision: int | None = None

    @property
    def needs_attention(self) -> bool:
        return not all(shipment.meets_promise for shipment in self.shipments)

    def metadata(self) -> dict[str, object]:
        """DESIGN.md's ``ops.shipping`` value."""
        return {"v": 1, "shipments": [dict(s.entry) for s in self.shipments if s.entry is not None]}

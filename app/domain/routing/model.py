"""Routing's vocabulary: sources with their stock and terms, order lines, and what an origin quotes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from app.domain.money import Money


class InvalidSource(ValueError):
    """A source, order line or quote that cannot be routed with; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class SourceKind(StrEnum):
    """DESIGN.md's ``ops.routing`` source kinds."""

    IN_HOUSE = "in_house"
    THIRD_PARTY = "3pl"
    DROPSHIP = "dropship"


def _not_negative(field: str, amount: Money) -> None:
    if not amount.amount.is_finite() or amount.amount < 0:
        raise InvalidSource(field, f"must be zero or more, got {amount.amount}")


@dataclass(frozen=True, slots=True)
class PickPackFees:
    """What a 3PL charges to pick and pack: once per order it ships and once per unit."""

    per_order: Money
    per_unit: Money

    def __post_init__(self) -> None:
        _not_negative("fees.per_order", self.per_order)
        _not_negative("fees.per_unit", self.per_unit)


@dataclass(frozen=True, slots=True)
class SupplierItem:
    """One SKU a dropship supplier sells: its price per unit and the days it takes before handing over."""

    unit_price: Money
    handling_days: int

    def __post_init__(self) -> None:
        _not_negative("catalogue.unit_price", self.unit_price)
        if self.handling_days < 0:
            raise InvalidSource("catalogue.handling_days", f"must be zero or more, got {self.handling_days}")


_LABEL_PREFIXES = {SourceKind.IN_HOUSE: "", SourceKind.THIRD_PARTY: "3PL ", SourceKind.DROPSHIP: "supplier "}


@dataclass(frozen=True, slots=True, eq=False)
class Source:
    """Somewhere units can ship from. ``stock`` is what it can fulfil now per SKU (ShipBob's *fulfillable*,
    not on hand); a lower ``priority`` is the merchant's preferred source. A 3PL has pick-and-pack ``fees``,
    a supplier a ``catalogue``; partners answer a hand-off within ``acceptance_window``."""

    id: str
    name: str
    kind: SourceKind
    stock: Mapping[str, int]
    priority: int = 0
    fees: PickPackFees | None = None
    catalogue: Mapping[str, SupplierItem] = field(default_factory=dict)
    acceptance_window: timedelta | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidSource("id", "a source needs an id")
        for sku, units in self.stock.items():
            if units < 0:
                raise InvalidSource(f"stock.{sku}", f"must be zero or more, got {units}")
        if (self.fees is not None) != (self.kind is SourceKind.THIRD_PARTY):
            raise InvalidSource("fees", "pick-and-pack fees belong to a 3PL, and a 3PL needs them")
        if self.kind is SourceKind.DROPSHIP:
            unpriced = sorted(set(self.stock) - set(self.catalogue))
            if unpriced:
                raise InvalidSource("stock", f"the supplier has no price for {', '.join(unpriced)}")
        elif self.catalogue:
            raise InvalidSource("catalogue", "only a dropship supplier has a catalogue")
        if (self.acceptance_window is not None) == (self.kind is SourceKind.IN_HOUSE):
            raise InvalidSource("acceptance_window", "partners have an acceptance window, the in-house warehouse none")
        if self.acceptance_window is not None and self.acceptance_window <= timedelta(0):
            raise InvalidSource("acceptance_window", f"must be positive, got {self.acceptance_window}")

    @property
    def label(self) -> str:
        """How explanations name it: "east-dc", "3PL west", "supplier Acme"."""
        return _LABEL_PREFIXES[self.kind] + self.name

    def in_stock(self, sku: str) -> int:
        return self.stock.get(sku, 0)

    def answer_due(self, handed_off_at: datetime) -> datetime:
        """When a partner that has not accepted or rejected a hand-off counts as not answering."""
        if self.acceptance_window is None:
            raise InvalidSource("acceptance_window", f"{self.label} is in-house: nothing is handed off")
        return handed_off_at + self.acceptance_window


@dataclass(frozen=True, slots=True)
class OrderLine:
    id: str
    sku: str
    quantity: int

    def __post_init__(self) -> None:
        if not self.id or not self.sku:
            raise InvalidSource("line", "an order line needs an id and a SKU")
        if self.quantity < 1:
            raise InvalidSource(f"line {self.id}.quantity", f"must be 1 or more, got {self.quantity}")


@dataclass(frozen=True, slots=True)
class Units:
    """``quantity`` units of ``line``."""

    line: OrderLine
    quantity: int


@dataclass(frozen=True, slots=True)
class Shipment:
    """What one source would ship: the question put to the quoter."""

    source: Source
    units: tuple[Units, ...]

    @property
    def line_ids(self) -> frozenset[str]:
        return frozenset(units.line.id for units in self.units)

    @property
    def handling_days(self) -> int:
        """A supplier hands over when its slowest SKU is ready; other sources' handling is the origin's own."""
        if self.source.kind is not SourceKind.DROPSHIP:
            return 0
        return max(self.source.catalogue[units.line.sku].handling_days for units in self.units)

    @property
    def unit_count(self) -> int:
        return sum(units.quantity for units in self.units)


@dataclass(frozen=True, slots=True)
class OriginQuote:
    """The shipping cost from a source at the promised level and the day it is expected to arrive;
    ``detail`` names the service ("UPS Ground")."""

    shipping: Money
    arrives: date
    detail: str = ""

    def __post_init__(self) -> None:
        _not_negative("quote.shipping", self.shipping)


Quoter = Callable[[Shipment], OriginQuote | None]
"""Prices a shipment from its source for the promised level; None when the origin cannot ship it there.

The exact search relies on what holds for carriers' rates: adding units to a shipment never makes it
cheaper, earlier or newly possible."""


def quotes_from_table(table: Mapping[tuple[str, frozenset[str]], OriginQuote]) -> Quoter:
    """A quoter over precomputed quotes per (source id, line ids); a missing entry is no rate."""

    def quote(shipment: Shipment) -> OriginQuote | None:
        return table.get((shipment.source.id, shipment.line_ids))

    return quote

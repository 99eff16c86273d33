"""Keyword-only builders for the shipping domain tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from app.domain.money import Money
from app.domain.shipping.model import DeliveryWindow, Level
from app.domain.shipping.parcels import Box, Dimensions, PackedUnits, Parcel
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import (
    Area,
    ChargeKind,
    Quote,
    RateTable,
    Service,
    Surcharges,
    WeightBracket,
    Zone,
)
from app.domain.shipping.selection import Candidate, ShipmentFacts

D = Decimal
CURRENCY = "USD"


def dims(length: str | int, width: str | int, height: str | int) -> Dimensions:
    return Dimensions(D(length), D(width), D(height))


def make_box(name: str = "M", *, inner: Dimensions | None = None, max_kg: str = "20", tare_kg: str = "0.5") -> Box:
    return Box(name, inner or dims(40, 30, 20), D(max_kg), D(tare_kg))


def make_parcel(*, weight_kg: str = "1", dimensions: Dimensions | None = None) -> Parcel:
    return Parcel(None, (PackedUnits("L1", 1),), D(weight_kg), dimensions or dims(10, 10, 10), "test parcel")


def brackets(*pairs: tuple[str, str]) -> tuple[WeightBracket, ...]:
    return tuple(WeightBracket(D(up_to), D(price)) for up_to, price in pairs)


def make_zone(
    name: str = "US",
    *,
    areas: Iterable[Area] = (Area("US"),),
    bracket_prices: Iterable[tuple[str, str]] = (("1", "5.00"), ("5", "9.00"), ("10", "14.00")),
    per_kg_beyond: str | None = "1.25",
    transit: tuple[int, int] = (3, 5),
) -> Zone:
    return Zone(
        name,
        tuple(areas),
        brackets(*bracket_prices),
        Transit(*transit),
        None if per_kg_beyond is None else D(per_kg_beyond),
    )


def make_service(
    carrier: str = "UPS",
    service: str = "Ground",
    *,
    level: Level = Level.STANDARD,
    zones: Iterable[Zone] | None = None,
    surcharges: Surcharges | None = None,
) -> Service:
    zones = tuple(zones) if zones is not None else (make_zone(),)
    return Service(carrier, service, level, zones, surcharges or Surcharges())


def make_table(*services: Service, currency: str = CURRENCY, divisors: dict[str, Decimal] | None = None) -> RateTable:
    return RateTable("WH-1", currency, services or (make_service(),), divisors or {})


def make_quote(
    *,
    carrier: str = "UPS",
    service: str = "Ground",
    level: Level = Level.STANDARD,
    total: str = "10.00",
) -> Quote:
    money = Money(D(total), CURRENCY)
    return Quote(
        "WH-1",
        carrier,
        service,
        level,
        "US",
        money,
        ((ChargeKind.BASE, money),),
        D(1),
        Transit(1, 3),
        frozenset(range(5)),
    )


def make_candidate(
    *,
    carrier: str = "UPS",
    service: str = "Ground",
    level: Level = Level.STANDARD,
    total: str = "10.00",
    latest: date = date(2026, 12, 9),
    earliest: date | None = None,
    preference: int = 1,
    guaranteed: bool = False,
) -> Candidate:
    return Candidate(
        make_quote(carrier=carrier, service=service, level=level, total=total),
        DeliveryWindow(earliest or latest, latest),
        preference,
        guaranteed,
    )


def make_facts(
    *,
    country: str = "US",
    postal_code: str = "10001",
    weight_kg: str = "2",
    order_value: str = "80.00",
    channel: str = "default",
    product_types: Iterable[str] = ("apparel",),
) -> ShipmentFacts:
    return ShipmentFacts(country, postal_code, D(weight_kg), D(order_value), channel, frozenset(product_types))

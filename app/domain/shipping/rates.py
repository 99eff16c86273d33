"""Rate tables kept by the merchant per origin warehouse, and the fully loaded price of a shipment.

A service's price depends on the destination's zone (country, postal prefixes or ranges, first
matching zone wins) and the billable weight of each parcel: the greater of its actual weight and its
dimensional weight (volume ÷ the carrier's divisor). Surcharges are added per parcel, as carriers
bill them. A destination no zone covers gets no rate, never a guessed one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from itertools import pairwise

from app.domain.money import Money
from app.domain.shipping.calendar import MON_FRI
from app.domain.shipping.model import InvalidSetting, Level
from app.domain.shipping.parcels import Parcel
from app.domain.shipping.promise import Transit

_HUNDRED = Decimal(100)


class RateTableError(InvalidSetting):
    """A rate table entry that cannot be used; ``field`` names the offending field for an importer's column."""


def _not_negative(field: str, value: Decimal) -> None:
    if not value.is_finite() or value < 0:
        raise RateTableError(field, f"must be zero or more, got {value}")


def _positive(field: str, value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise RateTableError(field, f"must be more than zero, got {value}")


def normalise_postal_code(postal_code: str) -> str:
    return "".join(postal_code.split()).upper()


@dataclass(frozen=True, slots=True)
class PostalRange:
    """Postal codes from ``first`` to ``last``, both inclusive, compared on their first ``len(first)`` characters."""

    first: str
    last: str

    def __post_init__(self) -> None:
        first, last = normalise_postal_code(self.first), normalise_postal_code(self.last)
        if not first or len(first) != len(last):
            raise RateTableError("postal_ranges", f"{self.first}–{self.last} needs two bounds of the same length")
        if first > last:
            raise RateTableError("postal_ranges", f"{self.first}–{self.last} ends before it starts")
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "last", last)

    def covers(self, postal_code: str) -> bool:
        head = postal_code[: len(self.first)]
        return len(head) == len(self.first) and self.first <= head <= self.last


@dataclass(frozen=True, slots=True)
class Area:
    """A country, or only those of its postal codes that start with a prefix or fall in a range."""

    country: str
    postal_prefixes: tuple[str, ...] = ()
    postal_ranges: tuple[PostalRange, ...] = ()

    def __post_init__(self) -> None:
        if len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper():
            raise RateTableError("country", f"must be an upper-case ISO 3166 code, got {self.country!r}")
        prefixes = tuple(normalise_postal_code(prefix) for prefix in self.postal_prefixes)
        if not all(prefixes):
            raise RateTableError("postal_prefixes", "an empty prefix would cover the whole country; leave them out")
        object.__setattr__(self, "postal_prefixes", prefixes)

    def covers(self, country: str, postal_code: str) -> bool:
        if country != self.country:
            return False
        if not self.postal_prefixes and not self.postal_ranges:
            return True
        code = normalise_postal_code(postal_code)
        return any(code.startswith(prefix) for prefix in self.postal_prefixes) or any(
            postal_range.covers(code) for postal_range in self.postal_ranges
        )


@dataclass(frozen=True, slots=True)
class WeightBracket:
    """The base price of a parcel whose billable weight is at most ``up_to_kg``."""

    up_to_kg: Decimal
    price: Decimal

    def __post_init__(self) -> None:
        _positive("up_to_kg", self.up_to_kg)
        _not_negative("price", self.price)


@dataclass(frozen=True, slots=True)
class Zone:
    """Where a service delivers at one tariff: brackets, a price per started kg beyond the last, transit."""

    name: str
    areas: tuple[Area, ...]
    brackets: tuple[WeightBracket, ...]
    transit: Transit
    per_kg_beyond: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise RateTableError("zone", "a zone needs a name")
        if not self.areas:
            raise RateTableError("areas", f"zone {self.name} covers no destination")
        if not self.brackets:
            raise RateTableError("brackets", f"zone {self.name} has no weight bracket")
        limits = [bracket.up_to_kg for bracket in self.brackets]
        if any(lower >= upper for lower, upper in pairwise(limits)):
            raise RateTableError("up_to_kg", f"zone {self.name}'s brackets must rise strictly, got {limits}")
        if self.per_kg_beyond is not None:
            _not_negative("per_kg_beyond", self.per_kg_beyond)

    def covers(self, country: str, postal_code: str) -> bool:
        return any(area.covers(country, postal_code) for area in self.areas)

    def base_price(self, billable_kg: Decimal) -> Decimal | None:
        """The bracket's price, or the last one's plus each started kg beyond; None when too heavy for the zone."""
        for bracket in self.brackets:
            if billable_kg <= bracket.up_to_kg:
                return bracket.price
        if self.per_kg_beyond is None:
            return None
        last = self.brackets[-1]
        started_kg = (billable_kg - last.up_to_kg).to_integral_value(rounding=ROUND_CEILING)
        return last.price + started_kg * self.per_kg_beyond


@dataclass(frozen=True, slots=True)
class Surcharges:
    """What carriers add per parcel on top of the base price."""

    fuel_pct: Decimal = Decimal(0)
    residential: Decimal = Decimal(0)
    remote_area: Decimal = Decimal(0)
    remote_areas: tuple[Area, ...] = ()
    oversize: Decimal = Decimal(0)
    oversize_longest_side_cm: Decimal | None = None
    oversize_length_plus_girth_cm: Decimal | None = None

    def __post_init__(self) -> None:
        _not_negative("fuel_pct", self.fuel_pct)
        _not_negative("residential", self.residential)
        _not_negative("remote_area", self.remote_area)
        _not_negative("oversize", self.oversize)
        if self.oversize_longest_side_cm is not None:
            _positive("oversize_longest_side_cm", self.oversize_longest_side_cm)
        if self.oversize_length_plus_girth_cm is not None:
            _positive("oversize_length_plus_girth_cm", self.oversize_length_plus_girth_cm)

    def is_oversize(self, parcel: Parcel) -> bool:
        longest, middle, shortest = parcel.dimensions.sides_longest_first
        too_long = self.oversize_longest_side_cm is not None and longest > self.oversize_longest_side_cm
        length_plus_girth = longest + 2 * (middle + shortest)
        too_big = (
            self.oversize_length_plus_girth_cm is not None and length_plus_girth > self.oversize_length_plus_girth_cm
        )
        return too_long or too_big


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Service:
    """One carrier service in a table, with ``delivery_weekdays`` as ``date.weekday()`` numbers (Monday is 0)."""

    carrier: str
    service: str
    level: Level
    zones: tuple[Zone, ...]
    surcharges: Surcharges = Surcharges()
    delivery_weekdays: frozenset[int] = MON_FRI

    def __post_init__(self) -> None:
        if not self.carrier.strip():
            raise RateTableError("carrier", "a service needs its carrier")
        if not self.service.strip():
            raise RateTableError("service", f"carrier {self.carrier}'s service needs a name")
        if not self.zones:
            raise RateTableError("zones", f"{self.carrier} {self.service} has no zone")
        if not self.delivery_weekdays or not self.delivery_weekdays <= frozenset(range(7)):
            raise RateTableError(
                "delivery_weekdays", f"must be some of Mon–Sun (0–6), got {sorted(self.delivery_weekdays)}"
            )

    def zone_for(self, country: str, postal_code: str) -> Zone | None:
        return next((zone for zone in self.zones if zone.covers(country, postal_code)), None)


@dataclass(frozen=True, slots=True)
class RateTable:
    """The services one origin warehouse ships with, priced in one currency.

    ``dim_divisors`` holds each carrier's cm³ per kg; a carrier without one bills actual weight only.
    """

    warehouse_id: str
    currency: str
    services: tuple[Service, ...]
    dim_divisors: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.warehouse_id.strip():
            raise RateTableError("warehouse", "a rate table belongs to a warehouse")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise RateTableError("currency", f"must be an upper-case ISO 4217 code, got {self.currency!r}")
        for carrier, divisor in self.dim_divisors.items():
            _positive(f"dim_divisor[{carrier}]", divisor)
        keys = [(service.carrier, service.service) for service in self.services]
        duplicates = sorted({f"{carrier} {name}" for carrier, name in keys if keys.count((carrier, name)) > 1})
        if duplicates:
            raise RateTableError("service", f"listed more than once: {', '.join(duplicates)}")


class ChargeKind(StrEnum):
    BASE = "base"
    FUEL = "fuel"
    RESIDENTIAL = "residential"
    REMOTE_AREA = "remote_area"
    OVERSIZE = "oversize"
    # What a live carrier quote itemises beyond the kinds above: other surcharges, and sales taxes some
    # carriers (Canada Post) include in the total they bill.
    SURCHARGE = "surcharge"
    TAX = "tax"


@dataclass(frozen=True, slots=True)
class Destination:
    country: str
    postal_code: str
    residential: bool


@dataclass(frozen=True, slots=True)
class Quote:
    """A service's fully loaded price for a shipment; ``charges`` add up to ``total`` exactly.

    ``guaranteed`` says the carrier guarantees the service's delivery date (money back if late); rate
    tables do not know it, live quotes carry it.
    """

    warehouse_id: str
    carrier: str
    service: str
    level: Level
    zone: str
    total: Money
    charges: tuple[tuple[ChargeKind, Money], ...]
    billable_weight_kg: Decimal
    transit: Transit
    delivery_weekdays: frozenset[int]
    guaranteed: bool = False

    def explain(self) -> str:
        parts = ", ".join(f"{kind} {money.amount}" for kind, money in self.charges)
        days = "/".join(_WEEKDAYS[day] for day in sorted(self.delivery_weekdays))
        guarantee = ", guaranteed" if self.guaranteed else ""
        return (
            f"{self.carrier} {self.service} to zone {self.zone}: {self.total.amount} {self.total.currency} "
            f"({parts}) for {self.billable_weight_kg} kg billable, "
            f"{self.transit.days_min}–{self.transit.days_max} business days{guarantee}, delivers {days}"
        )


@dataclass(frozen=True, slots=True)
class NoRate:
    carrier: str
    service: str
    reason: str


def billable_weight_kg(parcel: Parcel, divisor: Decimal | None) -> Decimal:
    """The greater of the parcel's actual and dimensional weight."""
    if divisor is None:
        return parcel.weight_kg
    return max(parcel.weight_kg, parcel.dimensions.volume_cm3 / divisor)


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount, currency).quantized()


def price_shipment(
    table: RateTable, service: Service, destination: Destination, parcels: Sequence[Parcel]
) -> Quote | NoRate:
    """The fully loaded price of sending ``parcels`` with ``service``, each charge rounded to the minor unit."""
    if not parcels:
        return NoRate(service.carrier, service.service, "nothing to ship")
    zone = service.zone_for(destination.country, destination.postal_code)
    if zone is None:
        where = f"{destination.country} {destination.postal_code}".strip()
        return NoRate(service.carrier, service.service, f"no zone covers {where}")
    divisor = table.dim_divisors.get(service.carrier)
    surcharges = service.surcharges
    remote = any(area.covers(destination.country, destination.postal_code) for area in surcharges.remote_areas)
    totals = dict.fromkeys(ChargeKind, Money(Decimal(0), table.currency))
    billable_total = Decimal(0)
    for parcel in parcels:
        billable = billable_weight_kg(parcel, divisor)
        base = zone.base_price(billable)
        if base is None:
            last = zone.brackets[-1].up_to_kg
            return NoRate(
                service.carrier, service.service, f"a parcel bills {billable} kg, above zone {zone.name}'s {last} kg"
            )
        billable_total += billable
        totals[ChargeKind.BASE] += _money(base, table.currency)
        totals[ChargeKind.FUEL] += _money(base * surcharges.fuel_pct / _HUNDRED, table.currency)
        if destination.residential:
            totals[ChargeKind.RESIDENTIAL] += _money(surcharges.residential, table.currency)
        if remote:
            totals[ChargeKind.REMOTE_AREA] += _money(surcharges.remote_area, table.currency)
        if surcharges.is_oversize(parcel):
            totals[ChargeKind.OVERSIZE] += _money(surcharges.oversize, table.currency)
    charges = tuple((kind, money) for kind, money in totals.items() if kind is ChargeKind.BASE or money.amount)
    total = sum((money for _, money in charges), Money(Decimal(0), table.currency))
    return Quote(
        table.warehouse_id,
        service.carrier,
        service.service,
        service.level,
        zone.name,
        total,
        charges,
        billable_total,
        zone.transit,
        service.delivery_weekdays,
    )


def quote_all(table: RateTable, destination: Destination, parcels: Sequence[Parcel]) -> list[Quote | NoRate]:
    return [price_shipment(table, service, destination, parcels) for service in table.services]

"""Pure conversions between our shipping shapes and Karrio's unified models.

Our ``RateRequest`` becomes Karrio's request (kilograms and centimetres); each ``RateDetails`` a
carrier answers becomes a ``Quote``: its service's level (the carrier's default, or the account's
override), its fully loaded total with the itemised charges mapped onto ``ChargeKind``s, its transit
and whether the carrier guarantees the service. A rate that cannot be used as it is (no level for its
service, another currency, no transit time) is left out with the reason: a live rate without a transit
time cannot be held to a promise, and is never counted as arriving the same day.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from karrio.core import models as karrio

from app.domain.money import Money
from app.domain.shipping.calendar import MON_FRI, MON_SAT
from app.domain.shipping.model import Level
from app.domain.shipping.parcels import Dimensions, Parcel
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import ChargeKind, Quote
from app.services.shipping.model import CarrierAccount, Place, RateRequest

LIVE_ZONE = "live"
# Aggregators quote other carriers' services; their rates are named after the carrier that delivers.
HUBS = frozenset({"easypost"})

STANDARD, EXPEDITED, OVERNIGHT = Level.STANDARD, Level.EXPEDITED, Level.OVERNIGHT


@dataclass(frozen=True, slots=True)
class ServiceDefault:
    level: Level
    guaranteed: bool = False  # the carrier's published money-back guarantee on the delivery date


# Karrio's service codes (easypost ones as ``easypost_<carrier>_<service>``) and what a shopper buys with them.
SERVICE_DEFAULTS: Mapping[str, Mapping[str, ServiceDefault]] = {
    "ups": {
        "ups_ground": ServiceDefault(STANDARD),
        "ups_standard": ServiceDefault(STANDARD),
        "ups_3_day_select": ServiceDefault(EXPEDITED, guaranteed=True),
        "ups_2nd_day_air": ServiceDefault(EXPEDITED, guaranteed=True),
        "ups_2nd_day_air_am": ServiceDefault(EXPEDITED, guaranteed=True),
        "ups_worldwide_expedited": ServiceDefault(EXPEDITED, guaranteed=True),
        "ups_worldwide_saver": ServiceDefault(EXPEDITED, guaranteed=True),
        "ups_worldwide_express": ServiceDefault(EXPEDITED, guaranteed=True),
        "ups_next_day_air_saver": ServiceDefault(OVERNIGHT, guaranteed=True),
        "ups_next_day_air": ServiceDefault(OVERNIGHT, guaranteed=True),
        "ups_next_day_air_early": ServiceDefault(OVERNIGHT, guaranteed=True),
    },
    "fedex": {
        "fedex_ground": ServiceDefault(STANDARD),
        "fedex_ground_home_delivery": ServiceDefault(STANDARD),
        "fedex_international_economy": ServiceDefault(STANDARD, guaranteed=True),
        "fedex_express_saver": ServiceDefault(EXPEDITED, guaranteed=True),
        "fedex_2_day": ServiceDefault(EXPEDITED, guaranteed=True),
        "fedex_2_day_am": ServiceDefault(EXPEDITED, guaranteed=True),
        "fedex_international_priority": ServiceDefault(EXPEDITED, guaranteed=True),
        "fedex_standard_overnight": ServiceDefault(OVERNIGHT, guaranteed=True),
        "fedex_priority_overnight": ServiceDefault(OVERNIGHT, guaranteed=True),
        "fedex_first_overnight": ServiceDefault(OVERNIGHT, guaranteed=True),
    },
    "usps": {
        "usps_ground_advantage": ServiceDefault(STANDARD),
        "usps_parcel_select": ServiceDefault(STANDARD),
        "usps_priority_mail": ServiceDefault(EXPEDITED),
        "usps_priority_mail_express": ServiceDefault(OVERNIGHT, guaranteed=True),
    },
    "dhl_express": {
        "dhl_economy_select": ServiceDefault(STANDARD),
        "dhl_economy_select_nondoc": ServiceDefault(STANDARD),
        "dhl_express_worldwide": ServiceDefault(EXPEDITED, guaranteed=True),
        "dhl_express_worldwide_nondoc": ServiceDefault(EXPEDITED, guaranteed=True),
        "dhl_express_12_00": ServiceDefault(EXPEDITED, guaranteed=True),
        "dhl_express_12_00_nondoc": ServiceDefault(EXPEDITED, guaranteed=True),
        "dhl_express_domestic": ServiceDefault(OVERNIGHT, guaranteed=True),
        "dhl_domestic_express_12_00": ServiceDefault(OVERNIGHT, guaranteed=True),
    },
    "canadapost": {
        "canadapost_regular_parcel": ServiceDefault(STANDARD),
        "canadapost_expedited_parcel": ServiceDefault(STANDARD),
        "canadapost_expedited_parcel_usa": ServiceDefault(STANDARD),
        "canadapost_tracked_packet_usa": ServiceDefault(STANDARD),
        "canadapost_xpresspost": ServiceDefault(EXPEDITED, guaranteed=True),
        "canadapost_xpresspost_usa": ServiceDefault(EXPEDITED, guaranteed=True),
        "canadapost_priority": ServiceDefault(OVERNIGHT, guaranteed=True),
    },
    "easypost": {
        "easypost_usps_ground_advantage": ServiceDefault(STANDARD),
        "easypost_usps_priority": ServiceDefault(EXPEDITED),
        "easypost_usps_express": ServiceDefault(OVERNIGHT, guaranteed=True),
        "easypost_ups_ground": ServiceDefault(STANDARD),
        "easypost_ups_2nd_day_air": ServiceDefault(EXPEDITED, guaranteed=True),
        "easypost_ups_next_day_air": ServiceDefault(OVERNIGHT, guaranteed=True),
        "easypost_fedex_ground": ServiceDefault(STANDARD),
        "easypost_fedex_2_day": ServiceDefault(EXPEDITED, guaranteed=True),
        "easypost_fedex_standard_overnight": ServiceDefault(OVERNIGHT, guaranteed=True),
    },
}

# The weekdays each carrier delivers on (residential Saturday delivery as an extra is not assumed).
DELIVERY_WEEKDAYS: Mapping[str, frozenset[int]] = {
    "ups": MON_FRI,
    "fedex": MON_FRI,
    "usps": MON_SAT,
    "dhl_express": MON_FRI,
    "canadapost": MON_FRI,
}


@dataclass(frozen=True, slots=True)
class Mapped:
    """What one account's answer became: usable quotes, and why any rate was left out."""

    quotes: tuple[Quote, ...]
    problems: tuple[str, ...]


def _kg(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_CEILING))


def _cm(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_CEILING))


def karrio_address(place: Place, *, residential: bool = False) -> karrio.Address:
    return karrio.Address(
        postal_code=place.postal_code or None,
        city=place.city or None,
        country_code=place.country,
        state_code=place.country_area or None,
        address_line1=place.street,
        company_name=place.company_name or None,
        residential=residential,
    )


def karrio_parcel(parcel: Parcel) -> karrio.Parcel:
    size: Dimensions = parcel.dimensions
    return karrio.Parcel(
        weight=_kg(parcel.weight_kg),
        weight_unit="KG",
        length=_cm(size.length_cm),
        width=_cm(size.width_cm),
        height=_cm(size.height_cm),
        dimension_unit="CM",
    )


def karrio_rate_request(request: RateRequest, ship_date: date) -> karrio.RateRequest:
    """Every service of the carrier is asked for; ``ship_date`` lets carriers count transit from it."""
    return karrio.RateRequest(
        shipper=karrio_address(request.origin),
        recipient=karrio_address(request.destination, residential=request.residential),
        parcels=[karrio_parcel(parcel) for parcel in request.parcels],
        options={"shipment_date": ship_date.isoformat(), "currency": request.currency},
    )


def _snake(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def delivering_carrier(account: CarrierAccount, rate: karrio.RateDetails) -> str:
    """The carrier that delivers: an aggregator's rate names the carrier it resold."""
    if account.carrier in HUBS:
        provider = (rate.meta or {}).get("rate_provider")
        if isinstance(provider, str) and provider:
            return _snake(provider)
    return account.carrier


def service_code(account: CarrierAccount, rate: karrio.RateDetails) -> str:
    """Karrio's code for the rate's service; an aggregator's service Karrio does not know is named
    ``<aggregator>_<carrier>_<service>`` as Karrio names those it knows."""
    code = str(rate.service)
    prefix = f"{account.carrier}_"
    if account.carrier in HUBS and not code.startswith(prefix):
        return f"{prefix}{delivering_carrier(account, rate)}_{_snake(code)}"
    return code


def level_of(account: CarrierAccount, service: str) -> ServiceDefault | None:
    """The account's override first, then the carrier's default; None for a service with neither."""
    default = SERVICE_DEFAULTS.get(account.carrier, {}).get(service)
    override = account.service_levels.get(service)
    if override is not None:
        return ServiceDefault(override, guaranteed=default.guaranteed if default else False)
    return default


def delivery_weekdays(carrier: str) -> frozenset[int]:
    return DELIVERY_WEEKDAYS.get(carrier, MON_FRI)


def _decimal(value: Any) -> Decimal | None:
    """Karrio's amounts are floats; read through their shortest decimal form, never their binary value."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


_TAX = re.compile(r"\b(tax|taxes|gst|pst|hst|qst|vat)\b")


def charge_kind(name: str) -> ChargeKind:
    """Carriers name their charges freely; these are the words they use for the kinds we tell apart."""
    words = name.lower()
    if "fuel" in words:
        return ChargeKind.FUEL
    if "residential" in words:
        return ChargeKind.RESIDENTIAL
    if "remote" in words or "extended area" in words or "delivery area" in words:
        return ChargeKind.REMOTE_AREA
    if "oversize" in words or "large package" in words or "additional handling" in words:
        return ChargeKind.OVERSIZE
    if _TAX.search(words):
        return ChargeKind.TAX
    if "base" in words:
        return ChargeKind.BASE
    return ChargeKind.SURCHARGE


def itemise(total: Money, extra_charges: Sequence[karrio.ChargeDetails]) -> tuple[tuple[ChargeKind, Money], ...]:
    """The total split into charges that add up to it exactly: the carrier's surcharges and taxes by
    kind, and the rest as the base (discounts and unnamed parts included). When the named charges come to
    more than the total, the carrier's itemisation cannot be trusted and the total stands as the base."""
    zero = Money(Decimal(0), total.currency)
    sums: dict[ChargeKind, Money] = {}
    for charge in extra_charges:
        amount = _decimal(charge.amount)
        if amount is None or amount <= 0 or (charge.currency or total.currency) != total.currency:
            continue
        kind = charge_kind(charge.name or "")
        if kind is ChargeKind.BASE:
            continue
        sums[kind] = sums.get(kind, zero) + Money(amount, total.currency).quantized()
    named = sum(sums.values(), zero)
    if named.amount > total.amount:
        return ((ChargeKind.BASE, total),)
    return ((ChargeKind.BASE, total - named), *sorted(sums.items(), key=lambda item: list(ChargeKind).index(item[0])))


def _delivery_days_between(ship_date: date, arrival: date, weekdays: frozenset[int]) -> int:
    days, day = 0, ship_date
    while day < arrival:
        day += timedelta(days=1)
        days += day.weekday() in weekdays
    return days


def transit_of(rate: karrio.RateDetails, ship_date: date, weekdays: frozenset[int]) -> Transit | None:
    """The carrier's transit days, or those up to its estimated delivery date counted on its delivery
    days; None when it gave neither (never 0 days)."""
    days = rate.transit_days
    if isinstance(days, int) and not isinstance(days, bool) and days >= 0:
        return Transit(days, days)
    try:
        arrival = date.fromisoformat(str(rate.estimated_delivery)[:10]) if rate.estimated_delivery else None
    except ValueError:
        arrival = None
    if arrival is None or arrival < ship_date:
        return None
    days = _delivery_days_between(ship_date, arrival, weekdays)
    return Transit(days, days)


def _guaranteed(default: ServiceDefault, rate: karrio.RateDetails) -> bool:
    meta = rate.meta or {}
    return default.guaranteed or meta.get("usps_guaranteed_delivery") is True


def to_quote(account: CarrierAccount, request: RateRequest, rate: karrio.RateDetails, ship_date: date) -> Quote | str:
    """The rate as a quote, or why it cannot be used."""
    carrier = delivering_carrier(account, rate)
    service = service_code(account, rate)
    named = f"{carrier} {service}"
    default = level_of(account, service)
    if default is None:
        return f"{named} has no service level: give it one on the {account.label} account"
    if rate.currency != request.currency:
        return f"{named} was quoted in {rate.currency}, the checkout is in {request.currency}"
    amount = _decimal(rate.total_charge)
    if amount is None or amount <= 0:
        return f"{named} came without a price"
    weekdays = delivery_weekdays(carrier)
    transit = transit_of(rate, ship_date, weekdays)
    if transit is None:
        return f"{named} came without a transit time, so it cannot keep a promise: left out"
    total = Money(amount, request.currency).quantized()
    return Quote(
        warehouse_id=request.warehouse_id,
        carrier=carrier,
        service=service,
        level=default.level,
        zone=LIVE_ZONE,
        total=total,
        charges=itemise(total, rate.extra_charges or ()),
        # Carriers bill dimensional weight inside their total; the quote states the weight declared to them.
        billable_weight_kg=sum((parcel.weight_kg for parcel in request.parcels), Decimal(0)),
        transit=transit,
        delivery_weekdays=weekdays,
        guaranteed=_guaranteed(default, rate),
    )


def map_rates(
    account: CarrierAccount, request: RateRequest, rates: Sequence[karrio.RateDetails], ship_date: date
) -> Mapped:
    quotes: list[Quote] = []
    problems: list[str] = []
    for rate in rates:
        mapped = to_quote(account, request, rate, ship_date)
        if isinstance(mapped, Quote):
            quotes.append(mapped)
        else:
            problems.append(mapped)
    return Mapped(tuple(quotes), tuple(problems))


_NOT_ERRORS = frozenset({"warning", "info", "note", "notice"})


def carrier_errors(messages: Sequence[karrio.Message]) -> list[str]:
    """The carrier's error messages (its warnings and notes are not failures)."""
    errors = []
    for message in messages:
        if (message.level or "").lower() in _NOT_ERRORS:
            continue
        text = str(message.message or "no message").strip()
        errors.append(f"{message.code}: {text}" if message.code else text)
    return errors

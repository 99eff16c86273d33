"""The merchant's fraud settings, every default with its source; validated when built.

The settings UI edits these values; ``FraudPolicy(...)`` refuses a bad combination with
``FraudPolicyInvalid`` listing every problem, so nothing half-valid is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from app.domain.fraud.facts import FACTS, PointsTable, points_table
from app.domain.fraud.model import (
    AddressFacts,
    CheckEvidence,
    CheckResult,
    FraudPolicyInvalid,
    Reason,
    VelocityDimension,
)
from app.domain.fraud.normalise import normalise_country, normalise_postal_code, street_tokens

_M = CheckResult.MATCH
_P = CheckResult.PARTIAL
_X = CheckResult.MISMATCH
_U = CheckResult.UNAVAILABLE

# Card-network AVS letters (Visa/Mastercard/Discover/Amex response codes) → normalised result.
DEFAULT_AVS_CODES: Mapping[str, CheckResult] = MappingProxyType(
    {
        "Y": _M,  # street and 5-digit ZIP match
        "X": _M,  # street and 9-digit ZIP match
        "D": _M,  # street and postal code match (international)
        "F": _M,  # street and postal code match (UK)
        "M": _M,  # street and postal code match (international)
        "A": _P,  # street matches, postal code does not
        "B": _P,  # street matches, postal code not verified (international)
        "P": _P,  # postal code matches, street not verified (international)
        "W": _P,  # 9-digit ZIP matches, street does not
        "Z": _P,  # 5-digit ZIP matches, street does not
        "N": _X,  # neither matches
        "U": _U,  # address information unavailable
        "R": _U,  # issuer system unavailable, retry
        "S": _U,  # AVS not supported by the issuer
        "G": _U,  # non-US issuer does not participate
        "E": _U,  # AVS error, or not allowed for this transaction
        "C": _U,  # not verified, incompatible formats (international)
        "I": _U,  # address not verified (international)
    }
)

# Card-network CVV2/CVC2/CID result letters → normalised result.
DEFAULT_CVV_CODES: Mapping[str, CheckResult] = MappingProxyType(
    {
        "M": _M,  # match
        "N": _X,  # no match
        "P": _U,  # not processed
        "S": _U,  # merchant indicated the code is not on the card
        "U": _U,  # issuer not certified or did not provide keys
    }
)

# Stripe's check words (charge.payment_method_details.card.checks).
DEFAULT_CHECK_WORDS: Mapping[str, CheckResult] = MappingProxyType(
    {"pass": _M, "fail": _X, "unavailable": _U, "unchecked": _U}
)

# Matched as lower-case substrings of the shipping method's name; overnight is tried first.
DEFAULT_OVERNIGHT_KEYWORDS = (
    "overnight",
    "next day",
    "next-day",
    "nextday",
    "same day",
    "same-day",
    "1-day",
    "one day",
)
DEFAULT_EXPEDITED_KEYWORDS = (
    "express",
    "expedited",
    "priority",
    "2-day",
    "two day",
    "two-day",
    "2nd day",
    "second day",
    "rush",
)


@dataclass(frozen=True, slots=True)
class VelocityLimit:
    """At most ``max_orders`` orders (this one included) per value within ``window_hours``."""

    dimension: VelocityDimension
    window_hours: int
    max_orders: int


# Card testing and account takeover show as bursts; legitimate customers rarely place more than
# two orders in an hour from one email or card. DOMAIN.md "Velocity rule shape" (variable, hits, period).
DEFAULT_VELOCITY = (
    VelocityLimit(VelocityDimension.EMAIL, 1, 2),
    VelocityLimit(VelocityDimension.EMAIL, 24, 3),
    VelocityLimit(VelocityDimension.CARD, 24, 3),
    VelocityLimit(VelocityDimension.IP, 1, 3),
    VelocityLimit(VelocityDimension.IP, 24, 5),
    VelocityLimit(VelocityDimension.SHIPPING_ADDRESS, 24, 4),
)

# The longest window a velocity limit or rule may count over: older velocity keys count in none.
LONGEST_WINDOW_HOURS = 24 * 366


@dataclass(frozen=True, slots=True)
class ReshipperSignature:
    """A reshipper address in comparable form (derived from ``FraudPolicy.reshipper_addresses``)."""

    country: str
    postal_code: str
    street: str  # " ".join(street_tokens), padded with spaces for whole-word containment


@dataclass(frozen=True, slots=True)
class DerivedPolicy:
    """Lookups prepared once per policy: upper-cased letter maps, lower-cased words and keywords."""

    avs_codes: Mapping[str, CheckResult]
    cvv_codes: Mapping[str, CheckResult]
    check_words: Mapping[str, CheckResult]
    overnight_keywords: tuple[str, ...]
    expedited_keywords: tuple[str, ...]
    reshippers: tuple[ReshipperSignature, ...]
    velocity_windows: Mapping[VelocityDimension, int]  # the longest window per dimension
    tightest_velocity_limit: int  # the smallest max_orders (no limits: effectively none)
    points: PointsTable  # facts.FACTS with fact_points applied
    thresholds: tuple[int, int]  # the store-wide (review, reject)
    reasons: dict[tuple[str, str], Reason]  # reasons already made under this policy, by (code, detail)
    evidence: dict[tuple[str, ...], CheckEvidence | None]  # AVS/CVV evidence already read, by raw values


@dataclass(frozen=True, slots=True)
class FraudPolicy:
    # Radar's defaults: risk_score >= 65 "elevated" (review), >= 75 "highest" (block).
    review_threshold: int = 65
    reject_threshold: int = 75
    # Per channel slug: (review, reject); 101 switches a step off.
    channel_thresholds: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # LexisNexis True Cost of Fraud 2020: US merchants lose $3.36 per $1 of fraud.
    fraud_cost_multiplier: Decimal = Decimal("3.36")
    # Card-not-present fees (Stripe's US list price 2.9% + 30c) for the margin.
    payment_fee_rate: Decimal = Decimal("0.029")
    payment_fee_fixed: Decimal = Decimal("0.30")
    velocity: tuple[VelocityLimit, ...] = DEFAULT_VELOCITY
    # Where AVS/CVV results are read from a payment's metadata (first key present wins).
    avs_keys: tuple[str, ...] = ("avs_result",)
    cvv_keys: tuple[str, ...] = ("cvv_result",)
    avs_street_check_keys: tuple[str, ...] = ("address_line1_check",)
    avs_postal_check_keys: tuple[str, ...] = ("address_postal_code_check",)
    cvv_check_keys: tuple[str, ...] = ("cvc_check",)
    avs_codes: Mapping[str, CheckResult] = field(default_factory=lambda: DEFAULT_AVS_CODES)
    cvv_codes: Mapping[str, CheckResult] = field(default_factory=lambda: DEFAULT_CVV_CODES)
    check_words: Mapping[str, CheckResult] = field(default_factory=lambda: DEFAULT_CHECK_WORDS)
    # Card details and IP where a payment app leaves them in metadata (Saleor's own fields win).
    card_brand_keys: tuple[str, ...] = ("card_brand",)
    card_bin_keys: tuple[str, ...] = ("card_bin",)
    card_last4_keys: tuple[str, ...] = ("card_last4",)
    card_country_keys: tuple[str, ...] = ("card_country",)
    card_exp_month_keys: tuple[str, ...] = ("card_exp_month",)
    card_exp_year_keys: tuple[str, ...] = ("card_exp_year",)
    ip_keys: tuple[str, ...] = ("customer_ip",)
    ip_country_keys: tuple[str, ...] = ("ip_country",)
    overnight_keywords: tuple[str, ...] = DEFAULT_OVERNIGHT_KEYWORDS
    expedited_keywords: tuple[str, ...] = DEFAULT_EXPEDITED_KEYWORDS
    # Order value: "high" is this multiple of the store's median order (needs min_store_orders).
    high_value_multiple: Decimal = Decimal("3")
    min_store_orders: int = 20
    # Used instead of the median rule while the store has too little history; None = no fallback.
    high_value_order_total: Decimal | None = None
    # A unit price at or above this is a high-value item; None = the store's median order value.
    high_value_unit_price: Decimal | None = None
    bulk_quantity: int = 3
    customer_value_multiple: Decimal = Decimal("3")
    loyal_customer_orders: int = 5
    new_account_hours: int = 24
    established_account_days: int = 180
    reshipper_addresses: tuple[AddressFacts, ...] = ()
    # Points per fact code, overriding facts.FACTS.
    fact_points: Mapping[str, int] = field(default_factory=dict)
    derived: DerivedPolicy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        errors = _policy_errors(self)
        if errors:
            raise FraudPolicyInvalid(errors)
        object.__setattr__(self, "derived", _derive(self))

    def thresholds_for(self, channel: str) -> tuple[int, int]:
        """(review, reject) for the channel: its own pair, else the store-wide one."""
        return self.channel_thresholds.get(channel) or self.derived.thresholds


def _derive(policy: FraudPolicy) -> DerivedPolicy:
    windows: dict[VelocityDimension, int] = {}
    for limit in policy.velocity:
        windows[limit.dimension] = max(windows.get(limit.dimension, 0), limit.window_hours)
    return DerivedPolicy(
        avs_codes={code.strip().upper(): result for code, result in policy.avs_codes.items()},
        cvv_codes={code.strip().upper(): result for code, result in policy.cvv_codes.items()},
        check_words={word.strip().lower(): result for word, result in policy.check_words.items()},
        overnight_keywords=tuple(word.strip().lower() for word in policy.overnight_keywords),
        expedited_keywords=tuple(word.strip().lower() for word in policy.expedited_keywords),
        reshippers=tuple(_signature(address) for address in policy.reshipper_addresses),
        velocity_windows=windows,
        tightest_velocity_limit=min((limit.max_orders for limit in policy.velocity), default=1 << 62),
        points=points_table(policy.fact_points),
        thresholds=(policy.review_threshold, policy.reject_threshold),
        reasons={},
        evidence={},
    )


def _signature(address: AddressFacts) -> ReshipperSignature:
    return ReshipperSignature(
        country=normalise_country(address.country) or "",
        postal_code=normalise_postal_code(address.postal_code),
        street=f" {' '.join(street_tokens(address.street))} ",
    )


def _threshold_errors(where: str, review: object, reject: object) -> list[str]:
    errors: list[str] = []
    for name, value in (("review", review), ("reject", reject)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 101:
            errors.append(f"{where} {name} threshold must be a whole number from 0 to 101, got {value!r}")
    if not errors and isinstance(review, int) and isinstance(reject, int) and review > reject:
        errors.append(f"{where} review threshold ({review}) must not be above the reject threshold ({reject})")
    return errors


def _policy_errors(policy: FraudPolicy) -> list[str]:
    errors = _threshold_errors("store", policy.review_threshold, policy.reject_threshold)
    for channel, pair in policy.channel_thresholds.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            errors.append(f"channel {channel!r} thresholds must be a (review, reject) pair, got {pair!r}")
        else:
            errors += _threshold_errors(f"channel {channel!r}", *pair)
    for name, value, low, high in (
        ("fraud_cost_multiplier", policy.fraud_cost_multiplier, Decimal(0), Decimal(100)),
        ("payment_fee_rate", policy.payment_fee_rate, Decimal(0), Decimal(1)),
        ("payment_fee_fixed", policy.payment_fee_fixed, Decimal(0), None),
        ("high_value_multiple", policy.high_value_multiple, Decimal(1), None),
        ("customer_value_multiple", policy.customer_value_multiple, Decimal(1), None),
        ("high_value_order_total", policy.high_value_order_total, Decimal(0), None),
        ("high_value_unit_price", policy.high_value_unit_price, Decimal(0), None),
    ):
        if value is None and name.startswith("high_value_") and name != "high_value_multiple":
            continue
        if (
            not isinstance(value, Decimal)
            or not value.is_finite()
            or value < low
            or (high is not None and value > high)
        ):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            errors.append(f"{name} must be a Decimal {bound}, got {value!r}")
    for name, number, least in (
        ("min_store_orders", policy.min_store_orders, 0),
        ("bulk_quantity", policy.bulk_quantity, 1),
        ("loyal_customer_orders", policy.loyal_customer_orders, 2),
        ("new_account_hours", policy.new_account_hours, 0),
        ("established_account_days", policy.established_account_days, 0),
    ):
        if not isinstance(number, int) or isinstance(number, bool) or number < least:
            errors.append(f"{name} must be a whole number of at least {least}, got {number!r}")
    for number, limit in enumerate(policy.velocity, start=1):
        if not isinstance(limit.window_hours, int) or not 1 <= limit.window_hours <= LONGEST_WINDOW_HOURS:
            errors.append(f"velocity {number}: window_hours must be from 1 to {LONGEST_WINDOW_HOURS}")
        if not isinstance(limit.max_orders, int) or limit.max_orders < 1:
            errors.append(f"velocity {number}: max_orders must be at least 1")
    for name in ("overnight_keywords", "expedited_keywords"):
        if any(not isinstance(word, str) or not word.strip() for word in getattr(policy, name)):
            errors.append(f"{name} must not contain empty keywords")
    for name in ("avs_codes", "cvv_codes", "check_words"):
        if any(not isinstance(result, CheckResult) for result in getattr(policy, name).values()):
            errors.append(f"{name} must map to match, partial, mismatch or unavailable")
    for code, points in policy.fact_points.items():
        if code not in FACTS:
            errors.append(f"fact_points: unknown fact code {code!r}")
        elif not isinstance(points, int) or isinstance(points, bool) or not -100 <= points <= 100:
            errors.append(f"fact_points: {code} must be a whole number from -100 to 100, got {points!r}")
    for number, address in enumerate(policy.reshipper_addresses, start=1):
        if normalise_country(address.country) is None or not street_tokens(address.street):
            errors.append(f"reshipper address {number}: needs a two-letter country and a street")
    return errors

"""Every fact the scorer can state: its code, default points and sentiment, and what it means.

The score is ``clamp(Σ points, 0, 100)`` over the facts of one order, ``baseline`` included, so
every point is visible in ``ops.fraud``. Positive facts carry negative points. A merchant may
override the points of any code through ``FraudPolicy.fact_points``; docs/fraud-scoring.md
lists the same table (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from app.domain.fraud.model import DETAIL_MAX_CHARS, Reason, Sentiment

_NEG = Sentiment.NEGATIVE
_NEU = Sentiment.NEUTRAL
_POS = Sentiment.POSITIVE


@dataclass(frozen=True, slots=True)
class FactSpec:
    code: str
    points: int
    sentiment: Sentiment
    group: str
    meaning: str


_SPECS = (
    FactSpec("baseline", 10, _NEU, "score", "Every order starts at 10 points: an order we know nothing about."),
    # Payment checks (AVS/CVV from the payment's metadata; card details; IP)
    FactSpec(
        "avs_match", -10, _POS, "payment", "The card's billing street and postal code both match (AVS Y, X, D, F, M)."
    ),
    FactSpec("avs_partial", 5, _NEG, "payment", "Only the street or only the postal code matched (AVS A, B, P, W, Z)."),
    FactSpec(
        "avs_mismatch", 20, _NEG, "payment", "Neither street nor postal code matched (AVS N, Stripe checks failed)."
    ),
    FactSpec("avs_unavailable", 0, _NEU, "payment", "A payment exists but the issuer gave no usable AVS result."),
    FactSpec("cvv_match", -10, _POS, "payment", "The card security code matched (CVV M, Stripe cvc_check pass)."),
    FactSpec("cvv_mismatch", 30, _NEG, "payment", "The card security code was wrong (CVV N, Stripe cvc_check fail)."),
    FactSpec(
        "cvv_unavailable", 0, _NEU, "payment", "A payment exists but the CVV was not checked (P, S, U, unchecked)."
    ),
    FactSpec(
        "payment_pending", 0, _NEU, "payment", "No payment data yet: AVS and CVV are judged when the order is paid."
    ),
    FactSpec("card_details", 0, _NEU, "payment", "The card's brand, BIN, last 4 digits and expiry, for the reviewer."),
    FactSpec("card_expired", 15, _NEG, "payment", "The card's expiry month is before the month of the order."),
    FactSpec("multiple_cards", 10, _NEG, "payment", "More than one card was used on this order."),
    FactSpec(
        "card_country_mismatch", 10, _NEG, "payment", "The card was issued in another country than the billing address."
    ),
    FactSpec(
        "ip_country_mismatch", 10, _NEG, "payment", "The customer's IP is in another country than the billing address."
    ),
    FactSpec("ip_country_match", -5, _POS, "payment", "The customer's IP is in the billing country."),
    FactSpec("ip_unknown", 0, _NEU, "payment", "No usable customer IP address."),
    # Addresses
    FactSpec(
        "billing_shipping_match", -5, _POS, "address", "Billing and shipping share country, region and postal code."
    ),
    FactSpec("billing_shipping_differ", 5, _NEG, "address", "Same country, but region or postal code differ."),
    FactSpec(
        "billing_shipping_country_mismatch", 15, _NEG, "address", "Billing and shipping are in different countries."
    ),
    FactSpec("shipping_address_missing", 0, _NEU, "address", "Nothing ships (digital goods): address checks skipped."),
    FactSpec("billing_address_missing", 0, _NEU, "address", "No billing address on the order."),
    FactSpec("shipping_country_invalid", 10, _NEG, "address", "The shipping country is not a known ISO 3166 country."),
    FactSpec(
        "shipping_region_invalid", 8, _NEG, "address", "The shipping region is missing or not a region of the country."
    ),
    FactSpec(
        "shipping_postal_code_invalid",
        10,
        _NEG,
        "address",
        "The shipping postal code is missing or not valid for the country (and region).",
    ),
    FactSpec("billing_country_invalid", 5, _NEG, "address", "The billing country is not a known ISO 3166 country."),
    FactSpec(
        "billing_region_invalid", 4, _NEG, "address", "The billing region is missing or not a region of the country."
    ),
    FactSpec("billing_postal_code_invalid", 5, _NEG, "address", "The billing postal code is missing or not valid."),
    FactSpec("shipping_reshipper", 25, _NEG, "address", "Ships to a known reshipper / freight-forwarder address."),
    # Customer
    FactSpec("guest_checkout", 5, _NEG, "customer", "Ordered without an account."),
    FactSpec("first_order", 5, _NEG, "customer", "No earlier paid order from this customer."),
    FactSpec(
        "fraud_history",
        25,
        _NEG,
        "customer",
        "Earlier orders of this customer were rejected, cancelled, refunded as fraud or disputed.",
    ),
    FactSpec("returning_customer", -8, _POS, "customer", "1 to 4 earlier paid orders."),
    FactSpec(
        "loyal_customer", -15, _POS, "customer", "5 or more earlier paid orders (FraudPolicy.loyal_customer_orders)."
    ),
    FactSpec("new_account", 8, _NEG, "customer", "The account was created less than 24 hours before the order."),
    FactSpec("established_account", -5, _POS, "customer", "The account is at least 180 days old."),
    FactSpec("disposable_email", 20, _NEG, "customer", "The email domain is a disposable-mail service."),
    FactSpec("email_missing", 0, _NEU, "customer", "No usable email address on the order."),
    FactSpec("email_name_mismatch", 4, _NEG, "customer", "The email address shares nothing with the customer's name."),
    FactSpec("email_matches_name", -3, _POS, "customer", "The email address contains the customer's name."),
    # Order value and contents
    FactSpec("high_value_order", 10, _NEG, "order", "The total is at least 3x the store's median order."),
    FactSpec("above_customer_history", 10, _NEG, "order", "The total is more than 3x this customer's average."),
    FactSpec("bulk_high_value_item", 12, _NEG, "order", "3 or more units of one high-value item."),
    FactSpec(
        "rush_shipping_first_high_value",
        15,
        _NEG,
        "order",
        "Expedited or overnight shipping on a first high-value order.",
    ),
    FactSpec("store_history_thin", 0, _NEU, "order", "Too few store orders to judge the order's value."),
    # Velocity
    FactSpec("velocity_email", 15, _NEG, "velocity", "Too many orders from this email within a window."),
    FactSpec("velocity_card", 20, _NEG, "velocity", "Too many orders with this card within a window."),
    FactSpec("velocity_ip", 10, _NEG, "velocity", "Too many orders from this IP address within a window."),
    FactSpec(
        "velocity_shipping_address", 10, _NEG, "velocity", "Too many orders to this shipping address within a window."
    ),
    # Margin and decision (0 points: they explain the decision, they do not move the score)
    FactSpec("margin_unknown", 0, _NEU, "margin", "A line's cost is unknown: the margin-aware check was skipped."),
    FactSpec(
        "margin_not_positive",
        0,
        _NEU,
        "margin",
        "The order earns nothing (margin <= 0): any expected fraud loss exceeds it, so it is held for review.",
    ),
    FactSpec(
        "expected_loss_exceeds_margin", 0, _NEG, "decision", "Expected fraud loss exceeds the margin: held for review."
    ),
    FactSpec("list_allow", 0, _POS, "decision", "A value of this order is on an allow list."),
    FactSpec("list_block", 0, _NEG, "decision", "A value of this order is on a block list."),
    FactSpec("rule_allow", 0, _POS, "decision", "An allow rule matched."),
    FactSpec("rule_block", 0, _NEG, "decision", "A block rule matched."),
    FactSpec("rule_review", 0, _NEG, "decision", "A review rule matched."),
)

FACTS: Mapping[str, FactSpec] = MappingProxyType({spec.code: spec for spec in _SPECS})


PointsTable = Mapping[str, tuple[int, Sentiment]]


def points_table(overrides: Mapping[str, int]) -> PointsTable:
    """Points and sentiment per code with the merchant's overrides applied; an overridden value
    takes its sentiment from its sign (0 keeps a neutral or decision fact's own sentiment)."""
    table: dict[str, tuple[int, Sentiment]] = {}
    for code, spec in FACTS.items():
        points = overrides.get(code, spec.points)
        if points == spec.points:
            sentiment = spec.sentiment
        elif points > 0:
            sentiment = Sentiment.NEGATIVE
        elif points < 0:
            sentiment = Sentiment.POSITIVE
        else:
            sentiment = Sentiment.NEUTRAL
        table[code] = (points, sentiment)
    return MappingProxyType(table)


DEFAULT_POINTS = points_table({})


def make_reason(code: str, detail: str, table: PointsTable = DEFAULT_POINTS) -> Reason:
    points, sentiment = table[code]
    if len(detail) > DETAIL_MAX_CHARS:
        detail = detail[: DETAIL_MAX_CHARS - 1] + "…"
    return Reason(code, points, detail, sentiment)

"""What an assessment reads and what it returns: frozen values only, no behaviour beyond shaping.

Inputs (``OrderFacts``, ``History``, ``ListEntry``) are filled by the service from Saleor's
payloads and the app's own records; every optional part may be absent (no payments yet, a
guest, no shipping address for digital goods) and the assessment still scores what exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

# Shopify's RiskFact.description limit; our details stay within it so they can be mirrored.
DETAIL_MAX_CHARS = 256


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class Decision(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    REJECT = "reject"

    @property
    def severity(self) -> int:
        """0 approve, 1 review, 2 reject: for "never lowers the decision" comparisons."""
        return _SEVERITY[self]


_SEVERITY = {Decision.APPROVE: 0, Decision.REVIEW: 1, Decision.REJECT: 2}


class Stage(StrEnum):
    CREATED = "created"
    PAID = "paid"


class CheckResult(StrEnum):
    """An AVS or CVV result, normalised from card-network letters or PSP check words."""

    MATCH = "match"
    PARTIAL = "partial"
    MISMATCH = "mismatch"
    UNAVAILABLE = "unavailable"


class ListKind(StrEnum):
    EMAIL = "email"
    EMAIL_DOMAIN = "email_domain"
    IP = "ip"
    COUNTRY = "country"
    CARD = "card"
    CUSTOMER = "customer"


class VelocityDimension(StrEnum):
    EMAIL = "email"
    CARD = "card"
    IP = "ip"
    SHIPPING_ADDRESS = "shipping_address"


class ShippingLevel(StrEnum):
    """The service level read from the shipping method's name (see ``FraudPolicy`` keywords)."""

    STANDARD = "standard"
    EXPEDITED = "expedited"
    OVERNIGHT = "overnight"


@dataclass(frozen=True, slots=True)
class CheckEvidence:
    """A normalised AVS or CVV result and the raw value it came from ("avs_result=N")."""

    result: CheckResult
    source: str


@dataclass(frozen=True, slots=True)
class AddressFacts:
    country: str
    country_area: str = ""
    postal_code: str = ""
    city: str = ""
    street: str = ""  # street lines joined by the service ("7855 NW 37th St, Suite 1-12345")
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True, slots=True)
class CardFacts:
    """Card details where Saleor gives them (``TransactionItem.paymentMethodDetails``, legacy ``creditCard``).

    Every part is optional; parts missing here are read from the payment's metadata
    (``FraudPolicy.card_*_keys``) when a payment app left them there.
    """

    brand: str | None = None
    bin: str | None = None  # first 6-8 digits
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    country: str | None = None  # issuing country, ISO 3166-1 alpha-2


@dataclass(frozen=True, slots=True)
class PaymentInput:
    """A transaction's or payment's metadata (public and private merged by the service)."""

    metadata: Mapping[str, str]
    gateway: str | None = None
    card: CardFacts | None = None


@dataclass(frozen=True, slots=True)
class LineFacts:
    sku: str | None
    quantity: int
    unit_price: Decimal
    unit_cost: Decimal | None  # None = unknown: the margin-aware check is skipped


@dataclass(frozen=True, slots=True)
class OrderFacts:
    order_id: str
    channel: str
    currency: str
    total: Decimal  # what the customer pays, tax included
    net_total: Decimal  # the same without tax: what the store keeps before costs
    shipping_amount: Decimal
    lines: tuple[LineFacts, ...]
    email: str | None
    customer_id: str | None  # None = guest checkout
    customer_joined_at: datetime | None
    billing: AddressFacts | None
    shipping: AddressFacts | None  # None = nothing ships (digital goods)
    shipping_method: str | None  # its name
    payments: tuple[PaymentInput, ...]
    customer_ip: str | None
    # From a GeoIP lookup the service may make; else read from payment metadata (``ip_country``).
    customer_ip_country: str | None = None


@dataclass(frozen=True, slots=True)
class VelocityProbe:
    """One count the service must make: other orders with this value within the window.

    ``value`` is normalised: lower-cased email, ``"BIN:last4"`` (6-digit BIN), the IP in its
    compressed form, or the canonical shipping address (``velocity.canonical_address``).
    """

    dimension: VelocityDimension
    value: str
    window_hours: int


@dataclass(frozen=True, slots=True)
class History:
    store_order_count: int
    store_median_total: Decimal | None
    # Earlier orders of this customer (by account, or by email for guests) that were paid and nobody
    # held, rejected, disputed or refunded as fraud: only those build trust.
    customer_order_count: int
    customer_average_total: Decimal | None  # of those orders
    # OTHER orders seen for that probe within its window (excluding this order); a probe the
    # service did not count is read as 0.
    velocity: Mapping[VelocityProbe, int] = field(default_factory=dict)
    # Earlier orders of this customer that were rejected (and not approved by a person since), or
    # closed as refunded as fraud or disputed.
    customer_fraud_count: int = 0


@dataclass(frozen=True, slots=True)
class ListEntry:
    """An allow- or block-list item; build it with ``parse_list_entry`` so the value is normalised."""

    kind: ListKind
    value: str
    allow: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    points: int
    detail: str
    sentiment: Sentiment


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    order_id: str
    stage: Stage
    score: int
    decision: Decision
    reasons: tuple[Reason, ...]
    # What decided, stable for logs and the widget: "list:allow:email", "rule:block:<name>",
    # "threshold:reject>=75", "threshold:review>=65", "margin:expected loss 41.20 > margin 18.00",
    # "score:approve<65".
    deciding_rule: str
    probability: Decimal  # the score read as a chance of fraud, 0..1 (see scoring.probability_from_score)
    expected_loss: Decimal | None  # None when a line's cost is unknown
    margin: Decimal | None
    assessed_at: datetime
    review_threshold: int = 65
    reject_threshold: int = 75

    def to_metadata(self) -> dict[str, object]:
        """The ``ops.fraud`` private-metadata value (DESIGN.md contract, ``v`` 1), before JSON encoding."""
        return {
            "v": 1,
            "score": self.score,
            "decision": self.decision.value,
            "stage": self.stage.value,
            "reasons": [{"code": r.code, "points": r.points, "detail": r.detail} for r in self.reasons],
            "assessedAt": iso_utc(self.assessed_at),
        }


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``; a naive time is taken to be UTC already."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


class RulesInvalid(ValueError):
    """Rules refused as a whole; ``errors`` holds one message per problem (rule numbers are 1-based)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class ListEntryInvalid(ValueError):
    """A list entry refused, with the reason in the message."""


class FraudPolicyInvalid(ValueError):
    """A policy refused as a whole; ``errors`` holds one message per field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors

"""Pure builders of template context: no I/O, unit-tested without HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import format_currency

from app.domain.fraud import Sentiment
from app.domain.installation import Installation
from app.domain.inventory import CogsDocument
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent
from app.services.ports import FraudReview, SettingsChange, StoredAssessment
from app.services.shipping.model import OrderShipping

# Every order event the app subscribes to, in the order an order meets them.
EVENT_LABELS = {
    "order_created": "Order created",
    "order_paid": "Order paid",
    "order_fully_paid": "Order fully paid",
    "order_updated": "Order updated",
    "fulfillment_created": "Fulfilment created",
    "fulfillment_approved": "Fulfilment approved",
    "fulfillment_canceled": "Fulfilment cancelled",
    "order_fulfilled": "Order fulfilled",
}


def parse_locale(value: str | None) -> Locale:
    """The dashboard's locale (``en``, ``pt-BR``…), falling back to English."""
    try:
        return Locale.parse((value or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def local_time(moment: datetime, zone: ZoneInfo, locale: Locale) -> str:
    return format_datetime(moment, format="medium", tzinfo=zone, locale=locale)


@dataclass(frozen=True, slots=True)
class EventRow:
    label: str
    order_id: str
    order_number: str | None
    at: str


def event_rows(events: list[ReceivedOrderEvent], zone: ZoneInfo, locale: Locale) -> list[EventRow]:
    return [
        EventRow(
            label=EVENT_LABELS.get(e.event, e.event),
            order_id=e.order_id,
            order_number=e.order_number,
            at=local_time(e.issued_at, zone, locale),
        )
        for e in events
    ]


@dataclass(frozen=True, slots=True)
class FailedDeliveryView:
    label: str
    at: str
    errors: list[tuple[str, str]]  # Saleor's message, and the path it names


def failed_delivery_rows(failed: list[FailedDelivery], zone: ZoneInfo, locale: Locale) -> list[FailedDeliveryView]:
    """Deliveries Saleor could not render, each with Saleor's own message and path."""
    return [
        FailedDeliveryView(
            label=EVENT_LABELS.get(f.event, f.event),
            at=local_time(f.issued_at or f.received_at, zone, locale),
            errors=[(e.message, e.where) for e in f.errors],
        )
        for f in failed
    ]


def home_context(
    installation: Installation,
    recent: list[ReceivedOrderEvent],
    counts: dict[str, int],
    zone: ZoneInfo,
    locale: Locale,
) -> dict[str, object]:
    return {
        "installation": {
            "store": installation.saleor_api_url,
            "saleor_version": installation.saleor_version or "unknown",
            "installed_at": local_time(installation.installed_at, zone, locale),
            "revoked": installation.is_revoked,
        },
        "last_day": [(label, counts.get(event, 0)) for event, label in EVENT_LABELS.items()],
        "recent": event_rows(recent, zone, locale),
        "timezone": zone.key,
    }


@dataclass(frozen=True, slots=True)
class ChangeRow:
    at: str
    by: str
    section: str
    changes: list[tuple[str, str, str]]


def change_rows(
    history: list[SettingsChange], titles: dict[str, str], zone: ZoneInfo, locale: Locale
) -> list[ChangeRow]:
    """Each change as the fields that differ, with their value before and after."""
    rows = []
    for change in history:
        before, after = json.loads(change.before), json.loads(change.after)
        fields = [
            (name, json.dumps(before.get(name)), json.dumps(after.get(name)))
            for name in sorted(set(before) | set(after))
            if before.get(name) != after.get(name)
        ]
        rows.append(
            ChangeRow(
                at=local_time(change.changed_at, zone, locale),
                by=change.changed_by,
                section=titles.get(change.section, change.section),
                changes=fields,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class FactRow:
    detail: str
    points: int
    sentiment: str


@dataclass(frozen=True, slots=True)
class AssessmentView:
    stage: str
    score: int
    decision: str
    deciding_rule: str
    at: str
    facts: list[FactRow]


def assessment_view(assessment: StoredAssessment, zone: ZoneInfo, locale: Locale) -> AssessmentView:
    """Facts most telling first: risks (strongest first), then neutral facts, then what spoke for the order."""
    rank = {Sentiment.NEGATIVE: 0, Sentiment.NEUTRAL: 1, Sentiment.POSITIVE: 2}
    facts = sorted(assessment.reasons, key=lambda r: (rank[r.sentiment], -abs(r.points)))
    return AssessmentView(
        stage=assessment.stage.value,
        score=assessment.score,
        decision=assessment.decision,
        deciding_rule=assessment.deciding_rule,
        at=local_time(assessment.assessed_at, zone, locale),
        facts=[FactRow(r.detail, r.points, r.sentiment.value) for r in facts],
    )


@dataclass(frozen=True, slots=True)
class ReviewRow:
    order_id: str
    order_number: str
    opened_at: str
    total: str
    assessment: AssessmentView | None
    blockable: list[tuple[str, str]]  # (email|card|ip, value)
    held: str  # why: awaiting_payment (approved, its payment not yet seen) or open (in review)
    held_label: str


HELD_LABELS = {"awaiting_payment": "Waiting for payment", "open": "In review"}


def review_rows(
    reviews: list[FraudReview],
    assessments: dict[str, list[StoredAssessment]],
    identifiers: dict[str, dict[str, str]],
    zone: ZoneInfo,
    locale: Locale,
) -> list[ReviewRow]:
    rows = []
    for review in reviews:
        history = assessments.get(review.order_id, [])
        latest = history[-1] if history else None
        rows.append(
            ReviewRow(
                order_id=review.order_id,
                order_number=review.order_number,
                opened_at=local_time(review.opened_at, zone, locale),
                total=format_currency(latest.total, latest.currency, locale=locale) if latest else "",
                assessment=assessment_view(latest, zone, locale) if latest else None,
                blockable=[
                    (name, identifiers[review.order_id][name])
                    for name in ("email", "card", "ip")
                    if name in identifiers.get(review.order_id, {})
                ],
                held=review.status,
                held_label=HELD_LABELS.get(review.status, review.status),
            )
        )
    return rows


def decision_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(decision, counts.get(decision, 0)) for decision in ("approve", "review", "reject")]


@dataclass(frozen=True, slots=True)
class CogsLineView:
    sku: str
    quantity: int
    cogs: str
    layers: list[tuple[str, str]]  # (what it says, the receipt's id for a tooltip)


@dataclass(frozen=True, slots=True)
class CogsView:
    method: str
    revenue: str
    cogs: str
    margin: str
    margin_pct: str | None
    lines: list[CogsLineView]


def cogs_view(document: CogsDocument, locale: Locale) -> CogsView:
    """The order's ``ops.cogs`` for its card; amounts are already rounded to the currency."""
    currency = document["currency"]

    def money(text: str) -> str:
        return format_currency(Decimal(text), currency, locale=locale, decimal_quantization=False)

    return CogsView(
        method=document["method"].upper(),
        revenue=money(document["revenue"]),
        cogs=money(document["cogs"]),
        margin=money(document["grossMargin"]),
        margin_pct=document["marginPct"],
        lines=[
            CogsLineView(
                sku=line["sku"],
                quantity=line["quantity"],
                cogs=money(line["cogs"]),
                layers=[
                    (
                        f"{layer['quantity']} × {money(layer['unitCost'])}"
                        + ("" if layer["receiptId"] else " (provisional: sold before its receipt)"),
                        layer["receiptId"] or "",
                    )
                    for layer in line["layers"]
                ],
            )
            for line in document["lines"]
        ],
    )


@dataclass(frozen=True, slots=True)
class ShipmentView:
    source: str  # the warehouse's name, else its Saleor id
    service: str | None  # "UPS 2nd Day Air"; None when none could be chosen
    level: str
    amount: str
    estimated_delivery: str
    promised_by: str
    meets_promise: bool
    explanation: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShippingView:
    level: str
    decided_at: str
    needs_attention: bool
    checked_fulfillments: int
    shipments: list[ShipmentView]


def shipping_view(decision: OrderShipping, names: dict[str, str], zone: ZoneInfo, locale: Locale) -> ShippingView:
    """The services chosen for an order's shipments, each with its candidates kept and dropped."""
    shipments = []
    for shipment in decision.shipments:
        entry = shipment.entry or {}
        amount, currency = entry.get("amount"), entry.get("currency")
        shipments.append(
            ShipmentView(
                source=names.get(shipment.source, shipment.source),
                service=f"{entry['carrier']} {entry['service']}" if entry else None,
                level=str(entry.get("level", decision.level.value)),
                amount=format_currency(Decimal(str(amount)), str(currency), locale=locale) if amount else "",
                estimated_delivery=str(entry.get("estimatedDelivery", "")),
                promised_by=str(entry.get("promisedBy", "")),
                meets_promise=shipment.meets_promise,
                explanation=shipment.explanation,
            )
        )
    return ShippingView(
        level=decision.level.value,
        decided_at=local_time(decision.decided_at, zone, locale),
        needs_attention=decision.needs_attention,
        checked_fulfillments=len(decision.checked_fulfillments),
        shipments=shipments,
    )

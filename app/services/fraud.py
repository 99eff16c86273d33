"""Scoring an order when Saleor reports it, and the review queue where people decide held orders.

The domain decides (``assess_order_risk``); this shell gathers what it needs
(the store's history, velocity counts, lists, settings), keeps the assessment
once per order and stage, and writes the outcome back into Saleor.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.fraud import (
    Decision,
    History,
    ListEntry,
    OrderFacts,
    RiskAssessment,
    Sentiment,
    Stage,
    VelocityProbe,
    assess_order_risk,
    velocity_probes,
)
from app.domain.ids import SaleorApiUrl, SaleorId
from app.services.fraud_settings import FraudConfiguration, FraudSettings, configuration
from app.services.ports import CANCELLED_IN_SALEOR, FraudRepository, SaleorWriter, SettingsStore
from app.services.settings import SECTIONS, read_settings

log = logging.getLogger(__name__)

METADATA_KEY = "ops.fraud"
NOTE_REASONS = 3


class ReviewOutcome(StrEnum):
    """Why a review was closed: Stripe Radar's reasons, which analytics counts."""

    APPROVED = "approved"
    REFUNDED = "refunded"
    REFUNDED_AS_FRAUD = "refunded_as_fraud"
    DISPUTED = "disputed"


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """The order as the webhook showed it, besides the facts that are scored."""

    number: str
    status: str  # Saleor's OrderStatus, e.g. UNCONFIRMED


@dataclass(frozen=True, slots=True)
class Assessed:
    assessment: RiskAssessment
    actions: tuple[str, ...]  # what was done in Saleor, for logs and tests


@dataclass(frozen=True, slots=True)
class AlreadyAssessed:
    """A retry, or the second payment event of the same stage: nothing is done twice."""


@dataclass(frozen=True, slots=True)
class NotAssessed:
    reason: str


def note_for(assessment: RiskAssessment) -> str:
    negative = [r for r in assessment.reasons if r.sentiment is Sentiment.NEGATIVE]
    top = sorted(negative, key=lambda r: -r.points)[:NOTE_REASONS]
    reasons = "; ".join(f"{r.detail} (+{r.points})" for r in top) or "no risk signals"
    return (
        f"Saleor Ops fraud check ({assessment.stage.value}): score {assessment.score}/100, "
        f"{assessment.decision.value} [{assessment.deciding_rule}]. Top reasons: {reasons}."
    )


async def store_configuration(settings: SettingsStore, url: SaleorApiUrl) -> FraudConfiguration:
    stored_settings = await read_settings(settings, url, SECTIONS["fraud"])
    assert isinstance(stored_settings, FraudSettings)
    return configuration(stored_settings)


def counted_velocity(facts: OrderFacts, config: FraudConfiguration) -> tuple[VelocityProbe, ...]:
    """What assessing the order counts, and so locks (the pipeline locks a whole batch's first)."""
    return velocity_probes(facts, config.policy, config.rules)


class ScoredOn(StrEnum):
    """Which events score an order: its creation always; later events once a payment shows."""

    CREATION = "creation"
    PAYMENT = "payment"


async def assess_order(
    url: SaleorApiUrl,
    facts: OrderFacts,
    order: OrderSnapshot,
    *,
    scored_on: ScoredOn,
    fraud: FraudRepository,
    settings: SettingsStore,
    saleor: SaleorWriter,
    now: datetime,
) -> Assessed | AlreadyAssessed | NotAssessed:
    """Score the order at the stage its payload supports: ``paid`` once it shows a payment (a checkout
    order may arrive paid), else ``created``. An order its channel holds (UNCONFIRMED) is released only
    by an approval that saw its payment; approved before that, it waits for its payment event."""
    if order.status == "CANCELED":
        # Whoever cancelled it in Saleor decided it: it waits for no payment and no person any more.
        await fraud.close_as_cancelled(url, facts.order_id, order.number, at=now)
        return NotAssessed("cancelled")
    review = await fraud.review(url, facts.order_id)
    if review is not None and review.closed_reason == CANCELLED_IN_SALEOR:
        # Issued before the cancel, delivered after it: the order is gone, so nothing is written to it.
        return NotAssessed("cancelled")
    stage = Stage.PAID if facts.payments else Stage.CREATED
    if scored_on is ScoredOn.PAYMENT and stage is Stage.CREATED:
        return NotAssessed("no payment yet")
    # ORDER_UPDATED comes often: an order already assessed at this stage stops before any counting.
    if any(stored.stage is stage for stored in await fraud.assessments(url, facts.order_id)):
        return AlreadyAssessed()
    config = await store_configuration(settings, url)
    probes = counted_velocity(facts, config)
    # Recorded and counted in one step, so that orders arriving together count each other.
    counts, past = await fraud.record_velocity_and_history(
        url, probes, facts, at=now, count_to=config.policy.min_store_orders
    )
    history = History(
        store_order_count=past.store_order_count,
        store_median_total=past.store_median_total,
        customer_order_count=past.customer_order_count,
        customer_average_total=past.customer_average_total,
        velocity=counts,
        customer_fraud_count=past.customer_fraud_count,
    )
    lists = await fraud.list_entries(url)
    assessment = assess_order_risk(facts, history, lists, config.rules, config.policy, stage=stage, now=now)
    held = order.status == "UNCONFIRMED" and config.confirm_approved
    approved = assessment.decision is Decision.APPROVE
    # One assessment per order and stage, by a unique constraint: a concurrent retry stops here. An order
    # approved before its payment is held with it (one statement less where the database allows).
    if held and approved and stage is Stage.CREATED:
        new, held_for_payment = await fraud.save_assessment_and_hold(url, assessment, facts, order.number, at=now)
    else:
        new, held_for_payment = await fraud.save_assessment(url, assessment, facts, order.number), False
    if not new:
        return AlreadyAssessed()

    order_id = SaleorId(facts.order_id)
    # A person already holding this order is not overruled by a later approval.
    release = held and approved and stage is Stage.PAID and (review is None or review.status != "open")
    # Kept as an effect of this decision: it reaches Saleor after the commit, once.
    await saleor.record_fraud_decision(
        order_id, {METADATA_KEY: json.dumps(assessment.to_metadata())}, note_for(assessment), confirm=release
    )
    actions = ["metadata", "note", *(["confirmed"] if release else [])]
    if release:
        await fraud.release_hold(url, facts.order_id)
    elif held_for_payment:
        actions.append("held for payment")
    if not approved:
        if await fraud.open_review(url, facts.order_id, order.number, by=assessment.deciding_rule, at=now):
            actions.append("review opened")
        if assessment.decision is Decision.REJECT and config.cancel_rejected:
            await saleor.cancel_order(order_id)
            actions.append("cancelled")
    log.info(
        "order assessed",
        extra={
            "saleor_api_url": url,
            "order_id": facts.order_id,
            "stage": stage.value,
            "score": assessment.score,
            "decision": assessment.decision.value,
            "actions": actions,
        },
    )
    return Assessed(assessment, tuple(actions))


@dataclass(frozen=True, slots=True)
class ReviewClosed:
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReviewNotOpen:
    """The review was closed already (by someone else, or a double click)."""


async def decide_review(
    url: SaleorApiUrl,
    order_id: str,
    *,
    approve: bool,
    reason: ReviewOutcome,
    cancel: bool,
    note: str,
    by: str,
    fraud: FraudRepository,
    saleor: SaleorWriter,
    now: datetime,
    block: tuple[ListEntry, ...] = (),
) -> ReviewClosed | ReviewNotOpen:
    """A person closes a held order: approve confirms it in Saleor; reject may cancel it and block its details."""
    if not await fraud.close_review(url, order_id, reason=reason.value, by=by, at=now, note=note):
        return ReviewNotOpen()
    actions = []
    saleor_id = SaleorId(order_id)
    if approve:
        # Saleor refuses (INVALID) an order its channel never held; the dispatcher takes that as done.
        await saleor.confirm_order(saleor_id)
        actions.append("confirmed")
    elif cancel:
        await saleor.cancel_order(saleor_id)
        actions.append("cancelled")
    for entry in block:
        await fraud.add_list_entry(url, entry, by=by, at=now)
        actions.append(f"blocked {entry.kind.value}")
    verdict = "approved" if approve else "rejected"
    await saleor.add_order_note(saleor_id, f"Saleor Ops review {verdict} by {by} ({reason.value}). {note}".strip())
    return ReviewClosed(tuple(actions))

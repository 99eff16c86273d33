"""The assessment: facts → score → lists and rules → thresholds → margin-aware check.

Decision order (first step that decides wins; docs/fraud-scoring.md has the reasoning):

1. allow lists, then allow rules                      → approve
2. block lists, then block rules, then score ≥ reject → reject
3. review rules, then score ≥ review                  → review
4. expected loss > margin (any loss when margin ≤ 0)  → review
5. otherwise                                          → approve

The reject threshold sits in the block tier, as Radar's built-in "block if highest risk"
does, so a review rule never softens a rejection.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from app.domain.fraud.address import VALID_ADDRESS, FieldCheck, check_address
from app.domain.fraud.facts import make_reason
from app.domain.fraud.lists import ListMatch, build_list_indexes, match_allow, match_block
from app.domain.fraud.model import (
    AddressFacts,
    CardFacts,
    Decision,
    History,
    ListEntry,
    OrderFacts,
    Reason,
    RiskAssessment,
    ShippingLevel,
    Stage,
    VelocityDimension,
    VelocityProbe,
)
from app.domain.fraud.policy import FraudPolicy
from app.domain.fraud.rules import Action, Rule, RuleContext, first_match, rule_velocity_windows
from app.domain.fraud.signals import (
    AddressComparison,
    OrderSignals,
    above_customer_history,
    card_expired,
    derive_signals,
    high_value_threshold,
    high_value_unit_threshold,
    store_history_sufficient,
)
from app.domain.fraud.velocity import judge_velocity, probes_for, signal_values, velocity_values
from app.domain.money import currency_exponent

# The score read as a probability of fraud: a logistic curve through 50 % at 75 (the reject
# threshold, Radar's "highest" risk), the odds multiplying by e every 8 points.
# Reasons are immutable and most details repeat ("Guest checkout (no account)"): each policy
# keeps the ones it made, up to this many, instead of building them again.
REASON_CACHE_SIZE = 4096
_POINTS = operator.attrgetter("points")
# Facts whose detail names this order's own values (an IP, a card, an amount): caching those
# would only churn the cache.
_ONE_OFF = frozenset(
    {
        "card_details",
        "card_expired",
        "ip_country_match",
        "ip_country_mismatch",
        "ip_unknown",
        "new_account",
        "established_account",
        "high_value_order",
        "above_customer_history",
        "bulk_high_value_item",
        "rush_shipping_first_high_value",
        "shipping_reshipper",
        "velocity_email",
        "velocity_card",
        "velocity_ip",
        "velocity_shipping_address",
        "billing_postal_code_invalid",
        "shipping_postal_code_invalid",
        "billing_region_invalid",
        "shipping_region_invalid",
    }
)
PROBABILITY_MIDPOINT = 75
PROBABILITY_SPREAD = 8
_PROBABILITIES = tuple(
    Decimal(1 / (1 + math.exp(-(score - PROBABILITY_MIDPOINT) / PROBABILITY_SPREAD))).quantize(Decimal("0.000001"))
    for score in range(101)
)
_VELOCITY_WHAT = {
    VelocityDimension.EMAIL: "from this email",
    VelocityDimension.CARD: "with this card",
    VelocityDimension.IP: "from this IP address",
    VelocityDimension.SHIPPING_ADDRESS: "to this shipping address",
}


def probability_from_score(score: int) -> Decimal:
    """0..100 → chance of fraud (6 decimals): 10 → 0.000297, 65 → 0.222700, 75 → 0.5, 90 → 0.867036."""
    return _PROBABILITIES[max(0, min(100, score))]


def threshold_decision(score: int, review_threshold: int, reject_threshold: int) -> Decision:
    """The decision thresholds alone would make."""
    if score >= reject_threshold:
        return Decision.REJECT
    if score >= review_threshold:
        return Decision.REVIEW
    return Decision.APPROVE


def velocity_probes(facts: OrderFacts, policy: FraudPolicy, rules: Sequence[Rule] = ()) -> tuple[VelocityProbe, ...]:
    """What the service must count before assessing: each policy limit, and each window the rules
    read, for every value the order has (email, each card, IP, shipping address)."""
    windows = [(limit.dimension, limit.window_hours) for limit in policy.velocity]
    windows += rule_velocity_windows(rules, policy)
    return probes_for(velocity_values(facts, policy), windows)


@lru_cache(maxsize=256)
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_exponent(currency))


def _money(amount: Decimal, currency: str) -> Decimal:
    """Rounded half-up to the currency's minor unit (Saleor's rule), for display and the record."""
    return amount.quantize(_quantum(currency), rounding=ROUND_HALF_UP)


class _Reasons:
    """Collects reasons with the policy's point overrides applied."""

    __slots__ = ("cache", "items", "table")

    def __init__(self, policy: FraudPolicy) -> None:
        self.items: list[Reason] = []
        self.table = policy.derived.points
        self.cache = policy.derived.reasons

    def add(self, code: str, detail: str) -> None:
        if code in _ONE_OFF:
            self.items.append(make_reason(code, detail, self.table))
            return
        key = (code, detail)
        reason = self.cache.get(key)
        if reason is None:
            reason = make_reason(code, detail, self.table)
            if len(self.cache) >= REASON_CACHE_SIZE:
                self.cache.clear()
            self.cache[key] = reason
        self.items.append(reason)


# -- facts --------------------------------------------------------------------------------------


def _payment_facts(out: _Reasons, signals: OrderSignals, facts: OrderFacts, now: datetime) -> None:
    if signals.avs is None or signals.cvv is None:
        if signals.stage is Stage.CREATED:
            out.add("payment_pending", "No payment yet; AVS and CVV are judged when the order is paid")
        else:
            out.add("payment_pending", "Paid, but no payment data reached the app; AVS and CVV unknown")
    else:
        # StrEnum members are str: concatenation reads their value without the Enum machinery.
        avs, cvv = signals.avs, signals.cvv
        out.add("avs_" + avs.result, "AVS " + avs.result + " (" + avs.source + ")")
        out.add("cvv_" + cvv.result, "CVV " + cvv.result + " (" + cvv.source + ")")
    if signals.cards:
        out.add("card_details", "; ".join([_describe_card(card) for card in signals.cards]))
        for card in signals.cards:
            if card_expired(card, now):
                out.add("card_expired", f"Card ending {card.last4} expired {card.exp_month:02d}/{card.exp_year}")
                break
        if len(signals.cards) > 1:
            out.add("multiple_cards", f"{len(signals.cards)} different cards on this order")
    reference = signals.reference_country
    if reference:
        foreign = [country for country in signals.card_countries if country != reference]
        if foreign:
            out.add("card_country_mismatch", f"Card issued in {foreign[0]}, billing address in {reference}")
    if signals.ip is None:
        detail = f"Customer IP {facts.customer_ip!r} is not an IP address" if facts.customer_ip else "No customer IP"
        out.add("ip_unknown", detail)
    elif signals.ip_country and reference:
        if signals.ip_country == reference:
            out.add("ip_country_match", f"IP {signals.ip} is in {signals.ip_country}, like the billing address")
        else:
            out.add(
                "ip_country_mismatch",
                f"IP {signals.ip} is in {signals.ip_country}, billing address in {reference}",
            )


def _describe_card(card: CardFacts) -> str:
    parts = [card.brand.title() if card.brand else "Card", f"{card.bin or '??????'}…{card.last4}"]
    if card.exp_month is not None and card.exp_year is not None:
        parts.append(f"expires {card.exp_month:02d}/{card.exp_year}")
    if card.country:
        parts.append(f"issued in {card.country}")
    return " ".join(parts)


def _address_field_facts(out: _Reasons, which: str, address: AddressFacts) -> None:
    check = check_address(address)
    if check is VALID_ADDRESS:  # the usual case: nothing to say
        return
    label = which.capitalize()
    country = address.country.strip().upper()
    if not check.country_known:
        out.add(f"{which}_country_invalid", f"{label} country {country!r} is not a known country")
        return
    region, postal = address.country_area.strip(), address.postal_code.strip()
    if check.region is FieldCheck.INVALID:
        out.add(f"{which}_region_invalid", f"{label} region {region!r} is not a region of {country}")
    elif check.region is FieldCheck.MISSING:
        out.add(f"{which}_region_invalid", f"{label} region is missing (required in {country})")
    if check.postal_code is FieldCheck.INVALID:
        where = f"{country}/{region}" if region and check.region is FieldCheck.VALID else country
        out.add(f"{which}_postal_code_invalid", f"{label} postal code {postal!r} is not valid for {where}")
    elif check.postal_code is FieldCheck.MISSING:
        out.add(f"{which}_postal_code_invalid", f"{label} postal code is missing (required in {country})")


def _address_facts(out: _Reasons, signals: OrderSignals, facts: OrderFacts) -> None:
    billing, shipping = facts.billing, facts.shipping
    if billing is None:
        out.add("billing_address_missing", "No billing address")
    else:
        _address_field_facts(out, "billing", billing)
    if shipping is None:
        out.add("shipping_address_missing", "No shipping address: nothing ships (digital goods)")
        return
    _address_field_facts(out, "shipping", shipping)
    comparison = signals.billing_vs_shipping
    if comparison is AddressComparison.COUNTRY_MISMATCH:
        assert billing is not None
        out.add(
            "billing_shipping_country_mismatch",
            f"Billing in {billing.country.strip().upper()}, shipping to {shipping.country.strip().upper()}",
        )
    elif comparison is AddressComparison.DIFFER:
        out.add(
            "billing_shipping_differ", "Billing and shipping are in the same country, another region or postal code"
        )
    elif comparison is AddressComparison.MATCH:
        out.add("billing_shipping_match", "Billing and shipping share country, region and postal code")
    if signals.reshipper:
        out.add(
            "shipping_reshipper",
            f"Ships to a known reshipper address: {shipping.street}, {shipping.postal_code} {shipping.country}",
        )


def _customer_facts(
    out: _Reasons, signals: OrderSignals, facts: OrderFacts, history: History, policy: FraudPolicy
) -> None:
    if signals.is_guest:
        out.add("guest_checkout", "Guest checkout (no account)")
    if history.customer_fraud_count > 0:
        many = history.customer_fraud_count > 1
        out.add(
            "fraud_history",
            f"{history.customer_fraud_count} earlier order{'s' if many else ''} of this customer "
            f"{'were' if many else 'was'} rejected, cancelled, refunded as fraud or disputed",
        )
    count = signals.customer_order_count
    if count == 0:
        out.add("first_order", "No earlier paid order from this customer")
    elif count >= policy.loyal_customer_orders:
        out.add("loyal_customer", f"{count} earlier orders")
    else:
        out.add("returning_customer", f"{count} earlier order{'s' if count > 1 else ''}")
    hours = signals.account_age_hours
    if hours is not None:
        if hours < policy.new_account_hours:
            out.add("new_account", f"Account created {int(hours)} h before the order")
        elif hours >= policy.established_account_days * 24:
            out.add("established_account", f"Account {int(hours // 24)} days old")
    if signals.email is None:
        detail = f"Email {facts.email!r} is not a valid address" if facts.email else "No email address"
        out.add("email_missing", detail)
    elif signals.disposable_email:
        out.add("disposable_email", f"{signals.email_domain} is a disposable-mail domain")
    if signals.email_name_match is True:
        out.add("email_matches_name", "The email address contains the customer's name")
    elif signals.email_name_match is False:
        out.add("email_name_mismatch", "The email address shares nothing with the customer's name")


def _order_facts(
    out: _Reasons, signals: OrderSignals, facts: OrderFacts, history: History, policy: FraudPolicy
) -> None:
    currency = facts.currency
    total = facts.total
    median = history.store_median_total
    sufficient = store_history_sufficient(history, policy)
    if not sufficient:
        out.add(
            "store_history_thin",
            f"{history.store_order_count} earlier store orders; order value is compared from {policy.min_store_orders}",
        )
    threshold = high_value_threshold(history, policy)
    unit_threshold = high_value_unit_threshold(history, policy)
    high_value = threshold is not None and total >= threshold
    if high_value:
        assert threshold is not None
        if sufficient:
            assert median is not None
            detail = (
                f"Total {_money(total, currency)} is {total / median:.1f}x the store's median order "
                f"({_money(median, currency)})"
            )
        else:
            detail = f"Total {_money(total, currency)} is at least the high-value amount {_money(threshold, currency)}"
        out.add("high_value_order", detail)
    if above_customer_history(total, history, policy):
        average = history.customer_average_total or Decimal(1)
        out.add(
            "above_customer_history",
            f"Total {_money(total, currency)} is {total / average:.1f}x this customer's average "
            f"({_money(average, currency)})",
        )
    if unit_threshold is not None and unit_threshold > 0:
        bulk = None
        for line in facts.lines:
            if (
                line.quantity >= policy.bulk_quantity
                and line.unit_price >= unit_threshold
                and (bulk is None or line.unit_price * line.quantity > bulk.unit_price * bulk.quantity)
            ):
                bulk = line
        if bulk is not None:
            out.add(
                "bulk_high_value_item",
                f"{bulk.quantity} x {bulk.sku or 'an item'} at {_money(bulk.unit_price, currency)} each "
                f"(high-value items cost {_money(unit_threshold, currency)} or more)",
            )
    if high_value and signals.first_order and signals.shipping_level is not ShippingLevel.STANDARD:
        out.add(
            "rush_shipping_first_high_value",
            f"{signals.shipping_level.value.capitalize()} shipping ({facts.shipping_method}) "
            f"on a first order of {_money(total, currency)}",
        )


def _velocity_facts(
    out: _Reasons, values: Mapping[VelocityDimension, tuple[str, ...]], history: History, policy: FraudPolicy
) -> None:
    for dimension, breach in judge_velocity(values, history, policy).items():
        out.add(
            f"velocity_{dimension.value}",
            f"{breach.orders} orders {_VELOCITY_WHAT[dimension]} within {breach.limit.window_hours} h "
            f"(limit {breach.limit.max_orders})",
        )


def fact_reasons(
    signals: OrderSignals,
    facts: OrderFacts,
    history: History,
    policy: FraudPolicy,
    now: datetime,
    velocity: Mapping[VelocityDimension, tuple[str, ...]] | None = None,
) -> list[Reason]:
    """Every fact of the order, ``baseline`` first."""
    out = _Reasons(policy)
    out.add("baseline", "Every order starts here")
    _payment_facts(out, signals, facts, now)
    _address_facts(out, signals, facts)
    _customer_facts(out, signals, facts, history, policy)
    _order_facts(out, signals, facts, history, policy)
    _velocity_facts(out, signal_values(signals) if velocity is None else velocity, history, policy)
    return out.items


def score_of(reasons: Sequence[Reason]) -> int:
    return max(0, min(100, sum([reason.points for reason in reasons])))


# -- margin -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Economics:
    """Margin and expected fraud loss in the order's currency, rounded to its minor unit."""

    margin: Decimal | None
    expected_loss: Decimal | None
    unknown_cost_skus: tuple[str, ...] = ()


def order_economics(facts: OrderFacts, probability: Decimal, policy: FraudPolicy) -> Economics:
    """margin = net total − Σ unit_cost × qty − fees (tax is not the store's to keep); expected loss =
    probability × (COGS + shipping + fees) × fraud cost multiplier; fees = total × rate + fixed (the
    processor charges on what is paid). Unknown cost → both ``None``."""
    cogs = Decimal(0)
    unknown: list[str] = []
    for line in facts.lines:
        if line.unit_cost is None:
            unknown.append(line.sku or "an item")
        else:
            cogs += line.unit_cost * line.quantity
    if unknown:
        return Economics(None, None, tuple(unknown))
    fees = facts.total * policy.payment_fee_rate + policy.payment_fee_fixed
    margin = facts.net_total - cogs - fees
    exposure = cogs + facts.shipping_amount + fees
    expected_loss = probability * exposure * policy.fraud_cost_multiplier
    return Economics(_money(margin, facts.currency), _money(expected_loss, facts.currency))


# -- decision -----------------------------------------------------------------------------------


def _list_detail(match: ListMatch, side: str) -> str:
    return f"{match.kind.value} {', '.join(match.values)} is on the {side} list"


def _rule_detail(rule: Rule) -> str:
    return f"Rule {rule.name!r} ({rule.action})" + (f": {rule.description}" if rule.description else "")


def assess_order_risk(
    facts: OrderFacts,
    history: History,
    lists: Sequence[ListEntry],
    rules: Sequence[Rule],
    policy: FraudPolicy,
    *,
    stage: Stage,
    now: datetime,
) -> RiskAssessment:
    """Score the order on what it has and decide; see the module docstring for the order of steps.

    ``now`` must be timezone-aware (it dates the assessment and ages accounts and cards).
    """
    if now.utcoffset() is None:  # naive, or a tzinfo that does not know its offset
        raise ValueError("now must be a timezone-aware datetime")
    signals = derive_signals(facts, history, policy, stage=stage, now=now)
    values = signal_values(signals)
    reasons = fact_reasons(signals, facts, history, policy, now, values)
    score = score_of(reasons)
    probability = probability_from_score(score)
    economics = order_economics(facts, probability, policy)
    review_at, reject_at = policy.thresholds_for(facts.channel)
    overrides = policy.derived.points
    margin_reasons: list[Reason] = []
    if economics.unknown_cost_skus:
        skus = ", ".join(dict.fromkeys(economics.unknown_cost_skus))
        margin_reasons.append(
            make_reason("margin_unknown", f"Cost unknown for {skus}: margin check skipped", overrides)
        )
    elif economics.margin is not None and economics.margin <= 0:
        margin_reasons.append(
            make_reason(
                "margin_not_positive",
                f"Margin {economics.margin} <= 0: any fraud on this order is a pure loss",
                overrides,
            )
        )

    indexes = build_list_indexes(lists)
    context: RuleContext | None = None
    if rules:
        context = RuleContext(signals, score, economics.margin, history, policy, indexes, values)

    def rule_for(action: Action) -> Rule | None:
        return None if context is None else first_match(rules, action, context)

    decision: Decision
    deciding: str
    decided_by: Reason | None = None
    if (allowed := match_allow(indexes, signals)) is not None:
        decision, deciding = Decision.APPROVE, f"list:allow:{allowed.kind.value}"
        decided_by = make_reason("list_allow", _list_detail(allowed, "allow"), overrides)
    elif (rule := rule_for("allow")) is not None:
        decision, deciding = Decision.APPROVE, f"rule:allow:{rule.name}"
        decided_by = make_reason("rule_allow", _rule_detail(rule), overrides)
    elif (blocked := match_block(indexes, signals)) is not None:
        decision, deciding = Decision.REJECT, f"list:block:{blocked.kind.value}"
        decided_by = make_reason("list_block", _list_detail(blocked, "block"), overrides)
    elif (rule := rule_for("block")) is not None:
        decision, deciding = Decision.REJECT, f"rule:block:{rule.name}"
        decided_by = make_reason("rule_block", _rule_detail(rule), overrides)
    elif score >= reject_at:
        decision, deciding = Decision.REJECT, f"threshold:reject>={reject_at}"
    elif (rule := rule_for("review")) is not None:
        decision, deciding = Decision.REVIEW, f"rule:review:{rule.name}"
        decided_by = make_reason("rule_review", _rule_detail(rule), overrides)
    elif score >= review_at:
        decision, deciding = Decision.REVIEW, f"threshold:review>={review_at}"
    elif (
        # A loss-making order has nothing to cover any expected loss: it is held like a thin one.
        economics.margin is not None
        and economics.expected_loss is not None
        and economics.expected_loss > economics.margin
    ):
        decision = Decision.REVIEW
        deciding = f"margin:expected loss {economics.expected_loss} > margin {economics.margin}"
        decided_by = make_reason(
            "expected_loss_exceeds_margin",
            f"Expected loss {economics.expected_loss} (fraud chance {probability * 100:.2f}% of the cost at stake "
            f"x {policy.fraud_cost_multiplier}) exceeds the margin {economics.margin}",
            overrides,
        )
    else:
        decision, deciding = Decision.APPROVE, f"score:approve<{review_at}"

    ordered = sorted(reasons, key=_POINTS, reverse=True)  # stable: ties keep their order
    head = [decided_by] if decided_by is not None else []
    return RiskAssessment(  # positional, in field order: this runs once per assessment
        facts.order_id,
        stage,
        score,
        decision,
        tuple(head + ordered + margin_reasons),
        deciding,
        probability,
        economics.expected_loss,
        economics.margin,
        now,
        review_at,
        reject_at,
    )

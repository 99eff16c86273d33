from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from app.domain.fraud import (
    CardFacts,
    Decision,
    FraudPolicy,
    History,
    ListEntry,
    OrderFacts,
    PaymentInput,
    RiskAssessment,
    Rule,
    Sentiment,
    Stage,
    VelocityDimension,
    VelocityProbe,
    assess_order_risk,
    parse_list_entry,
    parse_rules,
    probability_from_score,
    threshold_decision,
)
from app.domain.fraud.facts import FACTS
from app.domain.fraud.scoring import order_economics
from tests.unit.domain.fraud.builders import (
    NOW,
    make_address,
    make_guest_order,
    make_history,
    make_line,
    make_order,
    make_payment,
)

POLICY = FraudPolicy(
    reshipper_addresses=(make_address(street="7855 NW 37th St", postal_code="33166", country_area="FL"),)
)
QUIET_POINTS = -46  # the facts of make_order() without the baseline


def assess(
    order: OrderFacts | None = None,
    history: History | None = None,
    lists: Sequence[ListEntry] = (),
    rules: Sequence[Rule] = (),
    policy: FraudPolicy = POLICY,
    stage: Stage = Stage.PAID,
    now: datetime = NOW,
) -> RiskAssessment:
    return assess_order_risk(
        order or make_order(), history or make_history(), lists, rules, policy, stage=stage, now=now
    )


def codes(assessment: RiskAssessment) -> dict[str, int]:
    return {reason.code: reason.points for reason in assessment.reasons}


def detail(assessment: RiskAssessment, code: str) -> str:
    return next(reason.detail for reason in assessment.reasons if reason.code == code)


QUIET_CODES = (
    "email_matches_name",
    "ip_country_match",
    "billing_shipping_match",
    "established_account",
    "returning_customer",
    "avs_match",
    "cvv_match",
)


def with_score(score: int, **overrides: Any) -> FraudPolicy:
    """A policy under which the quiet order (make_order()) scores exactly ``score``."""
    return FraudPolicy(fact_points={"baseline": score, **dict.fromkeys(QUIET_CODES, 0)}, **overrides)


class TestQuietOrder:
    def test_a_verified_returning_customer_scores_zero_and_is_approved(self) -> None:
        assessment = assess()
        assert (assessment.score, assessment.decision, assessment.deciding_rule) == (
            0,
            Decision.APPROVE,
            "score:approve<65",
        )
        assert codes(assessment) == {
            "baseline": 10,
            "card_details": 0,
            "email_matches_name": -3,
            "ip_country_match": -5,
            "billing_shipping_match": -5,
            "established_account": -5,
            "returning_customer": -8,
            "avs_match": -10,
            "cvv_match": -10,
        }
        assert sum(codes(assessment).values()) - 10 == QUIET_POINTS

    def test_reasons_are_ordered_by_points(self) -> None:
        points = [reason.points for reason in assess(make_guest_order(email="x@mailinator.com")).reasons]
        assert points == sorted(points, reverse=True)

    def test_records_the_numbers_behind_the_decision(self) -> None:
        assessment = assess()
        assert (assessment.order_id, assessment.stage) == ("T3JkZXI6MQ==", Stage.PAID)
        assert assessment.probability == probability_from_score(0)
        assert assessment.margin == Decimal("37.96")  # 60 - 2 x 10.00 cost - (60 x 2.9% + 0.30)
        assert assessment.expected_loss == Decimal("0.01")
        assert (assessment.review_threshold, assessment.reject_threshold) == (65, 75)
        assert assessment.assessed_at == NOW


class TestPaymentFacts:
    @pytest.mark.parametrize(
        ("metadata", "expected"),
        [
            pytest.param({"avs_result": "A", "cvv_result": "M"}, {"avs_partial": 5, "cvv_match": -10}, id="partial"),
            pytest.param(
                {"avs_result": "N", "cvv_result": "N"}, {"avs_mismatch": 20, "cvv_mismatch": 30}, id="mismatch"
            ),
            pytest.param(
                {"avs_result": "U", "cvv_result": "P"}, {"avs_unavailable": 0, "cvv_unavailable": 0}, id="unavailable"
            ),
            pytest.param({}, {"avs_unavailable": 0, "cvv_unavailable": 0}, id="no-keys"),
            pytest.param(
                {"address_line1_check": "fail", "address_postal_code_check": "fail", "cvc_check": "fail"},
                {"avs_mismatch": 20, "cvv_mismatch": 30},
                id="stripe-words",
            ),
        ],
    )
    def test_avs_and_cvv_facts(self, metadata: dict[str, str], expected: dict[str, int]) -> None:
        found = codes(assess(make_order(payments=(make_payment(metadata),))))
        assert {code: found[code] for code in expected} == expected

    def test_mismatch_detail_names_the_source(self) -> None:
        assessment = assess(make_order(payments=(make_payment({"avs_result": "N", "cvv_result": "M"}),)))
        assert detail(assessment, "avs_mismatch") == "AVS mismatch (avs_result=N)"

    @pytest.mark.parametrize(
        ("stage", "text"),
        [
            pytest.param(Stage.CREATED, "No payment yet; AVS and CVV are judged when the order is paid", id="created"),
            pytest.param(Stage.PAID, "Paid, but no payment data reached the app; AVS and CVV unknown", id="paid"),
        ],
    )
    def test_no_payment_is_pending_not_suspicious(self, stage: Stage, text: str) -> None:
        assessment = assess(make_order(payments=()), stage=stage)
        assert detail(assessment, "payment_pending") == text
        assert "avs_match" not in codes(assessment)
        assert "card_details" not in codes(assessment)

    def test_card_details_for_the_reviewer(self) -> None:
        assert detail(assess(), "card_details") == "Visa 424242…4242 expires 12/2028 issued in US"
        bare = make_payment(card=CardFacts(last4="1111"))
        assert detail(assess(make_order(payments=(bare,))), "card_details") == "Card ??????…1111"

    def test_expired_card(self) -> None:
        expired = make_payment(card=CardFacts(bin="424242", last4="4242", exp_month=10, exp_year=2026))
        assessment = assess(make_order(payments=(expired,)))
        assert detail(assessment, "card_expired") == "Card ending 4242 expired 10/2026"

    def test_several_cards(self) -> None:
        second = make_payment(card=CardFacts(bin="555555", last4="1111", country="US"))
        assert codes(assess(make_order(payments=(make_payment(), second))))["multiple_cards"] == 10

    def test_card_from_another_country(self) -> None:
        foreign = make_payment(card=CardFacts(bin="454545", last4="4545", country="GB"))
        assessment = assess(make_order(payments=(foreign,)))
        assert detail(assessment, "card_country_mismatch") == "Card issued in GB, billing address in US"

    @pytest.mark.parametrize(
        ("ip", "text"),
        [
            pytest.param(None, "No customer IP", id="none"),
            pytest.param("localhost", "Customer IP 'localhost' is not an IP address", id="unreadable"),
        ],
    )
    def test_unknown_ip(self, ip: str | None, text: str) -> None:
        assert detail(assess(make_order(customer_ip=ip)), "ip_unknown") == text

    def test_ip_in_another_country(self) -> None:
        assessment = assess(make_order(customer_ip_country="NG"))
        assert detail(assessment, "ip_country_mismatch") == "IP 203.0.113.7 is in NG, billing address in US"

    def test_ip_country_unknown_says_nothing(self) -> None:
        found = codes(assess(make_order(customer_ip_country=None)))
        assert "ip_country_match" not in found
        assert "ip_country_mismatch" not in found


class TestAddressFacts:
    def test_billing_and_shipping_in_different_countries(self) -> None:
        shipping = make_address(country="GB", country_area="", postal_code="N8 7NB", street="12 Hawthorn Rd")
        assessment = assess(make_order(shipping=shipping))
        assert detail(assessment, "billing_shipping_country_mismatch") == "Billing in US, shipping to GB"

    def test_same_country_other_region(self) -> None:
        shipping = make_address(country_area="NY", postal_code="10001")
        assert codes(assess(make_order(shipping=shipping)))["billing_shipping_differ"] == 5

    @pytest.mark.parametrize(
        ("shipping", "code", "text"),
        [
            pytest.param(
                make_address(postal_code="1234"),
                "shipping_postal_code_invalid",
                "Shipping postal code '1234' is not valid for US/CA",
                id="invalid-zip",
            ),
            pytest.param(
                make_address(postal_code=""),
                "shipping_postal_code_invalid",
                "Shipping postal code is missing (required in US)",
                id="missing-zip",
            ),
            pytest.param(
                make_address(country_area="XX", postal_code="123"),
                "shipping_postal_code_invalid",
                "Shipping postal code '123' is not valid for US",
                id="invalid-zip-unknown-state",
            ),
            pytest.param(
                make_address(country_area="XX"),
                "shipping_region_invalid",
                "Shipping region 'XX' is not a region of US",
                id="invalid-state",
            ),
            pytest.param(
                make_address(country_area=""),
                "shipping_region_invalid",
                "Shipping region is missing (required in US)",
                id="missing-state",
            ),
            pytest.param(
                make_address(country="XY"),
                "shipping_country_invalid",
                "Shipping country 'XY' is not a known country",
                id="unknown-country",
            ),
        ],
    )
    def test_shipping_address_validity(self, shipping: Any, code: str, text: str) -> None:
        assessment = assess(make_order(shipping=shipping))
        assert detail(assessment, code) == text
        assert codes(assessment)[code] == FACTS[code].points

    @pytest.mark.parametrize(
        ("billing", "code"),
        [
            pytest.param(make_address(postal_code="ABC"), "billing_postal_code_invalid", id="zip"),
            pytest.param(make_address(country_area="Narnia"), "billing_region_invalid", id="state"),
            pytest.param(make_address(country="QQ"), "billing_country_invalid", id="country"),
        ],
    )
    def test_billing_address_validity(self, billing: Any, code: str) -> None:
        assert code in codes(assess(make_order(billing=billing)))

    def test_valid_addresses_add_nothing(self) -> None:
        assert not [code for code in codes(assess()) if code.endswith("_invalid")]

    def test_reshipper(self) -> None:
        forwarder = make_address(street="7855 NW 37th St, Suite 1-12345", postal_code="33166", country_area="FL")
        assessment = assess(make_order(shipping=forwarder))
        assert detail(assessment, "shipping_reshipper") == (
            "Ships to a known reshipper address: 7855 NW 37th St, Suite 1-12345, 33166 US"
        )
        assert codes(assessment)["shipping_reshipper"] == 25

    def test_digital_goods_without_shipping(self) -> None:
        found = codes(assess(make_order(shipping=None, shipping_method=None)))
        assert found["shipping_address_missing"] == 0
        assert "billing_shipping_match" not in found

    def test_no_billing_address(self) -> None:
        assert codes(assess(make_order(billing=None)))["billing_address_missing"] == 0


class TestCustomerFacts:
    def test_guest_first_order(self) -> None:
        found = codes(assess(make_guest_order(), make_history(customer_order_count=0)))
        assert (found["guest_checkout"], found["first_order"]) == (5, 5)
        assert "established_account" not in found
        assert "returning_customer" not in found

    def test_earlier_rejections_add_risk_and_are_not_a_first_order(self) -> None:
        found = {
            reason.code: reason
            for reason in assess(history=make_history(customer_order_count=0, customer_fraud_count=2)).reasons
        }
        assert found["fraud_history"].points == 25
        assert found["fraud_history"].detail == (
            "2 earlier orders of this customer were rejected, cancelled, refunded as fraud or disputed"
        )
        assert found["first_order"].detail == "No earlier paid order from this customer"

    def test_a_clean_history_says_nothing_of_fraud(self) -> None:
        assert "fraud_history" not in codes(assess())

    @pytest.mark.parametrize(
        ("count", "code", "text"),
        [
            pytest.param(1, "returning_customer", "1 earlier order", id="one"),
            pytest.param(4, "returning_customer", "4 earlier orders", id="four"),
            pytest.param(5, "loyal_customer", "5 earlier orders", id="five"),
        ],
    )
    def test_returning_and_loyal(self, count: int, code: str, text: str) -> None:
        assert detail(assess(history=make_history(customer_order_count=count)), code) == text

    @pytest.mark.parametrize(
        ("age", "code", "text"),
        [
            pytest.param(timedelta(hours=3), "new_account", "Account created 3 h before the order", id="new"),
            pytest.param(timedelta(days=30), None, None, id="middle-aged-says-nothing"),
            pytest.param(timedelta(days=180), "established_account", "Account 180 days old", id="established"),
        ],
    )
    def test_account_age(self, age: timedelta, code: str | None, text: str | None) -> None:
        assessment = assess(make_order(customer_joined_at=NOW - age))
        found = codes(assessment)
        if code is None:
            assert "new_account" not in found
            assert "established_account" not in found
        else:
            assert detail(assessment, code) == text

    def test_disposable_email(self) -> None:
        assessment = assess(make_order(email="deals4821@mailinator.com"))
        assert detail(assessment, "disposable_email") == "mailinator.com is a disposable-mail domain"
        assert codes(assessment)["email_name_mismatch"] == 4

    @pytest.mark.parametrize(
        ("email", "text"),
        [
            pytest.param(None, "No email address", id="none"),
            pytest.param("john at example", "Email 'john at example' is not a valid address", id="invalid"),
        ],
    )
    def test_missing_email(self, email: str | None, text: str) -> None:
        assessment = assess(make_order(email=email))
        assert detail(assessment, "email_missing") == text
        assert "email_matches_name" not in codes(assessment)


class TestOrderFacts:
    def test_high_value_against_the_store_median(self) -> None:
        assessment = assess(make_order(total=Decimal("200.00")))
        assert detail(assessment, "high_value_order") == "Total 200.00 is 4.0x the store's median order (50.00)"

    def test_just_below_high_value_says_nothing(self) -> None:
        assert "high_value_order" not in codes(assess(make_order(total=Decimal("149.99"))))

    def test_thin_store_history(self) -> None:
        history = make_history(store_order_count=3)
        assessment = assess(make_order(total=Decimal("900")), history)
        assert detail(assessment, "store_history_thin") == "3 earlier store orders; order value is compared from 20"
        assert "high_value_order" not in codes(assessment)

    def test_fixed_high_value_amount_while_history_is_thin(self) -> None:
        policy = FraudPolicy(high_value_order_total=Decimal("500"))
        assessment = assess(make_order(total=Decimal("900")), make_history(store_order_count=3), policy=policy)
        assert detail(assessment, "high_value_order") == "Total 900.00 is at least the high-value amount 500.00"

    def test_above_the_customers_own_history(self) -> None:
        assessment = assess(make_order(total=Decimal("120")), make_history(customer_average_total=Decimal("30")))
        assert detail(assessment, "above_customer_history") == "Total 120.00 is 4.0x this customer's average (30.00)"

    def test_many_units_of_a_high_value_item(self) -> None:
        lines = (
            make_line(sku="MCH-BGRIND", quantity=3, unit_price=Decimal("249.00"), unit_cost=Decimal("150")),
            make_line(sku="BRW-SCALE", quantity=5, unit_price=Decimal("60.00"), unit_cost=Decimal("30")),
            make_line(sku="MUG", quantity=9, unit_price=Decimal("12.00"), unit_cost=Decimal("4")),
        )
        assessment = assess(make_order(lines=lines, total=Decimal("1155")))
        assert detail(assessment, "bulk_high_value_item") == (
            "3 x MCH-BGRIND at 249.00 each (high-value items cost 50.00 or more)"
        )

    def test_two_units_are_not_bulk(self) -> None:
        lines = (make_line(quantity=2, unit_price=Decimal("249.00")),)
        assert "bulk_high_value_item" not in codes(assess(make_order(lines=lines)))

    def test_bulk_needs_a_known_item_threshold(self) -> None:
        lines = (make_line(quantity=9, unit_price=Decimal("999")),)
        history = make_history(store_order_count=0)
        assert "bulk_high_value_item" not in codes(assess(make_order(lines=lines), history))

    @pytest.mark.parametrize(
        ("method", "first", "total", "fires"),
        [
            pytest.param("Overnight (FedEx Priority)", True, "400", True, id="overnight-first-high-value"),
            pytest.param("Express (2-day)", True, "400", True, id="expedited-first-high-value"),
            pytest.param("Standard (UPS Ground)", True, "400", False, id="standard"),
            pytest.param("Overnight (FedEx Priority)", False, "400", False, id="returning"),
            pytest.param("Overnight (FedEx Priority)", True, "100", False, id="not-high-value"),
        ],
    )
    def test_rush_shipping_on_a_first_high_value_order(self, method: str, first: bool, total: str, fires: bool) -> None:
        history = make_history(customer_order_count=0 if first else 3)
        assessment = assess(make_order(shipping_method=method, total=Decimal(total)), history)
        assert ("rush_shipping_first_high_value" in codes(assessment)) is fires
        if fires:
            assert detail(assessment, "rush_shipping_first_high_value").endswith(f"on a first order of {total}.00")


class TestVelocityFacts:
    @pytest.mark.parametrize(
        ("dimension", "value", "window", "others", "code", "text"),
        [
            pytest.param(
                VelocityDimension.EMAIL,
                "john.smith@example.com",
                1,
                2,
                "velocity_email",
                "3 orders from this email within 1 h (limit 2)",
                id="email",
            ),
            pytest.param(
                VelocityDimension.CARD,
                "424242:4242",
                24,
                3,
                "velocity_card",
                "4 orders with this card within 24 h (limit 3)",
                id="card",
            ),
            pytest.param(
                VelocityDimension.IP,
                "203.0.113.7",
                24,
                7,
                "velocity_ip",
                "8 orders from this IP address within 24 h (limit 5)",
                id="ip",
            ),
            pytest.param(
                VelocityDimension.SHIPPING_ADDRESS,
                "US|94103|1 market st",
                24,
                4,
                "velocity_shipping_address",
                "5 orders to this shipping address within 24 h (limit 4)",
                id="address",
            ),
        ],
    )
    def test_exceeded_limits(
        self, dimension: VelocityDimension, value: str, window: int, others: int, code: str, text: str
    ) -> None:
        history = make_history({VelocityProbe(dimension, value, window): others})
        assessment = assess(history=history)
        assert detail(assessment, code) == text
        assert codes(assessment)[code] == FACTS[code].points

    def test_within_limits_says_nothing(self) -> None:
        history = make_history({VelocityProbe(VelocityDimension.EMAIL, "john.smith@example.com", 24): 2})
        assert not [code for code in codes(assess(history=history)) if code.startswith("velocity_")]


class TestScore:
    def test_score_is_clamped_to_100(self) -> None:
        order = make_guest_order(
            email="deals4821@mailinator.com",
            payments=(make_payment({"avs_result": "N", "cvv_result": "N"}),),
            shipping=make_address(country="GB", country_area="", postal_code="N8 7NB"),
            customer_ip_country="NG",
        )
        assessment = assess(order, make_history(customer_order_count=0))
        assert sum(codes(assessment).values()) > 100
        assert assessment.score == 100
        assert assessment.decision is Decision.REJECT

    def test_fact_points_can_be_tuned(self) -> None:
        policy = FraudPolicy(fact_points={"baseline": 60, "returning_customer": 0})
        assessment = assess(policy=policy)
        assert assessment.score == 60 + QUIET_POINTS + 8
        reason = next(r for r in assessment.reasons if r.code == "returning_customer")
        assert (reason.points, reason.sentiment) == (0, Sentiment.NEUTRAL)


class TestProbability:
    @pytest.mark.parametrize(
        ("score", "probability"),
        [
            pytest.param(0, "0.000085", id="0"),
            pytest.param(10, "0.000296", id="10"),
            pytest.param(65, "0.222700", id="65-review"),
            pytest.param(75, "0.500000", id="75-reject-is-even-odds"),
            pytest.param(100, "0.957912", id="100"),
            pytest.param(-5, "0.000085", id="below-range"),
            pytest.param(140, "0.957912", id="above-range"),
        ],
    )
    def test_probability_from_score(self, score: int, probability: str) -> None:
        assert probability_from_score(score) == Decimal(probability)

    def test_probability_rises_with_the_score(self) -> None:
        values = [probability_from_score(score) for score in range(101)]
        assert values == sorted(values)
        assert len(set(values)) == 101

    @pytest.mark.parametrize(
        ("score", "decision"),
        [
            pytest.param(64, Decision.APPROVE, id="64"),
            pytest.param(65, Decision.REVIEW, id="65"),
            pytest.param(74, Decision.REVIEW, id="74"),
            pytest.param(75, Decision.REJECT, id="75"),
        ],
    )
    def test_threshold_decision(self, score: int, decision: Decision) -> None:
        assert threshold_decision(score, 65, 75) is decision


class TestDecisionOrder:
    def test_thresholds_decide_without_rules_or_lists(self) -> None:
        assert assess(policy=with_score(65)).deciding_rule == "threshold:review>=65"
        assert assess(policy=with_score(75)).deciding_rule == "threshold:reject>=75"
        assert assess(policy=with_score(64)).decision is Decision.APPROVE

    @pytest.mark.parametrize(
        ("channel", "score", "decision", "deciding"),
        [
            pytest.param("wholesale", 45, Decision.REVIEW, "threshold:review>=40", id="wholesale-review"),
            pytest.param("wholesale", 60, Decision.REJECT, "threshold:reject>=60", id="wholesale-reject"),
            pytest.param("default-channel", 60, Decision.APPROVE, "score:approve<65", id="store-wide"),
        ],
    )
    def test_thresholds_per_channel(self, channel: str, score: int, decision: Decision, deciding: str) -> None:
        policy = with_score(score, channel_thresholds={"wholesale": (40, 60)})
        order = make_order(channel=channel, lines=(make_line(unit_cost=None),))
        assessment = assess(order, policy=policy)
        assert (assessment.score, assessment.decision, assessment.deciding_rule) == (score, decision, deciding)
        assert (assessment.review_threshold, assessment.reject_threshold) == policy.thresholds_for(channel)

    def test_allow_list_beats_block_list(self) -> None:
        lists = [
            parse_list_entry("email", "john.smith@example.com", allow=False),
            parse_list_entry("customer", "VXNlcjox", allow=True),
        ]
        assessment = assess(lists=lists, policy=with_score(100))
        assert (assessment.decision, assessment.deciding_rule) == (Decision.APPROVE, "list:allow:customer")
        assert assessment.reasons[0].code == "list_allow"
        assert assessment.reasons[0].detail == "customer VXNlcjox is on the allow list"

    def test_allow_rule_beats_block_list(self) -> None:
        lists = [parse_list_entry("email_domain", "example.com", allow=False)]
        rules = parse_rules(
            [{"name": "members", "action": "allow", "when": [{"attribute": "is_guest", "op": "=", "value": False}]}]
        )
        assessment = assess(lists=lists, rules=rules)
        assert (assessment.decision, assessment.deciding_rule) == (Decision.APPROVE, "rule:allow:members")
        assert assessment.reasons[0].detail == "Rule 'members' (allow)"

    def test_block_list_rejects_a_quiet_order(self) -> None:
        lists = [parse_list_entry("ip", "203.0.113.0/24", allow=False)]
        assessment = assess(lists=lists)
        assert (assessment.score, assessment.decision, assessment.deciding_rule) == (
            0,
            Decision.REJECT,
            "list:block:ip",
        )
        assert assessment.reasons[0].detail == "ip 203.0.113.7 is on the block list"

    def test_block_list_comes_before_block_rules(self) -> None:
        lists = [parse_list_entry("country", "US", allow=False)]
        rules = parse_rules(
            [{"name": "b", "action": "block", "when": [{"attribute": "score", "op": ">=", "value": 0}]}]
        )
        assert assess(lists=lists, rules=rules).deciding_rule == "list:block:country"

    def test_block_rule_rejects_and_says_which(self) -> None:
        rules = parse_rules(
            [
                {
                    "name": "no forwarders",
                    "action": "block",
                    "description": "we do not ship to reshippers",
                    "when": [{"attribute": "shipping_country", "op": "=", "value": "US"}],
                }
            ]
        )
        assessment = assess(rules=rules)
        assert (assessment.decision, assessment.deciding_rule) == (Decision.REJECT, "rule:block:no forwarders")
        assert assessment.reasons[0].detail == "Rule 'no forwarders' (block): we do not ship to reshippers"
        assert assessment.reasons[0].sentiment is Sentiment.NEGATIVE

    def test_reject_threshold_outranks_review_rules(self) -> None:
        rules = parse_rules(
            [{"name": "big", "action": "review", "when": [{"attribute": "score", "op": ">=", "value": 0}]}]
        )
        assessment = assess(rules=rules, policy=with_score(80))
        assert (assessment.decision, assessment.deciding_rule) == (Decision.REJECT, "threshold:reject>=75")

    def test_review_rule_holds_an_order_the_score_would_approve(self) -> None:
        rules = parse_rules(
            [{"name": "big", "action": "review", "when": [{"attribute": "order_total", "op": ">=", "value": "50"}]}]
        )
        assessment = assess(rules=rules)
        assert (assessment.score, assessment.decision, assessment.deciding_rule) == (
            0,
            Decision.REVIEW,
            "rule:review:big",
        )
        assert assessment.reasons[0].code == "rule_review"

    def test_rules_see_the_score(self) -> None:
        rules = parse_rules(
            [{"name": "mid", "action": "review", "when": [{"attribute": "score", "op": ">", "value": 20}]}]
        )
        assert assess(rules=rules, policy=with_score(30)).deciding_rule == "rule:review:mid"
        assert assess(rules=rules).deciding_rule == "score:approve<65"


class TestMarginAware:
    ORDER = make_order(
        total=Decimal("100.00"),
        net_total=Decimal("100.00"),
        lines=(make_line(quantity=1, unit_price=Decimal("90"), unit_cost=Decimal("80")),),
    )

    def test_economics(self) -> None:
        economics = order_economics(self.ORDER, Decimal("0.1"), FraudPolicy())
        # margin = 100 - 80 - (100 x 0.029 + 0.30); loss = 0.1 x (80 + 10 + 3.20) x 3.36
        assert (economics.margin, economics.expected_loss) == (Decimal("16.80"), Decimal("31.32"))

    def test_raises_to_review_when_expected_loss_exceeds_margin(self) -> None:
        assessment = assess(self.ORDER, policy=with_score(54))
        loss = (probability_from_score(54) * Decimal("93.20") * Decimal("3.36")).quantize(Decimal("0.01"))
        assert assessment.score == 54
        assert assessment.decision is Decision.REVIEW
        assert assessment.deciding_rule == f"margin:expected loss {loss} > margin 16.80"
        assert (assessment.expected_loss, assessment.margin) == (loss, Decimal("16.80"))
        assert assessment.reasons[0].code == "expected_loss_exceeds_margin"
        assert assessment.reasons[0].detail == (
            f"Expected loss {loss} (fraud chance 6.75% of the cost at stake x 3.36) exceeds the margin 16.80"
        )

    def test_approves_when_the_margin_covers_the_risk(self) -> None:
        assessment = assess(self.ORDER, policy=with_score(44))
        assert (assessment.decision, assessment.deciding_rule) == (Decision.APPROVE, "score:approve<65")
        assert assessment.expected_loss is not None
        assert assessment.margin is not None
        assert assessment.expected_loss < assessment.margin

    def test_a_richer_margin_tolerates_the_same_score(self) -> None:
        rich = make_order(total=Decimal("100.00"), lines=(make_line(quantity=1, unit_cost=Decimal("20")),))
        assert assess(rich, policy=with_score(54)).decision is Decision.APPROVE

    def test_unknown_cost_skips_the_check_and_says_so(self) -> None:
        order = make_order(
            lines=(
                make_line(sku="A", unit_cost=None),
                make_line(sku=None, unit_cost=None),
                make_line(sku="A", unit_cost=None),
            )
        )
        assessment = assess(order, policy=with_score(60))
        assert (assessment.decision, assessment.expected_loss, assessment.margin) == (Decision.APPROVE, None, None)
        assert detail(assessment, "margin_unknown") == "Cost unknown for A, an item: margin check skipped"

    def test_a_loss_making_order_is_held_as_its_loss_covers_no_fraud(self) -> None:
        loss_leader = make_order(
            total=Decimal("50"), net_total=Decimal("50"), lines=(make_line(quantity=1, unit_cost=Decimal("60")),)
        )
        assessment = assess(loss_leader, policy=with_score(60))
        assert assessment.decision is Decision.REVIEW
        assert assessment.deciding_rule.startswith("margin:expected loss ")
        assert assessment.deciding_rule.endswith(" > margin -11.75")
        assert detail(assessment, "margin_not_positive") == "Margin -11.75 <= 0: any fraud on this order is a pure loss"

    @pytest.mark.parametrize(
        "unit_cost",
        [pytest.param(Decimal("96"), id="thin margin"), pytest.param(Decimal("97"), id="loss")],
    )
    def test_a_loss_is_never_safer_than_a_thin_margin(self, unit_cost: Decimal) -> None:
        order = make_order(
            total=Decimal("100.00"),
            net_total=Decimal("100.00"),
            lines=(make_line(quantity=1, unit_price=Decimal("90"), unit_cost=unit_cost),),
        )
        assert assess(order, policy=with_score(30)).decision is Decision.REVIEW

    def test_margin_is_net_of_tax(self) -> None:
        # 120 paid, 20 of it tax: the store keeps 100 - 80 - fees on 120 (3.78) = 16.22.
        taxed = make_order(
            total=Decimal("120.00"),
            net_total=Decimal("100.00"),
            lines=(make_line(quantity=1, unit_price=Decimal("108"), unit_cost=Decimal("80")),),
        )
        assert order_economics(taxed, Decimal("0.1"), FraudPolicy()).margin == Decimal("16.22")

    def test_allow_rules_are_not_second_guessed_by_margin(self) -> None:
        rules = parse_rules(
            [{"name": "vip", "action": "allow", "when": [{"attribute": "customer_order_count", "op": ">", "value": 1}]}]
        )
        assert assess(self.ORDER, rules=rules, policy=with_score(54)).deciding_rule == "rule:allow:vip"

    def test_amounts_follow_the_currency_exponent(self) -> None:
        order = make_order(
            currency="JPY",
            total=Decimal("10000"),
            shipping_amount=Decimal("800"),
            lines=(make_line(quantity=1, unit_cost=Decimal("6000")),),
        )
        assessment = assess(order, policy=FraudPolicy(payment_fee_fixed=Decimal("40")))
        assert assessment.margin == Decimal("3670")  # 10000 - 6000 - 290 - 40


class TestMissingParts:
    @pytest.mark.parametrize(
        "order",
        [
            pytest.param(make_order(payments=()), id="no-payments"),
            pytest.param(make_guest_order(), id="guest"),
            pytest.param(make_order(shipping=None, shipping_method=None), id="digital-goods"),
            pytest.param(make_order(lines=(make_line(unit_cost=None),)), id="no-cost"),
            pytest.param(make_order(lines=()), id="no-lines"),
            pytest.param(make_order(email=None, customer_ip=None, customer_ip_country=None), id="no-email-no-ip"),
            pytest.param(
                make_guest_order(
                    email="",
                    billing=None,
                    shipping=None,
                    shipping_method=None,
                    payments=(PaymentInput(metadata={}),),
                    customer_ip="",
                    customer_ip_country="",
                    lines=(),
                    total=Decimal(0),
                    shipping_amount=Decimal(0),
                    currency="???",
                ),
                id="everything-empty",
            ),
            pytest.param(
                make_order(
                    billing=make_address(country="", country_area="", postal_code="", street=""),
                    shipping=make_address(country="1", postal_code="%%%", street="!!!"),
                    payments=(make_payment({"avs_result": "", "cvv_result": "?", "card_exp_month": "x"}, card=None),),
                    customer_joined_at=datetime(2030, 1, 1),  # noqa: DTZ001 - naive and in the future
                ),
                id="garbage-values",
            ),
        ],
    )
    @pytest.mark.parametrize("stage", [pytest.param(Stage.CREATED, id="created"), pytest.param(Stage.PAID, id="paid")])
    def test_scores_what_exists_and_never_raises(self, order: OrderFacts, stage: Stage) -> None:
        empty_history = History(0, None, 0, None, {})
        rules = parse_rules(
            [{"name": "any", "action": "review", "when": [{"attribute": "velocity_card", "op": ">", "value": 5}]}]
        )
        for history in (make_history(), empty_history):
            assessment = assess(order, history, rules=rules, stage=stage)
            assert 0 <= assessment.score <= 100
            assert assessment.to_metadata()["stage"] == stage.value

    def test_now_must_be_timezone_aware(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            assess(now=datetime(2026, 11, 26, 12, 0))  # noqa: DTZ001


class TestCaches:
    def test_reason_cache_is_bounded_and_invisible(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from app.domain.fraud import scoring

        monkeypatch.setattr(scoring, "REASON_CACHE_SIZE", 2)
        policy = FraudPolicy()
        first = assess(policy=policy)
        again = assess(policy=policy)
        assert first == again
        assert len(policy.derived.reasons) <= 2

    def test_evidence_cache_is_bounded_and_invisible(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from app.domain.fraud import signals

        monkeypatch.setattr(signals, "EVIDENCE_CACHE_SIZE", 0)
        policy = FraudPolicy()
        assert assess(policy=policy) == assess(policy=policy)
        assert policy.derived.evidence == {}


class TestToMetadata:
    def test_exactly_the_ops_fraud_contract(self) -> None:
        order = make_guest_order(payments=(make_payment({"avs_result": "N", "cvv_result": "M"}),))
        metadata = assess(order, make_history(customer_order_count=0), stage=Stage.CREATED).to_metadata()
        assert metadata == {
            "v": 1,
            "score": 17,
            "decision": "approve",
            "stage": "created",
            "reasons": [
                {"code": "avs_mismatch", "points": 20, "detail": "AVS mismatch (avs_result=N)"},
                {"code": "baseline", "points": 10, "detail": "Every order starts here"},
                {"code": "guest_checkout", "points": 5, "detail": "Guest checkout (no account)"},
                {"code": "first_order", "points": 5, "detail": "No earlier paid order from this customer"},
                {"code": "card_details", "points": 0, "detail": "Visa 424242…4242 expires 12/2028 issued in US"},
                {
                    "code": "email_matches_name",
                    "points": -3,
                    "detail": "The email address contains the customer's name",
                },
                {
                    "code": "ip_country_match",
                    "points": -5,
                    "detail": "IP 203.0.113.7 is in US, like the billing address",
                },
                {
                    "code": "billing_shipping_match",
                    "points": -5,
                    "detail": "Billing and shipping share country, region and postal code",
                },
                {"code": "cvv_match", "points": -10, "detail": "CVV match (cvv_result=M)"},
            ],
            "assessedAt": "2026-11-26T12:00:00Z",
        }

    @pytest.mark.parametrize(
        ("now", "text"),
        [
            pytest.param(
                datetime(2026, 11, 26, 14, 0, tzinfo=timezone(timedelta(hours=2))), "2026-11-26T12:00:00Z", id="offset"
            ),
            pytest.param(
                datetime(2026, 11, 26, 12, 0, 0, 123000, tzinfo=UTC), "2026-11-26T12:00:00.123000Z", id="micros"
            ),
        ],
    )
    def test_assessed_at_is_utc_with_z(self, now: datetime, text: str) -> None:
        assert assess(now=now).to_metadata()["assessedAt"] == text

    def test_naive_times_are_read_as_utc(self) -> None:
        from app.domain.fraud.model import iso_utc

        assert iso_utc(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"  # noqa: DTZ001

    def test_decision_severity_orders_the_decisions(self) -> None:
        assert [d.severity for d in (Decision.APPROVE, Decision.REVIEW, Decision.REJECT)] == [0, 1, 2]

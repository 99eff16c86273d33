from decimal import Decimal

import pytest

from app.domain.fraud import (
    AddressFacts,
    CheckResult,
    FraudPolicy,
    FraudPolicyInvalid,
    Sentiment,
    VelocityDimension,
    VelocityLimit,
)
from app.domain.fraud.facts import FACTS, make_reason


class TestFraudPolicyDefaults:
    def test_defaults_follow_radar_and_lexisnexis(self) -> None:
        policy = FraudPolicy()
        assert (policy.review_threshold, policy.reject_threshold) == (65, 75)
        assert policy.fraud_cost_multiplier == Decimal("3.36")
        assert (policy.payment_fee_rate, policy.payment_fee_fixed) == (Decimal("0.029"), Decimal("0.30"))

    def test_default_velocity_limits(self) -> None:
        limits = {(limit.dimension, limit.window_hours): limit.max_orders for limit in FraudPolicy().velocity}
        assert limits == {
            (VelocityDimension.EMAIL, 1): 2,
            (VelocityDimension.EMAIL, 24): 3,
            (VelocityDimension.CARD, 24): 3,
            (VelocityDimension.IP, 1): 3,
            (VelocityDimension.IP, 24): 5,
            (VelocityDimension.SHIPPING_ADDRESS, 24): 4,
        }

    def test_derived_lookups(self) -> None:
        policy = FraudPolicy(avs_codes={" y ": CheckResult.MATCH}, overnight_keywords=(" Next Day ",))
        assert policy.derived.avs_codes == {"Y": CheckResult.MATCH}
        assert policy.derived.overnight_keywords == ("next day",)
        assert policy.derived.velocity_windows[VelocityDimension.EMAIL] == 24

    def test_thresholds_per_channel(self) -> None:
        policy = FraudPolicy(channel_thresholds={"wholesale": (40, 60)})
        assert policy.thresholds_for("wholesale") == (40, 60)
        assert policy.thresholds_for("default-channel") == (65, 75)


class TestFraudPolicyValidation:
    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            pytest.param({"review_threshold": 80}, "store review threshold (80) must not be above", id="review-above"),
            pytest.param({"reject_threshold": 102}, "store reject threshold must be a whole number", id="over-101"),
            pytest.param({"review_threshold": True}, "store review threshold must be a whole number", id="bool"),
            pytest.param(
                {"channel_thresholds": {"b2b": (70, 60)}},
                "channel 'b2b' review threshold (70) must not be above",
                id="channel-order",
            ),
            pytest.param(
                {"channel_thresholds": {"b2b": (70,)}},
                "channel 'b2b' thresholds must be a (review, reject) pair",
                id="pair",
            ),
            pytest.param({"fraud_cost_multiplier": Decimal("-1")}, "fraud_cost_multiplier must be", id="multiplier"),
            pytest.param({"payment_fee_rate": Decimal("1.5")}, "payment_fee_rate must be a Decimal from 0", id="rate"),
            pytest.param({"payment_fee_fixed": 0.3}, "payment_fee_fixed must be a Decimal", id="float-fee"),
            pytest.param({"high_value_multiple": Decimal("0.5")}, "high_value_multiple must be", id="multiple"),
            pytest.param({"high_value_order_total": Decimal("NaN")}, "high_value_order_total must be", id="nan"),
            pytest.param({"bulk_quantity": 0}, "bulk_quantity must be a whole number of at least 1", id="bulk"),
            pytest.param({"min_store_orders": -1}, "min_store_orders must be", id="min-store-orders"),
            pytest.param(
                {"velocity": (VelocityLimit(VelocityDimension.EMAIL, 0, 2),)},
                "velocity 1: window_hours must be from 1",
                id="velocity-window",
            ),
            pytest.param(
                {"velocity": (VelocityLimit(VelocityDimension.IP, 24, 0),)},
                "velocity 1: max_orders must be at least 1",
                id="velocity-max",
            ),
            pytest.param(
                {"expedited_keywords": ("express", " ")}, "expedited_keywords must not contain empty", id="kw"
            ),
            pytest.param({"cvv_codes": {"M": "match"}}, "cvv_codes must map to match", id="code-map-type"),
            pytest.param({"fact_points": {"nope": 5}}, "fact_points: unknown fact code 'nope'", id="unknown-fact"),
            pytest.param({"fact_points": {"first_order": 500}}, "fact_points: first_order must be", id="points-range"),
            pytest.param(
                {"reshipper_addresses": (AddressFacts("USA", street="1 Main St"),)},
                "reshipper address 1: needs a two-letter country and a street",
                id="reshipper",
            ),
        ],
    )
    def test_refuses_bad_values_with_the_reason(self, overrides: dict[str, object], message: str) -> None:
        with pytest.raises(FraudPolicyInvalid) as caught:
            FraudPolicy(**overrides)  # type: ignore[arg-type]
        assert any(message in error for error in caught.value.errors), caught.value.errors

    def test_lists_every_problem_at_once(self) -> None:
        with pytest.raises(FraudPolicyInvalid) as caught:
            FraudPolicy(review_threshold=-1, bulk_quantity=0)
        assert len(caught.value.errors) == 2
        assert "bulk_quantity" in str(caught.value)

    def test_101_switches_a_step_off(self) -> None:
        assert FraudPolicy(review_threshold=101, reject_threshold=101).thresholds_for("x") == (101, 101)


class TestPoints:
    def test_every_fact_sentiment_agrees_with_its_sign(self) -> None:
        for spec in FACTS.values():
            if spec.points > 0:
                assert spec.sentiment is Sentiment.NEGATIVE or spec.code == "baseline", spec.code
            elif spec.points < 0:
                assert spec.sentiment is Sentiment.POSITIVE, spec.code

    @pytest.mark.parametrize(
        ("code", "points", "sentiment"),
        [
            pytest.param("avs_partial", 0, Sentiment.NEUTRAL, id="silenced"),
            pytest.param("first_order", -2, Sentiment.POSITIVE, id="flipped"),
            pytest.param("avs_unavailable", 4, Sentiment.NEGATIVE, id="neutral-made-negative"),
            pytest.param("cvv_mismatch", 30, Sentiment.NEGATIVE, id="same-as-default"),
        ],
    )
    def test_overrides_change_points_and_sentiment(self, code: str, points: int, sentiment: Sentiment) -> None:
        table = FraudPolicy(fact_points={code: points}).derived.points
        reason = make_reason(code, "detail", table)
        assert (reason.points, reason.sentiment) == (points, sentiment)

    def test_long_details_are_cut_to_256_characters(self) -> None:
        reason = make_reason("card_details", "x" * 300)
        assert len(reason.detail) == 256
        assert reason.detail.endswith("…")

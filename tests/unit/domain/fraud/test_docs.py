"""docs/fraud-scoring.md is the merchant's reference: it must agree with the code."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.fraud import (
    ATTRIBUTES,
    FACTS,
    CardFacts,
    Decision,
    FraudPolicy,
    Stage,
    assess_order_risk,
    parse_rules,
    probability_from_score,
)
from tests.unit.domain.fraud.builders import (
    NOW,
    make_address,
    make_guest_order,
    make_history,
    make_line,
    make_order,
    make_payment,
)

DOC = (Path(__file__).resolve().parents[4] / "docs" / "fraud-scoring.md").read_text(encoding="utf-8")


class TestFactTable:
    @pytest.mark.parametrize("code", [pytest.param(code, id=code) for code in FACTS])
    def test_every_fact_is_documented_with_its_points_and_sentiment(self, code: str) -> None:
        spec = FACTS[code]
        assert f"| `{code}` | {spec.points} | {spec.sentiment.value} |" in DOC

    def test_no_undocumented_codes_in_the_table(self) -> None:
        row = r"^\| `([a-z_]+)` \| -?\d+ \| (?:positive|neutral|negative) \|"
        documented = set(re.findall(row, DOC, flags=re.MULTILINE))
        assert documented == set(FACTS)


class TestRuleReference:
    @pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in ATTRIBUTES])
    def test_every_attribute_is_documented(self, name: str) -> None:
        assert f"`{name}`" in DOC

    def test_the_documented_example_rules_parse(self) -> None:
        block = DOC.split("```json\n", 1)[1].split("```", 1)[0]
        assert [rule.name for rule in parse_rules(json.loads(block))] == [
            "Staff orders",
            "Burner domains",
            "Card testing",
            "Big first orders",
            "CVV failed on payment",
            "Outside North America",
        ]


class TestWorkedExamples:
    def _risky(self, cvv: str) -> tuple[int, Decision]:
        order = make_guest_order(
            email="deals4821@mailinator.com",
            billing=make_address(
                country="GB", country_area="", postal_code="N8 7NB", first_name="Maria", last_name="Lopez"
            ),
            payments=(
                make_payment(
                    {"avs_result": "N", "cvv_result": cvv},
                    card=CardFacts(brand="visa", bin="454545", last4="4545", country="GB"),
                ),
            ),
            customer_ip=None,
            customer_ip_country=None,
        )
        assessment = assess_order_risk(
            order, make_history(customer_order_count=0), [], [], FraudPolicy(), stage=Stage.PAID, now=NOW
        )
        return assessment.score, assessment.decision

    def test_documented_scores(self) -> None:
        quiet = assess_order_risk(make_order(), make_history(), [], [], FraudPolicy(), stage=Stage.PAID, now=NOW)
        assert (quiet.score, quiet.decision) == (0, Decision.APPROVE)
        assert self._risky("M") == (69, Decision.REVIEW)
        assert self._risky("N") == (100, Decision.REJECT)
        assert "| 69 | review |" in DOC
        assert "| 100 | reject |" in DOC

    def test_documented_margin_example(self) -> None:
        order = make_order(
            total=Decimal("100.00"), lines=(make_line(quantity=1, unit_price=Decimal("90"), unit_cost=Decimal("80")),)
        )
        quiet_codes = ("email_matches_name", "ip_country_match", "billing_shipping_match", "established_account")
        policy = FraudPolicy(
            fact_points={"baseline": 54, "returning_customer": 0, "avs_match": 0, "cvv_match": 0}
            | dict.fromkeys(quiet_codes, 0)
        )
        assessment = assess_order_risk(order, make_history(), [], [], policy, stage=Stage.PAID, now=NOW)
        assert probability_from_score(54) == Decimal("0.067547")
        assert assessment.deciding_rule == "margin:expected loss 21.15 > margin 16.80"
        assert "`margin:expected loss 21.15 > margin 16.80`" in DOC

    @pytest.mark.parametrize(
        ("score", "shown"),
        [
            pytest.param(50, "0.042", id="50"),
            pytest.param(65, "0.223", id="65"),
            pytest.param(75, "0.5", id="75"),
            pytest.param(90, "0.867", id="90"),
        ],
    )
    def test_documented_probabilities(self, score: int, shown: str) -> None:
        assert round(probability_from_score(score), len(shown.split(".")[1])) == Decimal(shown)
        assert f"| {shown} |" in DOC

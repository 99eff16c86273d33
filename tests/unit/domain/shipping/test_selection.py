"""Selection per level: the cheapest that keeps the promise, the fallback, merchant rules, explanations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.selection import (
    NO_RULE,
    Actions,
    Candidate,
    Conditions,
    Rule,
    RuleError,
    Selection,
    Strategy,
    select,
)
from tests.unit.domain.shipping.builders import make_candidate, make_facts

D = Decimal
PROMISED = date(2026, 12, 9)
EARLY = date(2026, 12, 7)
LATE = date(2026, 12, 10)


def choose(candidates: list[Candidate], *, rules: list[Rule] | None = None, **facts: str) -> Selection:
    return select(Level.STANDARD, PROMISED, candidates, make_facts(**facts), rules or [])


def reasons(selection: Selection) -> dict[str, tuple[bool, str]]:
    return {verdict.candidate.label: (verdict.kept, verdict.reason) for verdict in selection.verdicts}


class TestPromise:
    def test_the_cheapest_rate_that_keeps_the_promise_is_chosen(self) -> None:
        cheap = make_candidate(carrier="USPS", total="7.00", latest=PROMISED)
        dear = make_candidate(carrier="UPS", total="9.00", latest=EARLY)

        selection = choose([dear, cheap])

        assert selection.chosen is cheap
        assert selection.meets_promise
        assert selection.rule is NO_RULE

    def test_the_cheapest_rate_that_arrives_too_late_is_dropped_with_its_reason(self) -> None:
        too_late = make_candidate(carrier="USPS", total="6.00", latest=LATE)
        on_time = make_candidate(carrier="UPS", total="9.00", latest=PROMISED)

        selection = choose([too_late, on_time])

        assert selection.chosen is on_time
        assert reasons(selection) == {
            "USPS Ground": (False, "arrives by 2026-12-10, after the promised 2026-12-09"),
            "UPS Ground": (True, "chosen at 9.00, arrives by 2026-12-09"),
        }

    def test_an_equal_price_goes_to_the_earlier_latest_delivery(self) -> None:
        slower = make_candidate(carrier="USPS", total="8.00", latest=PROMISED, preference=0)
        faster = make_candidate(carrier="UPS", total="8.00", latest=EARLY, preference=5)

        assert choose([slower, faster]).chosen is faster

    def test_an_equal_price_and_delivery_goes_to_the_preferred_carrier(self) -> None:
        second = make_candidate(carrier="USPS", total="8.00", preference=2)
        first = make_candidate(carrier="UPS", total="8.00", preference=1)

        selection = choose([second, first])

        assert selection.chosen is first
        assert reasons(selection)["USPS Ground"] == (False, "keeps the promise, but UPS Ground was preferred")

    def test_when_no_service_at_the_level_keeps_the_promise_the_next_faster_level_is_used(self) -> None:
        ground = make_candidate(carrier="UPS", total="8.00", latest=LATE)
        two_day = make_candidate(carrier="UPS", service="2nd Day Air", level=Level.EXPEDITED, total="19.00")
        overnight = make_candidate(carrier="UPS", service="Next Day Air", level=Level.OVERNIGHT, total="35.00")

        selection = choose([ground, two_day, overnight])

        assert selection.chosen is two_day
        assert selection.meets_promise
        assert "from the faster expedited level since no standard service keeps it" in selection.summary
        assert reasons(selection)["UPS Next Day Air"] == (False, "overnight service, not needed")

    def test_faster_levels_are_not_used_while_the_level_keeps_the_promise(self) -> None:
        ground = make_candidate(carrier="UPS", total="8.00")
        cheaper_faster = make_candidate(carrier="DHL", level=Level.EXPEDITED, total="6.00", latest=EARLY)

        selection = choose([cheaper_faster, ground])

        assert selection.chosen is ground
        assert reasons(selection)["DHL Ground"] == (False, "expedited service, not needed")

    def test_when_nothing_keeps_the_promise_the_earliest_arrival_is_chosen_and_flagged(self) -> None:
        late = make_candidate(carrier="USPS", total="6.00", latest=date(2026, 12, 14))
        less_late = make_candidate(carrier="UPS", level=Level.EXPEDITED, total="20.00", latest=LATE)

        selection = choose([late, less_late])

        assert selection.chosen is less_late
        assert not selection.meets_promise
        assert "no standard or faster service keeps the promise: the earliest" in selection.summary
        assert reasons(selection)["USPS Ground"][0] is False

    def test_without_candidates_nothing_is_chosen(self) -> None:
        selection = choose([])

        assert selection.chosen is None
        assert selection.shopper_price is None
        assert selection.ops_shipment("rate_table") is None
        assert "no service left" in selection.summary

    def test_a_slower_level_is_only_the_last_resort_and_its_arrival_decides_the_flag(self) -> None:
        ground = make_candidate(carrier="UPS", total="5.00", latest=EARLY)
        late_two_day = make_candidate(carrier="UPS", service="2nd Day Air", level=Level.EXPEDITED, latest=LATE)

        selection = select(Level.EXPEDITED, PROMISED, [late_two_day, ground], make_facts(), [])

        assert selection.chosen is ground
        assert selection.meets_promise
        assert "no expedited or faster service keeps the promise: the earliest" in selection.summary


class TestRules:
    def test_the_first_matching_rule_wins(self) -> None:
        usps = make_candidate(carrier="USPS", total="6.00")
        ups = make_candidate(carrier="UPS", total="9.00")
        rules = [
            Rule("Canada only", Conditions(countries=frozenset({"CA"})), Actions(only_carriers=frozenset({"USPS"}))),
            Rule("No USPS in NY", Conditions(postal_prefixes=("100",)), Actions(excluded_carriers=frozenset({"USPS"}))),
            Rule("US: USPS only", Conditions(countries=frozenset({"US"})), Actions(only_carriers=frozenset({"USPS"}))),
        ]

        selection = choose([usps, ups], rules=rules)

        assert selection.rule is rules[1]
        assert selection.chosen is ups
        assert reasons(selection)["USPS Ground"] == (False, "rule 'No USPS in NY': USPS excluded")
        assert "rule 'No USPS in NY'" in selection.summary

    def test_allow_only_drops_every_other_carrier(self) -> None:
        usps = make_candidate(carrier="USPS", total="6.00")
        fedex = make_candidate(carrier="FedEx", total="9.00")
        rule = Rule("FedEx only", Conditions(), Actions(only_carriers=frozenset({"FedEx"})))

        selection = choose([usps, fedex], rules=[rule])

        assert selection.chosen is fedex
        assert reasons(selection)["USPS Ground"] == (False, "rule 'FedEx only': only FedEx allowed")

    def test_a_rule_that_leaves_no_carrier_chooses_nothing(self) -> None:
        rule = Rule("No UPS", Conditions(), Actions(excluded_carriers=frozenset({"UPS"})))

        selection = choose([make_candidate(carrier="UPS")], rules=[rule])

        assert selection.chosen is None
        assert selection.summary == "standard by 2026-12-09: no service left after rule 'No UPS'"

    def test_fastest_takes_the_earliest_delivery_that_keeps_the_promise(self) -> None:
        cheap = make_candidate(carrier="USPS", total="6.00")
        quick = make_candidate(carrier="UPS", total="9.00", latest=EARLY)
        rule = Rule("Rush", Conditions(), Actions(strategy=Strategy.FASTEST))

        selection = choose([cheap, quick], rules=[rule])

        assert selection.chosen is quick
        assert "fastest that keeps the promise" in selection.summary

    @pytest.mark.parametrize(
        ("order_value", "expected"),
        [
            pytest.param("99.99", "4.95", id="below-threshold-fixed"),
            pytest.param("100.00", "0.00", id="at-threshold-free"),
            pytest.param("150", "0.00", id="above-threshold-free"),
        ],
    )
    def test_a_fixed_price_applies_below_the_free_threshold(self, order_value: str, expected: str) -> None:
        rule = Rule("Flat", Conditions(), Actions(fixed_price=D("4.95"), free_above=D(100)))

        selection = choose([make_candidate(total="8.00")], rules=[rule], order_value=order_value)

        assert selection.shopper_price == Money(D(expected), "USD")

    def test_without_a_price_action_the_pricing_policy_decides(self) -> None:
        assert choose([make_candidate()]).shopper_price is None

    @pytest.mark.parametrize(
        ("conditions", "matches"),
        [
            pytest.param(Conditions(countries=frozenset({"US", "CA"})), True, id="country"),
            pytest.param(Conditions(countries=frozenset({"CA"})), False, id="other-country"),
            pytest.param(Conditions(postal_prefixes=("10 0",)), True, id="postal-prefix-spaces-ignored"),
            pytest.param(Conditions(postal_prefixes=("94",)), False, id="other-postal-prefix"),
            pytest.param(Conditions(min_weight_kg=D(2), max_weight_kg=D(2)), True, id="weight-both-ends-included"),
            pytest.param(Conditions(min_weight_kg=D("2.01")), False, id="too-light"),
            pytest.param(Conditions(max_weight_kg=D("1.99")), False, id="too-heavy"),
            pytest.param(Conditions(min_order_value=D(80), max_order_value=D(80)), True, id="value-ends-included"),
            pytest.param(Conditions(min_order_value=D("80.01")), False, id="value-too-low"),
            pytest.param(Conditions(max_order_value=D("79.99")), False, id="value-too-high"),
            pytest.param(Conditions(channels=frozenset({"default"})), True, id="channel"),
            pytest.param(Conditions(channels=frozenset({"wholesale"})), False, id="other-channel"),
            pytest.param(Conditions(product_types=frozenset({"apparel", "glass"})), True, id="product-type"),
            pytest.param(Conditions(product_types=frozenset({"glass"})), False, id="other-product-type"),
            pytest.param(
                Conditions(countries=frozenset({"US"}), channels=frozenset({"wholesale"})), False, id="all-must-hold"
            ),
        ],
    )
    def test_conditions(self, conditions: Conditions, matches: bool) -> None:
        facts = make_facts(country="US", postal_code="10001", weight_kg="2", order_value="80", channel="default")

        assert conditions.hold_for(facts) is matches

    @pytest.mark.parametrize(
        ("build", "field"),
        [
            pytest.param(lambda: Conditions(min_weight_kg=D(3), max_weight_kg=D(2)), "weight_kg", id="weight-reversed"),
            pytest.param(lambda: Conditions(min_weight_kg=D(-1)), "weight_kg", id="weight-negative"),
            pytest.param(lambda: Conditions(max_order_value=D("NaN")), "order_value", id="value-nan"),
            pytest.param(lambda: Conditions(postal_prefixes=(" ",)), "postal_prefixes", id="empty-prefix"),
            pytest.param(
                lambda: Actions(only_carriers=frozenset({"UPS"}), excluded_carriers=frozenset({"UPS"})),
                "excluded_carriers",
                id="allowed-and-excluded",
            ),
            pytest.param(lambda: Actions(fixed_price=D(-1)), "fixed_price", id="negative-price"),
            pytest.param(lambda: Actions(free_above=D(-1)), "free_above", id="negative-threshold"),
            pytest.param(lambda: Rule(" ", Conditions(), Actions()), "name", id="rule-without-name"),
        ],
    )
    def test_a_bad_rule_is_refused_naming_its_field(self, build: Callable[[], object], field: str) -> None:
        with pytest.raises(RuleError) as refused:
            build()

        assert refused.value.field == field


class TestOpsShipment:
    def test_the_choice_fills_the_ops_shipping_entry(self) -> None:
        late = make_candidate(carrier="USPS", total="6.00", latest=LATE)

        selection = choose([late])

        assert selection.ops_shipment("rate_table") == {
            "source": "rate_table",
            "carrier": "USPS",
            "service": "Ground",
            "level": "standard",
            "amount": "6.00",
            "currency": "USD",
            "estimatedDelivery": "2026-12-10",
            "promisedBy": "2026-12-09",
            "meetsPromise": False,
        }

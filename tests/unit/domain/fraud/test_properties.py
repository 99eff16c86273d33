"""Invariants over generated orders: the score stays in range, lists and rules only push one way."""

import dataclasses
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.fraud import (
    AddressFacts,
    CardFacts,
    FraudPolicy,
    History,
    LineFacts,
    ListEntry,
    ListEntryInvalid,
    ListKind,
    OrderFacts,
    PaymentInput,
    Stage,
    VelocityProbe,
    assess_order_risk,
    parse_list_entry,
    parse_rules,
    velocity_probes,
)
from app.domain.fraud.lists import order_values
from app.domain.fraud.signals import derive_signals
from app.domain.fraud.velocity import signal_values, velocity_values
from tests.unit.domain.fraud.builders import NOW

POLICY = FraudPolicy(reshipper_addresses=(AddressFacts("US", postal_code="33166", street="7855 NW 37th St"),))

money = st.decimals(min_value=Decimal(0), max_value=Decimal(5000), places=2, allow_nan=False, allow_infinity=False)
addresses = st.builds(
    AddressFacts,
    country=st.sampled_from(["US", "GB", "DE", "NG", "CA", "XY", "", "us"]),
    country_area=st.sampled_from(["", "CA", "NY", "QC", "XX", "Bavaria"]),
    postal_code=st.sampled_from(["", "94103", "10001", "N8 7NB", "H2X 1Y4", "33166", "1234", "%%"]),
    street=st.sampled_from(["", "1 Market St", "7855 NW 37th St, Suite 1-12345", "12 Hawthorn Rd"]),
    first_name=st.sampled_from(["", "John", "Maria", "Li"]),
    last_name=st.sampled_from(["", "Smith", "Lopez", "O'Brien"]),
)
cards = st.builds(
    CardFacts,
    brand=st.sampled_from([None, "visa", "mastercard"]),
    bin=st.sampled_from([None, "424242", "55555555", "12"]),
    last4=st.sampled_from([None, "4242", "1111", "x"]),
    exp_month=st.sampled_from([None, 1, 12, 13]),
    exp_year=st.sampled_from([None, 2020, 2026, 2030]),
    country=st.sampled_from([None, "US", "GB", "zz"]),
)
metadata = st.dictionaries(
    st.sampled_from(
        [
            "avs_result",
            "cvv_result",
            "address_line1_check",
            "address_postal_code_check",
            "cvc_check",
            "card_bin",
            "card_last4",
            "customer_ip",
            "ip_country",
        ]
    ),
    st.sampled_from(
        ["Y", "N", "A", "Z", "U", "M", "P", "pass", "fail", "unchecked", "", "424242", "4242", "203.0.113.9", "NG"]
    ),
    max_size=6,
)
payments = st.builds(PaymentInput, metadata=metadata, gateway=st.none(), card=st.none() | cards)
lines = st.builds(
    LineFacts,
    sku=st.sampled_from([None, "SKU-1", "SKU-2"]),
    quantity=st.integers(min_value=0, max_value=12),
    unit_price=money,
    unit_cost=st.none() | money,
)
orders = st.builds(
    OrderFacts,
    order_id=st.just("T3JkZXI6MQ=="),
    channel=st.sampled_from(["default-channel", "wholesale"]),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
    total=money,
    net_total=money,
    shipping_amount=money,
    lines=st.lists(lines, max_size=4).map(tuple),
    email=st.sampled_from([None, "", "john.smith@example.com", "deals1@mailinator.com", "bad", "x@eu.yopmail.com"]),
    customer_id=st.sampled_from([None, "VXNlcjox", "VXNlcjoy"]),
    customer_joined_at=st.none() | st.integers(min_value=-10, max_value=2000).map(lambda d: NOW - timedelta(days=d)),
    billing=st.none() | addresses,
    shipping=st.none() | addresses,
    shipping_method=st.sampled_from([None, "Standard (UPS Ground)", "Express (2-day)", "Overnight"]),
    payments=st.lists(payments, max_size=3).map(tuple),
    customer_ip=st.sampled_from([None, "", "203.0.113.7", "2001:db8::1", "nope"]),
    customer_ip_country=st.sampled_from([None, "US", "NG", "??"]),
)


@st.composite
def histories(draw: st.DrawFn, order: OrderFacts) -> History:
    probes = velocity_probes(order, POLICY)
    counts = {probe: draw(st.integers(min_value=0, max_value=8)) for probe in probes}
    return History(
        store_order_count=draw(st.integers(min_value=0, max_value=500)),
        store_median_total=draw(st.none() | money),
        customer_order_count=draw(st.integers(min_value=0, max_value=20)),
        customer_average_total=draw(st.none() | money),
        velocity=counts,
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[OrderFacts, History, Stage]:
    order = draw(orders)
    return order, draw(histories(order)), draw(st.sampled_from(list(Stage)))


RULES = parse_rules(
    [
        {"name": "big", "action": "review", "when": [{"attribute": "order_total", "op": ">", "value": "1000"}]},
        {"name": "gb", "action": "block", "when": [{"attribute": "shipping_country", "op": "=", "value": "GB"}]},
        {
            "name": "regular",
            "action": "allow",
            "when": [{"attribute": "customer_order_count", "op": ">=", "value": 15}],
        },
    ]
)
LISTS = [parse_list_entry("email_domain", "yopmail.com", allow=False), parse_list_entry("country", "DE", allow=True)]


def _block_entries(order: OrderFacts, history: History, stage: Stage) -> list[ListEntry]:
    signals = derive_signals(order, history, POLICY, stage=stage, now=NOW)
    entries = []
    for kind in ListKind:
        for value in order_values(signals, kind):
            try:
                entries.append(parse_list_entry(kind.value, value, allow=False))
            except ListEntryInvalid:  # an order value no list can hold (country "XY")
                continue
    return entries


class TestScoreProperties:
    @settings(max_examples=300, deadline=None)
    @given(cases())
    def test_score_stays_within_0_and_100_and_adds_up(self, case: tuple[OrderFacts, History, Stage]) -> None:
        order, history, stage = case
        assessment = assess_order_risk(order, history, LISTS, RULES, POLICY, stage=stage, now=NOW)
        assert 0 <= assessment.score <= 100
        assert assessment.score == max(0, min(100, sum(reason.points for reason in assessment.reasons)))
        assert all(len(reason.detail) <= 256 for reason in assessment.reasons)
        metadata = assessment.to_metadata()
        assert set(metadata) == {"v", "score", "decision", "stage", "reasons", "assessedAt"}

    @settings(max_examples=200, deadline=None)
    @given(cases(), st.data())
    def test_a_matching_block_entry_never_lowers_the_decision(
        self, case: tuple[OrderFacts, History, Stage], data: st.DataObject
    ) -> None:
        order, history, stage = case
        candidates = _block_entries(order, history, stage)
        before = assess_order_risk(order, history, LISTS, RULES, POLICY, stage=stage, now=NOW)
        if not candidates:
            return
        entry = data.draw(st.sampled_from(candidates))
        after = assess_order_risk(order, history, [*LISTS, entry], RULES, POLICY, stage=stage, now=NOW)
        assert after.decision.severity >= before.decision.severity
        assert after.score == before.score
        if before.deciding_rule.startswith(("rule:allow", "list:allow")):
            assert after.deciding_rule == before.deciding_rule
        else:
            assert after.deciding_rule.startswith("list:block:")

    @settings(max_examples=200, deadline=None)
    @given(cases(), st.integers(min_value=-100, max_value=100), st.integers(min_value=-100, max_value=100))
    def test_decision_rises_with_the_score_without_rules_or_lists(
        self, case: tuple[OrderFacts, History, Stage], low: int, high: int
    ) -> None:
        order, history, stage = case
        low, high = sorted((low, high))
        first, second = (
            assess_order_risk(order, history, [], [], FraudPolicy(fact_points={"baseline": base}), stage=stage, now=NOW)
            for base in (low, high)
        )
        assert first.score <= second.score
        assert first.decision.severity <= second.decision.severity

    @settings(max_examples=150, deadline=None)
    @given(cases(), st.integers(min_value=1, max_value=20))
    def test_more_velocity_never_lowers_score_or_decision(
        self, case: tuple[OrderFacts, History, Stage], extra: int
    ) -> None:
        order, history, stage = case
        busier = History(
            history.store_order_count,
            history.store_median_total,
            history.customer_order_count,
            history.customer_average_total,
            {probe: count + extra for probe, count in history.velocity.items()},
        )
        before = assess_order_risk(order, history, [], [], POLICY, stage=stage, now=NOW)
        after = assess_order_risk(order, busier, [], [], POLICY, stage=stage, now=NOW)
        assert after.score >= before.score
        assert after.decision.severity >= before.decision.severity

    @settings(max_examples=150, deadline=None)
    @given(cases())
    def test_a_review_rule_never_lowers_the_decision(self, case: tuple[OrderFacts, History, Stage]) -> None:
        order, history, stage = case
        review_all = parse_rules(
            [{"name": "all", "action": "review", "when": [{"attribute": "score", "op": ">=", "value": 0}]}]
        )
        before = assess_order_risk(order, history, [], [], POLICY, stage=stage, now=NOW)
        after = assess_order_risk(order, history, [], review_all, POLICY, stage=stage, now=NOW)
        assert after.decision.severity == max(before.decision.severity, 1)


class TestMarginProperties:
    @settings(max_examples=150, deadline=None)
    @given(
        cases(),
        st.integers(min_value=0, max_value=3).map(lambda index: ["SKU-1", "SKU-2", None, "SKU-3"][index]),
        money,
        money,
    )
    def test_a_dearer_line_never_makes_the_order_safer(
        self, case: tuple[OrderFacts, History, Stage], sku: str | None, cost: Decimal, extra: Decimal
    ) -> None:
        order, history, stage = case
        cheap = dataclasses.replace(order, lines=(*order.lines, LineFacts(sku, 1, Decimal(0), cost)))
        dear = dataclasses.replace(order, lines=(*order.lines, LineFacts(sku, 1, Decimal(0), cost + extra)))
        before = assess_order_risk(cheap, history, [], [], POLICY, stage=stage, now=NOW)
        after = assess_order_risk(dear, history, [], [], POLICY, stage=stage, now=NOW)
        assert after.decision.severity >= before.decision.severity

    @settings(max_examples=150, deadline=None)
    @given(cases(), money)
    def test_more_tax_in_the_same_total_never_makes_the_order_safer(
        self, case: tuple[OrderFacts, History, Stage], tax: Decimal
    ) -> None:
        order, history, stage = case
        taxed = dataclasses.replace(order, net_total=order.net_total - tax)
        before = assess_order_risk(order, history, [], [], POLICY, stage=stage, now=NOW)
        after = assess_order_risk(taxed, history, [], [], POLICY, stage=stage, now=NOW)
        assert after.decision.severity >= before.decision.severity


class TestProbeProperties:
    @settings(max_examples=150, deadline=None)
    @given(orders)
    def test_probes_are_unique_and_normalised(self, order: OrderFacts) -> None:
        probes = velocity_probes(order, POLICY)
        assert len(set(probes)) == len(probes)
        assert all(isinstance(probe, VelocityProbe) and probe.value == probe.value.strip() for probe in probes)

    @settings(max_examples=150, deadline=None)
    @given(cases())
    def test_the_service_counts_exactly_what_the_assessment_reads(
        self, case: tuple[OrderFacts, History, Stage]
    ) -> None:
        order, history, stage = case
        signals = derive_signals(order, history, POLICY, stage=stage, now=NOW)
        assert velocity_values(order, POLICY) == signal_values(signals)

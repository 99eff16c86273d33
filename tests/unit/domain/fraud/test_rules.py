import json
from decimal import Decimal
from typing import Any

import pytest

from app.domain.fraud import (
    ATTRIBUTES,
    CardFacts,
    Condition,
    FraudPolicy,
    History,
    ListEntry,
    ListRef,
    Operator,
    OrderFacts,
    Rule,
    RulesInvalid,
    Stage,
    VelocityDimension,
    VelocityProbe,
    build_list_indexes,
    dump_rules,
    parse_list_entry,
    parse_rules,
)
from app.domain.fraud.rules import RuleContext, condition_holds, first_match
from app.domain.fraud.signals import derive_signals
from app.domain.fraud.velocity import signal_values
from tests.unit.domain.fraud.builders import NOW, make_guest_order, make_history, make_order, make_payment

POLICY = FraudPolicy()


def context(
    order: OrderFacts | None = None,
    *,
    history: History | None = None,
    lists: list[ListEntry] | None = None,
    score: int = 30,
    margin: Decimal | None = Decimal("20"),
    stage: Stage = Stage.PAID,
) -> RuleContext:
    order = order or make_order()
    history = history or make_history()
    signals = derive_signals(order, history, POLICY, stage=stage, now=NOW)
    return RuleContext(signals, score, margin, history, POLICY, build_list_indexes(lists or []), signal_values(signals))


def rule(*conditions: Any, action: str = "review", name: str = "r") -> dict[str, Any]:
    return {"name": name, "action": action, "when": list(conditions)}


def when(attribute: str, op: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"attribute": attribute, "op": op, "value": value, **extra}


def holds(condition: dict[str, Any], ctx: RuleContext | None = None) -> bool:
    (parsed,) = parse_rules([rule(condition)])
    return condition_holds(parsed.when[0], ctx or context())


class TestParseRules:
    def test_parses_the_documented_example(self) -> None:
        rules = parse_rules(
            [
                {
                    "name": " Big first orders ",
                    "action": "review",
                    "description": "new customers spending a lot",
                    "when": [when("order_total", ">", "500"), when("first_order", "=", True)],
                },
                rule(when("email_domain", "in", "@block"), action="block", name="Burner domains"),
                rule(when("velocity_email", ">", 3, window_hours=1), action="block", name="Card testing"),
            ]
        )
        assert rules[0] == Rule(
            "Big first orders",
            "review",
            (Condition("order_total", Operator.GT, Decimal("500")), Condition("first_order", Operator.EQ, True)),
            "new customers spending a lot",
        )
        assert rules[1].when == (Condition("email_domain", Operator.IN, ListRef(allow=False)),)
        assert rules[2].when == (Condition("velocity_email", Operator.GT, 3, 1),)

    @pytest.mark.parametrize(
        ("attribute", "op", "raw", "parsed"),
        [
            pytest.param("score", ">=", "70", 70, id="integer-from-text"),
            pytest.param("order_total", "<", 10, Decimal(10), id="number-from-int"),
            pytest.param("order_total", "<", Decimal("9.99"), Decimal("9.99"), id="number-from-decimal"),
            pytest.param("is_guest", "=", "TRUE", True, id="boolean-from-text"),
            pytest.param("shipping_level", "=", "Overnight", "overnight", id="choice-lower-cased"),
            pytest.param("billing_country", "!=", "us", "US", id="country-upper-cased"),
            pytest.param("email", "=", "A@Example.com", "a@example.com", id="email-normalised"),
            pytest.param("email_domain", "=", "@Example.com", "example.com", id="domain-normalised"),
            pytest.param("currency", "=", "usd", "USD", id="currency"),
            pytest.param("card", "=", "42424242:4242", "424242:4242", id="card-six-digit-bin"),
            pytest.param("card_bin", "=", "42424242", "424242", id="bin-six-digits"),
            pytest.param("card_last4", "=", "4242", "4242", id="last4"),
            pytest.param("ip", "=", "::ffff:203.0.113.7", "203.0.113.7", id="ip"),
            pytest.param("customer_id", "=", " VXNlcjox ", "VXNlcjox", id="customer-exact"),
            pytest.param("card_brand", "in", ["Visa", "AMEX"], frozenset({"visa", "amex"}), id="list-normalised"),
            pytest.param("op_spacing", "NOT   IN", None, None, id="operator-spacing"),
        ],
    )
    def test_values_are_read_and_normalised(self, attribute: str, op: str, raw: Any, parsed: Any) -> None:
        if attribute == "op_spacing":
            (result,) = parse_rules([rule(when("stage", op, ["paid"]))])
            assert result.when[0].op is Operator.NOT_IN
            return
        (result,) = parse_rules([rule(when(attribute, op, raw))])
        assert result.when[0].value == parsed

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            pytest.param({"rules": []}, "rules must be a list of rules, got dict", id="not-a-list"),
            pytest.param(["x"], "rule 1: must be an object with name, action and when", id="not-an-object"),
            pytest.param(
                [{"action": "review", "when": [when("score", ">", 1)]}], "rule 1: name: is required", id="no-name"
            ),
            pytest.param([rule(when("score", ">", 1), name="x" * 101)], "name: at most 100 characters", id="long-name"),
            pytest.param(
                [rule(when("score", ">", 1), action="deny")],
                "rule 1 ('r'): action: must be one of allow, block, review, got 'deny'",
                id="bad-action",
            ),
            pytest.param([{"name": "r", "action": "review"}], "rule 1 ('r'): when: needs a list", id="no-when"),
            pytest.param([rule()], "when: needs a list of at least one condition", id="empty-when"),
            pytest.param([rule(*[when("score", ">", 1)] * 21)], "when: at most 20 conditions", id="too-many"),
            pytest.param(
                [{**rule(when("score", ">", 1)), "priority": 1}],
                "rule 1 ('r'): priority: unknown field; a rule has name, action, when, description",
                id="unknown-rule-field",
            ),
            pytest.param([{**rule(when("score", ">", 1)), "description": 5}], "description: must be text", id="desc"),
            pytest.param(
                [rule("score > 1")], "when[1]: must be an object with attribute, op and value", id="text-cond"
            ),
            pytest.param(
                [rule({**when("score", ">", 1), "negate": True})],
                "when[1].negate: unknown field; a condition has attribute, op, value, window_hours",
                id="unknown-condition-field",
            ),
            pytest.param([rule({"op": ">", "value": 1})], "when[1].attribute: is required", id="no-attribute"),
            pytest.param(
                [rule(when("order_totl", ">", 1))],
                "when[1].attribute: unknown attribute 'order_totl'; did you mean 'order_total'?",
                id="typo-attribute",
            ),
            pytest.param(
                [rule(when("zzz", ">", 1))], "when[1].attribute: unknown attribute 'zzz'; known: score, ", id="unknown"
            ),
            pytest.param(
                [rule({"attribute": "score", "value": 1})], "when[1].op: is required: one of =, !=", id="no-op"
            ),
            pytest.param(
                [rule(when("score", "=>", 1))],
                "when[1].op: unknown operator '=>'; expected one of =, !=, <, <=, >, >=, in, not in",
                id="unknown-op",
            ),
            pytest.param(
                [rule(when("email", "<", "a@example.com"))],
                "when[1].op: '<' does not apply to email (text); use =, !=, in, not in",
                id="op-for-text",
            ),
            pytest.param(
                [rule(when("is_guest", "in", [True]))],
                "when[1].op: 'in' does not apply to is_guest (boolean); use =, !=",
                id="op-for-boolean",
            ),
            pytest.param([rule({"attribute": "score", "op": ">"})], "when[1].value: is required", id="no-value"),
            pytest.param([rule(when("score", ">", "high"))], "score needs a whole number, got 'high'", id="integer"),
            pytest.param([rule(when("score", ">", True))], "score needs a whole number, got True", id="bool-integer"),
            pytest.param([rule(when("order_total", ">", "lots"))], "order_total needs a number", id="number"),
            pytest.param([rule(when("order_total", ">", "Infinity"))], "order_total needs a number", id="infinite"),
            pytest.param([rule(when("order_total", ">", [1]))], "compares with one value; use 'in'", id="list-for-gt"),
            pytest.param([rule(when("order_total", ">", None))], "order_total needs a number", id="none-number"),
            pytest.param(
                [rule(when("order_total", ">", 99.5))],
                "order_total needs an exact amount: write 99.5 as a string",
                id="float",
            ),
            pytest.param([rule(when("is_guest", "=", "yes"))], "is_guest needs true or false", id="boolean"),
            pytest.param([rule(when("email", "=", 5))], "email needs text, got 5", id="text-type"),
            pytest.param(
                [rule(when("avs_result", "=", "ok"))],
                "avs_result must be one of match, partial, mismatch, unavailable",
                id="choice",
            ),
            pytest.param(
                [rule(when("billing_country", "=", "XY"))], "billing_country needs an ISO 3166-1", id="country"
            ),
            pytest.param([rule(when("ip", "=", "1.2.3"))], "ip needs an IP address", id="ip"),
            pytest.param(
                [rule(when("ip", "in", ["10.0.0.1/8"]))],
                "when[1].value[1]: ip needs IP addresses or CIDR networks",
                id="ip-network-host-bits",
            ),
            pytest.param([rule(when("ip", "in", [7]))], "when[1].value[1]: ip needs IP addresses", id="ip-not-text"),
            pytest.param([rule(when("email", "=", "nope"))], 'email needs a value such as "a@example.com"', id="email"),
            pytest.param([rule(when("card", "=", "4242"))], "card needs a value such as", id="card"),
            pytest.param([rule(when("card_last4", "=", "42"))], "card_last4 needs a value such as", id="last4"),
            pytest.param([rule(when("currency", "=", "dollars"))], "currency needs a value such as", id="currency"),
            pytest.param([rule(when("channel", "=", " "))], "channel needs a value such as", id="blank-text"),
            pytest.param([rule(when("score", "in", []))], "'in' needs a non-empty list of values", id="empty-in"),
            pytest.param([rule(when("score", "in", 5))], "'in' needs a non-empty list of values", id="scalar-in"),
            pytest.param(
                [rule(when("score", "in", [1, "x"]))], "when[1].value[2]: score needs a whole number", id="bad-item"
            ),
            pytest.param(
                [rule(when("email", "=", "@block"))], "lists are used with 'in' or 'not in', not '='", id="ref"
            ),
            pytest.param(
                [rule(when("score", "in", "@allow"))],
                "score has no list; lists exist for email, email_domain, customer_id, billing_country",
                id="no-list",
            ),
            pytest.param(
                [rule(when("score", ">", 1, window_hours=2))],
                "when[1].window_hours: applies only to velocity attributes, not score",
                id="window-on-score",
            ),
            pytest.param(
                [rule(when("velocity_ip", ">", 1, window_hours=0))],
                "when[1].window_hours: must be a whole number of hours from 1 to 8784, got 0",
                id="window-zero",
            ),
            pytest.param(
                [rule(when("score", ">", 1), name="Same"), rule(when("score", ">", 2), name=" same ")],
                "rule 2 ('same'): name: already used by rule 1",
                id="duplicate-name",
            ),
        ],
    )
    def test_refuses_invalid_rules_with_rule_number_and_field(self, raw: Any, message: str) -> None:
        with pytest.raises(RulesInvalid) as caught:
            parse_rules(raw)
        assert any(message in error for error in caught.value.errors), caught.value.errors

    def test_reports_every_problem_at_once(self) -> None:
        raw = [
            rule(when("score", ">", 1), name="ok"),
            {"name": "bad", "action": "nope", "when": [when("score", "=>", 1), when("zzz", "=", 1)]},
            rule(when("score", ">", 1), name="OK"),
        ]
        with pytest.raises(RulesInvalid) as caught:
            parse_rules(raw)
        assert caught.value.errors == [
            "rule 2 ('bad'): action: must be one of allow, block, review, got 'nope'",
            "rule 2 ('bad'): when[1].op: unknown operator '=>'; expected one of =, !=, <, <=, >, >=, in, not in",
            "rule 2 ('bad'): when[2].attribute: unknown attribute 'zzz'; known: " + ", ".join(ATTRIBUTES),
            "rule 3 ('OK'): name: already used by rule 1",
        ]
        assert str(caught.value).startswith("rule 2 ('bad'): action")

    def test_no_rules_is_valid(self) -> None:
        assert parse_rules([]) == ()


class TestDumpRules:
    def test_round_trips_through_json(self) -> None:
        raw = [
            {
                "name": "Everything",
                "action": "block",
                "description": "all shapes",
                "when": [
                    when("order_total", ">=", "499.99"),
                    when("email_domain", "not in", "@allow"),
                    when("ip", "in", ["203.0.113.0/24", "198.51.100.7"]),
                    when("card_brand", "in", ["visa", "amex"]),
                    when("is_guest", "=", True),
                    when("velocity_card", ">", 2, window_hours=6),
                ],
            },
            rule(when("score", "<", 10), action="allow", name="Low"),
        ]
        rules = parse_rules(raw)
        dumped = dump_rules(rules)
        assert parse_rules(json.loads(json.dumps(dumped))) == rules
        assert dumped[0]["when"][2] == {"attribute": "ip", "op": "in", "value": ["203.0.113.0/24", "198.51.100.7/32"]}  # type: ignore[index]
        assert "description" not in dumped[1]


class TestConditionSemantics:
    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            pytest.param(when("score", ">", 29), True, id="gt"),
            pytest.param(when("score", ">", 30), False, id="gt-equal"),
            pytest.param(when("score", ">=", 30), True, id="ge"),
            pytest.param(when("score", "<", 31), True, id="lt"),
            pytest.param(when("score", "<=", 29), False, id="le"),
            pytest.param(when("score", "=", 30), True, id="eq"),
            pytest.param(when("score", "!=", 30), False, id="ne"),
            pytest.param(when("score", "in", [10, 30]), True, id="in"),
            pytest.param(when("score", "not in", [10, 30]), False, id="not-in"),
            pytest.param(when("order_total", "=", "60"), True, id="decimal-equal-across-exponents"),
            pytest.param(when("order_total", "in", ["60.000"]), True, id="decimal-in"),
            pytest.param(when("margin", "<", "25"), True, id="margin"),
            pytest.param(when("shipping_amount", ">", "9.99"), True, id="shipping-amount"),
            pytest.param(when("item_count", ">=", 2), True, id="item-count"),
            pytest.param(when("email", "=", "JOHN.SMITH@example.com"), True, id="email"),
            pytest.param(when("email_domain", "in", ["example.com"]), True, id="domain-in"),
            pytest.param(when("email_domain", "in", ["sub.example.com"]), False, id="literal-domains-are-exact"),
            pytest.param(when("disposable_email", "=", False), True, id="disposable"),
            pytest.param(when("customer_id", "=", "VXNlcjox"), True, id="customer"),
            pytest.param(when("is_guest", "!=", True), True, id="boolean-ne"),
            pytest.param(when("first_order", "=", False), True, id="first-order"),
            pytest.param(when("customer_order_count", ">", 1), True, id="order-count"),
            pytest.param(when("account_age_days", ">", 600), True, id="account-age"),
            pytest.param(when("billing_country", "=", "US"), True, id="billing-country"),
            pytest.param(when("shipping_country", "not in", ["GB", "DE"]), True, id="shipping-country"),
            pytest.param(when("ip_country", "=", "US"), True, id="ip-country"),
            pytest.param(when("card_country", "=", "US"), True, id="card-country"),
            pytest.param(when("billing_shipping_country_mismatch", "=", False), True, id="country-mismatch"),
            pytest.param(when("reshipper", "=", False), True, id="reshipper"),
            pytest.param(when("shipping_level", "=", "standard"), True, id="shipping-level"),
            pytest.param(when("shipping_method", "=", "standard (ups ground)"), True, id="shipping-method"),
            pytest.param(when("ip", "in", ["203.0.113.0/24"]), True, id="ip-in-cidr"),
            pytest.param(when("ip", "not in", ["198.51.100.0/24"]), True, id="ip-not-in-cidr"),
            pytest.param(when("ip", "=", "203.0.113.7"), True, id="ip-eq"),
            pytest.param(when("card", "=", "424242:4242"), True, id="card"),
            pytest.param(when("card_bin", "=", "424242"), True, id="bin"),
            pytest.param(when("card_last4", "!=", "4242"), False, id="last4"),
            pytest.param(when("card_brand", "=", "visa"), True, id="brand"),
            pytest.param(when("avs_result", "=", "match"), True, id="avs"),
            pytest.param(when("cvv_result", "in", ["mismatch", "unavailable"]), False, id="cvv"),
            pytest.param(when("stage", "=", "paid"), True, id="stage"),
            pytest.param(when("currency", "=", "USD"), True, id="currency"),
            pytest.param(when("channel", "=", "Default-Channel"), True, id="channel"),
            pytest.param(when("velocity_email", "=", 1), True, id="velocity-counts-this-order"),
        ],
    )
    def test_operators_on_a_known_order(self, condition: dict[str, Any], expected: bool) -> None:
        assert holds(condition) is expected

    @pytest.mark.parametrize(
        "condition",
        [
            pytest.param(when("email", "!=", "a@example.com"), id="ne"),
            pytest.param(when("email_domain", "not in", ["example.com"]), id="not-in"),
            pytest.param(when("avs_result", "!=", "match"), id="avs-ne"),
            pytest.param(when("card_bin", "not in", ["411111"]), id="card-not-in"),
            pytest.param(when("ip", "not in", ["10.0.0.0/8"]), id="ip-not-in"),
            pytest.param(when("account_age_days", "<", 1), id="account-age"),
            pytest.param(when("margin", "<", "1000"), id="margin"),
            pytest.param(when("billing_shipping_country_mismatch", "=", False), id="mismatch"),
            pytest.param(when("reshipper", "=", False), id="reshipper"),
            pytest.param(when("velocity_shipping_address", ">=", 0), id="velocity-without-address"),
            pytest.param(when("shipping_method", "!=", "x"), id="method"),
        ],
    )
    def test_missing_values_never_hold_with_any_operator(self, condition: dict[str, Any]) -> None:
        empty = make_guest_order(
            email=None,
            payments=(),
            customer_ip=None,
            billing=None,
            shipping=None,
            shipping_method=None,
            customer_ip_country=None,
        )
        assert not holds(condition, context(empty, margin=None))

    def test_several_cards_hold_when_any_card_satisfies(self) -> None:
        order = make_order(payments=(make_payment(), make_payment(card=CardFacts(bin="555555", last4="1111"))))
        ctx = context(order)
        assert holds(when("card_bin", "=", "555555"), ctx)
        assert holds(when("card_bin", "in", ["555555"]), ctx)
        assert not holds(when("card_bin", "!=", "555555"), ctx)
        assert not holds(when("card_bin", "not in", ["555555", "999999"]), ctx)

    def test_lists_are_looked_up_by_the_attributes_kind(self) -> None:
        lists = [
            parse_list_entry("email_domain", "example.com", allow=False),
            parse_list_entry("country", "US", allow=True),
            parse_list_entry("ip", "203.0.113.0/24", allow=False),
        ]
        ctx = context(lists=lists)
        assert holds(when("email_domain", "in", "@block"), ctx)
        assert not holds(when("email_domain", "in", "@allow"), ctx)
        assert holds(when("email_domain", "not in", "@allow"), ctx)
        assert holds(when("shipping_country", "in", "@allow"), ctx)
        assert holds(when("ip", "in", "@block"), ctx)
        assert not holds(when("card", "in", "@block"), ctx)

    def test_velocity_reads_the_policy_window_or_the_rules_own(self) -> None:
        history = make_history(
            {
                VelocityProbe(VelocityDimension.EMAIL, "john.smith@example.com", 24): 4,
                VelocityProbe(VelocityDimension.EMAIL, "john.smith@example.com", 1): 1,
                VelocityProbe(VelocityDimension.CARD, "424242:4242", 72): 9,
            }
        )
        ctx = context(history=history)
        assert holds(when("velocity_email", "=", 5), ctx)
        assert holds(when("velocity_email", "=", 2, window_hours=1), ctx)
        assert holds(when("velocity_card", "=", 10, window_hours=72), ctx)
        assert holds(when("velocity_ip", "=", 1), ctx)

    def test_hand_built_conditions_do_not_raise(self) -> None:
        ctx = context()
        assert not condition_holds(Condition("no_such_attribute", Operator.EQ, 1), ctx)
        assert not condition_holds(Condition("order_total", Operator.GT, "500"), ctx)


class TestFirstMatch:
    RULES = parse_rules(
        [
            rule(when("score", ">", 10), action="review", name="first review"),
            rule(when("score", ">", 90), action="block", name="never"),
            rule(when("score", ">", 20), action="review", name="second review"),
            rule(when("is_guest", "=", False), action="allow", name="members"),
        ]
    )

    def test_first_rule_of_the_action_in_merchant_order_wins(self) -> None:
        ctx = context(score=30)
        matched = first_match(self.RULES, "review", ctx)
        assert matched is not None
        assert matched.name == "first review"

    def test_every_condition_must_hold(self) -> None:
        (both,) = parse_rules([rule(when("score", ">", 10), when("is_guest", "=", True))])
        assert first_match((both,), "review", context()) is None

    def test_none_when_nothing_matches(self) -> None:
        assert first_match(self.RULES, "block", context(score=30)) is None


class TestCompiledConditions:
    def test_velocity_is_counted_once_per_window(self) -> None:
        history = make_history({VelocityProbe(VelocityDimension.EMAIL, "john.smith@example.com", 24): 2})
        ctx = context(history=history)
        (burst,) = parse_rules(
            [rule(when("velocity_email", ">", 2), when("velocity_email", "<", 4), when("velocity_email", "=", 3))]
        )
        assert first_match((burst,), "review", ctx) == burst
        assert ctx.counted == {(VelocityDimension.EMAIL, 24): 2}

    @pytest.mark.parametrize(
        "condition",
        [
            pytest.param(Condition("score", Operator.IN, ListRef(allow=False)), id="list-for-attribute-without-list"),
            pytest.param(Condition("score", Operator.IN, 30), id="in-without-a-set"),
        ],
    )
    def test_hand_built_nonsense_never_holds(self, condition: Condition) -> None:
        assert not condition_holds(condition, context())

import pytest

from app.domain.fraud import (
    CardFacts,
    FraudPolicy,
    VelocityDimension,
    VelocityLimit,
    VelocityProbe,
    parse_rules,
    velocity_probes,
)
from app.domain.fraud.velocity import judge_velocity, other_orders, velocity_values
from tests.unit.domain.fraud.builders import make_guest_order, make_history, make_order, make_payment

EMAIL, CARD, IP, SHIP = (
    VelocityDimension.EMAIL,
    VelocityDimension.CARD,
    VelocityDimension.IP,
    VelocityDimension.SHIPPING_ADDRESS,
)
POLICY = FraudPolicy()


class TestVelocityProbes:
    def test_one_probe_per_limit_and_value(self) -> None:
        assert velocity_probes(make_order(), POLICY) == (
            VelocityProbe(EMAIL, "john.smith@example.com", 1),
            VelocityProbe(EMAIL, "john.smith@example.com", 24),
            VelocityProbe(CARD, "424242:4242", 24),
            VelocityProbe(IP, "203.0.113.7", 1),
            VelocityProbe(IP, "203.0.113.7", 24),
            VelocityProbe(SHIP, "US|94103|1 market st", 24),
        )

    def test_values_are_normalised(self) -> None:
        order = make_order(email=" John.Smith@EXAMPLE.com", customer_ip="::ffff:203.0.113.7")
        values = velocity_values(order, POLICY)
        assert values[EMAIL] == ("john.smith@example.com",)
        assert values[IP] == ("203.0.113.7",)

    def test_every_card_is_probed(self) -> None:
        second = make_payment(card=CardFacts(bin="55555555", last4="1111"))
        values = velocity_values(make_order(payments=(make_payment(), second)), POLICY)
        assert values[CARD] == ("424242:4242", "555555:1111")

    def test_missing_parts_are_not_probed(self) -> None:
        order = make_guest_order(email=None, payments=(), customer_ip=None, shipping=None)
        assert velocity_probes(order, POLICY) == ()

    def test_windows_the_rules_read_are_probed_too(self) -> None:
        rules = parse_rules(
            [
                {
                    "name": "burst",
                    "action": "review",
                    "when": [{"attribute": "velocity_card", "op": ">", "value": 1, "window_hours": 2}],
                },
                {
                    "name": "default window",
                    "action": "review",
                    "when": [
                        {"attribute": "score", "op": ">", "value": 9},
                        {"attribute": "velocity_email", "op": ">", "value": 9},
                    ],
                },
            ]
        )
        policy = FraudPolicy(velocity=(VelocityLimit(IP, 6, 3),))
        assert velocity_probes(make_order(), policy, rules) == (
            VelocityProbe(IP, "203.0.113.7", 6),
            VelocityProbe(CARD, "424242:4242", 2),
            VelocityProbe(EMAIL, "john.smith@example.com", 24),
        )


class TestJudgeVelocity:
    @pytest.mark.parametrize(
        ("others", "breached"),
        [
            pytest.param(0, False, id="first"),
            pytest.param(2, False, id="third-of-three"),
            pytest.param(3, True, id="fourth-of-three"),
        ],
    )
    def test_limit_counts_this_order_too(self, others: int, breached: bool) -> None:
        policy = FraudPolicy(velocity=(VelocityLimit(EMAIL, 24, 3),))
        values = velocity_values(make_order(), policy)
        history = make_history({VelocityProbe(EMAIL, "john.smith@example.com", 24): others})
        breaches = judge_velocity(values, history, policy)
        assert (EMAIL in breaches) is breached
        if breached:
            assert breaches[EMAIL].orders == 4

    def test_first_exceeded_limit_per_dimension_is_reported(self) -> None:
        values = velocity_values(make_order(), POLICY)
        history = make_history(
            {
                VelocityProbe(EMAIL, "john.smith@example.com", 1): 5,
                VelocityProbe(EMAIL, "john.smith@example.com", 24): 9,
                VelocityProbe(IP, "203.0.113.7", 24): 5,
            }
        )
        breaches = judge_velocity(values, history, POLICY)
        assert set(breaches) == {EMAIL, IP}
        assert (breaches[EMAIL].limit.window_hours, breaches[EMAIL].orders) == (1, 6)
        assert (breaches[IP].limit.window_hours, breaches[IP].orders) == (24, 6)

    def test_the_busiest_card_counts(self) -> None:
        history = make_history({VelocityProbe(CARD, "555555:1111", 24): 7})
        assert other_orders(history, CARD, ("424242:4242", "555555:1111"), 24) == 7
        assert other_orders(history, CARD, (), 24) is None

    def test_negative_counts_are_read_as_zero(self) -> None:
        history = make_history({VelocityProbe(EMAIL, "a@example.com", 24): -4})
        assert other_orders(history, EMAIL, ("a@example.com",), 24) == 0

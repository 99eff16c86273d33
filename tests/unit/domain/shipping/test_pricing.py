"""What the shopper pays for a level: carrier cost with a markup, a flat price, free from an order value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.money import Money
from app.domain.shipping.model import InvalidSetting
from app.domain.shipping.pricing import PricingPolicy

D = Decimal
COST = Money(D("8.20"), "USD")


class TestPrice:
    @pytest.mark.parametrize(
        ("policy", "order_value", "amount", "reason"),
        [
            pytest.param(PricingPolicy(), "50", "8.20", "carrier cost 8.20", id="carrier-cost"),
            pytest.param(PricingPolicy(D("10")), "50", "9.02", "carrier cost 8.20 + 10%", id="percent"),
            pytest.param(PricingPolicy(markup_fixed=D("1.5")), "50", "9.70", "carrier cost 8.20 + 1.5", id="fixed"),
            pytest.param(
                PricingPolicy(D("12.5"), D("1")), "50", "10.23", "carrier cost 8.20 + 12.5% + 1", id="both-rounded"
            ),
            pytest.param(PricingPolicy(flat_price=D("4.9")), "50", "4.90", "flat price 4.9", id="flat"),
            pytest.param(
                PricingPolicy(flat_price=D("4.9"), free_above=D("75")), "74.99", "4.90", "flat price 4.9", id="below"
            ),
            pytest.param(
                PricingPolicy(D("10"), free_above=D("75")), "75", "0.00", "free: order 75 ≥ 75", id="free-from-it"
            ),
        ],
    )
    def test_the_price_and_how_it_came_about(
        self, policy: PricingPolicy, order_value: str, amount: str, reason: str
    ) -> None:
        price = policy.price(COST, D(order_value))
        assert price.amount == Money(D(amount), "USD")
        assert price.reason == reason

    def test_the_price_is_rounded_to_the_currency_s_minor_unit(self) -> None:
        assert PricingPolicy(D("10")).price(Money(D("999"), "JPY"), D(0)).amount == Money(D("1099"), "JPY")


class TestRefused:
    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            pytest.param({"markup_pct": D("-1")}, "markup_pct", id="negative-percent"),
            pytest.param({"markup_fixed": D("NaN")}, "markup_fixed", id="not-a-number"),
            pytest.param({"flat_price": D("-0.01")}, "flat_price", id="negative-flat"),
            pytest.param({"free_above": D("-5")}, "free_above", id="negative-threshold"),
            pytest.param({"flat_price": D("5"), "markup_pct": D("10")}, "flat_price", id="flat-with-markup"),
        ],
    )
    def test_a_bad_policy_names_its_field(self, kwargs: dict[str, Decimal], field: str) -> None:
        with pytest.raises(InvalidSetting) as refused:
            PricingPolicy(**kwargs)
        assert refused.value.field == field

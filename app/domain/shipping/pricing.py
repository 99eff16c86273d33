"""What the shopper pays for a level at checkout: the carrier's cost with a markup, or a flat price, and
nothing from an order value on. A merchant rule's fixed price or free threshold (``selection``) takes
precedence over this policy."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.money import Money
from app.domain.shipping.model import InvalidSetting

_HUNDRED = Decimal(100)


def _not_negative(field: str, value: Decimal | None) -> None:
    if value is not None and (not value.is_finite() or value < 0):
        raise InvalidSetting(field, f"must be zero or more, got {value}")


@dataclass(frozen=True, slots=True)
class ShopperPrice:
    amount: Money
    reason: str


@dataclass(frozen=True, slots=True)
class PricingPolicy:
    """Carrier cost plus ``markup_pct`` percent plus ``markup_fixed``, or ``flat_price`` whatever the carrier
    charges; free when the order is worth ``free_above`` or more. Amounts are in the checkout's currency."""

    markup_pct: Decimal = Decimal(0)
    markup_fixed: Decimal = Decimal(0)
    flat_price: Decimal | None = None
    free_above: Decimal | None = None

    def __post_init__(self) -> None:
        _not_negative("markup_pct", self.markup_pct)
        _not_negative("markup_fixed", self.markup_fixed)
        _not_negative("flat_price", self.flat_price)
        _not_negative("free_above", self.free_above)
        if self.flat_price is not None and (self.markup_pct or self.markup_fixed):
            raise InvalidSetting("flat_price", "a flat price replaces the carrier's cost, so it takes no markup")

    def price(self, carrier_cost: Money, order_value: Decimal) -> ShopperPrice:
        """The shopper's price, rounded to the currency's minor unit, and how it came about."""
        currency = carrier_cost.currency
        if self.free_above is not None and order_value >= self.free_above:
            return ShopperPrice(
                Money(Decimal(0), currency).quantized(), f"free: order {order_value} ≥ {self.free_above}"
            )
        if self.flat_price is not None:
            return ShopperPrice(Money(self.flat_price, currency).quantized(), f"flat price {self.flat_price}")
        amount = carrier_cost.amount * (1 + self.markup_pct / _HUNDRED) + self.markup_fixed
        markups = [f"{self.markup_pct}%"] if self.markup_pct else []
        markups += [f"{self.markup_fixed}"] if self.markup_fixed else []
        return ShopperPrice(
            Money(amount, currency).quantized(), " + ".join([f"carrier cost {carrier_cost.amount}", *markups])
        )

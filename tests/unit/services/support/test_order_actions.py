"""The refund a person types on a ticket: a positive amount, in the transaction's currency, within its charge."""

from decimal import Decimal

import pytest

from app.domain.money import Money
from app.services.support.order_actions import OrderActionRefused, refund_amount

CHARGED = Money(Decimal("40.50"), "EUR")


@pytest.mark.parametrize(("typed", "amount"), [("12.5", "12.5"), (" 12,50 ", "12.50"), ("40.50", "40.50")])
def test_a_refund_within_the_charge_is_taken_in_its_currency(typed: str, amount: str) -> None:
    assert refund_amount(typed, CHARGED) == Money(Decimal(amount), "EUR")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("40.51", "At most 40.50 EUR was charged to refund, not 40.51."),
        ("0", "A refund is more than nothing."),
        ("-3", "A refund is more than nothing."),
        ("NaN", "A refund is more than nothing."),
        ("Infinity", "A refund is more than nothing."),
        ("ten", "Type the amount to refund, e.g. 12.50, not 'ten'."),
        ("", "Type the amount to refund"),
    ],
)
def test_a_refund_out_of_bounds_is_refused_with_the_reason(typed: str, reason: str) -> None:
    with pytest.raises(OrderActionRefused) as refused:
        refund_amount(typed, CHARGED)
    assert str(refused.value).startswith(reason)

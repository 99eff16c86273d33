from decimal import Decimal

import pytest

from app.domain.money import CurrencyMismatch, Money


class TestMoney:
    def test_adds_and_subtracts_in_one_currency(self) -> None:
        total = Money(Decimal("10.10"), "USD") + Money(Decimal("0.20"), "USD") - Money(Decimal("1"), "USD")
        assert total == Money(Decimal("9.30"), "USD")

    def test_refuses_to_mix_currencies(self) -> None:
        with pytest.raises(CurrencyMismatch):
            _ = Money(Decimal("1"), "USD") + Money(Decimal("1"), "EUR")

    def test_refuses_float_amounts(self) -> None:
        with pytest.raises(TypeError):
            Money(0.1, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize("currency", ["usd", "US", "12A"])
    def test_refuses_codes_that_are_not_iso(self, currency: str) -> None:
        with pytest.raises(ValueError, match="ISO 4217"):
            Money(Decimal("1"), currency)

    @pytest.mark.parametrize(
        ("amount", "currency", "expected"),
        [
            pytest.param("2.345", "USD", "2.35", id="half-up-cents"),
            pytest.param("2.5", "JPY", "3", id="no-minor-unit"),
            pytest.param("1.2345", "KWD", "1.235", id="three-digits"),
            pytest.param("-2.345", "EUR", "-2.35", id="negative-away-from-zero"),
        ],
    )
    def test_quantizes_half_up_to_the_currency_exponent(self, amount: str, currency: str, expected: str) -> None:
        assert Money(Decimal(amount), currency).quantized().amount == Decimal(expected)

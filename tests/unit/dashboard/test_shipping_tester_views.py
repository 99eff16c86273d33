"""The rate tester's form read into a cart, and its result rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from babel import Locale

from app.dashboard.shipping.tester_views import CartForm, cart_quote, read_form
from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.pricing import ShopperPrice
from app.domain.shipping.selection import select
from app.services.shipping.model import Cart, CheckoutOption, Place
from app.services.shipping.quoting import CheckoutExplanation, LevelOutcome
from tests.unit.domain.shipping.builders import make_candidate, make_facts

NOW = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
FORM = {
    "channel": "default",
    "country": "us",
    "postal_code": " 10001 ",
    "currency": "usd",
    "lines": "2, Shoes, 1.1, 49.50\n\n1, Mugs, , 12",
    "placed_at": "",
}


class TestReadForm:
    def test_reads_the_cart_and_quotes_it_now_when_no_time_is_given(self) -> None:
        read = read_form(FORM, NOW)
        assert not isinstance(read, CartForm)
        cart, placed_at = read
        assert placed_at == NOW
        assert (cart.channel, cart.currency, cart.destination) == ("default", "USD", Place("US", "10001"))
        assert [(line.product_type, line.quantity, line.weight_kg, line.line_total) for line in cart.lines] == [
            ("Shoes", 2, Decimal("1.1"), Decimal("99.00")),
            ("Mugs", 1, None, Decimal("12")),
        ]

    def test_a_state_and_a_company_reach_the_destination(self) -> None:
        read = read_form({**FORM, "country_area": " TX ", "company_name": " Acme Corp "}, NOW)
        assert not isinstance(read, CartForm)
        destination = read[0].destination
        assert destination == Place("US", "10001", country_area="TX", company_name="Acme Corp")
        assert not destination.residential

    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            pytest.param("2026-12-04T16:30", datetime(2026, 12, 4, 16, 30, tzinfo=UTC), id="utc-by-default"),
            pytest.param(
                "2026-12-04T16:30-05:00",
                datetime(2026, 12, 4, 16, 30, tzinfo=timezone(timedelta(hours=-5))),
                id="with-offset",
            ),
        ],
    )
    def test_a_given_time_is_utc_unless_it_says_otherwise(self, typed: str, expected: datetime) -> None:
        read = read_form({**FORM, "placed_at": typed}, NOW)
        assert not isinstance(read, CartForm)
        assert read[1] == expected

    @pytest.mark.parametrize(
        ("field", "value", "reason"),
        [
            pytest.param("channel", " ", "the channel's slug is needed", id="channel"),
            pytest.param("country", "USA", "a two-letter country code", id="country"),
            pytest.param("currency", "dollars", "a three-letter currency code", id="currency"),
            pytest.param("lines", "", "at least one line is needed", id="no-lines"),
            pytest.param("lines", "2, Shoes, 1.1", "line 1: write 'quantity, product type", id="columns"),
            pytest.param("lines", "0, Shoes, 1, 5", "line 1: the quantity is a whole number", id="quantity"),
            pytest.param("lines", "1, Shoes, heavy, 5", "line 1: the weight is kilograms", id="weight"),
            pytest.param("lines", "1, Shoes, 1, -5", "line 1: the unit price is a number", id="price"),
            pytest.param("lines", "1, Shoes, 1, NaN", "line 1: the unit price is a number", id="nan"),
            pytest.param("placed_at", "tomorrow", "a date and time such as", id="time"),
        ],
    )
    def test_each_bad_field_is_named(self, field: str, value: str, reason: str) -> None:
        read = read_form({**FORM, field: value}, NOW)
        assert isinstance(read, CartForm)
        assert list(read.errors) == [field]
        assert reason in read.errors[field]
        assert read.values[field] == value, "the form keeps what was typed"


class TestResult:
    def test_options_are_priced_in_the_locale_with_their_days(self) -> None:
        options = (
            CheckoutOption("standard", "Standard, arrives 8–10 Dec", Decimal("8.5"), "USD", 5, 7, None),
            CheckoutOption("overnight", "Overnight, arrives Fri 4 Dec", Decimal(30), "USD", 1, 1, None),
        )
        explanation = _explanation_with(options)
        result = cart_quote(explanation, Locale.parse("en_US"))
        assert [(row.name, row.price, row.days) for row in result.options] == [
            ("Standard, arrives 8–10 Dec", "$8.50", "5–7 days"),
            ("Overnight, arrives Fri 4 Dec", "$30.00", "1 day"),
        ]

    def test_no_option_carries_the_problem_and_the_explanation(self) -> None:
        cart = Cart("default", "USD", Place("XX", "1"), ())
        explanation = CheckoutExplanation(cart.channel, cart.destination, "no calendar", None, ())
        result = cart_quote(explanation, Locale.parse("en"))
        assert (result.options, result.problem) == ((), "no calendar")
        assert result.explanation == ("Channel default, to XX 1", "No options: no calendar")


def _explanation_with(options: tuple[CheckoutOption, ...]) -> CheckoutExplanation:
    selection = select(Level.STANDARD, date(2026, 12, 10), [make_candidate()], make_facts(), [])
    levels = tuple(
        LevelOutcome(selection, option, ShopperPrice(Money(option.amount, option.currency), "flat"), None)
        for option in options
    )
    return CheckoutExplanation("default", Place("US", "10001"), None, None, levels)

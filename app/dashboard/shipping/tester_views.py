"""Pure builders of the Shipping → Rate tester tab: the form read into a cart, and what checkout would
show for it with the reasons. No I/O, tested without HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from babel import Locale

from app.dashboard.inventory.report_views import money
from app.services.shipping.model import Cart, CartLine, Place
from app.services.shipping.quoting import CheckoutExplanation

FIELDS = ("channel", "country", "postal_code", "currency", "lines", "placed_at")
LINES_HELP = "One line each: quantity, product type, weight in kg per unit (empty: the type's default), unit price."


@dataclass(frozen=True, slots=True)
class CartForm:
    """What the form shows: the values as typed and, when the form was refused, why, by field."""

    values: Mapping[str, str]
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OptionRow:
    name: str
    price: str
    days: str


@dataclass(frozen=True, slots=True)
class CartQuote:
    options: tuple[OptionRow, ...]
    problem: str | None
    explanation: tuple[str, ...]


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _lines(text: str) -> tuple[tuple[CartLine, ...], str | None]:
    lines = []
    for number, row in enumerate(text.splitlines(), start=1):
        if not row.strip():
            continue
        parts = [part.strip() for part in row.split(",")]
        if len(parts) != 4:
            return (), f"line {number}: write 'quantity, product type, weight kg, unit price', e.g. '2, Shoes, 1.1, 49'"
        quantity, product_type, weight, price = parts
        unit_weight = _decimal(weight) if weight else None
        unit_price = _decimal(price)
        if not quantity.isdigit() or int(quantity) < 1:
            return (), f"line {number}: the quantity is a whole number of at least 1, not {quantity!r}"
        if weight and (unit_weight is None or unit_weight < 0):
            return (), f"line {number}: the weight is kilograms (e.g. 1.25) or empty, not {weight!r}"
        if unit_price is None or unit_price < 0:
            return (), f"line {number}: the unit price is a number (e.g. 49.90), not {price!r}"
        lines.append(
            CartLine(
                f"line-{number}",
                f"line {number}",
                product_type or None,
                int(quantity),
                unit_weight,
                unit_price * int(quantity),
            )
        )
    if not lines:
        return (), "at least one line is needed"
    return tuple(lines), None


def read_form(values: Mapping[str, str], now: datetime) -> tuple[Cart, datetime] | CartForm:
    """The cart and the moment to quote it at (now when empty), or the form with every problem."""
    errors: dict[str, str] = {}
    channel = values.get("channel", "").strip()
    if not channel:
        errors["channel"] = "the channel's slug is needed"
    country = values.get("country", "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        errors["country"] = f"a two-letter country code such as US or DE, not {country!r}"
    currency = values.get("currency", "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = f"a three-letter currency code such as USD, not {currency!r}"
    lines, lines_error = _lines(values.get("lines", ""))
    if lines_error is not None:
        errors["lines"] = lines_error
    placed_at = now
    if values.get("placed_at", "").strip():
        try:
            placed_at = datetime.fromisoformat(values["placed_at"].strip())
        except ValueError:
            errors["placed_at"] = "a date and time such as 2026-12-04T16:30 (UTC unless an offset is given)"
        else:
            placed_at = placed_at if placed_at.tzinfo else placed_at.replace(tzinfo=UTC)
    if errors:
        return CartForm(values, errors)
    destination = Place(
        country,
        values.get("postal_code", "").strip(),
        country_area=values.get("country_area", "").strip(),
        company_name=values.get("company_name", "").strip(),
    )
    return Cart(channel, currency, destination, lines), placed_at


def _days(low: int | None, high: int | None) -> str:
    if low is None or high is None:
        return ""
    return f"{low} day{'' if low == 1 else 's'}" if low == high else f"{low}–{high} days"


def cart_quote(explanation: CheckoutExplanation, locale: Locale) -> CartQuote:
    return CartQuote(
        options=tuple(
            OptionRow(
                option.name,
                money(option.amount, option.currency, locale),
                _days(option.minimum_delivery_days, option.maximum_delivery_days),
            )
            for option in explanation.options
        ),
        problem=explanation.problem,
        explanation=tuple(explanation.lines()),
    )

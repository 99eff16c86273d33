"""What the quoter reads from a cart beyond its weights: the sizes the merchant keeps in attributes, the
weights Saleor falls back to, the destination's state holidays and whether it is a home or a business."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.domain.shipping.measures import AttributeReading
from app.domain.shipping.model import Level
from app.domain.shipping.rates import Surcharges
from app.services.shipping.model import Cart, CartLine, Place
from app.services.shipping.quoting import CheckoutExplanation
from tests.builders import SHOP_API_URL
from tests.fakes.shipping import FakeCarrierQuotes
from tests.unit.domain.shipping.builders import make_service, make_zone
from tests.unit.services.shipping.test_quoting import THURSDAY_NOON_NY, UPS_GROUND, Shop, live_quote

D = Decimal
BOXES: list[dict[str, Any]] = [
    {"name": "S", "length_cm": 20, "width_cm": 15, "height_cm": 10, "max_weight_kg": 5, "tare_kg": "0.2"},
    {"name": "L", "length_cm": 60, "width_cm": 40, "height_cm": 40, "max_weight_kg": 30, "tare_kg": "1"},
]
MEASURED: dict[str, Any] = {"boxes": BOXES, "dimension_attributes": "length, width, height"}


def line(
    *,
    attributes: tuple[AttributeReading, ...] = (),
    weight_kg: str | None = "0.5",
    product_weight_kg: str | None = None,
    product_type_weight_kg: str | None = None,
    product_type: str = "Shoes",
) -> CartLine:
    return CartLine(
        "UHJvZHVjdFZhcmlhbnQ6MQ==",
        "LAMP-1",
        product_type,
        1,
        None if weight_kg is None else D(weight_kg),
        D("50.00"),
        None if product_weight_kg is None else D(product_weight_kg),
        None if product_type_weight_kg is None else D(product_type_weight_kg),
        attributes,
    )


def cart(*lines: CartLine, **place: Any) -> Cart:
    return Cart("default", "USD", Place(**{"country": "US", "postal_code": "10001", **place}), lines or (line(),))


def sized(length: str, width: str, height: str, unit: str | None = "CM") -> tuple[AttributeReading, ...]:
    return (
        AttributeReading("length", unit, (length,)),
        AttributeReading("width", unit, (width,)),
        AttributeReading("height", unit, (height,)),
    )


async def explained(shop: Shop, the_cart: Cart, now: datetime = THURSDAY_NOON_NY) -> CheckoutExplanation:
    return await shop.quoter.explain(SHOP_API_URL, the_cart, now)


def parcel_lines(explanation: CheckoutExplanation) -> list[str]:
    return [text for text in explanation.lines() if text.startswith("Parcel")]


class TestSizesFromAttributes:
    async def test_the_named_attributes_size_the_unit_in_their_unit(self) -> None:
        explanation = await explained(Shop(**MEASURED), cart(line(attributes=sized("180", "120", "90", "MM"))))

        assert explanation.quotes is not None
        (parcel,) = explanation.quotes.parcels
        assert parcel.box is not None
        assert parcel.box.name == "S"
        assert parcel_lines(explanation) == [
            "Parcel 1: box S (20×15×10 cm), 0.7 kg: 1 × LAMP-1 [18.0×12.0×9.0 cm from attributes length, width, "
            "height; 0.5 kg from the variant's weight]; the smallest box that holds LAMP-1"
        ]

    async def test_without_the_attributes_the_product_type_default_sizes_the_unit(self) -> None:
        explanation = await explained(Shop(**MEASURED), cart())

        assert explanation.quotes is not None
        (parcel,) = explanation.quotes.parcels
        assert parcel.box is not None
        assert parcel.box.name == "L"
        assert "[30×20×10 cm from product type Shoes's default size; " in parcel_lines(explanation)[0]

    async def test_one_attribute_can_hold_the_whole_size(self) -> None:
        attributes = (AttributeReading("package-size", None, ("16 x 12 x 6 in",)),)
        shop = Shop(boxes=BOXES, dimension_attributes="package-size")

        explanation = await explained(shop, cart(line(attributes=attributes)))

        assert "[40.64×30.48×15.24 cm from attribute package-size; " in parcel_lines(explanation)[0]

    async def test_a_value_that_is_no_size_falls_back_to_the_default_and_says_why(self) -> None:
        explanation = await explained(Shop(**MEASURED), cart(line(attributes=sized("18", "12", "9", "SQ_CM"))))

        assert (
            "from product type Shoes's default size, as attribute length is in SQ_CM, not a length unit;"
            in (parcel_lines(explanation)[0])
        )
        assert explanation.options

    async def test_a_value_that_is_no_size_without_a_default_leaves_the_cart_unquoted(self) -> None:
        shop = Shop(**MEASURED)
        the_cart = cart(line(attributes=sized("18", "0", "9"), product_type="Lamps", weight_kg="1"))

        explanation = await explained(shop, the_cart)

        assert explanation.problem == (
            "line LAMP-1: attribute width is '0': a side must be longer than 0, "
            "and product type 'Lamps' has no default box"
        )
        assert explanation.options == []


class TestWeights:
    async def test_the_variant_weight_comes_first(self) -> None:
        the_line = line(weight_kg="0.5", product_weight_kg="2", product_type_weight_kg="3")
        explanation = await explained(Shop(**MEASURED), cart(the_line))
        assert "; 0.5 kg from the variant's weight]" in parcel_lines(explanation)[0]

    async def test_then_the_product_s_then_the_product_type_s_in_saleor(self) -> None:
        from_product = await explained(Shop(**MEASURED), cart(line(weight_kg=None, product_weight_kg="2")))
        from_type = await explained(Shop(**MEASURED), cart(line(weight_kg=None, product_type_weight_kg="3")))

        assert "; 2 kg from the product's weight]" in parcel_lines(from_product)[0]
        assert "; 3 kg from product type Shoes's weight in Saleor]" in parcel_lines(from_type)[0]

    async def test_the_settings_weight_is_the_last_resort(self) -> None:
        product_types = [{"product_type": "Shoes", "length_cm": 30, "width_cm": 20, "height_cm": 10, "weight_kg": 1}]
        explanation = await explained(Shop(boxes=BOXES, product_types=product_types), cart(line(weight_kg=None)))
        assert "; 1 kg from product type Shoes's default weight]" in parcel_lines(explanation)[0]


WEDNESDAY_23_DEC_NOON_NY = datetime(2026, 12, 23, 17, 0, tzinfo=UTC)


class TestDestinationHolidays:
    async def test_a_state_holiday_of_the_destination_delays_arrival(self) -> None:
        """Christmas Eve is a Texas state holiday, not a federal one: overnight to Texas arrives after Christmas."""
        shop = Shop()

        to_new_york = await shop.names(cart(country_area="NY"), WEDNESDAY_23_DEC_NOON_NY)
        to_texas = await shop.names(cart(postal_code="73301", country_area="TX"), WEDNESDAY_23_DEC_NOON_NY)

        assert to_new_york["overnight"] == "Overnight, arrives Thu 24 Dec"
        assert to_texas["overnight"] == "Overnight, arrives Mon 28 Dec"

    async def test_the_explanation_names_the_calendar_and_an_unknown_area_leaves_the_country_s(self) -> None:
        texas = await explained(Shop(), cart(country_area="Texas"))
        nowhere = await explained(Shop(), cart(country_area="Atlantis"))

        assert "To a home (no company name), on US-TX's holidays" in texas.lines()
        assert "To a home (no company name), on US's holidays" in nowhere.lines()


HOME_SURCHARGED = make_service(
    "UPS",
    "Ground",
    level=Level.STANDARD,
    zones=[make_zone(bracket_prices=[("10", "8.00")], transit=(3, 5))],
    surcharges=Surcharges(residential=D("4.10")),
)


class TestResidential:
    async def test_an_address_without_a_company_is_priced_as_a_home(self) -> None:
        options = await Shop(HOME_SURCHARGED).options(cart())
        assert options["standard"].amount == D("12.10")

    async def test_an_address_naming_a_company_is_priced_as_a_business(self) -> None:
        shop = Shop(HOME_SURCHARGED)

        options = await shop.options(cart(company_name="Acme Corp"))
        explanation = await explained(shop, cart(company_name="Acme Corp"))

        assert options["standard"].amount == D("8.00")
        assert "To a business (the address names a company), on US's holidays" in explanation.lines()

    async def test_live_carriers_are_asked_for_the_kind_of_address_and_answers_are_kept_apart(self) -> None:
        carriers = FakeCarrierQuotes(live_quote("FedEx", "Ground", Level.STANDARD, "7.00", (3, 4)))
        shop = Shop(UPS_GROUND, carriers=carriers)

        await shop.options(cart())
        await shop.options(cart(company_name="Acme Corp"))
        await shop.options(cart(company_name="  "))

        assert [request.residential for request in carriers.requests] == [True, False]

"""Reading a packed size from the attributes the merchant names, in Saleor's units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.shipping.calendar import subdivision_of
from app.domain.shipping.measures import AttributeReading, measured_size
from app.domain.shipping.parcels import ParcelInputError
from tests.unit.domain.shipping.builders import dims

D = Decimal
SIDES = ("length", "width", "height")


def three(unit: str | None, *values: str) -> list[AttributeReading]:
    return [AttributeReading(slug, unit, (value,)) for slug, value in zip(SIDES, values, strict=True)]


@pytest.mark.parametrize(
    ("unit", "values", "expected"),
    [
        pytest.param("CM", ("30", "20", "10"), dims(30, 20, 10), id="cm"),
        pytest.param("MM", ("300", "205", "10"), dims("30.0", "20.5", "1.0"), id="mm"),
        pytest.param("M", ("0.3", "0.2", "0.1"), dims(30, 20, 10), id="m"),
        pytest.param("INCH", ("10", "5", "2"), dims("25.40", "12.70", "5.08"), id="inch"),
        pytest.param("FT", ("1", "1", "1"), dims("30.48", "30.48", "30.48"), id="ft"),
        pytest.param(None, ("30", "20,5", "10"), dims(30, "20.5", 10), id="no-unit-is-cm"),
    ],
)
def test_three_numeric_attributes_are_converted_to_centimetres(
    unit: str | None, values: tuple[str, str, str], expected: object
) -> None:
    measured = measured_size(three(unit, *values), SIDES)
    assert measured is not None
    assert measured.dimensions == expected
    assert measured.source == "attributes length, width, height"


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        pytest.param("30 x 20 x 10 cm", None, dims(30, 20, 10), id="spaces-and-unit"),
        pytest.param("12×8×4 in", None, dims("30.48", "20.32", "10.16"), id="times-and-inches"),
        pytest.param("300*200*100", "MM", dims(30, 20, 10), id="attribute-unit"),
        pytest.param("0.3 m x 20 cm x 100 mm", None, dims(30, 20, 10), id="each-side-its-unit"),
    ],
)
def test_one_attribute_can_hold_all_three_sides(text: str, unit: str | None, expected: object) -> None:
    measured = measured_size([AttributeReading("size", unit, (text,))], ("size",))
    assert measured is not None
    assert measured.dimensions == expected
    assert measured.source == "attribute size"


def test_a_variant_s_value_wins_over_its_product_s_and_slugs_match_in_any_case() -> None:
    variant = AttributeReading("Size", None, ("10x10x10",))
    product = AttributeReading("size", None, ("50x50x50",))
    unset = AttributeReading("size", None, ())
    measured = measured_size([unset, variant, product], ("SIZE",))
    assert measured is not None
    assert measured.dimensions == dims(10, 10, 10)


def test_a_line_without_the_named_attributes_has_no_measured_size() -> None:
    assert measured_size([AttributeReading("colour", None, ("red",))], SIDES) is None
    assert measured_size(three("CM", "1", "2", "3"), ()) is None


@pytest.mark.parametrize(
    ("readings", "slugs", "reason"),
    [
        pytest.param(
            three("SQ_CM", "1", "2", "3"), SIDES, "attribute length is in SQ_CM, not a length unit", id="area"
        ),
        pytest.param(three("KG", "1", "2", "3"), SIDES, "attribute length is in KG, not a length unit", id="weight"),
        pytest.param(three("CM", "1", "big", "3"), SIDES, "attribute width has 'big', not a length", id="word"),
        pytest.param(
            three("CM", "1", "2", "0"), SIDES, "attribute height is '0': a side must be longer than 0", id="0"
        ),
        pytest.param(
            three("M", "30", "20", "10"),
            SIDES,
            "attribute length is 3000 cm, longer than any parcel",
            id="unit-mistake",
        ),
        pytest.param(three("CM", "1", "2", "3")[:2], SIDES, "attribute height has no value", id="missing-side"),
        pytest.param(
            [AttributeReading("length", "CM", ("1", "2")), *three("CM", "1", "2", "3")[1:]],
            SIDES,
            "attribute length has 2 values, not one",
            id="two-values",
        ),
        pytest.param(
            [AttributeReading("size", None, ("30 x 20",))], ("size",), "not length × width × height", id="two-sides"
        ),
        pytest.param(
            [AttributeReading("size", None, ("30 x 20 x 10 lb",))], ("size",), "is in LB, not a length", id="lb"
        ),
    ],
)
def test_a_value_that_is_not_a_size_is_refused_with_the_reason(
    readings: list[AttributeReading], slugs: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(ParcelInputError) as refused:
        measured_size(readings, slugs)
    assert refused.value.field == "dimensions"
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    ("country", "area", "expected"),
    [
        ("US", "TX", "TX"),
        ("US", "texas", "TX"),
        ("CA", "QC", "QC"),
        ("AU", "NSW", "NSW"),
        ("US", "Atlantis", None),
        ("US", "", None),
        ("ZZ", "TX", None),
    ],
)
def test_an_address_s_country_area_names_its_holiday_subdivision(country: str, area: str, expected: str | None) -> None:
    assert subdivision_of(country, area) == expected

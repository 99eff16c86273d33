"""A product's packed size from the attributes a merchant keeps it in.

Saleor keeps a numeric attribute's number in its value's name ("12.5") and the unit on the attribute
(``MeasurementUnitsEnum``: MM, CM, DM, M, FT, YD, INCH…). A merchant names either three attributes
(length, width, height) or one text attribute holding all three ("30 x 20 x 10 cm", "12×8×4 in").
A number without a unit is in centimetres. Anything else (an area or a weight unit, a word, a zero,
a side longer than any parcel) is refused with the reason, and the line falls back to its product
type's default size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.domain.shipping.parcels import Dimensions, ParcelInputError

# Saleor's length units (MeasurementUnitsEnum) and the ways a text value writes them, in centimetres.
CENTIMETRES_PER_UNIT: dict[str, Decimal] = {
    "MM": Decimal("0.1"),
    "CM": Decimal(1),
    "DM": Decimal(10),
    "M": Decimal(100),
    "INCH": Decimal("2.54"),
    "IN": Decimal("2.54"),
    '"': Decimal("2.54"),
    "FT": Decimal("30.48"),
    "YD": Decimal("91.44"),
}
# A side beyond this is a unit mistake (millimetres kept as metres), not a parcel.
LONGEST_SIDE_CM = Decimal(1000)
_TRIPLE = re.compile(r"^\s*([^x×*]+?)\s*[x×*]\s*([^x×*]+?)\s*[x×*]\s*([^x×*]+?)\s*$", re.IGNORECASE)
_NUMBER_AND_UNIT = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([a-z\"]*)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AttributeReading:
    """One attribute of a variant or product as Saleor sends it: its slug, its unit, its values' names."""

    slug: str
    unit: str | None
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeasuredSize:
    dimensions: Dimensions
    source: str  # e.g. "attributes length, width, height"


def _centimetres(text: str, unit: str | None, slug: str) -> Decimal:
    """``text`` ("12.5", "12,5 cm", "5 in") in centimetres; a unit written in the text wins over ``unit``."""
    match = _NUMBER_AND_UNIT.match(text)
    if match is None:
        raise ParcelInputError("dimensions", f"attribute {slug} has {text!r}, not a length")
    number, written = match.groups()
    named = (written or unit or "CM").upper()
    factor = CENTIMETRES_PER_UNIT.get("INCH" if named in ("INCHES", "INS") else named)
    if factor is None:
        raise ParcelInputError("dimensions", f"attribute {slug} is in {named}, not a length unit")
    value = Decimal(number.replace(",", ".")) * factor
    if value <= 0:
        raise ParcelInputError("dimensions", f"attribute {slug} is {text!r}: a side must be longer than 0")
    if value > LONGEST_SIDE_CM:
        raise ParcelInputError(
            "dimensions", f"attribute {slug} is {value.normalize():f} cm, longer than any parcel; check its unit"
        )
    return value


def _only_value(reading: AttributeReading) -> str:
    if len(reading.values) != 1:
        raise ParcelInputError("dimensions", f"attribute {reading.slug} has {len(reading.values)} values, not one")
    return reading.values[0]


def measured_size(readings: Sequence[AttributeReading], slugs: Sequence[str]) -> MeasuredSize | None:
    """The size the named attributes give, None when the line has none of them, or ``ParcelInputError``
    for a value that is not a size. ``readings`` come variant first: a variant's value wins over its product's.
    """
    if not slugs:
        return None
    found: dict[str, AttributeReading] = {}
    for reading in readings:
        if reading.values:
            found.setdefault(reading.slug.lower(), reading)
    present = [found[slug.lower()] for slug in slugs if slug.lower() in found]
    if not present:
        return None
    if len(slugs) == 1:
        (reading,) = present
        text = _only_value(reading)
        match = _TRIPLE.match(text)
        if match is None:
            raise ParcelInputError("dimensions", f"attribute {reading.slug} has {text!r}, not length × width × height")
        sides = list(match.groups())
        # "30 x 20 x 10 cm": the unit written once, after the last side, holds for all three.
        last = _NUMBER_AND_UNIT.match(sides[2])
        written = last.group(2) if last is not None else ""
        unit = written or reading.unit
        length, width, height = (_centimetres(side, unit, reading.slug) for side in sides)
        return MeasuredSize(Dimensions(length, width, height), f"attribute {reading.slug}")
    if len(present) != len(slugs):
        missing = [slug for slug in slugs if slug.lower() not in found]
        raise ParcelInputError("dimensions", f"attribute {', '.join(missing)} has no value")
    length, width, height = (_centimetres(_only_value(r), r.unit, r.slug) for r in present)
    return MeasuredSize(Dimensions(length, width, height), f"attributes {', '.join(r.slug for r in present)}")

"""Packing an order's lines into parcels: first-fit decreasing by volume, within each box's weight limit.

Volume packing is an approximation: a unit goes into a box when its sides fit the box's inner sides
(in any orientation) and the box still has the volume and the weight for it. Every parcel says what
it holds, in which box, how heavy it is and why it was made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.shipping.model import InvalidSetting


class ParcelInputError(InvalidSetting):
    """A line or a box that cannot be packed as given; ``field`` names what is wrong."""


def _positive(field: str, value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ParcelInputError(field, f"must be a positive number, got {value}")


@dataclass(frozen=True, slots=True)
class Dimensions:
    """Length, width and height in centimetres."""

    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal

    def __post_init__(self) -> None:
        _positive("length_cm", self.length_cm)
        _positive("width_cm", self.width_cm)
        _positive("height_cm", self.height_cm)

    @property
    def volume_cm3(self) -> Decimal:
        return self.length_cm * self.width_cm * self.height_cm

    @property
    def sides_longest_first(self) -> tuple[Decimal, Decimal, Decimal]:
        longest, middle, shortest = sorted((self.length_cm, self.width_cm, self.height_cm), reverse=True)
        return longest, middle, shortest

    def fits_inside(self, inner: Dimensions) -> bool:
        """Whether this item fits ``inner`` when turned so that its longest side lies along the longest."""
        return all(
            mine <= theirs for mine, theirs in zip(self.sides_longest_first, inner.sides_longest_first, strict=True)
        )

    def __str__(self) -> str:
        return f"{self.length_cm}×{self.width_cm}×{self.height_cm} cm"


@dataclass(frozen=True, slots=True)
class Line:
    """An order line as packing sees it; ``dimensions`` is None when the product has none recorded (its
    product type's default size is used then). ``dimensions_from`` and ``weight_from`` say where a unit's
    size and weight were read, for the parcel's explanation."""

    line_id: str
    quantity: int
    unit_weight_kg: Decimal
    product_type: str
    dimensions: Dimensions | None = None
    dimensions_from: str = "the line"
    weight_from: str = "the line"

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ParcelInputError("quantity", f"line {self.line_id} must have at least 1 unit, got {self.quantity}")
        if not self.unit_weight_kg.is_finite() or self.unit_weight_kg < 0:
            raise ParcelInputError("unit_weight_kg", f"line {self.line_id} cannot weigh {self.unit_weight_kg} kg")


@dataclass(frozen=True, slots=True)
class Box:
    """One of the merchant's boxes; ``max_weight_kg`` is the gross limit, the box's own ``tare_kg`` included."""

    name: str
    inner: Dimensions
    max_weight_kg: Decimal
    tare_kg: Decimal

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ParcelInputError("name", "a box needs a name")
        _positive("max_weight_kg", self.max_weight_kg)
        if not self.tare_kg.is_finite() or self.tare_kg < 0:
            raise ParcelInputError("tare_kg", f"box {self.name} cannot weigh {self.tare_kg} kg empty")
        if self.tare_kg >= self.max_weight_kg:
            raise ParcelInputError(
                "tare_kg", f"box {self.name} weighs {self.tare_kg} kg empty, its limit is {self.max_weight_kg} kg"
            )

    @property
    def content_limit_kg(self) -> Decimal:
        return self.max_weight_kg - self.tare_kg


@dataclass(frozen=True, slots=True)
class PackedUnits:
    """``quantity`` units of one line; ``unit`` says each one's size and weight and where they came from."""

    line_id: str
    quantity: int
    unit: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Parcel:
    """One package to ship. ``box`` is None for a unit that fits no box and ships in its own packaging."""

    box: Box | None
    contents: tuple[PackedUnits, ...]
    weight_kg: Decimal
    dimensions: Dimensions
    reason: str

    @property
    def unit_count(self) -> int:
        return sum(packed.quantity for packed in self.contents)

    def explain(self) -> str:
        held = ", ".join(
            f"{packed.quantity} × {packed.line_id}" + (f" [{packed.unit}]" if packed.unit else "")
            for packed in self.contents
        )
        packaging = f"box {self.box.name}" if self.box else "own packaging"
        return f"{packaging} ({self.dimensions}), {self.weight_kg} kg: {held}; {self.reason}"


@dataclass(frozen=True, slots=True)
class _Unit:
    line_id: str
    weight_kg: Decimal
    dimensions: Dimensions
    origin: str


@dataclass(slots=True)
class _OpenBox:
    box: Box
    reason: str
    units: list[_Unit]
    volume_left: Decimal
    weight_left: Decimal

    def takes(self, unit: _Unit) -> bool:
        return (
            unit.dimensions.fits_inside(self.box.inner)
            and unit.dimensions.volume_cm3 <= self.volume_left
            and unit.weight_kg <= self.weight_left
        )

    def add(self, unit: _Unit) -> None:
        self.units.append(unit)
        self.volume_left -= unit.dimensions.volume_cm3
        self.weight_left -= unit.weight_kg


def _units(lines: Sequence[Line], default_dimensions: Mapping[str, Dimensions]) -> list[_Unit]:
    units: list[_Unit] = []
    for line in lines:
        if line.dimensions is not None:
            dimensions, dimensions_from = line.dimensions, line.dimensions_from
        elif (default := default_dimensions.get(line.product_type)) is not None:
            dimensions, dimensions_from = default, f"product type {line.product_type}'s default size"
        else:
            raise ParcelInputError(
                "dimensions",
                f"line {line.line_id} has no dimensions and product type {line.product_type!r} has no default box",
            )
        origin = f"{dimensions} from {dimensions_from}; {line.unit_weight_kg} kg from {line.weight_from}"
        units.extend(_Unit(line.line_id, line.unit_weight_kg, dimensions, origin) for _ in range(line.quantity))
    return units


def _contents(units: Sequence[_Unit]) -> tuple[PackedUnits, ...]:
    counts = Counter((unit.line_id, unit.origin) for unit in units)
    return tuple(PackedUnits(line_id, quantity, origin) for (line_id, origin), quantity in counts.items())


def _alone(unit: _Unit, boxes: Sequence[Box]) -> Parcel:
    if not boxes:
        why = "the merchant has no boxes"
    elif not any(unit.dimensions.fits_inside(box.inner) for box in boxes):
        why = f"larger ({unit.dimensions}) than every box"
    else:
        why = f"heavier ({unit.weight_kg} kg) than any box that it fits can carry"
    return Parcel(None, _contents([unit]), unit.weight_kg, unit.dimensions, f"ships alone: {why}")


def pack(lines: Sequence[Line], boxes: Sequence[Box], default_dimensions: Mapping[str, Dimensions]) -> list[Parcel]:
    """Packs every unit of ``lines``, largest first, into the first open box that takes it.

    When no open box does, the smallest box that can take the unit is opened. A unit that fits no
    box ships alone. Raises ``ParcelInputError`` for a line with no dimensions and no default box.
    """
    units = sorted(
        _units(lines, default_dimensions),
        key=lambda unit: (unit.dimensions.volume_cm3, unit.weight_kg),
        reverse=True,
    )
    boxes_smallest_first = sorted(boxes, key=lambda box: (box.inner.volume_cm3, box.max_weight_kg))
    open_boxes: list[_OpenBox] = []
    alone: list[Parcel] = []
    for unit in units:
        target = next((open_box for open_box in open_boxes if open_box.takes(unit)), None)
        if target is None:
            for box in boxes_smallest_first:
                candidate = _OpenBox(box, "", [], box.inner.volume_cm3, box.content_limit_kg)
                if candidate.takes(unit):
                    fuller = "the open boxes were full for it; " if open_boxes else ""
                    candidate.reason = f"{fuller}the smallest box that holds {unit.line_id}"
                    target = candidate
                    open_boxes.append(target)
                    break
        if target is None:
            alone.append(_alone(unit, boxes))
        else:
            target.add(unit)
    packed = [
        Parcel(
            open_box.box,
            _contents(open_box.units),
            open_box.box.tare_kg + sum((unit.weight_kg for unit in open_box.units), Decimal(0)),
            open_box.box.inner,
            open_box.reason,
        )
        for open_box in open_boxes
    ]
    return packed + alone

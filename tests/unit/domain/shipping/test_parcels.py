"""Packing lines into the merchant's boxes, first-fit decreasing on volume within each box's weight limit."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from app.domain.shipping.parcels import Dimensions, Line, PackedUnits, ParcelInputError, pack
from tests.unit.domain.shipping.builders import dims, make_box

D = Decimal
SMALL = make_box("S", inner=dims(20, 15, 10), max_kg="5", tare_kg="0.2")  # 3,000 cm³
LARGE = make_box("L", inner=dims(60, 40, 40), max_kg="30", tare_kg="1")  # 96,000 cm³


def line(
    line_id: str = "L1",
    *,
    quantity: int = 1,
    weight_kg: str = "0.5",
    dimensions: Dimensions | None = None,
    product_type: str = "apparel",
) -> Line:
    return Line(line_id, quantity, D(weight_kg), product_type, dimensions or dims(10, 10, 10))


class TestPack:
    def test_a_small_order_goes_into_the_smallest_box_that_holds_it_with_the_tare_added(self) -> None:
        parcels = pack([line(quantity=2)], [LARGE, SMALL], {})

        assert len(parcels) == 1
        assert parcels[0].box == SMALL
        assert parcels[0].contents == (PackedUnits("L1", 2),)
        assert parcels[0].weight_kg == D("1.2")
        assert parcels[0].dimensions == SMALL.inner

    def test_units_beyond_a_boxs_volume_open_another_box(self) -> None:
        parcels = pack([line(quantity=4)], [SMALL], {})  # 1,000 cm³ each, 3 fit

        assert [parcel.unit_count for parcel in parcels] == [3, 1]
        assert "open boxes were full" in parcels[1].reason

    def test_units_beyond_a_boxs_weight_limit_open_another_box(self) -> None:
        parcels = pack([line(quantity=3, weight_kg="2")], [SMALL], {})  # 4.8 kg of contents allowed

        assert [parcel.unit_count for parcel in parcels] == [2, 1]
        assert all(parcel.weight_kg <= SMALL.max_weight_kg for parcel in parcels)

    def test_a_box_may_be_filled_exactly_to_its_volume_and_weight(self) -> None:
        exact = make_box("X", inner=dims(30, 10, 10), max_kg="3.5", tare_kg="0.5")

        parcels = pack([line(quantity=3, weight_kg="1")], [exact], {})

        assert len(parcels) == 1
        assert parcels[0].weight_kg == D("3.5")

    def test_larger_units_are_packed_first_and_smaller_ones_fill_the_gaps(self) -> None:
        big = line("BIG", dimensions=dims(20, 15, 8))  # 2,400 cm³
        small = line("SMALL", quantity=2, dimensions=dims(10, 6, 5))  # 300 cm³ each

        parcels = pack([small, big], [SMALL], {})

        assert len(parcels) == 1
        assert parcels[0].contents == (PackedUnits("BIG", 1), PackedUnits("SMALL", 2))

    def test_a_unit_is_turned_to_fit_the_box(self) -> None:
        parcels = pack([line(dimensions=dims(10, 15, 20))], [SMALL], {})

        assert parcels[0].box == SMALL

    def test_a_unit_larger_than_every_box_ships_alone_and_says_so(self) -> None:
        rug = line("RUG", weight_kg="6", dimensions=dims(150, 20, 20))

        parcels = pack([rug, line()], [SMALL, LARGE], {})

        alone = [parcel for parcel in parcels if parcel.box is None]
        assert len(alone) == 1
        assert alone[0].contents == (PackedUnits("RUG", 1),)
        assert alone[0].weight_kg == D(6)
        assert alone[0].dimensions == dims(150, 20, 20)
        assert "ships alone: larger" in alone[0].reason

    def test_a_unit_heavier_than_any_box_it_fits_ships_alone(self) -> None:
        anvil = line("ANVIL", weight_kg="40", dimensions=dims(30, 20, 20))

        (parcel,) = pack([anvil], [SMALL, LARGE], {})

        assert parcel.box is None
        assert "heavier (40 kg)" in parcel.reason

    def test_without_boxes_each_unit_ships_alone(self) -> None:
        parcels = pack([line(quantity=2)], [], {})

        assert [parcel.box for parcel in parcels] == [None, None]
        assert all("no boxes" in parcel.reason for parcel in parcels)

    def test_a_line_without_dimensions_takes_its_product_types_default_box(self) -> None:
        mug = Line("MUG", 1, D("0.4"), "kitchen")

        (parcel,) = pack([mug], [SMALL, LARGE], {"kitchen": dims(50, 30, 30)})

        assert parcel.box == LARGE

    def test_a_line_without_dimensions_or_default_is_refused_by_name(self) -> None:
        with pytest.raises(ParcelInputError) as refused:
            pack([Line("MUG", 1, D("0.4"), "kitchen")], [SMALL], {"apparel": dims(1, 1, 1)})

        assert refused.value.field == "dimensions"
        assert "MUG" in str(refused.value)
        assert "'kitchen'" in str(refused.value)

    def test_nothing_to_pack_gives_no_parcel(self) -> None:
        assert pack([], [SMALL], {}) == []

    def test_each_parcel_explains_its_box_weight_and_contents(self) -> None:
        (parcel,) = pack([line("TEE", quantity=2)], [SMALL], {})

        assert parcel.explain() == (
            "box S (20×15×10 cm), 1.2 kg: 2 × TEE [10×10×10 cm from the line; 0.5 kg from the line]; "
            "the smallest box that holds TEE"
        )

    def test_each_unit_says_where_its_size_and_weight_came_from(self) -> None:
        measured = Line(
            "MUG", 1, D("0.4"), "kitchen", dims(12, 9, 10), "attributes length, width, height", "the variant's weight"
        )
        defaulted = Line("TEE", 2, D("0.2"), "apparel", weight_from="product type apparel's weight")

        (parcel,) = pack([measured, defaulted], [LARGE], {"apparel": dims(5, 5, 2)})

        assert [packed.unit for packed in parcel.contents] == [
            "12×9×10 cm from attributes length, width, height; 0.4 kg from the variant's weight",
            "5×5×2 cm from product type apparel's default size; 0.2 kg from product type apparel's weight",
        ]
        assert "2 × TEE [5×5×2 cm from product type apparel's default size; " in parcel.explain()


class TestValidation:
    @pytest.mark.parametrize(
        ("build", "field"),
        [
            pytest.param(lambda: dims(0, 1, 1), "length_cm", id="zero-length"),
            pytest.param(lambda: dims(1, -1, 1), "width_cm", id="negative-width"),
            pytest.param(lambda: Dimensions(D(1), D(1), D("Infinity")), "height_cm", id="infinite-height"),
            pytest.param(lambda: line(quantity=0), "quantity", id="no-units"),
            pytest.param(lambda: line(weight_kg="-0.1"), "unit_weight_kg", id="negative-weight"),
            pytest.param(lambda: make_box(" "), "name", id="box-without-name"),
            pytest.param(lambda: make_box(max_kg="0"), "max_weight_kg", id="box-zero-limit"),
            pytest.param(lambda: make_box(tare_kg="-1"), "tare_kg", id="box-negative-tare"),
            pytest.param(lambda: make_box(max_kg="1", tare_kg="1"), "tare_kg", id="box-heavier-than-limit"),
        ],
    )
    def test_bad_input_is_refused_naming_its_field(self, build: Callable[[], object], field: str) -> None:
        with pytest.raises(ParcelInputError) as refused:
            build()

        assert refused.value.field == field

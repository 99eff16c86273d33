"""Properties of selection and packing over random candidates, lines and boxes."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.shipping.model import Level
from app.domain.shipping.parcels import Box, Dimensions, Line, pack
from app.domain.shipping.selection import Candidate, select
from tests.unit.domain.shipping.builders import make_candidate, make_facts

PROMISED = date(2026, 12, 9)

cents = st.integers(min_value=0, max_value=20_000).map(lambda value: Decimal(value).scaleb(-2))
candidates = st.builds(
    lambda carrier, level, total, days, preference: make_candidate(
        carrier=carrier,
        level=level,
        total=str(total),
        latest=PROMISED + timedelta(days=days),
        preference=preference,
    ),
    carrier=st.sampled_from(["UPS", "FedEx", "USPS", "DHL"]),
    level=st.sampled_from(list(Level)),
    total=cents,
    days=st.integers(min_value=-4, max_value=4),
    preference=st.integers(min_value=0, max_value=3),
)


@given(level=st.sampled_from(list(Level)), offered=st.lists(candidates, max_size=10))
def test_the_choice_is_never_dearer_than_another_rate_of_its_level_that_keeps_the_promise(
    level: Level, offered: list[Candidate]
) -> None:
    selection = select(level, PROMISED, offered, make_facts(), [])

    keeping = [c for c in offered if c.quote.level is level and c.window.latest <= PROMISED]
    if keeping:
        assert selection.chosen is not None
        assert selection.chosen.quote.level is level
        assert selection.meets_promise
        assert all(selection.chosen.quote.total.amount <= other.quote.total.amount for other in keeping)
    assert (selection.chosen is None) == (not offered)
    assert len(selection.verdicts) == len(offered)
    assert [verdict.kept for verdict in selection.verdicts].count(True) == (1 if offered else 0)


sides = st.integers(min_value=1, max_value=70).map(Decimal)
dimensions = st.builds(Dimensions, sides, sides, sides)
weights = st.integers(min_value=0, max_value=3_000).map(lambda grams: Decimal(grams).scaleb(-2))
lines = st.lists(
    st.builds(
        lambda index, quantity, weight, size: Line(f"L{index}", quantity, weight, "any", size),
        index=st.integers(),
        quantity=st.integers(min_value=1, max_value=6),
        weight=weights,
        size=dimensions,
    ),
    max_size=6,
    unique_by=lambda line: line.line_id,
)
boxes = st.lists(
    st.builds(
        lambda index, inner, tare, room: Box(f"B{index}", inner, tare + room, tare),
        index=st.integers(),
        inner=dimensions,
        tare=st.integers(min_value=0, max_value=100).map(lambda grams: Decimal(grams).scaleb(-2)),
        room=st.integers(min_value=1, max_value=3_000).map(lambda grams: Decimal(grams).scaleb(-2)),
    ),
    max_size=4,
)


@settings(max_examples=200)
@given(lines=lines, boxes=boxes)
def test_packing_never_loses_duplicates_or_overfills(lines: list[Line], boxes: list[Box]) -> None:
    parcels = pack(lines, boxes, {})

    packed: Counter[str] = Counter()
    for parcel in parcels:
        for units in parcel.contents:
            packed[units.line_id] += units.quantity
    assert packed == Counter({line.line_id: line.quantity for line in lines})

    by_id = {line.line_id: line for line in lines}
    for parcel in parcels:
        contents = [(by_id[units.line_id], units.quantity) for units in parcel.contents]
        content_kg = sum((line.unit_weight_kg * quantity for line, quantity in contents), Decimal(0))
        if parcel.box is None:
            assert parcel.unit_count == 1
            continue
        assert parcel.weight_kg == parcel.box.tare_kg + content_kg
        assert parcel.weight_kg <= parcel.box.max_weight_kg
        volume = sum(
            (line.dimensions.volume_cm3 * quantity for line, quantity in contents if line.dimensions), Decimal(0)
        )
        assert volume <= parcel.box.inner.volume_cm3
        assert all(line.dimensions and line.dimensions.fits_inside(parcel.box.inner) for line, _ in contents)

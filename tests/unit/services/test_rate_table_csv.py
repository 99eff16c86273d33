"""Rate tables as CSV: a file is read whole or refused with every problem's row and column, and what
is written reads back to the same tables."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.shipping.calendar import MON_FRI, MON_SAT
from app.domain.shipping.model import Level
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import Area, PostalRange, RateTable, Service, Surcharges, WeightBracket, Zone
from app.services.input_problems import InputProblem
from app.services.shipping.tables import (
    COLUMNS,
    TablesRejected,
    edit_service,
    format_weekdays,
    parse_weekdays,
    read_rate_tables,
    service_form,
    without_service,
    write_rate_tables,
)

HEADER = ",".join(COLUMNS)
# warehouse,carrier,service,currency,dim_divisor,level,delivery_days,fuel_pct,residential,remote_area,
# remote_areas,oversize,oversize_longest_side_cm,oversize_length_plus_girth_cm,zone,areas,
# transit_days_min,transit_days_max,per_kg_beyond,up_to_kg,price
GROUND = "W1,UPS,Ground,USD,5000,standard,Mon-Fri,17.5,5.85,4.45,US:596..599,32,122,266"
GOOD = [
    f"{GROUND},Local,US:75;US:76,1,2,1.55,1,10.40",
    f"{GROUND},Local,US:75;US:76,1,2,1.55,5,15.20",
    f"{GROUND},National,US,4,5,,1,13.20",
    "W1,USPS,Ground Advantage,USD,,standard,Mon-Sat,,,,,,,,All,US;PR,2,5,,0.5,5.40",
]


def _read(
    *rows: str, header: str = HEADER, warehouses: dict[str, str] | None = None
) -> list[RateTable] | TablesRejected:
    return read_rate_tables(io.StringIO("\r\n".join([header, *rows]) + "\r\n"), warehouses)


def _problems(*rows: str, header: str = HEADER) -> list[tuple[int | None, str | None]]:
    outcome = _read(*rows, header=header)
    assert isinstance(outcome, TablesRejected)
    return [(problem.row, problem.column) for problem in outcome.problems]


def test_a_file_makes_its_tables_in_the_order_it_names_them() -> None:
    tables = _read(*GOOD)
    assert isinstance(tables, list)
    (table,) = tables
    assert table.warehouse_id == "W1"
    assert table.currency == "USD"
    assert table.dim_divisors == {"UPS": Decimal(5000)}
    ground, advantage = table.services
    assert (ground.carrier, ground.service, ground.level) == ("UPS", "Ground", Level.STANDARD)
    assert ground.delivery_weekdays == MON_FRI
    assert advantage.delivery_weekdays == MON_SAT
    assert ground.surcharges == Surcharges(
        Decimal("17.5"),
        Decimal("5.85"),
        Decimal("4.45"),
        (Area("US", (), (PostalRange("596", "599"),)),),
        Decimal(32),
        Decimal(122),
        Decimal(266),
    )
    local, national = ground.zones
    assert local == Zone(
        "Local",
        (Area("US", ("75",)), Area("US", ("76",))),
        (WeightBracket(Decimal(1), Decimal("10.40")), WeightBracket(Decimal(5), Decimal("15.20"))),
        Transit(1, 2),
        Decimal("1.55"),
    )
    assert national.per_kg_beyond is None
    assert national.areas == (Area("US"),)
    assert advantage.surcharges == Surcharges()


def test_optional_columns_may_be_left_out() -> None:
    header = "warehouse,carrier,service,currency,level,zone,areas,transit_days_min,transit_days_max,up_to_kg,price"
    tables = _read("W1,DHL,Express,EUR,overnight,EU,DE;AT,1,1,2,19.90", header=header)
    assert isinstance(tables, list)
    (service,) = tables[0].services
    assert service.surcharges == Surcharges()
    assert service.delivery_weekdays == MON_FRI
    assert tables[0].dim_divisors == {}


def test_warehouses_may_be_named_by_slug_when_the_store_is_known() -> None:
    row = GOOD[3].replace("W1,", "main-warehouse,", 1)
    tables = _read(row, warehouses={"main-warehouse": "V2FyZWhvdXNlOjE=", "V2FyZWhvdXNlOjE=": "V2FyZWhvdXNlOjE="})
    assert isinstance(tables, list)
    assert tables[0].warehouse_id == "V2FyZWhvdXNlOjE="
    assert _read(GOOD[3], warehouses={"main-warehouse": "V2FyZWhvdXNlOjE="}) == TablesRejected(
        (InputProblem(2, "warehouse", "W1", "is not a warehouse of this store: use its slug or ID"),)
    )


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (GOOD[3].replace(",USD,", ",usd$,"), "currency"),
        (GOOD[3].replace(",USD,", ",XYZ,"), "currency"),
        (GOOD[3].replace("standard", "economy"), "level"),
        (GOOD[3].replace("Mon-Sat", "Weekdays"), "delivery_days"),
        (GOOD[3].replace("Mon-Sat", "Sat-Mon"), "delivery_days"),
        (GOOD[3].replace("US;PR", "USA"), "areas"),
        (GOOD[3].replace("US;PR", "US:99..10"), "areas"),
        (GOOD[3].replace("US;PR", ";"), "areas"),
        (GOOD[3].replace(",2,5,", ",5,2,"), "transit_days_max"),
        (GOOD[3].replace(",2,5,", ",two,5,"), "transit_days_min"),
        (GOOD[3].replace(",2,5,", ",2,5²,"), "transit_days_max"),
        (GOOD[3].replace(",0.5,5.40", ",0,5.40"), "up_to_kg"),
        (GOOD[3].replace(",0.5,5.40", ",0.5,-1"), "price"),
        (GOOD[3].replace(",0.5,5.40", ",0.5,"), "price"),
        (GOOD[3].replace(",0.5,5.40", ',0.5,"1,50"'), "price"),
        (GOOD[2].replace(",17.5,", ",-2,"), "fuel_pct"),
        (GOOD[2].replace(",5000,", ",0,"), "dim_divisor"),
        (GOOD[2].replace(",122,", ",0,"), "oversize_longest_side_cm"),
        (GOOD[1].replace(",1.55,", ",-1,"), "per_kg_beyond"),
        (GOOD[2].replace("US:596..599", "U5"), "remote_areas"),
        (GOOD[3].replace("USPS,", ",", 1), "carrier"),
        (GOOD[3].replace("USPS,", "=HYPERLINK(1),", 1), "carrier"),
        (GOOD[3].replace(",All,", ",@zone,"), "zone"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column(row: str, column: str) -> None:
    assert _problems(GOOD[0], row) == [(3, column)]


def test_every_problem_in_the_file_is_listed_not_only_the_first() -> None:
    bad_level = GOOD[0].replace("standard", "fast")
    bad_price = GOOD[3].replace(",5.40", ",lots")
    assert _problems(bad_level, GOOD[2], bad_price) == [(2, "level"), (4, "price")]


@pytest.mark.parametrize(
    ("row", "column", "what"),
    [
        (GOOD[1].replace(",USD,", ",EUR,"), "currency", "warehouse W1"),
        (GOOD[2].replace(",5000,", ",6000,"), "dim_divisor", "W1's UPS services"),
        (GOOD[1].replace(",standard,", ",expedited,"), "level", "W1's UPS Ground"),
        (GOOD[1].replace(",17.5,", ",18,"), "fuel_pct", "W1's UPS Ground"),
        (GOOD[1].replace("Mon-Fri", "Mon-Sat"), "delivery_days", "W1's UPS Ground"),
        (GOOD[1].replace(",1,2,1.55,", ",1,3,1.55,"), "transit_days_max", "W1's UPS Ground zone Local"),
        (GOOD[1].replace("US:75;US:76", "US:75"), "areas", "W1's UPS Ground zone Local"),
        (GOOD[1].replace(",1.55,", ",,"), "per_kg_beyond", "W1's UPS Ground zone Local"),
    ],
)
def test_values_repeated_on_rows_must_agree_and_a_disagreement_names_the_row_it_differs_from(
    row: str, column: str, what: str
) -> None:
    outcome = _read(GOOD[0], row)
    assert isinstance(outcome, TablesRejected)
    (problem,) = outcome.problems
    assert (problem.row, problem.column) == (3, column)
    assert problem.message.startswith("differs from row 2")
    assert what in problem.message


def test_written_the_same_way_differently_still_agrees() -> None:
    respaced = GOOD[1].replace("US:75;US:76", "us:75 ; US:76").replace(",17.5,", ",17.50,")
    assert isinstance(_read(GOOD[0], respaced), list)


def test_a_zones_brackets_rise_lightest_first() -> None:
    assert _problems(GOOD[1], GOOD[0]) == [(3, "up_to_kg")]
    assert _problems(GOOD[0], GOOD[0]) == [(3, "up_to_kg")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(None, None)]),
        ("warehouse;carrier;service\r\n", [(1, None)]),
        (HEADER + ",colour\r\n", [(1, None)]),
        (HEADER.replace(",price", "") + "\r\n", [(1, "price")]),
        (HEADER + ",price\r\n", [(1, "price")]),
        (HEADER + "\r\n" + GOOD[0] + ",extra\r\n", [(2, None)]),
        (HEADER + '\r\n"W1,UPS\r\n', [(2, None)]),
        (HEADER + "\r\n" + GOOD[3] + '\r\nW1,"UPS\r\nNext Day",x\r\n', [(3, None)]),
    ],
)
def test_a_file_that_cannot_be_read_says_where(text: str, expected: list[tuple[int | None, str | None]]) -> None:
    outcome = read_rate_tables(io.StringIO(text))
    assert isinstance(outcome, TablesRejected)
    assert [(problem.row, problem.column) for problem in outcome.problems] == expected


def test_a_file_not_in_utf8_is_refused() -> None:
    binary = io.BytesIO((HEADER + "\r\n" + GOOD[3].replace("USPS", "Poste fran\xe7aise") + "\r\n").encode("latin-1"))
    outcome = read_rate_tables(io.TextIOWrapper(binary, encoding="utf-8", newline=""))
    assert isinstance(outcome, TablesRejected)
    assert "UTF-8" in outcome.problems[0].message


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (MON_FRI, "Mon-Fri"),
        (MON_SAT, "Mon-Sat"),
        (frozenset({0, 2, 4}), "Mon,Wed,Fri"),
        (frozenset({0, 1, 5}), "Mon,Tue,Sat"),
    ],
)
def test_delivery_days_are_written_as_spans_and_read_back(days: frozenset[int], text: str) -> None:
    assert format_weekdays(days) == text
    assert parse_weekdays(text) == days
    assert parse_weekdays("monday - friday") == MON_FRI


# ---------------------------------------------------------------- round trip

_names = (
    st.text(st.sampled_from("ABCxyz 09,\"'-"), min_size=1, max_size=8)
    .map(str.strip)
    .filter(lambda name: name != "" and not name.startswith("-"))
)
_codes = st.text(st.sampled_from("ABN0123456789"), min_size=1, max_size=4)
_amounts = st.integers(min_value=0, max_value=99_999).map(lambda cents: Decimal(cents).scaleb(-2))
_positive = st.integers(min_value=1, max_value=99_999).map(lambda grams: Decimal(grams).scaleb(-3))


@st.composite
def _ranges(draw: st.DrawFn) -> PostalRange:
    first, last = sorted(draw(st.lists(st.text("0123456789", min_size=3, max_size=3), min_size=2, max_size=2)))
    return PostalRange(first, last)


_areas = st.builds(
    Area,
    st.sampled_from(["US", "CA", "GB", "DE"]),
    st.lists(_codes, max_size=3).map(tuple),
    st.lists(_ranges(), max_size=2).map(tuple),
)


@st.composite
def _zones(draw: st.DrawFn, name: str) -> Zone:
    limits = sorted(set(draw(st.lists(_positive, min_size=1, max_size=4))))
    low = draw(st.integers(min_value=0, max_value=5))
    return Zone(
        name,
        tuple(draw(st.lists(_areas, min_size=1, max_size=3))),
        tuple(WeightBracket(limit, draw(_amounts)) for limit in limits),
        Transit(low, low + draw(st.integers(min_value=0, max_value=4))),
        draw(st.none() | _amounts),
    )


@st.composite
def _services(draw: st.DrawFn, carrier: str, name: str) -> Service:
    zone_names = draw(st.lists(_names, min_size=1, max_size=3, unique=True))
    return Service(
        carrier,
        name,
        draw(st.sampled_from(list(Level))),
        tuple(draw(_zones(zone)) for zone in zone_names),
        Surcharges(
            draw(_amounts),
            draw(_amounts),
            draw(_amounts),
            tuple(draw(st.lists(_areas, max_size=2))),
            draw(_amounts),
            draw(st.none() | _positive),
            draw(st.none() | _positive),
        ),
        draw(st.frozensets(st.integers(min_value=0, max_value=6), min_size=1)),
    )


@st.composite
def _tables(draw: st.DrawFn, warehouse: str) -> RateTable:
    keys = draw(
        st.lists(st.tuples(st.sampled_from(["UPS", "USPS", "DHL"]), _names), min_size=1, max_size=3, unique=True)
    )
    services = tuple(draw(_services(carrier, name)) for carrier, name in keys)
    carriers = sorted({service.carrier for service in services})
    divisors = {carrier: draw(_positive) for carrier in carriers if draw(st.booleans())}
    return RateTable(warehouse, draw(st.sampled_from(["USD", "EUR", "CAD"])), services, divisors)


@st.composite
def _all_tables(draw: st.DrawFn) -> list[RateTable]:
    warehouses = draw(
        st.lists(st.sampled_from(["V2FyZWhvdXNlOjE=", "V2FyZWhvdXNlOjI=", "W3"]), max_size=3, unique=True)
    )
    return [draw(_tables(warehouse)) for warehouse in warehouses]


@settings(max_examples=150, deadline=None)
@given(tables=_all_tables())
def test_what_is_written_reads_back_to_the_same_tables(tables: list[RateTable]) -> None:
    assert read_rate_tables(io.StringIO(write_rate_tables(tables), newline="")) == tables


def test_the_demo_tables_read_and_write_back_the_same() -> None:
    path = Path(__file__).parents[3] / "app" / "demo_rate_tables.csv"
    with path.open(newline="") as demo:
        slugs = {"main-warehouse": "W1", "shiphero-3pl": "W2", "red-stag-3pl": "W3", "grindworks-supply": "W4"}
        tables = read_rate_tables(demo, slugs)
    assert isinstance(tables, list)
    assert [table.warehouse_id for table in tables] == ["W1", "W2", "W3", "W4"]
    assert read_rate_tables(io.StringIO(write_rate_tables(tables))) == tables


# ---------------------------------------------------------------- one service in a form


def _table() -> RateTable:
    tables = _read(*GOOD)
    assert isinstance(tables, list)
    return tables[0]


def test_a_service_shown_in_the_form_and_saved_unchanged_changes_nothing() -> None:
    table = _table()
    fields, zones = service_form(table, table.services[0])
    assert fields["carrier"] == "UPS"
    assert fields["dim_divisor"] == "5000"
    assert zones.splitlines()[0] == "zone,areas,transit_days_min,transit_days_max,per_kg_beyond,up_to_kg,price"
    assert edit_service([table], "W1", fields, zones, replacing=("UPS", "Ground")) == [table]


def test_an_edited_service_replaces_the_one_it_was_and_keeps_its_place() -> None:
    table = _table()
    fields, zones = service_form(table, table.services[0])
    edited = edit_service([table], "W1", {**fields, "service": "Ground Saver"}, zones, replacing=("UPS", "Ground"))
    assert isinstance(edited, list)
    assert [s.service for s in edited[0].services] == ["Ground Saver", "Ground Advantage"]


def test_a_new_service_goes_last_and_a_new_warehouse_gets_its_table() -> None:
    table = _table()
    fields, zones = service_form(table, table.services[1])
    added = edit_service([table], "W1", {**fields, "service": "Priority"}, zones)
    assert isinstance(added, list)
    assert [s.service for s in added[0].services][-1] == "Priority"
    elsewhere = edit_service([table], "W2", fields, zones)
    assert isinstance(elsewhere, list)
    assert [t.warehouse_id for t in elsewhere] == ["W1", "W2"]


def test_a_refused_field_is_named_once_and_a_zone_row_by_its_line() -> None:
    table = _table()
    fields, zones = service_form(table, table.services[0])
    zones = zones.replace(",10.40", ",-3")
    outcome = edit_service([table], "W1", {**fields, "level": "soon"}, zones, replacing=("UPS", "Ground"))
    assert isinstance(outcome, TablesRejected)
    assert [(p.row, p.column) for p in outcome.problems] == [(None, "level"), (2, "price")]


def test_a_service_cannot_take_the_name_of_another_in_its_table() -> None:
    table = _table()
    fields, zones = service_form(table, table.services[0])
    renamed = {**fields, "carrier": "USPS", "service": "Ground Advantage"}
    outcome = edit_service([table], "W1", renamed, zones, replacing=("UPS", "Ground"))
    assert isinstance(outcome, TablesRejected)
    assert outcome.problems[0].column == "service"


def test_zone_rows_need_their_header_and_at_least_one_row() -> None:
    table = _table()
    fields, zones = service_form(table, table.services[0])
    headless = edit_service([table], "W1", fields, "\n".join(zones.splitlines()[1:]))
    assert isinstance(headless, TablesRejected)
    assert headless.problems[0].column == "zones"
    empty = edit_service([table], "W1", fields, zones.splitlines()[0])
    assert isinstance(empty, TablesRejected)
    assert empty.problems[0].column == "zones"


def test_removing_a_tables_last_service_removes_the_table() -> None:
    table = _table()
    once = without_service([table], "W1", "UPS", "Ground")
    assert [s.service for s in once[0].services] == ["Ground Advantage"]
    assert once[0].dim_divisors == {}
    assert without_service(once, "W1", "USPS", "Ground Advantage") == []

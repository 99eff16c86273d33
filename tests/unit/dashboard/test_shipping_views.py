"""The Rate tables page's pure builders: tables by warehouse name, and a form's refusals by field."""

from __future__ import annotations

import io

from babel import Locale

from app.dashboard.shipping.rate_table_views import field_errors, warehouse_aliases, warehouse_tables
from app.services.input_problems import InputProblem
from app.services.ports import WarehouseRef
from app.services.shipping.tables import COLUMNS, read_rate_tables

EAST = WarehouseRef("V2FyZWhvdXNlOjE=", "east", "East")
WEST = WarehouseRef("V2FyZWhvdXNlOjI=", "west", "West")
FILE = "\r\n".join(
    [
        ",".join(COLUMNS),
        "V2FyZWhvdXNlOjE=,UPS,Ground,USD,5000,standard,Mon-Fri,17.5,5.85,4.45,US:596..599,32,122,,Local,US:75,1,2,1.55,1,10.40",
        "",
    ]
)


def test_tables_show_by_warehouse_name_then_the_warehouses_without_one() -> None:
    tables = read_rate_tables(io.StringIO(FILE))
    assert isinstance(tables, list)
    east, west = warehouse_tables(tables, [EAST, WEST], Locale.parse("en_US"))
    assert (east.name, east.currency, east.divisors) == ("East", "USD", "UPS 5000 cm³/kg")
    (ground,) = east.services
    assert ground.surcharges == (
        "fuel 17.5%; residential $5.85; remote areas $4.45 (US:596..599); oversize $32.00 (longest side > 122 cm)"
    )
    assert ground.zones[0].transit == "1–2 business days"
    assert ground.zones[0].prices == "≤ 1 kg $10.40, then $1.55 per kg"
    assert "carrier=UPS" in ground.edit
    assert (west.name, west.services) == ("West", ())


def test_without_saleors_list_tables_show_by_warehouse_id() -> None:
    tables = read_rate_tables(io.StringIO(FILE))
    assert isinstance(tables, list)
    (east,) = warehouse_tables(tables, None, Locale.parse("en_US"))
    assert east.name == EAST.id


def test_a_forms_refusals_go_to_their_field_and_zone_rows_to_their_lines() -> None:
    by_field, lines = field_errors(
        [
            InputProblem(None, "level", "soon", "must be one of standard, expedited, overnight"),
            InputProblem(3, "price", "-1", "must be zero or more, got -1"),
            InputProblem(None, "zones", "", "need at least one row"),
        ]
    )
    assert by_field == {"level": "must be one of standard, expedited, overnight"}
    assert lines == ["line 3, price: '-1' must be zero or more, got -1", "need at least one row"]


def test_a_file_may_name_a_warehouse_by_slug_in_any_case_or_by_id() -> None:
    aliases = warehouse_aliases([EAST])
    assert aliases == {"east": EAST.id, EAST.id: EAST.id}

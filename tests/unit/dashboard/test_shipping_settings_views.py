"""The shipping settings forms' builders: stored items to fields, fields back to items, reordering."""

from __future__ import annotations

import json

from app.dashboard.shipping import settings_views as views
from app.services.ports import WarehouseRef
from app.services.shipping.settings import EXAMPLE_CHANNELS, EXAMPLE_WAREHOUSES, ShippingSettings

STORED = ShippingSettings.model_validate({"warehouses": EXAMPLE_WAREHOUSES, "channels": EXAMPLE_CHANNELS}).model_dump(
    mode="json"
)
BROOKLYN = STORED["warehouses"][0]


class TestWarehouses:
    def test_saleor_s_warehouses_come_first_then_those_it_no_longer_lists(self) -> None:
        saleor = [WarehouseRef("W2", "west", "West"), WarehouseRef(BROOKLYN["id"], "bk", "Brooklyn DC")]
        rows = views.warehouse_rows([BROOKLYN, {**BROOKLYN, "id": "GONE", "name": ""}], saleor)
        assert [(r.id, r.name, r.configured, r.in_saleor) for r in rows] == [
            ("W2", "West", False, True),
            (BROOKLYN["id"], "Brooklyn DC", True, True),
            ("GONE", "GONE", True, False),
        ]
        assert rows[1].summary == (
            "11201, US; America/New_York; ships Mon, Tue, Wed, Thu, Fri; handling 0–1 business days"
        )
        assert rows[0].edit == "/api/dashboard/fragments/shipping/warehouses/edit?id=W2"

    def test_when_saleor_did_not_answer_the_stored_ones_are_not_called_missing(self) -> None:
        [row] = views.warehouse_rows([BROOKLYN], None)
        assert (row.name, row.in_saleor) == ("Brooklyn", True)

    def test_a_stored_warehouse_round_trips_through_its_form(self) -> None:
        fields = views.warehouse_fields(BROOKLYN, BROOKLYN["id"], "ignored")
        assert fields["cutoffs"] == {"mon": "15:00", "fri": "12:00"}
        assert fields["closures"] == "2026-12-24"
        form = {name: value for name, value in fields.items() if isinstance(value, str)}
        form |= {f"cutoff_{day}": cutoff for day, cutoff in fields["cutoffs"].items()}
        again = views.warehouse_item(views.warehouse_form_fields(form, fields["working_days"]))
        assert (
            ShippingSettings.model_validate({"warehouses": [again]}).warehouses[0]
            == (ShippingSettings.model_validate({"warehouses": [BROOKLYN]}).warehouses[0])
        )

    def test_a_new_warehouse_starts_on_weekdays_with_a_2_pm_cut_off(self) -> None:
        fields = views.warehouse_fields(None, "W2", "West")
        assert (fields["id"], fields["name"], fields["working_days"]) == (
            "W2",
            "West",
            ["mon", "tue", "wed", "thu", "fri"],
        )
        assert set(fields["cutoffs"].values()) == {"14:00"}

    def test_blank_holiday_fields_take_the_origin_s_and_weekdays_keep_their_order(self) -> None:
        form = {
            "id": "W",
            "name": "",
            "country": " de ",
            "time_zone": "Europe/Berlin",
            "closures": "2026-12-24, 2026-12-31",
        }
        fields = views.warehouse_form_fields(form, ["fri", "mon"])
        item = views.warehouse_item(fields)
        assert item["working_days"] == ["mon", "fri"]
        assert (item["origin"]["country"], item["holiday_country"], item["holiday_subdivision"]) == ("DE", None, None)
        assert item["closures"] == ["2026-12-24", "2026-12-31"]
        assert item["cutoffs"] == {}


class TestChannels:
    def test_levels_without_a_promise_are_not_offered_and_blank_prices_are_left_out(self) -> None:
        fields = views.channel_fields(STORED["channels"][0])
        assert fields["levels"]["standard"] == {
            "promise_days": "5",
            "markup_pct": "10",
            "markup_fixed": "0",
            "flat_price": "",
            "free_above": "75",
        }
        item = views.channel_item(fields)
        assert set(item["levels"]) == {"standard", "expedited"}
        assert item["levels"]["expedited"] == {
            "promise_days": "3",
            "markup_pct": "0",
            "markup_fixed": "0",
            "flat_price": "14.90",
        }

    def test_the_summary_says_each_level_in_words(self) -> None:
        assert views.channel_summary(STORED["channels"][0]) == [
            "standard: 5 business days, cost + 10% + 0, free from 75",
            "expedited: 3 business days, flat 14.90",
        ]


class TestRows:
    def test_rows_are_read_by_position_and_blank_ones_left_out(self) -> None:
        columns = ("name", "length_cm", "tare_kg")
        values = {"name": ["S", "", "M"], "length_cm": ["20", "", "40"], "tare_kg": ["", "", " 0.4 "]}
        assert views.rows_from_form(columns, values) == [
            {"name": "S", "length_cm": "20"},
            {"name": "M", "length_cm": "40", "tare_kg": "0.4"},
        ]

    def test_a_row_without_its_first_column_still_names_it_blank_so_the_refusal_says_so(self) -> None:
        assert views.rows_from_form(("name", "length_cm"), {"name": [""], "length_cm": ["3"]}) == [
            {"name": "", "length_cm": "3"}
        ]


class TestRules:
    def test_a_rule_round_trips_through_its_form(self) -> None:
        rule = json.loads(
            '{"name": "Alaska", "countries": ["US"], "postal_prefixes": ["995", "996"], "strategy": "fastest"}'
        )
        stored = ShippingSettings.model_validate({"rules": [rule]}).model_dump(mode="json")["rules"][0]
        fields = views.rule_fields(stored)
        assert (fields["postal_prefixes"], fields["min_weight_kg"]) == ("995, 996", "")
        assert views.rule_item(fields) == {**rule}
        assert views.rule_summary(stored) == ("countries: US; postal prefixes: 995, 996", "the fastest option")

    def test_moving_swaps_with_the_neighbour_and_ignores_the_ends(self) -> None:
        items = [{"name": "a"}, {"name": "b"}, {"name": "c"}]
        assert [i["name"] for i in views.moved(items, 2, -1)] == ["a", "c", "b"]
        assert views.moved(items, 0, -1) == items
        assert views.moved(items, 2, 1) == items

    def test_replacing_puts_the_item_in_its_place_or_at_the_end(self) -> None:
        items = [{"name": "a"}, {"name": "b"}]
        assert views.replaced(items, 0, {"name": "z"}) == [{"name": "z"}, {"name": "b"}]
        assert views.replaced(items, None, {"name": "z"})[-1] == {"name": "z"}


def test_field_errors_mark_the_fields_a_refusal_names() -> None:
    message = "warehouses: item 1 › origin › country: String should match; item 1: warehouse W: time_zone: 'X' is not"
    assert set(views.field_errors(message, ("country", "time_zone", "city", "name"))) == {"country", "time_zone"}

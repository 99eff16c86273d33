"""Shipping → Warehouses, Channels & promises, Boxes & sizes, Rules: the shipping settings edited in
forms, saved through the settings section (validated, kept in the history), refused by field."""

from __future__ import annotations

import html
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import SettingsChangeRow
from app.runtime import Runtime
from tests.api.receipt_answers import EAST_ID, WAREHOUSES
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
MANAGER = ("MANAGE_SHIPPING",)
FRAGMENTS = "/api/dashboard/fragments/shipping"
ACTIONS = "/api/dashboard/shipping"


@pytest.fixture(autouse=True)
def warehouses(fake_saleor: FakeSaleor) -> FakeSaleor:
    fake_saleor.on("Warehouses", WAREHOUSES)
    return fake_saleor


async def _changes(runtime: Runtime) -> list[dict[str, Any]]:
    """Each saved change's section as it was after it, oldest first."""
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(SettingsChangeRow).order_by(SettingsChangeRow.id))).all()
    return [json.loads(row.after) for row in rows]


def warehouse_form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "id": EAST_ID,
        "name": "East",
        "country": "us",
        "postal_code": "11201",
        "city": "Brooklyn",
        "country_area": "NY",
        "street": "",
        "time_zone": "America/New_York",
        "holiday_country": "",
        "holiday_subdivision": "ny",
        "working_days": ["mon", "tue", "wed", "thu", "fri"],
        **{f"cutoff_{day}": "15:00" for day in ("mon", "tue", "wed", "thu")},
        "cutoff_fri": "12:00",
        "handling_days_min": "0",
        "handling_days_max": "2",
        "closures": "2026-12-24\n2026-12-31",
        **overrides,
    }


def channel_form(**overrides: str) -> dict[str, str]:
    return {
        "replacing": "",
        "channel": "default-channel",
        "warehouse": EAST_ID,
        "standard_promise_days": "5",
        "standard_markup_pct": "10",
        "standard_free_above": "75",
        "expedited_promise_days": "2",
        "expedited_flat_price": "14.90",
        "overnight_promise_days": "",
        **overrides,
    }


def rule_form(**overrides: str) -> dict[str, str]:
    return {
        "index": "",
        "name": "Glass never by USPS",
        "strategy": "cheapest",
        "product_types": "Glassware",
        "excluded_carriers": "USPS",
        "countries": "",
        "min_weight_kg": "",
        **overrides,
    }


async def _post(client: httpx.AsyncClient, headers: dict[str, str], path: str, data: Any) -> httpx.Response:
    return await client.post(ACTIONS + path, data=data, headers=headers)


class TestTabs:
    async def test_every_form_has_a_tab_and_needs_manage_shipping(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        for tab in ("warehouses", "channels", "boxes", "rules"):
            page = await client.get(f"{FRAGMENTS}/{tab}", headers=staff_headers(*MANAGER))
            assert page.status_code == 200, tab
            assert f'data-fragment="{FRAGMENTS}/{tab}" aria-current="page"' in page.text
            refused = await client.get(f"{FRAGMENTS}/{tab}", headers=staff_headers("MANAGE_ORDERS"))
            assert refused.status_code == 403
        saved = await _post(client, staff_headers("MANAGE_ORDERS"), "/warehouses", warehouse_form())
        assert saved.status_code == 403


class TestWarehouses:
    async def test_saleor_s_warehouses_are_listed_to_set_up(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        page = await client.get(f"{FRAGMENTS}/warehouses", headers=staff_headers(*MANAGER))
        assert f'data-warehouse="{EAST_ID}"' in page.text
        assert "Not set up" in page.text
        form = await client.get(f"{FRAGMENTS}/warehouses/edit", params={"id": EAST_ID}, headers=staff_headers(*MANAGER))
        assert '<option value="America/New_York">' in form.text
        assert 'name="cutoff_mon" value="14:00"' in form.text

    async def test_a_valid_form_saves_the_warehouse_with_history(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        response = await _post(client, staff_headers(*MANAGER), "/warehouses", warehouse_form())
        assert response.status_code == 200
        assert "Warehouse East saved." in response.text
        [after] = await _changes(runtime)
        [warehouse] = after["warehouses"]
        assert warehouse["origin"] == {
            "country": "US",
            "postal_code": "11201",
            "city": "Brooklyn",
            "country_area": "NY",
            "street": "",
        }
        assert warehouse["cutoffs"] == {
            "mon": "15:00:00",
            "tue": "15:00:00",
            "wed": "15:00:00",
            "thu": "15:00:00",
            "fri": "12:00:00",
        }
        assert (warehouse["holiday_subdivision"], warehouse["handling_days_max"]) == ("NY", 2)
        assert warehouse["closures"] == ["2026-12-24", "2026-12-31"]
        form = await client.get(f"{FRAGMENTS}/warehouses/edit", params={"id": EAST_ID}, headers=staff_headers(*MANAGER))
        assert 'name="cutoff_fri" value="12:00"' in form.text
        assert '<option value="America/New_York" selected>' in form.text

    async def test_an_invalid_form_is_refused_by_field_and_changes_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        await _post(client, staff_headers(*MANAGER), "/warehouses", warehouse_form())
        bad = warehouse_form(handling_days_min="3", handling_days_max="1", name="East renamed")
        response = await _post(client, staff_headers(*MANAGER), "/warehouses", bad)
        assert response.status_code == 422
        text = html.unescape(response.text)
        assert "Nothing was saved" in text
        assert 'data-field-error="handling_days_max"' in text
        assert "the maximum (1) is below the minimum (3)" in text
        assert 'value="East renamed"' in text  # the form keeps what was typed
        assert len(await _changes(runtime)) == 1
        no_day = await _post(client, staff_headers(*MANAGER), "/warehouses", warehouse_form(working_days=[]))
        assert 'data-field-error="working_days"' in no_day.text
        no_cutoff = await _post(client, staff_headers(*MANAGER), "/warehouses", warehouse_form(working_days=["sat"]))
        assert 'data-field-error="cutoffs"' in no_cutoff.text
        assert "nothing would ever ship" in no_cutoff.text
        assert len(await _changes(runtime)) == 1

    async def test_a_warehouse_a_channel_quotes_from_is_not_removed(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        await _post(client, staff_headers(*MANAGER), "/warehouses", warehouse_form())
        await _post(client, staff_headers(*MANAGER), "/channels", channel_form())
        response = await _post(client, staff_headers(*MANAGER), "/warehouses/remove", {"id": EAST_ID})
        assert response.status_code == 422
        assert "is not among the warehouses" in html.unescape(response.text)
        assert len((await _changes(runtime))[-1]["warehouses"]) == 1


CHANNELS = {
    "data": {
        "channels": [
            {"id": "Q2hhbm5lbDox", "slug": "default-channel", "name": "Default", "currencyCode": "USD"},
            {"id": "Q2hhbm5lbDoy", "slug": "eu", "name": "Europe", "currencyCode": "EUR"},
        ]
    }
}


class TestChannels:
    async def test_the_store_s_channels_not_set_up_yet_are_offered(
        self, client: httpx.AsyncClient, fake_saleor: FakeSaleor, staff_headers: Any
    ) -> None:
        fake_saleor.on("Channels", CHANNELS)
        await _post(client, staff_headers(*MANAGER), "/warehouses", warehouse_form())
        await _post(client, staff_headers(*MANAGER), "/channels", channel_form())
        new = await client.get(f"{FRAGMENTS}/channels/edit", headers=staff_headers(*MANAGER))
        assert '<option value="eu">Europe (eu, EUR)</option>' in new.text
        assert 'value="default-channel"' not in new.text  # it has its shipping already
        edited = await client.get(
            f"{FRAGMENTS}/channels/edit", params={"channel": "default-channel"}, headers=staff_headers(*MANAGER)
        )
        assert '<option value="default-channel" selected>Default (default-channel, USD)</option>' in edited.text

    async def test_the_slug_is_typed_when_saleor_cannot_be_asked(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        form = await client.get(f"{FRAGMENTS}/channels/edit", headers=staff_headers(*MANAGER))
        assert '<input id="channel-channel" name="channel" value=""' in form.text
        assert "Saleor could not be asked for its channels" in form.text

    async def test_a_valid_form_saves_promises_and_prices_with_history(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        await _post(client, staff_headers(*MANAGER), "/warehouses", warehouse_form())
        response = await _post(client, staff_headers(*MANAGER), "/channels", channel_form())
        assert response.status_code == 200
        assert "standard: 5 business days, cost + 10% + 0, free from 75" in response.text
        [channel] = (await _changes(runtime))[-1]["channels"]
        assert channel["warehouse"] == EAST_ID
        assert set(channel["levels"]) == {"standard", "expedited"}  # overnight has no promise: not offered
        assert channel["levels"]["expedited"]["flat_price"] == "14.90"
        renamed = channel_form(replacing="default-channel", channel="eu")
        await _post(client, staff_headers(*MANAGER), "/channels", renamed)
        assert [c["channel"] for c in (await _changes(runtime))[-1]["channels"]] == ["eu"]

    async def test_an_invalid_price_is_refused_by_field_and_changes_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        await _post(client, staff_headers(*MANAGER), "/warehouses", warehouse_form())
        bad = channel_form(expedited_markup_pct="5")  # a flat price takes no markup
        response = await _post(client, staff_headers(*MANAGER), "/channels", bad)
        assert response.status_code == 422
        assert "flat_price: a flat price replaces the carrier&#39;s cost" in response.text
        assert 'data-field-error="levels"' in response.text
        assert len(await _changes(runtime)) == 1


class TestBoxes:
    async def test_rows_are_saved_and_blank_rows_left_out(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        data = {
            "box_name": ["S", "M", ""],
            "box_length_cm": ["20", "40", ""],
            "box_width_cm": ["15", "30", ""],
            "box_height_cm": ["10", "20", ""],
            "box_max_weight_kg": ["5", "20", ""],
            "box_tare_kg": ["", "0.4", ""],
            "size_product_type": ["Shoes", ""],
            "size_length_cm": ["33", ""],
            "size_width_cm": ["22", ""],
            "size_height_cm": ["12", ""],
            "size_weight_kg": ["1.1", ""],
        }
        response = await _post(client, staff_headers(*MANAGER), "/boxes", data)
        assert response.status_code == 200
        assert "Boxes (2) and product type sizes (1) saved." in response.text
        [after] = await _changes(runtime)
        assert [(b["name"], b["tare_kg"]) for b in after["boxes"]] == [("S", "0"), ("M", "0.4")]
        assert after["product_types"][0]["weight_kg"] == "1.1"
        page = await client.get(f"{FRAGMENTS}/boxes", headers=staff_headers(*MANAGER))
        assert 'name="box_name" value="M"' in page.text
        assert 'id="box-rows-template"' in page.text

    async def test_a_bad_row_is_refused_with_its_number_and_field(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        data = {
            "box_name": ["S", "M"],
            "box_length_cm": ["20", "0"],
            "box_width_cm": ["15", "30"],
            "box_height_cm": ["10", "20"],
            "box_max_weight_kg": ["5", ""],
        }
        response = await _post(client, staff_headers(*MANAGER), "/boxes", data)
        assert response.status_code == 422
        assert "boxes: item 2 › max_weight_kg: " in html.unescape(response.text)
        assert 'name="box_name" value="M"' in response.text
        assert await _changes(runtime) == []


class TestRules:
    async def test_rules_are_added_edited_moved_and_removed_with_history(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        headers = staff_headers(*MANAGER)
        await _post(client, headers, "/rules", rule_form())
        await _post(
            client,
            headers,
            "/rules",
            rule_form(
                name="Alaska fastest",
                countries="us",
                postal_prefixes="995, 996",
                product_types="",
                excluded_carriers="",
                strategy="fastest",
            ),
        )
        first, second = (await _changes(runtime))[-1]["rules"]
        assert (first["name"], first["excluded_carriers"]) == ("Glass never by USPS", ["USPS"])
        assert (second["postal_prefixes"], second["strategy"]) == (["995", "996"], "fastest")

        await _post(client, headers, "/rules/move", {"index": "1", "direction": "up"})
        assert [r["name"] for r in (await _changes(runtime))[-1]["rules"]] == ["Alaska fastest", "Glass never by USPS"]
        await _post(
            client,
            headers,
            "/rules",
            rule_form(index="1", name="Glass by UPS", only_carriers="UPS", excluded_carriers=""),
        )
        assert [r["name"] for r in (await _changes(runtime))[-1]["rules"]] == ["Alaska fastest", "Glass by UPS"]
        page = await _post(client, headers, "/rules/remove", {"index": "0"})
        assert "Move up" not in page.text
        assert [r["name"] for r in (await _changes(runtime))[-1]["rules"]] == ["Glass by UPS"]
        assert len(await _changes(runtime)) == 5

    async def test_an_invalid_rule_is_refused_by_field_and_changes_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers: Any
    ) -> None:
        response = await _post(client, staff_headers(*MANAGER), "/rules", rule_form(min_weight_kg="heavy"))
        assert response.status_code == 422
        assert 'data-field-error="min_weight_kg"' in response.text
        assert 'value="heavy"' in response.text
        assert await _changes(runtime) == []

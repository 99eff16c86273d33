"""Shipping → Rate tables: upload and download CSV, one service edited or removed, MANAGE_SHIPPING."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.db.repositories.shipping import SqlRateTableStore
from app.domain.ids import saleor_api_url
from app.domain.shipping.rates import RateTable
from app.runtime import Runtime
from app.services.shipping.tables import COLUMNS
from tests.api.receipt_answers import EAST_ID, WAREHOUSES
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")

SHOP = saleor_api_url("https://shop.test/graphql/")
MANAGER = ("MANAGE_SHIPPING",)
FRAGMENT = "/api/dashboard/fragments/shipping/rate-tables"
HEADER = ",".join(COLUMNS)
ZONES_HEADER = "zone,areas,transit_days_min,transit_days_max,per_kg_beyond,up_to_kg,price"
GROUND = "east,UPS,Ground,USD,5000,standard,Mon-Fri,17.5,5.85,4.45,US:596..599,32,122,266"
FILE = "\r\n".join(
    [
        HEADER,
        f"{GROUND},Local,US:75,1,2,1.55,1,10.40",
        f"{GROUND},Local,US:75,1,2,1.55,5,15.20",
        f"{GROUND},National,US,4,5,,1,13.20",
        "east,USPS,Ground Advantage,USD,,standard,Mon-Sat,0,0,0,,0,,,All,US,2,5,,0.5,5.40",
        "",
    ]
)


@pytest.fixture(autouse=True)
def warehouses(fake_saleor: FakeSaleor) -> FakeSaleor:
    fake_saleor.on("Warehouses", WAREHOUSES)
    return fake_saleor


async def _tables(runtime: Runtime) -> list[RateTable]:
    async with runtime.sessions() as session:
        return await SqlRateTableStore(session).rate_tables(SHOP)


async def _upload(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> httpx.Response:
    files = {"file": ("rates.csv", text.encode(), "text/csv")}
    return await client.post("/api/dashboard/shipping/rate-tables/import", files=files, headers=headers)


class TestPage:
    async def test_the_shell_has_a_shipping_page_in_the_navigation(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/dashboard/shipping")
        assert page.status_code == 200
        assert 'data-page-link="shipping" aria-current="page"' in page.text
        assert 'data-page-link="carriers"' not in page.text

    async def test_its_tabs_are_the_tables_carriers_tester_and_settings_forms_beside_the_settings_page(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        page = await client.get("/api/dashboard/fragments/shipping", headers=staff_headers(*MANAGER))
        tabs = re.findall(
            r'data-fragment="/api/dashboard/fragments/shipping/([a-z-]+)"( aria-current="page")?', page.text
        )
        assert tabs == [
            ("rate-tables", ' aria-current="page"'),
            ("carrier-accounts", ""),
            ("rate-tester", ""),
            ("warehouses", ""),
            ("channels", ""),
            ("boxes", ""),
            ("rules", ""),
        ]
        assert '<a href="#" data-page-link="settings" data-shipping-settings>' in page.text

    async def test_lists_the_stores_warehouses_without_tables_yet(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        page = await client.get("/api/dashboard/fragments/shipping", headers=staff_headers(*MANAGER))
        assert page.status_code == 200
        assert f'data-warehouse="{EAST_ID}"' in page.text
        assert "No rate table yet" in page.text
        assert 'enctype="multipart/form-data"' in page.text

    async def test_needs_manage_shipping(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        for call in (
            client.get(FRAGMENT, headers=staff_headers("MANAGE_ORDERS")),
            client.get("/api/dashboard/shipping/rate-tables.csv", headers=staff_headers("MANAGE_ORDERS")),
            _upload(client, staff_headers("MANAGE_ORDERS"), FILE),
        ):
            response = await call
            assert response.status_code == 403
            assert "MANAGE_SHIPPING" in response.json()["error"]["message"]


class TestCsv:
    async def test_an_uploaded_file_replaces_the_tables_and_downloads_back_the_same(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await _upload(client, staff_headers(*MANAGER), FILE)
        assert response.status_code == 200
        assert "rates.csv: 1 rate tables with 2 services saved." in response.text
        assert 'data-service="UPS Ground"' in response.text
        (table,) = await _tables(runtime)
        assert table.warehouse_id == EAST_ID
        assert [s.service for s in table.services] == ["Ground", "Ground Advantage"]

        download = await client.get("/api/dashboard/shipping/rate-tables.csv", headers=staff_headers(*MANAGER))
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        assert 'filename="rate-tables.csv"' in download.headers["content-disposition"]
        assert download.text == FILE.replace("east,", f"{EAST_ID},")

        again = await _upload(client, staff_headers(*MANAGER), download.text)
        assert again.status_code == 200
        assert await _tables(runtime) == [table]

    async def test_a_file_with_problems_changes_nothing_and_lists_each_by_row_and_column(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _upload(client, staff_headers(*MANAGER), FILE)
        before = await _tables(runtime)
        rows = FILE.splitlines()
        bad = [rows[0], rows[1].replace("standard", "soon"), rows[2].replace(",17.5,", ",18,"), "north" + rows[4][4:]]
        response = await _upload(client, staff_headers(*MANAGER), "\r\n".join(bad) + "\r\n")
        assert response.status_code == 422
        assert "Nothing was changed by rates.csv: 3 problems." in response.text
        assert 'data-error-row="2" data-error-column="level"' in response.text
        assert 'data-error-row="3" data-error-column="fuel_pct"' in response.text
        assert "differs from row 2" in response.text
        assert 'data-error-row="4" data-error-column="warehouse"' in response.text
        assert await _tables(runtime) == before

    async def test_a_file_without_rows_leaves_the_tables(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _upload(client, staff_headers(*MANAGER), FILE)
        response = await _upload(client, staff_headers(*MANAGER), HEADER + "\r\n")
        assert response.status_code == 422
        assert "has no rows under its header" in response.text
        assert len(await _tables(runtime)) == 1

    async def test_a_file_is_required(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        response = await client.post(
            "/api/dashboard/shipping/rate-tables/import", data={"x": "1"}, headers=staff_headers(*MANAGER)
        )
        assert response.status_code == 422
        assert "Choose a CSV file" in response.text


class TestServiceForm:
    async def test_the_form_shows_a_service_and_saving_a_change_stores_it(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _upload(client, staff_headers(*MANAGER), FILE)
        params = {"warehouse": EAST_ID, "carrier": "UPS", "service": "Ground"}
        form = await client.get(f"{FRAGMENT}/service", params=params, headers=staff_headers(*MANAGER))
        assert form.status_code == 200
        assert 'name="fuel_pct" value="17.5"' in form.text
        assert "Local,US:75,1,2,1.55,5,15.20" in form.text

        fields = {
            "warehouse": EAST_ID,
            "replacing_carrier": "UPS",
            "replacing_service": "Ground",
            "carrier": "UPS",
            "service": "Ground Saver",
            "currency": "USD",
            "dim_divisor": "5000",
            "level": "standard",
            "delivery_days": "Mon-Sat",
            "fuel_pct": "12",
            "zones": ZONES_HEADER + "\nAll,US,2,4,,2,9.90\n",
        }
        saved = await client.post(
            "/api/dashboard/shipping/rate-tables/service", data=fields, headers=staff_headers(*MANAGER)
        )
        assert saved.status_code == 200
        assert "UPS Ground Saver saved." in saved.text
        (table,) = await _tables(runtime)
        saver = table.services[0]
        assert (saver.service, str(saver.surcharges.fuel_pct), [z.name for z in saver.zones]) == (
            "Ground Saver",
            "12",
            ["All"],
        )
        assert [s.service for s in table.services] == ["Ground Saver", "Ground Advantage"]

    async def test_a_refused_form_says_which_field_and_which_zone_line_and_saves_nothing(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _upload(client, staff_headers(*MANAGER), FILE)
        before = await _tables(runtime)
        fields = {
            "warehouse": EAST_ID,
            "carrier": "DHL",
            "service": "Express",
            "currency": "USD",
            "level": "overnight",
            "delivery_days": "Mon-Funday",
            "zones": ZONES_HEADER + "\nAll,US,1,1,,2,-1\n",
        }
        refused = await client.post(
            "/api/dashboard/shipping/rate-tables/service", data=fields, headers=staff_headers(*MANAGER)
        )
        assert refused.status_code == 422
        assert 'data-field-error="delivery_days"' in refused.text
        assert "line 2, price: &#39;-1&#39;" in refused.text
        assert 'value="Mon-Funday"' in refused.text
        assert await _tables(runtime) == before

    async def test_a_new_service_for_a_warehouse_without_a_table_starts_its_table(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        form = await client.get(f"{FRAGMENT}/service", params={"warehouse": EAST_ID}, headers=staff_headers(*MANAGER))
        assert "New service" in form.text
        fields = {
            "warehouse": EAST_ID,
            "carrier": "USPS",
            "service": "Priority Mail",
            "currency": "usd",
            "level": "expedited",
            "zones": ZONES_HEADER + "\nAll,US,1,3,2.5,1,9.85\n",
        }
        saved = await client.post(
            "/api/dashboard/shipping/rate-tables/service", data=fields, headers=staff_headers(*MANAGER)
        )
        assert saved.status_code == 200
        (table,) = await _tables(runtime)
        assert (table.warehouse_id, table.currency, table.services[0].service) == (EAST_ID, "USD", "Priority Mail")

    async def test_removing_a_service_keeps_the_others(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _upload(client, staff_headers(*MANAGER), FILE)
        data = {"warehouse": EAST_ID, "carrier": "UPS", "service": "Ground"}
        removed = await client.post(
            "/api/dashboard/shipping/rate-tables/service/remove", data=data, headers=staff_headers(*MANAGER)
        )
        assert removed.status_code == 200
        (table,) = await _tables(runtime)
        assert [s.service for s in table.services] == ["Ground Advantage"]

"""The Receipts page: CSV import, one receipt typed in, the opening balance, API keys."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import ApiKeyRow, InventoryMoveRow
from app.runtime import Runtime
from tests.api.receipt_answers import EAST_ID, FILE, WAREHOUSES, warehouse_stocks
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")

RECEIVER = ("MANAGE_PRODUCTS",)
KEY_MANAGER = ("MANAGE_PRODUCTS", "MANAGE_APPS")


@pytest.fixture(autouse=True)
def warehouses(fake_saleor: FakeSaleor) -> FakeSaleor:
    fake_saleor.on("Warehouses", WAREHOUSES)
    return fake_saleor


async def _moves(runtime: Runtime) -> list[InventoryMoveRow]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(InventoryMoveRow).order_by(InventoryMoveRow.seq))).all())


async def _upload(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> httpx.Response:
    files = {"file": ("receipts.csv", text.encode(), "text/csv")}
    return await client.post("/api/dashboard/receipts/import", files=files, headers=headers)


class TestPage:
    async def test_the_shell_has_a_receipts_page_in_the_navigation(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/dashboard/receipts")
        assert page.status_code == 200
        assert 'data-page="receipts"' in page.text
        assert 'data-page-link="receipts" aria-current="page"' in page.text

    async def test_shows_the_forms_the_warehouses_and_empty_states(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        page = await client.get("/api/dashboard/fragments/receipts", headers=staff_headers(*RECEIVER))
        assert page.status_code == 200
        assert 'enctype="multipart/form-data"' in page.text
        assert f'<option value="{EAST_ID}"' in page.text
        assert "No receipts yet" in page.text
        assert "Creating and revoking keys needs the MANAGE_APPS permission" in page.text

    async def test_needs_manage_products(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        page = await client.get("/api/dashboard/fragments/receipts", headers=staff_headers("MANAGE_ORDERS"))
        assert page.status_code == 403
        assert "MANAGE_PRODUCTS" in page.json()["error"]["message"]

    async def test_still_shows_the_ledger_when_saleor_does_not_answer(
        self, client: httpx.AsyncClient, staff_headers: Any, warehouses: FakeSaleor
    ) -> None:
        warehouses.on("Warehouses", {"errors": [{"message": "boom"}]})
        page = await client.get("/api/dashboard/fragments/receipts", headers=staff_headers(*RECEIVER))
        assert page.status_code == 200
        assert "data-saleor-unavailable" in page.text


class TestCsvImport:
    async def test_books_the_file_and_lists_the_receipts(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await _upload(client, staff_headers(*RECEIVER), FILE)
        assert response.status_code == 200
        assert "receipts.csv: 2 receipts booked; worth $48.50." in response.text
        assert response.headers["x-ops-notice"] == "2 receipts booked, 0 already in the ledger."
        assert "data-recent" in response.text
        assert "PO-2" in response.text
        assert [m.source for m in await _moves(runtime)] == ["csv", "csv"]

    async def test_a_file_name_and_a_currency_sign_beyond_latin_1_stay_out_of_the_notice_header(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        files = {"file": ("dostawa-łódź.csv", FILE.replace("USD", "EUR").encode(), "text/csv")}
        response = await client.post("/api/dashboard/receipts/import", files=files, headers=staff_headers(*RECEIVER))
        assert response.status_code == 200
        assert "dostawa-łódź.csv: 2 receipts booked; worth €48.50." in response.text
        assert response.headers["x-ops-notice"] == "2 receipts booked, 0 already in the ledger."

    async def test_importing_it_again_says_the_rows_are_already_there(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await _upload(client, staff_headers(*RECEIVER), FILE)
        again = await _upload(client, staff_headers(*RECEIVER), FILE)
        assert "0 receipts booked; worth nothing; 2 already in the ledger, skipped." in again.text
        assert len(await _moves(runtime)) == 2

    async def test_a_file_with_errors_books_nothing_and_shows_every_error(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        bad = FILE + 'MUG-3,north,1,"1,50",USD,2026-11-20,PO-3\r\nMUG-4,east,0,1,USD,2026-11-20,PO-4\r\n'
        response = await _upload(client, staff_headers(*RECEIVER), bad)
        assert response.status_code == 422
        assert "Nothing was booked from receipts.csv: 3 problems in 4 rows." in response.text
        assert response.text.count('data-error-row="4"') == 2
        assert response.text.count('data-error-row="5"') == 1
        assert "must use a dot as the decimal separator" in response.text
        assert await _moves(runtime) == []

    async def test_a_file_is_required(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        response = await client.post(
            "/api/dashboard/receipts/import", data={"x": "1"}, headers=staff_headers(*RECEIVER)
        )
        assert response.status_code == 422
        assert "Choose a CSV file" in response.text


class TestEnterReceipt:
    FORM = {
        "sku": "MUG-1",
        "warehouse": EAST_ID,
        "quantity": "3",
        "unit_cost": "2.5",
        "currency": "usd",
        "received_at": "2026-11-25T09:30",
        "reference": "PO-9",
    }

    async def test_books_one_receipt(self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime) -> None:
        response = await client.post("/api/dashboard/receipts", data=self.FORM, headers=staff_headers(*RECEIVER))
        assert response.status_code == 200
        assert "Receipt booked: $7.50." in response.text
        (move,) = await _moves(runtime)
        assert (move.source, move.recorded_by, move.currency) == ("form", "staff@shop.test", "USD")

    async def test_field_errors_are_shown_and_nothing_is_booked(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        data = {**self.FORM, "quantity": "2.5", "unit_cost": ""}
        response = await client.post("/api/dashboard/receipts", data=data, headers=staff_headers(*RECEIVER))
        assert response.status_code == 422
        assert 'id="receipt-quantity-error">must be a whole number of units' in response.text
        assert 'id="receipt-unit_cost-error">is required' in response.text
        assert 'value="2.5"' in response.text  # what was typed comes back
        assert await _moves(runtime) == []

    async def test_the_same_receipt_twice_is_booked_once(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        await client.post("/api/dashboard/receipts", data=self.FORM, headers=staff_headers(*RECEIVER))
        again = await client.post("/api/dashboard/receipts", data=self.FORM, headers=staff_headers(*RECEIVER))
        assert "already in the ledger" in again.text
        assert len(await _moves(runtime)) == 1


class TestOpeningBalance:
    async def test_books_saleors_stock_and_lists_what_it_skipped(
        self, client: httpx.AsyncClient, staff_headers: Any, warehouses: FakeSaleor, runtime: Runtime
    ) -> None:
        warehouses.on("WarehouseStocks", warehouse_stocks)
        response = await client.post(
            "/api/dashboard/receipts/opening-balance", data={"channel": "", "at": ""}, headers=staff_headers(*RECEIVER)
        )
        assert response.status_code == 200
        assert "1 stock lines booked at their cost price in default-channel, worth $21.00" in response.text
        assert "no cost price in channel default-channel" in response.text
        assert response.text.count("data-skipped") == 1
        (move,) = await _moves(runtime)
        assert (move.reference, move.quantity, move.source) == ("opening balance", 6, "opening")

    async def test_a_bad_date_is_refused(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        response = await client.post(
            "/api/dashboard/receipts/opening-balance", data={"at": "yesterday"}, headers=staff_headers(*RECEIVER)
        )
        assert response.status_code == 422
        assert "&#39;yesterday&#39; is not an ISO 8601 date" in response.text


async def _key_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ApiKeyRow)) or 0)


class TestApiKeys:
    async def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await client.post(
            "/api/dashboard/api-keys", data={"name": "Odoo"}, headers=staff_headers(*KEY_MANAGER)
        )
        assert response.status_code == 200
        secret = re.search(r"<code data-secret>(sops_[\w-]+)</code>", response.text)
        assert secret is not None
        again = await client.get("/api/dashboard/fragments/receipts", headers=staff_headers(*KEY_MANAGER))
        assert secret.group(1) not in again.text
        assert "Odoo" in again.text
        async with runtime.sessions() as session:
            (stored,) = (await session.scalars(select(ApiKeyRow.key_hash))).all()
        assert secret.group(1) not in stored

    async def test_creating_a_key_needs_manage_apps(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await client.post("/api/dashboard/api-keys", data={"name": "Odoo"}, headers=staff_headers(*RECEIVER))
        assert response.status_code == 403
        assert await _key_count(runtime) == 0

    async def test_a_key_needs_a_name(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        response = await client.post("/api/dashboard/api-keys", data={"name": " "}, headers=staff_headers(*KEY_MANAGER))
        assert response.status_code == 422
        assert "data-key-error" in response.text

    async def test_a_key_can_be_revoked_once(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        await client.post("/api/dashboard/api-keys", data={"name": "Odoo"}, headers=staff_headers(*KEY_MANAGER))
        page = await client.get("/api/dashboard/fragments/receipts", headers=staff_headers(*KEY_MANAGER))
        key_id = re.search(r'data-key="(\d+)"', page.text)
        assert key_id is not None
        path = f"/api/dashboard/api-keys/{key_id.group(1)}/revoke"
        revoked = await client.post(path, headers=staff_headers(*KEY_MANAGER))
        assert revoked.status_code == 200
        assert 'pill-error">revoked' in revoked.text
        assert (await client.post(path, headers=staff_headers(*KEY_MANAGER))).status_code == 422

"""Cost and valuation pages and their CSV files, through the app, agreeing with the ledger to the cent."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.saleor_names import SqlSaleorNames
from app.domain.installation import Installation
from app.domain.inventory import CostingPolicy, MoveKind
from app.runtime import Runtime
from app.services import inventory_reports
from app.services.inventory import book
from app.services.ports import LedgerEntry, SaleorName
from tests.builders import NOW, SHOP_API_URL
from tests.inventory_builders import ODOO, at, entry, mixed_history

pytestmark = pytest.mark.usefixtures("installation")

FRAGMENTS = "/api/dashboard/fragments/inventory"
EXPORTS = "/api/dashboard/inventory"


async def book_all(runtime: Runtime, entries: list[LedgerEntry]) -> None:
    async with runtime.sessions.begin() as session:
        await book(SHOP_API_URL, entries, ledger=SqlInventoryLedger(session), policy=CostingPolicy(), now=NOW)


@pytest.fixture
async def odoo(runtime: Runtime, installation: Installation) -> None:
    await book_all(runtime, ODOO)


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


class TestAccess:
    async def test_the_page_is_a_shell_framed_only_by_the_dashboard(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/dashboard/inventory")
        assert response.status_code == 200
        assert 'data-page="inventory"' in response.text
        assert "frame-ancestors" in response.headers["content-security-policy"]

    @pytest.mark.parametrize(
        "path",
        [
            FRAGMENTS,
            f"{FRAGMENTS}/methods",
            f"{FRAGMENTS}/margin",
            f"{FRAGMENTS}/value",
            f"{FRAGMENTS}/history",
            f"{EXPORTS}/valuation.csv",
            f"{EXPORTS}/methods.csv",
            f"{EXPORTS}/margin.csv",
            f"{EXPORTS}/history.csv?sku=SKU-1",
        ],
    )
    async def test_every_report_needs_a_staff_token_with_manage_orders(
        self, client: httpx.AsyncClient, staff_headers, path: str
    ) -> None:
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=staff_headers("MANAGE_APPS"))).status_code == 403
        assert (await client.get(path, headers=staff_headers("MANAGE_ORDERS"))).status_code == 200


@pytest.mark.usefixtures("odoo")
class TestStockValuation:
    async def test_shows_each_skus_stock_and_the_totals(self, client: httpx.AsyncClient, staff_headers) -> None:
        page = await client.get(FRAGMENTS, headers=staff_headers())
        assert '<th scope="row">SKU-1</th>' in page.text
        assert "<td>FIFO</td>" in page.text
        assert '<td class="num">$11.00</td>' in page.text
        assert '<td class="num" data-warehouse-total>$44.00</td>' in page.text
        assert '<span class="stat-value" data-grand-total>$44.00</span>' in page.text
        assert f'data-download="{EXPORTS}/valuation.csv"' in page.text

    async def test_as_of_a_date_shows_the_stock_at_the_end_of_it(
        self, client: httpx.AsyncClient, staff_headers
    ) -> None:
        page = await client.get(FRAGMENTS + "/valuation", params={"date": "2026-10-20"}, headers=staff_headers())
        assert "data-grand-total>$144.00<" in page.text
        assert 'value="2026-10-20"' in page.text
        assert f'data-download="{EXPORTS}/valuation.csv?date=2026-10-20"' in page.text

    async def test_the_csv_has_the_same_figures(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.get(f"{EXPORTS}/valuation.csv", params={"date": "2026-11-26"}, headers=staff_headers())
        assert rows_of(response) == [
            {
                "warehouse": "W1",  # no name learned yet: its id
                "warehouse_slug": "",
                "sku": "SKU-1",
                "item": "",
                "currency": "USD",
                "method": "fifo",
                "quantity": "4",
                "unit_cost": "11.00",
                "value": "44.00",
            }
        ]
        assert response.headers["content-disposition"] == 'attachment; filename="stock-valuation-2026-11-26.csv"'


MUG = "UHJvZHVjdFZhcmlhbnQ6Nw=="  # a variant without a SKU: the ledger keys it by its id


@pytest.fixture
async def named(runtime: Runtime, installation: Installation) -> None:
    await book_all(runtime, [*ODOO, entry("R9", MoveKind.RECEIPT, 3, at("2026-11-21"), sku=MUG, unit_cost="2")])
    async with runtime.sessions.begin() as session:
        await SqlSaleorNames(session).remember(
            SHOP_API_URL, [SaleorName("W1", "Main warehouse", "main"), SaleorName(MUG, "Mug / Blue")], NOW
        )


@pytest.mark.usefixtures("named")
class TestNames:
    async def test_the_valuation_names_warehouses_and_variants_without_a_sku(
        self, client: httpx.AsyncClient, staff_headers
    ) -> None:
        page = await client.get(FRAGMENTS, headers=staff_headers())
        assert "Main warehouse" in page.text
        assert "<code>W1</code>" not in page.text
        assert "Mug / Blue" in page.text

    async def test_the_valuation_csv_has_the_warehouse_name_and_slug_and_the_variant_name(
        self, client: httpx.AsyncClient, staff_headers
    ) -> None:
        rows = rows_of(await client.get(f"{EXPORTS}/valuation.csv", headers=staff_headers()))
        assert [(r["warehouse"], r["warehouse_slug"], r["sku"], r["item"]) for r in rows] == [
            ("Main warehouse", "main", "SKU-1", ""),
            ("Main warehouse", "main", MUG, "Mug / Blue"),
        ]

    async def test_the_methods_report_and_its_csv_name_them_too(self, client: httpx.AsyncClient, staff_headers) -> None:
        page = await client.get(f"{FRAGMENTS}/methods", headers=staff_headers())
        assert '<option value="W1">Main warehouse</option>' in page.text
        assert "Mug / Blue" in page.text
        rows = rows_of(await client.get(f"{EXPORTS}/methods.csv", headers=staff_headers()))
        assert {(r["warehouse"], r["warehouse_slug"], r["item"]) for r in rows} == {
            ("Main warehouse", "main", ""),
            ("Main warehouse", "main", "Mug / Blue"),
        }

    async def test_the_history_names_the_warehouse(self, client: httpx.AsyncClient, staff_headers) -> None:
        page = await client.get(f"{FRAGMENTS}/history", params={"sku": MUG}, headers=staff_headers())
        assert "Main warehouse" in page.text
        assert "Mug / Blue" in page.text


@pytest.mark.usefixtures("odoo")
class TestMethods:
    async def test_shows_the_history_under_each_method(self, client: httpx.AsyncClient, staff_headers) -> None:
        page = await client.get(FRAGMENTS + "/methods", headers=staff_headers())
        assert "4 moves valued under each method." in page.text
        for cells in (["$44.00", "$32.00", "$36.00"], ["$112.00", "$124.00", "$120.00"]):  # value, then COGS
            assert "".join(f'<td class="num">{cell}</td>' for cell in cells) in page.text
        assert "LIFO is not allowed by IFRS" in page.text

    async def test_the_csv_has_the_same_figures(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.get(f"{EXPORTS}/methods.csv", params={"sku": "SKU-1"}, headers=staff_headers())
        (row,) = rows_of(response)
        assert [row[f"value_{m}"] for m in ("fifo", "lifo", "avco")] == ["44.00", "32.00", "36.00"]
        assert [row[f"cogs_{m}"] for m in ("fifo", "lifo", "avco")] == ["112.00", "124.00", "120.00"]

    async def test_a_history_too_long_to_replay_asks_for_a_filter(
        self, client: httpx.AsyncClient, staff_headers, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(inventory_reports, "METHODS_MAX_MOVES", 3)
        page = await client.get(FRAGMENTS + "/methods", headers=staff_headers())
        assert "data-too-many" in page.text
        assert "data-download" not in page.text
        response = await client.get(f"{EXPORTS}/methods.csv", headers=staff_headers())
        assert response.status_code == 422
        assert "choose a SKU or a warehouse" in response.json()["error"]["message"]


class TestMargin:
    @pytest.mark.usefixtures("odoo")
    async def test_shows_revenue_cogs_and_margin_per_period(self, client: httpx.AsyncClient, staff_headers) -> None:
        page = await client.get(FRAGMENTS + "/margin", headers=staff_headers())
        assert '<th scope="row">Nov 2026</th>' in page.text
        cells = ["$200.00", "$112.00", "$88.00", "44.00%"]
        assert "\n".join(f'        <td class="num">{cell}</td>' for cell in cells) in page.text

    @pytest.mark.usefixtures("odoo")
    async def test_the_csv_has_the_same_figures(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.get(f"{EXPORTS}/margin.csv", params={"period": "week"}, headers=staff_headers())
        assert rows_of(response) == [
            {
                "currency": "USD",
                "period_start": "2026-11-02",
                "revenue": "200.00",
                "cogs": "112.00",
                "gross_margin": "88.00",
                "margin_pct": "44.00",
            }
        ]

    async def test_periods_are_the_store_zones(
        self, client: httpx.AsyncClient, staff_headers, runtime: Runtime
    ) -> None:
        await book_all(runtime, [*ODOO[:2], entry("I9", MoveKind.ISSUE, 1, at("2026-10-31", "23:30"), unit_price="20")])
        await client.post("/api/dashboard/settings/general", data={"timezone": "Asia/Tokyo"}, headers=staff_headers())
        (row,) = rows_of(await client.get(f"{EXPORTS}/margin.csv", headers=staff_headers()))
        assert row["period_start"] == "2026-11-01"  # 08:30 on 1 November in Tokyo

    async def test_an_unknown_period_is_refused(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.get(FRAGMENTS + "/margin", params={"period": "fortnight"}, headers=staff_headers())
        assert response.status_code == 422


@pytest.mark.usefixtures("odoo")
class TestValueOverTime:
    async def test_draws_an_inline_chart_and_lists_its_figures(self, client: httpx.AsyncClient, staff_headers) -> None:
        page = await client.get(FRAGMENTS + "/value", params={"period": "month"}, headers=staff_headers())
        assert '<svg viewBox="0 0 720 240" role="img"' in page.text
        assert page.text.count('<circle class="chart-point"') == 2
        assert "<title>Nov 2026: $44.00</title>" in page.text
        assert '<th scope="row">Oct 2026</th><td class="num">12</td><td class="num">$144.00</td>' in page.text
        assert "<script" not in page.text
        assert "http" not in page.text  # nothing to fetch: the chart is drawn on the server


@pytest.mark.usefixtures("odoo")
class TestHistory:
    async def test_without_a_sku_the_page_asks_for_one(self, client: httpx.AsyncClient, staff_headers) -> None:
        page = await client.get(FRAGMENTS + "/history", headers=staff_headers())
        assert "Enter a SKU" in page.text

    async def test_lists_the_skus_moves_with_what_they_took(self, client: httpx.AsyncClient, staff_headers) -> None:
        page = await client.get(FRAGMENTS + "/history", params={"sku": "SKU-1"}, headers=staff_headers())
        assert page.text.count('<th scope="row">Receipt</th>') == 3
        assert '<td class="trace">8 from R1 @ 10.00; 2 from R2 @ 16.00</td>' in page.text
        assert '<a href="#" data-redirect="/orders/order-I1">line-I1</a>' in page.text

    async def test_the_csv_has_every_posting(self, client: httpx.AsyncClient, staff_headers) -> None:
        rows = rows_of(await client.get(f"{EXPORTS}/history.csv", params={"sku": "SKU-1"}, headers=staff_headers()))
        assert [row["move_id"] for row in rows] == ["R1", "R2", "I1", "R3"]
        sale = rows[2]
        assert (sale["quantity"], sale["unit_cost"], sale["value_change"], sale["cogs"]) == (
            "-10",
            "11.20",
            "-112.00",
            "112.00",
        )
        assert (sale["balance_quantity"], sale["balance_value"]) == ("2", "32.00")
        assert sale["layers"] == "8 from R1 @ 10.00; 2 from R2 @ 16.00"
        assert (sale["reference"], sale["order_id"]) == ("line-I1", "order-I1")
        assert rows[3]["balance_value"] == "44.00"


async def test_every_csv_agrees_with_the_ledger_to_the_cent(
    client: httpx.AsyncClient, staff_headers, runtime: Runtime
) -> None:
    """A seeded history with sales beyond stock, corrections, returns and two currencies."""
    entries = mixed_history(seed=17)
    await book_all(runtime, entries)
    async with runtime.sessions() as session:
        postings = await SqlInventoryLedger(session).postings_of(SHOP_API_URL, [e.move.id for e in entries])
    texts = []
    for sku in ("SKU-A", "SKU-B"):
        response = await client.get(f"{EXPORTS}/history.csv", params={"sku": sku}, headers=staff_headers())
        texts.append(response.text)
        for row in rows_of(response):
            posting = postings[row["move_id"]]
            expected = [posting.value, posting.cogs, posting.balance_value]
            assert [row["value_change"], row["cogs"], row["balance_value"]] == [f"{amount:.2f}" for amount in expected]
    margin = rows_of(await client.get(f"{EXPORTS}/margin.csv", params={"period": "year"}, headers=staff_headers()))
    for row in margin:
        cogs = sum(p.cogs for p in postings.values() if p.move.currency == row["currency"])
        assert row["cogs"] == f"{cogs:.2f}"
    valuation = await client.get(f"{EXPORTS}/valuation.csv", headers=staff_headers())
    for row in rows_of(valuation):
        last = max((p for p in postings.values() if p.move.sku == row["sku"]), key=lambda p: (p.move.at, p.move.seq))
        assert (row["quantity"], row["value"]) == (str(last.balance_quantity), f"{last.balance_value:.2f}")
    for text in [*texts, valuation.text]:
        assert "-0.00" not in text

"""The cost and valuation pages inside the dashboard harness: tabs, filters, the chart and a CSV download."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Servers, screenshot
from tests.browser.test_dashboard_pages import open_page


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_stock_valuation_as_of_a_day_and_its_csv(page: Page, servers: Servers, theme: str, tmp_path: Path) -> None:
    frame = open_page(page, servers, "/dashboard/inventory", theme=theme)
    frame.get_by_label("As of the end of").fill("2026-10-20")
    frame.get_by_role("button", name="Show").click()
    expect(frame.locator("[data-grand-total]")).to_have_text("$144.00")
    frame.get_by_label("As of the end of").fill("2026-11-30")
    frame.get_by_role("button", name="Show").click()
    expect(frame.locator("[data-grand-total]")).to_have_text("$44.00")
    screenshot(page, f"inventory-valuation-{theme}")
    with page.expect_download() as download:
        frame.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "stock-valuation-2026-11-30.csv"
    saved = tmp_path / "valuation.csv"
    download.value.save_as(saved)
    assert saved.read_text().splitlines()[1] == "W1,,SKU-1,,USD,fifo,4,11.00,44.00"


def test_the_tabs_and_filters_show_each_report(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/inventory", theme="dark")
    frame.get_by_role("link", name="FIFO · LIFO · AVCO").click()
    expect(frame.locator("[data-moves-valued]")).to_have_text("4 moves valued under each method.")
    frame.get_by_role("link", name="Value over time").click()
    expect(frame.locator("figure.chart svg polyline")).to_have_count(1)
    screenshot(page, "inventory-value-dark")
    frame.get_by_role("link", name="Move history").click()
    frame.get_by_label("SKU").fill("SKU-1")
    frame.get_by_role("button", name="Show").click()
    expect(frame.get_by_role("cell", name="8 from R1 @ 10.00; 2 from R2 @ 16.00")).to_be_visible()
    screenshot(page, "inventory-history-dark")


def test_a_unit_cost_shows_its_currency_like_the_value_beside_it(page: Page, servers: Servers) -> None:
    frame = open_page(page, servers, "/dashboard/inventory")
    frame.get_by_label("As of the end of").fill("2026-11-30")
    frame.get_by_role("button", name="Show").click()
    row = frame.get_by_role("row").filter(has_text="SKU-1")
    expect(row.get_by_role("cell")).to_contain_text(["$11.00", "$44.00"])

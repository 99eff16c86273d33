"""Shipping → Rate tester: the options checkout would show for a typed cart, and why."""

from __future__ import annotations

import html
import json
from typing import Any

import httpx
import pytest

from tests.api.dashboard.test_shipping_rate_tables import FILE, _upload
from tests.api.receipt_answers import EAST_ID, WAREHOUSES
from tests.fakes.fake_saleor import FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")

MANAGER = ("MANAGE_ORDERS", "MANAGE_SHIPPING")
FRAGMENT = "/api/dashboard/fragments/shipping/rate-tester"
ACTION = "/api/dashboard/shipping/rate-tester"
SETTINGS = {
    "locale": "en_GB",
    "warehouses": json.dumps(
        [
            {
                "id": EAST_ID,
                "name": "East",
                "origin": {"country": "US", "postal_code": "75201"},
                "time_zone": "America/Chicago",
            }
        ]
    ),
    "channels": json.dumps(
        [{"channel": "default-channel", "warehouse": EAST_ID, "levels": {"standard": {"promise_days": 5}}}]
    ),
    "boxes": json.dumps(
        [{"name": "M", "length_cm": 40, "width_cm": 30, "height_cm": 20, "max_weight_kg": 20, "tare_kg": "0.5"}]
    ),
    "product_types": json.dumps([{"product_type": "Shoes", "length_cm": 30, "width_cm": 20, "height_cm": 10}]),
    "dimension_attributes": "",
    "carrier_preference": "UPS, USPS",
    "rules": "",
}
CART = {
    "channel": "default-channel",
    "country": "US",
    "postal_code": "75001",
    "currency": "USD",
    "lines": "1, Shoes, 1, 50",
    "placed_at": "2026-12-03T12:00",
}


@pytest.fixture(autouse=True)
async def shop(installation: Any, client: httpx.AsyncClient, fake_saleor: FakeSaleor, staff_headers: Any) -> None:
    fake_saleor.on("Warehouses", WAREHOUSES)
    assert (await _upload(client, staff_headers(*MANAGER), FILE)).status_code == 200
    saved = await client.post("/api/dashboard/settings/shipping", data=SETTINGS, headers=staff_headers(*MANAGER))
    assert saved.status_code == 200, saved.text


class TestRateTester:
    async def test_the_form_starts_from_the_first_channel_and_its_warehouse(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        page = await client.get(FRAGMENT, headers=staff_headers(*MANAGER))
        assert page.status_code == 200
        assert 'aria-current="page">Rate tester</a>' in page.text
        assert 'name="channel" value="default-channel"' in page.text
        assert 'name="country" value="US"' in page.text
        assert 'name="currency" value="USD"' in page.text
        assert "1, Shoes, , 50.00</textarea>" in page.text

    async def test_shows_the_options_and_why(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        response = await client.post(ACTION, data=CART, headers=staff_headers(*MANAGER))
        assert response.status_code == 200
        text = html.unescape(response.text)
        assert text.count("data-option") == 1
        assert "Standard, arrives" in text
        assert "standard by 2026-12-10: UPS Ground" in text
        assert "Left out: USPS Ground Advantage: a parcel bills" in text
        assert "Parcel 1: box M" in text
        assert "priced: UPS Ground to zone Local: 23.71 USD (base 15.20, fuel 2.66, residential 5.85)" in text
        assert "for 4.8 kg billable" in text, "the box's dimensional weight, not its 1.5 kg"

    async def test_an_address_no_table_covers_gets_no_option_and_says_why(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        response = await client.post(ACTION, data={**CART, "country": "FR"}, headers=staff_headers(*MANAGER))
        text = html.unescape(response.text)
        assert "data-no-options" in text
        assert "UPS Ground: no zone covers FR 75001" in text

    async def test_a_bad_cart_is_refused_field_by_field(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        bad = {**CART, "country": "USA", "lines": "two, Shoes, 1, 50"}
        response = await client.post(ACTION, data=bad, headers=staff_headers(*MANAGER))
        assert response.status_code == 422
        assert 'data-field-error="country"' in response.text
        assert "line 1: the quantity is a whole number of at least 1" in html.unescape(response.text)
        assert "data-tester-result" not in response.text

    async def test_needs_manage_shipping(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        for call in (
            client.get(FRAGMENT, headers=staff_headers("MANAGE_ORDERS")),
            client.post(ACTION, data=CART, headers=staff_headers("MANAGE_ORDERS")),
        ):
            response = await call
            assert response.status_code == 403

"""The shipping section on the dashboard's settings page: JSON and name lists in, field errors out."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import SettingsChangeRow
from app.runtime import Runtime
from tests.unit.services.shipping.test_settings import form

pytestmark = pytest.mark.usefixtures("installation")
SHIPPING_MANAGER = ("MANAGE_ORDERS", "MANAGE_SHIPPING")


async def _changes(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(SettingsChangeRow)) or 0)


def _shown(page: str, name: str) -> str:
    """The value the shipping form shows for a field, as a person would submit it again."""
    textarea = re.search(rf'<textarea id="shipping-{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if textarea is not None:
        return html.unescape(textarea.group(1))
    field = re.search(rf'<input id="shipping-{name}" name="{name}" value="([^"]*)"', page)
    assert field is not None, name
    return html.unescape(field.group(1))


class TestShippingSettings:
    async def test_only_who_manages_shipping_may_change_them(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        page = await client.get("/api/dashboard/fragments/settings", headers=staff_headers("MANAGE_ORDERS"))
        assert 'id="section-shipping"' in page.text
        assert "Changing these needs the MANAGE_SHIPPING permission." in page.text
        response = await client.post(
            "/api/dashboard/settings/shipping", data=form(), headers=staff_headers("MANAGE_ORDERS")
        )
        assert response.status_code == 403
        assert await _changes(runtime) == 0

    async def test_a_shipping_manager_without_manage_orders_sees_and_edits_shipping_alone(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        fraud = {"review_threshold": "60", "reject_threshold": "80"}
        by_order_manager = await client.post("/api/dashboard/settings/fraud", data=fraud, headers=staff_headers())
        assert by_order_manager.status_code == 200
        headers = staff_headers("MANAGE_SHIPPING")

        saved = await client.post("/api/dashboard/settings/shipping", data=form(), headers=headers)
        page = await client.get("/api/dashboard/fragments/settings", headers=headers)
        refused = await client.post("/api/dashboard/settings/fraud", data=fraud, headers=headers)

        assert saved.status_code == 200
        assert "Shipping settings saved." in saved.text
        assert page.status_code == 200
        assert re.findall(r'<h2 id="section-(\w+)"', page.text) == ["shipping"]
        assert "Save shipping settings" in page.text
        # The changes list shows only the sections this person may read.
        assert "Fraud scoring" not in page.text
        assert page.text.count("<td>Shipping</td>") == 1
        assert refused.status_code == 403
        assert await _changes(runtime) == 2

    async def test_someone_who_may_read_no_section_gets_no_settings(
        self, client: httpx.AsyncClient, staff_headers
    ) -> None:
        response = await client.get("/api/dashboard/fragments/settings", headers=staff_headers("MANAGE_PRODUCTS"))
        assert response.status_code == 403
        assert "MANAGE_ORDERS" in response.text

    async def test_saved_settings_are_shown_as_json_and_names_and_save_again_unchanged(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        headers = staff_headers(*SHIPPING_MANAGER)
        response = await client.post("/api/dashboard/settings/shipping", data=form(), headers=headers)
        assert response.status_code == 200
        assert "Shipping settings saved." in response.text
        page = (await client.get("/api/dashboard/fragments/settings", headers=headers)).text
        assert _shown(page, "carrier_preference") == "UPS, FedEx"
        assert '"time_zone": "America/New_York"' in _shown(page, "warehouses")
        shown = {name: _shown(page, name) for name in form()}
        again = await client.post("/api/dashboard/settings/shipping", data=shown, headers=headers)
        assert "Nothing changed." in again.text
        assert await _changes(runtime) == 1

    async def test_a_bad_value_is_refused_with_its_field_and_the_form_keeps_it(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        bad = form(boxes='[{"name": "M", "length_cm": 0}]')
        response = await client.post(
            "/api/dashboard/settings/shipping", data=bad, headers=staff_headers(*SHIPPING_MANAGER)
        )
        assert response.status_code == 422
        assert 'id="shipping-boxes-error"' in response.text
        assert "item 1 › width_cm: Field required" in html.unescape(response.text)
        assert _shown(response.text, "boxes") == bad["boxes"]
        assert await _changes(runtime) == 0

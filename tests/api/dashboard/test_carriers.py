"""The Shipping → Carrier accounts page: connect, list without secrets, remove, test the connection."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import CarrierAccountRow
from app.runtime import Runtime
from tests.fakes.carriers import RecordedCarrierHttp, carrier_http

__all__ = ["carrier_http"]
pytestmark = pytest.mark.usefixtures("installation")

SHIPPING = ("MANAGE_SHIPPING",)
UPS_FORM = {
    "carrier": "ups",
    "label": "UPS main",
    "credential_client_id": "ups-client-id",
    "credential_client_secret": "ups-very-secret",
    "credential_account_number": "A1B2C3D4",
    "service_levels": "ups_3_day_select=standard",
    "test_mode": "on",
}


async def _count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(CarrierAccountRow)) or 0)


async def _connect(client: httpx.AsyncClient, headers: dict[str, str], **form: str) -> httpx.Response:
    return await client.post("/api/dashboard/carriers", data={**UPS_FORM, **form}, headers=headers)


async def _connected(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """The new account's id, as the page lists it."""
    found = re.search(r'data-account="(\d+)"', (await _connect(client, headers)).text)
    assert found is not None
    return int(found[1])


class TestPage:
    async def test_the_carriers_address_still_opens_them_under_shipping(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/dashboard/carriers")
        assert page.status_code == 200
        assert 'data-page="carriers"' in page.text
        assert 'data-page-link="shipping" aria-current="page"' in page.text
        assert 'data-page-link="carriers"' not in page.text  # one Shipping entry, no Carriers beside it

    async def test_is_the_shipping_pages_carrier_accounts_tab(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        for address in ("/api/dashboard/fragments/shipping/carrier-accounts", "/api/dashboard/fragments/carriers"):
            page = await client.get(address, headers=staff_headers(*SHIPPING))
            assert page.status_code == 200
            tabs = re.findall(
                r'data-fragment="/api/dashboard/fragments/shipping/([a-z-]+)"( aria-current="page")?', page.text
            )
            assert tabs[:3] == [("rate-tables", ""), ("carrier-accounts", ' aria-current="page"'), ("rate-tester", "")]
            assert all(current == "" for _, current in tabs[3:])
            assert "data-no-accounts" in page.text

    async def test_offers_a_form_per_carrier_and_no_accounts_yet(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        page = await client.get("/api/dashboard/fragments/carriers", headers=staff_headers(*SHIPPING))
        assert page.status_code == 200
        assert "data-no-accounts" in page.text
        for carrier in ("ups", "fedex", "usps", "dhl_express", "canadapost", "easypost"):
            assert f'data-connect="{carrier}"' in page.text
        assert 'name="credential_site_id"' in page.text  # DHL Express's field, from Karrio's settings
        assert 'id="ups-credential_client_secret" name="credential_client_secret" type="password"' in page.text

    async def test_needs_manage_shipping(self, client: httpx.AsyncClient, staff_headers: Any) -> None:
        page = await client.get("/api/dashboard/fragments/carriers", headers=staff_headers("MANAGE_ORDERS"))
        assert page.status_code == 403
        assert "MANAGE_SHIPPING" in page.json()["error"]["message"]


class TestConnect:
    async def test_connects_and_lists_the_account_without_its_secrets(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await _connect(client, staff_headers(*SHIPPING))
        assert response.status_code == 200
        assert response.headers["x-ops-notice"] == "Carrier account connected."
        assert "UPS main connected." in response.text
        assert "data-account=" in response.text
        assert "ups-very-secret" not in response.text
        assert "ups-client-id" not in response.text
        assert "A1B2C3D4" not in response.text
        assert "…C3D4" in response.text
        assert "ups_3_day_select → standard" in response.text
        assert "sandbox" in response.text
        assert await _count(runtime) == 1

    async def test_a_missing_credential_is_refused_by_its_field_and_nothing_stored(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await _connect(client, staff_headers(*SHIPPING), credential_client_secret="")
        assert response.status_code == 422
        assert 'data-form-error="client_secret"' in response.text
        assert "Not connected: UPS needs the client secret." in response.text
        assert 'id="ups-credential_client_secret" name="credential_client_secret" type="password"' in response.text
        assert 'value="ups-client-id"' in response.text  # what is not secret comes back to correct
        assert await _count(runtime) == 0

    async def test_a_secret_is_not_sent_back_into_a_refused_form(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        response = await _connect(client, staff_headers(*SHIPPING), service_levels="ups_ground=fast")
        assert response.status_code == 422
        assert 'data-form-error="service_levels"' in response.text
        assert "ups-very-secret" not in response.text

    async def test_an_unknown_carrier_is_refused(
        self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime
    ) -> None:
        response = await _connect(client, staff_headers(*SHIPPING), carrier="pigeon")
        assert response.status_code == 422
        assert 'data-form-error="carrier"' in response.text
        assert await _count(runtime) == 0


class TestRemoveAndTest:
    async def test_removes_an_account(self, client: httpx.AsyncClient, staff_headers: Any, runtime: Runtime) -> None:
        account = await _connected(client, staff_headers(*SHIPPING))
        response = await client.post(f"/api/dashboard/carriers/{account}/remove", headers=staff_headers(*SHIPPING))
        assert response.status_code == 200
        assert "Carrier account removed" in response.text
        assert await _count(runtime) == 0
        again = await client.post(f"/api/dashboard/carriers/{account}/remove", headers=staff_headers(*SHIPPING))
        assert again.status_code == 404

    async def test_test_connection_shows_what_the_carrier_answered(
        self, client: httpx.AsyncClient, staff_headers: Any, carrier_http: RecordedCarrierHttp
    ) -> None:
        carrier_http.on("/security/v1/oauth/token", "ups_token.json")
        carrier_http.on("/api/rating/", "ups_rate.json")
        account = await _connected(client, staff_headers(*SHIPPING))
        response = await client.post(f"/api/dashboard/carriers/{account}/test", headers=staff_headers(*SHIPPING))
        assert response.status_code == 200
        assert 'data-check-result="ok"' in response.text
        assert "Connected: 2 rates for a 1 kg parcel from New York to Los Angeles." in response.text
        assert carrier_http.urls()[0] == "https://wwwcie.ups.com/security/v1/oauth/token"  # the sandbox
        assert b"client_credentials" in carrier_http.seen[0].body

    async def test_test_connection_shows_the_carriers_refusal(
        self, client: httpx.AsyncClient, staff_headers: Any, carrier_http: RecordedCarrierHttp
    ) -> None:
        refusal = {"response": {"errors": [{"code": "250003", "message": "Invalid Access License number"}]}}
        carrier_http.on("/security/v1/oauth/token", body=json.dumps(refusal).encode(), status=401)
        account = await _connected(client, staff_headers(*SHIPPING))
        response = await client.post(f"/api/dashboard/carriers/{account}/test", headers=staff_headers(*SHIPPING))
        assert response.status_code == 200
        assert 'data-check-result="failed"' in response.text
        assert "Invalid Access License number" in response.text
        assert response.headers["x-ops-notice"] == "The carrier refused the connection test."

    async def test_an_account_the_store_does_not_have_cannot_be_tested(
        self, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        response = await client.post("/api/dashboard/carriers/42/test", headers=staff_headers(*SHIPPING))
        assert response.status_code == 404

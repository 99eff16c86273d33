import re

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from app.dashboard import router as dashboard
from app.dashboard.fraud import reviews as dashboard_fraud
from app.dashboard.inventory import receipts as dashboard_receipts
from app.dashboard.inventory import reports as dashboard_inventory
from app.dashboard.pipeline import processing as dashboard_pipeline
from app.db.models import FraudAssessmentRow, SettingsChangeRow, SettingsRow
from app.db.repositories.fraud import SqlFraudRepository
from app.domain.ids import SaleorApiUrl
from app.runtime import Runtime
from app.standin.harness import DEFAULT_PERMISSIONS
from tests.api.conftest import Send
from tests.builders import body_of, order_payload

pytestmark = pytest.mark.usefixtures("installation")


class TestHomeFragment:
    async def test_shows_the_installation_and_the_latest_order_events(
        self, client: httpx.AsyncClient, send: Send, staff_headers
    ) -> None:
        await send("ORDER_CREATED", body_of(order_payload(number="2042")))
        response = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert response.status_code == 200
        assert 'data-redirect="/orders/T3JkZXI6MQ=="' in response.text
        assert "#2042" in response.text
        assert "Active" in response.text

    async def test_counts_each_order_once_by_its_latest_decision_as_the_demo_summary_does(
        self, client: httpx.AsyncClient, send: Send, staff_headers, runtime: Runtime
    ) -> None:
        await send("ORDER_CREATED", body_of(order_payload()))
        paid = order_payload(typename="OrderFullyPaid", issued_at="2026-11-26T12:05:00+00:00")
        paid["order"]["transactions"] = [
            {
                "id": "VHJhbnNhY3Rpb246MQ==",
                "pspReference": "ch_1",
                "chargedAmount": {"amount": 129.9, "currency": "USD"},
            }
        ]
        await send("ORDER_FULLY_PAID", body_of(paid))
        async with runtime.sessions() as session:
            assessments = await session.scalar(select(func.count()).select_from(FraudAssessmentRow))
            latest = await SqlFraudRepository(session).latest_decision_counts(
                SaleorApiUrl("https://shop.test/graphql/")
            )
        assert assessments == 2
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        shown = re.findall(r'stat-value">(\d+)</span><span class="stat-label">(approve|review|reject)<', home.text)
        assert {decision: int(count) for count, decision in shown if int(count)} == latest
        assert sum(int(count) for count, _ in shown) == 1

    async def test_an_empty_store_says_what_will_appear(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert "No order events yet" in response.text


async def test_the_harness_default_user_may_open_every_dashboard_page(
    client: httpx.AsyncClient, staff_headers, send: Send
) -> None:
    await send("ORDER_CREATED", body_of(order_payload()))
    routes = [
        route
        for module in (dashboard, dashboard_fraud, dashboard_inventory, dashboard_pipeline, dashboard_receipts)
        for route in module.router.routes
    ]
    paths = sorted(
        route.path
        for route in routes
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()) and route.path.startswith("/api/dashboard/")
    )
    assert paths
    for path in paths:
        response = await client.get(
            path, params={"orderId": "T3JkZXI6MQ=="}, headers=staff_headers(*DEFAULT_PERMISSIONS)
        )
        assert response.status_code != 403, path


class TestOrderFragment:
    async def test_lists_the_webhooks_received_for_that_order_only(
        self, client: httpx.AsyncClient, send: Send, staff_headers
    ) -> None:
        await send("ORDER_CREATED", body_of(order_payload()))
        await send("ORDER_FULLY_PAID", body_of(order_payload(typename="OrderFullyPaid")))
        await send("ORDER_CREATED", body_of(order_payload(order_id="T3JkZXI6Mg==", number="7")))
        response = await client.get(
            "/api/dashboard/fragments/order", params={"orderId": "T3JkZXI6MQ=="}, headers=staff_headers()
        )
        assert response.text.count('class="timeline-label"') == 2
        assert "Order fully paid" in response.text

    async def test_an_order_without_events_gets_an_empty_state(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.get(
            "/api/dashboard/fragments/order", params={"orderId": "T3JkZXI6OQ=="}, headers=staff_headers()
        )
        assert "Nothing received for this order yet" in response.text

    async def test_the_order_id_is_required(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.get("/api/dashboard/fragments/order", headers=staff_headers())
        assert response.status_code == 422


async def _settings_rows(runtime: Runtime) -> tuple[int, int]:
    async with runtime.sessions() as session:
        values = await session.scalar(select(func.count()).select_from(SettingsRow))
        changes = await session.scalar(select(func.count()).select_from(SettingsChangeRow))
    return int(values or 0), int(changes or 0)


class TestSettings:
    async def test_a_valid_change_is_saved_shown_and_recorded_with_who(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        response = await client.post(
            "/api/dashboard/settings/general", data={"timezone": "Europe/Warsaw"}, headers=staff_headers()
        )
        assert response.status_code == 200
        assert "General settings saved." in response.text
        reloaded = await client.get("/api/dashboard/fragments/settings", headers=staff_headers())
        assert 'value="Europe/Warsaw"' in reloaded.text
        assert "staff@shop.test" in reloaded.text
        assert "&#34;UTC&#34; → &#34;Europe/Warsaw&#34;" in reloaded.text
        assert await _settings_rows(runtime) == (1, 1)

    async def test_an_invalid_change_shows_the_field_error_and_saves_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        response = await client.post(
            "/api/dashboard/settings/general", data={"timezone": "Nowhere/Special"}, headers=staff_headers()
        )
        assert response.status_code == 422
        assert 'aria-invalid="true"' in response.text
        assert "is not a time zone name" in response.text
        assert 'value="Nowhere/Special"' in response.text, "the form keeps what the person typed"
        assert await _settings_rows(runtime) == (0, 0)

    async def test_a_user_without_the_section_permission_cannot_change_it(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        headers = staff_headers("MANAGE_ORDERS")
        page = await client.get("/api/dashboard/fragments/settings", headers=headers)
        assert "Changing these needs the MANAGE_APPS permission." in page.text
        response = await client.post("/api/dashboard/settings/general", data={"timezone": "UTC"}, headers=headers)
        assert response.status_code == 403
        assert "MANAGE_APPS" in response.json()["error"]["message"]
        assert await _settings_rows(runtime) == (0, 0)

    async def test_the_webhook_body_retention_is_shown_and_saved_in_general(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        page = await client.get("/api/dashboard/fragments/settings", headers=staff_headers())
        assert "Keep webhook bodies for (days)" in page.text
        assert 'name="payload_retention_days" value="30"' in page.text
        response = await client.post(
            "/api/dashboard/settings/general",
            data={"timezone": "UTC", "payload_retention_days": "365"},
            headers=staff_headers(),
        )
        assert "General settings saved." in response.text
        reloaded = await client.get("/api/dashboard/fragments/settings", headers=staff_headers())
        assert 'name="payload_retention_days" value="365"' in reloaded.text
        assert "<code>payload_retention_days</code>: 30 → 365" in reloaded.text
        assert await _settings_rows(runtime) == (1, 1)

    async def test_a_retention_out_of_range_is_refused_with_the_reason_and_nothing_saved(
        self, client: httpx.AsyncClient, runtime: Runtime, staff_headers
    ) -> None:
        response = await client.post(
            "/api/dashboard/settings/general",
            data={"timezone": "Europe/Warsaw", "payload_retention_days": "0"},
            headers=staff_headers(),
        )
        assert response.status_code == 422
        assert "greater than or equal to 1" in response.text
        assert 'name="payload_retention_days" value="0"' in response.text, "the form keeps what the person typed"
        assert await _settings_rows(runtime) == (0, 0)

    async def test_an_unknown_section_is_a_404(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.post("/api/dashboard/settings/nope", data={}, headers=staff_headers())
        assert response.status_code == 404

    async def test_the_store_time_zone_is_used_for_times_on_the_pages(
        self, client: httpx.AsyncClient, send: Send, staff_headers
    ) -> None:
        await client.post("/api/dashboard/settings/general", data={"timezone": "Asia/Tokyo"}, headers=staff_headers())
        await send("ORDER_CREATED", body_of(order_payload(issued_at="2026-11-26T12:00:00+00:00")))
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert "9:00:00" in home.text  # 12:00 UTC is 21:00 in Tokyo
        assert "Times are shown in Asia/Tokyo" in home.text

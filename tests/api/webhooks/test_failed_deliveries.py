"""A verified delivery Saleor could not render (``errors`` in the body, the order null) is kept,
shown on the home page with Saleor's message and path, and acknowledged so that it is not lost."""

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import FailedDeliveryRow, OrderEventRow
from app.pipeline.housekeeping import housekeeping
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import NOW, body_of

MESSAGE = "To access this path, you need one of the following permissions: HANDLE_PAYMENTS"
PERMISSION_ERROR = {
    "message": MESSAGE,
    "locations": [{"line": 93, "column": 7}],
    "path": ["event", "order", "payments", 0, "metadata"],
    "extensions": {"exception": {"code": "PermissionDenied"}},
}


def order_nulled(typename: str = "OrderFullyPaid", issued_at: str = "2026-11-26T12:00:00+00:00") -> dict[str, Any]:
    """The body Saleor sends when a field of the subscription needs a permission the app lacks."""
    return {
        "__typename": typename,
        "issuedAt": issued_at,
        "version": "3.20.35",
        "issuingPrincipal": None,
        "order": None,
        "errors": [PERMISSION_ERROR],
    }


async def _rows(runtime: Runtime) -> list[FailedDeliveryRow]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(FailedDeliveryRow).order_by(FailedDeliveryRow.id))).all())


@pytest.mark.usefixtures("installation")
class TestFailedDeliveries:
    async def test_is_kept_for_the_store_and_acknowledged(self, send: Send, runtime: Runtime) -> None:
        body = body_of(order_nulled())
        response = await send("ORDER_FULLY_PAID", body)
        assert (response.status_code, response.json()) == (200, {"status": "failed"})
        (row,) = await _rows(runtime)
        assert (row.saleor_api_url, row.event, row.received_at, row.payload) == (
            "https://shop.test/graphql/",
            "order_fully_paid",
            NOW,
            body.decode(),
        )
        assert row.issued_at is not None
        assert row.issued_at.isoformat() == "2026-11-26T12:00:00+00:00"
        assert json.loads(row.errors) == [{"message": MESSAGE, "path": ["event", "order", "payments", 0, "metadata"]}]
        async with runtime.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OrderEventRow)) == 0

    async def test_a_redelivery_is_a_duplicate(self, send: Send, runtime: Runtime) -> None:
        body = body_of(order_nulled())
        first, retry = await send("ORDER_FULLY_PAID", body), await send("ORDER_FULLY_PAID", body)
        assert (first.json(), retry.status_code, retry.json()) == ({"status": "failed"}, 200, {"status": "duplicate"})
        assert len(await _rows(runtime)) == 1

    async def test_another_occurrence_is_kept_too(self, send: Send, runtime: Runtime) -> None:
        await send("ORDER_FULLY_PAID", body_of(order_nulled()))
        await send("ORDER_UPDATED", body_of(order_nulled("OrderUpdated")))
        await send("ORDER_FULLY_PAID", body_of(order_nulled(issued_at="2026-11-26T12:00:01+00:00")))
        assert [row.event for row in await _rows(runtime)] == ["order_fully_paid", "order_updated", "order_fully_paid"]

    async def test_an_event_nulled_whole_is_kept(self, send: Send, runtime: Runtime) -> None:
        """When nothing between the refused field and ``event`` is nullable, Saleor sends the errors alone."""
        response = await send("ORDER_FULLY_PAID", body_of({"errors": [PERMISSION_ERROR]}))
        assert (response.status_code, response.json()) == (200, {"status": "failed"})
        (row,) = await _rows(runtime)
        assert row.issued_at is None

    async def test_is_logged_with_saleors_message_and_path(self, send: Send, caplog: pytest.LogCaptureFixture) -> None:
        await send("ORDER_FULLY_PAID", body_of(order_nulled()))
        (record,) = [r for r in caplog.records if r.getMessage() == "webhook payload carries Saleor's errors"]
        assert record.levelname == "WARNING"
        assert record.__dict__["errors"] == [{"message": MESSAGE, "path": "event.order.payments.0.metadata"}]

    async def test_the_body_must_still_be_the_event_the_header_names(self, send: Send, runtime: Runtime) -> None:
        response = await send("ORDER_FULLY_PAID", body_of(order_nulled("OrderCreated")))
        assert (response.status_code, response.json()["error"]["type"]) == (400, "WRONG_EVENT")
        assert await _rows(runtime) == []

    async def test_a_forged_one_is_refused_and_not_kept(self, send: Send, runtime: Runtime) -> None:
        response = await send("ORDER_FULLY_PAID", body_of(order_nulled()), signature="eyJhbGciOiJSUzI1NiJ9..forged")
        assert response.status_code == 401
        assert await _rows(runtime) == []

    async def test_goes_with_the_store_when_its_grace_period_after_app_deleted_is_over(
        self, send: Send, runtime: Runtime
    ) -> None:
        await send("ORDER_FULLY_PAID", body_of(order_nulled()))
        app_deleted = {"__typename": "AppDeleted", "issuedAt": "2026-11-26T13:00:00+00:00", "app": {"id": "QXBwOjE="}}
        assert (await send("APP_DELETED", body_of(app_deleted))).status_code == 200
        assert len(await _rows(runtime)) == 1
        await housekeeping(runtime, NOW + timedelta(days=runtime.settings.uninstalled_grace_days))
        assert await _rows(runtime) == []

    async def test_the_home_page_shows_it_with_saleors_message_and_path(
        self, send: Send, client: httpx.AsyncClient, staff_headers: Any
    ) -> None:
        await send("ORDER_FULLY_PAID", body_of(order_nulled()))
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert home.status_code == 200
        assert "Failed deliveries" in home.text
        assert "Order fully paid" in home.text
        assert MESSAGE in home.text
        assert "event.order.payments.0.metadata" in home.text

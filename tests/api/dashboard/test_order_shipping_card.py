"""The order card's shipping section: each shipment's service, its dates and why it was chosen."""

from __future__ import annotations

import httpx
import pytest

from app.db.repositories.saleor_names import SqlSaleorNames
from app.db.repositories.shipping_decisions import SqlShippingDecisions
from app.domain.shipping.model import Level
from app.runtime import Runtime
from app.services.ports import SaleorName
from app.services.shipping.model import OrderShipping, ShipmentShipping
from tests.builders import NOW, SHOP_API_URL

pytestmark = pytest.mark.usefixtures("installation")

ORDER = "T3JkZXI6MQ=="
MAIN = "V2FyZWhvdXNlOjE="
LATE = {
    "source": MAIN,
    "carrier": "UPS",
    "service": "Next Day Air",
    "level": "expedited",
    "amount": "30.00",
    "currency": "USD",
    "estimatedDelivery": "2026-12-03",
    "promisedBy": "2026-12-02",
    "meetsPromise": False,
}


async def _card(client: httpx.AsyncClient, staff_headers) -> str:
    response = await client.get("/api/dashboard/fragments/order", params={"orderId": ORDER}, headers=staff_headers())
    assert response.status_code == 200
    return response.text


async def test_each_shipment_shows_its_service_dates_and_explanation(
    client: httpx.AsyncClient, runtime: Runtime, staff_headers
) -> None:
    decision = OrderShipping(
        ORDER,
        Level.EXPEDITED,
        (ShipmentShipping(MAIN, LATE, ("expedited by 2026-12-02: UPS Next Day Air", "  dropped UPS Ground 8.00 USD")),),
        ("RnVsZmlsbG1lbnQ6MQ==",),
        NOW,
        NOW,
    )
    async with runtime.sessions.begin() as session:
        await SqlShippingDecisions(session).add(SHOP_API_URL, decision)
        await SqlSaleorNames(session).remember(SHOP_API_URL, [SaleorName(MAIN, "Main", "main")], NOW)
    card = await _card(client, staff_headers)
    assert "needs attention" in card
    assert "<td>Main</td><td>UPS Next Day Air</td><td>expedited</td>" in card
    assert "$30.00" in card
    assert "<td>2026-12-03</td><td>2026-12-02</td>" in card
    assert "<td>no</td>" in card
    assert "dropped UPS Ground 8.00 USD" in card
    assert "1 fulfilment re-checked" in card


async def test_an_order_without_a_decision_says_when_one_comes(client: httpx.AsyncClient, staff_headers) -> None:
    assert "No service chosen yet." in await _card(client, staff_headers)

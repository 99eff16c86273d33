"""Routing → Simulator: the latest kept orders planned again under the store's sources, shipping
settings and rate tables, against Saleor's allocation; it writes nothing, and a bad count is refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import EffectRow, RoutingPlanRow
from app.db.repositories.order_events import SqlOrderEventLog
from app.domain.ids import SaleorId
from app.domain.order_event import ReceivedOrderEvent
from app.runtime import Runtime
from app.services.routing.simulation import MAX_ORDERS
from tests.api.receipt_answers import EAST_ID
from tests.builders import NOW, order_line_payload, order_payload, variant_payload
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.routing import InMemoryRoutingSources
from tests.pipeline.test_routing import SHOP, STANDARD, TEXAS, WEST_ID, sources

__all__ = ["sources"]  # the store's shipping settings, rate tables and a 3PL running West, as routing tests set them

pytestmark = pytest.mark.usefixtures("installation")
FRAGMENTS = "/api/dashboard/fragments/routing"
ACTIONS = "/api/dashboard/routing"
ORDERS = ("MANAGE_ORDERS",)


def _line(line_id: str, sku: str | None, *, allocated_to: str) -> dict[str, Any]:
    stocks = [
        {
            "warehouse": {"id": warehouse, "name": name},
            "quantity": 5,
            "quantityAllocated": 2 * (warehouse == allocated_to),
        }
        for warehouse, name in ((EAST_ID, "East"), (WEST_ID, "West 3PL"))
    ]
    variant = {
        **variant_payload(sku=sku, product_type="Mugs"),
        "weight": {"unit": "KG", "value": 0.3},
        "stocks": stocks,
    }
    return order_line_payload(
        line_id=line_id,
        sku=sku,
        quantity=2,
        unit_price="20",
        variant=variant,
        allocations=[{"warehouse": {"id": allocated_to, "name": "x"}, "quantity": 2}],
    )


async def _keep(runtime: Runtime, order_id: str, number: str, minutes: int, line: dict[str, Any]) -> None:
    placed = NOW + timedelta(minutes=minutes)
    payload = order_payload(
        order_id=order_id,
        number=number,
        issued_at=placed.isoformat(),
        total="40",
        lines=[line],
        shippingAddress=TEXAS,
        deliveryMethod={"__typename": "ShippingMethod", "id": STANDARD, "name": "Standard"},
        created=placed.isoformat(),
    )
    event = ReceivedOrderEvent(
        SHOP, "order_created", SaleorId(order_id), number, placed, "3.20", placed, json.dumps(payload)
    )
    async with runtime.sessions.begin() as session:
        assert await SqlOrderEventLog(session).record(event)


@pytest.fixture
async def orders(runtime: Runtime, sources: InMemoryRoutingSources) -> InMemoryRoutingSources:
    """Three orders of two mugs: Saleor allocated the first to East, the second to the 3PL though East
    had them, and the third has no SKU."""
    await _keep(runtime, "order-east", "1001", 0, _line("L1", "MUG-1", allocated_to=EAST_ID))
    await _keep(runtime, "order-west", "1002", 1, _line("L1", "MUG-1", allocated_to=WEST_ID))
    await _keep(runtime, "order-nosku", "1003", 2, _line("L1", None, allocated_to=EAST_ID))
    return sources


async def test_the_simulator_is_a_tab_of_routing_with_a_form(client: httpx.AsyncClient, staff_headers: Any) -> None:
    page = await client.get(f"{FRAGMENTS}/simulation", headers=staff_headers(*ORDERS))
    assert page.status_code == 200
    assert f'data-fragment="{FRAGMENTS}/simulation" aria-current="page"' in page.text
    assert 'name="orders" inputmode="numeric" value="100"' in page.text
    sources_page = await client.get(f"{FRAGMENTS}/sources", headers=staff_headers(*ORDERS))
    assert f'data-fragment="{FRAGMENTS}/simulation"' in sources_page.text


async def test_needs_manage_orders(client: httpx.AsyncClient, staff_headers: Any) -> None:
    page = await client.get(f"{FRAGMENTS}/simulation", headers=staff_headers("MANAGE_SHIPPING"))
    assert page.status_code == 403
    run = await client.post(f"{ACTIONS}/simulation", data={"orders": "10"}, headers=staff_headers("MANAGE_SHIPPING"))
    assert run.status_code == 403


@pytest.mark.parametrize("typed", ["", "ten", "0", str(MAX_ORDERS + 1)])
async def test_a_count_out_of_bounds_is_refused(
    client: httpx.AsyncClient, staff_headers: Any, orders: InMemoryRoutingSources, typed: str
) -> None:
    page = await client.post(f"{ACTIONS}/simulation", data={"orders": typed}, headers=staff_headers(*ORDERS))
    assert page.status_code == 422
    assert 'data-field-error="orders"' in page.text
    assert "data-simulation" not in page.text
    assert orders.asked == []


async def test_the_latest_orders_are_compared_with_saleors_allocation_and_nothing_is_written(
    client: httpx.AsyncClient,
    staff_headers: Any,
    orders: InMemoryRoutingSources,
    fake_saleor: FakeSaleor,
    runtime: Runtime,
) -> None:
    page = await client.post(f"{ACTIONS}/simulation", data={"orders": "100"}, headers=staff_headers(*ORDERS))
    assert page.status_code == 200, page.text
    text = page.text
    assert "2 of the 3 latest orders replayed" in text
    assert "<strong data-differ>1</strong>" in text
    # Both plans ship from East ($9.00); Saleor ships one from East and one from the 3PL ($12.00 + $1.00 + 2 × $0.50).
    assert "<td data-plan>2</td><td data-saleor>2</td>" in text
    assert "<td data-plan>$18.00</td><td data-saleor>$23.00</td>" in text
    assert "<td data-plan>2 of 2</td><td data-saleor>2 of 2</td>" in text
    differing = text[text.index("data-differing") : text.index("data-skipped")]
    assert 'data-order="order-west"' in differing
    assert 'data-redirect="/orders/order-west">#1002</a>' in differing
    assert "landed cost 9.00 USD, 5.00 USD less than Saleor&#39;s" in differing
    assert "Saleor: 3PL West ships MUG-1 × 2" in differing
    assert 'data-order="order-east"' not in differing
    skipped = text[text.index("data-skipped") :]
    assert 'data-order="order-nosku"' in skipped
    assert "has no SKU" in skipped
    assert len(orders.asked) == 1  # the sources are read once for every order
    assert fake_saleor.notes.get("order-west", []) == []
    assert "ops.routing" not in fake_saleor.metadata.get("order-west", {})
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RoutingPlanRow)) == 0
        assert await session.scalar(select(func.count()).select_from(EffectRow)) == 0


async def test_only_the_latest_orders_asked_for_are_replayed(
    client: httpx.AsyncClient, staff_headers: Any, orders: InMemoryRoutingSources
) -> None:
    page = await client.post(f"{ACTIONS}/simulation", data={"orders": "1"}, headers=staff_headers(*ORDERS))
    assert page.status_code == 200
    assert "0 of the 1 latest order replayed" in page.text
    assert 'data-order="order-nosku"' in page.text
    assert "order-west" not in page.text

"""Routing's documents against the stand-in: the order webhook carries each variant's stock per
warehouse, and a partner's confirmed shipment is fulfilled from its warehouse with the tracking
number through the app's own gateway."""

from __future__ import annotations

from uuid import UUID

import pytest
from fastapi import FastAPI

from app.domain.ids import SaleorId
from app.errors import SaleorMutationError
from app.standin import actions
from app.standin.facade import StandIn
from app.standin.state import App, OrderStatus, to_global_id
from app.webhooks.payloads import OrderEventPayload
from tests.conftest import FixedClock
from tests.standin.conftest import MANIFEST_URL, Catalogue
from tests.standin.test_costing import gateway_of, paid_by_plugin


@pytest.fixture
async def installed(ops: FastAPI, standin: StandIn) -> App:
    return await standin.install(MANIFEST_URL)


def _gid(type_name: str, pk: int | UUID) -> str:
    return to_global_id(type_name, pk)


async def test_the_order_webhook_carries_each_variant_s_stock_per_warehouse(
    standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
) -> None:
    order = actions.place_order(standin.store, catalogue.channel, [(catalogue.mug, 2)], at=clock.now())
    body = standin.payload_for("ORDER_CREATED", order, installed)
    assert body is not None
    (line,) = OrderEventPayload.model_validate_json(body).order.lines
    assert line.variant is not None
    assert line.variant.stocks is not None
    # Main holds 5 mugs, 2 of them now allocated to this order; the 3PL holds 10.
    assert sorted(
        (s.warehouse.id, s.warehouse.name, s.quantity, s.quantity_allocated) for s in line.variant.stocks
    ) == sorted(
        [
            (_gid("Warehouse", catalogue.main.pk), "Main", 5, 2),
            (_gid("Warehouse", catalogue.tpl.pk), "Shipwell 3PL", 10, 0),
        ]
    )


async def test_a_partner_s_shipment_is_fulfilled_from_its_warehouse_with_the_tracking_number(
    ops: FastAPI, standin: StandIn, installed: App, catalogue: Catalogue, clock: FixedClock
) -> None:
    order = actions.place_order(standin.store, catalogue.channel, [(catalogue.mug, 3)], at=clock.now())
    order.payments.append(paid_by_plugin(order, clock))
    gateway = gateway_of(ops, installed)
    order_id, line_id = SaleorId(_gid("Order", order.pk)), _gid("OrderLine", order.lines[0].pk)
    tpl = SaleorId(_gid("Warehouse", catalogue.tpl.pk))
    # Saleor allocated the mugs in Main; the 3PL ships two of them now.
    await gateway.fulfill_order(order_id, tpl, {line_id: 2}, "1Z999", allow_stock_to_be_exceeded=False)
    (fulfillment,) = order.fulfillments
    assert fulfillment.tracking_number == "1Z999"
    assert order.status is OrderStatus.PARTIALLY_FULFILLED
    assert order.lines[0].quantity_fulfilled == 2
    stock = standin.store.stock_for(catalogue.tpl.pk, catalogue.mug.pk)
    assert stock is not None
    assert stock.quantity == 8
    assert await gateway.tracking_numbers(order_id) == {(tpl, "1Z999")}
    # More than is left to fulfil is refused with Saleor's code, and nothing changes.
    with pytest.raises(SaleorMutationError) as refused:
        await gateway.fulfill_order(order_id, tpl, {line_id: 2}, "1Z1000", allow_stock_to_be_exceeded=False)
    assert {error.code for error in refused.value.errors} == {"FULFILL_ORDER_LINE"}
    assert len(order.fulfillments) == 1

"""The real app installed in the stand-in, an order with a legacy Payment: Saleor's permission
check against the app's subscription, end to end."""

import json

from fastapi import FastAPI
from sqlalchemy import select

from app.db.models import FailedDeliveryRow
from app.standin.facade import StandIn
from app.standin.state import App
from tests.conftest import FixedClock
from tests.standin.conftest import MANIFEST_URL, Catalogue
from tests.standin.test_end_to_end import recorded, runtime_of
from tests.standin.test_field_permissions import HANDLE_PAYMENTS_ERROR, marked_as_paid


async def test_the_apps_subscription_brings_the_order_of_a_legacy_payment(
    ops: FastAPI, standin: StandIn, catalogue: Catalogue, clock: FixedClock
) -> None:
    await standin.install(MANIFEST_URL)
    order = marked_as_paid(standin, catalogue, clock.now())
    (delivery,) = await standin.deliver("ORDER_FULLY_PAID", order)
    assert (delivery.response.status_code, delivery.response.json()) == (200, {"status": "recorded"})
    assert [row.event for row in await recorded(ops, order)] == ["order_fully_paid"]


async def test_an_install_whose_subscription_asks_for_payment_metadata_keeps_the_failed_delivery(
    ops: FastAPI, standin: StandIn, catalogue: Catalogue, clock: FixedClock
) -> None:
    """What a store installed with the old OrderSummary (payments { metadata }) goes on sending."""
    app: App = await standin.install(MANIFEST_URL)
    (webhook,) = [w for w in app.webhooks if "ORDER_FULLY_PAID" in w.events]
    old_query = webhook.query.replace("payments {\n", "payments {\n    metadata {\n      key\n      value\n    }\n", 1)
    assert old_query != webhook.query
    webhook.query = old_query
    order = marked_as_paid(standin, catalogue, clock.now())

    (delivery,) = await standin.deliver("ORDER_FULLY_PAID", order)
    body = json.loads(delivery.body)
    assert body["order"] is None
    assert [(e["message"], e["path"]) for e in body["errors"]] == [
        (HANDLE_PAYMENTS_ERROR, ["event", "order", "payments", 0, "metadata"])
    ]
    assert (delivery.response.status_code, delivery.response.json()) == (200, {"status": "failed"})
    runtime = runtime_of(ops)
    async with runtime.sessions() as session:
        (row,) = (await session.scalars(select(FailedDeliveryRow))).all()
    assert (row.event, row.payload) == ("order_fully_paid", delivery.body.decode())
    assert await recorded(ops, order) == []

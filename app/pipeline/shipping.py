"""Shipping: the carrier service of each shipment chosen once fraud clears the order, and checked again
against the promise when a fulfilment sends the goods (``app.services.shipping.orders``).

An order fraud approves is chosen for in the same transaction as its assessment (fraud's subscriber
runs first). One held for review is chosen on the ORDER_UPDATED that Saleor sends after the review's
note, which carries the whole order. The quoter asks no carrier here: it has only the live answers
checkout already fetched in this process, and the rate tables.

The shipments are those of the order's routing plan (routing's subscriber runs just before, on the
same event), or Saleor's allocation when the store has none for it. Whatever revises the plan (a
partner's rejection, a timeout, a re-route by hand) writes a routing note, so Saleor sends an
ORDER_UPDATED: the plan's new revision is met there, and the services are chosen again for it.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from app.db.repositories.routing_plans import SqlRoutingPlans
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping import SqlRateTableStore
from app.db.repositories.shipping_decisions import SqlShippingDecisions
from app.pipeline.fraud import FraudReadPerBatch
from app.pipeline.processing import Processing, Subscription
from app.pipeline.routing import routes_orders
from app.services.shipping.orders import choose_order_shipping, recheck_fulfilment
from app.services.shipping.quoting import ShippingQuoter
from app.webhooks.order_shipping import allocated_shipments, fulfilled_order, placed_with, planned_shipments

log = logging.getLogger(__name__)


def _quoter(processing: Processing) -> ShippingQuoter:
    session = processing.session
    return ShippingQuoter(SqlSettingsStore(session), SqlRateTableStore(session), None, cache=processing.live_quotes)


def _not_chosen(processing: Processing, reason: str) -> None:
    # The same on every event of the order: said once, when it is created.
    if processing.delivery.event == "order_created":
        log.info(
            "no shipping service to choose",
            extra={
                "saleor_api_url": processing.delivery.saleor_api_url,
                "order_id": processing.payload.order.id,
                "reason": reason,
            },
        )


async def choose(processing: Processing) -> None:
    order, url = processing.payload.order, processing.delivery.saleor_api_url
    if order.status in ("CANCELED", "DRAFT"):
        return
    unplaced = placed_with(order, lambda: ())  # no level of the app's or no address: no query is needed
    if isinstance(unplaced, str):
        _not_chosen(processing, unplaced)
        return
    session = processing.session
    plan = await SqlRoutingPlans(session).get(url, order.id) if await routes_orders(processing) else None
    followed = plan if plan is not None and plan.shipments else None  # a plan shipping nothing leaves it to Saleor
    shipments = allocated_shipments(order) if followed is None else planned_shipments(order, followed.shipments)
    if isinstance(shipments, str):
        _not_chosen(processing, shipments)
        return
    await choose_order_shipping(
        url,
        order.id,
        replace(unplaced, shipments=shipments),
        plan_revision=followed.revision if followed is not None else None,
        fraud=FraudReadPerBatch(processing),
        decisions=SqlShippingDecisions(session),
        quoter=_quoter(processing),
        saleor=processing.saleor,
        now=processing.now,
    )


async def recheck(processing: Processing) -> None:
    payload = processing.payload
    fulfillment = payload.fulfillment
    if fulfillment is None:  # a payload recorded before the subscription selected it
        return
    await recheck_fulfilment(
        processing.delivery.saleor_api_url,
        payload.order.id,
        fulfillment.id,
        fulfilled_order(payload.order, fulfillment),
        leaves_at=fulfillment.created,
        decisions=SqlShippingDecisions(processing.session),
        quoter=_quoter(processing),
        saleor=processing.saleor,
        now=processing.now,
    )


on_order = Subscription(
    "shipping", frozenset({"order_created", "order_paid", "order_fully_paid", "order_updated"}), choose
)
on_fulfilment = Subscription("shipping", frozenset({"fulfillment_created"}), recheck)

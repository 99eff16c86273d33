"""Shipping: the carrier service of each shipment chosen once fraud clears the order, and checked again
against the promise when a fulfilment sends the goods (``app.services.shipping.orders``).

An order fraud approves is chosen for in the same transaction as its assessment (fraud's subscriber
runs first). One held for review is chosen on the ORDER_UPDATED that Saleor sends after the review's
note, which carries the whole order. The quoter asks no carrier here: it has only the live answers
checkout already fetched in this process, and the rate tables.
"""

from __future__ import annotations

import logging

from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping import SqlRateTableStore
from app.db.repositories.shipping_decisions import SqlShippingDecisions
from app.pipeline.fraud import FraudReadPerBatch
from app.pipeline.processing import Processing, Subscription
from app.services.shipping.orders import choose_order_shipping, recheck_fulfilment
from app.services.shipping.quoting import ShippingQuoter
from app.webhooks.order_shipping import fulfilled_order, placed_order

log = logging.getLogger(__name__)


def _quoter(processing: Processing) -> ShippingQuoter:
    session = processing.session
    return ShippingQuoter(SqlSettingsStore(session), SqlRateTableStore(session), None, cache=processing.live_quotes)


async def choose(processing: Processing) -> None:
    order, url = processing.payload.order, processing.delivery.saleor_api_url
    if order.status in ("CANCELED", "DRAFT"):
        return
    placed = placed_order(order)
    if isinstance(placed, str):  # the same on every event of the order: said once, when it is created
        if processing.delivery.event == "order_created":
            log.info(
                "no shipping service to choose", extra={"saleor_api_url": url, "order_id": order.id, "reason": placed}
            )
        return
    session = processing.session
    await choose_order_shipping(
        url,
        order.id,
        placed,
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

"""Inventory: what an order's fulfilments moved booked in the cost ledger, and its COGS written back."""

from __future__ import annotations

from app.db.repositories.inventory import SqlInventoryLedger
from app.pipeline.processing import COST_POOLS, Processing, SettingsReadOncePerBatch, Subscription
from app.services.order_costing import cost_order
from app.services.settings import costing_policy
from app.webhooks.order_fulfillments import order_fulfillments


async def cost(processing: Processing) -> None:
    # Our own notes (the COGS note) make Saleor send ORDER_UPDATED, which moves no goods; a fulfilment we
    # create for a partner's shipment does.
    if processing.by_this_app and processing.delivery.event == "order_updated":
        return
    url, payload = processing.delivery.saleor_api_url, processing.payload
    await cost_order(
        url,
        order_fulfillments(payload.order, payload.fulfillment),
        seen_at=payload.issued_at,
        ledger=SqlInventoryLedger(processing.session),
        policy=await costing_policy(SettingsReadOncePerBatch(processing.session, processing.reads), url),
        saleor=processing.saleor,
        now=processing.now,
    )
    processing.reads.forget((COST_POOLS, url))  # the goods moved: the batch's next order reads its pools anew


subscription = Subscription(
    "inventory",
    frozenset(
        {"order_fulfilled", "fulfillment_created", "fulfillment_approved", "fulfillment_canceled", "order_updated"}
    ),
    cost,
)

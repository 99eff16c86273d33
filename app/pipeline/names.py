"""Names: what the store calls the warehouses and variants an order mentions, to show them by name."""

from __future__ import annotations

from app.db.repositories.saleor_names import SqlSaleorNames
from app.pipeline.processing import Processing, Subscription
from app.webhooks.order_fulfillments import order_names


async def remember(processing: Processing) -> None:
    names = SqlSaleorNames(processing.session)
    await names.remember(processing.delivery.saleor_api_url, order_names(processing.payload.order), processing.now)


subscription = Subscription(
    "names",
    frozenset(
        {
            "order_created",
            "order_paid",
            "order_fully_paid",
            "order_updated",
            "order_fulfilled",
            "fulfillment_created",
            "fulfillment_approved",
            "fulfillment_canceled",
        }
    ),
    remember,
)

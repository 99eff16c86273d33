"""One module per Saleor event; ``WEBHOOKS`` is what the manifest declares and the app answers.

The order events share one path (``order_event.OrderWebhookIntake``) and
SHIPPING_LIST_METHODS_FOR_CHECKOUT (sync: answered with delivery options) has its own
(``shipping_list_methods_for_checkout.CheckoutWebhookIntake``), both in front of the app's routes;
APP_DELETED has a route.
"""

from __future__ import annotations

from app.webhooks import (
    app_deleted,
    fulfillment_approved,
    fulfillment_canceled,
    fulfillment_created,
    order_created,
    order_fulfilled,
    order_fully_paid,
    order_paid,
    order_updated,
    shipping_list_methods_for_checkout,
)
from app.webhooks.definition import WebhookDefinition

ORDER_EVENTS: tuple[WebhookDefinition, ...] = tuple(
    module.definition
    for module in (
        order_created,
        order_paid,
        order_fully_paid,
        order_fulfilled,
        fulfillment_created,
        fulfillment_approved,
        fulfillment_canceled,
        order_updated,
    )
)
WEBHOOKS: tuple[WebhookDefinition, ...] = (
    app_deleted.definition,
    *ORDER_EVENTS,
    shipping_list_methods_for_checkout.definition,
)

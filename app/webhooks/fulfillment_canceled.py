"""FULFILLMENT_CANCELED: a fulfilment was cancelled, its goods put back in stock; recorded once per occurrence."""

from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import order_event_router

definition = WebhookDefinition("FULFILLMENT_CANCELED")
router = order_event_router(definition)

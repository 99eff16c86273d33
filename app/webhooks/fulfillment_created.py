"""FULFILLMENT_CREATED: goods left a warehouse (sent once a fulfilment is approved); recorded once per occurrence."""

from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import order_event_router

definition = WebhookDefinition("FULFILLMENT_CREATED")
router = order_event_router(definition)

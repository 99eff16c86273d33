"""FULFILLMENT_APPROVED: a waiting fulfilment approved, or the last one of an order; recorded once per occurrence."""

from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import order_event_router

definition = WebhookDefinition("FULFILLMENT_APPROVED")
router = order_event_router(definition)

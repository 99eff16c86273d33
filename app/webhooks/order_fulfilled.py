"""ORDER_FULFILLED: recorded once per occurrence; the capabilities act on it as they land."""

from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import order_event_router

definition = WebhookDefinition("ORDER_FULFILLED")
router = order_event_router(definition)

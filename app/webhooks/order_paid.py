"""ORDER_PAID: recorded once; the order scored with the card checks its payment brought (stage "paid")."""

from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import order_event_router

definition = WebhookDefinition("ORDER_PAID")
router = order_event_router(definition)

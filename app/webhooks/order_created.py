"""ORDER_CREATED: recorded once, and the order scored for fraud (stage "created", or "paid" when it arrives paid)."""

from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import order_event_router

definition = WebhookDefinition("ORDER_CREATED")
router = order_event_router(definition)

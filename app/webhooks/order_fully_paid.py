"""ORDER_FULLY_PAID: recorded once; scores the "paid" stage when ORDER_PAID did not already."""

from app.domain.fraud import Stage
from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import order_event_router

definition = WebhookDefinition("ORDER_FULLY_PAID")
router = order_event_router(definition, fraud_stage=Stage.PAID)

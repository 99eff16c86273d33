"""ORDER_UPDATED: among much else, returns (goods back in a RETURNED fulfilment), and a transaction authorized
after the order was placed (Saleor sends only this for an authorization); recorded once per occurrence."""

from app.webhooks.definition import WebhookDefinition
from app.webhooks.order_event import order_event_router

definition = WebhookDefinition("ORDER_UPDATED")
router = order_event_router(definition)

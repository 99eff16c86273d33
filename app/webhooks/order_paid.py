"""ORDER_PAID: recorded once; the order scored with the card checks its payment brought (stage "paid")."""

from app.webhooks.definition import WebhookDefinition

definition = WebhookDefinition("ORDER_PAID")

"""ORDER_CREATED: recorded once, and the order scored for fraud (stage "created", or "paid" when it arrives paid)."""

from app.webhooks.definition import WebhookDefinition

definition = WebhookDefinition("ORDER_CREATED")

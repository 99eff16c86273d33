"""ORDER_FULFILLED: recorded once per occurrence; the capabilities act on it as they land."""

from app.webhooks.definition import WebhookDefinition

definition = WebhookDefinition("ORDER_FULFILLED")

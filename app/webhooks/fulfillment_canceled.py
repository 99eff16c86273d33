"""FULFILLMENT_CANCELED: a fulfilment was cancelled, its goods put back in stock; recorded once per occurrence."""

from app.webhooks.definition import WebhookDefinition

definition = WebhookDefinition("FULFILLMENT_CANCELED")

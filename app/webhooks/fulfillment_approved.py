"""FULFILLMENT_APPROVED: a waiting fulfilment approved, or the last one of an order; recorded once per occurrence."""

from app.webhooks.definition import WebhookDefinition

definition = WebhookDefinition("FULFILLMENT_APPROVED")

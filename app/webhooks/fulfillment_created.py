"""FULFILLMENT_CREATED: goods left a warehouse (sent once a fulfilment is approved); recorded once per occurrence."""

from app.webhooks.definition import WebhookDefinition

definition = WebhookDefinition("FULFILLMENT_CREATED")

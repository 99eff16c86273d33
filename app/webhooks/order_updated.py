"""ORDER_UPDATED: among much else, returns (goods back in a RETURNED fulfilment), and a transaction authorized
after the order was placed (Saleor sends only this for an authorization); recorded once per occurrence."""

from app.webhooks.definition import WebhookDefinition

definition = WebhookDefinition("ORDER_UPDATED")

"""ORDER_FULLY_PAID: recorded once; scores the "paid" stage unless done already.

"Mark as paid" sends this (and ORDER_UPDATED), never ORDER_PAID, under either of the channel's strategies.
"""

from app.webhooks.definition import WebhookDefinition

definition = WebhookDefinition("ORDER_FULLY_PAID")

"""One module per Saleor event; ``WEBHOOKS`` is what the app routes and the manifest declares."""

from __future__ import annotations

from fastapi import APIRouter

from app.webhooks import (
    app_deleted,
    fulfillment_approved,
    fulfillment_canceled,
    fulfillment_created,
    order_created,
    order_fulfilled,
    order_fully_paid,
    order_paid,
    order_updated,
)
from app.webhooks.definition import WebhookDefinition

WEBHOOKS: list[tuple[WebhookDefinition, APIRouter]] = [
    (module.definition, module.router)
    for module in (
        app_deleted,
        order_created,
        order_paid,
        order_fully_paid,
        order_fulfilled,
        fulfillment_created,
        fulfillment_approved,
        fulfillment_canceled,
        order_updated,
    )
]

from __future__ import annotations

import logging
from typing import TypeVar

from pydantic import ValidationError

from app.saleor.webhook_auth import VerifiedWebhook, WebhookRejected
from app.webhooks.definition import WebhookDefinition
from app.webhooks.payloads import ErrorsPayload, EventPayload

P = TypeVar("P", bound=EventPayload)
log = logging.getLogger(__name__)


def parse_payload(model: type[P], webhook: VerifiedWebhook, definition: WebhookDefinition) -> P:
    """Parse verified bytes; a body that is not what our subscription promised is a 400.

    Headers are not signed, so the body's ``__typename`` must agree with the event.
    """
    try:
        payload = model.model_validate_json(webhook.body)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()[:5]
        )
        log.warning(
            "webhook payload rejected",
            extra={
                "event": definition.header_value,
                "saleor_api_url": webhook.installation.saleor_api_url,
                "reason": reasons,
            },
        )
        code = "CANT_BE_PARSED" if exc.errors()[0]["type"] == "json_invalid" else "INVALID_PAYLOAD"
        raise WebhookRejected(400, code, f"Payload does not match the subscription: {reasons}") from exc
    if payload.typename != definition.typename:
        raise WebhookRejected(
            400, "WRONG_EVENT", f"Body is a {payload.typename} event, the header says {definition.header_value}."
        )
    return payload


def saleor_errors(webhook: VerifiedWebhook, definition: WebhookDefinition) -> ErrorsPayload | None:
    """The body's ``errors`` when Saleor could not render the subscription (a field the app's
    permissions do not cover nulls the order); None for a body without them.

    A body that is not even this shape is left to ``parse_payload`` to refuse with its reason.
    """
    try:
        payload = ErrorsPayload.model_validate_json(webhook.body)
    except ValidationError:
        return None
    if not payload.errors:
        return None
    if payload.typename is not None and payload.typename != definition.typename:
        raise WebhookRejected(
            400, "WRONG_EVENT", f"Body is a {payload.typename} event, the header says {definition.header_value}."
        )
    return payload

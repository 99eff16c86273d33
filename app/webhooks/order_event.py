"""The path every order webhook shares: verify, parse, store the delivery once, acknowledge.

Nothing else happens on the request path: the workers (``app.pipeline``) hand the stored delivery
to the capabilities subscribed to its event. It is the hottest path of the app, so it is a plain
ASGI middleware in front of the routes: no dependency injection, no framework layers, the store's
installation read once per interval (``runtime.installations``), and deliveries arriving together
stored in one statement and one commit (``runtime.deliveries``), each answered after its commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from app.dependencies import order_event_log
from app.domain.ids import SaleorId
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent, SaleorError
from app.errors import NotInstalledError
from app.saleor.webhook_auth import VerifiedWebhook, WebhookRejected
from app.services.order_events import record_failed_delivery, record_order_event
from app.webhooks.definition import WebhookDefinition
from app.webhooks.intake import WebhookIntake, error, json_body
from app.webhooks.parsing import parse_payload, saleor_errors
from app.webhooks.payloads import OrderEventPayload

log = logging.getLogger(__name__)
# The few answers a stored delivery gets, encoded once.
_ACKS = {status: json_body({"status": status}) for status in ("recorded", "duplicate", "failed")}
_DATABASE_UNAVAILABLE = error("DATABASE_UNAVAILABLE", "The database is unavailable; try again.")


class WebhookAck(BaseModel):
    status: str


class OrderWebhookIntake(WebhookIntake):
    """Answers POSTs to the order webhooks' paths; everything else goes on to the app.

    Statuses and bodies are those of the app's error handlers (``app.main``): a refused delivery is
    ``{"error": {"type", "message"}}`` with 400, 401 or 503, a database failure a 503.
    """

    async def answer(self, definition: WebhookDefinition, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            webhook = await self.verified(definition, headers, body)
            return 200, _ACKS[await self._store(definition, webhook)]
        except WebhookRejected as exc:
            return self.refused(definition, exc)
        except DBAPIError as exc:  # transient by nature: a 5xx makes Saleor deliver the webhook again
            log.error("database error", extra={"path": definition.path, "reason": exc.__class__.__name__})
            return 503, _DATABASE_UNAVAILABLE

    async def _store(self, definition: WebhookDefinition, webhook: VerifiedWebhook) -> str:
        runtime = self._runtime
        # Only a body that carries Saleor's errors can be one it could not render.
        failed = saleor_errors(webhook, definition) if b'"errors"' in webhook.body else None
        if failed is not None:
            async with runtime.sessions.begin() as session:
                kept = await record_failed_delivery(
                    FailedDelivery(
                        saleor_api_url=webhook.installation.saleor_api_url,
                        event=definition.header_value,
                        issued_at=failed.issued_at,
                        errors=tuple(SaleorError(e.message, tuple(e.path)) for e in failed.errors),
                        received_at=runtime.clock.now(),
                        payload=webhook.body.decode(),
                    ),
                    events=order_event_log(session),
                )
            # 200, not 4xx: Saleor does not retry a 4xx, and a retry would carry the same errors; the
            # body is kept and shown on the home page, where someone can see what to fix.
            return "failed" if kept else "duplicate"
        payload = parse_payload(OrderEventPayload, webhook, definition)
        url = webhook.installation.saleor_api_url
        try:
            recorded = await self._record(payload, definition, webhook)
        except NotInstalledError as exc:  # removed since this process read its installation
            runtime.installations.forget(url)
            raise WebhookRejected(401, "NOT_REGISTERED", str(exc)) from exc
        return "recorded" if recorded else "duplicate"

    async def _record(
        self, payload: OrderEventPayload, definition: WebhookDefinition, webhook: VerifiedWebhook
    ) -> bool:
        runtime = self._runtime
        return await record_order_event(
            ReceivedOrderEvent(
                saleor_api_url=webhook.installation.saleor_api_url,
                event=definition.header_value,
                order_id=SaleorId(payload.order.id),
                order_number=payload.order.number,
                issued_at=payload.issued_at,
                saleor_version=payload.version,
                received_at=runtime.clock.now(),
                payload=webhook.body.decode(),
            ),
            events=runtime.deliveries,  # answers after the commit, and wakes the worker
        )

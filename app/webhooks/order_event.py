"""The path every order webhook shares: verify, parse, store the delivery once, acknowledge.

Nothing else happens on the request path: the workers (``app.pipeline``) hand the stored delivery
to the capabilities subscribed to its event. It is the hottest path of the app, so it is a plain
ASGI middleware in front of the routes: no dependency injection, no framework layers, the store's
installation read once per interval (``runtime.installations``), and deliveries arriving together
stored in one statement and one commit (``runtime.deliveries``), each answered after its commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.dependencies import order_event_log
from app.domain.ids import SaleorId
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent, SaleorError
from app.errors import NotInstalledError
from app.runtime import Runtime
from app.saleor.webhook_auth import VerifiedWebhook, WebhookRejected, verify_webhook
from app.services.order_events import record_failed_delivery, record_order_event
from app.webhooks.definition import WebhookDefinition
from app.webhooks.parsing import parse_payload, saleor_errors
from app.webhooks.payloads import OrderEventPayload

log = logging.getLogger(__name__)
_JSON = [(b"content-type", b"application/json")]


class WebhookAck(BaseModel):
    status: str


class OrderWebhookIntake:
    """Answers POSTs to the order webhooks' paths; everything else goes on to ``app``.

    Statuses and bodies are those of the app's error handlers (``app.main``): a refused delivery is
    ``{"error": {"type", "message"}}`` with 400, 401 or 503, a database failure a 503.
    """

    def __init__(self, app: ASGIApp, *, runtime: Runtime, definitions: Iterable[WebhookDefinition]) -> None:
        self._app = app
        self._runtime = runtime
        self._definitions = {definition.path: definition for definition in definitions}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        definition = self._definitions.get(scope["path"]) if scope["type"] == "http" else None
        if definition is None or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        body = await _body(receive)
        if body is None:  # the client went away before it sent the whole body: nothing to answer
            return
        status, answer = await self._acknowledge(definition, Headers(scope=scope), body)
        content = json.dumps(answer, separators=(",", ":")).encode()
        headers = [*_JSON, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _acknowledge(self, definition: WebhookDefinition, headers: Headers, body: bytes) -> tuple[int, object]:
        runtime = self._runtime
        try:
            webhook = await verify_webhook(
                headers,
                body,
                expected_event=definition.header_value,
                store=runtime.installations,
                fetcher=runtime.jwks,
                now=runtime.clock.now(),
            )
            return 200, {"status": await self._store(definition, webhook)}
        except WebhookRejected as exc:
            log.warning("webhook rejected", extra={"path": definition.path, "code": exc.code, "reason": exc.message})
            return exc.status_code, _error(exc.code, exc.message)
        except DBAPIError as exc:  # transient by nature: a 5xx makes Saleor deliver the webhook again
            log.error("database error", extra={"path": definition.path, "reason": exc.__class__.__name__})
            return 503, _error("DATABASE_UNAVAILABLE", "The database is unavailable; try again.")

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


async def _body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _error(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": code, "message": message}}

"""What the hot webhook paths share: a plain ASGI layer in front of FastAPI's routes that answers
POSTs to its webhooks' paths itself (no dependency injection, no request models) and passes every
other request on. A subclass says what a verified delivery is answered with (``answer``).
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from app.runtime import Runtime
from app.saleor.webhook_auth import VerifiedWebhook, WebhookRejected, verify_webhook
from app.webhooks.definition import WebhookDefinition

log = logging.getLogger(__name__)
_JSON = (b"content-type", b"application/json")


class WebhookIntake(ABC):
    """Answers POSTs to ``definitions``' paths with ``answer``'s status and JSON; everything else goes
    on to ``app``."""

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
        status, content = await self.answer(definition, _headers(scope), body)
        headers = [_JSON, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    @abstractmethod
    async def answer(self, definition: WebhookDefinition, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """The status and JSON body (``json_body``) a delivery of ``definition`` is answered with."""

    async def verified(self, definition: WebhookDefinition, headers: Mapping[str, str], body: bytes) -> VerifiedWebhook:
        """The delivery once its store and signature check out (before anything is parsed), against the
        store's installation as this process read it in the last few seconds (``runtime.installations``);
        raises ``WebhookRejected`` otherwise."""
        runtime = self._runtime
        return await verify_webhook(
            headers,
            body,
            expected_event=definition.header_value,
            store=runtime.installations,
            fetcher=runtime.jwks,
            now=runtime.clock.now(),
        )

    @staticmethod
    def refused(definition: WebhookDefinition, exc: WebhookRejected) -> tuple[int, bytes]:
        """A refused delivery's answer, as the app's error handlers write it (``app.main``)."""
        log.warning("webhook rejected", extra={"path": definition.path, "code": exc.code, "reason": exc.message})
        return exc.status_code, error(exc.code, exc.message)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-cased name, the first of a repeated one winning, as Starlette's
    ``Headers`` reads them, without building one per delivery."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in reversed(scope["headers"])}


async def _body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def json_body(answer: object) -> bytes:
    """``answer`` as the app's ``JSONResponse`` encodes it."""
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()


def error(code: str, message: str) -> bytes:
    return json_body({"error": {"type": code, "message": message}})

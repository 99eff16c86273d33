"""Webhook request checks in app-sdk's order (PROTOCOL.md c.2); nothing is parsed before they pass."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.domain.ids import InvalidSaleorApiUrl, SaleorApiUrl, saleor_api_url
from app.domain.installation import Installation
from app.errors import AppError, JwksRefetchThrottledError, JwksUnavailableError, SignatureError
from app.saleor import headers
from app.saleor.jwks import JwksFetcher
from app.saleor.keyring import JwksKeeper, verify_with_rotation
from app.saleor.signature import verify_webhook_signature


class WebhookRejected(AppError):
    """A delivery we refuse; 4xx stops Saleor retrying, 503 asks it to retry later."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


class InstallationKeys(JwksKeeper, Protocol):
    """The installations a webhook is checked against, and where rotated keys are kept."""

    async def get(self, saleor_api_url: SaleorApiUrl) -> Installation | None: ...


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    installation: Installation
    event: str
    body: bytes = field(repr=False)


async def verify_webhook(
    request_headers: Mapping[str, str],
    body: bytes,
    *,
    expected_event: str,
    store: InstallationKeys,
    fetcher: JwksFetcher,
    now: datetime,
    accept_revoked: bool = False,
) -> VerifiedWebhook:
    """The delivery, once its store and signature check out; ``request_headers`` by lower-cased name.

    A store whose token is revoked (Saleor refused it, or deleted the app and the store is in its
    grace period) is answered as one that never installed the app: nothing it sends is processed
    into decisions that could not reach Saleor. Only APP_DELETED, which may follow a refused token,
    passes (``accept_revoked``).
    """
    api_url_header = request_headers.get(headers.SALEOR_API_URL)
    if not api_url_header:
        raise WebhookRejected(400, "MISSING_API_URL_HEADER", "Missing saleor-api-url header.")
    event = request_headers.get(headers.SALEOR_EVENT)
    if not event:
        raise WebhookRejected(400, "MISSING_EVENT_HEADER", "Missing saleor-event header.")
    if event.lower() != expected_event:
        raise WebhookRejected(400, "WRONG_EVENT", f"This endpoint takes {expected_event}, not {event}.")
    signature = request_headers.get(headers.SALEOR_SIGNATURE)
    if not signature:
        raise WebhookRejected(400, "MISSING_SIGNATURE_HEADER", "Missing saleor-signature header.")
    if not body:
        raise WebhookRejected(400, "MISSING_REQUEST_BODY", "Missing request body.")
    try:
        api_url = saleor_api_url(api_url_header)
    except InvalidSaleorApiUrl as exc:
        raise WebhookRejected(400, "MISSING_API_URL_HEADER", str(exc)) from exc
    installation = await store.get(api_url)
    if installation is None:
        raise WebhookRejected(401, "NOT_REGISTERED", "This Saleor has not installed the app.")
    if installation.is_revoked and not accept_revoked:
        raise WebhookRejected(
            401, "NOT_REGISTERED", "This Saleor removed the app or revoked its token; install it again to resume."
        )
    try:
        await verify_with_rotation(
            installation,
            lambda keys: verify_webhook_signature(signature, body, keys),
            fetcher=fetcher,
            store=store,
            now=now,
        )
    except JwksRefetchThrottledError as exc:
        raise WebhookRejected(
            503, "JWKS_REFETCH_THROTTLED", "Signed with a key id Saleor's keys did not hold moments ago; retry later."
        ) from exc
    except JwksUnavailableError as exc:
        raise WebhookRejected(503, "JWKS_NOT_AVAILABLE", "Could not fetch Saleor's signing keys; retry later.") from exc
    except SignatureError as exc:
        raise WebhookRejected(401, "SIGNATURE_VERIFICATION_FAILED", "Request signature check failed.") from exc
    return VerifiedWebhook(installation=installation, event=event.lower(), body=body)

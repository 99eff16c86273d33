"""Posting a hand-off to a partner's endpoint: the dispatcher's side of ``app.services.routing.hand_offs``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from app.services.routing.signing import signed_headers


class PartnerRefused(Exception):
    """The partner answered 4xx: sending the same again will not help; a person must look."""


class PartnerUnavailable(Exception):
    """The partner is down or busy (5xx, 408, 429, no answer): tried again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


async def post_hand_off(
    http: httpx.AsyncClient,
    endpoint: str,
    body: Mapping[str, Any],
    secret: str,
    now: datetime,
    *,
    timeout_seconds: float,
) -> str:
    """POST the signed hand-off; what the partner answered, or ``PartnerRefused`` / ``PartnerUnavailable``."""
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    try:
        response = await http.post(
            endpoint, content=text, headers=signed_headers(secret, text, now), timeout=timeout_seconds
        )
    except httpx.HTTPError as exc:
        raise PartnerUnavailable(f"{endpoint}: {type(exc).__name__}") from exc
    if response.is_success:
        return f"accepted for delivery by the partner ({response.status_code})"
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise PartnerUnavailable(f"{endpoint} answered {response.status_code}", _retry_after(response))
    raise PartnerRefused(f"{endpoint} answered {response.status_code}: {response.text[:200]}")

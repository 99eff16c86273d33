"""Saleor's signing keys: parsing, fetching, and a rate-limited refetch for key rotation."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
import jwt

from app.domain.ids import SaleorApiUrl, saleor_jwks_url
from app.errors import JwksUnavailableError

log = logging.getLogger(__name__)


class KeySet:
    """Public keys by ``kid``; a JWKS that Saleor ≤3.14 served has ``kid`` "1"."""

    def __init__(self, keys: dict[str | None, Any]) -> None:
        self._keys = keys

    def key_for(self, kid: str | None) -> Any | None:
        return self._keys.get(kid)


def validate_jwks(text: str) -> None:
    """Raise ``JwksUnavailableError`` unless ``text`` is a JWKS with at least one RSA key."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise JwksUnavailableError("JWKS is not JSON") from exc
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksUnavailableError("JWKS has no 'keys' array")
    parse_key_set(text)


@lru_cache(maxsize=1024)
def parse_key_set(text: str) -> KeySet:
    """Parsed once per distinct JWKS text: key loading costs far more than verifying."""
    try:
        key_set = jwt.PyJWKSet.from_json(text)
    except (jwt.PyJWKSetError, jwt.InvalidKeyError, ValueError) as exc:
        raise JwksUnavailableError(f"JWKS holds no usable key: {exc}") from exc
    keys = {jwk.key_id: jwk.key for jwk in key_set.keys if jwk.key_type == "RSA"}
    if not keys:
        raise JwksUnavailableError("JWKS holds no RSA key")
    return KeySet(keys)


@dataclass(frozen=True, slots=True)
class RefetchedJwks:
    text: str
    throttled: bool  # the JWKS fetched earlier in the interval; Saleor was not asked again


class JwksFetcher:
    """Fetches a store's JWKS; ``refetch`` goes to Saleor at most once per interval.

    A key id missing from the stored keys may mean Saleor rotated its key, so we
    fetch again — but forged requests must not turn us into a JWKS-fetching
    amplifier. Within the interval the last fetched JWKS is reused and marked
    ``throttled``, so the caller can tell "Saleor has no such key" from "not asked yet".
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        refetch_interval_seconds: float,
        timeout_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._interval = refetch_interval_seconds
        self._timeout = timeout_seconds
        self._monotonic = monotonic
        self._recent: dict[SaleorApiUrl, tuple[float, str | None]] = {}
        self._locks: dict[SaleorApiUrl, asyncio.Lock] = {}

    async def fetch(self, api_url: SaleorApiUrl) -> str:
        url = saleor_jwks_url(api_url)
        try:
            response = await self._http.get(url, timeout=self._timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise JwksUnavailableError(f"could not reach {url}: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise JwksUnavailableError(f"{url} answered {response.status_code}")
        validate_jwks(response.text)
        return response.text

    async def refetch(self, api_url: SaleorApiUrl) -> RefetchedJwks:
        lock = self._locks.setdefault(api_url, asyncio.Lock())
        async with lock:
            recent = self._recent.get(api_url)
            if recent is not None and self._monotonic() - recent[0] < self._interval:
                if recent[1] is None:
                    raise JwksUnavailableError("JWKS fetch failed moments ago; not retrying yet")
                return RefetchedJwks(recent[1], throttled=True)
            try:
                text = await self.fetch(api_url)
            except JwksUnavailableError:
                self._recent[api_url] = (self._monotonic(), None)
                raise
            self._recent[api_url] = (self._monotonic(), text)
            log.info("jwks refetched", extra={"saleor_api_url": api_url})
            return RefetchedJwks(text, throttled=False)

"""Verify with a store's stored keys, and with freshly fetched ones when the key id is new."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from app.domain.ids import SaleorApiUrl
from app.domain.installation import Installation
from app.errors import JwksRefetchThrottledError, JwksUnavailableError, UnknownSigningKeyError
from app.saleor.jwks import KeySet, RefetchedJwks, parse_key_set

T = TypeVar("T")
log = logging.getLogger(__name__)


class JwksRefetcher(Protocol):
    async def refetch(self, api_url: SaleorApiUrl) -> RefetchedJwks: ...


class JwksKeeper(Protocol):
    """Where a store's rotated keys are kept."""

    async def replace_jwks(self, saleor_api_url: SaleorApiUrl, jwks: str, now: datetime) -> None: ...


async def verify_with_rotation(
    installation: Installation,
    check: Callable[[KeySet], T],
    *,
    fetcher: JwksRefetcher,
    store: JwksKeeper,
    now: datetime,
) -> T:
    """Run ``check`` against the stored JWKS; refetch only for a key id it does not hold.

    A bad signature under a key we hold is refused without asking Saleor, so forgeries
    cannot spend the refetch window a genuine rotated key will need. When the key id is
    new and the window is spent, the answer is "retry later", never a refusal: Saleor
    does not retry a 4xx.
    """
    try:
        return check(parse_key_set(installation.jwks))
    except (UnknownSigningKeyError, JwksUnavailableError):
        refetched = await fetcher.refetch(installation.saleor_api_url)
    try:
        result = check(parse_key_set(refetched.text))
    except UnknownSigningKeyError as exc:
        if refetched.throttled:
            raise JwksRefetchThrottledError("the key id is new and Saleor's JWKS was fetched moments ago") from exc
        raise
    if refetched.text != installation.jwks:
        await store.replace_jwks(installation.saleor_api_url, refetched.text, now)
        log.info("stored rotated jwks", extra={"saleor_api_url": installation.saleor_api_url})
    return result

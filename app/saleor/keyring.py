"""Verify with a store's stored keys, and once more with freshly fetched ones on a miss."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from app.domain.ids import SaleorApiUrl
from app.domain.installation import Installation
from app.errors import JwksUnavailableError, KeyMismatchError
from app.saleor.jwks import KeySet, parse_key_set
from app.services.ports import InstallationStore

T = TypeVar("T")
log = logging.getLogger(__name__)


class JwksRefetcher(Protocol):
    async def refetch(self, api_url: SaleorApiUrl) -> str: ...


async def verify_with_rotation(
    installation: Installation,
    check: Callable[[KeySet], T],
    *,
    fetcher: JwksRefetcher,
    store: InstallationStore,
    now: datetime,
) -> T:
    """Run ``check`` against the stored JWKS; on a key miss refetch once and store keys that work."""
    try:
        return check(parse_key_set(installation.jwks))
    except (KeyMismatchError, JwksUnavailableError) as first_failure:
        fresh = await fetcher.refetch(installation.saleor_api_url)
        if fresh == installation.jwks:
            raise first_failure
    result = check(parse_key_set(fresh))
    await store.replace_jwks(installation.saleor_api_url, fresh, now)
    log.info("stored rotated jwks", extra={"saleor_api_url": installation.saleor_api_url})
    return result

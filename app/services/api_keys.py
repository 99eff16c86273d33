"""Keys a store's other systems (purchasing, ERP) call the app's HTTP API with.

A key is shown once, when it is created; only its SHA-256 is stored, so a leaked database does
not leak working keys. Each key belongs to one installation and books only into its ledger.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.ids import SaleorApiUrl

KEY_PREFIX = "sops_"  # recognisable in a config file or a secret scanner
MAX_NAME = 128


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    saleor_api_url: SaleorApiUrl
    name: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyStore(Protocol):
    async def create(self, url: SaleorApiUrl, name: str, key_hash: str, *, by: str, at: datetime) -> ApiKey: ...
    async def keys(self, url: SaleorApiUrl) -> list[ApiKey]:
        """Every key of the store, revoked ones too, newest first."""

    async def revoke(self, url: SaleorApiUrl, key_id: int, at: datetime) -> bool:
        """False when the store has no such key or it was revoked already."""

    async def use(self, key_hash: str, at: datetime) -> ApiKey | None:
        """The live key with this hash, noting when it was used; None for an unknown or revoked key
        (or one of a store whose app token Saleor revoked)."""


@dataclass(frozen=True, slots=True)
class ApiKeyCreated:
    key: ApiKey
    secret: str  # the key itself: shown this once, never stored


async def create_api_key(
    store: ApiKeyStore, url: SaleorApiUrl, name: str, *, by: str, now: datetime
) -> ApiKeyCreated | str:
    """A new key, or why ``name`` will not do."""
    name = name.strip()
    if not name:
        return "Name the key after the system that will use it, e.g. 'Purchasing (Odoo)'."
    if len(name) > MAX_NAME:
        return f"A key's name is at most {MAX_NAME} characters."
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = await store.create(url, name, hash_api_key(secret), by=by, at=now)
    return ApiKeyCreated(key, secret)


async def authenticate_api_key(store: ApiKeyStore, presented: str, *, now: datetime) -> ApiKey | None:
    if not presented.startswith(KEY_PREFIX):
        return None
    return await store.use(hash_api_key(presented), now)

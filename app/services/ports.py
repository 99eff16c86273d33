"""Interfaces the services depend on; adapters in app.db, app.graphql and app.saleor implement them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from app.domain.ids import AppId, SaleorApiUrl
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class InstallationStore(Protocol):
    async def get(self, saleor_api_url: SaleorApiUrl) -> Installation | None: ...
    async def save(self, installation: Installation) -> None: ...
    async def replace_jwks(self, saleor_api_url: SaleorApiUrl, jwks: str, now: datetime) -> None: ...
    async def mark_revoked(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None: ...
    async def delete(self, saleor_api_url: SaleorApiUrl) -> bool: ...


class OrderEventLog(Protocol):
    async def record(self, event: ReceivedOrderEvent) -> bool: ...


@dataclass(frozen=True, slots=True)
class SettingsChange:
    section: str
    changed_at: datetime
    changed_by: str
    before: str
    after: str


class SettingsStore(Protocol):
    async def get(self, saleor_api_url: SaleorApiUrl, section: str) -> dict[str, object] | None: ...
    async def save(self, saleor_api_url: SaleorApiUrl, change: SettingsChange) -> None:
        """Write ``change.after`` as the section's values and keep ``change`` in the history."""
        ...

    async def history(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[SettingsChange]: ...


@dataclass(frozen=True, slots=True)
class AppIdentity:
    app_id: AppId
    saleor_version: str | None


class SaleorAuthority(Protocol):
    """What registration asks of the Saleor instance that claims to install us."""

    async def identify_app(self, saleor_api_url: SaleorApiUrl, token: str) -> AppIdentity: ...
    async def fetch_jwks(self, saleor_api_url: SaleorApiUrl) -> str: ...

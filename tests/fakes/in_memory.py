"""In-memory implementations of the service ports, typed against the real Protocols."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from app.domain.ids import AppId, SaleorApiUrl
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent
from app.errors import JwksUnavailableError, SaleorApiError
from app.services.ports import (
    AppIdentity,
    InstallationStore,
    OrderEventLog,
    SaleorAuthority,
    SettingsChange,
    SettingsStore,
)


class InMemoryInstallationStore:
    def __init__(self) -> None:
        self.rows: dict[SaleorApiUrl, Installation] = {}

    async def get(self, saleor_api_url: SaleorApiUrl) -> Installation | None:
        return self.rows.get(saleor_api_url)

    async def save(self, installation: Installation) -> None:
        self.rows[installation.saleor_api_url] = installation

    async def replace_jwks(self, saleor_api_url: SaleorApiUrl, jwks: str, now: datetime) -> None:
        self.rows[saleor_api_url] = dataclasses.replace(self.rows[saleor_api_url], jwks=jwks, updated_at=now)

    async def mark_revoked(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None:
        self.rows[saleor_api_url] = dataclasses.replace(self.rows[saleor_api_url], revoked_at=now)

    async def delete(self, saleor_api_url: SaleorApiUrl) -> bool:
        return self.rows.pop(saleor_api_url, None) is not None


class InMemoryOrderEventLog:
    def __init__(self) -> None:
        self.events: dict[tuple[str, str, str, datetime], ReceivedOrderEvent] = {}

    async def record(self, event: ReceivedOrderEvent) -> bool:
        key = (event.saleor_api_url, event.event, event.order_id, event.issued_at)
        if key in self.events:
            return False
        self.events[key] = event
        return True


class InMemorySettingsStore:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, object]] = {}
        self.changes: list[SettingsChange] = []

    async def get(self, saleor_api_url: SaleorApiUrl, section: str) -> dict[str, object] | None:
        return self.values.get((saleor_api_url, section))

    async def save(self, saleor_api_url: SaleorApiUrl, change: SettingsChange) -> None:
        self.values[(saleor_api_url, change.section)] = json.loads(change.after)
        self.changes.append(change)

    async def history(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[SettingsChange]:
        return list(reversed(self.changes))[:limit]


class FakeSaleorAuthority:
    def __init__(self, *, app_id: str = "QXBwOjE=", jwks: str = '{"keys": []}') -> None:
        self.app_id = app_id
        self.jwks = jwks
        self.token_valid = True
        self.jwks_available = True
        self.tokens_seen: list[str] = []

    async def identify_app(self, saleor_api_url: SaleorApiUrl, token: str) -> AppIdentity:
        self.tokens_seen.append(token)
        if not self.token_valid:
            raise SaleorApiError("401", operation="AppIdentity")
        return AppIdentity(app_id=AppId(self.app_id), saleor_version="3.20.119")

    async def fetch_jwks(self, saleor_api_url: SaleorApiUrl) -> str:
        if not self.jwks_available:
            raise JwksUnavailableError("down")
        return self.jwks


_: tuple[type[InstallationStore], type[OrderEventLog], type[SaleorAuthority], type[SettingsStore]] = (
    InMemoryInstallationStore,
    InMemoryOrderEventLog,
    FakeSaleorAuthority,
    InMemorySettingsStore,
)

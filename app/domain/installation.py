"""A store that installed the app: what Saleor's app-sdk calls the APL's auth data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.ids import AppId, SaleorApiUrl


@dataclass(frozen=True, slots=True)
class Installation:
    saleor_api_url: SaleorApiUrl
    app_id: AppId
    token: str = field(repr=False)
    jwks: str = field(repr=False)
    installed_at: datetime
    updated_at: datetime
    saleor_domain: str | None = None
    schema_version: str | None = None
    saleor_version: str | None = None
    # Saleor refused the token (a 401) or told us the app was deleted; either way it is not used again.
    revoked_at: datetime | None = None
    # APP_DELETED arrived: the token is erased, and the store's records are kept for a grace period
    # in which a reinstall restores them; then they are deleted.
    uninstalled_at: datetime | None = None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

"""Registering a store and forgetting it again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.ids import AppId, SaleorApiUrl, url_matches_any
from app.domain.installation import Installation
from app.errors import JwksUnavailableError, SaleorApiError
from app.services.ports import Clock, InstallationStore, SaleorAuthority

log = logging.getLogger(__name__)


class RegisterErrorCode(StrEnum):
    """app-sdk's codes, which Saleor shows the installing staff user."""

    SALEOR_URL_PROHIBITED = "SALEOR_URL_PROHIBITED"
    UNKNOWN_APP_ID = "UNKNOWN_APP_ID"
    JWKS_NOT_AVAILABLE = "JWKS_NOT_AVAILABLE"


@dataclass(frozen=True, slots=True)
class RegisterRefused:
    code: RegisterErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class RegisterRequest:
    saleor_api_url: SaleorApiUrl
    token: str
    saleor_domain: str | None
    schema_version: str | None


async def register_installation(
    request: RegisterRequest,
    *,
    allowed_url_patterns: list[str],
    saleor: SaleorAuthority,
    store: InstallationStore,
    clock: Clock,
) -> Installation | RegisterRefused:
    """PROTOCOL.md b.2 steps 6–11: allow-list, prove the token, fetch keys, persist."""
    url = request.saleor_api_url
    if not url_matches_any(url, allowed_url_patterns):
        return RegisterRefused(
            RegisterErrorCode.SALEOR_URL_PROHIBITED, f"This app does not accept installs from {url}."
        )
    try:
        identity = await saleor.identify_app(url, request.token)
    except SaleorApiError as exc:
        log.warning("register: app id lookup failed", extra={"saleor_api_url": url, "reason": str(exc)})
        return RegisterRefused(RegisterErrorCode.UNKNOWN_APP_ID, "Saleor did not confirm the app token.")
    try:
        jwks = await saleor.fetch_jwks(url)
    except JwksUnavailableError as exc:
        log.warning("register: jwks unavailable", extra={"saleor_api_url": url, "reason": str(exc)})
        return RegisterRefused(
            RegisterErrorCode.JWKS_NOT_AVAILABLE, "Could not fetch the signing keys (JWKS) from Saleor."
        )
    now = clock.now()
    installation = Installation(
        saleor_api_url=url,
        app_id=AppId(identity.app_id),
        token=request.token,
        jwks=jwks,
        installed_at=now,
        updated_at=now,
        saleor_domain=request.saleor_domain,
        schema_version=request.schema_version,
        saleor_version=identity.saleor_version,
    )
    previous = await store.get(url)
    await store.save(installation)  # over a kept record: a store back within its grace period has it all again
    if previous is not None and previous.uninstalled_at is not None:
        log.info(
            "reinstalled within the grace period; the store's records are kept again",
            extra={
                "saleor_api_url": url,
                "app_id": identity.app_id,
                "uninstalled_at": previous.uninstalled_at.isoformat(),
            },
        )
    else:
        log.info("installed", extra={"saleor_api_url": url, "app_id": identity.app_id})
    return installation


async def uninstall(
    saleor_api_url: SaleorApiUrl, deleted_app_id: str | None, *, store: InstallationStore, now: datetime
) -> bool:
    """Saleor deleted the app: its token is erased at once, and the store's records are kept for a
    grace period (housekeeping deletes them after it; a reinstall before restores them). A late
    APP_DELETED of an earlier install is ignored. True when the store is now uninstalled."""
    current = await store.get(saleor_api_url)
    if current is None:
        return False
    if deleted_app_id is not None and deleted_app_id != current.app_id:
        log.info(
            "ignored APP_DELETED for a previous install",
            extra={"saleor_api_url": saleor_api_url, "app_id": deleted_app_id},
        )
        return False
    await store.uninstall(saleor_api_url, now)
    log.info("uninstalled; the store's records are kept for the grace period", extra={"saleor_api_url": saleor_api_url})
    return True


async def forget_store(saleor_api_url: SaleorApiUrl, *, store: InstallationStore) -> bool:
    """Delete a store's token and every record of it at once (the merchant asked); False if unknown."""
    deleted = await store.delete(saleor_api_url)
    if deleted:
        log.info("store forgotten", extra={"saleor_api_url": saleor_api_url})
    return deleted

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import UtcDateTime
from app.db.models import InstallationRow
from app.domain.ids import AppId, SaleorApiUrl
from app.domain.installation import Installation
from app.security import SecretCipher

_TABLE = InstallationRow.__table__
_SELECT_ONE = select(_TABLE).where(_TABLE.c.saleor_api_url == bindparam("url"))
# What an uninstalled store's token becomes: nothing to decrypt, nothing to use.
_ERASED_TOKEN = ""


class SqlInstallationStore:
    """Installations keyed by normalised Saleor API URL; tokens encrypted at rest."""

    def __init__(self, session: AsyncSession, cipher: SecretCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def get(self, saleor_api_url: SaleorApiUrl) -> Installation | None:
        # Core on the session's connection, not session.get: every webhook starts here,
        # and skipping the ORM's identity map and loading halves its cost.
        connection = await self._session.connection()
        row = (await connection.execute(_SELECT_ONE, {"url": saleor_api_url})).first()
        return None if row is None else self._to_domain(row)

    async def save(self, installation: Installation) -> None:
        """Insert, or replace the record of a store that installs the app again.

        An update in place, never a delete and insert: a store that comes back within its grace
        period finds every record it left, since nothing cascades.
        """
        row = await self._session.get(InstallationRow, installation.saleor_api_url)
        if row is None:
            row = InstallationRow(saleor_api_url=installation.saleor_api_url, installed_at=installation.installed_at)
            self._session.add(row)
        else:
            row.installed_at = installation.installed_at
        row.app_id = installation.app_id
        row.token_encrypted = self._cipher.encrypt(installation.token)
        row.jwks = installation.jwks
        row.saleor_domain = installation.saleor_domain
        row.schema_version = installation.schema_version
        row.saleor_version = installation.saleor_version
        row.updated_at = installation.updated_at
        row.revoked_at = installation.revoked_at
        row.uninstalled_at = installation.uninstalled_at
        await self._session.flush()

    async def replace_jwks(self, saleor_api_url: SaleorApiUrl, jwks: str, now: datetime) -> None:
        await self._session.execute(
            update(InstallationRow)
            .where(InstallationRow.saleor_api_url == saleor_api_url)
            .values(jwks=jwks, updated_at=now)
        )

    async def mark_revoked(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None:
        await self._session.execute(
            update(InstallationRow)
            .where(InstallationRow.saleor_api_url == saleor_api_url, InstallationRow.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )

    async def uninstall(self, saleor_api_url: SaleorApiUrl, now: datetime) -> None:
        """Erase the token and mark the store revoked and uninstalled; an earlier mark is kept."""
        at = literal(now, UtcDateTime())
        await self._session.execute(
            update(InstallationRow)
            .where(InstallationRow.saleor_api_url == saleor_api_url)
            .values(
                token_encrypted=_ERASED_TOKEN,
                revoked_at=func.coalesce(InstallationRow.revoked_at, at),
                uninstalled_at=func.coalesce(InstallationRow.uninstalled_at, at),
                updated_at=now,
            )
        )

    async def delete(self, saleor_api_url: SaleorApiUrl) -> bool:
        """Remove the installation, its token and (by cascade) all its data."""
        result = await self._session.execute(
            delete(InstallationRow).where(InstallationRow.saleor_api_url == saleor_api_url)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def list_all(self) -> list[Installation]:
        rows = await self._session.execute(select(_TABLE).order_by(_TABLE.c.saleor_api_url))
        return [self._to_domain(row) for row in rows]

    def _to_domain(self, row: Row[Any]) -> Installation:
        return Installation(
            saleor_api_url=SaleorApiUrl(row.saleor_api_url),
            app_id=AppId(row.app_id),
            token="" if row.token_encrypted == _ERASED_TOKEN else self._cipher.decrypt(row.token_encrypted),
            jwks=row.jwks,
            installed_at=row.installed_at,
            updated_at=row.updated_at,
            saleor_domain=row.saleor_domain,
            schema_version=row.schema_version,
            saleor_version=row.saleor_version,
            revoked_at=row.revoked_at,
            uninstalled_at=row.uninstalled_at,
        )


class RecentInstallations:
    """Each store's installation as this process last read it, kept ``ttl_seconds``: the webhook path
    reads it once per store and interval instead of once per delivery.

    What a stale copy can do is bounded: a store deleted meanwhile is caught by the deliveries'
    foreign key (``forget`` it then); a key id the copy does not hold leads to a refetch of Saleor's
    keys, and ``replace_jwks`` stores them and forgets the copy. So the only thing a copy may still
    accept, for at most ``ttl_seconds``, is a key the store's JWKS held that long ago.

    When the copy runs out, the deliveries arriving before it is read again wait for that one read
    instead of each reading it: dozens of reads at once, each a session, took every pooled connection
    and opened more, stalling all of them for a quarter of a second.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: SecretCipher,
        *,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._read: dict[SaleorApiUrl, tuple[float, Installation]] = {}
        self._reading: dict[SaleorApiUrl, asyncio.Task[Installation | None]] = {}

    async def get(self, saleor_api_url: SaleorApiUrl, session: AsyncSession | None = None) -> Installation | None:
        """The store's installation; read through ``session`` when given (a caller inside a
        transaction must not wait for a second connection from the pool it holds one of)."""
        read = self._read.get(saleor_api_url)
        if read is not None and self._monotonic() - read[0] < self._ttl:
            return read[1]
        if session is not None:
            installation = await SqlInstallationStore(session, self._cipher).get(saleor_api_url)
            self._keep(saleor_api_url, installation)
            return installation
        reading = self._reading.get(saleor_api_url)
        if reading is None:
            reading = asyncio.ensure_future(self._read_own(saleor_api_url))
            self._reading[saleor_api_url] = reading
            reading.add_done_callback(lambda done: self._read_done(saleor_api_url, done))
        # Shielded: a delivery that stops waiting does not end the read the others wait on.
        return await asyncio.shield(reading)

    async def _read_own(self, saleor_api_url: SaleorApiUrl) -> Installation | None:
        async with self._sessions() as own:
            installation = await SqlInstallationStore(own, self._cipher).get(saleor_api_url)
        # Not kept when the store was forgotten while it was read: the copy may predate that change.
        if self._reading.get(saleor_api_url) is asyncio.current_task():
            self._keep(saleor_api_url, installation)
        return installation

    def _read_done(self, saleor_api_url: SaleorApiUrl, done: asyncio.Task[Installation | None]) -> None:
        if self._reading.get(saleor_api_url) is done:
            del self._reading[saleor_api_url]
        if not done.cancelled():
            done.exception()  # retrieved here too, for when every waiter stopped waiting (each sees it)

    def _keep(self, saleor_api_url: SaleorApiUrl, installation: Installation | None) -> None:
        if installation is None:
            self.forget(saleor_api_url)  # a store that is not installed is asked again every time
        else:
            self._read[saleor_api_url] = (self._monotonic(), installation)

    async def replace_jwks(self, saleor_api_url: SaleorApiUrl, jwks: str, now: datetime) -> None:
        """Keep the store's rotated keys, in a transaction of their own."""
        async with self._sessions.begin() as session:
            await SqlInstallationStore(session, self._cipher).replace_jwks(saleor_api_url, jwks, now)
        self.forget(saleor_api_url)

    def forget(self, saleor_api_url: SaleorApiUrl) -> None:
        self._read.pop(saleor_api_url, None)
        self._reading.pop(saleor_api_url, None)

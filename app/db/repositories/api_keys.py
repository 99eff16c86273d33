from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApiKeyRow, InstallationRow
from app.domain.ids import SaleorApiUrl
from app.services.api_keys import ApiKey


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        row.id,
        SaleorApiUrl(row.saleor_api_url),
        row.name,
        row.created_at,
        row.created_by,
        row.revoked_at,
        row.last_used_at,
    )


class SqlApiKeyStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, url: SaleorApiUrl, name: str, key_hash: str, *, by: str, at: datetime) -> ApiKey:
        row = ApiKeyRow(saleor_api_url=url, name=name, key_hash=key_hash, created_at=at, created_by=by)
        self._session.add(row)
        await self._session.flush()
        return _key(row)

    async def keys(self, url: SaleorApiUrl) -> list[ApiKey]:
        rows = await self._session.scalars(
            select(ApiKeyRow).where(ApiKeyRow.saleor_api_url == url).order_by(ApiKeyRow.id.desc())
        )
        return [_key(row) for row in rows]

    async def revoke(self, url: SaleorApiUrl, key_id: int, at: datetime) -> bool:
        result = await self._session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.saleor_api_url == url, ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def use(self, key_hash: str, at: datetime) -> ApiKey | None:
        row = await self._session.scalar(
            select(ApiKeyRow)
            .join(InstallationRow, InstallationRow.saleor_api_url == ApiKeyRow.saleor_api_url)
            .where(ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None), InstallationRow.revoked_at.is_(None))
        )
        if row is None:
            return None
        row.last_used_at = at
        await self._session.flush()
        return _key(row)

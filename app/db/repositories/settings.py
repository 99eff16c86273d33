from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import SettingsChangeRow, SettingsRow
from app.domain.ids import SaleorApiUrl
from app.services.ports import SettingsChange


class SqlSettingsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, saleor_api_url: SaleorApiUrl, section: str) -> dict[str, object] | None:
        row = await self._session.get(SettingsRow, (saleor_api_url, section))
        if row is None:
            return None
        values: dict[str, object] = json.loads(row.values)
        return values

    async def save(self, saleor_api_url: SaleorApiUrl, change: SettingsChange) -> None:
        row = await self._session.get(SettingsRow, (saleor_api_url, change.section))
        if row is None:
            row = SettingsRow(saleor_api_url=saleor_api_url, section=change.section)
            self._session.add(row)
        row.values = change.after
        row.updated_at = change.changed_at
        row.updated_by = change.changed_by
        self._session.add(
            SettingsChangeRow(
                saleor_api_url=saleor_api_url,
                section=change.section,
                changed_at=change.changed_at,
                changed_by=change.changed_by,
                before=change.before,
                after=change.after,
            )
        )
        await self._session.flush()

    async def history(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[SettingsChange]:
        rows = await self._session.scalars(
            select(SettingsChangeRow)
            .where(SettingsChangeRow.saleor_api_url == saleor_api_url)
            .order_by(SettingsChangeRow.changed_at.desc(), SettingsChangeRow.id.desc())
            .limit(limit)
        )
        return [
            SettingsChange(
                section=row.section,
                changed_at=row.changed_at,
                changed_by=row.changed_by,
                before=row.before,
                after=row.after,
            )
            for row in rows
        ]

"""A store's support macros on a real database (``app.services.ports.MacroStore``)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import SupportMacroRow
from app.domain.ids import SaleorApiUrl
from app.domain.support.macros import Macro, MacroId


def _macro(row: SupportMacroRow) -> Macro:
    return Macro(MacroId(row.id), row.name, row.body, row.updated_by, row.updated_at)


class SqlMacroStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self, saleor_api_url: SaleorApiUrl) -> list[Macro]:
        rows = await self._session.scalars(
            select(SupportMacroRow)
            .where(SupportMacroRow.saleor_api_url == saleor_api_url)
            .order_by(SupportMacroRow.name, SupportMacroRow.id)
        )
        return [_macro(row) for row in rows]

    async def get(self, saleor_api_url: SaleorApiUrl, macro_id: MacroId) -> Macro | None:
        row = await self._session.get(SupportMacroRow, (saleor_api_url, macro_id))
        return None if row is None else _macro(row)

    async def save(self, saleor_api_url: SaleorApiUrl, macro: Macro) -> None:
        await self._session.merge(
            SupportMacroRow(
                saleor_api_url=saleor_api_url,
                id=macro.id,
                name=macro.name,
                body=macro.body,
                updated_by=macro.updated_by,
                updated_at=macro.updated_at,
            )
        )
        await self._session.flush()

    async def delete(self, saleor_api_url: SaleorApiUrl, macro_id: MacroId) -> bool:
        deleted = await self._session.execute(
            delete(SupportMacroRow).where(
                SupportMacroRow.saleor_api_url == saleor_api_url, SupportMacroRow.id == macro_id
            )
        )
        return bool(getattr(deleted, "rowcount", 0))

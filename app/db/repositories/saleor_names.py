"""What a store calls its warehouses and variants, learned from Saleor, keyed by Saleor id."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from app.db.models import SaleorNameRow
from app.domain.ids import SaleorApiUrl
from app.services.ports import SaleorName

_NAMES = cast(Table, SaleorNameRow.__table__)
_LOOKUP_CHUNK = 500  # ids per IN list, well under every driver's parameter limit


@cache
def _upsert(dialect: str) -> Insert:
    """Insert a name or replace it: Saleor's latest word on a name wins."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_NAMES)
    return statement.on_conflict_do_update(
        index_elements=[_NAMES.c.saleor_api_url, _NAMES.c.saleor_id],
        set_={name: statement.excluded[name] for name in ("name", "slug", "updated_at")},
    )


class SqlSaleorNames:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def remember(self, url: SaleorApiUrl, names: Iterable[SaleorName], now: datetime) -> None:
        """Keep the names that are new or changed. Those already known as they are are not written
        again: an upsert would lock a popular variant's row until the transaction ends, and every
        order of that variant processed meanwhile would queue behind it."""
        latest = {name.saleor_id: name for name in names}  # one row per id in one statement
        known = await self.lookup(url, latest)
        rows = [
            {"saleor_api_url": url, "saleor_id": n.saleor_id, "name": n.name, "slug": n.slug, "updated_at": now}
            for n in latest.values()
            if known.get(n.saleor_id) != n
        ]
        if not rows:
            return
        connection = await self._session.connection()
        await connection.execute(_upsert(connection.dialect.name), rows)

    async def lookup(self, url: SaleorApiUrl, ids: Collection[str]) -> dict[str, SaleorName]:
        wanted = sorted(set(ids))
        found: dict[str, SaleorName] = {}
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            rows = await self._session.execute(
                select(SaleorNameRow.saleor_id, SaleorNameRow.name, SaleorNameRow.slug).where(
                    SaleorNameRow.saleor_api_url == url,
                    SaleorNameRow.saleor_id.in_(wanted[start : start + _LOOKUP_CHUNK]),
                )
            )
            found.update({saleor_id: SaleorName(saleor_id, name, slug) for saleor_id, name, slug in rows})
        return found

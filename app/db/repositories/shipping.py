"""Shipping's stored settings: each warehouse's rate table, as the CSV rows it is exported as, and
the revision that tells quoting its copies of them and of the shipping settings are stale."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import SettingsChangeRow, ShippingRateTableRow
from app.domain.ids import SaleorApiUrl
from app.domain.shipping.rates import RateTable
from app.services.settings import SECTIONS
from app.services.shipping.tables import TablesRejected, read_rate_tables, write_rate_tables

TABLES_KEPT_READ = 512  # warehouses' tables, across stores


class StoredTableUnreadable(RuntimeError):
    """A stored table no longer reads: the format changed without a migration of the rows."""


@lru_cache(maxsize=TABLES_KEPT_READ)
def _stored_table(rows: str) -> RateTable:
    """A stored table, read once per process while it stays the same: checking a few hundred rows
    takes milliseconds, and checkout reads the tables often. Shared safely: tables are frozen, their
    divisors typed as a read-only Mapping."""
    read = read_rate_tables(io.StringIO(rows, newline=""))
    if isinstance(read, TablesRejected) or len(read) != 1:
        raise StoredTableUnreadable(f"a stored rate table does not read: {read}")
    return read[0]


class SqlRateTableStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def rate_tables(self, saleor_api_url: SaleorApiUrl) -> list[RateTable]:
        stored = await self._session.execute(
            select(ShippingRateTableRow.rows)
            .where(ShippingRateTableRow.saleor_api_url == saleor_api_url)
            .order_by(ShippingRateTableRow.position)
        )
        return [_stored_table(rows) for rows in stored.scalars()]

    async def replace_rate_tables(self, saleor_api_url: SaleorApiUrl, tables: Sequence[RateTable]) -> None:
        warehouses = [table.warehouse_id for table in tables]
        if len(set(warehouses)) != len(warehouses):
            raise ValueError(f"one rate table per warehouse, got {warehouses}")
        revision = uuid.uuid4().hex
        await self._session.execute(
            delete(ShippingRateTableRow).where(ShippingRateTableRow.saleor_api_url == saleor_api_url)
        )
        self._session.add_all(
            ShippingRateTableRow(
                saleor_api_url=saleor_api_url,
                warehouse_id=table.warehouse_id,
                position=position,
                rows=write_rate_tables([table]),
                revision=revision,
            )
            for position, table in enumerate(tables)
        )
        await self._session.flush()


class SqlShippingRevisions:
    """``ShippingRevisions``: the latest change of the shipping settings (every save keeps one, and
    none is ever deleted but with the store) and the tables' revision, in one query."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def revision(self, saleor_api_url: SaleorApiUrl) -> tuple[int | None, str | None]:
        settings_changed = (
            select(func.max(SettingsChangeRow.id))
            .where(
                SettingsChangeRow.saleor_api_url == saleor_api_url,
                SettingsChangeRow.section == SECTIONS["shipping"].key,
            )
            .scalar_subquery()
        )
        tables_replaced = (
            select(func.max(ShippingRateTableRow.revision))
            .where(ShippingRateTableRow.saleor_api_url == saleor_api_url)
            .scalar_subquery()
        )
        row = (await self._session.execute(select(settings_changed, tables_replaced))).one()
        return row[0], row[1]

"""Shipping's stored settings: each warehouse's rate table, as the CSV rows it is exported as."""

from __future__ import annotations

import io
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ShippingRateTableRow
from app.domain.ids import SaleorApiUrl
from app.domain.shipping.rates import RateTable
from app.services.shipping.tables import TablesRejected, read_rate_tables, write_rate_tables


class StoredTableUnreadable(RuntimeError):
    """A stored table no longer reads: the format changed without a migration of the rows."""


class SqlRateTableStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def rate_tables(self, saleor_api_url: SaleorApiUrl) -> list[RateTable]:
        stored = await self._session.execute(
            select(ShippingRateTableRow.warehouse_id, ShippingRateTableRow.rows)
            .where(ShippingRateTableRow.saleor_api_url == saleor_api_url)
            .order_by(ShippingRateTableRow.position)
        )
        tables: list[RateTable] = []
        for warehouse_id, rows in stored:
            read = read_rate_tables(io.StringIO(rows, newline=""))
            if isinstance(read, TablesRejected) or len(read) != 1:
                raise StoredTableUnreadable(f"the rate table of {warehouse_id} for {saleor_api_url} does not read")
            tables.extend(read)
        return tables

    async def replace_rate_tables(self, saleor_api_url: SaleorApiUrl, tables: Sequence[RateTable]) -> None:
        warehouses = [table.warehouse_id for table in tables]
        if len(set(warehouses)) != len(warehouses):
            raise ValueError(f"one rate table per warehouse, got {warehouses}")
        await self._session.execute(
            delete(ShippingRateTableRow).where(ShippingRateTableRow.saleor_api_url == saleor_api_url)
        )
        self._session.add_all(
            ShippingRateTableRow(
                saleor_api_url=saleor_api_url,
                warehouse_id=table.warehouse_id,
                position=position,
                rows=write_rate_tables([table]),
            )
            for position, table in enumerate(tables)
        )
        await self._session.flush()

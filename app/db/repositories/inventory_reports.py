"""Read queries behind the valuation reports, over the stored moves and their current postings."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Text, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.db.models import InventoryMoveRow, InventoryPoolRow
from app.db.repositories.inventory import move_of, posting_of
from app.db.repositories.saleor_names import SqlSaleorNames
from app.domain.ids import SaleorApiUrl
from app.domain.inventory import Method, Move, MoveKind, StockValue, unit_cost_of
from app.services.inventory_reports import ACTIVITY_GRAIN, LedgerLine, SlotSales, SlotStock
from app.services.ports import SaleorName

_INCOMING = [kind.value for kind in MoveKind if kind.incoming]
_OUTGOING = [kind.value for kind in MoveKind if kind.outgoing]
_GRAIN_SECONDS = int(ACTIVITY_GRAIN.total_seconds())


class _Grain(FunctionElement[int]):
    """Which ``ACTIVITY_GRAIN`` slot since the Unix epoch an instant falls in."""

    type = BigInteger()
    inherit_cache = True


@compiles(_Grain, "sqlite")
def _grain_sqlite(element: _Grain, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER) / {_GRAIN_SECONDS}"


@compiles(_Grain, "postgresql")
def _grain_postgresql(element: _Grain, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(floor(extract(epoch FROM {compiler.process(element.clauses, **kw)}) / {_GRAIN_SECONDS}) AS BIGINT)"


def _slot_start(slot: int) -> datetime:
    return datetime.fromtimestamp(slot * _GRAIN_SECONDS, UTC)


def _decimals(joined: str | None) -> Decimal:
    """The sum of comma-joined exact decimals (SQLite keeps them as text: its SUM would use floats)."""
    return sum((Decimal(number) for number in joined.split(",")), Decimal(0)) if joined else Decimal(0)


def _revenue(joined: str | None) -> Decimal:
    """The sum of comma-joined ``quantity*unit price`` terms."""
    if not joined:
        return Decimal(0)
    total = Decimal(0)
    for term in joined.split(","):
        quantity, _, price = term.partition("*")
        total += int(quantity) * Decimal(price)
    return total


class SqlInventoryReports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def stock_as_of(self, url: SaleorApiUrl, at: datetime) -> list[StockValue]:
        """Each pool's balance after its latest move at or before ``at``; empty pools left out.

        One backward probe of the pool-position index per pool, so the cost follows the number
        of pools, not the length of the ledger.
        """
        latest = aliased(InventoryMoveRow)
        latest_seq = (
            select(latest.seq)
            .where(
                latest.saleor_api_url == InventoryPoolRow.saleor_api_url,
                latest.sku == InventoryPoolRow.sku,
                latest.warehouse == InventoryPoolRow.warehouse,
                latest.at <= at,
            )
            .order_by(latest.at.desc(), latest.phase.desc(), latest.seq.desc())
            .limit(1)
            .correlate(InventoryPoolRow)
            .scalar_subquery()
        )
        move = InventoryMoveRow
        rows = await self._session.execute(
            select(
                move.sku, move.warehouse, move.currency, move.posted_method, move.balance_quantity, move.balance_value
            )
            .where(move.seq.in_(select(latest_seq).where(InventoryPoolRow.saleor_api_url == url)))
            .order_by(move.warehouse, move.sku)
        )
        return [
            # Value per unit: under AVCO the exact average (the pool's stored one is rounded to six places).
            StockValue(sku, warehouse, currency, Method(method), quantity, value, unit_cost_of(value, quantity))
            for sku, warehouse, currency, method, quantity, value in rows
            if quantity or value
        ]

    async def count_moves(
        self, url: SaleorApiUrl, at: datetime, *, sku: str | None = None, warehouse: str | None = None
    ) -> int:
        query = select(func.count()).where(*self._filters(url, sku, warehouse), InventoryMoveRow.at <= at)
        return int(await self._session.scalar(query) or 0)

    async def moves_until(
        self, url: SaleorApiUrl, at: datetime, *, sku: str | None = None, warehouse: str | None = None
    ) -> list[Move]:
        rows = await self._session.scalars(
            select(InventoryMoveRow)
            .where(*self._filters(url, sku, warehouse), InventoryMoveRow.at <= at)
            .order_by(InventoryMoveRow.at, InventoryMoveRow.phase, InventoryMoveRow.seq)
        )
        return [move_of(row) for row in rows]

    async def sales_by_slot(self, url: SaleorApiUrl) -> list[SlotSales]:
        move = InventoryMoveRow
        grain = _Grain(move.at)
        priced = move.unit_price.is_not(None)
        sale = cast(move.quantity, Text) + "*" + cast(move.unit_price, Text)
        revenue = case(
            (priced & (move.kind == MoveKind.ISSUE.value), sale),
            (priced & (move.kind == MoveKind.CUSTOMER_RETURN.value), "-" + sale),
        )
        rows = await self._session.execute(
            select(
                grain,
                move.currency,
                func.aggregate_strings(cast(move.posted_cogs, Text), ","),
                func.aggregate_strings(revenue, ","),
            )
            .where(move.saleor_api_url == url)
            .group_by(grain, move.currency)
            .order_by(grain, move.currency)
        )
        return [
            SlotSales(_slot_start(slot), currency, _decimals(cogs), _revenue(sales))
            for slot, currency, cogs, sales in rows
        ]

    async def stock_by_slot(self, url: SaleorApiUrl) -> list[SlotStock]:
        move = InventoryMoveRow
        grain = _Grain(move.at)
        change = case((move.kind.in_(_INCOMING), move.quantity), (move.kind.in_(_OUTGOING), -move.quantity), else_=0)
        rows = await self._session.execute(
            select(grain, move.currency, func.sum(change), func.aggregate_strings(cast(move.posted_value, Text), ","))
            .where(move.saleor_api_url == url)
            .group_by(grain, move.currency)
            .order_by(grain, move.currency)
        )
        return [
            SlotStock(_slot_start(slot), currency, int(quantity), _decimals(values))
            for slot, currency, quantity, values in rows
        ]

    async def ledger(
        self, url: SaleorApiUrl, *, sku: str, warehouse: str | None = None, latest: int | None = None
    ) -> tuple[list[LedgerLine], int]:
        """A SKU's postings in ledger order (only the ``latest`` ones, when given) and how many it has."""
        filters = self._filters(url, sku, warehouse)
        total = int(await self._session.scalar(select(func.count()).where(*filters)) or 0)
        move = InventoryMoveRow
        query = select(move).where(*filters).order_by(move.at.desc(), move.phase.desc(), move.seq.desc())
        if latest is not None:
            query = query.limit(latest)
        rows = list(await self._session.scalars(query))
        return [LedgerLine(posting_of(row), row.order_id) for row in reversed(rows)], total

    async def warehouses(self, url: SaleorApiUrl) -> list[str]:
        rows = await self._session.scalars(
            select(InventoryPoolRow.warehouse)
            .where(InventoryPoolRow.saleor_api_url == url)
            .distinct()
            .order_by(InventoryPoolRow.warehouse)
        )
        return list(rows)

    async def names(self, url: SaleorApiUrl, ids: Collection[str]) -> dict[str, SaleorName]:
        return await SqlSaleorNames(self._session).lookup(url, ids)

    @staticmethod
    def _filters(url: SaleorApiUrl, sku: str | None, warehouse: str | None) -> list[Any]:
        filters: list[Any] = [InventoryMoveRow.saleor_api_url == url]
        if sku is not None:
            filters.append(InventoryMoveRow.sku == sku)
        if warehouse is not None:
            filters.append(InventoryMoveRow.warehouse == warehouse)
        return filters

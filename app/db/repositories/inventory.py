"""The cost ledger in SQL: moves with their current postings, pool states, pool snapshots."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import BigInteger, SmallInteger, Table, bindparam, delete, literal, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import Tuple

from app.db.base import UtcDateTime
from app.db.models import InventoryMoveRow, InventoryPoolRow, InventorySnapshotRow
from app.db.upsert import insert_all_if_absent
from app.domain.ids import SaleorApiUrl
from app.domain.inventory import (
    PHASE,
    STOCKING_KINDS,
    Correction,
    CostPool,
    Layer,
    LayerTake,
    Method,
    Move,
    MoveKind,
    Posting,
    Shortfall,
)
from app.services.ports import LedgerEntry, PoolKey, Position, StoredPool

_MOVES = cast(Table, InventoryMoveRow.__table__)
_POOLS = cast(Table, InventoryPoolRow.__table__)
_POOL_KEY = frozenset({"saleor_api_url", "sku", "warehouse"})
_SNAPSHOTS = cast(Table, InventorySnapshotRow.__table__)
# Built once: read for every order scored (its lines' next unit costs).
_POOLS_OF_SKUS = select(_POOLS).where(
    _POOLS.c.saleor_api_url == bindparam("url"), _POOLS.c.sku.in_(bindparam("skus", expanding=True))
)


def _takes_json(takes: Sequence[LayerTake]) -> str:
    return json.dumps([[take.receipt_id, take.quantity, str(take.unit_cost)] for take in takes])


def _takes(text: str) -> tuple[LayerTake, ...]:
    return tuple(LayerTake(receipt, quantity, Decimal(cost)) for receipt, quantity, cost in json.loads(text))


def _corrections_json(corrections: Sequence[Correction]) -> str:
    return json.dumps(
        [
            [
                c.move_id,
                c.kind.value,
                c.receipt_id,
                c.quantity,
                str(c.provisional_unit_cost),
                str(c.unit_cost),
                str(c.amount),
            ]
            for c in corrections
        ]
    )


def _corrections(text: str) -> tuple[Correction, ...]:
    return tuple(
        Correction(move_id, MoveKind(kind), receipt, quantity, Decimal(provisional), Decimal(cost), Decimal(amount))
        for move_id, kind, receipt, quantity, provisional, cost, amount in json.loads(text)
    )


def pool_json(pool: CostPool) -> str:
    return json.dumps(
        {
            "sku": pool.sku,
            "warehouse": pool.warehouse,
            "currency": pool.currency,
            "method": pool.method.value,
            "quantity": pool.quantity,
            "value": str(pool.value),
            "unit_cost": str(pool.unit_cost),
            "layers": _layers_value(pool.layers),
            "shortfalls": _shortfalls_value(pool.shortfalls),
        }
    )


def pool_from_json(text: str) -> CostPool:
    data = json.loads(text)
    return CostPool(
        data["sku"],
        data["warehouse"],
        data["currency"],
        Method(data["method"]),
        data["quantity"],
        Decimal(data["value"]),
        Decimal(data["unit_cost"]),
        _layers(data["layers"]),
        _shortfalls(data["shortfalls"]),
    )


def _layers_value(layers: Sequence[Layer]) -> list[list[Any]]:
    return [[layer.receipt_id, layer.quantity, str(layer.unit_cost), layer.received_at.isoformat()] for layer in layers]


def _layers(value: list[list[Any]]) -> tuple[Layer, ...]:
    return tuple(
        Layer(receipt, quantity, Decimal(cost), datetime.fromisoformat(at)) for receipt, quantity, cost, at in value
    )


def _shortfalls_value(shortfalls: Sequence[Shortfall]) -> list[list[Any]]:
    return [[s.move_id, s.kind.value, s.quantity, str(s.unit_cost)] for s in shortfalls]


def _shortfalls(value: list[list[Any]]) -> tuple[Shortfall, ...]:
    return tuple(Shortfall(move_id, MoveKind(kind), quantity, Decimal(cost)) for move_id, kind, quantity, cost in value)


def move_of(row: InventoryMoveRow) -> Move:
    return Move(
        id=row.move_id,
        kind=MoveKind(row.kind),
        sku=row.sku,
        warehouse=row.warehouse,
        at=row.at,
        quantity=row.quantity,
        currency=row.currency,
        unit_cost=row.unit_cost,
        amount=row.amount,
        receipt_id=row.receipt_id,
        cost_of=_takes(row.cost_of),
        related_move_id=row.related_move_id,
        counterpart_warehouse=row.counterpart_warehouse,
        method=Method(row.method) if row.method else None,
        reference=row.reference,
        seq=row.seq,
    )


def posting_of(row: InventoryMoveRow) -> Posting:
    move = move_of(row)
    return Posting(
        move,
        Method(row.posted_method),
        _stock_change(move),
        row.posted_value,
        row.posted_cogs,
        row.posted_variance,
        _takes(row.posted_layers),
        _corrections(row.posted_corrections),
        row.balance_quantity,
        row.balance_value,
    )


def _stock_change(move: Move) -> int:
    if move.kind.outgoing:
        return -move.quantity
    return move.quantity if move.kind.incoming else 0


def _posting_columns(posting: Posting) -> dict[str, Any]:
    return {
        "posted_method": posting.method.value,
        "posted_value": posting.value,
        "posted_cogs": posting.cogs,
        "posted_variance": posting.variance,
        "posted_layers": _takes_json(posting.layers),
        "posted_corrections": _corrections_json(posting.corrections),
        "balance_quantity": posting.balance_quantity,
        "balance_value": posting.balance_value,
    }


def _position(at: datetime, phase: int, seq: int | None = None) -> Tuple:
    """A position as SQL values, typed so SQLite compares instants as the column stores them."""
    values = [literal(at, UtcDateTime()), literal(phase, SmallInteger())]
    if seq is not None:
        values.append(literal(seq, BigInteger()))
    return tuple_(*values)


def _position_of(row: InventoryMoveRow | InventorySnapshotRow) -> Position:
    return (row.at, row.phase, row.seq)


def _pool_row(url: SaleorApiUrl, stored: StoredPool, now: datetime) -> dict[str, Any]:
    pool, last = stored.pool, stored.last
    return {
        "saleor_api_url": url,
        "sku": pool.sku,
        "warehouse": pool.warehouse,
        "product_type": stored.product_type,
        "currency": pool.currency,
        "method": pool.method.value,
        "quantity": pool.quantity,
        "value": pool.value,
        "unit_cost": pool.unit_cost,
        "layers": json.dumps(_layers_value(pool.layers)),
        "shortfalls": json.dumps(_shortfalls_value(pool.shortfalls)),
        "last_at": last[0] if last else None,
        "last_phase": last[1] if last else None,
        "last_seq": last[2] if last else None,
        "moves_since_snapshot": stored.moves_since_snapshot,
        "updated_at": now,
    }


@cache
def _pool_upsert(dialect: str) -> Insert:
    """Insert a pool or overwrite its state; built once per dialect, the values come as parameters."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_POOLS)
    return statement.on_conflict_do_update(
        index_elements=[_POOLS.c.saleor_api_url, _POOLS.c.sku, _POOLS.c.warehouse],
        set_={column.name: statement.excluded[column.name] for column in _POOLS.c if column.name not in _POOL_KEY},
    )


class SqlInventoryLedger:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def known_move_ids(self, url: SaleorApiUrl, move_ids: Collection[str]) -> set[str]:
        known: set[str] = set()
        ids = list(move_ids)
        for start in range(0, len(ids), 500):  # keep each IN (...) well under the drivers' limits
            rows = await self._session.execute(
                select(_MOVES.c.move_id).where(
                    _MOVES.c.saleor_api_url == url, _MOVES.c.move_id.in_(ids[start : start + 500])
                )
            )
            known.update(rows.scalars())
        return known

    async def pools(
        self, url: SaleorApiUrl, keys: Collection[PoolKey], *, for_update: bool = False
    ) -> dict[PoolKey, StoredPool]:
        found: dict[PoolKey, StoredPool] = {}
        wanted = set(keys)
        skus = sorted({sku for sku, _ in wanted})
        for start in range(0, len(skus), 500):
            # SKU IN (...) walks the primary key; a (sku, warehouse) row-value IN would not on SQLite.
            query = select(_POOLS).where(
                _POOLS.c.saleor_api_url == url,
                _POOLS.c.sku.in_(skus[start : start + 500]),
                _POOLS.c.warehouse.in_({warehouse for _, warehouse in wanted}),
            )
            if for_update:
                # Two deliveries touching one pool queue here instead of losing each other's update.
                query = query.with_for_update()
            for row in await self._session.execute(query):
                if (row.sku, row.warehouse) in wanted:
                    found[row.sku, row.warehouse] = self._stored(row)
        return found

    async def pools_of_skus(self, url: SaleorApiUrl, skus: Collection[str]) -> list[StoredPool]:
        if not skus:
            return []
        rows = await self._session.execute(_POOLS_OF_SKUS, {"url": url, "skus": list(skus)})
        return [self._stored(row) for row in rows]

    async def all_pools(self, url: SaleorApiUrl) -> list[StoredPool]:
        rows = await self._session.scalars(
            select(InventoryPoolRow)
            .where(InventoryPoolRow.saleor_api_url == url)
            .order_by(InventoryPoolRow.sku, InventoryPoolRow.warehouse)
        )
        return [self._stored(row) for row in rows]

    @staticmethod
    def _stored(row: InventoryPoolRow | Row[Any]) -> StoredPool:
        pool = CostPool(
            row.sku,
            row.warehouse,
            row.currency,
            Method(row.method),
            row.quantity,
            row.value,
            row.unit_cost,
            _layers(json.loads(row.layers)),
            _shortfalls(json.loads(row.shortfalls)),
        )
        last = None
        if row.last_at is not None and row.last_phase is not None and row.last_seq is not None:
            last = (row.last_at, row.last_phase, row.last_seq)
        return StoredPool(pool, row.product_type, last, row.moves_since_snapshot)

    async def open_pools(self, url: SaleorApiUrl, pools: Sequence[StoredPool], now: datetime) -> None:
        await insert_all_if_absent(self._session, _POOLS, [_pool_row(url, stored, now) for stored in pools])

    async def save_pools(self, url: SaleorApiUrl, pools: Sequence[StoredPool], now: datetime) -> None:
        if not pools:
            return
        rows = [_pool_row(url, stored, now) for stored in pools]
        connection = await self._session.connection()
        # One statement for the whole batch: per-row ORM loads and flushes cost more than the booking.
        await connection.execute(_pool_upsert(connection.dialect.name), rows)

    async def append(
        self, url: SaleorApiUrl, booked: Sequence[tuple[LedgerEntry, Posting]], now: datetime
    ) -> list[int]:
        if not booked:
            return []
        rows = [
            {
                "saleor_api_url": url,
                "move_id": posting.move.id,
                "kind": posting.move.kind.value,
                "sku": posting.move.sku,
                "warehouse": posting.move.warehouse,
                "at": posting.move.at,
                "phase": PHASE[posting.move.kind],
                "quantity": posting.move.quantity,
                "currency": posting.move.currency,
                "unit_cost": posting.move.unit_cost,
                "amount": posting.move.amount,
                "receipt_id": posting.move.receipt_id,
                "cost_of": _takes_json(posting.move.cost_of),
                "related_move_id": posting.move.related_move_id,
                "counterpart_warehouse": posting.move.counterpart_warehouse,
                "method": posting.move.method.value if posting.move.method else None,
                "reference": posting.move.reference,
                "order_id": entry.order_id,
                "unit_price": entry.unit_price,
                "source": entry.source,
                "recorded_by": entry.recorded_by,
                "recorded_at": now,
                **_posting_columns(posting),
            }
            for entry, posting in booked
        ]
        table = _MOVES
        # Matched by id rather than asking for rows back in parameter order, which SQLAlchemy
        # can only guarantee on SQLite by inserting one row per statement.
        result = await self._session.execute(table.insert().returning(table.c.move_id, table.c.seq), rows)
        numbers: dict[str, int] = dict(result.all())
        return [numbers[posting.move.id] for _, posting in booked]

    async def snapshot_before(
        self, url: SaleorApiUrl, key: PoolKey, at: datetime, phase: int
    ) -> tuple[Position, CostPool] | None:
        row = await self._session.scalar(
            select(InventorySnapshotRow)
            .where(
                InventorySnapshotRow.saleor_api_url == url,
                InventorySnapshotRow.sku == key[0],
                InventorySnapshotRow.warehouse == key[1],
                tuple_(InventorySnapshotRow.at, InventorySnapshotRow.phase)
                <= tuple_(bindparam("at_"), bindparam("phase_")),
            )
            .order_by(
                InventorySnapshotRow.at.desc(), InventorySnapshotRow.phase.desc(), InventorySnapshotRow.seq.desc()
            )
            .limit(1),
            {"at_": at, "phase_": phase},
        )
        return None if row is None else (_position_of(row), pool_from_json(row.pool))

    async def save_snapshots(self, url: SaleorApiUrl, snapshots: Sequence[tuple[Position, CostPool]]) -> None:
        await insert_all_if_absent(
            self._session,
            _SNAPSHOTS,
            [
                {
                    "saleor_api_url": url,
                    "sku": pool.sku,
                    "warehouse": pool.warehouse,
                    "at": at,
                    "phase": phase,
                    "seq": seq,
                    "pool": pool_json(pool),
                }
                for (at, phase, seq), pool in snapshots
            ],
        )

    async def drop_snapshots_after(self, url: SaleorApiUrl, key: PoolKey, position: Position) -> None:
        await self._session.execute(
            delete(InventorySnapshotRow).where(
                InventorySnapshotRow.saleor_api_url == url,
                InventorySnapshotRow.sku == key[0],
                InventorySnapshotRow.warehouse == key[1],
                tuple_(InventorySnapshotRow.at, InventorySnapshotRow.phase, InventorySnapshotRow.seq)
                > _position(*position),
            )
        )

    async def postings_after(self, url: SaleorApiUrl, key: PoolKey, position: Position) -> list[Posting]:
        rows = await self._session.scalars(
            select(InventoryMoveRow)
            .where(
                InventoryMoveRow.saleor_api_url == url,
                InventoryMoveRow.sku == key[0],
                InventoryMoveRow.warehouse == key[1],
                tuple_(InventoryMoveRow.at, InventoryMoveRow.phase, InventoryMoveRow.seq) > _position(*position),
            )
            .order_by(InventoryMoveRow.at, InventoryMoveRow.phase, InventoryMoveRow.seq)
        )
        return [posting_of(row) for row in rows]

    async def repost(self, url: SaleorApiUrl, postings: Sequence[Posting]) -> None:
        if not postings:
            return
        table = _MOVES
        statement = (
            update(table)
            .where(table.c.seq == bindparam("seq_"))
            .values({name: bindparam(name) for name in ("cost_of", *_posting_columns(postings[0]))})
        )
        connection = await self._session.connection()
        await connection.execute(
            statement,
            [
                {"seq_": posting.move.seq, "cost_of": _takes_json(posting.move.cost_of), **_posting_columns(posting)}
                for posting in postings
            ],
        )

    async def order_postings(self, url: SaleorApiUrl, order_id: str) -> list[Posting]:
        # Sorted here, not in SQL: an ORDER BY on the instant leads SQLite to walk the store's
        # whole ledger by (store, instant) instead of looking the order up.
        own = sorted(
            (
                await self._session.scalars(
                    select(InventoryMoveRow).where(
                        InventoryMoveRow.saleor_api_url == url, InventoryMoveRow.order_id == order_id
                    )
                )
            ).all(),
            key=_position_of,
        )
        issued = [row for row in own if row.kind == MoveKind.ISSUE.value]
        if not issued:
            return [posting_of(row) for row in own]
        # Incoming moves of the same pools that covered what these issues took beyond stock, and
        # landed costs on the receipts the issues took from (a return brings those back too).
        pools = {(row.sku, row.warehouse) for row in issued}
        earliest = min(row.at for row in issued)
        issue_ids = {row.move_id for row in issued}
        candidates = (
            await self._session.scalars(
                select(InventoryMoveRow).where(
                    InventoryMoveRow.saleor_api_url == url,
                    InventoryMoveRow.sku.in_({sku for sku, _ in pools}),
                    InventoryMoveRow.warehouse.in_({warehouse for _, warehouse in pools}),
                    InventoryMoveRow.at >= earliest,
                    or_(
                        InventoryMoveRow.posted_corrections != "[]",
                        InventoryMoveRow.kind == MoveKind.LANDED_COST.value,
                    ),
                    or_(InventoryMoveRow.order_id.is_(None), InventoryMoveRow.order_id != order_id),
                )
            )
        ).all()
        correcting = [
            row for row in candidates if any(c.move_id in issue_ids for c in _corrections(row.posted_corrections))
        ]
        receipts = {
            (row.sku, row.warehouse, take.receipt_id) for row in issued for take in _takes(row.posted_layers)
        } | {(row.sku, row.warehouse, c.receipt_id) for row in correcting for c in _corrections(row.posted_corrections)}
        landed = [
            row
            for row in candidates
            if row.kind == MoveKind.LANDED_COST.value and (row.sku, row.warehouse, row.receipt_id) in receipts
        ]
        rows = sorted([*own, *correcting, *landed], key=_position_of)
        return [posting_of(row) for row in rows]

    async def postings_of(self, url: SaleorApiUrl, move_ids: Collection[str]) -> dict[str, Posting]:
        if not move_ids:
            return {}
        rows = await self._session.scalars(
            select(InventoryMoveRow).where(
                InventoryMoveRow.saleor_api_url == url, InventoryMoveRow.move_id.in_(list(move_ids))
            )
        )
        return {row.move_id: posting_of(row) for row in rows}

    async def receipts_named(self, url: SaleorApiUrl, names: Collection[str]) -> list[Move]:
        found: dict[str, Move] = {}
        wanted = list(names)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = await self._session.scalars(
                select(InventoryMoveRow).where(
                    InventoryMoveRow.saleor_api_url == url,
                    InventoryMoveRow.kind == MoveKind.RECEIPT.value,
                    or_(InventoryMoveRow.move_id.in_(chunk), InventoryMoveRow.reference.in_(chunk)),
                )
            )
            # A receipt named by its id in one chunk may be named by its reference in another.
            found.update((row.move_id, move_of(row)) for row in rows)
        return list(found.values())

    async def orders_of(self, url: SaleorApiUrl, move_ids: Collection[str]) -> set[str]:
        if not move_ids:
            return set()
        rows = await self._session.scalars(
            select(InventoryMoveRow.order_id).where(
                InventoryMoveRow.saleor_api_url == url,
                InventoryMoveRow.move_id.in_(list(move_ids)),
                InventoryMoveRow.order_id.is_not(None),
            )
        )
        return {order_id for order_id in rows if order_id is not None}

    async def stocked(self, url: SaleorApiUrl, keys: Collection[PoolKey]) -> set[PoolKey]:
        wanted = set(keys)
        if not wanted:
            return set()
        M = InventoryMoveRow
        rows = await self._session.execute(
            select(M.sku, M.warehouse)
            .where(
                M.saleor_api_url == url,
                M.sku.in_(sorted({sku for sku, _ in wanted})),
                M.warehouse.in_(sorted({warehouse for _, warehouse in wanted})),
                M.kind.in_(sorted(kind.value for kind in STOCKING_KINDS)),
            )
            .distinct()
        )
        return {(sku, warehouse) for sku, warehouse in rows} & wanted

    async def sale_prices(self, url: SaleorApiUrl, order_id: str) -> dict[str, tuple[str, Decimal, str]]:
        rows = await self._session.execute(
            select(
                InventoryMoveRow.reference, InventoryMoveRow.sku, InventoryMoveRow.unit_price, InventoryMoveRow.currency
            ).where(
                InventoryMoveRow.saleor_api_url == url,
                InventoryMoveRow.order_id == order_id,
                InventoryMoveRow.kind == MoveKind.ISSUE.value,
                InventoryMoveRow.unit_price.is_not(None),
            )
        )
        return {line: (sku, price, currency) for line, sku, price, currency in rows if price is not None}

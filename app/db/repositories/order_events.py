from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy import Table, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.engine import asyncpg_dsn
from app.db.models import PRUNED_PAYLOAD, FailedDeliveryRow, OrderEventRow
from app.db.upsert import insert_if_absent
from app.db.wakeups import DELIVERIES_STORED
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.order_event import FailedDelivery, ReceivedOrderEvent, SaleorError
from app.domain.pipeline import Status
from app.errors import NotInstalledError

_TABLE = cast(Table, OrderEventRow.__table__)
_FAILED = cast(Table, FailedDeliveryRow.__table__)


class SqlOrderEventLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, event: ReceivedOrderEvent) -> bool:
        """Store the event once; False when this occurrence was already recorded."""
        return await insert_if_absent(self._session, _TABLE, _row(event))

    async def record_failed(self, delivery: FailedDelivery) -> bool:
        """Keep a delivery Saleor could not render, once; False when this body was already kept."""
        return await insert_if_absent(
            self._session,
            _FAILED,
            {
                "saleor_api_url": delivery.saleor_api_url,
                "event": delivery.event,
                "issued_at": delivery.issued_at,
                "body_sha256": delivery.fingerprint,
                "errors": json.dumps([{"message": e.message, "path": list(e.path)} for e in delivery.errors]),
                "payload": delivery.payload,
                "received_at": delivery.received_at,
            },
        )

    async def recent_failed(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[FailedDelivery]:
        rows = await self._session.scalars(
            select(FailedDeliveryRow)
            .where(FailedDeliveryRow.saleor_api_url == saleor_api_url)
            .order_by(FailedDeliveryRow.received_at.desc(), FailedDeliveryRow.id.desc())
            .limit(limit)
        )
        return [
            FailedDelivery(
                saleor_api_url=SaleorApiUrl(row.saleor_api_url),
                event=row.event,
                issued_at=row.issued_at,
                errors=tuple(SaleorError(e["message"], tuple(e["path"])) for e in json.loads(row.errors)),
                received_at=row.received_at,
                payload=row.payload,
            )
            for row in rows
        ]

    async def for_order(self, saleor_api_url: SaleorApiUrl, order_id: SaleorId) -> list[ReceivedOrderEvent]:
        rows = await self._session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.saleor_api_url == saleor_api_url, OrderEventRow.order_id == order_id)
            .order_by(OrderEventRow.issued_at, OrderEventRow.id)
        )
        return [_to_domain(row) for row in rows]

    async def recent(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[ReceivedOrderEvent]:
        rows = await self._session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.saleor_api_url == saleor_api_url)
            .order_by(OrderEventRow.issued_at.desc(), OrderEventRow.id.desc())
            .limit(limit)
        )
        return [_to_domain(row) for row in rows]

    async def first_of_recent_orders(self, saleor_api_url: SaleorApiUrl, limit: int) -> list[ReceivedOrderEvent]:
        """The earliest event still kept whole of each of the ``limit`` orders first seen last, most recent
        first: the order as it was placed, for the routing simulator."""
        kept = (OrderEventRow.saleor_api_url == saleor_api_url, OrderEventRow.payload != PRUNED_PAYLOAD)
        firsts = (
            select(OrderEventRow.order_id, func.min(OrderEventRow.issued_at).label("first"))
            .where(*kept)
            .group_by(OrderEventRow.order_id)
            .order_by(func.min(OrderEventRow.issued_at).desc(), OrderEventRow.order_id)
            .limit(limit)
            .subquery()
        )
        rows = await self._session.scalars(
            select(OrderEventRow)
            .join(firsts, (firsts.c.order_id == OrderEventRow.order_id) & (firsts.c.first == OrderEventRow.issued_at))
            .where(*kept)
            .order_by(OrderEventRow.issued_at.desc(), OrderEventRow.order_id, OrderEventRow.id)
        )
        events: dict[str, ReceivedOrderEvent] = {}
        for row in rows:  # two events of one order issued at once: the first stored stands for both
            events.setdefault(row.order_id, _to_domain(row))
        return list(events.values())

    async def counts_since(self, saleor_api_url: SaleorApiUrl, since: datetime) -> dict[str, int]:
        rows = await self._session.execute(
            select(OrderEventRow.event, func.count())
            .where(OrderEventRow.saleor_api_url == saleor_api_url, OrderEventRow.issued_at >= since)
            .group_by(OrderEventRow.event)
        )
        return {event: int(count) for event, count in rows}

    async def count(self, saleor_api_url: SaleorApiUrl) -> int:
        total = await self._session.scalar(
            select(func.count()).select_from(OrderEventRow).where(OrderEventRow.saleor_api_url == saleor_api_url)
        )
        return int(total or 0)


NaturalKey = tuple[str, str, str, datetime]
_KEY_COLUMNS = (_TABLE.c.saleor_api_url, _TABLE.c.event, _TABLE.c.order_id, _TABLE.c.issued_at)


def _row(event: ReceivedOrderEvent) -> dict[str, Any]:
    return {
        "saleor_api_url": event.saleor_api_url,
        "event": event.event,
        "order_id": event.order_id,
        "order_number": event.order_number,
        "issued_at": event.issued_at,
        "saleor_version": event.saleor_version,
        "payload": event.payload,
        "received_at": event.received_at,
        "status": Status.PENDING,
        "attempts": 0,
        "next_attempt_at": event.received_at,
        "retry_window_start": event.received_at,
    }


def _key(row: dict[str, Any]) -> NaturalKey:
    return (row["saleor_api_url"], row["event"], row["order_id"], row["issued_at"])


class DeliveryWriter(Protocol):
    async def insert(self, rows: list[dict[str, Any]]) -> set[NaturalKey]:
        """Insert the rows no unique constraint holds yet, committed; the natural keys of those inserted."""

    async def close(self) -> None: ...


class _PostgresqlWriter:
    """One statement, prepared once, for any number of rows (``unnest`` of one array per column),
    on an asyncpg connection of its own in autocommit (its batcher writes one batch at a time): one
    round trip per batch, no BEGIN or COMMIT, and none of the ORM's work per statement. A dropped
    connection fails one batch: those deliveries are answered 503, Saleor sends them again, and the
    pool connects again for the next."""

    _COLUMNS = (
        ("saleor_api_url", "text"),
        ("event", "text"),
        ("order_id", "text"),
        ("order_number", "text"),
        ("issued_at", "timestamptz"),
        ("saleor_version", "text"),
        ("payload", "text"),
        ("received_at", "timestamptz"),
        ("status", "text"),
        ("attempts", "int"),
        ("next_attempt_at", "timestamptz"),
        ("retry_window_start", "timestamptz"),
    )
    # ``notified`` is materialized, so evaluated once however many rows were stored, and joined, so
    # evaluated at all (a CTE that is not a write runs only when read); with nothing stored it is empty.
    _SQL = (
        f"WITH stored AS (INSERT INTO {_TABLE.name} ({', '.join(name for name, _ in _COLUMNS)}) "
        f"SELECT * FROM unnest({', '.join(f'${i}::{kind}[]' for i, (_, kind) in enumerate(_COLUMNS, 1))}) "
        "ON CONFLICT DO NOTHING RETURNING saleor_api_url, event, order_id, issued_at), "
        f"notified AS MATERIALIZED (SELECT pg_notify('{DELIVERIES_STORED}', '') WHERE EXISTS (SELECT FROM stored)) "
        "SELECT saleor_api_url, event, order_id, issued_at FROM stored CROSS JOIN notified"
    )

    def __init__(self, database_url: str) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def insert(self, rows: list[dict[str, Any]]) -> set[NaturalKey]:
        columns = [[row[name] for row in rows] for name, _ in self._COLUMNS]
        try:
            pool = self._pool or await self._open()
            inserted = await pool.fetch(self._SQL, *columns)
        except asyncpg.ForeignKeyViolationError as exc:
            raise IntegrityError(self._SQL, None, exc) from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            # As SQLAlchemy reports them, so that the web layer answers 503 and Saleor retries.
            raise DBAPIError(self._SQL, None, exc) from exc
        return {(url, event, order_id, issued_at) for url, event, order_id, issued_at in inserted}

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=1, reset=_nothing_to_reset)
            return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """The writer's connection runs one autocommitted INSERT and keeps no session state: the pool's
    default reset would cost a round trip per batch."""


class _SqlAlchemyWriter:
    """SQLite's: the app's own pool (its one writer), each statement committed as it runs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._insert = sqlite.insert(_TABLE).on_conflict_do_nothing().returning(*_KEY_COLUMNS)
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def insert(self, rows: list[dict[str, Any]]) -> set[NaturalKey]:
        async with self._engine.connect() as connection:
            result = await connection.execute(self._insert, rows)
            return {(url, event, order_id, issued_at) for url, event, order_id, issued_at in result}

    async def close(self) -> None:
        """The pool is the app's; it closes it."""


def delivery_writer(engine: AsyncEngine) -> DeliveryWriter:
    """The fastest way to store a batch of deliveries on the engine's database."""
    if engine.dialect.name == "postgresql":
        return _PostgresqlWriter(engine.url.render_as_string(hide_password=False))
    return _SqlAlchemyWriter(engine)


class DeliveryBatcher:
    """Stores the deliveries that arrive together in one ``INSERT … ON CONFLICT DO NOTHING``, committed.

    ``record`` returns only after the commit that holds its delivery, so Saleor never hears 2xx for a
    delivery the database does not have. One batch is written at a time; the deliveries that arrive
    meanwhile wait and go together in the next (a group commit): alone, a delivery is written at once;
    under load, batches grow by themselves and the round trips and the commits' flushes to disk are
    shared. A second batch written beside the first only halved both batches: measured on the
    acknowledge path, PostgreSQL spends ~160 µs per commit and ~20 µs per row. ``on_recorded`` is called
    after each commit that stored something new (it wakes the worker).
    """

    def __init__(self, writer: DeliveryWriter, *, on_recorded: Callable[[], None], max_batch: int = 500) -> None:
        self._writer = writer
        self._on_recorded = on_recorded
        self._max_batch = max_batch
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Wait for the batches being written, then let go of the connection."""
        while self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        await self._writer.close()

    async def record(self, event: ReceivedOrderEvent) -> bool:
        """Store the event once; False when this occurrence was already recorded. Raises
        ``NotInstalledError`` when the store is no longer installed."""
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((_row(event), stored))
        if self._writing is None:
            self._write_next()
        # A caller that gives up cancels only its own future: the batch is a task of its own.
        return await stored

    def _write_next(self) -> None:
        batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
        self._writing = asyncio.create_task(self._write(batch))
        self._writing.add_done_callback(self._written)

    def _written(self, _: asyncio.Task[None]) -> None:
        self._writing = None
        if self._waiting:
            self._write_next()

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[bool]]]) -> None:
        # A delivery sent twice in one batch is written once; the later copy is a duplicate.
        first: dict[NaturalKey, dict[str, Any]] = {}
        for row, _ in batch:
            first.setdefault(_key(row), row)
        try:
            try:
                inserted = await self._writer.insert(list(first.values()))
                failed: dict[NaturalKey, Exception] = {}
            except IntegrityError:
                inserted, failed = await self._insert_one_by_one(list(first.values()))
        except Exception as exc:  # the database failed them all: each request answers 503
            for _, stored in batch:
                if not stored.done():
                    stored.set_exception(exc)
            return
        for row, stored in batch:
            key = _key(row)
            if stored.done():
                continue
            if key in failed:
                stored.set_exception(failed[key])
            else:
                stored.set_result(first[key] is row and key in inserted)
        if inserted:
            self._on_recorded()

    async def _insert_one_by_one(
        self, rows: list[dict[str, Any]]
    ) -> tuple[set[NaturalKey], dict[NaturalKey, Exception]]:
        """Only a store deleted since its installation was read breaks a batch (its rows' foreign
        key): each row alone, so that only that store's deliveries fail."""
        inserted: set[NaturalKey] = set()
        failed: dict[NaturalKey, Exception] = {}
        for row in rows:
            try:
                inserted |= await self._writer.insert([row])
            except IntegrityError:
                failed[_key(row)] = NotInstalledError("This Saleor has not installed the app.")
        return inserted, failed


def _to_domain(row: OrderEventRow) -> ReceivedOrderEvent:
    return ReceivedOrderEvent(
        saleor_api_url=SaleorApiUrl(row.saleor_api_url),
        event=row.event,
        order_id=SaleorId(row.order_id),
        order_number=row.order_number,
        issued_at=row.issued_at,
        saleor_version=row.saleor_version,
        received_at=row.received_at,
        payload=row.payload,
    )

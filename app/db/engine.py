from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def ensure_sqlite_folder(database_url: str) -> None:
    """The embedded default lives in a data folder that may not exist yet."""
    url = make_url(database_url)
    if is_sqlite(database_url) and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL of a PostgreSQL database as asyncpg takes it, for connections of our own."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


# A pooled connection idle for longer than this is pinged before it is handed out again.
PING_AFTER_IDLE_SECONDS = 1.0


def create_engine(database_url: str) -> AsyncEngine:
    ensure_sqlite_folder(database_url)
    if not is_sqlite(database_url):
        engine = create_async_engine(database_url)
        _ping_after_idle(engine)
        return engine
    # SQLite has one writer at a time: few connections queue requests fairly instead of
    # letting many spin on the write lock; the overflow lets a request that holds one
    # still open a second (e.g. to record a revoked token in its own transaction).
    engine = create_async_engine(database_url, pool_size=1, max_overflow=2)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")  # tenant cascades depend on it
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _ping_after_idle(engine: AsyncEngine) -> None:
    """A connection that sat in the pool is checked before use, as ``pool_pre_ping`` would, but only
    when it sat there for a while: a database restarted or a connection dropped while idle is
    found before a transaction fails on it. SQLAlchemy's own pre-ping pings at every checkout, three
    round trips on asyncpg (BEGIN, the ping, ROLLBACK): a worker under load, whose connections go
    back to the pool between steps milliseconds apart, paid them for every batch and dispatching
    round. A connection that fails while in use is invalidated with the pool's older ones, as before."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_since(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError("a pooled connection did not answer its ping") from error


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


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


def create_engine(database_url: str, *, connections: int = 5) -> AsyncEngine:
    """``connections``: on PostgreSQL, how many connections the process keeps open; up to 10 more are
    opened for a peak and closed after it (each is a server process started and ended)."""
    ensure_sqlite_folder(database_url)
    if not is_sqlite(database_url):
        return create_async_engine(database_url, pool_pre_ping=True, pool_size=connections)
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


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)

"""Pooled connections on PostgreSQL are pinged before use only after sitting idle: one dropped while
idle is replaced before a transaction runs on it, and one used a moment ago is handed out as it is
(a drop then fails one transaction, which invalidates the pool, and the next checkout is sound)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import engine as engine_module
from app.db.engine import asyncpg_dsn, create_engine


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to drop its connections")
    created = create_engine(database_url)
    yield created
    await created.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


async def _drop(database_url: str, pid: int) -> None:
    """Ends the server's side of the pooled connection ``pid``, from a connection outside the pool."""
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(engine)
    await _drop(database_url, first)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", -1.0)  # every checkout counts as idle

    replaced = await _backend_pid(engine)

    assert replaced != first


async def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_drop_costs_one_transaction(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = await _backend_pid(engine)
    await _drop(database_url, first)

    with pytest.raises(DBAPIError) as failed:
        await _backend_pid(engine)  # no ping found the drop: the statement itself does
    assert failed.value.connection_invalidated

    assert await _backend_pid(engine) not in (first, None)

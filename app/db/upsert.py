"""``INSERT … ON CONFLICT DO NOTHING`` for whichever dialect the engine speaks."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


@cache
def _insert_ignoring_conflicts(table: Table, dialect: str) -> Insert:
    # Built once per table: webhooks insert on every delivery, and the values come as parameters.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


async def insert_if_absent(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert one row unless a unique constraint already holds it; True when inserted."""
    connection = await session.connection()
    result = await connection.execute(_insert_ignoring_conflicts(table, connection.dialect.name), values)
    return bool(result.rowcount)


async def insert_all_if_absent(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows a unique constraint does not already hold, in one statement."""
    if rows:
        connection = await session.connection()
        await connection.execute(_insert_ignoring_conflicts(table, connection.dialect.name), rows)

"""Core statements run on the transaction's asyncpg connection itself, for those run for every order.

SQLAlchemy's execution path (the async session's greenlet, the compiled cache's lookup, the execution
context, the result's metadata) costs ~70 µs of CPU a statement on this project's machine against
~12 µs for asyncpg's own call. A ``DriverStatement`` is compiled once for PostgreSQL and then handed,
with the parameters its types would bind (``UtcDateTime`` to UTC, …), to the asyncpg connection under
the session's transaction: the same SQL in the same transaction as ``session.execute`` would send, and
errors raised as SQLAlchemy raises them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

# Under this key a session keeps the asyncpg connection of its transaction (and which transaction).
_DRIVER_CONNECTION = "driver connection"


class Row(asyncpg.Record):  # type: ignore[misc]  # asyncpg is untyped
    """A record whose columns are also its attributes, as SQLAlchemy's rows have them."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True, slots=True)
class _Compiled:
    compiled: SQLCompiler
    sql: str
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # in the order of $1, $2, …: name, processor


class DriverStatement:
    """``statement`` for PostgreSQL (no expanding parameters: those are compiled anew for each run),
    compiled at its first run."""

    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        self._compiled: _Compiled | None = None

    async def fetch(self, session: AsyncSession, params: Mapping[str, object]) -> Sequence[Any]:
        """The rows of the statement run with ``params``: by position, or by name as attributes."""
        driver = await _driver_connection(session)
        if driver is None:  # the transaction's BEGIN is not sent yet: SQLAlchemy sends it with this
            return (await session.execute(self._statement, params)).all()
        compiled = self._compiled or self._compile(session)
        values = compiled.compiled.construct_params(params)
        args = [process(values[name]) if process else values[name] for name, process in compiled.binds]
        try:
            rows: Sequence[Any] = await driver.fetch(compiled.sql, *args, record_class=Row)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(compiled.sql, args, exc) from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise DBAPIError(compiled.sql, args, exc) from exc
        return rows

    def _compile(self, session: AsyncSession) -> _Compiled:
        dialect = session.get_bind().dialect
        assert isinstance(self._statement, ClauseElement)
        compiled = self._statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        assert compiled.positiontup is not None
        sql = str(compiled)
        if "POSTCOMPILE" in sql:
            raise ValueError("a statement with expanding parameters is compiled for each run: execute it instead")
        binds = tuple((name, compiled.binds[name].type.bind_processor(dialect)) for name in compiled.positiontup)
        self._compiled = _Compiled(compiled, sql, binds)
        return self._compiled


async def _driver_connection(session: AsyncSession) -> asyncpg.Connection | None:
    """The asyncpg connection the session's transaction runs on, once its BEGIN was sent; else None."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_DRIVER_CONNECTION)
    if transaction is None or held is None or held[0] is not transaction:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        held = session.info[_DRIVER_CONNECTION] = (session.sync_session.get_transaction(), driver)
    driver = held[1]
    return driver if driver.is_in_transaction() else None

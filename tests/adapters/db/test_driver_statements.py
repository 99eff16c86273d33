"""Statements run on the transaction's asyncpg connection (``DriverStatement``, PostgreSQL only) behave as
``session.execute`` would: in the session's transaction, however it began, with the parameters bound as
their types bind them, rows read by name and position, and errors as SQLAlchemy raises them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, func, literal, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.db.driver import DriverStatement
from app.db.models import FraudVelocityRow
from app.runtime import Runtime
from tests.builders import SHOP_API_URL

_VELOCITY = cast(Table, FraudVelocityRow.__table__)
_INSERT = DriverStatement(
    _VELOCITY.insert()
    .values(
        saleor_api_url=bindparam("url"),
        dimension="email",
        value=bindparam("value"),
        order_id="order-1",
        seen_at=bindparam("at", type_=_VELOCITY.c.seen_at.type),
    )
    .returning(_VELOCITY.c.seen_at, literal(True).label("kept"))
)
_COUNT = select(func.count()).select_from(_VELOCITY).where(_VELOCITY.c.saleor_api_url == bindparam("url"))


@pytest.fixture(autouse=True)
def _postgresql_only(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("the driver's own path is asyncpg's; SQLite runs every statement through SQLAlchemy")


async def _velocity_rows(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(_COUNT, {"url": SHOP_API_URL})).scalar_one())


@pytest.mark.usefixtures("installation")
class TestDriverStatement:
    async def test_as_the_first_statement_of_a_transaction_it_is_inside_it(self, runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await _INSERT.fetch(session, {"url": SHOP_API_URL, "value": "a@example.com", "at": datetime.now(UTC)})
            await session.rollback()
        assert await _velocity_rows(runtime) == 0

    async def test_after_other_statements_it_is_inside_the_same_transaction(self, runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await session.execute(_COUNT, {"url": SHOP_API_URL})
            (row,) = await _INSERT.fetch(
                session, {"url": SHOP_API_URL, "value": "a@example.com", "at": datetime.now(UTC)}
            )
            assert row.kept is True  # by name
            assert row[1] is True  # and by position
            await session.rollback()
        assert await _velocity_rows(runtime) == 0

    async def test_a_second_transaction_of_the_session_takes_its_own_connection(self, runtime: Runtime) -> None:
        async with runtime.sessions() as session:
            async with session.begin():
                await session.execute(_COUNT, {"url": SHOP_API_URL})
                await _INSERT.fetch(session, {"url": SHOP_API_URL, "value": "a@example.com", "at": datetime.now(UTC)})
            async with session.begin():
                await session.execute(_COUNT, {"url": SHOP_API_URL})
                await _INSERT.fetch(session, {"url": SHOP_API_URL, "value": "b@example.com", "at": datetime.now(UTC)})
                await session.rollback()
        assert await _velocity_rows(runtime) == 1

    async def test_parameters_are_bound_as_their_types_bind_them(self, runtime: Runtime) -> None:
        paris = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
        async with runtime.sessions() as session, session.begin():
            await session.execute(_COUNT, {"url": SHOP_API_URL})
            (row,) = await _INSERT.fetch(session, {"url": SHOP_API_URL, "value": "a@example.com", "at": paris})
            assert row.seen_at == paris
            assert row.seen_at.utcoffset() == timedelta(0)
            with pytest.raises(ValueError, match="naive"):  # UtcDateTime refuses what it cannot place
                await _INSERT.fetch(
                    session, {"url": SHOP_API_URL, "value": "b@example.com", "at": paris.replace(tzinfo=None)}
                )
            await session.rollback()

    async def test_errors_are_sqlalchemy_s(self, runtime: Runtime) -> None:
        at = datetime.now(UTC)
        async with runtime.sessions() as session:
            async with session.begin():
                await session.execute(_COUNT, {"url": SHOP_API_URL})
                with pytest.raises(IntegrityError):  # no such store: its foreign key
                    await _INSERT.fetch(session, {"url": "https://elsewhere.test/graphql/", "value": "a", "at": at})
            async with session.begin():
                await session.execute(_COUNT, {"url": SHOP_API_URL})
                await _INSERT.fetch(session, {"url": SHOP_API_URL, "value": "a", "at": at})
                with pytest.raises(IntegrityError):  # the same key twice
                    await _INSERT.fetch(session, {"url": SHOP_API_URL, "value": "a", "at": at})
                with pytest.raises(DBAPIError):  # the transaction is aborted now
                    await _INSERT.fetch(session, {"url": SHOP_API_URL, "value": "b", "at": at})

    async def test_expanding_parameters_are_refused(self, runtime: Runtime) -> None:
        statement = DriverStatement(
            select(_VELOCITY.c.id).where(_VELOCITY.c.value.in_(bindparam("values", expanding=True)))
        )
        async with runtime.sessions() as session, session.begin():
            await session.execute(_COUNT, {"url": SHOP_API_URL})
            with pytest.raises(ValueError, match="expanding"):
                await statement.fetch(session, {"values": ["a"]})

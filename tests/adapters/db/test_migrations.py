from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from app.db.base import Base
from app.runtime import Runtime


async def test_the_migrations_build_exactly_the_models(runtime: Runtime) -> None:
    """A model changed without a migration (or the reverse) fails here, on SQLite and PostgreSQL."""

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(differences) == []

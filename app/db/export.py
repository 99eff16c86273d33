"""Every record the app keeps of one store, table by table, for ``saleor-ops export-store``.

Each table that belongs to a store is exported whole, minus what ``LEFT_OUT`` names, so that a table
added later is in the export from its first day. ``tests/adapters/db/test_export.py`` makes whoever
adds a table decide about it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import Base
from app.domain.ids import SaleorApiUrl

ROWS_PER_FETCH = 1000

# Columns no export carries: the app token (a secret, and erased once the app is deleted), API key
# hashes, carrier credentials, partners' signing secrets, Saleor's public keys, and webhook bodies as
# Saleor sent them: the orders are Saleor's, and the bodies hold customers' personal data that the
# retention erases anyway.
LEFT_OUT: Mapping[str, frozenset[str]] = {
    "installations": frozenset({"token_encrypted", "jwks"}),
    "order_events": frozenset({"payload"}),
    "failed_deliveries": frozenset({"payload"}),
    "api_keys": frozenset({"key_hash"}),
    "carrier_accounts": frozenset({"credentials_encrypted"}),
    "routing_partners": frozenset({"secret_encrypted"}),
}
# Tables left out whole: snapshots are the ledger's replay caches, rebuilt from its moves; partner
# callbacks' signatures are kept only for minutes, to refuse replays.
LEFT_OUT_TABLES = frozenset({"inventory_snapshots", "routing_callbacks"})


def store_tables() -> list[Table]:
    """Every table that belongs to a store, the store's own record first."""
    return [table for table in Base.metadata.sorted_tables if "saleor_api_url" in table.c]


def exported_tables() -> list[Table]:
    return [table for table in store_tables() if table.name not in LEFT_OUT_TABLES]


async def export_store(session: AsyncSession, url: SaleorApiUrl) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """(table, row) for every exported row of the store, in primary-key order, read as they stream."""
    for table in exported_tables():
        left_out = LEFT_OUT.get(table.name, frozenset())
        columns = [column for column in table.c if column.name not in left_out]
        query = select(*columns).where(table.c.saleor_api_url == url).order_by(*table.primary_key.columns)
        result = await session.stream(query.execution_options(yield_per=ROWS_PER_FETCH))
        async for row in result.mappings():
            yield table.name, dict(row)

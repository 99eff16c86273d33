"""The store's rate tables: imported from a CSV file, exported as one, one service edited or removed.

Each change reads the tables, checks the whole result and stores it whole through
``RateTableStore``; a refused change stores nothing and says every reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.domain.ids import SaleorApiUrl
from app.domain.shipping.rates import RateTable
from app.services.input_problems import InputProblem
from app.services.ports import RateTableStore
from app.services.shipping.tables import (
    TablesRejected,
    edit_service,
    read_rate_tables,
    without_service,
    write_rate_tables,
)

NO_ROWS = InputProblem(
    None,
    None,
    "",
    "has no rows under its header: nothing was changed (a file replaces every table, so it needs them all)",
)


async def import_rate_tables(
    store: RateTableStore, url: SaleorApiUrl, lines: Iterable[str], warehouses: Mapping[str, str] | None = None
) -> list[RateTable] | TablesRejected:
    """Replace every table of the store with the file's, or change nothing. ``warehouses`` maps the
    names a file may use (slugs, IDs) to Saleor IDs; without it the file names IDs."""
    read = read_rate_tables(lines, warehouses)
    if isinstance(read, TablesRejected):
        return read
    if not read:
        return TablesRejected((NO_ROWS,))
    await store.replace_rate_tables(url, read)
    return read


async def export_rate_tables(store: RateTableStore, url: SaleorApiUrl) -> str:
    return write_rate_tables(await store.rate_tables(url))


async def save_service(
    store: RateTableStore,
    url: SaleorApiUrl,
    warehouse_id: str,
    fields: Mapping[str, str],
    zone_rows: str,
    replacing: tuple[str, str] | None = None,
) -> list[RateTable] | TablesRejected:
    """Add a service to a warehouse's table, or change the one ``replacing`` names (carrier, service)."""
    edited = edit_service(await store.rate_tables(url), warehouse_id, fields, zone_rows, replacing)
    if not isinstance(edited, TablesRejected):
        await store.replace_rate_tables(url, edited)
    return edited


async def remove_service(
    store: RateTableStore, url: SaleorApiUrl, warehouse_id: str, carrier: str, service: str
) -> list[RateTable]:
    kept = without_service(await store.rate_tables(url), warehouse_id, carrier, service)
    await store.replace_rate_tables(url, kept)
    return kept

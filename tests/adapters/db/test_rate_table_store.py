"""Rate tables on a real database: read back as stored, replaced whole, each store its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db.models import ShippingRateTableRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.settings import SqlSettingsStore
from app.db.repositories.shipping import SqlRateTableStore, SqlShippingRevisions
from app.domain.ids import SaleorApiUrl, saleor_api_url
from app.domain.installation import Installation
from app.domain.shipping.rates import RateTable
from app.runtime import Runtime
from app.services.ports import SettingsChange
from app.services.shipping.tables import read_rate_tables
from tests.builders import make_installation

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")
DEMO = Path(__file__).parents[3] / "app" / "demo_rate_tables.csv"


def _demo_tables() -> list[RateTable]:
    with DEMO.open(newline="") as demo:
        warehouses = {
            "main-warehouse": "V2FyZWhvdXNlOjE=",
            "shiphero-3pl": "V2FyZWhvdXNlOjI=",
            "red-stag-3pl": "V2FyZWhvdXNlOjM=",
            "grindworks-supply": "V2FyZWhvdXNlOjQ=",
        }
        tables = read_rate_tables(demo, warehouses)
    assert isinstance(tables, list)
    return tables


@pytest.fixture
async def other_store(runtime: Runtime, installation: Installation) -> None:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )


@pytest.fixture
async def store(runtime: Runtime, other_store: None) -> AsyncIterator[SqlRateTableStore]:
    async with runtime.sessions.begin() as session:
        yield SqlRateTableStore(session)


async def test_a_store_without_tables_has_none(store: SqlRateTableStore) -> None:
    assert await store.rate_tables(SHOP) == []


async def test_tables_read_back_as_stored_in_their_order(runtime: Runtime, other_store: None) -> None:
    main, tpl, *_ = _demo_tables()
    async with runtime.sessions.begin() as session:
        await SqlRateTableStore(session).replace_rate_tables(SHOP, [tpl, main])
    async with runtime.sessions() as session:
        assert await SqlRateTableStore(session).rate_tables(SHOP) == [tpl, main]


async def test_replacing_keeps_exactly_the_tables_given(store: SqlRateTableStore) -> None:
    main, tpl, *_ = _demo_tables()
    await store.replace_rate_tables(SHOP, [main, tpl])
    cheaper = RateTable(main.warehouse_id, "USD", main.services[:1], {"USPS": Decimal(5000)})
    await store.replace_rate_tables(SHOP, [cheaper])
    assert await store.rate_tables(SHOP) == [cheaper]
    await store.replace_rate_tables(SHOP, [])
    assert await store.rate_tables(SHOP) == []


async def test_each_store_sees_only_its_own_tables(store: SqlRateTableStore) -> None:
    main, tpl, *_ = _demo_tables()
    await store.replace_rate_tables(SHOP, [main])
    await store.replace_rate_tables(OTHER, [tpl])
    await store.replace_rate_tables(OTHER, [main, tpl])
    assert await store.rate_tables(SHOP) == [main]
    assert await store.rate_tables(OTHER) == [main, tpl]


async def test_a_failed_replacement_rolls_back_with_its_transaction(runtime: Runtime, other_store: None) -> None:
    main, tpl, *_ = _demo_tables()
    async with runtime.sessions.begin() as session:
        await SqlRateTableStore(session).replace_rate_tables(SHOP, [main])

    async def replace_twice() -> None:
        async with runtime.sessions.begin() as session:
            await SqlRateTableStore(session).replace_rate_tables(SHOP, [tpl])
            await SqlRateTableStore(session).replace_rate_tables(SHOP, [tpl, tpl])

    with pytest.raises(ValueError, match="one rate table per warehouse"):
        await replace_twice()
    async with runtime.sessions() as session:
        assert await SqlRateTableStore(session).rate_tables(SHOP) == [main]
        assert await session.scalar(select(func.count()).select_from(ShippingRateTableRow)) == 1


async def _revision(runtime: Runtime, url: SaleorApiUrl = SHOP) -> object:
    async with runtime.sessions() as session:
        return await SqlShippingRevisions(session).revision(url)


async def test_the_revision_changes_with_every_change_of_the_tables_or_the_shipping_settings(
    runtime: Runtime, other_store: None
) -> None:
    main, tpl, *_ = _demo_tables()
    seen = [await _revision(runtime)]
    async with runtime.sessions.begin() as session:
        await SqlRateTableStore(session).replace_rate_tables(SHOP, [main, tpl])
    seen.append(await _revision(runtime))
    async with runtime.sessions.begin() as session:
        await SqlRateTableStore(session).replace_rate_tables(SHOP, [main, tpl])  # the same tables again
    seen.append(await _revision(runtime))
    for after in ('{"locale": "en_US"}', '{"locale": "en_US"}'):
        async with runtime.sessions.begin() as session:
            change = SettingsChange("shipping", datetime(2026, 12, 5, tzinfo=UTC), "staff@shop.test", "{}", after)
            await SqlSettingsStore(session).save(SHOP, change)  # at the same instant: the revision still moves
        seen.append(await _revision(runtime))
    assert len(set(seen)) == len(seen)


async def test_the_revision_ignores_other_sections_and_other_stores(runtime: Runtime, other_store: None) -> None:
    before = await _revision(runtime)
    async with runtime.sessions.begin() as session:
        await SqlRateTableStore(session).replace_rate_tables(OTHER, _demo_tables())
        change = SettingsChange("general", datetime(2026, 12, 5, tzinfo=UTC), "staff@shop.test", "{}", "{}")
        await SqlSettingsStore(session).save(SHOP, change)
        await SqlSettingsStore(session).save(OTHER, replace(change, section="shipping"))
    assert await _revision(runtime) == before

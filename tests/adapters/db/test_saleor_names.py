"""Warehouse and variant names on a real database: the latest wins, each store sees its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db.models import SaleorNameRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.saleor_names import SqlSaleorNames
from app.domain.ids import saleor_api_url
from app.domain.installation import Installation
from app.runtime import Runtime
from app.services.ports import SaleorName
from tests.builders import NOW, make_installation

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")


@pytest.fixture
async def names(runtime: Runtime, installation: Installation) -> AsyncIterator[SqlSaleorNames]:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )
        yield SqlSaleorNames(session)


async def test_the_latest_name_wins_and_unknown_ids_are_left_out(names: SqlSaleorNames) -> None:
    await names.remember(SHOP, [SaleorName("V2FyZWhvdXNlOjE=", "Main", "main")], NOW)
    await names.remember(SHOP, [SaleorName("V2FyZWhvdXNlOjE=", "Main hall", "main-hall")], NOW)
    found = await names.lookup(SHOP, ["V2FyZWhvdXNlOjE=", "V2FyZWhvdXNlOjk="])
    assert found == {"V2FyZWhvdXNlOjE=": SaleorName("V2FyZWhvdXNlOjE=", "Main hall", "main-hall")}


async def test_each_store_sees_only_its_own_names(names: SqlSaleorNames) -> None:
    await names.remember(OTHER, [SaleorName("UHJvZHVjdFZhcmlhbnQ6MQ==", "Mug / Blue")], NOW)
    assert await names.lookup(SHOP, ["UHJvZHVjdFZhcmlhbnQ6MQ=="]) == {}
    assert (await names.lookup(OTHER, ["UHJvZHVjdFZhcmlhbnQ6MQ=="]))["UHJvZHVjdFZhcmlhbnQ6MQ=="].name == "Mug / Blue"


async def test_a_name_seen_again_unchanged_is_not_written_again(names: SqlSaleorNames) -> None:
    """So that orders of a popular variant do not each lock its row until their transaction ends."""
    mug = SaleorName("UHJvZHVjdFZhcmlhbnQ6MQ==", "Mug / Blue")
    await names.remember(SHOP, [mug], NOW)
    await names.remember(SHOP, [mug], NOW + timedelta(hours=1))
    await names.remember(SHOP, [SaleorName(mug.saleor_id, "Mug / Navy")], NOW + timedelta(hours=2))
    await names.remember(SHOP, [SaleorName(mug.saleor_id, "Mug / Navy")], NOW + timedelta(hours=3))
    updated = await names._session.scalar(  # when the row was last written, in the fixture's transaction
        select(SaleorNameRow.updated_at).where(SaleorNameRow.saleor_id == mug.saleor_id)
    )
    assert updated == NOW + timedelta(hours=2)

"""Carrier accounts on a real database: credentials encrypted at rest, each store sees its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from app.db.models import CarrierAccountRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.shipping_carriers import SqlCarrierAccounts
from app.domain.ids import saleor_api_url
from app.domain.installation import Installation
from app.domain.shipping.model import Level
from app.runtime import Runtime
from app.services.shipping.model import NewCarrierAccount
from tests.builders import NOW, make_installation

SHOP = saleor_api_url("https://shop.test/graphql/")
OTHER = saleor_api_url("https://other.test/graphql/")
UPS = NewCarrierAccount(
    "ups",
    "UPS main",
    {"client_id": "ups-client", "client_secret": "s3cret-value", "account_number": "A1B2C3"},
    test_mode=True,
    service_levels={"ups_3_day_select": Level.STANDARD},
)


@pytest.fixture
async def carriers(runtime: Runtime, installation: Installation) -> AsyncIterator[SqlCarrierAccounts]:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(saleor_api_url=OTHER, jwks=installation.jwks)
        )
        yield SqlCarrierAccounts(session, runtime.cipher)


async def test_an_account_comes_back_as_it_was_connected(carriers: SqlCarrierAccounts) -> None:
    added = await carriers.add(SHOP, UPS, NOW)
    found = await carriers.get(SHOP, added.id)
    assert found == added
    assert found is not None
    assert (found.carrier, found.label, found.test_mode, found.active, found.created_at) == (
        "ups",
        "UPS main",
        True,
        True,
        NOW,
    )
    assert found.credentials == UPS.credentials
    assert found.service_levels == {"ups_3_day_select": Level.STANDARD}


async def test_credentials_are_encrypted_at_rest(carriers: SqlCarrierAccounts, runtime: Runtime) -> None:
    added = await carriers.add(SHOP, UPS, NOW)
    stored = await carriers._session.scalar(select(CarrierAccountRow).where(CarrierAccountRow.id == added.id))
    assert stored is not None
    assert "s3cret-value" not in stored.credentials_encrypted
    assert "ups-client" not in stored.credentials_encrypted
    assert '"client_secret": "s3cret-value"' in runtime.cipher.decrypt(stored.credentials_encrypted)


async def test_each_store_sees_and_removes_only_its_own(carriers: SqlCarrierAccounts) -> None:
    mine = await carriers.add(SHOP, UPS, NOW)
    theirs = await carriers.add(OTHER, NewCarrierAccount("easypost", "EasyPost", {"api_key": "EZ"}, False), NOW)
    assert [a.id for a in await carriers.accounts(SHOP)] == [mine.id]
    assert await carriers.get(SHOP, theirs.id) is None
    assert not await carriers.remove(SHOP, theirs.id)
    assert [a.id for a in await carriers.accounts(OTHER)] == [theirs.id]
    assert await carriers.remove(SHOP, mine.id)
    assert await carriers.accounts(SHOP) == []


async def test_accounts_list_oldest_first_and_active_only_leaves_out_inactive_ones(
    carriers: SqlCarrierAccounts,
) -> None:
    first = await carriers.add(SHOP, UPS, NOW)
    second = await carriers.add(
        SHOP, NewCarrierAccount("usps", "USPS", {"client_id": "a", "client_secret": "b"}, True), NOW
    )
    assert [a.id for a in await carriers.accounts(SHOP)] == [first.id, second.id]
    row = await carriers._session.get(CarrierAccountRow, first.id)
    assert row is not None
    row.active = False
    assert [a.id for a in await carriers.accounts(SHOP, active_only=True)] == [second.id]

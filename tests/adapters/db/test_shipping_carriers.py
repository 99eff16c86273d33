"""Carrier accounts on a real database: credentials encrypted at rest, each store sees its own, and
checkout's own-session reads spared for a store found without any."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import CarrierAccountRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.shipping_carriers import (
    CarrierAccountsOnTheirOwnSession,
    SqlCarrierAccounts,
    StoresWithoutCarrierAccounts,
)
from app.domain.ids import saleor_api_url
from app.domain.installation import Installation
from app.domain.shipping.model import Level
from app.runtime import Runtime
from app.services.shipping.model import CarrierAccount, NewCarrierAccount
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


class CountedSessions(async_sessionmaker[AsyncSession]):
    """The runtime's sessions, counting how many are opened (``begin`` opens one through ``__call__``)."""

    opened = 0

    def __call__(self, **local_kw: Any) -> AsyncSession:
        self.opened += 1
        return super().__call__(**local_kw)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def sessions(runtime: Runtime) -> CountedSessions:
    return CountedSessions(runtime.engine, expire_on_commit=False)


@pytest.fixture
def own_sessions(
    runtime: Runtime, installation: Installation, sessions: CountedSessions, ticks: Ticks
) -> CarrierAccountsOnTheirOwnSession:
    return CarrierAccountsOnTheirOwnSession(
        sessions, runtime.cipher, StoresWithoutCarrierAccounts(ttl_seconds=1.0, monotonic=ticks)
    )


class TestStoresWithoutAccounts:
    async def test_a_store_found_without_accounts_is_answered_for_a_second_without_a_session(
        self, own_sessions: CarrierAccountsOnTheirOwnSession, sessions: CountedSessions, ticks: Ticks
    ) -> None:
        assert await own_sessions.accounts(SHOP, active_only=True) == []
        assert sessions.opened == 1
        ticks.now += 0.9
        assert await own_sessions.accounts(SHOP, active_only=True) == []
        assert sessions.opened == 1
        ticks.now += 0.2
        assert await own_sessions.accounts(SHOP, active_only=True) == []
        assert sessions.opened == 2

    async def test_an_account_connected_elsewhere_is_asked_once_the_memory_is_a_second_old(
        self, own_sessions: CarrierAccountsOnTheirOwnSession, runtime: Runtime, ticks: Ticks
    ) -> None:
        assert await own_sessions.accounts(SHOP, active_only=True) == []
        async with runtime.sessions.begin() as session:  # the dashboard, in this process or another
            added = await SqlCarrierAccounts(session, runtime.cipher).add(SHOP, UPS, NOW)
        assert await own_sessions.accounts(SHOP, active_only=True) == []
        ticks.now += 1.0
        assert [a.id for a in await own_sessions.accounts(SHOP, active_only=True)] == [added.id]

    async def test_an_account_connected_through_it_is_asked_at_once(
        self, own_sessions: CarrierAccountsOnTheirOwnSession
    ) -> None:
        assert await own_sessions.accounts(SHOP, active_only=True) == []
        added = await own_sessions.add(SHOP, UPS, NOW)
        assert [a.id for a in await own_sessions.accounts(SHOP, active_only=True)] == [added.id]

    async def test_only_inactive_accounts_count_as_none_but_are_still_listed_when_all_are_asked_for(
        self, own_sessions: CarrierAccountsOnTheirOwnSession, runtime: Runtime, sessions: CountedSessions
    ) -> None:
        async with runtime.sessions.begin() as session:
            added = await SqlCarrierAccounts(session, runtime.cipher).add(SHOP, UPS, NOW)
            row = await session.get(CarrierAccountRow, added.id)
            assert row is not None
            row.active = False
        assert [a.id for a in await own_sessions.accounts(SHOP)] == [added.id]
        assert await own_sessions.accounts(SHOP, active_only=True) == []
        assert [a.id for a in await own_sessions.accounts(SHOP)] == [added.id]
        assert sessions.opened == 2  # the two lists of every account; the active ones came from memory

    async def test_callers_asking_while_a_read_is_under_way_share_it(self, ticks: Ticks) -> None:
        memory = StoresWithoutCarrierAccounts(ttl_seconds=1.0, monotonic=ticks)
        reads = Reads()
        asking = [asyncio.create_task(memory.active_accounts(SHOP, reads)) for _ in range(20)]
        await reads.started.wait()
        reads.answer.set()
        assert await asyncio.gather(*asking) == [[]] * 20
        assert reads.made == 1  # not one pooled connection per checkout of a burst on a fresh process
        assert await memory.active_accounts(SHOP, reads) == []
        assert reads.made == 1  # and the store is remembered without accounts

    async def test_once_the_memory_is_old_one_caller_reads_again_while_the_others_trust_it(self, ticks: Ticks) -> None:
        memory = StoresWithoutCarrierAccounts(ttl_seconds=1.0, monotonic=ticks)
        memory.found(SHOP, [])
        ticks.now += 1.5
        reads = Reads()
        reading = asyncio.create_task(memory.active_accounts(SHOP, reads))
        await reads.started.wait()
        trusting = asyncio.create_task(memory.active_accounts(SHOP, reads))
        await asyncio.sleep(0)
        assert trusting.done()  # answered from the memory while the read is under way, not waiting for it
        assert trusting.result() == []
        ticks.now += 1.0
        again = asyncio.create_task(memory.active_accounts(SHOP, reads))  # that read hangs: read again
        await asyncio.sleep(0)
        assert reads.made == 2
        reads.answer.set()
        assert await reading == []
        assert await again == []
        assert await memory.active_accounts(OTHER, reads) == []
        assert reads.made == 3  # another store is its own

    async def test_a_failed_read_fails_every_caller_sharing_it_and_the_next_one_reads_again(self, ticks: Ticks) -> None:
        memory = StoresWithoutCarrierAccounts(ttl_seconds=1.0, monotonic=ticks)
        reads = Reads(failing=True)
        asking = [asyncio.create_task(memory.active_accounts(SHOP, reads)) for _ in range(3)]
        await reads.started.wait()
        reads.answer.set()
        outcomes = await asyncio.gather(*asking, return_exceptions=True)
        assert [type(outcome) for outcome in outcomes] == [ConnectionError] * 3
        reads.failing = False
        assert await memory.active_accounts(SHOP, reads) == []
        assert reads.made == 2


class Reads:
    """A store's accounts read on demand: none, once ``answer`` is set; counts the reads made."""

    def __init__(self, *, failing: bool = False) -> None:
        self.failing = failing
        self.made = 0
        self.started = asyncio.Event()
        self.answer = asyncio.Event()

    def __call__(self) -> Coroutine[Any, Any, list[CarrierAccount]]:
        self.made += 1  # counted when the read is made, not when it first runs
        return self._answered()

    async def _answered(self) -> list[CarrierAccount]:
        self.started.set()
        await self.answer.wait()
        if self.failing:
            raise ConnectionError("the database went away")
        return []

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import InstallationRow
from app.db.repositories.installations import RecentInstallations, SqlInstallationStore
from app.domain.ids import AppId, SaleorApiUrl
from app.runtime import Runtime
from app.security import SecretCipher, SecretDecryptionError
from tests.adapters.db.test_shipping_carriers import CountedSessions
from tests.builders import NOW, SHOP_API_URL, make_installation
from tests.conftest import FakeMonotonic


@pytest.fixture
async def session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as s:
        yield s
        await s.commit()


@pytest.fixture
def store(session: AsyncSession, runtime: Runtime) -> SqlInstallationStore:
    return SqlInstallationStore(session, runtime.cipher)


class TestSqlInstallationStore:
    async def test_round_trips_an_installation_with_aware_utc_times(self, store: SqlInstallationStore) -> None:
        installation = make_installation(jwks='{"keys":[]}', saleor_version="3.20.119", schema_version="3.20")
        await store.save(installation)
        loaded = await store.get(SHOP_API_URL)
        assert loaded == installation
        assert loaded is not None
        assert loaded.installed_at.utcoffset() is not None

    async def test_keeps_the_token_encrypted_at_rest(self, store: SqlInstallationStore, session: AsyncSession) -> None:
        await store.save(make_installation(jwks="{}", token="secret-app-token"))
        stored = (await session.scalars(select(InstallationRow.token_encrypted))).one()
        assert "secret-app-token" not in stored
        with pytest.raises(SecretDecryptionError):
            SecretCipher("another-key").decrypt(stored)

    async def test_saving_again_replaces_token_and_app_id(self, store: SqlInstallationStore) -> None:
        await store.save(make_installation(jwks="{}", token="t1"))
        await store.save(make_installation(jwks="{}", token="t2", app_id=AppId("QXBwOjI=")))
        loaded = await store.get(SHOP_API_URL)
        assert loaded is not None
        assert (loaded.token, loaded.app_id) == ("t2", "QXBwOjI=")

    async def test_replaces_jwks_and_marks_revoked(self, store: SqlInstallationStore) -> None:
        await store.save(make_installation(jwks="{}"))
        await store.replace_jwks(SHOP_API_URL, '{"keys":["new"]}', NOW)
        await store.mark_revoked(SHOP_API_URL, NOW)
        loaded = await store.get(SHOP_API_URL)
        assert loaded is not None
        assert loaded.jwks == '{"keys":["new"]}'
        assert loaded.revoked_at == NOW

    async def test_delete_forgets_only_that_store(self, store: SqlInstallationStore) -> None:
        other = SaleorApiUrl("https://other.test/graphql/")
        await store.save(make_installation(jwks="{}"))
        await store.save(dataclasses.replace(make_installation(jwks="{}"), saleor_api_url=other))
        assert await store.delete(SHOP_API_URL)
        assert not await store.delete(SHOP_API_URL)
        assert [i.saleor_api_url for i in await store.list_all()] == [other]


class TestRecentInstallations:
    """The webhook path's per-process copy of each store's installation."""

    @pytest.fixture
    def recent(self, runtime: Runtime, monotonic: FakeMonotonic) -> RecentInstallations:
        return RecentInstallations(runtime.sessions, runtime.cipher, ttl_seconds=5, monotonic=monotonic)

    async def _save(self, runtime: Runtime, jwks: str) -> None:
        async with runtime.sessions.begin() as session:
            await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks=jwks))

    async def test_reads_a_store_once_per_interval(
        self, runtime: Runtime, recent: RecentInstallations, monotonic: FakeMonotonic
    ) -> None:
        await self._save(runtime, '{"keys":["first"]}')
        assert (await recent.get(SHOP_API_URL) or pytest.fail("not found")).jwks == '{"keys":["first"]}'
        await self._save(runtime, '{"keys":["second"]}')
        monotonic.value += 4.9
        assert (await recent.get(SHOP_API_URL) or pytest.fail("not found")).jwks == '{"keys":["first"]}'
        monotonic.value += 0.1
        assert (await recent.get(SHOP_API_URL) or pytest.fail("not found")).jwks == '{"keys":["second"]}'

    async def test_a_store_not_installed_is_asked_again_every_time(
        self, runtime: Runtime, recent: RecentInstallations
    ) -> None:
        assert await recent.get(SHOP_API_URL) is None
        await self._save(runtime, "{}")
        assert await recent.get(SHOP_API_URL) is not None

    async def test_rotated_keys_are_stored_and_read_afresh(self, runtime: Runtime, recent: RecentInstallations) -> None:
        await self._save(runtime, '{"keys":["old"]}')
        await recent.get(SHOP_API_URL)
        await recent.replace_jwks(SHOP_API_URL, '{"keys":["new"]}', NOW)
        assert (await recent.get(SHOP_API_URL) or pytest.fail("not found")).jwks == '{"keys":["new"]}'

    async def test_a_forgotten_store_is_read_again(self, runtime: Runtime, recent: RecentInstallations) -> None:
        await self._save(runtime, '{"keys":["old"]}')
        await recent.get(SHOP_API_URL)
        async with runtime.sessions.begin() as session:
            await SqlInstallationStore(session, runtime.cipher).delete(SHOP_API_URL)
        recent.forget(SHOP_API_URL)
        assert await recent.get(SHOP_API_URL) is None

    async def test_reads_through_the_callers_transaction_when_given_one(
        self, runtime: Runtime, recent: RecentInstallations
    ) -> None:
        """A worker inside its transaction must not wait for a second connection of the pool it holds one of."""
        async with runtime.sessions.begin() as session:
            await SqlInstallationStore(session, runtime.cipher).save(make_installation(jwks="{}"))
            assert await recent.get(SHOP_API_URL, session) is not None  # not committed: only this transaction sees it
            await session.rollback()

    async def test_deliveries_arriving_while_it_is_read_again_share_that_one_read(
        self, runtime: Runtime, monotonic: FakeMonotonic
    ) -> None:
        await self._save(runtime, '{"keys":["first"]}')
        sessions = CountedSessions(runtime.engine, expire_on_commit=False)
        recent = RecentInstallations(sessions, runtime.cipher, ttl_seconds=5, monotonic=monotonic)
        await recent.get(SHOP_API_URL)
        monotonic.value += 5
        read = await asyncio.gather(*(recent.get(SHOP_API_URL) for _ in range(20)))
        assert {installation.jwks for installation in read if installation is not None} == {'{"keys":["first"]}'}
        assert sessions.opened == 2

    async def test_a_read_under_way_when_the_store_is_forgotten_is_not_kept(
        self, runtime: Runtime, recent: RecentInstallations
    ) -> None:
        await self._save(runtime, '{"keys":["old"]}')
        reading = asyncio.ensure_future(recent.get(SHOP_API_URL))
        await asyncio.sleep(0)  # the read has started
        recent.forget(SHOP_API_URL)  # keys rotated meanwhile, say
        assert (await reading or pytest.fail("not found")).jwks == '{"keys":["old"]}'
        await self._save(runtime, '{"keys":["new"]}')
        assert (await recent.get(SHOP_API_URL) or pytest.fail("not found")).jwks == '{"keys":["new"]}'

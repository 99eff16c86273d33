import dataclasses
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import InstallationRow
from app.db.repositories.installations import SqlInstallationStore
from app.domain.ids import AppId, SaleorApiUrl
from app.runtime import Runtime
from app.security import SecretCipher, SecretDecryptionError
from tests.builders import NOW, SHOP_API_URL, make_installation


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

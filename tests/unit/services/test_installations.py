from datetime import timedelta

import pytest

from app.domain.ids import AppId, SaleorApiUrl
from app.services.installations import (
    RegisterErrorCode,
    RegisterRefused,
    RegisterRequest,
    forget_store,
    register_installation,
    uninstall,
)
from tests.builders import NOW, SHOP_API_URL, make_installation
from tests.conftest import FixedClock
from tests.fakes.in_memory import FakeSaleorAuthority, InMemoryInstallationStore


def _request(token: str = "token-1", url: SaleorApiUrl = SHOP_API_URL) -> RegisterRequest:
    return RegisterRequest(saleor_api_url=url, token=token, saleor_domain="shop.test", schema_version="3.20")


@pytest.fixture
def store() -> InMemoryInstallationStore:
    return InMemoryInstallationStore()


@pytest.fixture
def saleor() -> FakeSaleorAuthority:
    return FakeSaleorAuthority(jwks='{"keys": ["k1"]}')


class TestRegisterInstallation:
    async def test_stores_token_app_id_keys_and_versions(
        self, store: InMemoryInstallationStore, saleor: FakeSaleorAuthority
    ) -> None:
        outcome = await register_installation(
            _request(), allowed_url_patterns=[], saleor=saleor, store=store, clock=FixedClock()
        )
        saved = store.rows[SHOP_API_URL]
        assert outcome == saved
        assert (saved.token, saved.app_id, saved.jwks) == ("token-1", "QXBwOjE=", '{"keys": ["k1"]}')
        assert (saved.schema_version, saved.saleor_version, saved.installed_at) == ("3.20", "3.20.119", NOW)

    async def test_installing_again_replaces_the_record(
        self, store: InMemoryInstallationStore, saleor: FakeSaleorAuthority
    ) -> None:
        await store.save(make_installation(jwks="{}", token="old"))
        saleor.app_id = "QXBwOjI="
        await register_installation(
            _request("new"), allowed_url_patterns=[], saleor=saleor, store=store, clock=FixedClock()
        )
        assert (store.rows[SHOP_API_URL].token, store.rows[SHOP_API_URL].app_id) == ("new", "QXBwOjI=")

    async def test_refuses_a_store_outside_the_allowed_patterns_before_calling_it(
        self, store: InMemoryInstallationStore, saleor: FakeSaleorAuthority
    ) -> None:
        outcome = await register_installation(
            _request(),
            allowed_url_patterns=["https://*.saleor.cloud/graphql/"],
            saleor=saleor,
            store=store,
            clock=FixedClock(),
        )
        assert isinstance(outcome, RegisterRefused)
        assert outcome.code is RegisterErrorCode.SALEOR_URL_PROHIBITED
        assert saleor.tokens_seen == []
        assert store.rows == {}

    async def test_refuses_a_token_saleor_does_not_confirm(
        self, store: InMemoryInstallationStore, saleor: FakeSaleorAuthority
    ) -> None:
        saleor.token_valid = False
        outcome = await register_installation(
            _request(), allowed_url_patterns=[], saleor=saleor, store=store, clock=FixedClock()
        )
        assert isinstance(outcome, RegisterRefused)
        assert outcome.code is RegisterErrorCode.UNKNOWN_APP_ID
        assert store.rows == {}

    async def test_refuses_when_the_signing_keys_cannot_be_fetched(
        self, store: InMemoryInstallationStore, saleor: FakeSaleorAuthority
    ) -> None:
        saleor.jwks_available = False
        outcome = await register_installation(
            _request(), allowed_url_patterns=[], saleor=saleor, store=store, clock=FixedClock()
        )
        assert isinstance(outcome, RegisterRefused)
        assert outcome.code is RegisterErrorCode.JWKS_NOT_AVAILABLE
        assert store.rows == {}


class TestRegisterAfterUninstall:
    async def test_a_reinstall_in_the_grace_period_installs_the_new_token_over_the_kept_record(
        self, store: InMemoryInstallationStore, saleor: FakeSaleorAuthority
    ) -> None:
        await store.save(make_installation(jwks="{}", token="old"))
        await store.uninstall(SHOP_API_URL, NOW)
        saleor.app_id = "QXBwOjI="
        clock = FixedClock(NOW + timedelta(days=3))
        await register_installation(_request("new"), allowed_url_patterns=[], saleor=saleor, store=store, clock=clock)
        saved = store.rows[SHOP_API_URL]
        assert (saved.token, saved.app_id, saved.installed_at) == ("new", "QXBwOjI=", clock.now())
        assert (saved.revoked_at, saved.uninstalled_at) == (None, None)


class TestUninstall:
    async def test_erases_the_token_and_keeps_the_store_for_its_grace_period(
        self, store: InMemoryInstallationStore
    ) -> None:
        await store.save(make_installation(jwks="{}", token="secret"))
        assert await uninstall(SHOP_API_URL, "QXBwOjE=", store=store, now=NOW)
        kept = store.rows[SHOP_API_URL]
        assert (kept.token, kept.revoked_at, kept.uninstalled_at) == ("", NOW, NOW)

    async def test_a_repeated_app_deleted_keeps_the_first_time(self, store: InMemoryInstallationStore) -> None:
        await store.save(make_installation(jwks="{}"))
        await uninstall(SHOP_API_URL, "QXBwOjE=", store=store, now=NOW)
        assert await uninstall(SHOP_API_URL, "QXBwOjE=", store=store, now=NOW + timedelta(hours=1))
        assert store.rows[SHOP_API_URL].uninstalled_at == NOW

    async def test_ignores_the_deletion_of_an_earlier_install(self, store: InMemoryInstallationStore) -> None:
        await store.save(make_installation(jwks="{}", app_id=AppId("QXBwOjI=")))
        assert not await uninstall(SHOP_API_URL, "QXBwOjE=", store=store, now=NOW)
        assert not store.rows[SHOP_API_URL].is_revoked

    async def test_an_unknown_store_is_nothing_to_do(self, store: InMemoryInstallationStore) -> None:
        assert not await uninstall(SHOP_API_URL, None, store=store, now=NOW)


class TestForgetStore:
    async def test_deletes_the_store_at_once(self, store: InMemoryInstallationStore) -> None:
        await store.save(make_installation(jwks="{}"))
        assert await forget_store(SHOP_API_URL, store=store)
        assert store.rows == {}
        assert not await forget_store(SHOP_API_URL, store=store)

"""APP_DELETED: the token goes at once; the store's records stay for the grace period, then go."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, func, select

from app.db.models import EffectRow, FraudAssessmentRow, InstallationRow, OrderEventRow
from app.domain.pipeline import Status
from app.pipeline.housekeeping import housekeeping
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import SHOP_API_URL, body_of, order_payload
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FakeSaleor


def _app_deleted(app_id: str = "QXBwOjE=") -> bytes:
    return body_of(
        {
            "__typename": "AppDeleted",
            "issuedAt": "2026-11-26T12:00:00+00:00",
            "version": "3.24.0",
            "app": {"id": app_id},
        }
    )


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _installation(runtime: Runtime) -> InstallationRow | None:
    async with runtime.sessions() as session:
        return await session.get(InstallationRow, SHOP_API_URL)


@pytest.mark.usefixtures("installation")
class TestAppDeleted:
    async def test_erases_the_token_at_once_and_keeps_every_record_of_the_store(
        self, send: Send, runtime: Runtime, clock: FixedClock
    ) -> None:
        assert (await send()).status_code == 200
        response = await send("APP_DELETED", _app_deleted())
        assert (response.status_code, response.json()) == (200, {"status": "uninstalled"})
        row = await _installation(runtime)
        assert row is not None
        assert (row.token_encrypted, row.revoked_at, row.uninstalled_at) == ("", clock.now(), clock.now())
        assert await _count(runtime, OrderEventRow) == 1
        assert await _count(runtime, FraudAssessmentRow) == 1

    async def test_a_retry_is_answered_as_the_first_and_the_grace_period_runs_from_the_first(
        self, send: Send, runtime: Runtime, clock: FixedClock
    ) -> None:
        first_at = clock.now()
        await send("APP_DELETED", _app_deleted())
        clock.advance(minutes=5)
        retry = await send("APP_DELETED", _app_deleted())
        assert (retry.status_code, retry.json()) == (200, {"status": "uninstalled"})
        row = await _installation(runtime)
        assert row is not None
        assert row.uninstalled_at == first_at

    async def test_the_deletion_of_an_earlier_install_keeps_the_current_one(self, send: Send, runtime: Runtime) -> None:
        response = await send("APP_DELETED", _app_deleted(app_id="QXBwOjk5"))
        assert response.json() == {"status": "ignored"}
        row = await _installation(runtime)
        assert row is not None
        assert (row.revoked_at, row.uninstalled_at) == (None, None)
        assert runtime.cipher.decrypt(row.token_encrypted) == "app-token-1"

    async def test_a_store_whose_token_saleor_refused_is_uninstalled_all_the_same(
        self, send: Send, runtime: Runtime, clock: FixedClock
    ) -> None:
        await runtime.mark_revoked(SHOP_API_URL)
        response = await send("APP_DELETED", _app_deleted())
        assert response.json() == {"status": "uninstalled"}
        row = await _installation(runtime)
        assert row is not None
        assert (row.token_encrypted, row.uninstalled_at) == ("", clock.now())


@pytest.mark.usefixtures("installation")
class TestGracePeriod:
    async def test_deliveries_from_an_uninstalled_store_are_refused_and_not_stored(
        self, send: Send, runtime: Runtime
    ) -> None:
        await send("APP_DELETED", _app_deleted())
        response = await send("ORDER_CREATED", body_of(order_payload(order_id="T3JkZXI6Mg==")))
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "NOT_REGISTERED"
        assert await _count(runtime, OrderEventRow) == 0

    async def test_effects_still_waiting_are_not_sent_with_the_erased_token(
        self, send: Send, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        await send(process=False)  # stored before Saleor deleted the app, processed after
        await send("APP_DELETED", _app_deleted())
        assert fake_saleor.calls("FraudDecision") == []
        async with runtime.sessions() as session:
            (status, error) = (await session.execute(select(EffectRow.status, EffectRow.last_error))).one()
        assert status == Status.FAILED
        assert "no longer installed" in (error or "")

    async def test_a_reinstall_within_the_grace_period_restores_the_store(
        self, send: Send, runtime: Runtime, client: httpx.AsyncClient, fake_saleor: FakeSaleor, clock: FixedClock
    ) -> None:
        await send()
        await send("APP_DELETED", _app_deleted())
        clock.advance(days=29)
        fake_saleor.on("AppIdentity", {"data": {"app": {"id": "QXBwOjI="}, "shop": {"version": "3.24.0"}}})
        registered = await client.post(
            "/api/register",
            json={"auth_token": "app-token-2"},
            headers={"saleor-api-url": "https://shop.test/graphql/", "content-type": "application/json"},
        )
        assert registered.json() == {"success": True}
        row = await _installation(runtime)
        assert row is not None
        assert (row.app_id, row.revoked_at, row.uninstalled_at) == ("QXBwOjI=", None, None)
        assert runtime.cipher.decrypt(row.token_encrypted) == "app-token-2"
        assert await _count(runtime, FraudAssessmentRow) == 1, "the records kept through the grace period"

        response = await send("ORDER_CREATED", body_of(order_payload(order_id="T3JkZXI6Mg==", number="1002")))
        assert response.status_code == 200
        assert [call["authorization"] for call in fake_saleor.calls("FraudDecision")][-1] == "Bearer app-token-2"
        assert await _count(runtime, FraudAssessmentRow) == 2
        assert not (await housekeeping(runtime, clock.now() + timedelta(days=365))).deleted_stores

    async def test_housekeeping_deletes_the_store_once_the_grace_period_is_over_and_not_before(
        self, send: Send, runtime: Runtime, clock: FixedClock
    ) -> None:
        await send()
        await send("APP_DELETED", _app_deleted())
        almost = await housekeeping(runtime, clock.now() + timedelta(days=30) - timedelta(seconds=1))
        assert almost.deleted_stores == ()
        assert (await _count(runtime, InstallationRow), await _count(runtime, OrderEventRow)) == (1, 1)

        over = await housekeeping(runtime, clock.now() + timedelta(days=30))
        assert over.deleted_stores == (SHOP_API_URL,)
        counts = [await _count(runtime, model) for model in (InstallationRow, OrderEventRow, FraudAssessmentRow)]
        assert counts == [0, 0, 0]
        assert (await send("APP_DELETED", _app_deleted())).status_code == 401

    async def test_a_removal_another_process_made_is_refused_though_this_one_read_the_store_moments_ago(
        self, send: Send, runtime: Runtime
    ) -> None:
        assert (await send()).status_code == 200  # this process now holds the store's installation
        async with runtime.sessions.begin() as session:  # as the process that received APP_DELETED
            await session.execute(delete(InstallationRow))
        for number in ("1002", "1003"):
            later = body_of(order_payload(order_id=f"order-{number}", number=number))
            response = await send(body=later)
            assert (response.status_code, response.json()["error"]["type"]) == (401, "NOT_REGISTERED")
        assert await _count(runtime, OrderEventRow) == 0

import pytest
from sqlalchemy import delete, func, select

from app.db.models import InstallationRow, OrderEventRow
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import body_of, order_payload


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


@pytest.mark.usefixtures("installation")
class TestAppDeleted:
    async def test_removes_the_token_and_every_record_of_the_store(self, send: Send, runtime: Runtime) -> None:
        assert (await send()).status_code == 200
        response = await send("APP_DELETED", _app_deleted())
        assert (response.status_code, response.json()) == (200, {"status": "uninstalled"})
        assert await _count(runtime, InstallationRow) == 0
        assert await _count(runtime, OrderEventRow) == 0

    async def test_a_retry_after_removal_is_refused_as_unknown_store(self, send: Send) -> None:
        await send("APP_DELETED", _app_deleted())
        retry = await send("APP_DELETED", _app_deleted())
        assert retry.status_code == 401

    async def test_the_deletion_of_an_earlier_install_keeps_the_current_one(self, send: Send, runtime: Runtime) -> None:
        response = await send("APP_DELETED", _app_deleted(app_id="QXBwOjk5"))
        assert response.json() == {"status": "ignored"}
        assert await _count(runtime, InstallationRow) == 1

    async def test_an_order_event_after_removal_is_refused(self, send: Send) -> None:
        assert (await send()).status_code == 200
        await send("APP_DELETED", _app_deleted())
        later = body_of(order_payload(order_id="T3JkZXI6Mg==", number="1002"))
        response = await send(body=later)
        assert (response.status_code, response.json()["error"]["type"]) == (401, "NOT_REGISTERED")

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

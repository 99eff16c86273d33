import pytest
from sqlalchemy import func, select

from app.db.models import InstallationRow, OrderEventRow
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import body_of


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

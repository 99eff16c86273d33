"""``saleor-ops export-store``: every record of one store as JSON lines, in its grace period too."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.config import Settings
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.order_events import SqlOrderEventLog
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.order_event import ReceivedOrderEvent
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import NOW, SHOP_API_URL, body_of, make_installation

pytestmark = pytest.mark.usefixtures("installation")

OTHER = SaleorApiUrl("https://other.test/graphql/")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("APP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_SECRET_KEY", "test-secret-key")


async def _export(*args: str) -> int:
    # The command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(main, ["export-store", *args])


def _files(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _another_store_with_an_order(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(make_installation(saleor_api_url=OTHER, jwks="{}"))
        await SqlOrderEventLog(session).record(
            ReceivedOrderEvent(
                saleor_api_url=OTHER,
                event="order_created",
                order_id=SaleorId("T3JkZXI6OTk="),
                order_number="9999",
                issued_at=NOW,
                saleor_version=None,
                received_at=NOW,
                payload='{"other": "store"}',
            )
        )


class TestExportStore:
    async def test_writes_the_stores_records_without_bodies_or_secrets_and_nothing_of_another_store(
        self,
        send: Send,
        runtime: Runtime,
        client: httpx.AsyncClient,
        staff_headers: Any,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        await send()  # one order: its delivery, fraud assessment, velocity keys, names, effect
        await client.post(
            "/api/dashboard/settings/general",
            data={"timezone": "Europe/Warsaw", "payload_retention_days": "90"},
            headers=staff_headers(),
        )
        await _another_store_with_an_order(runtime)
        output = tmp_path / "shop.jsonl"

        assert await _export("--saleor-api-url", "https://shop.test/graphql", "--output", str(output)) == 0

        about, *records = _lines(output)
        assert (about["saleor_ops_export"], about["saleor_api_url"]) == (1, SHOP_API_URL)
        assert about["left_out"]["order_events"] == ["payload"]
        tables = {record["table"] for record in records}
        expected = {"installations", "order_events", "effects", "settings", "settings_changes", "fraud_assessments"}
        assert expected <= tables
        assert {record["row"]["saleor_api_url"] for record in records} == {SHOP_API_URL}
        (event,) = [record["row"] for record in records if record["table"] == "order_events"]
        assert (event["order_number"], event["status"], "payload" in event) == ("1001", "done", False)
        (installation,) = [record["row"] for record in records if record["table"] == "installations"]
        assert "token_encrypted" not in installation
        assert "jwks" not in installation
        (settings,) = [record["row"] for record in records if record["table"] == "settings"]
        assert json.loads(settings["values"])["payload_retention_days"] == 90
        (assessment, *_) = [record["row"] for record in records if record["table"] == "fraud_assessments"]
        assert assessment["order_number"] == "1001"
        assert isinstance(assessment["total"], str)  # decimals exact, as strings
        assert stat.S_IMODE(output.stat().st_mode) == 0o600
        assert not output.with_name("shop.jsonl.partial").exists()
        assert f"exported {len(records)} records of {SHOP_API_URL} to {output}" in capsys.readouterr().err

    async def test_a_store_in_its_grace_period_can_be_exported(
        self, send: Send, runtime: Runtime, tmp_path: Path
    ) -> None:
        await send()
        app_deleted = {"__typename": "AppDeleted", "issuedAt": "2026-11-26T13:00:00+00:00", "app": {"id": "QXBwOjE="}}
        await send("APP_DELETED", body_of(app_deleted))
        output = tmp_path / "export.jsonl"
        assert await _export("--saleor-api-url", SHOP_API_URL, "--output", str(output)) == 0
        about, *records = _lines(output)
        assert about["uninstalled_at"] == NOW.isoformat()
        assert "order_events" in {record["table"] for record in records}

    async def test_writes_to_standard_output_without_output(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert await _export("--saleor-api-url", SHOP_API_URL) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert lines[0]["saleor_api_url"] == SHOP_API_URL
        assert [line["table"] for line in lines[1:]] == ["installations"]

    async def test_an_unknown_store_is_an_error_and_writes_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        output = tmp_path / "other.jsonl"
        assert await _export("--saleor-api-url", OTHER, "--output", str(output)) == 1
        assert _files(tmp_path) == []
        assert f"the app keeps no store {OTHER}" in capsys.readouterr().err

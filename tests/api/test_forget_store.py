"""``saleor-ops forget-store``: how a store's data is deleted when Saleor (3.20–3.23) does not say so."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.config import Settings
from app.db.models import InstallationRow

pytestmark = pytest.mark.usefixtures("installation")


def _installations(settings: Settings) -> int:
    from app.db.engine import create_engine

    async def count() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(select(func.count()).select_from(InstallationRow)) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(count())


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("APP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_SECRET_KEY", "test-secret-key")


def test_deletes_the_store_and_says_so(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert _installations(settings) == 1
    assert main(["forget-store", "--saleor-api-url", "https://SHOP.test/graphql"]) == 0
    assert _installations(settings) == 0
    assert "deleted every record of https://shop.test/graphql/" in capsys.readouterr().err


def test_an_unknown_store_is_an_error_and_deletes_nothing(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["forget-store", "--saleor-api-url", "https://other.test/graphql/"]) == 1
    assert _installations(settings) == 1
    assert "no store https://other.test/graphql/" in capsys.readouterr().err

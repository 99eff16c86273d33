"""Shared fixtures: settings, a migrated database, the ASGI app and client, a signing fake Saleor.

The database is SQLite in a temporary folder unless ``TEST_DATABASE_URL`` names
another (CI runs the suite again on a fresh PostgreSQL database).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import delete

from app.config import Settings
from app.db.base import Base
from app.db.migrate import upgrade_to_head
from app.db.repositories.installations import SqlInstallationStore
from app.domain.installation import Installation
from app.main import create_app
from app.pipeline.worker import Worker
from app.runtime import Runtime
from tests.builders import NOW, make_installation
from tests.fakes.fake_saleor import FakeSaleor
from tests.fakes.saleor_signer import SaleorSigner


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class FakeMonotonic:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db')}/test.db"
    upgrade_to_head(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="https://ops.test",
        data_dir=tmp_path,
        secret_key="test-secret-key",
        saleor_backoff_seconds=0,
        log_json=False,
        _env_file=None,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    yield application
    runtime: Runtime = application.state.runtime
    async with runtime.sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))
    await runtime.close()


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    result: Runtime = app.state.runtime
    return result


@pytest.fixture
def worker(app: FastAPI) -> Worker:
    """The app's pipeline worker; ``await worker.drain()`` does all that is due (no loop runs in tests)."""
    result: Worker = app.state.worker
    return result


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://ops.test") as c:
        yield c


@pytest.fixture
def signer() -> SaleorSigner:
    return SaleorSigner(0)


@pytest.fixture
def respx_router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
def fake_saleor(respx_router: respx.MockRouter, signer: SaleorSigner) -> FakeSaleor:
    return FakeSaleor(respx_router, signer)


@pytest.fixture
async def installation(runtime: Runtime, signer: SaleorSigner) -> Installation:
    """shop.test has installed the app, with the signer's key on record."""
    record = make_installation(jwks=signer.jwks_text())
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(record)
    return record

"""Headless Chromium (Debian's, through Playwright) against the app framed by the dashboard harness.

The app and the harness run under uvicorn on two loopback ports, so the iframe
is cross-origin exactly as inside the real dashboard.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.repositories.fraud import SqlFraudRepository
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.inventory import SqlInventoryLedger
from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import SqlEffectOutbox
from app.domain.fraud import FraudPolicy, History, Stage, assess_order_risk, parse_list_entry
from app.domain.ids import AppId, SaleorApiUrl, SaleorId
from app.domain.inventory import CostingPolicy
from app.domain.order_event import ReceivedOrderEvent
from app.main import create_app
from app.runtime import Runtime
from app.services.inventory import book
from app.services.pipeline import EffectKind, NewEffect
from app.standin.facade import StandIn
from app.standin.harness import HarnessConfig, create_site
from app.standin.signing import SigningKey
from tests.builders import make_installation, make_order_facts
from tests.inventory_builders import ODOO
from tests.net import free_port

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
APP_ID = AppId("QXBwOjE=")
ORDER_ID = "T3JkZXI6YnJvd3Nlcg=="
REFUSED_CONFIRMATION = "SaleorMutationError: OrderConfirm: -: Cannot confirm this order (INVALID)"


class ServerThread:
    def __init__(self, app: object, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass(frozen=True)
class Servers:
    app_url: str
    harness_url: str
    order_id: str
    database_url: str
    data_dir: Path


async def _seed(settings: Settings, api_url: SaleorApiUrl, key: SigningKey) -> None:
    runtime = Runtime.build(settings)
    now = datetime.now(UTC)
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(
            make_installation(
                saleor_api_url=api_url, app_id=APP_ID, jwks=key.jwks_text(), saleor_version="3.22.0", at=now
            )
        )
        # A held order: its email is on the block list.
        fraud = SqlFraudRepository(session)
        blocked = parse_list_entry("email", "mallory@example.com", allow=False, note="chargeback in March")
        await fraud.add_list_entry(api_url, blocked, by="staff@shop.test", at=now)
        facts = make_order_facts(order_id=ORDER_ID, email="mallory@example.com")
        assessment = assess_order_risk(
            facts,
            History(store_order_count=10, store_median_total=None, customer_order_count=0, customer_average_total=None),
            [blocked],
            (),
            FraudPolicy(),
            stage=Stage.CREATED,
            now=now,
        )
        await fraud.save_assessment(api_url, assessment, facts, "1042")
        await fraud.open_review(api_url, ORDER_ID, "1042", by=assessment.deciding_rule, at=now)
        # Odoo's costing example, for the cost and valuation pages.
        await book(api_url, ODOO, ledger=SqlInventoryLedger(session), policy=CostingPolicy(), now=now)
        await SqlOrderEventLog(session).record(
            ReceivedOrderEvent(
                saleor_api_url=api_url,
                event="order_created",
                order_id=SaleorId(ORDER_ID),
                order_number="1042",
                issued_at=now,
                saleor_version="3.22.0",
                received_at=now,
                payload="{}",
            )
        )
        # A confirmation Saleor refused: failed, for the Order processing page.
        outbox = SqlEffectOutbox(session)
        await outbox.add(api_url, "review:browser#1", NewEffect(SaleorId(ORDER_ID), EffectKind.CONFIRM, {}), now)
        (refused,) = await outbox.claim(now, lease=timedelta(seconds=60), limit=1)
        await outbox.failed_attempt(refused, REFUSED_CONFIRMATION, retry_at=None)
    await runtime.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    folder = tmp_path_factory.mktemp("browser")
    app_port, harness_port = free_port(), free_port()
    app_url, harness_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{harness_port}"
    api_url = SaleorApiUrl(f"{harness_url}/graphql/")
    key = SigningKey()
    database_url = f"sqlite+aiosqlite:///{folder}/browser.db"
    upgrade_to_head(database_url)
    settings = Settings(
        database_url=database_url,
        public_url=app_url,
        data_dir=folder,
        secret_key="browser",
        log_json=False,
        _env_file=None,
    )
    asyncio.run(_seed(settings, api_url, key))
    standin = StandIn(api_url=api_url, key=key)
    harness = create_site(
        standin.asgi,
        HarnessConfig(app_url=app_url, saleor_api_url=api_url, app_id=APP_ID, key=key, store=standin.store),
    )
    with ServerThread(create_app(settings), app_port), ServerThread(harness, harness_port):
        yield Servers(
            app_url=app_url, harness_url=harness_url, order_id=ORDER_ID, database_url=database_url, data_dir=folder
        )


@pytest.fixture(scope="module")
def browser(servers: Servers) -> Iterator[Browser]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread until it stops,
    which async tests in later modules could not share; started after the servers for the same reason."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium package")
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

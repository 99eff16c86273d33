"""What the app says to each dashboard release, and how the dashboard's address and the app's tabs follow each other.

The harness plays the release named by ``dashboard``: 3.20.41 throws on any action it does not know,
as the real one does, and the newest handles ``widgetResize`` (3.23.8+) and ``refreshEntity`` (3.23.9+).
"""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from app.config import Settings
from app.dashboard.view_models import EVENT_LABELS
from app.db.repositories.fraud import SqlFraudRepository
from app.db.repositories.order_events import SqlOrderEventLog
from app.domain.fraud import FraudPolicy, History, Stage, assess_order_risk
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.order_event import ReceivedOrderEvent
from app.runtime import Runtime
from tests.browser.conftest import APP_ID, Servers, screenshot
from tests.builders import make_order_facts

BUSY_ORDER_ID = "T3JkZXI6YnVzeQ=="  # every webhook and both scoring stages, seeded by busy_order
OLDEST = "3.20.41"
NEWEST = "3.23.27"


def open_harness(page: Page, url: str) -> FrameLocator:
    page.goto(url)
    frame = page.frame_locator("iframe#app")
    expect(frame.locator("#fragment")).to_have_attribute("aria-busy", "false", timeout=10_000)
    return frame


def harness_url(servers: Servers, address: str = "/", **query: str) -> str:
    return f"{servers.harness_url}{address}?{urlencode(query)}"


def app_address(sub_path: str) -> str:
    """Where a 3.20 dashboard keeps an app page: /apps/<id>/app/<sub-path of the app's URL>."""
    return f"/apps/{quote(APP_ID, safe='')}/app{sub_path}"


@pytest.fixture(scope="module")
def busy_order(servers: Servers) -> str:
    """An order held for review that went through every webhook the app takes and both scoring stages."""

    async def seed() -> None:
        runtime = Runtime.build(
            Settings(
                database_url=servers.database_url,
                public_url=servers.app_url,
                data_dir=servers.data_dir,
                secret_key="browser",
                log_json=False,
                _env_file=None,
            )
        )
        api_url = SaleorApiUrl(f"{servers.harness_url}/graphql/")
        now = datetime.now(UTC)
        facts = make_order_facts(order_id=BUSY_ORDER_ID, email="busy@example.com", customer_id=None)
        history = History(
            store_order_count=10, store_median_total=None, customer_order_count=0, customer_average_total=None
        )
        async with runtime.sessions.begin() as session:
            fraud = SqlFraudRepository(session)
            for stage in (Stage.CREATED, Stage.PAID):
                assessment = assess_order_risk(facts, history, [], (), FraudPolicy(), stage=stage, now=now)
                await fraud.save_assessment(api_url, assessment, facts, "1043")
            await fraud.open_review(api_url, BUSY_ORDER_ID, "1043", by="review threshold", at=now)
            for offset, event in enumerate(EVENT_LABELS):
                issued_at = now + timedelta(seconds=offset)
                await SqlOrderEventLog(session).record(
                    ReceivedOrderEvent(
                        saleor_api_url=api_url,
                        event=event,
                        order_id=SaleorId(BUSY_ORDER_ID),
                        order_number="1043",
                        issued_at=issued_at,
                        saleor_version="3.20.35",
                        received_at=issued_at,
                        payload="{}",
                    )
                )
        await runtime.close()

    # Playwright's sync API runs an event loop in this thread; the seeding gets its own.
    worker = threading.Thread(target=asyncio.run, args=(seed(),))
    worker.start()
    worker.join()
    return BUSY_ORDER_ID


def page_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


class TestActionsPerDashboardRelease:
    @pytest.mark.parametrize(
        ("dashboard", "outcome"),
        [
            pytest.param(OLDEST, "Unknown action type", id="3.20-throws"),
            pytest.param("3.22.44", None, id="3.22-ignores"),
        ],
    )
    def test_the_harness_refuses_what_that_dashboard_does_not_know(
        self, page: Page, servers: Servers, dashboard: str, outcome: str | None
    ) -> None:
        errors = page_errors(page)
        frame = open_harness(page, harness_url(servers, page="/dashboard", dashboard=dashboard))
        frame.locator("body").evaluate(
            "() => window.parent.postMessage({type: 'widgetResize', payload: {actionId: 'a1', height: 300}}, '*')"
        )
        expect(page.locator("#refused li[data-action=widgetResize]")).to_have_count(1)
        assert [e for e in errors if "Unknown action type" in e] == ([outcome] if outcome else [])

    def test_the_newest_dashboard_takes_a_widget_resize(self, page: Page, servers: Servers) -> None:
        frame = open_harness(page, harness_url(servers, page="/dashboard", dashboard=NEWEST))
        frame.locator("body").evaluate(
            "() => window.parent.postMessage({type: 'widgetResize', payload: {actionId: 'a1', height: 300}}, '*')"
        )
        expect(page.locator("iframe#app")).to_have_attribute("style", "height: 300px;")
        expect(page.locator("#refused li")).to_have_count(0)

    @pytest.mark.parametrize("dashboard", [OLDEST, "3.21.21"])
    def test_the_order_popup_sends_a_320_dashboard_nothing_it_refuses(
        self, page: Page, servers: Servers, dashboard: str
    ) -> None:
        errors = page_errors(page)
        page.goto(harness_url(servers, dashboard=dashboard, orderId=servers.order_id))
        # The harness takes the order page's extension from the app's manifest for that release.
        card = page.get_by_role("link", name="Order card")
        expect(card).to_have_attribute("href", re.compile(r"page=%2Fdashboard%2Forder%2Fpopup"))
        card.click()
        frame = page.frame_locator("iframe#app")
        expect(frame.locator(".timeline-label")).to_have_text(["Order created"])
        expect(page.locator("#dialog-title")).to_have_text("Saleor Ops")
        expect(page.locator("iframe#app")).to_have_attribute("src", re.compile(r"/dashboard/order/popup\?"))
        page.wait_for_timeout(300)  # a refused action would arrive right after the card settles
        expect(page.locator("#refused li")).to_have_count(0)
        assert errors == []

    def test_the_widget_on_a_322_dashboard_keeps_its_height_and_sends_nothing_it_ignores(
        self, page: Page, servers: Servers
    ) -> None:
        frame = open_harness(
            page, harness_url(servers, page="/dashboard/order", orderId=servers.order_id, dashboard="3.22.44")
        )
        expect(frame.locator(".timeline-label")).to_have_text(["Order created"])
        page.wait_for_timeout(300)
        expect(page.locator("#refused li")).to_have_count(0)
        assert page.locator("iframe#app").get_attribute("style") is None

    @pytest.mark.parametrize(
        ("dashboard", "refreshes"),
        [
            pytest.param(OLDEST, 0, id="3.20-not-sent"),
            pytest.param("3.23.8", 0, id="3.23.8-not-sent"),
            pytest.param("3.23.9", 1, id="3.23.9-refreshes"),
        ],
    )
    def test_the_order_is_refreshed_only_by_a_dashboard_that_can(
        self, page: Page, servers: Servers, dashboard: str, refreshes: int
    ) -> None:
        """What the page does after a decision (x-ops-order-changed), asked of each release."""
        errors = page_errors(page)
        frame = open_harness(page, harness_url(servers, page="/dashboard/reviews", dashboard=dashboard))
        frame.locator("body").evaluate("() => window.SaleorOps.refreshEntity()")
        expect(page.locator("#refreshes li")).to_have_count(refreshes)
        page.wait_for_timeout(300)
        expect(page.locator("#refused li")).to_have_count(0)
        assert errors == []


class TestTheDashboardsAddress:
    def test_moving_between_tabs_moves_the_address_and_a_reload_comes_back(self, page: Page, servers: Servers) -> None:
        frame = open_harness(page, harness_url(servers, app_address("/"), dashboard=OLDEST))
        frame.get_by_role("link", name="Fraud review").click()
        expect(frame.locator("#queue-title")).to_be_visible()
        expect(page).to_have_url(re.compile(re.escape(app_address("/reviews")) + r"\?"))
        expect(page.get_by_role("link", name="Orders › Fraud review")).to_have_attribute("aria-current", "page")
        page.reload()
        frame = page.frame_locator("iframe#app")
        expect(frame.get_by_role("link", name="Fraud review")).to_have_attribute("aria-current", "page")
        expect(frame.locator("#queue-title")).to_be_visible()
        frame.get_by_role("link", name="Home").click()
        expect(page).to_have_url(re.compile(re.escape(app_address("/")) + r"\?"))
        expect(page.get_by_role("link", name="Orders › Fraud review")).not_to_have_attribute("aria-current", "page")
        screenshot(page, "address-follows-tabs")

    def test_the_page_follows_the_address_the_dashboard_sends(self, page: Page, servers: Servers) -> None:
        # The frame was loaded at the app's home, but the dashboard's address is its settings page.
        frame = open_harness(page, harness_url(servers, app_address("/settings"), page="/dashboard", dashboard=OLDEST))
        expect(frame.get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")
        expect(frame.get_by_label("Store time zone")).to_be_visible()
        expect(page).to_have_url(re.compile(re.escape(app_address("/settings"))))


# babel's medium date and time in English: "Dec 3, 2026, 11:59:17 AM".
LOCAL_TIME = r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2}\s[AP]M"


class TestTheOrderPopup:
    def open_popup(self, page: Page, servers: Servers) -> FrameLocator:
        frame = open_harness(
            page, harness_url(servers, page="/dashboard/order/popup", orderId=servers.order_id, dashboard=OLDEST)
        )
        expect(frame.locator(".timeline-label")).to_have_text(["Order created"])
        return frame

    def test_the_dialogs_title_is_the_only_saleor_ops_heading(self, page: Page, servers: Servers) -> None:
        frame = self.open_popup(page, servers)
        expect(page.get_by_role("heading", name="Saleor Ops")).to_be_visible()
        expect(frame.get_by_role("heading", name="Saleor Ops")).to_have_count(0)
        expect(frame.get_by_role("heading", name="Fraud")).to_be_visible()

    def test_every_time_is_in_one_format(self, page: Page, servers: Servers) -> None:
        frame = self.open_popup(page, servers)
        text = frame.locator("main").inner_text()
        assert re.search(r"\d{4}-\d{2}-\d{2}|UTC", text) is None, text
        expect(frame.get_by_text(re.compile("Held for review since " + LOCAL_TIME))).to_be_visible()
        expect(frame.locator(".timeline .muted")).to_have_text([re.compile(LOCAL_TIME)])

    def test_a_busy_orders_card_fits_the_dialogs_600_px_without_scrolling(
        self, page: Page, servers: Servers, busy_order: str
    ) -> None:
        frame = open_harness(
            page, harness_url(servers, page="/dashboard/order/popup", orderId=busy_order, dashboard=OLDEST)
        )
        expect(frame.locator(".timeline-label")).to_have_count(len(EVENT_LABELS))
        screenshot(page, "order-popup-3.20")
        content = frame.locator("main").evaluate("main => Math.ceil(main.getBoundingClientRect().bottom)")
        sizes = frame.locator("html").evaluate("html => [html.scrollHeight, html.clientHeight]")
        assert sizes[1] == 600
        assert content <= 600, f"the card is {content} px high in a 600 px dialog"
        assert sizes[0] <= sizes[1]


def test_a_dashboard_the_app_does_not_allow_gets_an_empty_frame_and_the_log_says_why(
    page: Page, servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    # The same harness by another name: a dashboard served apart from the store's API (127.0.0.1).
    elsewhere = servers.harness_url.replace("127.0.0.1", "localhost")
    for _ in range(2):
        page.goto(f"{elsewhere}/?{urlencode({'page': '/dashboard', 'dashboard': OLDEST})}")
        expect(page.locator("iframe#app")).to_have_attribute("src", re.compile("/dashboard"))
        page.wait_for_timeout(500)
        expect(page.frame_locator("iframe#app").locator("#fragment")).to_have_count(0)
    refusals = [r.getMessage() for r in caplog.records if "APP_DASHBOARD_ORIGINS" in r.getMessage()]
    assert len(refusals) == 1
    assert refusals[0].startswith(elsewhere)

"""The Order processing page: webhooks and changes to Saleor that are waiting, retrying or failed,
with why and how often they were tried; staff retry one or all, and the worker takes them at once."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.db.models import EffectRow, OrderEventRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import SqlEffectOutbox
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.pipeline import EffectKind, NewEffect
from tests.api.conftest import Send
from tests.builders import NOW, SHOP_API_URL, body_of, make_installation, order_payload
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FRAUD_DECISION_OK, FakeSaleor

pytestmark = pytest.mark.usefixtures("installation")
PAGE = "/api/dashboard/fragments/pipeline"
FIRST, SECOND, THIRD = "T3JkZXI6MQ==", "T3JkZXI6Mg==", "T3JkZXI6Mw=="
REFUSED = {
    "data": {
        "updatePrivateMetadata": {"errors": [{"field": "id", "message": "Order not found", "code": "NOT_FOUND"}]},
        "orderNoteAdd": {"errors": []},
        "orderConfirm": {"errors": []},
    }
}


def _rows(page: str, kind: str) -> dict[int, tuple[str, str]]:
    """The table of ``deliveries`` or ``effects``: each row's id, its progress, and its text."""
    tables = dict(re.findall(r'data-backlog="(\w+)">(.*?)</table>', page, re.DOTALL))
    found = re.findall(r'<tr data-item="(\d+)" data-progress="(\w+)">(.*?)</tr>', tables.get(kind, ""), re.DOTALL)
    return {int(item): (progress, " ".join(re.sub(r"<[^>]+>", " ", text).split())) for item, progress, text in found}


async def _effects(runtime: Runtime) -> list[EffectRow]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(EffectRow).order_by(EffectRow.id)))


async def _deliveries(runtime: Runtime) -> list[OrderEventRow]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(OrderEventRow).order_by(OrderEventRow.id)))


async def _order(send: Send, order_id: str, number: str) -> None:
    assert (await send("ORDER_CREATED", body_of(order_payload(order_id=order_id, number=number)))).status_code == 200


@pytest.fixture
async def failed_and_retrying(send: Send, fake_saleor: FakeSaleor, runtime: Runtime) -> tuple[int, int]:
    """Order #1001's fraud decision was refused by Saleor (failed); #1002's met a 503 (retrying)."""
    fake_saleor.on("FraudDecision", REFUSED, httpx.Response(503), FRAUD_DECISION_OK)
    await _order(send, FIRST, "1001")
    await _order(send, SECOND, "1002")
    failed, retrying = await _effects(runtime)
    assert (failed.status, retrying.status, retrying.attempts) == ("failed", "pending", 1)
    return failed.id, retrying.id


@pytest.fixture
async def unreadable_delivery(runtime: Runtime, worker: Worker) -> int:
    """Order #1003's ORDER_CREATED, whose body the app cannot read, received longer ago than the retry
    window: its first failed attempt is its last."""
    received = NOW - timedelta(hours=25)
    async with runtime.sessions.begin() as session:
        await SqlOrderEventLog(session).record(
            ReceivedOrderEvent(SHOP_API_URL, "order_created", SaleorId(THIRD), "1003", received, None, received, "{}")
        )
    await worker.drain()
    (delivery,) = [d for d in await _deliveries(runtime) if d.order_id == THIRD]
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    return delivery.id


class TestPage:
    async def test_lists_a_failed_and_a_retrying_effect_with_reason_and_attempts(
        self, client: httpx.AsyncClient, staff_headers, failed_and_retrying: tuple[int, int]
    ) -> None:
        failed, retrying = failed_and_retrying
        page = await client.get(PAGE, headers=staff_headers())
        assert page.status_code == 200
        rows = _rows(page.text, "effects")
        assert set(rows) == {failed, retrying}
        progress, text = rows[failed]
        assert progress == "failed"
        assert "#1001" in text
        assert "Failed after 1 attempt" in text
        assert "Saleor refused the change: id: Order not found (NOT_FOUND)" in text
        progress, text = rows[retrying]
        assert progress == "retrying"
        assert "#1002" in text
        assert "Retrying (tried 1 time, next at" in text
        assert "Saleor answered 503 Details" in text  # the full error is one click away
        assert "Retry" in text

    async def test_everything_done_says_so(self, client: httpx.AsyncClient, staff_headers, send: Send) -> None:
        await _order(send, FIRST, "1001")
        page = await client.get(PAGE, headers=staff_headers())
        assert "Every webhook Saleor sent has been processed." in page.text
        assert "Every change the app decided has reached Saleor." in page.text
        assert "Retry all now" not in page.text
        assert '<span class="stat-value">1</span><span class="stat-label">Processed in the last 24 hours' in page.text

    async def test_another_stores_items_never_show_nor_can_be_retried(
        self, client: httpx.AsyncClient, staff_headers, runtime: Runtime
    ) -> None:
        other = SaleorApiUrl("https://other.test/graphql/")
        async with runtime.sessions.begin() as session:
            await SqlInstallationStore(session, runtime.cipher).save(make_installation(saleor_api_url=other, jwks="{}"))
            await SqlOrderEventLog(session).record(
                ReceivedOrderEvent(other, "order_created", SaleorId("T3RoZXI6MQ=="), "77", NOW, None, NOW, "{}")
            )
            await SqlEffectOutbox(session).add(
                other, "review:x#1", NewEffect(SaleorId("T3RoZXI6MQ=="), EffectKind.CONFIRM, {}), NOW
            )
        page = await client.get(PAGE, headers=staff_headers())
        assert "T3RoZXI6MQ==" not in page.text
        assert (_rows(page.text, "deliveries"), _rows(page.text, "effects")) == ({}, {})
        (effect,) = await _effects(runtime)
        async with runtime.sessions.begin() as session:
            await session.execute(update(EffectRow).values(status="failed", next_attempt_at=NOW + timedelta(days=9)))
        refused = await client.post(f"/api/dashboard/pipeline/effects/{effect.id}/retry", headers=staff_headers())
        assert refused.status_code == 422
        assert "no longer waiting or failed" in refused.text
        assert [(e.status, e.next_attempt_at) for e in await _effects(runtime)] == [("failed", NOW + timedelta(days=9))]

    async def test_times_are_in_the_store_zone(
        self, client: httpx.AsyncClient, staff_headers, failed_and_retrying: tuple[int, int]
    ) -> None:
        await client.post("/api/dashboard/settings/general", data={"timezone": "Asia/Tokyo"}, headers=staff_headers())
        page = await client.get(PAGE, headers=staff_headers())
        assert "Times are shown in Asia/Tokyo" in page.text
        assert "9:00:00" in page.text  # decided at 12:00 UTC, 21:00 in Tokyo


class TestRetry:
    async def test_retrying_an_effect_makes_it_due_and_the_worker_then_delivers_it(
        self,
        client: httpx.AsyncClient,
        staff_headers,
        send: Send,
        fake_saleor: FakeSaleor,
        runtime: Runtime,
        worker: Worker,
        clock: FixedClock,
    ) -> None:
        fake_saleor.on("FraudDecision", httpx.Response(503), FRAUD_DECISION_OK)
        await _order(send, FIRST, "1001")
        (effect,) = await _effects(runtime)
        await worker.drain()
        assert len(fake_saleor.calls("FraudDecision")) == 1, "not due yet: waiting for its backoff"
        woken: list[None] = []
        runtime.wake_workers = lambda: woken.append(None)
        response = await client.post(f"/api/dashboard/pipeline/effects/{effect.id}/retry", headers=staff_headers())
        assert response.status_code == 200
        assert response.headers["x-ops-notice"] == "Trying again now: 1 change to Saleor."
        assert woken == [None]
        (due,) = await _effects(runtime)
        assert (due.status, due.next_attempt_at) == ("pending", clock.now())
        await worker.drain()
        assert len(fake_saleor.calls("FraudDecision")) == 2
        assert [e.status for e in await _effects(runtime)] == ["done"]
        page = await client.get(PAGE, headers=staff_headers())
        assert "Every change the app decided has reached Saleor." in page.text

    async def test_retry_all_takes_every_failed_and_retrying_webhook_and_change(
        self,
        client: httpx.AsyncClient,
        staff_headers,
        fake_saleor: FakeSaleor,
        runtime: Runtime,
        worker: Worker,
        failed_and_retrying: tuple[int, int],
        unreadable_delivery: int,
    ) -> None:
        page = await client.get(PAGE, headers=staff_headers())
        assert "Retry all now" in page.text
        response = await client.post("/api/dashboard/pipeline/retry", headers=staff_headers())
        assert response.headers["x-ops-notice"] == "Trying again now: 1 webhook and 2 changes to Saleor."
        await worker.drain()
        # #1002 is sent again whole; #1001's note was taken with the refusal, so only its metadata goes.
        assert len(fake_saleor.calls("FraudDecision")) == 3
        assert len(fake_saleor.calls("UpdatePrivateMetadata")) == 1
        assert [e.status for e in await _effects(runtime)] == ["done", "done"]
        (delivery,) = [d for d in await _deliveries(runtime) if d.id == unreadable_delivery]
        assert (delivery.status, delivery.attempts) == ("failed", 2), "tried once more; its body is still unreadable"

    async def test_retrying_nothing_says_so(self, client: httpx.AsyncClient, staff_headers) -> None:
        response = await client.post("/api/dashboard/pipeline/retry", headers=staff_headers())
        assert (response.status_code, response.headers["x-ops-notice"]) == (422, "Nothing to retry.")


class TestFailedDelivery:
    async def test_shows_with_its_error_and_once_retried_is_processed(
        self,
        client: httpx.AsyncClient,
        staff_headers,
        runtime: Runtime,
        worker: Worker,
        fake_saleor: FakeSaleor,
        unreadable_delivery: int,
    ) -> None:
        page = await client.get(PAGE, headers=staff_headers())
        progress, text = _rows(page.text, "deliveries")[unreadable_delivery]
        assert progress == "failed"
        assert "Order created #1003 Failed after 1 attempt" in text
        assert "The order in this webhook could not be read" in text
        assert "ValidationError" in text  # in its details
        # A fixed release of the app reads the body now.
        async with runtime.sessions.begin() as session:
            await session.execute(
                update(OrderEventRow).values(payload=body_of(order_payload(order_id=THIRD, number="1003")).decode())
            )
        response = await client.post(
            f"/api/dashboard/pipeline/deliveries/{unreadable_delivery}/retry", headers=staff_headers()
        )
        assert response.headers["x-ops-notice"] == "Trying again now: 1 webhook."
        await worker.drain()
        (delivery,) = await _deliveries(runtime)
        assert (delivery.status, delivery.last_error) == ("done", None)
        assert len(fake_saleor.calls("FraudDecision")) == 1


class TestHome:
    async def test_a_failed_change_is_announced_with_a_link_to_the_page(
        self, client: httpx.AsyncClient, staff_headers, failed_and_retrying: tuple[int, int]
    ) -> None:
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        banner = re.search(r'<p class="banner banner-error" role="alert" data-backlog>(.*?)</p>', home.text)
        assert banner is not None
        assert "Failed: 1 change did not reach Saleor." in banner.group(1)
        assert 'data-page-link="pipeline"' in banner.group(1)

    async def test_retrying_alone_is_a_warning(
        self, client: httpx.AsyncClient, staff_headers, send: Send, fake_saleor: FakeSaleor
    ) -> None:
        fake_saleor.on("FraudDecision", httpx.Response(503))
        await _order(send, FIRST, "1001")
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert 'class="banner banner-warning" role="status" data-backlog>1 item failed at first' in home.text

    async def test_nothing_is_said_when_all_is_done(self, client: httpx.AsyncClient, staff_headers) -> None:
        home = await client.get("/api/dashboard/fragments/home", headers=staff_headers())
        assert "data-backlog" not in home.text


class TestPermission:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            pytest.param("GET", PAGE, id="page"),
            pytest.param("POST", "/api/dashboard/pipeline/retry", id="retry-all"),
            pytest.param("POST", "/api/dashboard/pipeline/effects/{effect}/retry", id="retry-effect"),
        ],
    )
    async def test_refused_without_manage_orders(
        self,
        client: httpx.AsyncClient,
        staff_headers,
        runtime: Runtime,
        failed_and_retrying: tuple[int, int],
        method: str,
        path: str,
    ) -> None:
        before = [(e.status, e.next_attempt_at) for e in await _effects(runtime)]
        response = await client.request(
            method, path.format(effect=failed_and_retrying[0]), headers=staff_headers("MANAGE_PRODUCTS")
        )
        assert response.status_code == 403
        assert "MANAGE_ORDERS" in response.json()["error"]["message"]
        assert [(e.status, e.next_attempt_at) for e in await _effects(runtime)] == before


async def test_the_page_is_in_the_apps_navigation(client: httpx.AsyncClient, installation: Installation) -> None:
    shell = await client.get("/dashboard/pipeline")
    assert shell.status_code == 200
    assert 'data-page="pipeline"' in shell.text
    assert 'data-page-link="pipeline" aria-current="page"' in shell.text

"""The pipeline's backlog per store, read from the same tables the workers move deliveries and effects through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OrderEventRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.order_events import SqlOrderEventLog
from app.db.repositories.pipeline import SqlDeliveryQueue, SqlEffectOutbox
from app.db.repositories.pipeline_reports import SqlPipelineReports
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent
from app.domain.pipeline.backlog import BacklogCounts, Progress
from app.runtime import Runtime
from app.services.pipeline import Effect, EffectKind, NewEffect
from tests.builders import NOW, SHOP_API_URL, make_installation

OTHER = SaleorApiUrl("https://other.test/graphql/")
DAY_AGO = NOW - timedelta(days=1)
LEASE = timedelta(seconds=60)


@pytest.fixture
async def session(runtime: Runtime, installation: Installation) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as s:
        await SqlInstallationStore(s, runtime.cipher).save(make_installation(saleor_api_url=OTHER, jwks="{}"))
        yield s
        await s.commit()


def _order(n: int) -> SaleorId:
    return SaleorId(f"order-{n}")


async def _deliveries(session: AsyncSession, url: SaleorApiUrl, count: int) -> list[int]:
    """``count`` deliveries of as many orders, received a minute apart; their ids, oldest first."""
    log = SqlOrderEventLog(session)
    for n in range(count):
        at = NOW + timedelta(minutes=n)
        await log.record(ReceivedOrderEvent(url, "order_created", _order(n), str(1000 + n), at, None, at, payload="{}"))
    ids = await session.scalars(
        select(OrderEventRow.id).where(OrderEventRow.saleor_api_url == url).order_by(OrderEventRow.id)
    )
    return list(ids)


async def _effects(session: AsyncSession, url: SaleorApiUrl, count: int) -> list[Effect]:
    """``count`` effects of as many orders, decided a minute apart and all claimed; oldest first."""
    outbox = SqlEffectOutbox(session)
    for n in range(count):
        effect = NewEffect(_order(n), EffectKind.FRAUD_DECISION, {"note": f"note {n}"})
        await outbox.add(url, f"delivery:{n}#1", effect, NOW + timedelta(minutes=n))
    claimed = await outbox.claim(NOW + timedelta(hours=1), lease=LEASE, limit=count)
    return sorted((effect for effect in claimed if effect.saleor_api_url == url), key=lambda effect: effect.id)


class TestDeliveries:
    async def test_counts_each_by_where_it_stands_and_the_processed_ones_of_the_window(
        self, session: AsyncSession
    ) -> None:
        queue, reports = SqlDeliveryQueue(session), SqlPipelineReports(session)
        waiting, retrying, failed, done, done_long_ago = await _deliveries(session, SHOP_API_URL, 5)
        await queue.failed_attempt(retrying, "ValueError: bad", retry_at=NOW + timedelta(minutes=5))
        await queue.failed_attempt(failed, "ValueError: bad", retry_at=None)
        await queue.processed(done, NOW)
        await queue.processed(done_long_ago, DAY_AGO - timedelta(seconds=1))
        counts = await reports.delivery_counts(SHOP_API_URL, done_since=DAY_AGO)
        assert counts == BacklogCounts(waiting=1, retrying=1, sending=0, failed=1, done=1)
        assert counts.not_done == 3

    async def test_lists_those_not_done_newest_first_with_attempts_and_reason(self, session: AsyncSession) -> None:
        queue, reports = SqlDeliveryQueue(session), SqlPipelineReports(session)
        oldest, middle, newest = await _deliveries(session, SHOP_API_URL, 3)
        await queue.failed_attempt(oldest, "ValidationError: order", retry_at=None)
        await queue.processed(middle, NOW)
        items = await reports.deliveries_not_done(SHOP_API_URL, 10)
        assert [item.id for item in items] == [newest, oldest]
        failed = items[1]
        assert (failed.what, failed.order_id, failed.order_number) == ("order_created", _order(0), "1000")
        assert (failed.progress, failed.attempts, failed.last_error) == (Progress.FAILED, 1, "ValidationError: order")
        assert failed.since == NOW
        assert items[0].progress is Progress.WAITING

    async def test_keeps_to_the_limit(self, session: AsyncSession) -> None:
        ids = await _deliveries(session, SHOP_API_URL, 4)
        items = await SqlPipelineReports(session).deliveries_not_done(SHOP_API_URL, 2)
        assert [item.id for item in items] == ids[:1:-1]


class TestEffects:
    async def test_counts_each_by_where_it_stands_and_the_delivered_ones_of_the_window(
        self, session: AsyncSession
    ) -> None:
        outbox, reports = SqlEffectOutbox(session), SqlPipelineReports(session)
        retrying, failed, sending, done, done_long_ago = await _effects(session, SHOP_API_URL, 5)
        await outbox.failed_attempt(retrying, "SaleorUnavailableError: 503", retry_at=NOW + timedelta(hours=2))
        await outbox.failed_attempt(failed, "SaleorMutationError: refused", retry_at=None)
        await outbox.delivered([done], NOW)
        await outbox.delivered([done_long_ago], DAY_AGO - timedelta(seconds=1))
        await outbox.add(SHOP_API_URL, "review:x#1", NewEffect(_order(9), EffectKind.CONFIRM, {}), NOW)
        counts = await reports.effect_counts(SHOP_API_URL, done_since=DAY_AGO)
        assert counts == BacklogCounts(waiting=1, retrying=1, sending=1, failed=1, done=1)
        assert await reports.effect_counts(SHOP_API_URL) == BacklogCounts(waiting=1, retrying=1, sending=1, failed=1)

    async def test_lists_those_not_done_with_the_order_number_its_deliveries_carried(
        self, session: AsyncSession
    ) -> None:
        outbox, reports = SqlEffectOutbox(session), SqlPipelineReports(session)
        await _deliveries(session, SHOP_API_URL, 1)  # order 0, number 1000
        first, second = await _effects(session, SHOP_API_URL, 2)
        await outbox.failed_attempt(first, "SaleorUnavailableError: 503", retry_at=NOW + timedelta(hours=2))
        items = await reports.effects_not_done(SHOP_API_URL, 10)
        assert [item.id for item in items] == [second.id, first.id]
        retrying = items[1]
        assert (retrying.what, retrying.order_number, retrying.progress) == (
            "fraud_decision",
            "1000",
            Progress.RETRYING,
        )
        assert (retrying.attempts, retrying.last_error) == (1, "SaleorUnavailableError: 503")
        assert retrying.next_attempt_at == NOW + timedelta(hours=2)
        assert (items[0].order_number, items[0].progress, items[0].attempts) == (None, Progress.SENDING, 1)


class TestTenancy:
    async def test_another_stores_deliveries_and_effects_never_show(self, session: AsyncSession) -> None:
        queue, outbox, reports = SqlDeliveryQueue(session), SqlEffectOutbox(session), SqlPipelineReports(session)
        for delivery in await _deliveries(session, OTHER, 2):
            await queue.failed_attempt(delivery, "ValueError: bad", retry_at=None)
        for effect in await _effects(session, OTHER, 2):
            await outbox.failed_attempt(effect, "SaleorMutationError: refused", retry_at=None)
        assert await reports.deliveries_not_done(SHOP_API_URL, 10) == []
        assert await reports.effects_not_done(SHOP_API_URL, 10) == []
        assert await reports.delivery_counts(SHOP_API_URL, done_since=DAY_AGO) == BacklogCounts()
        assert await reports.effect_counts(SHOP_API_URL, done_since=DAY_AGO) == BacklogCounts()
        assert (await reports.effect_counts(OTHER, done_since=DAY_AGO)).failed == 2

    async def test_an_order_number_is_read_from_the_stores_own_deliveries_only(self, session: AsyncSession) -> None:
        await _deliveries(session, OTHER, 1)  # the other store's order-0 is number 1000
        await _effects(session, SHOP_API_URL, 1)
        (item,) = await SqlPipelineReports(session).effects_not_done(SHOP_API_URL, 10)
        assert item.order_number is None

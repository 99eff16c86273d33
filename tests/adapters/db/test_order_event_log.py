import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OrderEventRow
from app.db.repositories.order_events import SqlOrderEventLog
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent
from app.runtime import Runtime
from tests.builders import NOW, SHOP_API_URL


@pytest.fixture
async def session(runtime: Runtime, installation: Installation) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as s:
        yield s
        await s.commit()


def _event(**overrides: object) -> ReceivedOrderEvent:
    event = ReceivedOrderEvent(
        saleor_api_url=SHOP_API_URL,
        event="order_created",
        order_id=SaleorId("T3JkZXI6MQ=="),
        order_number="1001",
        issued_at=NOW,
        saleor_version="3.20.119",
        received_at=NOW,
        payload="{}",
    )
    return dataclasses.replace(event, **overrides)  # type: ignore[arg-type]


class TestSqlOrderEventLog:
    async def test_records_an_occurrence_once(self, session: AsyncSession) -> None:
        log = SqlOrderEventLog(session)
        assert await log.record(_event())
        assert not await log.record(_event(received_at=NOW.replace(minute=5)))
        assert await log.count(SHOP_API_URL) == 1

    async def test_other_events_and_orders_are_separate_occurrences(self, session: AsyncSession) -> None:
        log = SqlOrderEventLog(session)
        assert await log.record(_event())
        assert await log.record(_event(event="order_fully_paid"))
        assert await log.record(_event(order_id=SaleorId("T3JkZXI6Mg==")))
        assert len(await log.for_order(SHOP_API_URL, SaleorId("T3JkZXI6MQ=="))) == 2

    async def test_counts_are_scoped_to_the_store(self, session: AsyncSession) -> None:
        log = SqlOrderEventLog(session)
        await log.record(_event())
        assert await log.count(SaleorApiUrl("https://other.test/graphql/")) == 0

    async def test_the_first_kept_event_of_each_of_the_latest_orders(self, session: AsyncSession) -> None:
        log = SqlOrderEventLog(session)
        for order, first_seen in (("A", 0), ("B", 10), ("C", 20)):
            placed = NOW + timedelta(minutes=first_seen)
            await log.record(_event(order_id=SaleorId(order), issued_at=placed, payload=f'{{"{order}": 1}}'))
            later = placed + timedelta(minutes=30)
            await log.record(_event(order_id=SaleorId(order), event="order_updated", issued_at=later, payload="{}x"))
        # C's first body was pruned: its next one stands for it; D has none left.
        await log.record(_event(order_id=SaleorId("D"), issued_at=NOW + timedelta(minutes=40)))
        await session.execute(update(OrderEventRow).where(OrderEventRow.order_id == "C").values(payload="{}"))
        await session.execute(
            update(OrderEventRow)
            .where(OrderEventRow.order_id == "C", OrderEventRow.event == "order_updated")
            .values(payload="{}c")
        )

        latest = await log.first_of_recent_orders(SHOP_API_URL, 2)

        assert [(event.order_id, event.event, event.payload) for event in latest] == [
            ("C", "order_updated", "{}c"),
            ("B", "order_created", '{"B": 1}'),
        ]
        assert [event.order_id for event in await log.first_of_recent_orders(SHOP_API_URL, 10)] == ["C", "B", "A"]

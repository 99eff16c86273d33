"""Deliveries stored in batches on a real database: each caller answered after its commit, with
whether its delivery was new; one store's removal fails only that store's deliveries."""

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.models import OrderEventRow
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.order_events import DeliveryBatcher, delivery_writer
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent
from app.errors import NotInstalledError
from app.runtime import Runtime
from tests.builders import NOW, SHOP_API_URL, make_installation

OTHER = SaleorApiUrl("https://other.test/graphql/")


def _event(number: int, url: SaleorApiUrl = SHOP_API_URL) -> ReceivedOrderEvent:
    return ReceivedOrderEvent(
        saleor_api_url=url,
        event="order_created",
        order_id=SaleorId(f"order-{number}"),
        order_number=str(number),
        issued_at=NOW + timedelta(seconds=number),
        saleor_version=None,
        received_at=NOW,
        payload="{}",
    )


async def _stored(runtime: Runtime) -> list[tuple[str, str]]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(OrderEventRow.saleor_api_url, OrderEventRow.order_id))
        return sorted((url, order_id) for url, order_id in rows)


@pytest.fixture
def woken() -> list[int]:
    return []


@pytest.fixture
async def batcher(runtime: Runtime, installation: Installation, woken: list[int]) -> DeliveryBatcher:
    return DeliveryBatcher(
        delivery_writer(runtime.engine),
        on_recorded=lambda: woken.append(1),
    )


async def test_deliveries_arriving_together_are_stored_in_fewer_statements_and_answered_once_committed(
    runtime: Runtime, batcher: DeliveryBatcher, woken: list[int]
) -> None:
    results = await asyncio.gather(*(batcher.record(_event(n)) for n in range(10)))
    assert results == [True] * 10
    assert len(await _stored(runtime)) == 10
    # The first went alone; the nine that arrived while it was written went together.
    assert len(woken) == 2
    await batcher.close()


async def test_a_redelivery_is_not_stored_again_even_in_the_same_batch(
    runtime: Runtime, batcher: DeliveryBatcher
) -> None:
    assert await batcher.record(_event(1))
    again = await asyncio.gather(batcher.record(_event(2)), batcher.record(_event(1)), batcher.record(_event(2)))
    assert list(again) == [True, False, False]
    assert len(await _stored(runtime)) == 2
    await batcher.close()


async def test_a_store_removed_meanwhile_fails_only_its_own_deliveries(
    runtime: Runtime, batcher: DeliveryBatcher, installation: Installation
) -> None:
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).save(make_installation(saleor_api_url=OTHER, jwks="{}"))
    first = asyncio.ensure_future(batcher.record(_event(0)))  # written alone, so the rest form one batch
    async with runtime.sessions.begin() as session:
        await SqlInstallationStore(session, runtime.cipher).delete(OTHER)
    results = await asyncio.gather(
        batcher.record(_event(1)), batcher.record(_event(2, OTHER)), batcher.record(_event(3)), return_exceptions=True
    )
    assert await first
    assert (results[0], results[2]) == (True, True)
    assert isinstance(results[1], NotInstalledError)
    assert await _stored(runtime) == [(SHOP_API_URL, "order-0"), (SHOP_API_URL, "order-1"), (SHOP_API_URL, "order-3")]
    await batcher.close()


async def test_a_database_failure_reaches_every_caller_of_the_batch(
    runtime: Runtime, installation: Installation
) -> None:
    class Broken:
        async def insert(self, rows: list[dict[str, object]]) -> set[tuple[str, str, str, object]]:
            raise DBAPIError("INSERT", None, ConnectionError("gone"))

        async def close(self) -> None:
            pass

    batcher = DeliveryBatcher(Broken(), on_recorded=lambda: None)  # type: ignore[arg-type]
    results = await asyncio.gather(*(batcher.record(_event(n)) for n in range(3)), return_exceptions=True)
    assert all(isinstance(result, DBAPIError) for result in results)
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OrderEventRow)) == 0


async def test_the_runtime_stores_through_a_batcher(runtime: Runtime, installation: Installation) -> None:
    event = dataclasses.replace(_event(7), payload='{"a": 1}')
    assert await runtime.deliveries.record(event)
    assert not await runtime.deliveries.record(event)
    assert await _stored(runtime) == [(SHOP_API_URL, "order-7")]


async def test_an_unreachable_postgresql_is_a_database_error_the_web_layer_answers_503() -> None:
    engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    batcher = DeliveryBatcher(delivery_writer(engine), on_recorded=lambda: None)
    with pytest.raises(DBAPIError):
        await batcher.record(_event(0))
    await batcher.close()
    await engine.dispose()


async def test_a_caller_that_gives_up_leaves_the_others_batch_alone(runtime: Runtime, batcher: DeliveryBatcher) -> None:
    first = asyncio.ensure_future(batcher.record(_event(0)))
    impatient = asyncio.ensure_future(batcher.record(_event(1)))
    patient = asyncio.ensure_future(batcher.record(_event(2)))
    await asyncio.sleep(0)
    impatient.cancel()
    assert await first
    assert await patient
    assert len(await _stored(runtime)) == 3  # stored all the same: Saleor will be told "duplicate" next time
    await batcher.close()


async def test_one_batch_is_written_at_a_time_and_what_arrives_meanwhile_goes_in_the_next(
    installation: Installation,
) -> None:
    class Slow:
        def __init__(self) -> None:
            self.batches: list[int] = []
            self.writing = self.most_writing = 0

        async def insert(self, rows: list[dict[str, object]]) -> set[tuple[object, ...]]:
            self.batches.append(len(rows))
            self.writing += 1
            self.most_writing = max(self.most_writing, self.writing)
            await asyncio.sleep(0.01)
            self.writing -= 1
            return {(row["saleor_api_url"], row["event"], row["order_id"], row["issued_at"]) for row in rows}

        async def close(self) -> None:
            pass

    writer = Slow()
    batcher = DeliveryBatcher(writer, on_recorded=lambda: None)  # type: ignore[arg-type]
    first = asyncio.ensure_future(batcher.record(_event(0)))
    await asyncio.sleep(0)  # the first is being written
    results = await asyncio.gather(first, *(batcher.record(_event(n)) for n in range(1, 10)))
    assert results == [True] * 10
    assert writer.batches == [1, 9]
    assert writer.most_writing == 1
    await batcher.close()

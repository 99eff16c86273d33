"""Wake-ups across processes on PostgreSQL: a delivery stored on another connection wakes one idle
processing loop of a worker at once (its polls are an hour apart here, so nothing else could), and
the listening connection, when dropped, is opened again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.db.repositories.order_events import DeliveryBatcher, delivery_writer
from app.db.wakeups import DeliveryWakeups
from app.domain.ids import SaleorId
from app.domain.installation import Installation
from app.domain.order_event import ReceivedOrderEvent
from app.pipeline.worker import Worker
from app.runtime import Runtime
from tests.builders import NOW, SHOP_API_URL, order_payload

# Far longer than any test waits: a loop that looks did so because it was woken.
NEVER = 3600.0
GIVE_UP = 30.0  # only so that a broken wake-up fails the test instead of hanging it


@pytest.fixture(autouse=True)
def _postgresql_only(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one process storing and working: it wakes its worker in process")


def _event(number: int) -> ReceivedOrderEvent:
    order_id = f"order-{number}"
    return ReceivedOrderEvent(
        saleor_api_url=SHOP_API_URL,
        event="order_created",
        order_id=SaleorId(order_id),
        order_number=str(number),
        issued_at=NOW + timedelta(seconds=number),
        saleor_version=None,
        received_at=NOW,
        payload=json.dumps(order_payload(order_id=order_id, number=str(number))),
    )


@pytest.fixture
async def another_process(runtime: Runtime, installation: Installation) -> AsyncIterator[DeliveryBatcher]:
    """The acknowledge path of another process: its own connection, and no way to wake this one's worker."""
    batcher = DeliveryBatcher(delivery_writer(runtime.engine), on_recorded=lambda: None)
    yield batcher
    await batcher.close()


async def _settled(worker: Worker) -> None:
    """Until no processing loop is in a step or woken to take one."""
    while worker._working or any(waiting.is_set() for waiting in worker._deliveries_waiting):  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # the worker has no event to say so


async def _woken(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), GIVE_UP)
    event.clear()


async def test_a_new_delivery_notifies_once_and_a_redelivery_not_at_all(
    runtime: Runtime, another_process: DeliveryBatcher
) -> None:
    calls: list[int] = []
    woken = asyncio.Event()

    def on_stored() -> None:
        calls.append(1)
        woken.set()

    wakeups = DeliveryWakeups(runtime.settings.database_url, on_stored)
    stop = asyncio.Event()
    listening = asyncio.create_task(wakeups.run(stop))
    await asyncio.wait_for(wakeups.listening.wait(), GIVE_UP)
    await _woken(woken)  # on connecting: what was stored while nobody listened
    calls.clear()

    assert await another_process.record(_event(1))
    await _woken(woken)
    assert not await another_process.record(_event(1))
    assert await another_process.record(_event(2))
    await _woken(woken)
    # Notifications arrive in the order of their commits: the redelivery's would have come before.
    assert calls == [1, 1]
    stop.set()
    await listening


async def test_a_dropped_listening_connection_is_opened_again(
    runtime: Runtime, another_process: DeliveryBatcher
) -> None:
    woken = asyncio.Event()
    wakeups = DeliveryWakeups(runtime.settings.database_url, woken.set, retry_seconds=0.01)
    stop = asyncio.Event()
    listening = asyncio.create_task(wakeups.run(stop))
    await asyncio.wait_for(wakeups.listening.wait(), GIVE_UP)
    await _woken(woken)

    async with runtime.engine.connect() as connection:
        dropped = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN %'"
            )
        )
    assert dropped == 1
    await _woken(woken)  # connected again, it looks for what was stored meanwhile
    assert await another_process.record(_event(1))
    await _woken(woken)
    stop.set()
    await listening


async def test_a_delivery_stored_by_another_process_wakes_one_idle_loop_without_waiting_for_a_poll(
    runtime: Runtime, another_process: DeliveryBatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = Worker(runtime, (), concurrency=2, batch=16, poll_seconds=NEVER)
    assert worker.wakeups is not None
    steps: list[tuple[int, int]] = []  # (loop, deliveries taken), in order
    first_steps = [asyncio.Event(), asyncio.Event()]
    took = asyncio.Event()
    process_due = worker.process_due

    async def recorded(lane: int = 0) -> int:
        taken = await process_due(lane)
        steps.append((lane, taken))
        first_steps[lane].set()
        if taken:
            took.set()
        return taken

    monkeypatch.setattr(worker, "process_due", recorded)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    for event in (*first_steps, worker.wakeups.listening):
        await asyncio.wait_for(event.wait(), GIVE_UP)
    # Connecting woke a loop to look for what was stored meanwhile (the one in a step then, or the
    # first): counted only once that look is over, whichever loop took it.
    await asyncio.wait_for(_settled(worker), GIVE_UP)
    second_loop_steps = [lane for lane, _ in steps].count(1)

    assert await another_process.record(_event(1))
    await asyncio.wait_for(took.wait(), GIVE_UP)
    assert [(lane, taken) for lane, taken in steps if taken] == [(0, 1)]
    assert [lane for lane, _ in steps].count(1) == second_loop_steps  # the other loop slept on
    stop.set()
    await running

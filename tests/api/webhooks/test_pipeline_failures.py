"""What the worker does with a delivery it cannot process."""

import json

from sqlalchemy import select, update

from app.db.models import FraudAssessmentRow, OrderEventRow
from app.domain.installation import Installation
from app.pipeline import fraud
from app.pipeline.processing import Processing, Subscription
from app.pipeline.worker import Worker
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import body_of, order_payload
from tests.conftest import FixedClock


async def _statuses(runtime: Runtime) -> dict[str, tuple[str, int, str | None]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(OrderEventRow.event, OrderEventRow.status, OrderEventRow.attempts, OrderEventRow.last_error)
        )
        return {event: (status, attempts, error) for event, status, attempts, error in rows}


async def test_a_body_that_does_not_parse_fails_at_once_and_the_order_s_later_deliveries_go_on(
    send: Send, runtime: Runtime, installation: Installation
) -> None:
    assert (await send(body=body_of(order_payload()), process=False)).status_code == 200
    # A body the route took but the worker cannot read (stored by an older version, say).
    async with runtime.sessions.begin() as session:
        await session.execute(update(OrderEventRow).values(payload=json.dumps({"order": {"id": 1}})))
    await send("ORDER_UPDATED", body_of(order_payload(typename="OrderUpdated", issuedAt="2026-11-26T12:05:00+00:00")))
    statuses = await _statuses(runtime)
    status, attempts, error = statuses["order_created"]
    assert (status, attempts) == ("failed", 1)
    assert error is not None
    assert "ValidationError" in error
    assert statuses["order_updated"][:2] == ("done", 0)


async def test_a_subscriber_that_fails_is_retried_later_and_holds_back_its_order_s_later_deliveries(
    send: Send, runtime: Runtime, clock: FixedClock, installation: Installation
) -> None:
    attempts = 0

    async def assess_after_a_lock_timeout(processing: Processing) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("the velocity table is locked")
        await fraud.on_creation.handle(processing)

    flaky = Subscription("fraud", frozenset({"order_created"}), assess_after_a_lock_timeout)
    worker = Worker(runtime, [flaky], concurrency=1)
    later = body_of(order_payload(typename="OrderUpdated", issuedAt="2026-11-26T12:05:00+00:00"))
    await send(process=False)
    await send("ORDER_UPDATED", later, process=False)
    await worker.drain()
    statuses = await _statuses(runtime)
    assert statuses["order_created"][:2] == ("pending", 1)
    assert "velocity table is locked" in (statuses["order_created"][2] or "")
    assert statuses["order_updated"][:2] == ("pending", 0)  # waits for the delivery issued before it
    clock.advance(minutes=1)
    await worker.drain()
    assert {status for status, _, _ in (await _statuses(runtime)).values()} == {"done"}
    async with runtime.sessions() as session:
        assert len((await session.scalars(select(FraudAssessmentRow))).all()) == 1

"""Processing stored deliveries: a transaction that dies leaves nothing behind and is done once later;
the deliveries of an order are taken one at a time, in the order Saleor issued them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable
from datetime import datetime
from typing import TypeVar

import pytest
from sqlalchemy import event, func, select

from app.db.models import FraudAssessmentRow, FraudReviewRow, OrderEventRow
from app.pipeline import SUBSCRIPTIONS
from app.pipeline.fraud import FraudReadPerBatch
from app.pipeline.processing import Processing, Subscription
from app.pipeline.worker import Worker
from app.runtime import Runtime
from tests.api.conftest import Send
from tests.builders import body_of, order_payload
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FakeSaleor
from tests.pipeline.orders import Delivery, order_deliveries, order_id
from tests.pipeline.outcome import Miscount, outcome

pytestmark = pytest.mark.usefixtures("installation")
EVERY_EVENT = frozenset({"order_created", "order_fully_paid", "fulfillment_created"})
T = TypeVar("T")


def _worker(runtime: Runtime, *extra: Subscription) -> Worker:
    """The app's capabilities, then ``extra``: it runs after fraud has decided, in the same transaction."""
    return Worker(runtime, (*SUBSCRIPTIONS, *extra), concurrency=1)


async def _store(send: Send, deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        assert (await send(delivery.event, delivery.body, process=False)).json() == {"status": "recorded"}


async def _statements_of(runtime: Runtime, step: Awaitable[T], containing: str) -> tuple[T, list[str]]:
    """What ``step`` returned, and the statements it executed that contain ``containing``."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if containing in statement:
            seen.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", note)
    try:
        return await step, seen
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", note)


async def _deliveries(runtime: Runtime) -> list[tuple[str, str, int]]:
    """(event, status, attempts) of every stored delivery, in issuedAt order."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(OrderEventRow.event, OrderEventRow.status, OrderEventRow.attempts).order_by(
                OrderEventRow.order_id, OrderEventRow.issued_at
            )
        )
        return [(event, status, attempts) for event, status, attempts in rows]


class TestATransactionThatDiesMidway:
    async def test_leaves_no_assessment_and_no_effect_and_the_delivery_is_processed_once_on_the_next_drain(
        self, send: Send, runtime: Runtime, clock: FixedClock, fake_saleor: FakeSaleor
    ) -> None:
        assessed_before_dying: list[int] = []

        async def die_once(processing: Processing) -> None:
            if assessed_before_dying:
                return
            # The assessment and its effect are written in this transaction; then the worker dies.
            count = select(func.count()).select_from(FraudAssessmentRow)
            assessed_before_dying.append(int(await processing.session.scalar(count) or 0))
            raise RuntimeError("the worker died here")

        worker = _worker(runtime, Subscription("dies", frozenset({"order_created"}), die_once))
        await _store(send, order_deliveries(1)[:1])
        await worker.drain()
        assert assessed_before_dying == [1]
        async with runtime.sessions() as session:
            left = await outcome(session)
        assert (left.assessments, left.effects) == ({}, {})
        assert await _deliveries(runtime) == [("order_created", "pending", 1)]
        assert fake_saleor.requests == []

        clock.advance(minutes=1)  # past the retry's backoff
        await worker.drain()
        await worker.drain()
        async with runtime.sessions() as session:
            done = await outcome(session)
        assert done.assessments == {(order_id(1), "created"): 1}
        assert done.effects == {"done": 1}
        assert await _deliveries(runtime) == [("order_created", "done", 1)]
        assert len(fake_saleor.notes[order_id(1)]) == len(fake_saleor.calls("FraudDecision")) == 1

    async def test_cancelled_midway_like_a_killed_worker_leaves_nothing_and_is_taken_again_at_once(
        self, send: Send, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        inside = asyncio.Event()

        async def hang_once(processing: Processing) -> None:
            if not inside.is_set():
                inside.set()
                await asyncio.Event().wait()  # until the task is cancelled

        worker = _worker(runtime, Subscription("hangs", frozenset({"order_created"}), hang_once))
        await _store(send, order_deliveries(1)[:1])
        step = asyncio.create_task(worker.process_next())
        await inside.wait()
        step.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await step
        async with runtime.sessions() as session:
            left = await outcome(session)
        assert (left.assessments, left.effects) == ({}, {})
        # A killed worker records no failed attempt: the delivery is simply due, as it was.
        assert await _deliveries(runtime) == [("order_created", "pending", 0)]

        await worker.drain()
        async with runtime.sessions() as session:
            done = await outcome(session)
        assert done.miscounts([order_id(1)], fake_saleor.notes)["assessments"] == Miscount(lost=1)  # paid: not sent
        assert done.assessments == {(order_id(1), "created"): 1}
        assert fake_saleor.notes[order_id(1)] == [fake_saleor.calls("FraudDecision")[0]["variables"]["note"]]


class TestOrderWithinAnOrder:
    async def test_deliveries_are_processed_in_issued_at_order_even_when_they_arrive_shuffled(
        self, send: Send, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        seen: list[tuple[str, datetime]] = []

        async def note_the_order(processing: Processing) -> None:
            seen.append((processing.delivery.order_id, processing.delivery.issued_at))

        first, second = order_deliveries(1), order_deliveries(2)
        # Each order's deliveries arrive last first, the two orders interleaved.
        arrival = [delivery for pair in zip(reversed(first), reversed(second), strict=True) for delivery in pair]
        await _store(send, arrival)
        await _worker(runtime, Subscription("notes the order", EVERY_EVENT, note_the_order)).drain()
        for order in (first, second):
            taken = [issued for taken_order, issued in seen if taken_order == order[0].order_id]
            assert taken == [delivery.issued_at for delivery in order]
        async with runtime.sessions() as session:
            done = await outcome(session)
        orders = [order_id(1), order_id(2)]
        assert set(done.miscounts(orders, fake_saleor.notes).values()) == {Miscount()}
        assert done.settled

    async def test_a_delivery_waiting_for_its_retry_holds_back_the_later_ones_of_its_order_only(
        self, send: Send, runtime: Runtime, clock: FixedClock, fake_saleor: FakeSaleor
    ) -> None:
        failed: list[str] = []

        async def fail_once_for_the_first_order(processing: Processing) -> None:
            if processing.delivery.order_id == order_id(1) and not failed:
                failed.append(processing.delivery.event)
                raise RuntimeError("not this time")

        worker = _worker(runtime, Subscription("fails", EVERY_EVENT, fail_once_for_the_first_order))
        await _store(send, order_deliveries(1) + order_deliveries(2))
        await worker.drain()
        assert failed == ["order_created"]
        assert await _deliveries(runtime) == [
            ("order_created", "pending", 1),
            ("order_fully_paid", "pending", 0),
            ("fulfillment_created", "pending", 0),
            ("order_created", "done", 0),
            ("order_fully_paid", "done", 0),
            ("fulfillment_created", "done", 0),
        ]
        assert order_id(1) not in fake_saleor.notes

        clock.advance(minutes=1)
        await worker.drain()
        assert {status for _, status, _ in await _deliveries(runtime)} == {"done"}
        assert len(fake_saleor.notes[order_id(1)]) == 3


class TestBatches:
    """Deliveries of different orders processed together, in one transaction (as ``build_worker`` does)."""

    async def test_a_batch_takes_the_head_of_each_order_and_the_orders_go_on_in_issued_order(
        self, send: Send, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        batches: list[list[str]] = []

        async def note_the_batch(processing: Processing) -> None:
            batches[-1].append(processing.delivery.order_id)

        worker = Worker(
            runtime, (*SUBSCRIPTIONS, Subscription("notes", EVERY_EVENT, note_the_batch)), concurrency=1, batch=16
        )
        first, second = order_deliveries(1), order_deliveries(2)
        await _store(send, [*reversed(first), *reversed(second)])
        while True:
            batches.append([])
            if not await worker.process_due():
                break
        assert batches == [[order_id(1), order_id(2)]] * 3 + [[]]
        while await worker.dispatch_due():
            pass
        async with runtime.sessions() as session:
            done = await outcome(session)
        assert set(done.miscounts([order_id(1), order_id(2)], fake_saleor.notes).values()) == {Miscount()}

    async def test_a_delivery_that_fails_rolls_back_its_batch_and_is_then_counted_alone(
        self, send: Send, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        async def fail_the_second_order(processing: Processing) -> None:
            if processing.delivery.order_id == order_id(2):
                raise RuntimeError("the second order cannot be processed")

        worker = Worker(
            runtime,
            (*SUBSCRIPTIONS, Subscription("fails", EVERY_EVENT, fail_the_second_order)),
            concurrency=1,
            batch=16,
        )
        await _store(send, [order_deliveries(n)[0] for n in (1, 2, 3)])
        assert await worker.process_due() == 3  # the batch, rolled back whole
        assert await _deliveries(runtime) == [("order_created", "pending", 0)] * 3
        await worker.drain()
        assert await _deliveries(runtime) == [
            ("order_created", "done", 0),
            ("order_created", "pending", 1),
            ("order_created", "done", 0),
        ]
        async with runtime.sessions() as session:
            done = await outcome(session)
        assert done.assessments == {(order_id(1), "created"): 1, (order_id(3), "created"): 1}
        assert done.effects == {"done": 2}
        assert set(fake_saleor.notes) == {order_id(1), order_id(3)}


class TestBatchesSharingVelocityKeys:
    async def test_two_batches_whose_orders_share_emails_in_opposite_order_both_commit(
        self, send: Send, runtime: Runtime
    ) -> None:
        """Each batch's first order uses the email the other batch's second order uses: locking as each
        order comes deadlocks them (PostgreSQL aborts one, its deliveries go one by one); each batch's keys
        locked in one sorted statement, and released once recorded, make neither wait for the other."""
        if runtime.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer: the second batch waits for the first to commit")
        emails = ("first@example.com", "second@example.com")
        for number, email in enumerate((*emails, *reversed(emails)), start=1):
            body = body_of(order_payload(order_id=order_id(number), number=str(number), userEmail=email))
            assert (await send("ORDER_CREATED", body, process=False)).json() == {"status": "recorded"}
        started = {1: asyncio.Event(), 2: asyncio.Event()}

        def after_the_first_order(batch: int) -> Subscription:
            async def wait_for_the_other_batch(processing: Processing) -> None:
                if processing.delivery.order_id in (order_id(1), order_id(3)):
                    started[batch].set()
                    # Long enough for the other batch to lock its first order's email, if it can.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(started[3 - batch].wait(), timeout=2)

            return Subscription("waits", frozenset({"order_created"}), wait_for_the_other_batch)

        first, second = (
            Worker(runtime, (*SUBSCRIPTIONS, after_the_first_order(batch)), concurrency=1, batch=2) for batch in (1, 2)
        )
        taking = asyncio.create_task(first.process_due())
        await started[1].wait()  # the first batch holds orders 1 and 2; the second takes 3 and 4
        assert list(await asyncio.gather(taking, second.process_due())) == [2, 2]
        assert await _deliveries(runtime) == [("order_created", "done", 0)] * 4

    async def test_a_batch_sharing_an_email_with_one_in_progress_neither_waits_for_it_nor_misses_its_orders(
        self, send: Send, runtime: Runtime
    ) -> None:
        """Three orders from one email within the hour (the limit is two): the first batch takes two and is
        held before its commit; the second, with the third order, goes through meanwhile and counts both."""
        if runtime.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer: the second batch waits for the first to commit")
        for number in (1, 2, 3):
            body = body_of(order_payload(order_id=order_id(number), number=str(number)))
            assert (await send("ORDER_CREATED", body, process=False)).json() == {"status": "recorded"}
        held, release = asyncio.Event(), asyncio.Event()

        async def hold(_: Processing) -> None:
            held.set()
            await release.wait()

        first = Worker(
            runtime, (*SUBSCRIPTIONS, Subscription("holds", frozenset({"order_created"}), hold)), concurrency=1, batch=2
        )
        taking = asyncio.create_task(first.process_due())
        await held.wait()  # the first batch has scored orders 1 and 2, and waits to commit
        second = Worker(runtime, SUBSCRIPTIONS, concurrency=1, batch=2)
        try:
            assert await asyncio.wait_for(second.process_due(), timeout=10) == 1
        finally:
            release.set()
            assert await taking == 2
        async with runtime.sessions() as session:
            rows = await session.execute(select(FraudAssessmentRow.order_id, FraudAssessmentRow.reasons))
            flagged = {
                order: any(reason["code"] == "velocity_email" for reason in json.loads(reasons))
                for order, reasons in rows
            }
        assert flagged == {order_id(1): False, order_id(2): False, order_id(3): True}


class TestCapabilitiesOverABatch:
    async def test_each_capability_after_fraud_reads_every_orders_decision_in_one_query(
        self, send: Send, runtime: Runtime
    ) -> None:
        seen: dict[str, str | None] = {}

        async def read_the_review(processing: Processing) -> None:
            review = await FraudReadPerBatch(processing).review(
                processing.delivery.saleor_api_url, processing.delivery.order_id
            )
            seen[processing.delivery.order_id] = None if review is None else review.status

        worker = Worker(
            runtime,
            (*SUBSCRIPTIONS, Subscription("reads", frozenset({"order_created"}), read_the_review)),
            concurrency=1,
            batch=16,
        )
        await _store(send, [order_deliveries(n)[0] for n in (1, 2, 3)])
        taken, reads_of_reviews = await _statements_of(runtime, worker.process_due(), "FROM fraud_reviews")
        assert taken == 3
        async with runtime.sessions() as session:
            reviews = dict((await session.execute(select(FraudReviewRow.order_id, FraudReviewRow.status))).all())
        # What fraud decided for each order of the batch, as it stands after fraud's turn, not before it.
        assert seen == {order_id(n): reviews.get(order_id(n)) for n in (1, 2, 3)}
        assert any(status is not None for status in seen.values())
        # Fraud, support and the extra capability: one read each for the three orders.
        assert len(reads_of_reviews) == 3

    async def test_the_store_s_order_count_and_usual_value_are_read_once_for_the_batch(
        self, send: Send, runtime: Runtime
    ) -> None:
        """Not once per order: the median of the store's last 500 orders was most of what scoring read."""
        worker = Worker(runtime, SUBSCRIPTIONS, concurrency=1, batch=16)
        await _store(send, [order_deliveries(n)[0] for n in (1, 2, 3)])
        taken, reads_of_the_median = await _statements_of(runtime, worker.process_due(), "row_number() OVER")
        assert taken == 3
        assert len(reads_of_the_median) == 1
        async with runtime.sessions() as session:
            assessed = await session.scalar(select(func.count()).select_from(FraudAssessmentRow))
        assert assessed == 3

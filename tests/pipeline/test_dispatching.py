"""Dispatching effects: a dispatcher that dies mid-call adds nothing twice; Saleor down or busy only
delays them; an order's effects reach Saleor one at a time, in the order they were decided."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db.engine import is_sqlite
from app.db.models import EffectRow
from app.db.repositories.pipeline import SqlEffectOutbox
from app.domain.installation import Installation
from app.pipeline.worker import Worker
from app.runtime import Runtime
from app.services.pipeline import Effect, deliver
from app.services.ports import SaleorGateway
from tests.api.conftest import Send
from tests.conftest import FixedClock
from tests.fakes.fake_saleor import FRAUD_DECISION_OK, FakeSaleor
from tests.pipeline.orders import NOTES_PER_ORDER, order_deliveries, order_id
from tests.pipeline.outcome import outcome

pytestmark = pytest.mark.usefixtures("installation")
WRITES = ("FraudDecision", "RecordCogs")
LEASE = timedelta(seconds=60)


async def _processed(send: Send, worker: Worker, *orders: int, events: int = 3) -> None:
    """The orders' first ``events`` deliveries stored and processed; their effects not yet sent."""
    for number in orders:
        for delivery in order_deliveries(number)[:events]:
            await send(delivery.event, delivery.body, process=False)
    while await worker.process_next():
        pass


async def _effects(runtime: Runtime) -> list[tuple[str, int]]:
    """(status, attempts) of every effect, in the order they were decided."""
    async with runtime.sessions() as session:
        rows = await session.execute(select(EffectRow.status, EffectRow.attempts).order_by(EffectRow.id))
        return [(status, attempts) for status, attempts in rows]


def _written_notes(fake_saleor: FakeSaleor, order: str) -> list[str]:
    """The notes the app asked Saleor to add to the order, every attempt counted, taken or not."""
    return [
        request["variables"]["note"]
        for request in fake_saleor.requests
        if request.get("operationName") in WRITES and request["variables"]["order"] == order
    ]


class TestADispatcherThatDies:
    @pytest.mark.parametrize(
        "saleor_took_it",
        [pytest.param(True, id="after-saleor-took-the-effect"), pytest.param(False, id="before-its-call-left")],
    )
    async def test_its_effect_is_sent_again_once_the_lease_ends_and_no_note_is_added_twice(
        self,
        send: Send,
        worker: Worker,
        runtime: Runtime,
        clock: FixedClock,
        fake_saleor: FakeSaleor,
        installation: Installation,
        saleor_took_it: bool,
    ) -> None:
        await _processed(send, worker, 1, events=1)
        async with runtime.sessions.begin() as session:
            (claimed,) = await SqlEffectOutbox(session).claim(clock.now(), lease=LEASE, limit=10)
        if saleor_took_it:
            saleor = runtime.saleor.gateway(installation.saleor_api_url, installation.token, max_attempts=1)
            await deliver(claimed, saleor)
        # The dispatcher dies here, before it records what happened.
        clock.advance(seconds=LEASE.total_seconds() - 1)
        await worker.drain()
        assert len(fake_saleor.calls("FraudDecision")) == (1 if saleor_took_it else 0)  # still its own

        clock.advance(seconds=2)
        await worker.drain()
        (note,) = {call["variables"]["note"] for call in fake_saleor.calls("FraudDecision")}
        assert fake_saleor.notes[order_id(1)] == [note]
        assert len(fake_saleor.calls("FraudDecision")) == 1
        assert len(fake_saleor.calls("OrderNotes")) == 1  # the second attempt looked before writing
        assert await _effects(runtime) == [("done", 2)]


class TestSaleorDownOrBusy:
    async def test_down_for_an_hour_the_effects_back_off_then_arrive_once_each_in_order(
        self, send: Send, worker: Worker, runtime: Runtime, clock: FixedClock, fake_saleor: FakeSaleor
    ) -> None:
        back_at = clock.now() + timedelta(hours=1)
        fake_saleor.refuse = lambda body: httpx.Response(503) if clock.now() < back_at else None
        await _processed(send, worker, 1, 2)
        await worker.drain()
        for _ in range(200):  # to each next attempt: the drain before did all that was due
            upcoming = EffectRow.status == "pending", EffectRow.next_attempt_at > clock.now()
            async with runtime.sessions() as session:
                due = await session.scalar(select(func.min(EffectRow.next_attempt_at)).where(*upcoming))
            if due is None:
                break
            clock.current = due
            await worker.drain()

        async with runtime.sessions() as session:
            done = await outcome(session)
        assert done.effects == {"done": 2 * NOTES_PER_ORDER}
        for order in (order_id(1), order_id(2)):
            notes = fake_saleor.notes[order]
            assert len(set(notes)) == len(notes) == NOTES_PER_ORDER
            # Every attempt at an effect came before any attempt at the next one of its order.
            assert [note for note, _ in itertools.groupby(_written_notes(fake_saleor, order))] == notes
        attempts = [attempts for _, attempts in await _effects(runtime)]
        first_of_each_order = [attempts[0], attempts[NOTES_PER_ORDER]]
        # An hour of refusals, retried with waits that grew (2 s doubling to 30 min): a dozen or so
        # attempts each, where a fixed 2 s would have made 1,800.
        assert all(3 <= n < 30 for n in first_of_each_order), first_of_each_order

    async def test_a_429_is_retried_no_sooner_than_its_retry_after(
        self, send: Send, worker: Worker, runtime: Runtime, clock: FixedClock, fake_saleor: FakeSaleor
    ) -> None:
        busy = iter([httpx.Response(429, headers={"Retry-After": "120"})])
        fake_saleor.refuse = lambda body: next(busy, None)
        refused_at = clock.now()
        await _processed(send, worker, 1, events=1)
        await worker.drain()
        async with runtime.sessions() as session:
            waiting = (await session.scalars(select(EffectRow))).one()
        assert waiting.status == "pending"
        assert waiting.next_attempt_at >= refused_at + timedelta(seconds=120)

        clock.advance(seconds=119)
        await worker.drain()
        assert len(fake_saleor.calls("FraudDecision")) == 1
        clock.advance(seconds=1)
        await worker.drain()
        assert len(fake_saleor.calls("FraudDecision")) == 2
        assert len(fake_saleor.notes[order_id(1)]) == 1
        assert await _effects(runtime) == [("done", 2)]

    async def test_a_400_from_an_error_raised_while_saleor_executed_is_retried_not_failed(
        self, send: Send, worker: Worker, runtime: Runtime, clock: FixedClock, fake_saleor: FakeSaleor
    ) -> None:
        # Saleor's GraphQL view answers 400 for any exception raised while it executes a valid document
        # (its cache or database gone for a moment), not only for a document it will never accept; the
        # answer cannot tell them apart, so the effect waits and is tried again.
        cache_down = iter(
            [httpx.Response(400, json={"errors": [{"message": "Error 111 connecting to redis. Connection refused."}]})]
        )
        fake_saleor.refuse = lambda body: next(cache_down, None)
        await _processed(send, worker, 1, events=1)
        await worker.drain()
        assert await _effects(runtime) == [("pending", 1)]

        clock.advance(hours=1)
        await worker.drain()
        assert len(fake_saleor.notes[order_id(1)]) == 1
        assert await _effects(runtime) == [("done", 2)]


class TestOneOrderAtATime:
    async def test_an_orders_effects_go_one_at_a_time_in_order_even_when_all_are_due(
        self, send: Send, worker: Worker, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        await _processed(send, worker, 1)
        await _processed(send, worker, 2, events=1)
        assert await _effects(runtime) == [("pending", 0)] * 4  # three of the first order, one of the second: all due

        sent: list[list[int]] = []
        for _ in range(4):
            await worker.dispatch_due()
            sent.append([len(fake_saleor.notes[order_id(n)]) for n in (1, 2)])
        assert sent == [[1, 1], [2, 1], [3, 1], [3, 1]]
        assert [note for note, _ in itertools.groupby(_written_notes(fake_saleor, order_id(1)))] == fake_saleor.notes[
            order_id(1)
        ]

    async def test_two_dispatchers_at_once_never_send_two_effects_of_one_order(
        self,
        send: Send,
        worker: Worker,
        runtime: Runtime,
        fake_saleor: FakeSaleor,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        if is_sqlite(settings.database_url):
            pytest.skip("on SQLite one process runs the only dispatcher; dispatchers share work on PostgreSQL")
        await _processed(send, worker, 1, 2)
        other = Worker(runtime, (), concurrency=4)
        # The other dispatcher runs a whole round while the first has claimed its effects and is about to
        # send them (not merely beside it: which of two gathered rounds claims first is the event loop's).
        other_round: list[asyncio.Task[int]] = []
        deliver = worker._deliver

        async def other_round_first(
            effect: Effect, saleor: SaleorGateway | None, in_flight: asyncio.Semaphore
        ) -> object:
            if not other_round:
                other_round.append(asyncio.create_task(other.dispatch_due()))
            await other_round[0]
            return await deliver(effect, saleor, in_flight)

        monkeypatch.setattr(worker, "_deliver", other_round_first)
        assert await worker.dispatch_due() == 2  # the first effect of each order
        assert other_round[0].result() == 0  # the orders' next effects wait for these
        assert [len(fake_saleor.notes[order_id(n)]) for n in (1, 2)] == [1, 1]


class TestARoundOfOneStore:
    """A round's effects of one store share a few requests (four in flight for a dispatcher of concurrency
    4, which claims up to 16) within Saleor's 4 mutations a document, and each effect's outcome is its own."""

    async def test_fraud_decisions_that_release_nothing_go_two_to_a_request_and_each_is_recorded(
        self, send: Send, worker: Worker, runtime: Runtime, fake_saleor: FakeSaleor
    ) -> None:
        """A fraud decision is 3 mutations, its release skipped or not (Saleor counts it): two would be
        refused (3.20.118 on). Without the release it leaves out, it is 2, and two share a request."""
        await _processed(send, worker, *range(1, 9), events=1)

        assert await Worker(runtime, (), concurrency=4).dispatch_due() == 8

        sent = [json.loads(call.request.content) for call in fake_saleor.graphql_route.calls]
        assert [body["operationName"] for body in sent] == ["FraudDecision_FraudDecision"] * 4
        assert not any("orderConfirm" in body["query"] for body in sent)
        assert await _effects(runtime) == [("done", 1)] * 8
        assert all(len(fake_saleor.notes[order_id(n)]) == 1 for n in range(1, 9))
        assert all(fake_saleor.metadata[order_id(n)] for n in range(1, 9))

    @pytest.mark.parametrize(
        "refusal",
        [
            pytest.param({}, id="with-its-code"),
            # Saleor's answer for an order deleted meanwhile: OrderNoteAddErrorCode has no NOT_FOUND, so
            # the note's code comes back null with a GraphQL error at its path. Still final: not retried.
            pytest.param(
                {
                    "note_code": None,
                    "errors": [
                        {
                            "message": 'Expected a value of type "OrderNoteAddErrorCode" but received: not_found',
                            "path": ["orderNoteAdd", "errors", 0, "code"],
                        }
                    ],
                },
                id="its-code-unshowable",
            ),
        ],
    )
    async def test_an_effect_saleor_refuses_fails_alone(
        self, send: Send, worker: Worker, runtime: Runtime, fake_saleor: FakeSaleor, refusal: dict[str, Any]
    ) -> None:
        def refuse_the_third(body: dict[str, Any]) -> dict[str, Any]:
            if body["variables"]["order"] != order_id(3):
                return FRAUD_DECISION_OK
            message = "Couldn't resolve to a node: " + order_id(3)
            metadata = {"errors": [{"field": "id", "message": message, "code": "NOT_FOUND"}]}
            note = {"errors": [{"field": "id", "message": message, "code": refusal.get("note_code", "NOT_FOUND")}]}
            answer: dict[str, Any] = {
                "data": {"updatePrivateMetadata": metadata, "orderNoteAdd": note, "orderConfirm": None}
            }
            if "errors" in refusal:
                answer["errors"] = refusal["errors"]
            return answer

        fake_saleor.on("FraudDecision", refuse_the_third)
        await _processed(send, worker, *range(1, 9), events=1)

        await Worker(runtime, (), concurrency=4).dispatch_due()

        assert await _effects(runtime) == [("done", 1)] * 2 + [("failed", 1)] + [("done", 1)] * 5
        assert [len(fake_saleor.notes[order_id(n)]) for n in range(1, 9)] == [1, 1, 0, 1, 1, 1, 1, 1]

    async def test_effects_sent_again_look_for_their_notes_together_and_add_none_twice(
        self,
        send: Send,
        worker: Worker,
        runtime: Runtime,
        clock: FixedClock,
        fake_saleor: FakeSaleor,
        installation: Installation,
    ) -> None:
        await _processed(send, worker, *range(1, 9), events=1)
        async with runtime.sessions.begin() as session:
            claimed = await SqlEffectOutbox(session).claim(clock.now(), lease=LEASE, limit=10)
        saleor = runtime.saleor.gateway(installation.saleor_api_url, installation.token, max_attempts=1)
        for effect in claimed[:4]:
            await deliver(effect, saleor)  # Saleor took these; then the dispatcher died before recording it
        before = fake_saleor.graphql_route.call_count
        clock.advance(seconds=LEASE.total_seconds() + 1)

        await Worker(runtime, (), concurrency=4).dispatch_due()

        assert await _effects(runtime) == [("done", 2)] * 8
        assert all(len(fake_saleor.notes[order_id(n)]) == 1 for n in range(1, 9))
        sent = [json.loads(call.request.content)["operationName"] for call in fake_saleor.graphql_route.calls][before:]
        assert sent.count("OrderNotes_OrderNotes") == 4  # each effect looked first, two to a request
        assert len(sent) < len(fake_saleor.requests[4:])  # fewer requests than calls, the writes too

"""``kill -9`` of real ``saleor-ops`` processes on PostgreSQL, at the moments that matter, loses nothing
and doubles nothing; two workers share the work; SIGTERM lets a worker finish its step.

A fake Saleor runs in a thread of the test; the app runs in subprocesses, as in production. Skipped
when no PostgreSQL answers (TEST_DATABASE_URL's server, else 127.0.0.1:5432).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import create_engine
from tests.fakes.saleor_server import Hold, SaleorServer
from tests.fakes.saleor_signer import SaleorSigner
from tests.pipeline import processes
from tests.pipeline.orders import Delivery, order_deliveries, order_id
from tests.pipeline.outcome import Miscount, Outcome
from tests.pipeline.processes import AppProcess

pytestmark = pytest.mark.processes
LOCAL_POSTGRESQL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
EXACTLY_ONCE = {"assessments": Miscount(), "ledger issues": Miscount(), "notes in Saleor": Miscount()}


@pytest.fixture(scope="module")
def postgresql() -> Iterator[str]:
    """A database of this module's own on the PostgreSQL server the suite uses."""
    named = os.environ.get("TEST_DATABASE_URL", "")
    server = named if named.startswith("postgresql") else LOCAL_POSTGRESQL

    async def reachable() -> str | None:
        engine = create_engine(server)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # whatever the driver says, the reason to skip
            return f"{type(exc).__name__}: {exc}"
        finally:
            await engine.dispose()
        return None

    unreachable = asyncio.run(reachable())
    if unreachable is not None:
        pytest.skip(f"needs PostgreSQL, and {make_url(server).render_as_string()} is unreachable ({unreachable})")
    with processes.fresh_database(server, f"{make_url(server).database}_processes_{os.getpid()}") as url:
        yield url


@dataclass
class Stack:
    """The app's processes for one test, the store they serve and the fake Saleor it stands on."""

    database_url: str
    saleor: SaleorServer
    signer: SaleorSigner
    folder: Path
    started: list[AppProcess] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return processes.settings_for(self.database_url, self.folder)

    def worker(self, name: str = "worker", *flags: str) -> AppProcess:
        self.started.append(processes.worker(self.folder, self.env, name, *flags))
        return self.started[-1]

    def serve(self, port: int, *, workers: int) -> AppProcess:
        self.started.append(processes.serve(self.folder, self.env, port, workers=workers))
        return self.started[-1]

    def serving_two(self, port: int) -> tuple[processes.AppProcess, list[int]]:
        """``serve --workers 2`` answering on ``port``, and its web processes."""
        web = self.serve(port, workers=2)
        asyncio.run(processes.wait_healthy(f"http://127.0.0.1:{port}"))
        return web, web.web_processes()

    def store(self, deliveries: list[Delivery]) -> None:
        asyncio.run(processes.store(self.database_url, self.saleor.api_url, deliveries))

    def signed(self, deliveries: list[Delivery]) -> list[processes.SignedDelivery]:
        return processes.signed(deliveries, self.signer, self.saleor.api_url)

    def post(self, base_url: str, deliveries: list[processes.SignedDelivery]) -> list[processes.SignedDelivery]:
        return asyncio.run(processes.post(base_url, deliveries))

    def settled(self, *, within: float = 30) -> Outcome:
        return asyncio.run(processes.settled(self.database_url, within=within))

    def outcome(self) -> Outcome:
        return asyncio.run(processes.current(self.database_url))

    def until(self, condition: Callable[[], bool], *, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the condition never held")
            time.sleep(0.05)


@pytest.fixture
def stack(postgresql: str, tmp_path: Path) -> Iterator[Stack]:
    signer = SaleorSigner(0)
    with SaleorServer(signer).serving() as saleor:
        asyncio.run(processes.reset(postgresql, signer, saleor.api_url))
        made = Stack(postgresql, saleor, signer, tmp_path)
        try:
            yield made
        finally:
            for process in made.started:
                process.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _asking_health(web: processes.AppProcess, port: int, *, connections: int) -> Iterator[set[int]]:
    """``connections`` connections, each answered 200 by /health and held open; yields their client ports."""
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(socket.create_connection(("127.0.0.1", port))) for _ in range(connections)]
        for connection in opened:
            connection.settimeout(processes.STARTING_SECONDS)  # a process being replaced imports the app first
            connection.sendall(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        for connection in opened:
            try:
                assert connection.recv(65536).startswith(b"HTTP/1.1 200 ")
            except TimeoutError:
                client = connection.getsockname()[1]
                holders = {pid: client in processes.held_on(pid, port).clients for pid in web.web_processes()}
                pytest.fail(f"client port {client} unanswered; held by web process: {holders}\n{web.output()[-4000:]}")
        yield {int(connection.getsockname()[1]) for connection in opened}


def _dead(pid: int) -> bool:
    """Gone, or a zombie its parent has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _orders(*numbers: int) -> list[Delivery]:
    return [delivery for number in numbers for delivery in order_deliveries(number)]


class TestServeAndWorkers:
    def test_two_web_processes_without_a_worker_store_and_a_worker_beside_them_processes(self, stack: Stack) -> None:
        port = _free_port()
        web = stack.serve(port, workers=2)
        base_url = f"http://127.0.0.1:{port}"
        asyncio.run(processes.wait_healthy(base_url))
        assert len(web.web_processes()) == 2
        deliveries = _orders(1, 2, 3)
        assert stack.post(base_url, stack.signed(deliveries + deliveries[:4])) == []  # redeliveries answered too
        time.sleep(1)  # no worker runs in the web processes: nothing is processed
        assert stack.outcome().deliveries == {"pending": len(deliveries)}

        worker = stack.worker("worker", "--concurrency", "2")
        assert "2 at a time" in worker.output()
        done = stack.settled()
        assert done.deliveries == {"done": len(deliveries)}
        assert done.miscounts(map(order_id, (1, 2, 3)), stack.saleor.notes_now()) == EXACTLY_ONCE
        assert worker.stop() == 0
        assert "worker stopped" in worker.output()
        assert web.stop() == 0

    def test_each_web_process_accepts_on_a_socket_of_its_own_and_one_killed_gets_its_socket_back(
        self, stack: Stack
    ) -> None:
        port = _free_port()
        web, (first, second) = stack.serving_two(port)
        # A socket listens once its process has started (the first to start answered /health).
        stack.until(
            lambda: all(processes.held_on(pid, port).listening for pid in (first, second)),
            within=processes.STARTING_SECONDS,
        )
        listening = {pid: processes.held_on(pid, port).listening for pid in (first, second)}
        assert [len(each) for each in listening.values()] == [1, 1]
        assert listening[first] != listening[second]

        with _asking_health(web, port, connections=16) as asked:
            accepted = {pid: processes.held_on(pid, port).clients & asked for pid in (first, second)}
        assert all(accepted.values())  # the kernel spread the connections over both processes
        assert accepted[first] | accepted[second] == asked

        os.kill(first, signal.SIGKILL)
        stack.until(lambda: _dead(first))
        # Asked while it is dead: those the kernel puts on its socket wait there for its replacement.
        with _asking_health(web, port, connections=16) as asked:
            (replacement,) = set(web.web_processes()) - {second}
            held = processes.held_on(replacement, port)
        assert held.listening == listening[first]
        assert held.clients & asked
        assert web.stop() == 0

    def test_a_web_process_killed_while_the_supervisor_waits_for_its_answer_is_replaced_at_once(
        self, stack: Stack
    ) -> None:
        port = _free_port()
        web, (first, second) = stack.serving_two(port)
        os.kill(first, signal.SIGSTOP)  # it cannot answer: the supervisor, asking every 0.5 s, waits for it
        time.sleep(1.5)
        os.kill(first, signal.SIGKILL)
        # Not after the health check's timeout (60 s): the connections queued on its socket wait until then.
        stack.until(lambda: len(set(web.web_processes()) - {first, second}) == 1, within=10)
        assert web.stop() == 0

    def test_a_worker_stopped_mid_call_finishes_its_step_and_exits_0(self, stack: Stack) -> None:
        stack.saleor.hold = lambda body: "before" if body["operationName"] == "FraudDecision" else None
        stack.store(order_deliveries(1)[:1])
        worker = stack.worker()
        stack.until(lambda: stack.saleor.held == 1)
        assert worker.process is not None
        worker.process.send_signal(signal.SIGTERM)  # while its call to Saleor is under way
        time.sleep(0.5)
        assert worker.process.poll() is None  # still finishing the step
        stack.saleor.release()
        assert worker.process.wait(timeout=30) == 0
        assert stack.outcome().effects == {"done": 1}
        assert len(stack.saleor.notes_now()[order_id(1)]) == stack.saleor.count("FraudDecision") == 1


class TestKill9:
    def test_mid_processing_rolls_the_transaction_back_and_the_next_worker_processes_the_delivery_once(
        self, stack: Stack
    ) -> None:
        stack.store(order_deliveries(1)[:1])

        async def killed_while_blocked() -> None:
            engine = create_engine(stack.database_url)
            try:
                async with engine.connect() as holder:
                    # The worker's transaction will have stored names, and wait here to store the
                    # assessment: provably in the middle.
                    await holder.execute(text("LOCK TABLE fraud_assessments IN SHARE MODE"))
                    worker = stack.worker("killed")
                    for _ in range(600):
                        if await processes.backends_waiting_for_a_lock(stack.database_url):
                            break
                        await asyncio.sleep(0.05)
                    else:
                        raise TimeoutError("the worker never reached the assessment")
                    worker.kill()
                    await holder.rollback()
            finally:
                await engine.dispose()

        asyncio.run(killed_while_blocked())
        left = stack.outcome()
        assert (left.deliveries, left.assessments, left.effects) == ({"pending": 1}, {}, {})
        # The order's email, kept for velocity in a transaction of its own before the batch's: kept once.
        assert asyncio.run(processes.rows(stack.database_url, "fraud_velocity")) == 1
        stack.worker("restarted")
        done = stack.settled()
        assert asyncio.run(processes.rows(stack.database_url, "fraud_velocity")) == 1
        assert done.deliveries == {"done": 1}
        assert done.assessments == {(order_id(1), "created"): 1}
        assert stack.saleor.count("FraudDecision") == len(stack.saleor.notes_now()[order_id(1)]) == 1

    def test_mid_call_sends_the_effect_again_after_the_lease_and_adds_no_note_twice(self, stack: Stack) -> None:
        # Order 1's write reaches Saleor and the answer never returns; order 2's never reaches it.
        def hold(body: dict[str, Any]) -> Hold | None:
            if body["operationName"] != "FraudDecision":
                return None
            return "after" if body["variables"]["order"] == order_id(1) else "before"

        stack.saleor.hold = hold
        stack.store(order_deliveries(1)[:1] + order_deliveries(2)[:1])
        killed = stack.worker("killed")
        stack.until(lambda: stack.saleor.held == 2)
        killed.kill()
        stack.saleor.release()
        stack.worker("restarted")
        done = stack.settled()
        assert done.effects == {"done": 2}
        notes = stack.saleor.notes_now()
        assert (len(notes[order_id(1)]), len(notes[order_id(2)])) == (1, 1)
        assert stack.saleor.count("OrderNotes") == 2  # each second attempt looked first

    def test_at_random_moments_of_the_web_processes_and_the_worker_lose_and_double_nothing(self, stack: Stack) -> None:
        rng = random.Random(11)
        stack.saleor.latency = (0.0, 0.03)  # calls in flight when a kill comes
        deliveries = _orders(*range(1, 21))
        arrivals = deliveries + rng.sample(deliveries, len(deliveries) * 3 // 10)  # 30 % redelivered
        rng.shuffle(arrivals)
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        web = stack.serve(port, workers=1)
        asyncio.run(processes.wait_healthy(base_url))
        worker = stack.worker("worker-1")

        async def post_and_kill_the_web_process_midway() -> list[processes.SignedDelivery]:
            kill_after, midway = rng.randrange(5, len(arrivals) // 2), asyncio.Event()

            def heard(count: int) -> None:
                if count >= kill_after:
                    midway.set()

            posting = asyncio.create_task(
                processes.post(base_url, stack.signed(arrivals), connections=4, on_acknowledged=heard)
            )
            await asyncio.wait([posting, asyncio.create_task(midway.wait())], return_when=asyncio.FIRST_COMPLETED)
            web.kill()
            return await posting

        unacknowledged = asyncio.run(post_and_kill_the_web_process_midway())
        assert 0 < len(unacknowledged) < len(arrivals)
        for round_ in range(2):  # the worker, killed at a random moment of its work, twice
            kill_at = self._progress(stack) + rng.randrange(1, 20)
            # A fast worker may finish what was stored before that moment: then it dies idle.
            stack.until(lambda: self._progress(stack) >= kill_at or self._idle(stack))  # noqa: B023 - used at once
            worker.kill()
            worker = stack.worker(f"worker-{round_ + 2}")
        web = stack.serve(port, workers=1)
        asyncio.run(processes.wait_healthy(base_url))
        assert stack.post(base_url, unacknowledged) == []  # Saleor sends again what got no 2xx

        done = stack.settled(within=60)
        orders = {delivery.order_id for delivery in deliveries}
        assert done.deliveries == {"done": len(deliveries)}
        assert done.effects == {"done": 3 * len(orders)}
        assert done.miscounts(orders, stack.saleor.notes_now()) == EXACTLY_ONCE

    @staticmethod
    def _idle(stack: Stack) -> bool:
        """Nothing stored is waiting or on its way."""
        now = stack.outcome()
        return set(now.deliveries) <= {"done", "failed"} and set(now.effects) <= {"done", "failed"}

    @staticmethod
    def _progress(stack: Stack) -> int:
        """Deliveries processed and effects delivered so far."""
        now = stack.outcome()
        return now.deliveries.get("done", 0) + now.effects.get("done", 0)


class TestTwoWorkers:
    def test_share_the_deliveries_and_lose_or_double_none(self, stack: Stack) -> None:
        # Both are up before the work arrives: under load, one that started first could finish it
        # all while the other was still importing.
        first, second = stack.worker("first"), stack.worker("second")
        deliveries = _orders(*range(1, 41))
        random.Random(5).shuffle(deliveries)
        stack.store(deliveries)
        done = stack.settled(within=60)
        orders = {delivery.order_id for delivery in deliveries}
        assert done.deliveries == {"done": len(deliveries)}
        assert done.miscounts(orders, stack.saleor.notes_now()) == EXACTLY_ONCE
        # Both took part (each logs what it delivered).
        assert all("effect delivered" in w.output() for w in (first, second))

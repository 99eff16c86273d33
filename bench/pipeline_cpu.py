"""The order pipeline's worker CPU per order, in this process: processing, then dispatching.

On a throwaway PostgreSQL database (127.0.0.1:5432, user ``postgres``, dropped after): ``--warmup``
ORDER_CREATED deliveries are stored and processed untimed (caches, prepared statements, the store's
first history), then ``--orders`` more are stored and one worker (``build_worker``, as ``saleor-ops
worker`` builds it) processes them all (CPU per order: processing), then delivers every effect they
left to a Saleor that answers at once inside this process through ``httpx.MockTransport`` (CPU per
order: dispatching, without the sockets). Nothing else of the pipeline runs beside it, so the figures
are the worker's code, not the machine's contention: the bench to compare changes with.
``--standin`` dispatches instead to ``bench.pipeline_processing``'s Saleor stand-in, in a process of
its own, through the app's own HTTP client (sockets, connection pool): dispatching as production pays it.

    .venv/bin/python -m bench.pipeline_cpu [--orders 1500] [--warmup 200] [--rounds 3] [--profile] [--standin]
    .venv/bin/python -m bench.pipeline_cpu --against /path/to/other/checkout --rounds 3

``--against`` runs each round twice, alternately with this checkout's ``app`` and the other one's
(in subprocesses, the bench's own code from this checkout), and reports min / median of both: on a
shared, loaded machine only figures taken side by side compare. ``--profile`` prints cProfile's
top 20 functions (by own time) of the processing. ``--statements`` prints the statements of the
processing that took the most time, per order: from the driver's call to its answer (PostgreSQL's
work and the round trip), one worker alone, so it is where PostgreSQL's time per order goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 2.0


@dataclasses.dataclass(frozen=True, slots=True)
class Round:
    processing_ms: float  # CPU per order
    dispatching_ms: float
    statements: float  # per order processed: the engine's and those run on the driver's connection itself


def answer(request: httpx.Request) -> httpx.Response:
    """Saleor, answering every write-back of a decision at once."""
    from bench.pipeline_processing import saleor_answer

    return httpx.Response(200, json=saleor_answer(json.loads(request.content)))


class StatementTimes:
    """Wall time per statement text, from the driver's call to its answer (``--statements``)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def listen(self, engine: Any) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def remove(self, engine: Any) -> None:
        from sqlalchemy import event

        event.remove(engine, "before_cursor_execute", self._before)
        event.remove(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_: object) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, _cursor: object, statement: str, *_: object) -> None:
        self.record(statement, time.perf_counter() - conn.info["bench_started"].pop())

    def record(self, statement: str, took: float) -> None:
        self.times.setdefault(" ".join(statement.split()), []).append(took)

    def print_top(self, orders: int, top: int = 12) -> None:
        print(f"statements of the processing by time per order (of {orders:,} orders):")
        ranked = sorted(self.times.items(), key=lambda item: -sum(item[1]))
        for statement, times in ranked[:top]:
            print(f"  {sum(times) / orders * 1000:6.3f} ms  {len(times) / orders:5.2f}x  {statement[:110]}")
        print(f"  {sum(map(sum, self.times.values())) / orders * 1000:6.3f} ms in all")


@contextlib.contextmanager
def driver_statements_seen(seen: Callable[[str, float], None]) -> Iterator[None]:
    """``seen`` told of each statement run on asyncpg's connection itself (``app.db.driver``), with its
    wall time from the call to its answer: SQLAlchemy's events, which count the others, never see them."""
    try:
        from app.db.driver import DriverStatement
    except ImportError:  # a checkout from before them (``--against``)
        yield
        return
    fetch = DriverStatement.fetch

    async def seen_fetch(self: Any, session: Any, params: Any) -> Any:
        started = time.perf_counter()
        try:
            return await fetch(self, session, params)
        finally:
            seen(self._compiled.sql if self._compiled else "(not compiled)", time.perf_counter() - started)

    DriverStatement.fetch = seen_fetch  # type: ignore[method-assign]
    try:
        yield
    finally:
        DriverStatement.fetch = fetch  # type: ignore[method-assign]


async def measure(
    url: str, data_dir: Path, orders: int, warmup: int, profile: bool, standin: str | None, statements_timed: bool
) -> Round:
    from sqlalchemy import event

    from app.db.repositories.order_events import SqlOrderEventLog
    from app.domain.ids import SaleorApiUrl, SaleorId
    from app.domain.order_event import ReceivedOrderEvent
    from app.pipeline.build import build_worker
    from app.runtime import Runtime
    from bench.harness import bench_settings, build_deliveries, seed
    from tests.fakes.saleor_signer import SaleorSigner

    api_url = f"{standin}/graphql/" if standin else "https://shop.test/graphql/"
    signer = SaleorSigner(0)
    settings = bench_settings(url, data_dir)
    await seed(settings, signer, api_url)
    # With a stand-in, the app's own HTTP client as production builds it; otherwise no sockets at all.
    runtime = Runtime.build(
        settings, http=None if standin else httpx.AsyncClient(transport=httpx.MockTransport(answer))
    )
    worker = build_worker(runtime)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    async def store(first: int, count: int) -> None:
        async with runtime.sessions.begin() as session:
            log = SqlOrderEventLog(session)
            for body, _ in build_deliveries(signer, count, api_url, first=first):
                order = json.loads(body)
                await log.record(
                    ReceivedOrderEvent(
                        saleor_api_url=SaleorApiUrl(api_url),
                        event="order_created",
                        order_id=SaleorId(order["order"]["id"]),
                        order_number=order["order"]["number"],
                        issued_at=runtime.clock.now(),
                        saleor_version=None,
                        received_at=runtime.clock.now(),
                        payload=body.decode(),
                    )
                )

    async def process_all() -> None:
        while await worker.process_due():
            pass

    async def dispatch_all() -> None:
        while await worker.dispatch_due():
            pass

    try:
        await store(0, warmup)
        await process_all()
        await dispatch_all()
        await store(warmup, orders)
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
        timed = StatementTimes() if statements_timed else None
        if timed:
            timed.listen(runtime.engine.sync_engine)

        def seen(statement: str, took: float) -> None:
            count()
            if timed:
                timed.record(statement, took)

        profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not waiting
        with driver_statements_seen(seen):
            start = time.process_time()
            if profiler:
                profiler.enable()
            await process_all()
            if profiler:
                profiler.disable()
            processing = time.process_time() - start
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
        if timed:
            timed.remove(runtime.engine.sync_engine)
            timed.print_top(orders)
        start = time.process_time()
        await dispatch_all()
        dispatching = time.process_time() - start
        if profiler:
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)
    finally:
        await runtime.close()
    return Round(processing / orders * 1000, dispatching / orders * 1000, statements / orders)


def worker_loop_run(main: Coroutine[Any, Any, Round]) -> Round:
    """Run ``main`` on the event loop ``saleor-ops worker`` runs on in the checkout measured."""
    try:
        from app.event_loop import run
    except ImportError:  # a checkout from before the worker ran on uvloop (``--against``): asyncio's own
        return asyncio.run(main)
    return run(main)


def one_round(args: argparse.Namespace) -> Round:
    from bench.harness import python_server, throwaway_postgresql, wait_healthy

    with tempfile.TemporaryDirectory(prefix="saleor-ops-cpu-") as folder, contextlib.ExitStack() as stack:
        standin = None
        if args.standin:
            code = "from bench.pipeline_processing import serve_standin; serve_standin({port})"
            standin = stack.enter_context(python_server(code, {}, Path(folder) / "standin.log"))
            asyncio.run(wait_healthy("stand-in", standin))
        database = f"saleor_ops_cpu_{os.getpid()}"
        with throwaway_postgresql(database) as url:
            return worker_loop_run(
                measure(url, Path(folder), args.orders, args.warmup, args.profile, standin, args.statements)
            )


def in_subprocess(tree: Path, args: argparse.Namespace) -> Round:
    """A round with ``tree``'s ``app`` (and ``tests``' builders), this checkout's bench code."""
    code = (
        f"import sys; sys.path[:0] = [{str(tree)!r}]; import app, tests; sys.path.insert(0, {str(ROOT)!r}); "
        "from bench.pipeline_cpu import main; sys.exit(main())"
    )
    command = [sys.executable, "-c", code, "--json", "--orders", str(args.orders), "--warmup", str(args.warmup)]
    command += ["--standin"] if args.standin else []
    command += ["--statements"] if args.statements else []
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the round with {tree} failed:\n{done.stderr[-3000:]}")
    *printed, result = done.stdout.strip().splitlines()
    if printed:  # --statements: its table, ahead of the round's figures
        print(f"{tree}:", *printed, sep="\n")
    return Round(**json.loads(result))


def summary(name: str, rounds: list[Round]) -> str:
    def spread(values: list[float]) -> str:
        ordered = sorted(values)
        return f"{ordered[0]:.2f} / {ordered[len(ordered) // 2]:.2f} ms"

    return (
        f"  {name}: processing {spread([r.processing_ms for r in rounds])}, "
        f"dispatching {spread([r.dispatching_ms for r in rounds])} (min / median), "
        f"{rounds[0].statements:.1f} statements per order processed"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_500, help="orders measured per round")
    parser.add_argument("--warmup", type=int, default=200, help="orders processed first, untimed")
    parser.add_argument("--rounds", type=int, default=1, help="rounds, each on a fresh database")
    parser.add_argument("--against", type=Path, help="another checkout, measured alternately with this one")
    parser.add_argument("--profile", action="store_true", help="cProfile's top 20 of the processing")
    parser.add_argument(
        "--standin", action="store_true", help="dispatch over loopback sockets to a stand-in in a process of its own"
    )
    parser.add_argument(
        "--statements", action="store_true", help="the processing's statements by time per order (this checkout)"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one round, for --against
    args = parser.parse_args()

    if args.json:
        print(json.dumps(dataclasses.asdict(one_round(args))))
        return 0
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    trees = [ROOT, args.against.resolve()] if args.against else [ROOT]
    results: dict[Path, list[Round]] = {tree: [] for tree in trees}
    for n in range(args.rounds):
        for tree in trees if n % 2 == 0 else trees[::-1]:  # neither always goes first
            result = in_subprocess(tree, args) if args.against else one_round(args)
            results[tree].append(result)
            print(
                f"round {n + 1} {tree}: processing {result.processing_ms:.2f} ms, "
                f"dispatching {result.dispatching_ms:.2f} ms per order, {result.statements:.1f} statements",
                flush=True,
            )
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"\nWorker CPU per order, {args.orders:,} ORDER_CREATED after {args.warmup} untimed, one worker in process:")
    for tree, rounds in results.items():
        print(summary(str(tree), rounds))
    total = min(r.processing_ms for r in results[ROOT]) + min(r.dispatching_ms for r in results[ROOT])
    print(f"  this checkout, processing + dispatching (min): {total:.2f} ms   target <= {TARGET_MS:g} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

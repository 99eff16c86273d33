"""Where one worker process's CPU and database round trips go, for ``bench.pipeline_processing
--profile-worker``.

The worker process profiles itself between two signals from the bench: SIGUSR1 starts a cProfile
(timed with the process's CPU clock, so waiting counts nothing) and counts of the round trips its
asyncpg connections make; SIGUSR2 stops both and writes them beside each other (``PATH.prof``,
``PATH.json``). Each round trip is counted against the worker's step it was made in: processing or
dispatching, and whether that step found work or came back empty (an idle poll). The bench then
reads them back and prints the CPU of each part per order.
"""

from __future__ import annotations

import contextvars
import cProfile
import functools
import json
import pstats
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from app.pipeline.worker import Worker

# The step a round trip is made in, and what it made so far (a step's tasks share it).
_STEP: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar("bench_step", default=None)


def _count_round_trips(totals: Counter[str], enabled: Callable[[], bool]) -> None:
    """Count every call of asyncpg's Python methods that each make one round trip (an execute of a
    prepared statement, a prepare, a simple query such as BEGIN or COMMIT, the pool's ping)."""
    from asyncpg.connection import Connection
    from asyncpg.prepared_stmt import PreparedStatement

    def counted(cls: type, name: str, kind: str) -> None:
        method = getattr(cls, name)

        @functools.wraps(method)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if enabled():
                what = kind
                if kind == "query" and args and isinstance(args[0], str):
                    what = f"query {args[0].split()[0].upper() if args[0].split() else '?'}"
                step = _STEP.get()
                (step if step is not None else totals)[what] += 1
            return await method(self, *args, **kwargs)

        setattr(cls, name, wrapper)

    counted(Connection, "execute", "query")
    counted(Connection, "fetchrow", "ping or fetchrow")
    counted(Connection, "prepare", "prepare")
    for name in ("fetch", "fetchrow", "fetchval", "executemany"):
        counted(PreparedStatement, name, "prepared statement")


class WorkerProfile:
    """Installed in a worker process before it runs; answers the bench's signals."""

    def __init__(self, worker: Worker, path: Path) -> None:
        self._path = path
        self._profiler: cProfile.Profile | None = None
        self._trips: dict[str, Counter[str]] = {}
        self._done: Counter[str] = Counter()
        self._empty_at: list[float] = []  # when processing steps came back empty, and the last that did not
        self._last_batch_at = 0.0
        self._cpu_start = 0.0
        _count_round_trips(self._bucket("outside a step"), lambda: self._profiler is not None)
        worker.process_due = self._step("processing", worker.process_due)  # type: ignore[method-assign]
        worker.dispatch_due = self._step("dispatching", worker.dispatch_due)  # type: ignore[method-assign]

    def _bucket(self, name: str) -> Counter[str]:
        return self._trips.setdefault(name, Counter())

    def _step(self, name: str, step: Callable[..., Awaitable[int]]) -> Callable[..., Coroutine[Any, Any, int]]:
        async def counted(*args: Any) -> int:
            trips: Counter[str] = Counter()
            token = _STEP.set(trips)
            try:
                done = await step(*args)
            finally:
                _STEP.reset(token)
            if self._profiler is not None:
                self._bucket(f"{name}, {'found work' if done else 'came back empty'}").update(trips)
                self._done[name] += done
                self._done[f"{name} steps"] += 1
                if name == "processing":
                    if done:
                        self._last_batch_at = time.monotonic()
                        self._done["processing batches"] += 1
                    else:
                        self._empty_at.append(time.monotonic())
            return done

        return counted

    def install(self, loop: Any) -> None:
        """Answer the signals from now on, and say so (before, SIGUSR1 would end the process)."""
        loop.add_signal_handler(signal.SIGUSR1, self.start)
        loop.add_signal_handler(signal.SIGUSR2, self.stop)
        self._path.with_suffix(".ready").touch()

    def start(self) -> None:
        for bucket in self._trips.values():
            bucket.clear()
        self._done.clear()
        self._empty_at.clear()
        self._cpu_start = time.process_time()
        self._profiler = cProfile.Profile(time.process_time)
        self._profiler.enable()

    def stop(self) -> None:
        profiler, self._profiler = self._profiler, None
        if profiler is None:
            return
        profiler.disable()
        cpu = time.process_time() - self._cpu_start
        profiler.dump_stats(self._path.with_suffix(".prof"))
        self._done["processing steps empty amid work"] = sum(1 for at in self._empty_at if at < self._last_batch_at)
        summary = {
            "cpu_seconds": cpu,
            "done": dict(self._done),
            "round_trips": {k: dict(v) for k, v in self._trips.items()},
        }
        written = self._path.with_suffix(".part")
        written.write_text(json.dumps(summary))
        written.rename(self._path.with_suffix(".json"))  # whole when the bench sees it


def report(path: Path) -> None:
    """Print what the worker process wrote: round trips per order by step, and the functions that took
    the most CPU of their own. (cProfile's cumulative times do not add up for coroutines, which leave
    and re-enter their frames at every await: for shares by part, sample the process with a
    profiler that reads whole stacks, such as py-spy.)"""
    summary = json.loads(path.with_suffix(".json").read_text())
    orders = summary["done"].get("processing", 0) or 1
    cpu = summary["cpu_seconds"]
    print(
        f"\nOne worker profiled: {orders:,} orders processed, {summary['done'].get('dispatching', 0):,} effects "
        f"dispatched, {summary['done'].get('processing steps', 0):,} processing and "
        f"{summary['done'].get('dispatching steps', 0):,} dispatching steps; {cpu:.2f} s CPU, "
        f"{cpu / orders * 1000:.2f} ms per order (the profiler's cost included)"
    )
    empty = summary["done"].get("processing steps", 0) - summary["done"].get("processing batches", 0)
    amid = summary["done"].get("processing steps empty amid work", 0)
    print(f"  processing steps that came back empty: {empty:,}, {amid:,} of them before this worker's last batch")
    print("  round trips to PostgreSQL per order, by step:")
    for bucket, trips in summary["round_trips"].items():
        if trips:
            detail = ", ".join(f"{kind} {count / orders:.2f}" for kind, count in sorted(trips.items()))
            print(f"    {bucket:<34} {sum(trips.values()) / orders:.2f}   ({detail})")
    print("  top 25 functions by own CPU:")
    pstats.Stats(str(path.with_suffix(".prof"))).sort_stats("tottime").print_stats(25)

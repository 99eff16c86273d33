"""What a web bench's slowest requests are made of (``--diagnose``).

Inside each web process, ``ServerDiagnosis`` wraps the ASGI app and records, on the clock of
``time.perf_counter`` (CLOCK_MONOTONIC on Linux, the same in every process, so the load client's
timestamps line up with the server's):

- each cycle collection (``gc.callbacks``): when, how long, which generation;
- the event loop's lateness (``LoopWatcher``): each wake-up of a task sleeping ``LOOP_TICK_SECONDS``
  that comes more than ``LATE_SECONDS`` late, with how the loop's thread spent the time: running
  (its CPU time) or runnable but waiting for a core (the kernel's run delay); what is neither is
  time blocked in a system call (or the loop idle);
- each request's time inside the app, from the ASGI call to the last byte of its answer, and each
  SQL statement and new database connection.

The bench fetches them at ``DIAGNOSIS_PATH`` after its passes. The load client watches its own loop
the same way, notes when each of its requests began and which process served it, and reads each
process's scheduler figures around each pass (``/proc/<pid>/schedstat``, involuntary switches).
``describe_pass`` then splits the slowest 1 % of a pass (and, to compare, the requests around the
median) into the time their process waited for a core, ran, or collected garbage, and the time the
client waited for a core.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.harness import percentile

DIAGNOSIS_PATH = "/__bench/diagnosis"
LOOP_TICK_SECONDS = 0.001
LATE_SECONDS = 0.002


class LoopWatcher:
    """Notes each time this process's event loop wakes a sleeping task more than ``LATE_SECONDS`` late,
    and what the loop's thread did meanwhile: ran (CPU time), waited for a core (the scheduler's run
    delay, ``/proc/thread-self/schedstat``), or neither (blocked in a system call, or the loop idle)."""

    def __init__(self) -> None:
        self.late_ticks: list[tuple[float, float, float, float]] = []  # due, seconds late, on CPU, waiting
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        try:
            while True:
                due = time.perf_counter() + LOOP_TICK_SECONDS
                cpu, waited = time.thread_time(), _run_delay(schedstat)
                await asyncio.sleep(LOOP_TICK_SECONDS)
                late = time.perf_counter() - due
                if late > LATE_SECONDS:
                    self.late_ticks.append((due, late, time.thread_time() - cpu, _run_delay(schedstat) - waited))
        finally:
            os.close(schedstat)


def _run_delay(schedstat: int) -> float:
    return int(os.pread(schedstat, 100, 0).split()[1]) / 1e9


class ServerDiagnosis:
    """The app, with what makes a request slow noted as it serves (see the module's docstring)."""

    def __init__(self, app: ASGIApp, engine: AsyncEngine) -> None:
        self.app = app
        self.collections: list[tuple[float, float, int, int]] = []  # start, seconds, generation, collected
        self.loop = LoopWatcher()
        self.requests: list[tuple[float, float]] = []  # start, seconds in the app
        self.statements: list[tuple[float, float, str]] = []  # start, seconds, the SQL's beginning
        self.connects: list[float] = []  # when the pool opened a database connection
        self._collection_began = 0.0
        self._executing: dict[int, float] = {}
        gc.callbacks.append(self._on_collection)
        event.listen(engine.sync_engine, "before_cursor_execute", self._before_statement)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after_statement)
        event.listen(engine.sync_engine.pool, "connect", lambda *_: self.connects.append(time.perf_counter()))

    def _before_statement(self, _connection: Any, cursor: Any, *_: Any) -> None:
        self._executing[id(cursor)] = time.perf_counter()

    def _after_statement(self, _connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        began = self._executing.pop(id(cursor), time.perf_counter())
        self.statements.append((began, time.perf_counter() - began, " ".join(statement.split())[:60]))

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._collection_began = now
        else:
            began = self._collection_began
            self.collections.append((began, now - began, info["generation"], info["collected"]))

    def _figures(self) -> bytes:
        return json.dumps(
            {
                "collections": self.collections,
                "late_ticks": self.loop.late_ticks,
                "requests": self.requests,
                "statements": self.statements,
                "connects": self.connects,
            }
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.loop.start()
        if scope["path"] == DIAGNOSIS_PATH:
            body = self._figures()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        start = time.perf_counter()

        async def timed(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.requests.append((start, time.perf_counter() - start))

        await self.app(scope, receive, timed)


@dataclass(frozen=True)
class Schedule:
    """A process's scheduler figures (``/proc/<pid>/schedstat``), in seconds, and its context switches."""

    on_cpu: float
    waiting: float
    involuntary_switches: int

    @classmethod
    def of(cls, pid: int | str) -> Schedule:
        try:
            on_cpu, waiting, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return cls(0.0, 0.0, 0)
        switches = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("nonvoluntary"))
        return cls(int(on_cpu) / 1e9, int(waiting) / 1e9, switches)

    def __sub__(self, other: Schedule) -> Schedule:
        return Schedule(
            self.on_cpu - other.on_cpu,
            self.waiting - other.waiting,
            self.involuntary_switches - other.involuntary_switches,
        )


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """Every process's command name and CPU seconds so far (user + system), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = tail.split()
        found[int(entry.name)] = (head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / ticks)
    return found


def others_cpu(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], ours: set[int]
) -> dict[str, float]:
    """CPU seconds by command name of the processes other than ``ours`` between the two readings."""
    spent: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        if pid not in ours:
            spent[name] = spent.get(name, 0.0) + seconds - before.get(pid, (name, 0.0))[1]
    return {name: seconds for name, seconds in spent.items() if seconds > 0}


@dataclass(frozen=True)
class TimedRequest:
    """A request as the load client saw it."""

    begin: float
    seconds: float
    process: int


def describe_pass(
    number: int,
    requests: list[TimedRequest],
    window: tuple[float, float],
    schedules: dict[int | str, Schedule],
    figures: dict[int, dict[str, Any]],
    client_ticks: Sequence[Sequence[float]],
    others: dict[str, float],
) -> list[str]:
    """What the pass's slowest 1 % of requests overlapped, and what each process went through meanwhile."""
    begin, end = window
    seconds = end - begin
    ordered = sorted(request.seconds for request in requests)
    p99 = percentile(ordered, 99)
    slow = [request for request in requests if request.seconds >= p99]
    lines = [
        f"  pass {number}: {len(requests)} requests in {seconds:.2f} s, p50 {percentile(ordered, 50) * 1000:.2f} "
        f"p95 {percentile(ordered, 95) * 1000:.2f} p99 {p99 * 1000:.2f} ms ({len(slow)} at or over it)"
    ]
    for who, schedule in schedules.items():
        count = sum(1 for request in requests if request.process == who) or len(requests)
        lines.append(
            f"    {who}: on a core {schedule.on_cpu / seconds:.0%} of the pass, runnable but waiting for one "
            f"{schedule.waiting * 1000:.0f} ms ({schedule.waiting / count * 1000:.2f} ms per request), "
            f"{schedule.involuntary_switches} involuntary switches"
        )
    busiest = sorted(others.items(), key=lambda item: -item[1])[:5]
    lines.append(
        f"    the machine's other processes: {sum(others.values()) / seconds:.0%} of a core; busiest "
        + ", ".join(f"{name} {spent / seconds:.0%}" for name, spent in busiest)
    )
    for process, figure in sorted(figures.items()):
        collections = [c for c in figure["collections"] if begin <= c[0] <= end]
        by_generation = {g: [c[1] for c in collections if c[2] == g] for g in (0, 1, 2)}
        gc_text = ", ".join(
            f"gen{g} {len(pauses)} × (total {sum(pauses) * 1000:.1f}, max {max(pauses, default=0) * 1000:.2f} ms)"
            for g, pauses in by_generation.items()
        )
        late = [t for t in figure["late_ticks"] if begin <= t[0] <= end]
        in_app = sorted(r[1] for r in figure["requests"] if begin <= r[0] <= end) or [0.0]
        lines.append(f"    process {process}: collections {gc_text}")
        lines.append(f"      {_lateness(late)}")
        lines.append(
            f"      time in the app per request: p50 {percentile(in_app, 50) * 1000:.2f} "
            f"p99 {percentile(in_app, 99) * 1000:.2f} max {in_app[-1] * 1000:.2f} ms"
        )
    lines += _slow_overlaps(requests, slow, figures, client_ticks, seconds, begin)
    lines += _worst_moment(max(requests, key=lambda request: request.seconds), figures, begin)
    return lines


def _worst_moment(worst: TimedRequest, figures: dict[int, dict[str, Any]], pass_began: float) -> list[str]:
    """What the slowest request's process did while it waited (ms from the pass's start)."""
    figure = figures.get(worst.process)
    if figure is None:
        return []
    begin, end = worst.begin - 0.005, worst.begin + worst.seconds

    def at(moment: float) -> str:
        return f"{(moment - pass_began) * 1000:.1f}"

    events: list[tuple[float, str]] = []
    events += [
        (c[0], f"gen{c[2]} collection {c[1] * 1000:.2f} ms") for c in figure["collections"] if begin <= c[0] <= end
    ]
    events += [
        (
            t[0],
            f"loop tick {t[1] * 1000:.1f} ms late: on CPU {t[2] * 1000:.1f}, waiting for a core {t[3] * 1000:.1f} ms",
        )
        for t in figure["late_ticks"]
        if begin <= t[0] + t[1] and t[0] <= end
    ]
    events += [(s[0], f"SQL {s[1] * 1000:.2f} ms: {s[2]}") for s in figure["statements"] if begin <= s[0] <= end]
    events += [(c, "the pool opened a connection") for c in figure["connects"] if begin <= c <= end]
    events += [
        (r[0], f"request {r[1] * 1000:.2f} ms in the app")
        for r in figure["requests"]
        if begin <= r[0] <= end and r[1] > 0.005
    ]
    lines = [
        f"    slowest request: process {worst.process}, {at(worst.begin)} → {at(end)} ms "
        f"({worst.seconds * 1000:.1f} ms); its process meanwhile:"
    ]
    lines += [f"      {at(moment)}: {text}" for moment, text in sorted(events)]
    return lines


def _lateness(late: Sequence[Sequence[float]]) -> str:
    """The late ticks' lateness, and how the loop's thread spent those ticks (each its sleep and lateness)."""
    total = sum(t[1] for t in late)
    spent = total + len(late) * LOOP_TICK_SECONDS
    cpu, waiting = sum(t[2] for t in late), sum(t[3] for t in late)
    return (
        f"loop late > {LATE_SECONDS * 1000:g} ms: {len(late)} times, {total * 1000:.0f} ms late in all, max "
        f"{max((t[1] for t in late), default=0) * 1000:.1f} ms; of those ticks' {spent * 1000:.0f} ms: on CPU "
        f"{cpu * 1000:.0f}, waiting for a core {waiting * 1000:.0f}, neither {(spent - cpu - waiting) * 1000:.0f}"
    )


def describe_client(late: Sequence[Sequence[float]], window: tuple[float, float]) -> str:
    """The load client's loop over the pass ``window``."""
    return f"    client: {_lateness([t for t in late if window[0] <= t[0] <= window[1]])}"


def _overlap(start: float, seconds: float, begin: float, end: float) -> float:
    """How long [start, start + seconds] and [begin, end] share."""
    return max(0.0, min(start + seconds, end) - max(start, begin))


def _made_of(
    group: list[TimedRequest], figures: dict[int, dict[str, Any]], client_ticks: Sequence[Sequence[float]]
) -> str:
    """The mean request of ``group``: its latency, and the parts of it during which its process collected
    garbage, or (in loop ticks late over ``LATE_SECONDS``) ran or waited for a core, and the client waited
    for one (a tick's CPU and waiting prorated by how much of the tick the request spans)."""
    collecting = server_cpu = server_waiting = client_waiting = 0.0
    for request in group:
        begin, end = request.begin, request.begin + request.seconds
        figure = figures.get(request.process, {"collections": [], "late_ticks": []})
        collecting += sum(_overlap(c[0], c[1], begin, end) for c in figure["collections"])
        for due, late, cpu, waiting in figure["late_ticks"]:
            share = _overlap(due - LOOP_TICK_SECONDS, LOOP_TICK_SECONDS + late, begin, end) / (LOOP_TICK_SECONDS + late)
            server_cpu += share * cpu
            server_waiting += share * waiting
        for due, late, _, waiting in client_ticks:
            share = _overlap(due - LOOP_TICK_SECONDS, LOOP_TICK_SECONDS + late, begin, end) / (LOOP_TICK_SECONDS + late)
            client_waiting += share * waiting
    count = len(group) or 1
    latency = sum(request.seconds for request in group) / count
    return (
        f"{latency * 1000:.1f} ms, of which its process: waiting for a core {server_waiting / count * 1000:.1f}, "
        f"running {server_cpu / count * 1000:.1f}, collecting {collecting / count * 1000:.2f}; "
        f"the client waiting for a core {client_waiting / count * 1000:.1f}"
    )


def _slow_overlaps(
    requests: list[TimedRequest],
    slow: list[TimedRequest],
    figures: dict[int, dict[str, Any]],
    client_ticks: Sequence[Sequence[float]],
    seconds: float,
    begin: float,
) -> list[str]:
    ordered = sorted(requests, key=lambda request: request.seconds)
    middle = ordered[int(len(ordered) * 0.45) : int(len(ordered) * 0.55)]
    # Clustering: the slow requests' start times in 50 ms bins of the pass.
    bins: dict[int, int] = {}
    for request in slow:
        key = int((request.begin - begin) / 0.05)
        bins[key] = bins.get(key, 0) + 1
    crowded = sorted(bins.items(), key=lambda item: -item[1])[:5]
    by_process: dict[int, int] = {}
    for request in slow:
        by_process[request.process] = by_process.get(request.process, 0) + 1
    return [
        f"    the mean request of the slowest 1 %: {_made_of(slow, figures, client_ticks)}",
        f"    the mean request of p45-p55:        {_made_of(middle, figures, client_ticks)}",
        f"    slowest 1 % by process {by_process}; began in {len(bins)} of {int(seconds / 0.05) + 1} 50-ms bins, "
        "the most crowded (start ms: count): " + ", ".join(f"{key * 50}: {count}" for key, count in crowded),
    ]

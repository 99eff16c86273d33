"""The order pipeline: orders fully processed per second, CPU per order, and delivery-to-write-back latency.

On a throwaway PostgreSQL database (127.0.0.1:5432, user ``postgres``, dropped after), with:

- the app's acknowledge path (``app.main:create_app`` under uvicorn, 2 processes,
  ``APP_WORKER_IN_PROCESS=false``), which signed ORDER_CREATED deliveries are POSTed to;
- ``--workers`` worker processes (``build_worker(Runtime.build(settings))`` and ``worker.run(stop)`` on
  the event loop ``saleor-ops worker`` runs on, each), which score and cost every order and deliver its effects;
- a Saleor stand-in in a process of its own that answers every mutation at once and notes when each
  order's fraud decision (metadata, note, release) arrived.

1. **Throughput**: ``--orders`` deliveries are stored with the workers stopped; then the workers start
   and the clock runs until every delivery is processed and every effect delivered. Orders/s, and the
   CPU the worker processes spent per order (PostgreSQL's and the stand-in's are shown beside it).
   With ``--history N``, N earlier orders of the same customers are processed first, untimed, and the
   database analyzed: without them the tables start empty and without statistics, and PostgreSQL plans
   the per-order reads as for empty tables (reading a store's whole velocity window, say). With
   ``--after-quiet-spell`` the statistics are taken while the batch waits outside the queue, so they
   see none waiting, as production's do when a burst follows a quiet spell. The orders come from
   ``--customers`` customers in turn (500): with few, orders processed side by side share velocity keys.
2. **Latency**: with the workers running, deliveries are POSTed at ``--rate`` orders/s for
   ``--seconds``; each one's latency runs from the start of its POST to its write-back arriving at the
   stand-in (both clocks are the machine's monotonic clock). ``--breakdown`` also says where it
   goes, from timestamps the database keeps (marked by triggers the bench adds to its throwaway
   database): the acknowledgement (the POST), the wait before a worker claims the delivery, its
   processing (from the batch's start to its "processed" update; the commit is in the next
   stage), the wait before a dispatcher claims the fraud decision, and its dispatch.

``--profile-worker`` runs the first worker of the throughput run under cProfile and counts its round
trips to PostgreSQL (``bench.worker_profile``): CPU per order by part of the worker (processing,
the dispatcher's claim, HTTP calls and outcomes, sessions, the event loop) and round trips per order
by step, idle polls apart.

    .venv/bin/python -m bench.pipeline_processing [--orders N] [--history N [--after-quiet-spell]] [--customers 500]
        [--workers 2] [--rate 100] [--seconds 20] [--breakdown] [--profile-worker]

Targets (issue 11): >= 450 orders/s, <= 2 ms of CPU per order, p50 < 100 ms and p99 < 1 s at 100 orders/s.
Exits non-zero only when something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from graphql import FieldNode, OperationDefinitionNode, parse

from app import event_loop
from app.config import Settings
from app.pipeline.build import build_worker
from app.runtime import Runtime
from bench import worker_profile
from bench.harness import (
    ORDER_CREATED_PATH,
    Connection,
    Delivery,
    app_environment,
    bench_settings,
    build_deliveries,
    drive,
    percentile,
    process,
    psql,
    python_server,
    seed,
    throwaway_postgresql,
    wait_healthy,
)
from bench.servers import app_processes, cpu_seconds_with_reaped, postgresql_cpu_seconds
from bench.worker_profile import WorkerProfile
from tests.fakes.saleor_signer import SaleorSigner

# What the stand-in answers for each root field it knows: every write taken, no order noted yet.
_FIELD_ANSWERS: dict[str, object] = {
    "updatePrivateMetadata": {"errors": []},
    "orderNoteAdd": {"errors": []},
    "orderConfirm": {"errors": []},
    "orderCancel": {"order": None, "errors": []},
    "order": {"events": []},
}


@lru_cache(maxsize=256)
def _root_fields(query: str) -> tuple[tuple[str, str], ...]:
    """(response key, field name) of each root field of the document's operation."""
    operation = next(d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode))
    return tuple(
        ((field.alias or field.name).value, field.name.value)
        for field in operation.selection_set.selections
        if isinstance(field, FieldNode)
    )


def saleor_answer(body: dict[str, Any]) -> dict[str, object]:
    """Saleor answering at once, field by field: one operation or a batch of them (``BatchingGraphQLClient``)."""
    fields = _root_fields(body.get("query", ""))
    unknown = [name for _, name in fields if name not in _FIELD_ANSWERS]
    if unknown:
        return {"errors": [{"message": f"unexpected fields {unknown}"}]}
    return {"data": {key: _FIELD_ANSWERS[name] for key, name in fields}}


def written_orders(body: dict[str, Any]) -> list[str]:
    """The orders whose fraud decision the request carries (a batch's parts are named ``A_B``, variables ``p0_``)."""
    names = str(body.get("operationName", "")).split("_")
    variables = body.get("variables") or {}
    prefixes = [""] if len(names) == 1 else [f"p{index}_" for index in range(len(names))]
    return [
        variables[prefix + "order"] for name, prefix in zip(names, prefixes, strict=True) if name == "FraudDecision"
    ]


def standin_app() -> FastAPI:
    """Answers every write-back at once; ``GET /arrivals`` says when each order's fraud decision arrived."""
    arrivals: dict[str, float] = {}

    async def graphql(request: Request) -> JSONResponse:
        body = await request.json()
        for order in written_orders(body):
            arrivals.setdefault(order, time.monotonic())
        return JSONResponse(saleor_answer(body))

    async def health() -> dict[str, str]:
        return {"status": "ok"}

    async def arrived() -> dict[str, float]:
        return arrivals

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/arrivals", arrived, methods=["GET"])
    app.add_api_route("/graphql/", graphql, methods=["POST"])
    return app


def serve_standin(port: int) -> None:
    uvicorn.run(standin_app(), host="127.0.0.1", port=port, access_log=False, log_level="warning")


def run_worker() -> None:
    """Entry point of a worker process: Settings from APP_*, until SIGTERM."""

    async def work() -> None:
        runtime = Runtime.build(Settings())
        worker = build_worker(runtime)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        if profile_to := os.environ.get("BENCH_PROFILE_WORKER"):
            WorkerProfile(worker, Path(profile_to)).install(asyncio.get_running_loop())
        try:
            await worker.run(stop)
        finally:
            await runtime.close()

    event_loop.run(work())  # the loop ``saleor-ops worker`` runs on


@contextmanager
def workers(count: int, env: dict[str, str], tmp: Path, profile_to: Path | None = None) -> Iterator[list[int]]:
    """``count`` worker processes; yields their pids. With ``profile_to``, the first profiles itself
    between SIGUSR1 and SIGUSR2 (``bench.worker_profile``)."""
    with ExitStack() as stack:
        pids = []
        for i in range(count):
            command = [sys.executable, "-c", "from bench.pipeline_processing import run_worker; run_worker()"]
            own = {"BENCH_PROFILE_WORKER": str(profile_to)} if profile_to and i == 0 else {}
            pids.append(stack.enter_context(process(f"worker {i}", command, {**env, **own}, tmp / f"worker-{i}.log")))
        yield pids


def pipeline_counts(database: str) -> tuple[int, int]:
    """Deliveries processed, and effects not yet delivered (waiting, being sent or failed)."""
    done, open_effects = psql(
        "SELECT (SELECT count(*) FROM order_events WHERE status = 'done'), "
        "(SELECT count(*) FROM effects WHERE status <> 'done')",
        database,
    ).split("|")
    return int(done), int(open_effects)


def states(database: str) -> str:
    """Deliveries and effects by status, with one of their errors: why a run did not finish."""
    return psql(
        "SELECT 'delivery', status, count(*), max(attempts), left(min(last_error), 300) FROM order_events "
        "GROUP BY status UNION ALL SELECT 'effect', status, count(*), max(attempts), left(min(last_error), 300) "
        "FROM effects GROUP BY status",
        database,
    )


async def arrivals(standin_url: str) -> dict[str, float]:
    connection = await Connection.open(standin_url)
    try:
        status, body = await connection.request("GET", "/arrivals", {})
    finally:
        connection.close()
    assert status == 200, status
    result: dict[str, float] = json.loads(body)
    return result


def throughput(
    args: argparse.Namespace,
    tmp: Path,
    app_url: str,
    database: str,
    env: dict[str, str],
    batch: list[Delivery],
    history: list[Delivery],
) -> None:
    history_ends = _stored(app_url, database, history)
    _stored(app_url, database, batch)
    print(f"\nThroughput: {len(batch):,} stored deliveries released to {args.workers} idle workers")
    if history:
        analyzed = "with none waiting, as after a quiet spell" if args.after_quiet_spell else "with the batch waiting"
        print(f"  (after the store's history: {len(history):,} earlier orders processed, then ANALYZE {analyzed})")
    profile_to = tmp / "worker-0-profile" if args.profile_worker else None
    with workers(args.workers, env, tmp, profile_to) as pids:
        time.sleep(args.settle)
        if history:
            # A store's history, as production has it: its rows, and the statistics its plans are made from.
            psql(f"UPDATE order_events SET next_attempt_at = now() WHERE id <= {history_ends}", database)
            _processed(args, database, len(history))
            if args.after_quiet_spell:
                # Statistics taken while the burst waits outside the queue see none waiting, as after a
                # quiet spell: a backlog then builds faster than autovacuum analyzes it.
                psql("UPDATE order_events SET status = 'held' WHERE status = 'pending'", database)
                psql("ANALYZE", database)
                psql("UPDATE order_events SET status = 'pending' WHERE status = 'held'", database)
            else:
                psql("ANALYZE", database)
        if profile_to:
            _wait_for(profile_to.with_suffix(".ready"))
            os.kill(pids[0], signal.SIGUSR1)
        worker_before, database_before = cpu_seconds_with_reaped(pids), postgresql_cpu_seconds()
        start = time.perf_counter()
        psql("UPDATE order_events SET next_attempt_at = now() WHERE status = 'pending'", database)
        _processed(args, database, len(history) + len(batch))
        seconds = time.perf_counter() - start
        worker_cpu = cpu_seconds_with_reaped(pids) - worker_before
        if profile_to:
            os.kill(pids[0], signal.SIGUSR2)
            _wait_for(profile_to.with_suffix(".json"))
    database_cpu = postgresql_cpu_seconds() - database_before
    per_order_ms = worker_cpu / len(batch) * 1000
    rate = len(batch) / seconds
    print(f"  {len(batch):,} orders in {seconds:.2f} s: {rate:,.0f} orders/s   target >= 450: {_verdict(rate >= 450)}")
    print(
        f"  worker CPU {worker_cpu:.2f} s: {per_order_ms:.2f} ms per order   target <= 2 ms: "
        f"{_verdict(per_order_ms <= 2)}   (PostgreSQL: {database_cpu / len(batch) * 1000:.2f} ms per order)"
    )
    if profile_to:
        print("  (the first worker ran under cProfile: its CPU above is inflated by the profiler's)")
        worker_profile.report(profile_to)


def _stored(app_url: str, database: str, deliveries: list[Delivery]) -> int:
    """``deliveries`` stored through the acknowledge path and held back, so that neither the workers'
    start nor the storing is timed; the last delivery's id."""
    if deliveries:
        latencies, errors = asyncio.run(
            drive(app_url, ORDER_CREATED_PATH, deliveries, 16, time.perf_counter() + 300, b"recorded")
        )
        if errors:
            raise RuntimeError(f"{errors} of {len(latencies)} deliveries were not recorded")
        psql("UPDATE order_events SET next_attempt_at = '2100-01-01' WHERE status = 'pending'", database)
    return int(psql("SELECT coalesce(max(id), 0) FROM order_events", database))


def _processed(args: argparse.Namespace, database: str, count: int) -> None:
    """Until ``count`` deliveries are processed and every effect delivered."""
    start = time.perf_counter()
    while True:
        time.sleep(0.1)
        done, open_effects = pipeline_counts(database)
        if done >= count and open_effects == 0:
            return
        if time.perf_counter() - start > args.time_limit:
            raise RuntimeError(f"only {done} of {count} processed within {args.time_limit:.0f} s; {states(database)}")


def _wait_for(path: Path, seconds: float = 60) -> None:
    """Until the profiled worker wrote ``path``."""
    deadline = time.perf_counter() + seconds
    while not path.exists():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the profiled worker did not write {path.name} within {seconds:.0f} s")
        time.sleep(0.1)


# The moments the database marks for ``--breakdown``: a delivery processed, an effect claimed.
MARKS = """
CREATE TABLE bench_marks (mark text, id bigint, at timestamptz);
CREATE FUNCTION bench_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO bench_marks VALUES (TG_ARGV[0], NEW.id, clock_timestamp()); RETURN NEW; END $$;
CREATE TRIGGER bench_processed AFTER UPDATE OF status ON order_events FOR EACH ROW
    WHEN (NEW.status = 'done' AND OLD.status <> 'done') EXECUTE FUNCTION bench_mark('processed');
CREATE TRIGGER bench_claimed AFTER UPDATE OF status ON effects FOR EACH ROW
    WHEN (NEW.status = 'sending' AND OLD.status = 'pending') EXECUTE FUNCTION bench_mark('claimed');
"""
# Per order, in seconds since the epoch: its batch's start, its "processed" update, its fraud decision's claim.
MARKED = """
SELECT o.order_id, extract(epoch FROM o.processed_at), extract(epoch FROM min(p.at)), extract(epoch FROM min(c.at))
FROM order_events o
JOIN bench_marks p ON p.mark = 'processed' AND p.id = o.id
JOIN effects e ON e.saleor_api_url = o.saleor_api_url AND e.order_id = o.order_id AND e.kind = 'fraud_decision'
JOIN bench_marks c ON c.mark = 'claimed' AND c.id = e.id
GROUP BY o.order_id, o.processed_at
"""
STAGES = ("ack", "wait before claim", "processing", "wait before dispatch", "dispatch")


def breakdown(
    database: str, sent: dict[str, float], answered: dict[str, float], arrived: dict[str, float]
) -> dict[str, list[float]]:
    """Each stage's milliseconds, per order that arrived. The bench's clock is the monotonic one and the
    database's the wall clock: one offset, read once, turns the first into the second."""
    offset = time.time() - time.monotonic()
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for line in psql(MARKED, database).splitlines():
        order, started, processed, claimed = line.split("|")
        if order not in sent or order not in arrived:  # the throughput phase's orders arrived too
            continue
        moments = (
            sent[order] + offset,
            answered[order] + offset,
            float(started),
            float(processed),
            float(claimed),
            arrived[order] + offset,
        )
        for stage, begin, end in zip(STAGES, moments, moments[1:], strict=False):
            stages[stage].append((end - begin) * 1000)
    return stages


async def paced(app_url: str, batch: list[Delivery], rate: float) -> tuple[dict[str, float], dict[str, float]]:
    """POST the deliveries at ``rate`` per second (open loop); when each POST started and when it was
    answered, by order id."""
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    start = time.monotonic()
    schedule = iter(enumerate(batch))

    async def sender() -> None:
        connection = await Connection.open(app_url)
        try:
            for i, (body, headers) in schedule:
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                order = json.loads(body)["order"]["id"]
                sent[order] = time.monotonic()
                status, answer = await connection.request("POST", ORDER_CREATED_PATH, headers, body)
                answered[order] = time.monotonic()
                if status != 200:
                    raise RuntimeError(f"delivery answered {status}: {answer[:200]!r}")
        finally:
            connection.close()

    await asyncio.gather(*(sender() for _ in range(16)))
    return sent, answered


def latency(
    args: argparse.Namespace,
    tmp: Path,
    app_url: str,
    standin_url: str,
    database: str,
    env: dict[str, str],
    batch: list[Delivery],
) -> None:
    print(f"\nLatency: {len(batch):,} deliveries at {args.rate:g}/s, {args.workers} workers running")
    with workers(args.workers, env, tmp):
        time.sleep(args.settle)  # their start is not the pipeline's latency
        sent, answered = asyncio.run(paced(app_url, batch, args.rate))
        deadline = time.perf_counter() + args.drain_seconds
        while time.perf_counter() < deadline:
            arrived = asyncio.run(arrivals(standin_url))
            if all(order in arrived for order in sent):
                break
            time.sleep(0.2)
    # One that never arrived counts as slower than any that did.
    delays = [(arrived[order] - at) * 1000 if order in arrived else float("inf") for order, at in sent.items()]
    missing = sum(1 for order in sent if order not in arrived)
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    print(
        f"  delivery POST -> write-back at the stand-in: p50 {_ms(p50)} (target < 100 ms: {_verdict(p50 < 100)}), "
        f"p99 {_ms(p99)} (target < 1000 ms: {_verdict(p99 < 1000)})"
    )
    if missing:
        print(f"  {missing} of {len(sent)} write-backs had not arrived {args.drain_seconds:g} s after the last POST")
    if args.breakdown:
        stages = breakdown(database, sent, answered, arrived)
        print("  where it goes (each stage's own percentiles, so they do not add up):")
        for stage, spent in stages.items():
            print(f"    {stage:<22} p50 {_ms(percentile(spent, 50)):>10}   p99 {_ms(percentile(spent, 99)):>10}")


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value != float("inf") else "not arrived"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2_000, help="orders for the throughput run (0: none)")
    parser.add_argument(
        "--history", type=int, default=0, help="earlier orders processed and analyzed before the throughput run"
    )
    parser.add_argument(
        "--after-quiet-spell",
        action="store_true",
        help="with --history: analyze while the batch waits outside the queue, so the statistics see none waiting",
    )
    parser.add_argument(
        "--customers", type=int, default=500, help="customers (emails) the orders come from in turn; few share keys"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--rate", type=float, default=100.0, help="orders/s for the latency run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the latency run")
    parser.add_argument("--time-limit", type=float, default=600.0, help="hard limit for the throughput run")
    parser.add_argument("--drain-seconds", type=float, default=60.0, help="wait for write-backs after the last POST")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds the workers get to start, untimed")
    parser.add_argument("--breakdown", action="store_true", help="also say where the latency goes (see above)")
    parser.add_argument(
        "--profile-worker", action="store_true", help="profile the first worker in the throughput run (see above)"
    )
    args = parser.parse_args()
    if args.after_quiet_spell and not args.history:
        parser.error("--after-quiet-spell needs --history N: the statistics are taken after the history")

    signer = SaleorSigner(0)
    paced_count = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory(prefix="saleor-ops-pipeline-") as folder, ExitStack() as stack:
        tmp = Path(folder)
        standin_url = stack.enter_context(
            python_server(
                "from bench.pipeline_processing import serve_standin; serve_standin({port})", {}, tmp / "s.log"
            )
        )
        asyncio.run(wait_healthy("stand-in", standin_url))
        api_url = f"{standin_url}/graphql/"
        start = time.perf_counter()
        deliveries = build_deliveries(
            signer, args.history + args.orders + paced_count, api_url, customers=args.customers
        )
        print(f"signed {len(deliveries):,} bodies in {time.perf_counter() - start:.0f} s")
        history, deliveries = deliveries[: args.history], deliveries[args.history :]
        database = f"saleor_ops_pipeline_{os.getpid()}"
        url = stack.enter_context(throwaway_postgresql(database))
        asyncio.run(seed(bench_settings(url, tmp / "app"), signer, api_url))
        if args.breakdown:
            psql(MARKS, database)
        env = app_environment(url, tmp / "app", APP_WORKER_IN_PROCESS="false")
        app_url, _ = stack.enter_context(app_processes("uvicorn", "app.main:create_app", 2, env, tmp / "app.log"))
        asyncio.run(wait_healthy("app", app_url))
        if args.orders:
            throughput(args, tmp, app_url, database, env, deliveries[: args.orders], history)
        latency(args, tmp, app_url, standin_url, database, env, deliveries[args.orders :])
    return 0


if __name__ == "__main__":
    sys.exit(main())

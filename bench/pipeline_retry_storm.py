"""Retry storm: many deliveries, a third of them again, in shuffled order, through web processes and
workers on PostgreSQL; then everything counted: nothing lost, nothing doubled.

Saleor redelivers what it is unsure of and sends events out of order; the app must still score each
order once per stage, book each fulfilment once and add each note once. The run:

1. a throwaway PostgreSQL database (127.0.0.1:5432, user ``postgres``), migrated, the app installed
   for a fake Saleor served from a thread of this process (``tests.fakes.saleor_server``), which
   answers a share of the write-backs with 503 so that effects are retried too;
2. ``saleor-ops serve --workers 2 --no-worker`` and two ``saleor-ops worker`` processes;
3. the deliveries of ``tests.pipeline.orders`` (each order created, paid and shipped), with the
   duplicates mixed in, shuffled and POSTed signed over C connections; optionally a worker killed
   with ``kill -9`` and restarted K times along the way;
4. once nothing waits any more: deliveries processed, assessments per order and stage, ledger
   issues, and the notes, metadata and confirmations the fake Saleor took, each against what the
   orders call for.

    .venv/bin/python -m bench.pipeline_retry_storm [--deliveries N] [--duplicates F] \\
        [--connections C] [--saleor-unavailable F] [--kills K] [--seed S]

Exits non-zero when anything is lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.fakes.saleor_server import SaleorServer
from tests.fakes.saleor_signer import SaleorSigner
from tests.pipeline import processes
from tests.pipeline.orders import NOTES_PER_ORDER, STAGES, Delivery, order_deliveries
from tests.pipeline.outcome import Miscount, Outcome

SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
WRITES = ("FraudDecision", "RecordCogs")


@dataclass(frozen=True, slots=True)
class Storm:
    distinct: list[Delivery]
    arrivals: list[Delivery]  # the distinct ones and the redeliveries, shuffled

    @property
    def orders(self) -> set[str]:
        return {delivery.order_id for delivery in self.distinct}


def storm(deliveries: int, duplicates: float, rng: random.Random) -> Storm:
    per_order = len(order_deliveries(1))
    orders = math.ceil(deliveries * (1 - duplicates) / per_order)
    distinct = [delivery for number in range(1, orders + 1) for delivery in order_deliveries(number)]
    again = [rng.choice(distinct) for _ in range(max(0, deliveries - len(distinct)))]
    arrivals = distinct + again
    rng.shuffle(arrivals)
    return Storm(distinct, arrivals)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def watch(database_url: str, started: float, stop: asyncio.Event) -> None:
    """A progress line every few seconds, on stderr."""
    while not stop.is_set():
        seen = await processes.current(database_url)
        elapsed = time.perf_counter() - started
        print(f"  {elapsed:6.1f} s: deliveries {dict(seen.deliveries)}, effects {dict(seen.effects)}", file=sys.stderr)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=10_000, help="POSTs in all, redeliveries included")
    parser.add_argument("--duplicates", type=float, default=0.3, help="share of the POSTs that are redeliveries")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections posting")
    parser.add_argument("--saleor-unavailable", type=float, default=0.1, help="share of write-backs answered 503")
    parser.add_argument("--kills", type=int, default=0, help="times a worker is killed with kill -9 and restarted")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--time-limit", type=float, default=1800, help="seconds to wait for everything to settle")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped, it still stops what it started
    rng = random.Random(args.seed)
    run = storm(args.deliveries, args.duplicates, rng)
    signer = SaleorSigner(0)
    saleor = SaleorServer(signer)
    saleor.refuse = lambda body: (
        httpx.Response(503)
        if body.get("operationName") in WRITES and random.random() < args.saleor_unavailable
        else None
    )
    print(
        f"Retry storm: {len(run.arrivals):,} deliveries ({len(run.distinct):,} distinct, "
        f"{len(run.arrivals) - len(run.distinct):,} redelivered) of {len(run.orders):,} orders, shuffled; "
        f"{args.saleor_unavailable:.0%} of write-backs answered 503; {args.kills} worker kill(s)"
    )
    with (
        tempfile.TemporaryDirectory(prefix="saleor-ops-storm-") as folder,
        processes.fresh_database(SERVER, f"saleor_ops_storm_{os.getpid()}") as database_url,
        saleor.serving(),
    ):
        base = Path(folder)
        asyncio.run(processes.reset(database_url, signer, saleor.api_url))
        arrivals = processes.signed(run.arrivals, signer, saleor.api_url)  # before the clock starts
        env = processes.settings_for(database_url, base, APP_WORKER_LEASE_SECONDS="10")
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        app = Processes(base, env, [processes.serve(base, env, port, workers=2)])
        try:
            asyncio.run(processes.wait_healthy(base_url))
            app.start_worker(1)
            app.start_worker(2)
            outcome, seconds = asyncio.run(drive(arrivals, base_url, database_url, args, app))
        finally:
            for process in app.started:
                process.kill()
    return report(run, saleor, outcome, seconds, args)


@dataclass
class Processes:
    """Every app process the run started, restarts included, so that all are stopped at the end."""

    base: Path
    env: dict[str, str]
    started: list[processes.AppProcess]
    workers: dict[int, processes.AppProcess] = field(default_factory=dict)

    def start_worker(self, number: int) -> None:
        name = f"worker-{number}-{sum(1 for p in self.started if p.args[0] == 'worker') + 1}"
        self.workers[number] = processes.worker(self.base, self.env, name)
        self.started.append(self.workers[number])


async def drive(
    arrivals: list[processes.SignedDelivery],
    base_url: str,
    database_url: str,
    args: argparse.Namespace,
    app: Processes,
) -> tuple[Outcome, dict[str, float]]:
    rng = random.Random(args.seed + 1)
    stop = asyncio.Event()
    started = time.perf_counter()
    watching = asyncio.create_task(watch(database_url, started, stop))

    async def kill_workers() -> None:
        for kill in range(args.kills):
            await asyncio.sleep(rng.uniform(2, 10))
            victim = rng.choice(sorted(app.workers))
            app.workers[victim].kill()
            print(f"  kill -9 of worker {victim} (#{kill + 1})", file=sys.stderr)
            await asyncio.to_thread(app.start_worker, victim)

    killing = asyncio.create_task(kill_workers())
    try:
        unacknowledged = await processes.post(base_url, arrivals, connections=args.connections)
        acknowledged_in = time.perf_counter() - started
        if unacknowledged:
            print(f"  {len(unacknowledged)} deliveries got no 2xx; sending them again", file=sys.stderr)
            await processes.post(base_url, unacknowledged, connections=args.connections)
        await killing
        outcome = await processes.settled(database_url, within=args.time_limit)
        settled_in = time.perf_counter() - started
    finally:
        stop.set()
        killing.cancel()
        await watching
    return outcome, {"acknowledged": acknowledged_in, "settled": settled_in, "resent": len(unacknowledged)}


def report(
    run: Storm, saleor: SaleorServer, outcome: Outcome, seconds: dict[str, float], args: argparse.Namespace
) -> int:
    notes = saleor.notes_now()
    orders = sorted(run.orders)
    counted = outcome.miscounts(orders, notes)
    processed = outcome.deliveries.get("done", 0)
    stored = sum(outcome.deliveries.values())
    counted = {
        "deliveries": Miscount(lost=len(run.distinct) - processed, doubled=max(0, stored - len(run.distinct))),
        **counted,
        "ops.fraud and ops.cogs": Miscount(
            lost=sum(2 - len({"ops.fraud", "ops.cogs"} & set(saleor.metadata.get(order, {}))) for order in orders)
        ),
        "confirmations": Miscount(doubled=sum(max(0, n - 1) for n in saleor.confirmations.values())),
    }
    expected = {
        "deliveries": len(run.distinct),
        "assessments": len(orders) * len(STAGES),
        "ledger issues": len(orders),
        "notes in Saleor": len(orders) * NOTES_PER_ORDER,
        "ops.fraud and ops.cogs": len(orders) * 2,
        "confirmations": len(saleor.confirmations),  # orders released once their payment was approved
    }
    print(f"\n2 web processes (serve --workers 2 --no-worker), 2 workers, PostgreSQL; {args.connections} connections")
    print(
        f"  acknowledged: {len(run.arrivals):,} POSTs in {seconds['acknowledged']:.1f} s "
        f"({len(run.arrivals) / seconds['acknowledged']:,.0f}/s), {seconds['resent']:.0f} sent again"
    )
    print(
        f"  settled: every delivery processed and every effect delivered {seconds['settled']:.1f} s after the first"
        f" POST ({len(run.distinct) / seconds['settled']:,.0f} deliveries/s); effects {dict(outcome.effects)};"
        f" {len(saleor.requests):,} calls at Saleor, {saleor.count('OrderNotes'):,} of them reading notes"
    )
    print(f"\n  {'':<24}{'expected':>9}{'lost':>7}{'doubled':>9}")
    for kind, miscount in counted.items():
        print(f"  {kind:<24}{expected[kind]:>9,}{miscount.lost:>7}{miscount.doubled:>9}")
    clean = all(m == Miscount() for m in counted.values()) and outcome.settled
    print(f"\n  {'0 lost, 0 doubled' if clean else 'LOST OR DOUBLED: see above'}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())

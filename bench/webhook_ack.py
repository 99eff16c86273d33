"""The acknowledge path, side by side with the official Node SDK's signature check.

In one run, the same signed ORDER_CREATED bodies (distinct orders, signed before any clock starts)
are sent to:

1. **the peer**: ``bench/node_peer/server.mjs``, ``@saleor/app-sdk`` 1.15's ``verifySignatureWithJwks``
   on ``node:http`` against a fixed JWKS (verification only). The SDK is installed with npm into a
   temporary folder; without ``node`` and ``npm`` on PATH the peer is skipped, saying so.
2. **the app**: ``app.main:create_app`` under uvicorn or Granian (``--server``) with ``--app-workers``
   processes (``bench.servers``) on a throwaway PostgreSQL database, with ``APP_WORKER_IN_PROCESS=false``
   so that only the acknowledgement is measured: first the bodies as **new deliveries**, then the
   ones it stored sent again as **redeliveries**. The stored rows are counted afterwards.

Both servers run side by side and the three loads take turns, ``--rounds`` times: the machine is
shared, and what else runs on it then weighs on the peer and the app alike. The ratios are the
median of each round's ratio.

Each run also reports the CPU time (user + system, from /proc) of the server's processes per request,
the figure least moved by whatever else loads the machine, and beside it PostgreSQL's (its processes and
the backends they reaped), which shares the same cores: the peer stores nothing, the app commits each delivery.

The load is ``wrk`` (C, one thread, a Lua script sending the pre-built requests) when it is on PATH,
else the asyncio keep-alive client of ``bench.harness``; wrk leaves more of the 2 cores to the servers.

    .venv/bin/python -m bench.webhook_ack [--requests N] [--rounds R] [--duration S] [--connections C] \
        [--load wrk|asyncio] [--app-workers 2] [--server uvicorn|granian] [--peer-processes 1]

Exits non-zero only when something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path

from bench.harness import (
    ORDER_CREATED_PATH,
    ROOT,
    Delivery,
    app_environment,
    bench_settings,
    build_deliveries,
    drive,
    free_port,
    percentile,
    process,
    psql,
    seed,
    throwaway_postgresql,
    wait_healthy,
)
from bench.servers import SERVERS, app_processes, cpu_seconds, postgresql_cpu_seconds, tree
from bench.wrk import run_wrk, write_requests
from tests.fakes.saleor_signer import SaleorSigner

API_URL = "https://shop.test/graphql/"  # nothing calls the store: no worker runs
PEER = ROOT / "bench" / "node_peer" / "server.mjs"
SDK = "@saleor/app-sdk@1.15"


@dataclass
class Measured:
    name: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    note: str = ""
    failure: str = ""
    cpu_seconds: float = float("nan")  # user + system time of the server's processes over the run
    postgresql_cpu_seconds: float = float("nan")  # the same of PostgreSQL's processes, on the same cores

    @property
    def per_second(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_each(self) -> float:
        return self.cpu_seconds / self.requests * 1000 if self.requests else float("nan")

    @property
    def postgresql_ms_each(self) -> float:
        return self.postgresql_cpu_seconds / self.requests * 1000 if self.requests else float("nan")


class Load:
    """Sends a list of deliveries for a while, with wrk or the asyncio client; ``repeat`` allows a body twice."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp

    def run(
        self, name: str, server: tuple[str, int], deliveries: list[Delivery], *, seconds: float, repeat: bool
    ) -> Measured:
        """``server`` is the base URL and the pid of the server's main process."""
        base_url, pid = server
        processes = tree(pid)
        cpu_before, postgresql_before = sum(cpu_seconds(each) for each in processes), postgresql_cpu_seconds()
        if self.args.load == "wrk":
            measured = self._wrk(name, base_url, deliveries, seconds=seconds, repeat=repeat)
        else:
            measured = asyncio.run(self._asyncio(name, base_url, deliveries, seconds=seconds, repeat=repeat))
        measured.cpu_seconds = sum(cpu_seconds(each) for each in processes) - cpu_before
        measured.postgresql_cpu_seconds = postgresql_cpu_seconds() - postgresql_before
        return measured

    def _wrk(self, name: str, base_url: str, deliveries: list[Delivery], *, seconds: float, repeat: bool) -> Measured:
        requests = write_requests(self.tmp / "requests.bin", ORDER_CREATED_PATH, deliveries)
        run = run_wrk(
            base_url + ORDER_CREATED_PATH,
            requests,
            threads=self.args.threads,
            connections=self.args.connections,
            seconds=seconds,
        )
        note = ""
        if run.wrapped and not repeat:
            note = f"ran out of bodies {run.wrapped} times: some were redeliveries; raise --requests"
        return Measured(
            name,
            requests=run.requests,
            errors=run.errors,
            seconds=run.seconds,
            p50_ms=run.p50_ms,
            p99_ms=run.p99_ms,
            note=note,
        )

    async def _asyncio(
        self, name: str, base_url: str, deliveries: list[Delivery], *, seconds: float, repeat: bool
    ) -> Measured:
        expect = b'"ok"' if name.startswith("peer") else b'"status"'
        start = time.perf_counter()
        bodies = cycle(deliveries) if repeat else deliveries
        latencies, errors = await drive(
            base_url, ORDER_CREATED_PATH, bodies, self.args.connections, start + seconds, expect
        )
        elapsed = time.perf_counter() - start
        note = "" if repeat or len(latencies) < len(deliveries) else "sent every body before the time was up"
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        return Measured(name, len(latencies), errors, elapsed, p50, p99, note=note)


@contextlib.contextmanager
def node_peer(tmp: Path, signer: SaleorSigner, processes: int) -> Iterator[tuple[str, int]]:
    """The peer, its SDK installed with npm into ``tmp``; yields its base URL and pid."""
    folder = tmp / "node-peer"
    folder.mkdir()
    npm = ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error", SDK]
    subprocess.run(npm, check=True, capture_output=True, text=True)
    shutil.copy(PEER, folder / "server.mjs")
    (folder / "jwks.json").write_text(signer.jwks_text())
    port = free_port()
    env = {"PORT": str(port), "PROCESSES": str(processes), "JWKS_FILE": str(folder / "jwks.json")}
    with process("node peer", ["node", str(folder / "server.mjs")], env, tmp / "peer.log", cwd=folder) as pid:
        yield f"http://127.0.0.1:{port}", pid


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@contextlib.contextmanager
def app_server(args: argparse.Namespace, tmp: Path, signer: SaleorSigner, database: str) -> Iterator[tuple[str, int]]:
    with throwaway_postgresql(database) as url:
        asyncio.run(seed(bench_settings(url, tmp / "app"), signer, API_URL))
        env = app_environment(url, tmp / "app", APP_WORKER_IN_PROCESS="false")
        with app_processes(args.server, "app.main:create_app", args.app_workers, env, tmp / "app.log") as served:
            asyncio.run(wait_healthy("app", served[0]))
            yield served


def run(
    args: argparse.Namespace, tmp: Path, signer: SaleorSigner, warmup: list[Delivery], timed: list[Delivery]
) -> dict[str, list[Measured]]:
    """Both servers up at once; then, round after round, the peer, new deliveries to the app (a slice
    of bodies it has not seen) and redeliveries (bodies it stored): the machine's other load falls
    on all three alike."""
    peer_name = f"peer: node SDK x{args.peer_processes}"
    app_name = f"app x{args.app_workers} ({args.server})"
    new_name, again_name = f"{app_name}: new", f"{app_name}: redelivered"
    results: dict[str, list[Measured]] = {peer_name: [], new_name: [], again_name: []}
    database = f"saleor_ops_ack_{os.getpid()}"
    load = Load(args, tmp)
    with contextlib.ExitStack() as stack:
        peer = None
        if shutil.which("node") and shutil.which("npm"):
            peer = stack.enter_context(node_peer(tmp, signer, args.peer_processes))
            asyncio.run(wait_healthy("node peer", peer[0]))
        else:
            print("node or npm is not on PATH: the Node SDK peer is skipped", file=sys.stderr)
        app = stack.enter_context(app_server(args, tmp, signer, database))
        if peer:
            load.run(peer_name, peer, warmup, seconds=args.warmup_seconds, repeat=True)
        load.run(new_name, app, warmup, seconds=args.warmup_seconds, repeat=False)
        share = len(timed) // args.rounds
        for round_ in range(args.rounds):
            if peer:
                results[peer_name].append(load.run(peer_name, peer, timed, seconds=args.duration, repeat=True))
            fresh = timed[round_ * share : (round_ + 1) * share]
            results[new_name].append(load.run(new_name, app, fresh, seconds=args.duration, repeat=False))
            stored = stored_order_ids(database)
            sent_again = [d for d in timed if order_id_of(d) in stored]
            again = load.run(again_name, app, sent_again, seconds=args.duration, repeat=True)
            if len(stored_order_ids(database)) != len(stored):
                again.note = "a redelivery stored a row"
            results[again_name].append(again)
    return {name: runs for name, runs in results.items() if runs}


def stored_order_ids(database: str) -> set[str]:
    return set(psql("SELECT order_id FROM order_events", database).split())


def order_id_of(delivery: Delivery) -> str:
    order_id: str = json.loads(delivery[0])["order"]["id"]
    return order_id


def report(args: argparse.Namespace, results: dict[str, list[Measured]]) -> None:
    tool = f"wrk, {args.threads} thread" if args.load == "wrk" else "asyncio client"
    print(
        f"\nAcknowledge path: {args.connections} connections ({tool}), {args.rounds} rounds of {args.duration:g} s "
        "per server, interleaved; 2 cores"
    )
    print(
        f"  {'server':<34}{'deliv/s per round':<26}{'median':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU ms each':>13}{'+ PostgreSQL':>14}{'errors':>8}"
    )
    medians: dict[str, float] = {}
    for name, runs in results.items():
        medians[name] = median([m.per_second for m in runs])
        rounds = ", ".join(f"{m.per_second:,.0f}" for m in runs)
        p50, p99 = median([m.p50_ms for m in runs]), median([m.p99_ms for m in runs])
        cpu, postgresql = median([m.cpu_ms_each for m in runs]), median([m.postgresql_ms_each for m in runs])
        errors = sum(m.errors for m in runs)
        timing = f"{medians[name]:>8,.0f}{p50:>9.2f}{p99:>9.2f}"
        print(f"  {name:<34}{rounds:<26}{timing}{cpu:>13.3f}{postgresql:>14.3f}{errors:>8}")
        for note in sorted({m.note for m in runs if m.note}):
            print(f"  {'':<34}({note})")
    peer = next((name for name in results if name.startswith("peer")), None)
    if peer is None:
        return
    for name, runs in results.items():
        if name != peer:
            per_round = [m.per_second / p.per_second for m, p in zip(runs, results[peer], strict=True) if p.per_second]
            ratio = median(per_round)
            print(
                f"  {name} / peer: {ratio:.2f} (median of the rounds' ratios: "
                f"{', '.join(f'{r:.2f}' for r in per_round)})   target >= 1.0: {'met' if ratio >= 1.0 else 'MISSED'}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=40_000, help="distinct deliveries for the timed runs")
    parser.add_argument("--warmup", type=int, default=1_000, help="distinct deliveries for the warm-ups")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per timed run")
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--load", choices=["wrk", "asyncio"], default="wrk" if shutil.which("wrk") else "asyncio")
    parser.add_argument("--app-workers", type=int, default=2, help="web processes of the app")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn", help="what serves the app (default uvicorn)")
    parser.add_argument("--peer-processes", type=int, default=1, help="node processes of the peer")
    args = parser.parse_args()

    signer = SaleorSigner(0)
    start = time.perf_counter()
    deliveries = build_deliveries(signer, args.warmup + args.requests, API_URL)
    warmup, timed = deliveries[: args.warmup], deliveries[args.warmup :]
    print(f"signed {len(deliveries):,} bodies in {time.perf_counter() - start:.0f} s; load: {args.load}")
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory(prefix="saleor-ops-ack-") as folder:
        results = run(args, Path(folder), signer, warmup, timed)
    report(args, results)
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

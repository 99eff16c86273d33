"""The checkout sync webhook over HTTP: ``SHIPPING_LIST_METHODS_FOR_CHECKOUT`` at 50 concurrent checkouts.

``app.main:create_app`` runs under uvicorn or Granian (``--server``; ``--app-workers`` processes, see
``bench.servers``) on a throwaway PostgreSQL database holding one installed store with the demo's shipping
settings and rate tables (``app.demo``: Austin and Columbus, USPS and UPS, four product types, the
demo's boxes and rule). Signed checkouts (bodies built and signed before any clock starts) of 1–4
of the demo's variants to US, Canadian and British addresses are POSTed to the real webhook path over
``--concurrency`` keep-alive connections, each connection with its own share of the checkouts, so
that a checkout asked again reaches the same server process (each keeps its own caches).

Three modes, each its own server:

- ``tables``: no carrier account; the rate tables answer. The checkouts are sent twice and the
  second pass is measured (so it shows the steady state: per-process caches filled by the first).
- ``cached``: live rates from a fake carrier (a ``CarrierQuotes`` put in place of Karrio's adapter
  in the server process, answering three services after ``--carrier-ms``), every question already
  answered: the same checkouts, a warm-up pass then the measured one.
- ``live``: the same fake carrier, cache cold: every checkout's parcels weigh something no other
  checkout's do, so each asks the carrier and waits for it.

Each mode reports p50/p95/p99, checkouts/s and the app's CPU per checkout (user + system time of
the server's processes over the measured pass, from /proc), and how the connections and that CPU
split between the server's processes. With ``--timed-passes N`` (``tables`` and ``cached``) the
checkouts are measured N times (the Python client: over the same connections; wrk: each pass its
own) and the best pass (lowest p99) and the median of each figure are reported. The targets
(issue 12): p99 < 20 ms from cache, < 300 ms with a carrier answering in 100 ms.

With ``--diagnose`` each pass also says what its slowest 1 % were made of (``bench.diagnosis``): the
time their server process waited for a core, ran, or collected garbage, the time the client waited
for a core, how the slow requests cluster by process and in time, the CPU the machine's other
processes took, and what the slowest request's process did meanwhile (collections, late loop ticks,
SQL statements, new database connections); with the Python client only.

The load shares the machine with the server, so it is kept light. ``--load wrk`` (the default when
``wrk`` is on PATH) sends the timed passes with wrk (C, one thread, ``bench/wrk_requests.lua``), each
pass ``--wrk-seconds`` long (checkouts sent in turn, again from the first when they run out; ``live``'s
fresh checkouts outlast 3 s at 50 in flight), its latency percentiles from wrk's own figures, and
an answer not 200 with a list is an error. wrk does not keep a checkout to one connection, so the
warm-up (the Python client, counting the answers' options) sends every checkout to each server process.
``--load python``: the Python client (uvloop, every request's bytes built before the clock starts)
sends every pass, each checkout over its own connection. Either way the first pass waits until every
server process has answered (the web processes start one after the other).

    .venv/bin/python -m bench.checkout_webhook [--checkouts 2000] [--concurrency 50] [--carrier-ms 100] \
        [--app-workers 2] [--server uvicorn|granian] [--modes tables,cached,live] [--timed-passes 1] \
        [--load wrk|python] [--wrk-seconds 3] [--diagnose]

Exits non-zero only when something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvloop
from fastapi import FastAPI

from app import dependencies
from app.demo import _rate_tables, _shipping_settings
from app.domain.ids import SaleorApiUrl
from app.domain.money import Money
from app.domain.shipping.model import Level
from app.domain.shipping.promise import Transit
from app.domain.shipping.rates import ChargeKind, Quote
from app.main import create_app
from app.runtime import Runtime
from app.services.shipping.model import LiveQuotes, RateRequest
from app.standin.day import Catalogue, seed_store
from app.standin.partners import add_partners
from app.standin.state import Store
from bench.diagnosis import (
    DIAGNOSIS_PATH,
    LoopWatcher,
    Schedule,
    ServerDiagnosis,
    TimedRequest,
    cpu_by_process,
    describe_client,
    describe_pass,
    others_cpu,
)
from bench.harness import (
    Connection,
    app_environment,
    bench_settings,
    percentile,
    seed,
    throwaway_postgresql,
    wait_healthy,
)
from bench.servers import SERVERS, app_processes, cpu_seconds, tree
from bench.wrk import run_wrk, write_requests
from tests.builders import body_of
from tests.fakes.saleor_signer import SaleorSigner

API_URL = "https://shop.test/graphql/"
PATH = "/api/webhooks/shipping-list-methods-for-checkout"
HEADERS = {
    "content-type": "application/json",
    "saleor-event": "shipping_list_methods_for_checkout",
    "saleor-domain": "shop.test",
    "saleor-api-url": API_URL,
    "user-agent": "Saleor/3.20",
}
CARRIER_MS_VARIABLE = "BENCH_CARRIER_MS"
DIAGNOSE_VARIABLE = "BENCH_DIAGNOSE"
TARGETS_MS = {"tables": None, "cached": 20.0, "live": 300.0}
# Postal codes of Canada and the UK, for the international services of the demo's tables.
ABROAD = (("CA", "M5V 2T6"), ("CA", "H2X 1Y4"), ("CA", "V6B 1A1"), ("GB", "N8 7NB"), ("GB", "EH1 1YZ"))


class SleepingCarrier:
    """A carrier account answering four services after ``delay`` seconds, priced by weight."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def quotes(self, saleor_api_url: SaleorApiUrl, request: RateRequest, *, within_seconds: float) -> LiveQuotes:
        await asyncio.sleep(self.delay)
        weight = sum((parcel.weight_kg for parcel in request.parcels), Decimal(0))
        services = [
            ("Ground", Level.STANDARD, (2, 5)),
            ("2Day", Level.EXPEDITED, (2, 2)),
            ("Next", Level.OVERNIGHT, (1, 1)),
        ]
        quotes = []
        for index, (service, level, transit) in enumerate(services):
            money = Money((Decimal(7 + 9 * index) + 2 * weight).quantize(Decimal("0.01")), request.currency)
            quotes.append(
                Quote(
                    request.warehouse_id,
                    "FedEx",
                    service,
                    level,
                    "live",
                    money,
                    ((ChargeKind.BASE, money),),
                    weight,
                    Transit(*transit),
                    frozenset(range(5)),
                )
            )
        return LiveQuotes(tuple(quotes))


def bench_app() -> FastAPI:
    """The app as served, with the sleeping carrier in place of Karrio when ``BENCH_CARRIER_MS`` is set."""
    delay_ms = os.environ.get(CARRIER_MS_VARIABLE)
    if delay_ms:
        carrier = SleepingCarrier(float(delay_ms) / 1000)
        # Put in place of Karrio's adapter where ``dependencies.shipping_quoter`` builds it for each
        # checkout, so that everything else runs as in production.
        vars(dependencies)["KarrioCarrierQuotes"] = lambda *_: carrier
    app = create_app()
    if os.environ.get(DIAGNOSE_VARIABLE):
        return ServerDiagnosis(app, app.state.runtime.engine)  # type: ignore[return-value]
    return app


async def prepare_store(runtime: Runtime, signer: SaleorSigner) -> Catalogue:
    """The installed store with the demo's rate tables and shipping settings, saved as the demo saves them."""
    await seed(runtime.settings, signer, API_URL)
    store = Store()
    catalogue = seed_store(store, seed=7, day=datetime.now(UTC).date())
    partners = add_partners(store, catalogue)
    url = SaleorApiUrl(API_URL)
    await _rate_tables(runtime, url, store.warehouses.values())
    await _shipping_settings(runtime, url, catalogue, partners, datetime.now(UTC))
    return catalogue


def _checkout(rng: random.Random, catalogue: Catalogue, number: int, distinct_weight: bool) -> dict[str, Any]:
    lines = []
    for index, item in enumerate(rng.sample(catalogue.items, rng.randint(1, 4))):
        variant = item.variant
        weight_kg = variant.weight_kg or Decimal("0.5")
        if distinct_weight and index == 0:
            # With its own postal prefix below, no other checkout asks the carrier the same question
            # (parcels are asked rounded up to 0.1 kg).
            weight_kg += Decimal(number // 980) / 10
        quantity = rng.randint(1, 3)
        lines.append(
            {
                "quantity": quantity,
                "undiscountedTotalPrice": {"amount": float(Decimal(12) * quantity), "currency": "USD"},
                "variant": {
                    "id": f"variant-{variant.pk}",
                    "sku": variant.sku,
                    "weight": {"unit": "G", "value": float(weight_kg * 1000)},
                    "product": {"productType": {"name": item.category}},
                },
            }
        )
    if distinct_weight:
        country, postal_code = "US", f"{10 + number % 980:03d}{rng.randint(0, 99):02d}"
    elif rng.random() < 0.1:
        country, postal_code = rng.choice(ABROAD)
    else:
        country, postal_code = "US", f"{rng.randint(10, 999):03d}{rng.randint(0, 99):02d}"
    return {
        "id": f"checkout-{number}",
        "channel": {"slug": catalogue.channel.slug, "currencyCode": "USD"},
        "shippingAddress": {
            "streetAddress1": f"{rng.randint(1, 999)} Main St",
            "city": "Springfield",
            "postalCode": postal_code,
            "country": {"code": country},
            "countryArea": "",
        },
        "lines": lines,
    }


def signed_checkouts(
    signer: SaleorSigner, catalogue: Catalogue, count: int, *, seed: int, distinct_weight: bool
) -> list[tuple[bytes, dict[str, str]]]:
    rng = random.Random(seed)
    requests = []
    for number in range(count):
        payload = {
            "__typename": "ShippingListMethodsForCheckout",
            "issuedAt": datetime.now(UTC).isoformat(),
            "version": "3.20.119",
            "checkout": _checkout(rng, catalogue, number, distinct_weight),
        }
        body = body_of(payload)
        requests.append((body, {**HEADERS, "saleor-signature": signer.sign(body)}))
    return requests


def _connection_owners(server_pid: int, port: int) -> dict[int, int]:
    """The server process holding each established connection to ``port``, by the client's port."""
    inodes: dict[str, int] = {}  # socket inode: the client's port
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, remote_port = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # established
            inodes[f"socket:[{fields[9]}]"] = remote_port
    owners = {}
    for process in tree(server_pid):
        try:
            descriptors = list(Path(f"/proc/{process}/fd").iterdir())
        except FileNotFoundError:
            continue
        for descriptor in descriptors:
            try:
                client_port = inodes.get(os.readlink(descriptor))
            except OSError:
                continue
            if client_port is not None:
                owners[client_port] = process
    return owners


class LoadConnection(Connection):
    """The harness's keep-alive connection sending requests encoded before the clock starts."""

    @classmethod
    async def open(cls, base_url: str) -> LoadConnection:
        connection = await super().open(base_url)
        assert isinstance(connection, LoadConnection)
        return connection

    @property
    def local_port(self) -> int:
        port: int = self.writer.get_extra_info("sockname")[1]
        return port

    def encoded(self, body: bytes, headers: dict[str, str]) -> bytes:
        lines = [f"POST {PATH} HTTP/1.1", f"host: {self.host}", f"content-length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        start = head.lower().find(b"content-length:") + len(b"content-length:")
        length = int(head[start : head.index(b"\r\n", start)]) if start >= len(b"content-length:") else 0
        return status, await self.reader.readexactly(length)


@dataclass
class Pass:
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    options: int
    seconds: float
    cpu_seconds: float
    cpu_by_process: dict[int, float]
    load_cpu_seconds: float  # the load client's user + system time over the pass
    timeline: list[tuple[float, float, int]]  # each request's start, seconds and connection (its index)
    window: tuple[float, float]
    schedules: dict[int | str, Schedule]  # the server's processes' and the load client's ("client")
    others_cpu: dict[str, float]  # CPU seconds of the machine's other processes, by command name

    @classmethod
    def of(cls, latencies: list[float], **others: Any) -> Pass:
        """A pass's figures from each request's seconds."""
        p50, p95, p99 = (percentile(latencies, p) * 1000 for p in (50, 95, 99))
        return cls(len(latencies), p50, p95, p99, **others)


async def send_pass(
    connections: list[LoadConnection], requests: list[tuple[bytes, dict[str, str]]], server_pid: int
) -> Pass:
    """Every request once, request ``i`` over connection ``i % len(connections)``."""
    latencies: list[float] = []
    timeline: list[tuple[float, float, int]] = []
    errors = options = 0
    shares = [
        [connection.encoded(body, headers) for body, headers in requests[index :: len(connections)]]
        for index, connection in enumerate(connections)
    ]

    async def over(number: int, connection: LoadConnection, share: list[bytes]) -> None:
        nonlocal errors, options
        for request in share:
            begin = time.perf_counter()
            status, answer = await connection.send(request)
            latency = time.perf_counter() - begin
            latencies.append(latency)
            timeline.append((begin, latency, number))
            if status != 200 or not answer.startswith(b"["):
                errors += 1
            options += answer.count(b'"id"')

    # The server and its descendants (its web processes).
    processes = tree(server_pid)
    cpu_before = {process: cpu_seconds(process) for process in processes}
    schedules_before: dict[int | str, Schedule] = {process: Schedule.of(process) for process in processes[1:]}
    schedules_before["client"] = Schedule.of("self")
    machine_before = cpu_by_process()
    load_cpu_before = time.process_time()
    begin = time.perf_counter()
    await asyncio.gather(*(over(*each) for each in zip(range(len(connections)), connections, shares, strict=True)))
    end = time.perf_counter()
    load_cpu = time.process_time() - load_cpu_before
    others = others_cpu(machine_before, cpu_by_process(), {os.getpid(), *processes})
    cpu = {process: cpu_seconds(process) - before for process, before in cpu_before.items()}
    schedules = {
        who: Schedule.of("self" if who == "client" else who) - before for who, before in schedules_before.items()
    }
    return Pass.of(
        latencies,
        errors=errors,
        options=options,
        seconds=end - begin,
        cpu_seconds=sum(cpu.values()),
        cpu_by_process=cpu,
        load_cpu_seconds=load_cpu,
        timeline=timeline,
        window=(begin, end),
        schedules=schedules,
        others_cpu=others,
    )


def _figures(mode: str, measured: Pass) -> str:
    count = measured.count
    target = TARGETS_MS[mode]
    p99 = measured.p99_ms
    verdict = "" if target is None else f"   target p99 < {target:.0f} ms: {'met' if p99 < target else 'MISSED'}"
    return (
        f"p50 {measured.p50_ms:7.2f}  p95 {measured.p95_ms:7.2f}  p99 {p99:7.2f} ms   "
        f"{count / measured.seconds:6,.0f} checkouts/s   CPU {measured.cpu_seconds / count * 1000:5.2f} ms each   "
        f"{measured.options / count:.2f} options each   errors {measured.errors}{verdict}"
    )


def report(mode: str, passes: list[Pass], carrier_ms: float, connections_by_process: dict[int, int]) -> None:
    p99s = [measured.p99_ms for measured in passes]
    best = passes[p99s.index(min(p99s))]
    print(f"  {mode:<7} {_figures(mode, best)}")
    if len(passes) > 1:

        def median(figure: Callable[[Pass], float]) -> float:
            return statistics.median(figure(measured) for measured in passes)

        print(
            f"  {'':<7} best of {len(passes)} passes (lowest p99) above; each pass's p99: "
            + ", ".join(f"{p99:.2f}" for p99 in p99s)
            + f" ms; medians: p50 {median(lambda m: m.p50_ms):.2f}"
            f"  p95 {median(lambda m: m.p95_ms):.2f}"
            f"  p99 {statistics.median(p99s):.2f} ms"
            f"  {median(lambda m: m.count / m.seconds):,.0f} checkouts/s"
            f"  CPU {median(lambda m: m.cpu_seconds / m.count * 1000):.2f} ms each"
        )
    count = best.count
    # The processes serving checkouts; the server's supervisor and the like are left out.
    split = ", ".join(
        f"{connections_by_process.get(process, 0)} connections and {cpu / count * 1000:.2f} ms CPU per "
        f"checkout ({cpu / best.seconds:.0%} of a core)"
        for process, cpu in sorted(best.cpu_by_process.items(), key=lambda item: -item[1])
        if connections_by_process.get(process) or cpu / best.seconds > 0.05
    )
    print(f"  {'':<7} by process (best pass): {split}")
    print(
        f"  {'':<7} load client (best pass): {best.load_cpu_seconds / count * 1000:.2f} ms CPU per checkout "
        f"({best.load_cpu_seconds / best.seconds:.0%} of a core)"
    )
    if mode == "live":
        print(f"  (live: each checkout waits for the fake carrier's {carrier_ms:g} ms)")


@contextmanager
def app_server(
    tmp: Path, url: str, server: str, workers: int, carrier_ms: float | None, diagnose: bool = False
) -> Iterator[tuple[str, int]]:
    extra = {CARRIER_MS_VARIABLE: f"{carrier_ms:g}"} if carrier_ms is not None else {}
    if diagnose:
        extra[DIAGNOSE_VARIABLE] = "1"
    env = app_environment(url, tmp / "app", APP_WORKER_IN_PROCESS="false", **extra)
    # A connection waits idle between passes while others finish: kept open, its checkouts go on
    # reaching the same process (and its caches).
    served = app_processes(server, "bench.checkout_webhook:bench_app", workers, env, tmp / "app.log", idle_seconds=600)
    with served as (base_url, pid):
        asyncio.run(wait_healthy("app", base_url))
        yield base_url, pid
    warnings = [line for line in (tmp / "app.log").read_text(errors="replace").splitlines() if "karrio" not in line]
    if warnings:
        print(f"  the app logged {len(warnings)} lines, the last: {warnings[-1][:300]}")


async def every_process_answering(base_url: str, server_pid: int, workers: int, within_seconds: float = 90.0) -> None:
    """Returns once each of the ``workers`` server processes has answered a request: ``wait_healthy``
    returns at the first, and the others may still be starting when the clock starts."""
    port = int(base_url.rsplit(":", 1)[1])
    answered: set[int] = set()
    deadline = time.monotonic() + within_seconds
    while len(answered) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(answered)} of {workers} server processes answered in {within_seconds:.0f} s")
        probes = [await LoadConnection.open(base_url) for _ in range(workers * 2)]
        try:
            for probe in probes:
                if (await probe.request("GET", "/health", {}))[0] == 200:
                    owner = _connection_owners(server_pid, port).get(probe.local_port)
                    if owner is not None:
                        answered.add(owner)
        finally:
            for probe in probes:
                probe.close()
        await asyncio.sleep(0.1)


async def measure(
    base_url: str,
    server_pid: int,
    workers: int,
    concurrency: int,
    warm: list[list[tuple[bytes, dict[str, str]]]],
    timed: list[tuple[bytes, dict[str, str]]],
    timed_passes: int,
    diagnose: bool,
) -> tuple[list[Pass], dict[int, int], list[str]]:
    """The timed passes, how many connections each server process holds, and (``diagnose``) what the
    slowest requests of each pass were made of."""
    await every_process_answering(base_url, server_pid, workers)
    client_loop = LoopWatcher()
    if diagnose:
        client_loop.start()
    connections = [await LoadConnection.open(base_url) for _ in range(concurrency)]
    try:
        for requests in warm:
            await send_pass(connections, requests, server_pid)
        # After the warm-up every connection has been accepted by some process.
        owners = _connection_owners(server_pid, int(base_url.rsplit(":", 1)[1]))
        connections_by_process: dict[int, int] = {}
        owner_of = [owners.get(connection.local_port, 0) for connection in connections]
        for owner in owner_of:
            connections_by_process[owner] = connections_by_process.get(owner, 0) + 1
        passes = [await send_pass(connections, timed, server_pid) for _ in range(timed_passes)]
        if not diagnose:
            return passes, connections_by_process, []
        figures = {}  # each process's own record (bench.diagnosis), asked over a connection it holds
        for process in connections_by_process:
            connection = connections[owner_of.index(process)]
            status, body = await connection.request("GET", DIAGNOSIS_PATH, {})
            if status == 200:
                figures[process] = json.loads(body)
        lines: list[str] = []
        for number, measured in enumerate(passes, 1):
            served = [TimedRequest(begin, seconds, owner_of[index]) for begin, seconds, index in measured.timeline]
            lines += describe_pass(
                number,
                served,
                measured.window,
                measured.schedules,
                figures,
                client_loop.late_ticks,
                measured.others_cpu,
            )
            lines.append(describe_client(client_loop.late_ticks, measured.window))
        return passes, connections_by_process, lines
    finally:
        for connection in connections:
            connection.close()


# The timed passes with wrk (``--load wrk``) ----------------------------------------------------------------------
# wrk's one thread sends the checkouts over its connections in whatever order they free up, so a checkout
# does not keep to one server process: the warm-up (the Python client, which also checks the answers)
# sends every checkout to each process, so that each answers any of them from its own caches.


async def warm_every_process(
    base_url: str, server_pid: int, workers: int, concurrency: int, warm: list[list[tuple[bytes, dict[str, str]]]]
) -> tuple[int, int, int]:
    """Every warm-up checkout sent to each server process over that process's connections; the last
    warm-up pass's checkouts, errors and options, summed over the processes."""
    await every_process_answering(base_url, server_pid, workers)
    connections = [await LoadConnection.open(base_url) for _ in range(concurrency)]
    try:
        for connection in connections:  # each one accepted by some process before the owners are read
            await connection.request("GET", "/health", {})
        owners = _connection_owners(server_pid, int(base_url.rsplit(":", 1)[1]))
        by_process: dict[int, list[LoadConnection]] = {}
        for connection in connections:
            by_process.setdefault(owners.get(connection.local_port, 0), []).append(connection)
        if len(by_process) < workers or 0 in by_process:
            raise RuntimeError(f"the warm-up's connections reached {len(by_process)} of {workers} server processes")
        answered: list[Pass] = []
        for requests in warm:
            answered = list(
                await asyncio.gather(*(send_pass(own, requests, server_pid) for own in by_process.values()))
            )
        return (
            sum(each.count for each in answered),
            sum(each.errors for each in answered),
            sum(each.options for each in answered),
        )
    finally:
        for connection in connections:
            connection.close()


def wrk_pass(
    base_url: str, server_pid: int, requests_file: Path, concurrency: int, seconds: float
) -> tuple[Pass, dict[int, int], int]:
    """One timed pass of wrk (one thread, ``concurrency`` connections, ``seconds`` long) with the
    answers checked; how many of its connections each server process held halfway; how many times it
    ran out of checkouts and started over."""
    port = int(base_url.rsplit(":", 1)[1])
    owners: dict[int, int] = {}
    cpu_before = {process: cpu_seconds(process) for process in tree(server_pid)}
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    run = run_wrk(
        base_url + PATH,
        requests_file,
        threads=1,
        connections=concurrency,
        seconds=seconds,
        counted=('"id"', "["),
        midway=lambda: owners.update(_connection_owners(server_pid, port)),
    )
    end = time.perf_counter()
    cpu = {process: cpu_seconds(process) - before for process, before in cpu_before.items()}
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = wrk_after.ru_utime + wrk_after.ru_stime - wrk_before.ru_utime - wrk_before.ru_stime
    connections_by_process: dict[int, int] = {}
    for owner in owners.values():
        connections_by_process[owner] = connections_by_process.get(owner, 0) + 1
    measured = Pass(
        run.requests,
        run.p50_ms,
        run.p95_ms,
        run.p99_ms,
        run.errors,
        run.counted,
        run.seconds,
        sum(cpu.values()),
        cpu,
        wrk_cpu,
        # No request's own timing and no scheduling figures: --diagnose is for the Python client.
        timeline=[],
        window=(begin, end),
        schedules={},
        others_cpu={},
    )
    return measured, connections_by_process, run.wrapped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--carrier-ms", type=float, default=100)
    parser.add_argument("--app-workers", type=int, default=2)
    parser.add_argument("--server", choices=SERVERS, default="uvicorn", help="what serves the app (default uvicorn)")
    parser.add_argument("--modes", default="tables,cached,live")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="note collections, event-loop lateness and scheduling in the server's processes (bench.diagnosis)",
    )
    parser.add_argument(
        "--timed-passes", type=int, default=1, help="passes measured per mode (live: always 1, its cache fills)"
    )
    parser.add_argument(
        "--load",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="what sends the timed passes (default wrk when on PATH): wrk (C, one thread) or the Python client",
    )
    parser.add_argument(
        "--wrk-seconds", type=int, default=3, help="length of each timed pass with wrk (it is duration-based)"
    )
    args = parser.parse_args()
    if args.diagnose and args.load != "python":
        parser.error("--diagnose times each request of the Python client: add --load python")
    modes = [mode.strip() for mode in args.modes.split(",")]

    signer = SaleorSigner(0)
    load = f"wrk, one thread, {args.wrk_seconds:g} s per pass" if args.load == "wrk" else "Python client"
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    print(
        f"{args.checkouts} checkouts, {args.concurrency} keep-alive connections ({load}), "
        f"{args.app_workers} app processes under {args.server}, carrier answering in {args.carrier_ms:g} ms"
    )
    with tempfile.TemporaryDirectory(prefix="saleor-ops-checkout-") as folder:
        tmp = Path(folder)
        with throwaway_postgresql(f"saleor_ops_checkout_{os.getpid()}") as url:
            runtime = Runtime.build(bench_settings(url, tmp / "app"))

            async def prepared() -> Catalogue:
                try:
                    return await prepare_store(runtime, signer)
                finally:
                    await runtime.close()

            catalogue = asyncio.run(prepared())
            checkouts = signed_checkouts(signer, catalogue, args.checkouts, seed=args.seed, distinct_weight=False)
            fresh = signed_checkouts(signer, catalogue, args.checkouts, seed=args.seed + 1, distinct_weight=True)
            for mode in modes:
                carrier_ms = None if mode == "tables" else args.carrier_ms
                warm = [fresh[: args.concurrency * 4]] if mode == "live" else [checkouts]
                timed = fresh[args.concurrency * 4 :] if mode == "live" else checkouts
                timed_passes = 1 if mode == "live" else args.timed_passes
                served = app_server(tmp, url, args.server, args.app_workers, carrier_ms, args.diagnose)
                with served as (base_url, pid):
                    if args.load == "wrk":
                        warmed = uvloop.run(warm_every_process(base_url, pid, args.app_workers, args.concurrency, warm))
                        requests_file = write_requests(tmp / f"{mode}.requests", PATH, timed)
                        runs = [
                            wrk_pass(base_url, pid, requests_file, args.concurrency, args.wrk_seconds)
                            for _ in range(timed_passes)
                        ]
                    else:
                        passes, connections_by_process, diagnosis = uvloop.run(
                            measure(
                                base_url,
                                pid,
                                args.app_workers,
                                args.concurrency,
                                warm,
                                timed,
                                timed_passes,
                                args.diagnose,
                            )
                        )
                if args.load == "wrk":
                    passes = [measured for measured, _, _ in runs]
                    connections_by_process = min(runs, key=lambda run: run[0].p99_ms)[1]
                report(mode, passes, args.carrier_ms, connections_by_process)
                if args.load == "wrk":
                    checked, errors, options = warmed
                    print(
                        f"  {'':<7} warm-up, answers checked (Python client, each checkout to each of the "
                        f"{args.app_workers} processes): {options / checked:.2f} options each, errors {errors}"
                    )
                    if mode == "live" and any(wrapped for _, _, wrapped in runs):
                        print(f"  {'':<7} wrk ran out of fresh checkouts: some were asked again; shorten --wrk-seconds")
                else:
                    print("\n".join(diagnosis), end="\n" if diagnosis else "")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

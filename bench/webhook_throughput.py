"""Webhook throughput: what a signed ORDER_CREATED delivery costs, alone and end to end.

Measures, in one run:

1. ``verify_webhook_signature`` alone: p50/p99 microseconds and ops/s (target: p50 under 1 ms).
2. Signed ORDER_CREATED deliveries, each a distinct order, POSTed over loopback to the real app,
   which scores each order and writes the outcome back (metadata, note, confirm) to a local fake
   Saleor in a third process
   (``create_app(Settings())`` under uvicorn, one worker, in its own process) on SQLite and/or on
   a throwaway PostgreSQL database (127.0.0.1:5432, user ``postgres``, trust auth; dropped after).
3. A ceiling: a bare FastAPI endpoint answering ``{"status": "ok"}``, served and loaded the same way.

The load is C keep-alive HTTP/1.1 connections from a minimal asyncio client (httpx on the
other core was the bottleneck, not the servers), N requests (plus a short untimed warm-up)
and a hard time limit; bodies are built and signed before the clock starts. Target: app/echo >= 0.5.

    .venv/bin/python -m bench.webhook_throughput [--requests N] [--concurrency C] \
        [--database sqlite|postgresql|both] [--iterations I] [--time-limit SECONDS]

Exits non-zero only when something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.main import create_app
from app.saleor.jwks import parse_key_set
from app.saleor.signature import verify_webhook_signature
from bench.harness import (
    ORDER_CREATED_PATH,
    Delivery,
    app_environment,
    bench_settings,
    build_deliveries,
    drive,
    percentile,
    python_server,
    seed,
    throwaway_postgresql,
    wait_healthy,
)
from bench.pipeline_processing import saleor_answer
from tests.fakes.saleor_signer import SaleorSigner

PATH = ORDER_CREATED_PATH
WARMUP = 50


@dataclass
class Result:
    name: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: tuple[float, ...] = ()
    failure: str = ""

    @property
    def per_second(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def echo_app() -> FastAPI:
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_api_route("/health", ok, methods=["GET"])
    app.add_api_route(PATH, ok, methods=["POST"])
    return app


def fake_saleor_app() -> FastAPI:
    """A local Saleor for the write-back (metadata, note, confirm): every mutation succeeds."""

    async def graphql(request: Request) -> JSONResponse:
        return JSONResponse(saleor_answer(await request.json()))

    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_api_route("/health", ok, methods=["GET"])
    app.add_api_route("/graphql/", graphql, methods=["POST"])
    return app


def serve(target: str, port: int) -> None:
    """Entry point of the server process; the app reads its Settings from APP_* variables."""
    apps = {"app": lambda: create_app(Settings()), "echo": echo_app, "saleor": fake_saleor_app}
    app = apps[target]()
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, access_log=False, log_level="warning")


def server(target: str, env: dict[str, str], log: Path) -> contextlib.AbstractContextManager[str]:
    return python_server(f"from bench.webhook_throughput import serve; serve({target!r}, {{port}})", env, log)


def bench_signature(signer: SaleorSigner, delivery: Delivery, iterations: int) -> tuple[float, float, float]:
    """p50 and p99 in microseconds, and ops/s, of one verification."""
    body, headers = delivery
    signature, keys = headers["saleor-signature"], parse_key_set(signer.jwks_text())
    timings = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        verify_webhook_signature(signature, body, keys)
        timings.append((time.perf_counter_ns() - start) / 1000)
    return percentile(timings, 50), percentile(timings, 99), 1e6 / (sum(timings) / len(timings))


async def load(name: str, base_url: str, deliveries: list[Delivery], args: argparse.Namespace) -> Result:
    expect = b'"ok"' if name.startswith("echo") else b'"recorded"'
    await wait_healthy(name, base_url)
    warmup, timed = deliveries[:WARMUP], deliveries[WARMUP:]
    await drive(base_url, PATH, warmup, args.concurrency, time.perf_counter() + args.time_limit, expect)
    start = time.perf_counter()
    latencies, errors = await drive(base_url, PATH, timed, args.concurrency, start + args.time_limit, expect)
    return Result(name, len(latencies), errors, time.perf_counter() - start, tuple(latencies))


def run_app(
    database: str,
    tmp: Path,
    signer: SaleorSigner,
    api_url: str,
    deliveries: list[Delivery],
    args: argparse.Namespace,
) -> Result:
    name = f"app/{database}"
    try:
        with contextlib.ExitStack() as stack:
            if database == "sqlite":
                url = f"sqlite+aiosqlite:///{tmp / 'sqlite' / 'bench.db'}"
                upgrade_to_head(url)
            else:
                url = stack.enter_context(throwaway_postgresql(f"saleor_ops_bench_{os.getpid()}"))
            data_dir = tmp / database
            asyncio.run(seed(bench_settings(url, data_dir), signer, api_url))
            with server("app", app_environment(url, data_dir), tmp / f"{database}.log") as base_url:
                return asyncio.run(load(name, base_url, deliveries, args))
    except Exception as exc:  # reported in the table; the run still exits non-zero
        return Result(name, failure=f"{exc.__class__.__name__}: {exc}")


def report(args: argparse.Namespace, signature: tuple[float, float, float], results: list[Result]) -> None:
    p50, p99, ops = signature
    verdict = "met" if p50 < 1000 else "MISSED"
    print(f"\nSignature verification ({args.iterations} iterations, RS256 / 2048-bit key)")
    print(f"  p50 {p50:.1f} us   p99 {p99:.1f} us   {ops:,.0f} ops/s   target p50 < 1 ms: {verdict}")
    print(f"\nDeliveries: {args.requests} requests, concurrency {args.concurrency}, time limit {args.time_limit:.0f} s")
    print(f"  {'target':<16}{'requests':>9}{'errors':>8}{'seconds':>9}{'deliv/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        if r.failure:
            print(f"  {r.name:<16}FAILED: {r.failure}")
            continue
        p50_ms, p99_ms = percentile(r.latencies, 50) * 1000, percentile(r.latencies, 99) * 1000
        row = f"{r.requests:>9}{r.errors:>8}{r.seconds:>9.2f}{r.per_second:>9.0f}{p50_ms:>9.2f}{p99_ms:>9.2f}"
        print(f"  {r.name:<16}{row}")
    echo = results[0]
    for r in results[1:]:
        if not (r.failure or echo.failure) and echo.per_second:
            ratio = r.per_second / echo.per_second
            print(f"  ratio {r.name}/echo: {ratio:.2f}   target >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--iterations", type=int, default=5000, help="signature verifications to time")
    parser.add_argument("--time-limit", type=float, default=120.0, help="hard limit per timed load, seconds")
    args = parser.parse_args()

    signer = SaleorSigner(0)
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory(prefix="saleor-ops-bench-") as folder:
        tmp = Path(folder)
        with server("saleor", {}, tmp / "saleor.log") as saleor_url:
            asyncio.run(wait_healthy("saleor", saleor_url))
            api_url = f"{saleor_url}/graphql/"
            deliveries = build_deliveries(signer, WARMUP + args.requests, api_url)
            signature = bench_signature(signer, deliveries[0], args.iterations)
            with server("echo", {}, tmp / "echo.log") as base_url:
                results = [asyncio.run(load("echo (ceiling)", base_url, deliveries, args))]
            results += [run_app(database, tmp, signer, api_url, deliveries, args) for database in databases]
    report(args, signature, results)
    return 1 if any(r.failure for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

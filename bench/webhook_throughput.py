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
import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.repositories.installations import SqlInstallationStore
from app.domain.ids import SaleorApiUrl
from app.main import create_app
from app.runtime import Runtime
from app.saleor.jwks import parse_key_set
from app.saleor.signature import verify_webhook_signature
from bench import stats
from tests.builders import body_of, make_installation, order_payload
from tests.fakes.saleor_signer import SaleorSigner

ROOT = Path(__file__).resolve().parents[1]
PATH = "/api/webhooks/order-created"
SECRET = "bench-secret-key"
WARMUP = 50
Delivery = tuple[bytes, dict[str, str]]
HEADERS = {  # what Saleor sends with a delivery, but the signature (tests.api.conftest.py)
    "content-type": "application/json",
    "saleor-event": "order_created",
    "saleor-domain": "shop.test",
    "saleor-api-url": "https://shop.test/graphql/",
    "user-agent": "Saleor/3.24",
}


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


def percentile(values: list[float] | tuple[float, ...], p: float) -> float:
    """NaN for a run in which no request succeeded."""
    return stats.percentile(values, p) if values else float("nan")


def echo_app() -> FastAPI:
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_api_route("/health", ok, methods=["GET"])
    app.add_api_route(PATH, ok, methods=["POST"])
    return app


# What a Saleor answers to the app's write-back: every mutation succeeds.
_OK: dict[str, object] = {"errors": []}
SALEOR_ANSWERS: dict[str, dict[str, object]] = {
    "FraudDecision": {"data": {"updatePrivateMetadata": _OK, "orderNoteAdd": _OK, "orderConfirm": _OK}},
    "OrderCancel": {"data": {"orderCancel": {"order": None, **_OK}}},
}


def fake_saleor_app() -> FastAPI:
    """A local Saleor for the write-back (metadata, note, confirm), answering by operation name."""

    async def graphql(request: Request) -> JSONResponse:
        body = await request.json()
        answer = SALEOR_ANSWERS.get(body.get("operationName", ""))
        return JSONResponse(answer or {"errors": [{"message": "unexpected operation"}]})

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


@contextmanager
def server(target: str, env: dict[str, str], log: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # a free loopback port
        port: int = sock.getsockname()[1]
    code = f"from bench.webhook_throughput import serve; serve({target!r}, {port})"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out
        )
        try:
            yield f"http://127.0.0.1:{port}"
        except Exception:
            print(f"{target} server log (tail):\n{log.read_text()[-2000:]}", file=sys.stderr)
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def build_deliveries(signer: SaleorSigner, count: int, api_url: str) -> list[Delivery]:
    deliveries = []
    for i in range(count):
        order_id = base64.b64encode(f"Order:bench-{i}".encode()).decode()
        # 500 customers, so history and velocity look like a shop's, not one shopper's flood.
        body = body_of(order_payload(order_id=order_id, number=str(10_000 + i), userEmail=f"c{i % 500}@example.com"))
        headers = {**HEADERS, "saleor-api-url": api_url, "saleor-signature": signer.sign(body)}
        deliveries.append((body, headers))
    return deliveries


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


async def seed(settings: Settings, signer: SaleorSigner, api_url: str) -> None:
    runtime = Runtime.build(settings)
    try:
        async with runtime.sessions.begin() as session:
            installation = make_installation(saleor_api_url=SaleorApiUrl(api_url), jwks=signer.jwks_text())
            await SqlInstallationStore(session, runtime.cipher).save(installation)
    finally:
        await runtime.close()


class Connection:
    """A minimal HTTP/1.1 keep-alive client: httpx on the other core would be the bottleneck, not the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer, f"{host}:{port}")

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}", f"content-length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = next((int(h.split(":", 1)[1]) for h in header_lines if h.lower().startswith("content-length:")), 0)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def drive(
    base_url: str, deliveries: list[Delivery], concurrency: int, deadline: float, expect: bytes
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    pending = iter(deliveries)

    async def worker() -> None:
        nonlocal errors
        connection = await Connection.open(base_url)
        try:
            for body, headers in pending:
                if time.perf_counter() > deadline:
                    return
                start = time.perf_counter()
                try:
                    status, answer = await connection.request("POST", PATH, headers, body)
                    ok = status == 200 and expect in answer
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                    connection.close()
                    connection = await Connection.open(base_url)
                latencies.append(time.perf_counter() - start)
                errors += not ok
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


async def wait_healthy(name: str, base_url: str) -> None:
    for _ in range(300):  # the server must answer /health within 30 s
        try:
            connection = await Connection.open(base_url)
            try:
                if (await connection.request("GET", "/health", {}))[0] == 200:
                    return
            finally:
                connection.close()
        except (OSError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{name}: /health never answered 200 within 30 s")


async def load(name: str, base_url: str, deliveries: list[Delivery], args: argparse.Namespace) -> Result:
    expect = b'"ok"' if name.startswith("echo") else b'"recorded"'
    await wait_healthy(name, base_url)
    warmup, timed = deliveries[:WARMUP], deliveries[WARMUP:]
    await drive(base_url, warmup, args.concurrency, time.perf_counter() + args.time_limit, expect)
    start = time.perf_counter()
    latencies, errors = await drive(base_url, timed, args.concurrency, start + args.time_limit, expect)
    return Result(name, len(latencies), errors, time.perf_counter() - start, tuple(latencies))


def psql(sql: str) -> None:
    command = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1"]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}
    done = subprocess.run([*command, "-qc", sql], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed ({done.returncode}): {done.stderr.strip()}")


def run_app(
    database: str,
    tmp: Path,
    signer: SaleorSigner,
    api_url: str,
    deliveries: list[Delivery],
    args: argparse.Namespace,
) -> Result:
    name = f"app/{database}"
    pg_name = f"saleor_ops_bench_{os.getpid()}"
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'sqlite' / 'bench.db'}"
    else:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_name}"
    created = False
    try:
        if database == "postgresql":
            psql(f"CREATE DATABASE {pg_name}")
            created = True
        upgrade_to_head(url)
        data_dir = tmp / database
        settings = Settings(database_url=url, secret_key=SECRET, data_dir=data_dir, log_level="WARNING", _env_file=None)
        asyncio.run(seed(settings, signer, api_url))
        env = {
            "APP_DATABASE_URL": url,
            "APP_SECRET_KEY": SECRET,
            "APP_DATA_DIR": str(data_dir),
            "APP_LOG_LEVEL": "WARNING",
            "APP_PUBLIC_URL": "http://127.0.0.1",
        }
        with server("app", env, tmp / f"{database}.log") as base_url:
            return asyncio.run(load(name, base_url, deliveries, args))
    except Exception as exc:  # reported in the table; the run still exits non-zero
        return Result(name, failure=f"{exc.__class__.__name__}: {exc}")
    finally:
        if created:
            try:
                psql(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
            except RuntimeError as exc:
                print(f"warning: could not drop {pg_name}: {exc}", file=sys.stderr)


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

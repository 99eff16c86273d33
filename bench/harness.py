"""What the webhook benches share: signed deliveries, servers in their own processes, a throwaway
PostgreSQL database, and a minimal keep-alive HTTP load client.

Bodies are built and signed before any clock starts; servers run in subprocesses so the load and the
server do not share an interpreter.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import Settings
from app.db.migrate import upgrade_to_head
from app.db.repositories.installations import SqlInstallationStore
from app.domain.ids import SaleorApiUrl
from app.runtime import Runtime
from bench import stats
from tests.builders import body_of, make_installation, order_payload
from tests.fakes.saleor_signer import SaleorSigner

ROOT = Path(__file__).resolve().parents[1]
ORDER_CREATED_PATH = "/api/webhooks/order-created"
SECRET = "bench-secret-key"
Delivery = tuple[bytes, dict[str, str]]
HEADERS = {  # what Saleor sends with a delivery, but the signature (tests.api.conftest.py)
    "content-type": "application/json",
    "saleor-event": "order_created",
    "saleor-domain": "shop.test",
    "saleor-api-url": "https://shop.test/graphql/",
    "user-agent": "Saleor/3.24",
}


def percentile(values: list[float] | tuple[float, ...], p: float) -> float:
    """NaN for a run in which no request succeeded."""
    return stats.percentile(values, p) if values else float("nan")


def build_deliveries(
    signer: SaleorSigner,
    count: int,
    api_url: str,
    *,
    first: int = 0,
    issued_at: str | None = None,
    customers: int = 500,
) -> list[Delivery]:
    """Signed ORDER_CREATED deliveries of distinct orders ``first`` … ``first + count - 1``, from ``customers``
    customers in turn (500 by default, so history and velocity look like a shop's, not one shopper's flood)."""
    deliveries = []
    stamp = {"issued_at": issued_at} if issued_at else {}
    for i in range(first, first + count):
        order_id = base64.b64encode(f"Order:bench-{i}".encode()).decode()
        email = f"c{i % customers}@example.com"
        payload = order_payload(order_id=order_id, number=str(10_000 + i), userEmail=email, **stamp)
        body = body_of(payload)
        headers = {**HEADERS, "saleor-api-url": api_url, "saleor-signature": signer.sign(body)}
        deliveries.append((body, headers))
    return deliveries


def app_environment(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The APP_* variables a served app reads its Settings from."""
    return {
        "APP_DATABASE_URL": url,
        "APP_SECRET_KEY": SECRET,
        "APP_DATA_DIR": str(data_dir),
        "APP_LOG_LEVEL": "WARNING",
        "APP_PUBLIC_URL": "http://127.0.0.1",
        **extra,
    }


def bench_settings(url: str, data_dir: Path) -> Settings:
    return Settings(database_url=url, secret_key=SECRET, data_dir=data_dir, log_level="WARNING", _env_file=None)


async def seed(settings: Settings, signer: SaleorSigner, api_url: str) -> None:
    """Install the app for the store ``api_url``, with ``signer``'s keys."""
    runtime = Runtime.build(settings)
    try:
        async with runtime.sessions.begin() as session:
            installation = make_installation(saleor_api_url=SaleorApiUrl(api_url), jwks=signer.jwks_text())
            await SqlInstallationStore(session, runtime.cipher).save(installation)
    finally:
        await runtime.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def process(name: str, command: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> Iterator[int]:
    """Run ``command`` until the block ends, yielding its pid; its output goes to ``log``, whose tail is
    shown on failure."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=out)
        try:
            yield proc.pid
        except Exception:
            print(f"{name} log (tail):\n{log.read_text(errors='replace')[-2000:]}", file=sys.stderr)
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def python_server(code: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """A server run by ``code``, formatted with ``{port}``; yields its base URL."""
    port = free_port()
    with process(code, [sys.executable, "-c", code.format(port=port)], env, log):
        yield f"http://127.0.0.1:{port}"


def psql(sql: str, database: str = "postgres") -> str:
    command = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1"]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}
    done = subprocess.run([*command, "-Atqc", sql], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


@contextmanager
def throwaway_postgresql(name: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (127.0.0.1:5432, user postgres), dropped after; yields its URL."""
    psql(f"CREATE DATABASE {name}")
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        upgrade_to_head(url)
        yield url
    finally:
        try:
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except RuntimeError as exc:
            print(f"warning: could not drop {name}: {exc}", file=sys.stderr)


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
    base_url: str, path: str, deliveries: Iterable[Delivery], concurrency: int, deadline: float, expect: bytes
) -> tuple[list[float], int]:
    """POST the deliveries over ``concurrency`` connections until they run out or the deadline passes;
    each request's seconds, and how many were not answered 200 with ``expect`` in the body."""
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
                    status, answer = await connection.request("POST", path, headers, body)
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


async def wait_healthy(name: str, base_url: str, within_seconds: float = 90.0) -> None:
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
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
    raise RuntimeError(f"{name}: /health never answered 200 within {within_seconds:.0f} s")

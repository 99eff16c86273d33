"""``saleor-ops`` as real processes on a throwaway PostgreSQL database, for the crash tests and the bench.

Each process runs in its own session, so that ``kill -9`` takes it whole (``serve --workers N`` is a
parent and N children). Deliveries reach the app signed, as Saleor sends them, or straight into the
database when the test is about the workers alone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import delete, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db.base import Base
from app.db.engine import create_engine
from app.db.migrate import upgrade_to_head
from app.db.repositories.installations import SqlInstallationStore
from app.db.repositories.order_events import SqlOrderEventLog
from app.domain.ids import SaleorApiUrl, SaleorId
from app.domain.order_event import ReceivedOrderEvent
from app.runtime import Runtime
from tests.builders import NOW, make_installation
from tests.fakes.saleor_signer import SaleorSigner
from tests.pipeline.orders import Delivery
from tests.pipeline.outcome import Outcome, outcome

ROOT = Path(__file__).resolve().parents[2]
SECRET = "processes-secret-key"
# How long a process may take to come up: each imports the whole app first, ~10 s of it on a quiet slow
# machine; a fresh checkout's first start under CI's load once took over 60.
STARTING_SECONDS = 180


@contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """A new, migrated database on the PostgreSQL server of ``server_url``, dropped afterwards."""
    admin = make_url(server_url).set(database="postgres")

    async def run(statement: str) -> None:
        engine = create_engine(admin.render_as_string(hide_password=False))
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def settings_for(database_url: str, data_dir: Path, **more: str) -> dict[str, str]:
    """The environment of an app process: its database, a shared secret key and quick leases."""
    return {
        "APP_DATABASE_URL": database_url,
        "APP_SECRET_KEY": SECRET,
        "APP_DATA_DIR": str(data_dir),
        "APP_PUBLIC_URL": "http://127.0.0.1",
        "APP_LOG_JSON": "false",
        "APP_LOG_LEVEL": "INFO",
        # A dispatcher killed mid-call leaves its effect to the next one after two seconds.
        "APP_SALEOR_TIMEOUT_SECONDS": "1.5",
        "APP_WORKER_LEASE_SECONDS": "2",
        **more,
    }


def _runtime(database_url: str) -> Runtime:
    return Runtime.build(Settings(database_url=database_url, secret_key=SECRET, _env_file=None))


async def reset(database_url: str, signer: SaleorSigner, api_url: str) -> None:
    """Empty every table, then install the app for the store at ``api_url``."""
    runtime = _runtime(database_url)
    try:
        async with runtime.sessions.begin() as session:
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(delete(table))
            installation = make_installation(saleor_api_url=SaleorApiUrl(api_url), jwks=signer.jwks_text())
            await SqlInstallationStore(session, runtime.cipher).save(installation)
    finally:
        await runtime.close()


async def store(database_url: str, api_url: str, deliveries: Iterable[Delivery]) -> None:
    """Deliveries stored as the webhook route stores them, for tests of the workers alone."""
    runtime = _runtime(database_url)
    try:
        async with runtime.sessions.begin() as session:
            log = SqlOrderEventLog(session)
            for delivery in deliveries:
                await log.record(
                    ReceivedOrderEvent(
                        saleor_api_url=SaleorApiUrl(api_url),
                        event=delivery.event.lower(),
                        order_id=SaleorId(delivery.order_id),
                        order_number=None,
                        issued_at=delivery.issued_at,
                        saleor_version="3.24.0-a.0",
                        received_at=NOW,
                        payload=delivery.body.decode(),
                    )
                )
    finally:
        await runtime.close()


async def current(database_url: str) -> Outcome:
    runtime = _runtime(database_url)
    try:
        async with runtime.sessions() as session:
            return await outcome(session)
    finally:
        await runtime.close()


async def settled(database_url: str, *, within: float) -> Outcome:
    """The outcome once nothing waits any more; the last one seen when ``within`` seconds pass first."""
    deadline = time.monotonic() + within
    while True:
        seen = await current(database_url)
        if seen.settled or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(0.2)


async def rows(database_url: str, table: str) -> int:
    runtime = _runtime(database_url)
    try:
        async with runtime.sessions() as session:
            return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    finally:
        await runtime.close()


async def backends_waiting_for_a_lock(database_url: str) -> int:
    """How many connections to this database wait for a lock another holds."""
    runtime = _runtime(database_url)
    try:
        async with runtime.sessions() as session:
            query = text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return int(await session.scalar(query) or 0)
    finally:
        await runtime.close()


@dataclass
class AppProcess:
    """``python -m app.cli ARGS`` in a session of its own, its output kept in ``log``."""

    args: Sequence[str]
    env: Mapping[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> AppProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *self.args],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, line: str, *, within: float = STARTING_SECONDS) -> None:
        """Until the output says ``line`` (the worker's start line, say)."""
        deadline = time.monotonic() + within
        while line not in self.output():
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{' '.join(self.args)} exited {self.process.returncode}:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{' '.join(self.args)} never said {line!r}:\n{self.output()[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """``kill -9``, of the process and every process it started."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, *, within: float = 30) -> int:
        """SIGTERM, then its exit code."""
        assert self.process is not None, "not started"
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def web_processes(self) -> list[int]:
        """The uvicorn workers ``serve --workers N`` started (multiprocessing's helper left out)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(pid) for pid in children if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]


@dataclass(frozen=True)
class Held:
    """The TCP sockets on one local port that a process holds, as the kernel lists them."""

    listening: frozenset[int]  # the inodes of its listening sockets
    clients: frozenset[int]  # the client ports of the connections it accepted


def held_on(pid: int, port: int) -> Held:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    listening, clients = set(), set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, remote_port = (int(address.split(":")[1], 16) for address in fields[1:3])
        state, inode = fields[3], int(fields[9])
        if local_port != port or inode not in inodes:
            continue
        if state == "0A":  # LISTEN
            listening.add(inode)
        elif state == "01":  # ESTABLISHED
            clients.add(remote_port)
    return Held(frozenset(listening), frozenset(clients))


def serve(base: Path, env: Mapping[str, str], port: int, *, workers: int = 2) -> AppProcess:
    return AppProcess(
        ["serve", "--port", str(port), "--workers", str(workers), "--no-worker"], env, base / "serve.log"
    ).start()


def worker(base: Path, env: Mapping[str, str], name: str = "worker", *flags: str) -> AppProcess:
    started = AppProcess(["worker", *flags], env, base / f"{name}.log").start()
    try:
        # Its loops are running and it hears of stored deliveries: "worker started" comes before both.
        started.wait_for("listening for stored deliveries")
    except BaseException:
        started.kill()  # not left running when it never came up, or the wait was interrupted
        raise
    return started


async def wait_healthy(base_url: str, *, within: float = STARTING_SECONDS) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while True:
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{base_url}/health never answered 200")
            await asyncio.sleep(0.1)


SignedDelivery = tuple[Delivery, dict[str, str]]


def signed(deliveries: Iterable[Delivery], signer: SaleorSigner, api_url: str) -> list[SignedDelivery]:
    """Each delivery with the headers Saleor sends it with, its signature among them."""
    return [
        (
            delivery,
            {
                "content-type": "application/json",
                "saleor-event": delivery.event.lower(),
                "saleor-domain": "127.0.0.1",
                "saleor-api-url": api_url,
                "saleor-signature": signer.sign(delivery.body),
                "user-agent": "Saleor/3.24",
            },
        )
        for delivery in deliveries
    ]


async def post(
    base_url: str,
    deliveries: Sequence[SignedDelivery],
    *,
    connections: int = 8,
    on_acknowledged: Callable[[int], object] = lambda count: None,
) -> list[SignedDelivery]:
    """POST each delivery as Saleor does, ``connections`` at a time; those not acknowledged with a 2xx
    (the server was down, say), for Saleor to send again. ``on_acknowledged`` hears the running count."""
    waiting = iter(deliveries)
    unacknowledged: list[SignedDelivery] = []
    acknowledged = 0

    async def connection(client: httpx.AsyncClient) -> None:
        nonlocal acknowledged
        for delivery, headers in waiting:
            try:
                response = await client.post(delivery.path, content=delivery.body, headers=headers)
                ok = response.is_success
            except httpx.TransportError:
                ok = False
            if ok:
                acknowledged += 1
                on_acknowledged(acknowledged)
            else:
                unacknowledged.append((delivery, headers))

    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        await asyncio.gather(*(connection(client) for _ in range(connections)))
    return unacknowledged

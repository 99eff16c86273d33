"""The app as a merchant runs it: ``saleor-ops serve`` in a subprocess, on a fresh SQLite data folder."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.net import free_port

REPOSITORY = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90.0  # the embedded database is migrated before the app listens
STOP_SECONDS = 15.0
CLI_SECONDS = 180.0


@dataclass(frozen=True)
class RecordedEvent:
    event: str
    issued_at: datetime


class RunningApp:
    """A ``saleor-ops serve`` process; its log is a file in its data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "app.log"
        self.database = data_dir / "saleor-ops.db"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def manifest_url(self) -> str:
        return f"{self.url}/api/manifest"

    def environment(self) -> dict[str, str]:
        # The app reads only APP_* variables: none of the caller's may leak into this one.
        inherited = {name: value for name, value in os.environ.items() if not name.startswith("APP_")}
        return inherited | {
            "PYTHONPATH": str(REPOSITORY),
            "APP_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "APP_DATA_DIR": str(self.data_dir),
            "APP_PUBLIC_URL": self.url,
            "APP_LOG_JSON": "true",
        }

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.data_dir,  # no .env of the caller's is read
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise AssertionError(f"saleor-ops serve exited with {self._process.returncode}:\n{self.log_tail()}")
                try:
                    if http.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
        self.stop()
        raise AssertionError(
            f"saleor-ops serve did not answer /health within {STARTUP_SECONDS:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(STOP_SECONDS)

    def run_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A ``saleor-ops`` command on this app's database, as the merchant would run it beside the server."""
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=self.data_dir,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=CLI_SECONDS,
            check=False,
        )

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_lines_about(self, text: str, lines: int = 10) -> str:
        """The app's last log lines that mention ``text`` (an order id, an event name)."""
        if not self.log_path.exists():
            return "(no log)"
        matching = [line for line in self.log_path.read_text(errors="replace").splitlines() if text in line]
        return "\n".join(matching[-lines:]) or f"(no log line mentions {text})"

    def installed_api_urls(self) -> list[str]:
        """The Saleor API URLs the app has installations for, as Saleor's register call named them."""
        with sqlite3.connect(self.database) as db:
            return [url for (url,) in db.execute("SELECT saleor_api_url FROM installations")]

    def recorded_events(self, order_id: str) -> list[RecordedEvent]:
        """The order's deliveries the app has handled: processed by its worker, and no effect of the order
        still on its way to Saleor."""
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                "SELECT event, issued_at FROM order_events WHERE order_id = ? AND status = 'done'"
                " AND NOT EXISTS (SELECT 1 FROM effects WHERE effects.order_id = order_events.order_id"
                " AND effects.status IN ('pending', 'sending')) ORDER BY issued_at",
                (order_id,),
            ).fetchall()
        return [RecordedEvent(event, _instant(issued_at)) for event, issued_at in rows]

    def recorded_bodies(self, order_id: str, event: str) -> list[str]:
        """The bodies of the order's ``event`` deliveries (e.g. ``order_created``) the app stored, as Saleor
        sent them."""
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                "SELECT payload FROM order_events WHERE order_id = ? AND event = ? ORDER BY issued_at",
                (order_id, event),
            ).fetchall()
        return [payload for (payload,) in rows]


def _instant(stored: str) -> datetime:
    value = datetime.fromisoformat(stored)
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # the app stores UTC, naive on SQLite


@dataclass(frozen=True)
class InstalledOps:
    """The running app, installed into the Saleor under test."""

    process: RunningApp
    app_id: str  # the App's ID in Saleor
    api_url: str  # the Saleor API URL the app stored the installation under

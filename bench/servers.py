"""The app's web processes for the benches, under uvicorn (as ``saleor-ops serve`` runs them) or Granian,
and the CPU time they spend.

Both run ``workers`` processes of an ASGI app factory, each on a listening socket of its own bound with
SO_REUSEPORT (uvicorn through ``app.web_processes``; Granian's workers bind theirs on Linux), on uvloop,
HTTP/1.1 only, without an access log.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import free_port, process

SERVERS = ("uvicorn", "granian")


def serve(server: str, target: str, port: int, workers: int, idle_seconds: int | None = None) -> None:
    """Entry point of the server's process: ``target`` (``module:factory``) on 127.0.0.1:``port``.
    ``idle_seconds`` keeps an idle keep-alive connection open that long (uvicorn's default is 5 s)."""
    if server == "uvicorn":
        import uvicorn

        from app.http_protocol import HttpProtocol
        from app.web_processes import bind_sockets
        from app.web_processes import serve as serve_uvicorn

        config = uvicorn.Config(
            target,
            factory=True,
            workers=workers,
            http=HttpProtocol,
            access_log=False,
            log_level="warning",
            timeout_keep_alive=idle_seconds or 5,  # uvicorn's default
        )
        serve_uvicorn(config, bind_sockets("127.0.0.1", port, workers))
    elif server == "granian":
        from granian.constants import HTTPModes, Interfaces, Loops
        from granian.http import HTTP1Settings
        from granian.log import LogLevels
        from granian.server import Server

        # Granian closes a keep-alive connection whose next request has not arrived in full within the
        # header read timeout (30 s by default, 60 s at most).
        http1 = HTTP1Settings(header_read_timeout=min(idle_seconds, 60) * 1000) if idle_seconds else None
        Server(
            target,
            address="127.0.0.1",
            port=port,
            interface=Interfaces.ASGI,
            factory=True,
            workers=workers,
            loop=Loops.uvloop,
            http=HTTPModes.http1,
            http1_settings=http1,
            websockets=False,
            log_level=LogLevels.warning,
            log_access=False,
        ).serve()
    else:
        raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")


@contextmanager
def app_processes(
    server: str, target: str, workers: int, env: dict[str, str], log: Path, *, idle_seconds: int | None = None
) -> Iterator[tuple[str, int]]:
    """The server running until the block ends; yields its base URL and the pid of its main process."""
    port = free_port()
    code = f"from bench.servers import serve; serve({server!r}, {target!r}, {port}, {workers}, {idle_seconds!r})"
    with process(f"{server} server", [sys.executable, "-c", code], env, log) as pid:
        yield f"http://127.0.0.1:{port}", pid


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a server's supervisor and its web processes)."""
    found = [pid]
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            children = [
                int(child)
                for task in Path(f"/proc/{current}/task").iterdir()
                for child in (task / "children").read_text().split()
            ]
        except FileNotFoundError:
            continue
        found += children
        pending += children
    return found


def cpu_seconds(pid: int) -> float:
    """User + system seconds ``pid`` has run (0 once it is gone)."""
    return _clock_ticks(pid, reaped=False) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_with_reaped(pids: list[int]) -> float:
    """User and system CPU the processes and the children they reaped have spent so far."""
    return sum(_clock_ticks(pid, reaped=True) for pid in pids) / os.sysconf("SC_CLK_TCK")


def _clock_ticks(pid: int, *, reaped: bool) -> int:
    """utime and stime (fields 14-15 of /proc/<pid>/stat), with cutime and cstime (16-17) if ``reaped``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0
    return sum(int(field) for field in fields[11 : 15 if reaped else 13])


def postgresql_cpu_seconds() -> float:
    """User + system seconds PostgreSQL's processes on this machine have spent so far, with those of the
    backends they have reaped (a backend that exits is counted in the postmaster's children's time)."""
    found = subprocess.run(["pgrep", "-u", "postgres"], capture_output=True, text=True, check=False)
    return cpu_seconds_with_reaped([int(pid) for pid in found.stdout.split()])

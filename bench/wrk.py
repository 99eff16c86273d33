"""``wrk`` as the load of the HTTP benches: C, one event loop per thread, sending requests built and
signed before it starts (``bench/wrk_requests.lua``), so it leaves more of the 2 cores to the server
than an asyncio client does."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT, Delivery

LUA = ROOT / "bench" / "wrk_requests.lua"


@dataclass(frozen=True)
class WrkRun:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    wrapped: int  # how many times a thread ran out of requests and started over
    counted: int  # occurrences of the counted text in the answers (0 unless asked)


def write_requests(path: Path, url_path: str, requests: list[Delivery]) -> Path:
    """The raw HTTP requests, each as "<length>\\n<bytes>", for wrk_requests.lua."""
    with path.open("wb") as out:
        for body, headers in requests:
            head = [f"POST {url_path} HTTP/1.1", "host: 127.0.0.1", f"content-length: {len(body)}"]
            head += [f"{name}: {value}" for name, value in headers.items()]
            raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
            out.write(f"{len(raw)}\n".encode() + raw)
    return path


def run_wrk(
    url: str,
    requests_file: Path,
    *,
    threads: int,
    connections: int,
    seconds: float,
    counted: tuple[str, str] | None = None,
    midway: Callable[[], object] | None = None,
) -> WrkRun:
    """wrk for ``seconds`` over ``connections`` keep-alive connections. With ``counted`` (text, start),
    every answer is read: one not 200 or not starting with ``start`` is an error, and the occurrences
    of ``text`` are counted; otherwise only what wrk counts (answers above 399, socket errors).
    ``midway`` is called halfway through, while wrk's connections are open."""
    if seconds != int(seconds) or seconds < 1:
        raise ValueError(f"wrk runs for whole seconds, not {seconds:g}")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(LUA)]
    command += [url, "--", str(requests_file), str(threads), *(counted or ())]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as wrk:
        if midway is not None:
            time.sleep(seconds / 2)
            midway()
        out, err = wrk.communicate()
    if wrk.returncode:
        raise RuntimeError(f"wrk exited with {wrk.returncode}: {(err or out).strip()[-500:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    return WrkRun(
        requests=summary["requests"],
        errors=summary["errors"],
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p95_ms=summary["p95_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        wrapped=summary["wrapped"],
        counted=summary["counted"],
    )

"""The worker's event loop: uvloop, where it is installed (with uvicorn[standard]), as under uvicorn."""

from __future__ import annotations

import asyncio
import sys

import pytest

from app import event_loop


async def _running_loop() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_runs_on_uvloop_where_it_is_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    assert event_loop.run(_running_loop()) is uvloop.Loop


def test_runs_on_asyncios_own_loop_where_uvloop_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # ``import uvloop`` raises ImportError
    loop = event_loop.run(_running_loop())
    assert issubclass(loop, asyncio.BaseEventLoop)
    assert loop.__module__.startswith("asyncio")

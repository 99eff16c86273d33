"""The event loop the worker runs on: uvloop, as the web processes do under uvicorn.

uvloop comes with ``uvicorn[standard]`` on every platform the app is deployed to (it is left out on
Windows, where asyncio's own loop runs instead). Its transports and callbacks are C, where asyncio's
are Python: a worker makes several round trips to PostgreSQL and one HTTP request to Saleor per
order, and the loop's share of that is the part it makes cheaper.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # Windows: uvicorn[standard] does not install it there
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on uvloop where it is installed."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(main)

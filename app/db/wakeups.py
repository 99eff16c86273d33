"""Wake-ups across processes on PostgreSQL: a worker hears at once of deliveries another process stored.

The acknowledge path's insert notifies ``DELIVERIES_STORED`` in the statement that stores (once per
statement, delivered at its commit). Each worker process listens on a connection of its own and
wakes one of its processing loops. Polling goes on beside it: a notification lost while the
connection was down delays a delivery to the next poll, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from app.db.engine import asyncpg_dsn

log = logging.getLogger(__name__)

DELIVERIES_STORED = "saleor_ops_deliveries_stored"


class DeliveryWakeups:
    """Calls ``on_stored`` for each notification that deliveries were stored, until stopped.

    A dropped connection is opened again after ``retry_seconds``; one that goes quiet without
    closing (a half-open TCP connection) is found by a query every ``check_seconds``.
    """

    def __init__(
        self,
        database_url: str,
        on_stored: Callable[[], None],
        *,
        retry_seconds: float = 1.0,
        check_seconds: float = 30.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._on_stored = on_stored
        self._retry_seconds = retry_seconds
        self._check_seconds = check_seconds
        self.listening = asyncio.Event()  # set while a connection listens (the tests wait for it)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._listen(stop)
            except Exception:  # the database or the network, most likely; polling covers the gap
                log.warning("listening for stored deliveries failed; polling until it is back", exc_info=True)
            finally:
                self.listening.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._retry_seconds)

    async def _listen(self, stop: asyncio.Event) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=self._check_seconds)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        ended = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
        try:
            await connection.add_listener(DELIVERIES_STORED, lambda *_: self._on_stored())
            self.listening.set()
            log.info("listening for stored deliveries")
            # What was stored while nobody listened is looked for now, not at the next poll.
            self._on_stored()
            while not (stop.is_set() or lost.is_set()):
                await asyncio.wait(ended, timeout=self._check_seconds, return_when=asyncio.FIRST_COMPLETED)
                if not (stop.is_set() or lost.is_set()):
                    await connection.fetchval("SELECT 1", timeout=self._check_seconds)
            if lost.is_set():
                log.warning("the connection listening for stored deliveries closed; opening another")
        finally:
            for waiting in ended:
                waiting.cancel()
            if stop.is_set() and not lost.is_set():
                await connection.close(timeout=self._check_seconds)
            else:
                connection.terminate()

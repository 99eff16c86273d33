"""``SaleorAnswers`` over HTTP on loopback, for the app running in other processes: its JWKS and its
GraphQL endpoint, in a thread of the test (or bench) process.

Besides answering, it can hold a call (``hold``), before Saleor takes the write or after, until
``release``: a worker can be killed or stopped while its call is provably under way. A call held
before whose caller has gone meanwhile is dropped, as a request Saleor never got. ``latency``
spreads the answers out, so that a kill at a random moment finds calls in flight.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.fake_saleor import SaleorAnswers
from tests.fakes.saleor_signer import SaleorSigner

Hold = Literal["before", "after"]  # before Saleor takes the write, or after it took it


class SaleorServer(SaleorAnswers):
    def __init__(self, signer: SaleorSigner, **answers: Any) -> None:
        super().__init__(**answers)
        self._signer = signer
        self._lock = threading.Lock()  # answers are kept from the server's thread, read from the test's
        self._released = threading.Event()
        self.hold: Callable[[dict[str, Any]], Hold | None] = lambda body: None
        self.held = 0  # calls waiting for ``release`` now
        self.latency = (0.0, 0.0)  # seconds, drawn uniformly for each answer
        self.api_url = ""

    def release(self) -> None:
        """Let every held call, and every later one, go on."""
        self._released.set()

    def notes_now(self) -> dict[str, list[str]]:
        with self._lock:
            return {order: list(notes) for order, notes in self.notes.items()}

    def count(self, operation: str) -> int:
        with self._lock:
            return len(self.calls(operation))

    async def _graphql(self, request: Request) -> Response:
        body = json.loads(await request.body())
        body["authorization"] = request.headers.get("authorization")
        hold = self.hold(body)
        if hold == "before":
            await self._wait_for_release()
            if await request.is_disconnected():
                return Response(status_code=499)  # the caller died first: Saleor never took the write
        if self.latency[1]:
            await asyncio.sleep(random.uniform(*self.latency))
        with self._lock:
            answer = self.answer(body)
        if hold == "after":
            await self._wait_for_release()
        return Response(answer.content, status_code=answer.status_code, headers=dict(answer.headers))

    async def _wait_for_release(self) -> None:
        self.held += 1
        try:
            await asyncio.to_thread(self._released.wait)
        finally:
            self.held -= 1

    async def _keys(self, request: Request) -> JSONResponse:
        return JSONResponse({"keys": [self._signer.jwk()]})

    @contextmanager
    def serving(self) -> Iterator[SaleorServer]:
        """Serve on a free loopback port until the block ends; ``api_url`` names it."""
        app = Starlette(
            routes=[
                Route("/graphql/", self._graphql, methods=["POST"]),
                Route("/.well-known/jwks.json", self._keys, methods=["GET"]),
            ]
        )
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.api_url = f"http://127.0.0.1:{listener.getsockname()[1]}/graphql/"
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the fake Saleor did not start")
            time.sleep(0.01)
        try:
            yield self
        finally:
            self.release()  # a held call of a killed worker must not keep the server from stopping
            server.should_exit = True
            thread.join(timeout=10)
            listener.close()

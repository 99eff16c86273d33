"""uvicorn's protocol with each answer sent in one write: over a real socket, answers arrive whole and
in order, streamed ones too, and a closing connection sends its answer before it closes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from app.http_protocol import HttpProtocol, _JoinedWrites


class _Recording:
    """A transport that keeps what is written to it, write by write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.writes.append(b"<closed>")
        self.closed = True


async def test_what_is_written_in_one_turn_of_the_loop_is_sent_in_one_write_at_its_end() -> None:
    transport = _Recording()
    joined = _JoinedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    reused = bytearray(b"body")
    joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
    joined.write(reused)
    reused[:] = b"next"  # the writer may reuse its buffer once write has returned
    assert transport.writes == []
    await asyncio.sleep(0)
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


async def test_a_close_sends_what_is_held_before_closing() -> None:
    transport = _Recording()
    joined = _JoinedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    joined.write(b"answer")
    joined.close()
    await asyncio.sleep(0)
    assert transport.writes == [b"answer", b"<closed>"]


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/streamed":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0)  # each part in a turn of its own
        await send({"type": "http.response.body", "body": b""})
        return
    body = scope["path"].encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _CountingProtocol(HttpProtocol):
    """Counts the writes that reach the socket's transport."""

    sends: list[bytes] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        real_write = transport.write

        def counted(data: bytes | bytearray | memoryview) -> None:
            self.sends.append(bytes(data))
            real_write(data)

        transport.write = counted  # type: ignore[method-assign]
        super().connection_made(transport)


@pytest.fixture
async def server() -> AsyncIterator[int]:
    """The port of a uvicorn server on the protocol; it listens before uvicorn starts, so a client may
    connect at once."""
    _CountingProtocol.sends = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    served = uvicorn.Server(uvicorn.Config(_app, http=_CountingProtocol, log_level="warning", lifespan="off"))
    task = asyncio.create_task(served.serve(sockets=[listener]))
    yield listener.getsockname()[1]
    served.should_exit = True
    await task
    listener.close()


async def _answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    if b"content-length:" in head:
        length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        return head, await reader.readexactly(length)
    return head, await reader.readuntil(b"0\r\n\r\n")


async def test_answers_on_a_kept_alive_connection_arrive_whole_each_in_one_write(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    for path in (b"/first", b"/second"):
        writer.write(b"GET " + path + b" HTTP/1.1\r\nhost: test\r\n\r\n")
        head, body = await _answer(reader)
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert body == path
    first, second = _CountingProtocol.sends  # one write for each answer, its head and body together
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert first.endswith(b"\r\n\r\n/first")
    assert second.endswith(b"\r\n\r\n/second")
    writer.close()


async def test_a_streamed_answer_arrives_whole_and_in_order(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET /streamed HTTP/1.1\r\nhost: test\r\n\r\n")
    head, body = await _answer(reader)
    assert b"transfer-encoding: chunked" in head
    assert body == b"4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n"
    writer.close()


async def test_a_connection_closed_after_its_answer_sends_the_answer_first(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET /last HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
    everything = await reader.read()  # until the server closes
    assert everything.startswith(b"HTTP/1.1 200 OK")
    assert everything.endswith(b"\r\n\r\n/last")
    writer.close()


async def test_an_end_of_writing_sends_what_is_held_first() -> None:
    transport = _Recording()
    transport.write_eof = lambda: transport.writes.append(b"<eof>")  # type: ignore[attr-defined]
    joined = _JoinedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    joined.write(b"answer")
    joined.write_eof()
    await asyncio.sleep(0)
    assert transport.writes == [b"answer", b"<eof>"]

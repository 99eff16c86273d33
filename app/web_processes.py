"""The web processes of ``saleor-ops serve --workers N``, each on a listening socket of its own.

N uvicorn processes sharing one listening socket do not share its connections: the kernel wakes
whichever process accepts first, so Saleor's keep-alive connections pile onto one process while the
others idle. On Linux each process gets a socket of its own, bound with SO_REUSEPORT to the same
address, and the kernel spreads new connections over them by their addresses and ports. The
supervisor binds them all and holds them, so a process that uvicorn's supervision replaces gets its
socket back, with the connections queued on it meanwhile.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from uvicorn.supervisors import Multiprocess

log = logging.getLogger(__name__)


def bind_sockets(host: str, port: int, processes: int) -> list[socket.socket]:
    """One socket for each of ``processes`` web processes, or one for them all where the kernel cannot
    spread connections over several. Raises OSError when the address is taken or unusable."""
    shared = _bound(host, port, reuse_port=False)
    if processes == 1:
        return [shared]
    # Bound without SO_REUSEPORT first, so that a port held by another server fails here as taken,
    # rather than SO_REUSEPORT silently sharing it with a server of the same user.
    port = int(shared.getsockname()[1])
    shared.close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(processes):
            sockets.append(_bound(host, port, reuse_port=True))
    except _NoReusePort:
        for each in sockets:
            each.close()
        return [_bound(host, port, reuse_port=False)]
    except OSError:
        for each in sockets:
            each.close()
        raise
    return sockets


def serve(config: uvicorn.Config, sockets: list[socket.socket]) -> None:
    """``config.workers`` uvicorn processes on ``sockets`` (from ``bind_sockets``), supervised by uvicorn:
    a process that dies or stops answering is replaced, SIGTERM and SIGINT stop them all gracefully."""
    if config.workers == 1:
        uvicorn.Server(config).run(sockets=sockets)
    elif len(sockets) == 1:
        log.warning(
            "SO_REUSEPORT is not available here, so the %d web processes share one listening socket: "
            "the kernel gives its connections to whichever accepts first, and one may take most of them",
            config.workers,
        )
        _Supervisor(config, sockets=sockets).run()
    else:
        _SocketEach(config, sockets).run()


class _NoReusePort(Exception):
    pass


def _bound(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            _set_reuse_port(listener)
        listener.bind((host, port))
    except BaseException:
        listener.close()
        raise
    return listener


def _set_reuse_port(listener: socket.socket) -> None:
    # Linux spreads connections over the sockets; BSD and macOS accept SO_REUSEPORT but hand them all to one.
    if not sys.platform.startswith("linux"):
        raise _NoReusePort
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except OSError as exc:  # a kernel or sandbox without it
        raise _NoReusePort from exc


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, replacing at once a process that dies while it waits for its answer.

    uvicorn asks each process over a pipe whether it is alive, and waits up to the health check's
    timeout (60 s here) for the answer. It also keeps its own copy of the process's end of that pipe,
    so a process that died during the wait left the pipe open: the supervisor waited out the timeout
    before replacing it, and the connections queued on its socket waited with it. Here those copies
    are closed before each round of questions, so a death ends the wait at once.
    """

    def keep_subprocess_alive(self) -> None:
        for process in self.processes:
            process.child_conn.close()  # the process holds its own copy; closing twice does nothing
        super().keep_subprocess_alive()


class _SocketEach(_Supervisor):
    """uvicorn's supervisor, with process i on socket i for good.

    uvicorn hands every process all of its sockets; here each of its steps (the start, the replacement
    of a process that died or hung, SIGHUP's rolling restart) runs on a view of one process and its
    socket, so that uvicorn's own logic does the supervising.
    """

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.socket_each = sockets

    @contextmanager
    def _only(self, slot: int) -> Iterator[None]:
        everyone = self.processes
        self.processes, self.sockets, self.processes_num = everyone[slot : slot + 1], [self.socket_each[slot]], 1
        try:
            yield
        finally:
            everyone[slot : slot + 1] = self.processes
            self.processes, self.sockets, self.processes_num = everyone, self.socket_each, len(self.socket_each)

    def init_processes(self) -> None:
        for slot in range(len(self.socket_each)):
            with self._only(slot):
                super().init_processes()

    def keep_subprocess_alive(self) -> None:
        for slot in range(len(self.socket_each)):
            with self._only(slot):
                super().keep_subprocess_alive()

    def restart_all(self) -> None:
        for slot in range(len(self.socket_each)):
            retiring = self.processes[slot]
            with self._only(slot):
                super().restart_all()
            if self.processes[slot] is retiring:
                return  # its replacement was not ready in time, or all are stopping: uvicorn stops there too

    def handle_ttin(self) -> None:
        log.warning("SIGTTIN ignored: with a socket each, the number of web processes is --workers")

    def handle_ttou(self) -> None:
        log.warning("SIGTTOU ignored: with a socket each, the number of web processes is --workers")

"""The one loopback HTTP server of multiflow's sandboxes, proxies and test stubs (stdlib only).

:class:`LoopbackServer` serves a :class:`~http.server.BaseHTTPRequestHandler` subclass on ``127.0.0.1`` (never
any other address) on a free port, or a given one, in a daemon thread. What every hand-written copy needed is
here once: one daemon thread per connection, connections tracked so that :meth:`LoopbackServer.stop` also ends
idle keep-alive ones (an HTTP/1.1 client's pool would otherwise hold a handler thread forever), and a stop that
is bounded in time and safe to call twice::

    class Handler(BaseHTTPRequestHandler):
        server: LoopbackHTTPServer[Answers]     # the handler's way to its owner: self.server.context

        def do_GET(self) -> None:
            status, body = self.server.context.next_answer()
            ...

    with LoopbackServer(Handler, context=answers, name="stub") as server:
        requests.get(server.url + "/x")          # http://127.0.0.1:PORT/x
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, TypeVar

__all__ = ["LOOPBACK", "LoopbackHTTPServer", "LoopbackServer"]

LOOPBACK = "127.0.0.1"
"""The only address a :class:`LoopbackServer` binds."""

C = TypeVar("C")


class LoopbackHTTPServer(ThreadingHTTPServer, Generic[C]):
    """A :class:`ThreadingHTTPServer` on 127.0.0.1 whose connections are tracked, and which carries ``context``.

    Handlers reach what they serve through ``self.server.context`` (a proxy's settings, an emulator's dispatcher,
    a stub's canned answer). Made and owned by :class:`LoopbackServer`; not meant to be made directly.
    """

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler], context: C, name: str) -> None:
        self.context = context
        self._name = name
        self._live_lock = threading.Lock()
        self._live: dict[threading.Thread, socket.socket] = {}
        super().__init__((LOOPBACK, port), handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a daemon thread, tracked until it ends."""
        thread = threading.Thread(
            target=self._serve_tracked, args=(request, client_address), name=f"{self._name}-conn", daemon=True
        )
        with self._live_lock:
            self._live[thread] = request
        thread.start()

    def _serve_tracked(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._live_lock:
                self._live.pop(threading.current_thread(), None)

    @property
    def live_connections(self) -> int:
        """How many connections are open now (idle keep-alive ones included)."""
        with self._live_lock:
            return len(self._live)

    def close_live_connections(self, timeout: float) -> None:
        """Shut every open connection and wait up to ``timeout`` seconds for each one's thread."""
        with self._live_lock:
            live = list(self._live.items())
        for _, sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread, _ in live:
            thread.join(timeout)


class LoopbackServer(Generic[C]):
    """``handler`` served on 127.0.0.1 in a daemon thread while started; a context manager.

    :param handler: the request handler class; it finds ``context`` at ``self.server.context``.
    :param context: whatever the handler needs from its owner.
    :param port: the port to listen on (0: a free one, chosen at each :meth:`start`).
    :param name: the threads' name (``name`` and ``name-conn``), for debugging.
    :param join_timeout: the most :meth:`stop` waits for each thread, in seconds.
    """

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        context: C,
        port: int = 0,
        name: str = "loopback",
        join_timeout: float = 5.0,
    ) -> None:
        self.handler = handler
        self.context = context
        self.requested_port = port
        self.name = name
        self.join_timeout = join_timeout
        self._lock = threading.Lock()
        self._server: LoopbackHTTPServer[C] | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<LoopbackServer {self.name} {self.url if self._server else 'stopped'}>"

    def start(self) -> LoopbackServer[C]:
        """Bind 127.0.0.1 and serve in a daemon thread; returns self. Does nothing if started already.

        :raises OSError: if the port is taken.
        """
        with self._lock:
            if self._server is not None:
                return self
            server = LoopbackHTTPServer(self.requested_port, self.handler, self.context, self.name)
            # A short poll keeps stop() quick: shutdown() waits for the serve loop's next poll.
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.01}, name=self.name, daemon=True
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop listening, close open connections and join the threads (each for ``join_timeout`` at most).

        Safe to call twice, and before :meth:`start`.
        """
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_live_connections(self.join_timeout)
        if thread is not None:
            thread.join(self.join_timeout)

    def __enter__(self) -> LoopbackServer[C]:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether it is listening."""
        return self._server is not None

    @property
    def server(self) -> LoopbackHTTPServer[C]:
        """The underlying HTTP server (only while started)."""
        if self._server is None:
            raise RuntimeError(f"the {self.name} server is not started: call start() or use it as a context manager")
        return self._server

    @property
    def port(self) -> int:
        """The TCP port it listens on (only while started)."""
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (only while started)."""
        return f"http://{LOOPBACK}:{self.port}"

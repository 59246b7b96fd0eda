"""A loopback HTTP server that answers every request with a fixed body: a cloud that talks nonsense.

For the garbage tests: boto3 and the Alibaba SDK talk to it like to their cloud (it checks no signature), and
whatever it answers must come out of multiflow as a ProviderError, never as a KeyError or a TypeError.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from multiflow.loopback import LoopbackHTTPServer, LoopbackServer


class Stub:
    """What the stub answers (``answer = (status, content type, body)``), how often it was asked, and where."""

    def __init__(self) -> None:
        self.answer: tuple[int, str, bytes] = (200, "text/plain", b"")
        #: Whether the answer's body goes on with the request's headers.
        self.echo = False
        self.requests = 0
        self.port = 0
        self._lock = threading.Lock()

    def count(self) -> None:
        """One more request."""
        with self._lock:
            self.requests += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer[Stub]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        stub = self.server.context
        stub.count()
        status, content_type, body = stub.answer
        if stub.echo:  # like a gateway whose error page shows the request it refused
            body += "".join(f"{name}: {value}\n" for name, value in self.headers.items()).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def stub_server() -> Iterator[Stub]:
    """A started stub on 127.0.0.1 (its ``port``); set ``.answer = (status, content type, body)`` (and ``.echo``);
    stopped after."""
    stub = Stub()
    with LoopbackServer(_Handler, context=stub, name="stub-cloud") as server:
        stub.port = server.port
        yield stub

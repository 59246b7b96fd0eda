"""A loopback HTTP server that answers every request with a fixed body: a cloud that talks nonsense.

For the garbage tests: boto3 and the Alibaba SDK talk to it like to their cloud (it checks no signature), and
whatever it answers must come out of multiflow as a ProviderError, never as a KeyError or a TypeError.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _StubServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests += 1
        status, content_type, body = self.server.answer
        if self.server.echo:  # like a gateway whose error page shows the request it refused
            body += "".join(f"{name}: {value}\n" for name, value in self.headers.items()).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True
    answer: tuple[int, str, bytes] = (200, "text/plain", b"")
    #: Whether the answer's body goes on with the request's headers.
    echo = False
    requests = 0


@contextmanager
def stub_server() -> Iterator[_StubServer]:
    """A started stub on 127.0.0.1; set ``.answer = (status, content type, body)`` (and ``.echo``); stopped
    afterwards."""
    server = _StubServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

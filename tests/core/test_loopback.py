"""multiflow.loopback: binds 127.0.0.1 only, serves its handler with its context, stops (twice) without hanging."""

from __future__ import annotations

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from multiflow.loopback import LOOPBACK, LoopbackHTTPServer, LoopbackServer


class Counter:
    """The context the handler counts its requests in."""

    def __init__(self) -> None:
        self.requests = 0
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the connection stays open after the answer
    server: LoopbackHTTPServer[Counter]

    def do_GET(self) -> None:
        with self.server.context.lock:
            self.server.context.requests += 1
            body = str(self.server.context.requests).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def get(port: int, path: str = "/") -> tuple[int, bytes, http.client.HTTPConnection]:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read(), connection


def test_it_binds_loopback_on_a_free_port_and_serves_the_handler_with_its_context() -> None:
    counter = Counter()
    with LoopbackServer(_Handler, context=counter, name="t") as server:
        assert server.server.server_address[0] == "127.0.0.1"
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        status, body, connection = get(server.port)
        connection.close()
        assert (status, body) == (200, b"1") and counter.requests == 1
    assert not server.running


def test_it_does_not_answer_on_other_addresses() -> None:
    with LoopbackServer(_Handler, context=Counter()) as server:
        other = _non_loopback_address()
        if other is None:
            pytest.skip("this machine has no non-loopback address to try")
        with pytest.raises(OSError), socket.create_connection((other, server.port), timeout=2):
            pass


def _non_loopback_address() -> str | None:
    """An address of this machine other than 127.x (found without sending anything: UDP connect only routes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_stop_twice_before_and_after_start_is_fine_and_start_again_serves() -> None:
    server = LoopbackServer(_Handler, context=Counter())
    server.stop()
    server.start()
    assert server.start() is server  # a second start does nothing
    first = server.port
    server.stop()
    server.stop()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url
    server.start()
    try:
        assert get(server.port)[0] == 200
    finally:
        server.stop()
    assert first > 0


def test_stop_closes_idle_keep_alive_connections_and_joins_their_threads() -> None:
    server = LoopbackServer(_Handler, context=Counter(), name="keepalive", join_timeout=5.0).start()
    _, _, connection = get(server.port)
    try:
        assert server.server.live_connections == 1  # the idle keep-alive connection, held by a handler thread
        httpd = server.server
        server.stop()
        assert httpd.live_connections == 0
        assert not [t for t in threading.enumerate() if t.name.startswith("keepalive")]
    finally:
        connection.close()


def test_a_taken_port_is_an_error_at_start() -> None:
    with LoopbackServer(_Handler, context=Counter()) as first:
        second = LoopbackServer(_Handler, context=Counter(), port=first.port)
        with pytest.raises(OSError):
            second.start()
        assert not second.running

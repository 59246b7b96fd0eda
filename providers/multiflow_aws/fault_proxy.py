"""A loopback HTTP proxy that puts AWS's bad days in front of an AWS endpoint (the sandbox's moto server).

boto3 talks to the proxy exactly as to AWS (``endpoint_url=proxy.endpoint_url``); the proxy forwards each request
to the real endpoint and, on a seeded share of calls, answers the way AWS does on a bad day instead:

| kind | what boto3 sees | did the call reach the endpoint? |
|---|---|---|
| ``throttle`` | HTTP 503 ``RequestLimitExceeded`` (EC2's throttling) | no |
| ``server_error`` | HTTP 500 ``InternalError`` or 503 ``ServiceUnavailable`` | no |
| ``drop`` | the connection closed without an answer | no |
| ``lost_response`` | the connection closed without an answer | **yes**: the state changed, the answer is lost |
| ``garbage`` | HTTP 200 with a body that is not the service's XML | **yes** |
| ``latency`` | a slower answer (independent of the others) | yes |
| ``rate_limit`` | HTTP 503 ``RequestLimitExceeded``, when EC2's token bucket of the call's API class is empty | no |

``throttle``, ``server_error``, ``drop``, ``lost_response`` and ``garbage`` exclude each other (one draw per call),
so their rates add up to the share of calls that fail. Errors are written in the protocol of the call: EC2's
``<Response><Errors><Error>``, the query protocol's ``<ErrorResponse>``, JSON (``X-Amz-Target``) or S3's
``<Error>``. ``fail_next(action, code)`` scripts an error for the next calls of an action. ``rate_limits`` (a
:class:`~multiflow_aws.request_tokens.RequestTokens`, off by default) throttles as EC2's token buckets do, before
any random fault is drawn.

Only the standard library is used; the proxy binds 127.0.0.1 only::

    with AwsSandbox() as sandbox, sandbox.fault_proxy(seed=7, throttle_rate=0.1, lost_response_rate=0.05) as proxy:
        client = multiflow.connect("aws", region="us-east-1", **sandbox.connect_options(proxy=proxy))
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import random
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from multiflow.loopback import LoopbackHTTPServer, LoopbackServer
from multiflow_aws.request_tokens import RequestTokens

__all__ = ["FAULT_KINDS", "FaultProxy"]

log = logging.getLogger("multiflow_aws.fault_proxy")

#: Every kind of fault the proxy injects, as counted in :attr:`FaultProxy.injected`.
FAULT_KINDS = ("throttle", "server_error", "drop", "lost_response", "garbage", "latency", "scripted", "rate_limit")
#: 5xx answers drawn for ``server_error``: (code, HTTP status, message).
SERVER_ERRORS: tuple[tuple[str, int, str], ...] = (
    ("InternalError", 500, "An internal error has occurred."),
    ("ServiceUnavailable", 503, "The service is unavailable. Please try again shortly."),
)
THROTTLE = ("RequestLimitExceeded", 503, "Request limit exceeded.")
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
_JOIN_TIMEOUT = 5.0


@dataclass
class _Scripted:
    code: str
    http_status: int
    message: str
    remaining: int


@dataclass(frozen=True)
class _Call:
    """What the proxy knows of one request: its action and which protocol its errors take."""

    action: str
    protocol: str  # "ec2", "query", "json" or "rest-xml"


def _classify(method: str, path: str, headers: Any, body: bytes) -> _Call:
    target = headers.get("X-Amz-Target")
    if target:
        return _Call(target.rsplit(".", 1)[-1], "json")
    content_type = headers.get("Content-Type") or ""
    form: dict[str, list[str]] = {}
    if "x-www-form-urlencoded" in content_type and body:
        form = parse_qs(body.decode("utf-8", "replace"))
    query = parse_qs(urlsplit(path).query)
    action = (form.get("Action") or query.get("Action") or [""])[0]
    if action:
        scope = headers.get("Authorization") or ""
        return _Call(action, "ec2" if "/ec2/aws4_request" in scope else "query")
    return _Call(f"{method} {urlsplit(path).path}", "rest-xml")


def _error_body(call: _Call, code: str, message: str, request_id: str) -> tuple[bytes, str]:
    """An error answer in the call's protocol, and its content type."""
    code_x, message_x = escape(code), escape(message)
    if call.protocol == "json":
        return json.dumps({"__type": code, "message": message}).encode(), "application/x-amz-json-1.1"
    if call.protocol == "ec2":
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>'
            f"{code_x}</Code><Message>{message_x}</Message></Error></Errors><RequestID>{request_id}</RequestID>"
            "</Response>"
        )
    elif call.protocol == "query":
        kind = "Receiver" if code in {c for c, _, _ in SERVER_ERRORS} else "Sender"
        text = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code_x}</Code><Message>{message_x}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    else:
        text = f"<Error><Code>{code_x}</Code><Message>{message_x}</Message><RequestId>{request_id}</RequestId></Error>"
    return text.encode(), "text/xml;charset=UTF-8"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True
    timeout = 60
    server: LoopbackHTTPServer[FaultProxy]

    def log_message(self, format: str, *args: Any) -> None:
        """Log at debug level to ``multiflow_aws.fault_proxy`` instead of stderr."""
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        """Proxy (or fault) any method alike."""
        self._serve()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _answer(self, status: int, body: bytes, headers: Iterable[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self) -> None:
        proxy = self.server.context
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Bad request body")
            return
        call = _classify(self.command, self.path, self.headers, body)
        fault, delay = proxy._decide(call.action)
        if delay > 0:
            time.sleep(delay)
        if fault == "drop":
            self._drop()
            return
        if isinstance(fault, _Scripted) or fault in ("throttle", "server_error", "rate_limit"):
            if isinstance(fault, _Scripted):
                code, status, message = fault.code, fault.http_status, fault.message
            else:
                code, status, message = proxy._error_for(str(fault))
            request_id = str(uuid.uuid4())
            payload, content_type = _error_body(call, code, message, request_id)
            headers = [("Content-Type", content_type), ("x-amzn-RequestId", request_id)]
            self._answer(status, payload, headers)
            return
        try:
            status, headers, payload = self._forward(body)
        except OSError as exc:
            log.debug("fault proxy: upstream %s failed: %s", proxy.target, exc)
            self._answer(502, b"upstream unreachable", [("Content-Type", "text/plain")])
            return
        if fault == "lost_response":
            self._drop()
            return
        if fault == "garbage":
            self._answer(200, payload[: max(1, len(payload) // 3)] + b"<<garbage", [("Content-Type", "text/xml")])
            return
        self._answer(status, payload, headers)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request on to the target and read its whole answer."""
        proxy = self.server.context
        connection = http.client.HTTPConnection(proxy._host, proxy._port, timeout=proxy.upstream_timeout)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body if body else None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, list(response.getheaders()), payload
        finally:
            connection.close()


class FaultProxy:
    """A fault-injecting HTTP proxy on 127.0.0.1 in front of ``target`` (e.g. ``http://127.0.0.1:5000``).

    Rates are shares of calls (0..1); every attribute may be changed while serving. Random decisions come from one
    RNG seeded with ``seed``, so the same seed and the same order of requests make the same decisions.

    :param target: the endpoint to forward to (plain HTTP).
    :param seed: the RNG's seed.
    :param throttle_rate: share of calls answered 503 ``RequestLimitExceeded`` (not forwarded).
    :param server_error_rate: share answered 500 ``InternalError`` or 503 ``ServiceUnavailable`` (not forwarded).
    :param drop_rate: share whose connection is closed without an answer, before forwarding.
    :param lost_response_rate: share forwarded (the endpoint acts on them) whose answer is then lost the same way.
    :param garbage_rate: share forwarded whose answer is replaced by a truncated, unparsable 200.
    :param latency_rate: share of calls delayed by ``latency`` seconds (drawn independently of the faults above).
    :param latency: the delay, in seconds.
    :param actions: when given, random faults hit only these actions (``CreateFlowLogs``...); scripted ones
        (``fail_next``) are always served.
    :param rate_limits: EC2's request token buckets to apply (:class:`RequestTokens`), or ``None`` (the default):
        a call whose bucket is empty is answered 503 ``RequestLimitExceeded`` and counted as ``rate_limit``.
    :param port: the port to listen on (0: a free one).
    :param upstream_timeout: seconds to wait for the target's answer.
    """

    def __init__(
        self,
        target: str,
        *,
        seed: int | None = None,
        throttle_rate: float = 0.0,
        server_error_rate: float = 0.0,
        drop_rate: float = 0.0,
        lost_response_rate: float = 0.0,
        garbage_rate: float = 0.0,
        latency_rate: float = 0.0,
        latency: float = 0.05,
        actions: Iterable[str] | None = None,
        rate_limits: RequestTokens | None = None,
        port: int = 0,
        upstream_timeout: float = 60.0,
    ) -> None:
        split = urlsplit(target)
        if split.scheme != "http" or not split.hostname:
            raise ValueError(f"target must be a plain http:// URL, not {target!r}")
        self.target = target
        self._host = split.hostname
        self._port = split.port or 80
        self.throttle_rate = throttle_rate
        self.server_error_rate = server_error_rate
        self.drop_rate = drop_rate
        self.lost_response_rate = lost_response_rate
        self.garbage_rate = garbage_rate
        self.latency_rate = latency_rate
        self.latency = latency
        self.actions: set[str] | None = None if actions is None else set(actions)
        self.upstream_timeout = upstream_timeout
        self.rate_limits = rate_limits
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._scripted: dict[str, deque[_Scripted]] = {}
        self._calls: Counter[str] = Counter()
        self._injected: Counter[str] = Counter()
        self._by_action: Counter[tuple[str, str]] = Counter()
        self._server = LoopbackServer(
            _Handler, context=self, port=port, name="aws-fault-proxy", join_timeout=_JOIN_TIMEOUT
        )

    def __repr__(self) -> str:
        where = self.endpoint_url if self._server.running else "stopped"
        return f"<FaultProxy {where} -> {self.target}>"

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Listen on 127.0.0.1 in a background thread; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop listening, close open connections and join the threads; safe to call twice."""
        self._server.stop()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``: give it to boto3 as ``endpoint_url``."""
        if not self._server.running:
            raise RuntimeError("the fault proxy is not started")
        return self._server.url

    # -- faults --------------------------------------------------------------------------------------------

    def seed(self, n: int) -> None:
        """Re-seed the RNG behind every random decision."""
        with self._lock:
            self._rng.seed(n)

    def reset(self) -> None:
        """Turn every random fault and the rate limits off and forget scripted ones (counters are kept)."""
        with self._lock:
            self.rate_limits = None
            self.throttle_rate = self.server_error_rate = self.drop_rate = 0.0
            self.lost_response_rate = self.garbage_rate = self.latency_rate = 0.0
            self.actions = None
            self._scripted.clear()

    def fail_next(
        self, action: str, code: str, message: str | None = None, http_status: int = 400, times: int = 1
    ) -> None:
        """Answer the next ``times`` calls of ``action`` (``"*"``: any) with error ``code`` (not forwarded)."""
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        with self._lock:
            self._scripted.setdefault(action, deque()).append(
                _Scripted(code, http_status, message or f"{code} (injected by the fault proxy)", times)
            )

    def _decide(self, action: str) -> tuple[str | _Scripted | None, float]:
        """The fault for this call (a kind, a scripted error or None) and the delay to add first."""
        with self._lock:
            self._calls[action] += 1
            for key in (action, "*"):
                queue = self._scripted.get(key)
                if queue:
                    item = queue[0]
                    item.remaining -= 1
                    if item.remaining <= 0:
                        queue.popleft()
                    self._count(action, "scripted")
                    return item, 0.0
            if self.rate_limits is not None and not self.rate_limits.take(action):
                self._count(action, "rate_limit")
                return "rate_limit", 0.0
            if self.actions is not None and action not in self.actions:
                return None, 0.0
            delay = 0.0
            if self.latency_rate > 0 and self._rng.random() < self.latency_rate:
                delay = self.latency
                self._count(action, "latency")
            draw = self._rng.random()
            for kind, rate in (
                ("throttle", self.throttle_rate),
                ("server_error", self.server_error_rate),
                ("drop", self.drop_rate),
                ("lost_response", self.lost_response_rate),
                ("garbage", self.garbage_rate),
            ):
                if draw < rate:
                    self._count(action, kind)
                    return kind, delay
                draw -= rate
            return None, delay

    def _error_for(self, kind: str) -> tuple[str, int, str]:
        if kind in ("throttle", "rate_limit"):
            return THROTTLE[0], THROTTLE[1], THROTTLE[2]
        with self._lock:
            code, status, message = self._rng.choice(SERVER_ERRORS)
        return code, status, message

    def _count(self, action: str, kind: str) -> None:
        self._injected[kind] += 1
        self._by_action[(action, kind)] += 1

    # -- observation ---------------------------------------------------------------------------------------

    @property
    def calls(self) -> Counter[str]:
        """A snapshot: action → calls received (faulted or not)."""
        with self._lock:
            return Counter(self._calls)

    @property
    def injected(self) -> Counter[str]:
        """A snapshot: fault kind (see :data:`FAULT_KINDS`) → times injected."""
        with self._lock:
            return Counter(self._injected)

    @property
    def faults_by_action(self) -> Counter[tuple[str, str]]:
        """A snapshot: (action, fault kind) → times injected."""
        with self._lock:
            return Counter(self._by_action)

    def reset_counters(self) -> None:
        """Zero :attr:`calls`, :attr:`injected` and :attr:`faults_by_action`."""
        with self._lock:
            self._calls.clear()
            self._injected.clear()
            self._by_action.clear()

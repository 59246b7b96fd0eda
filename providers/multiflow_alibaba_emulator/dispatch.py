"""From one HTTP request to one response: signature, faults, action, and the cloud's JSON shapes.

This module knows nothing of sockets: :meth:`Dispatcher.handle` takes the request's parts and returns a
:class:`Response`, or ``None`` when the connection is to be dropped without an answer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .actions import ACTIONS as VPC_ACTIONS
from .actions import PRODUCTS as VPC_PRODUCTS
from .actions import VPC_VERSION, Context
from .errors import ApiError, api_error, missing_parameter
from .faults import Faults, ScriptedErrors
from .organization import ORGANIZATION_ACTIONS, ORGANIZATION_PRODUCTS
from .signing import AccessKey, SignedRequest, Verifier
from .state import Cloud

logger = logging.getLogger("multiflow_alibaba_emulator")

#: Every action served: VPC (and ECS), STS and Resource Manager, by (API version, action name).
ACTIONS = {**VPC_ACTIONS, **ORGANIZATION_ACTIONS}
#: The API versions the emulator speaks.
VERSIONS = frozenset(version for version, _ in ACTIONS)
#: The product named in error responses' HostId/Recommend, per version.
PRODUCTS = {**VPC_PRODUCTS, **ORGANIZATION_PRODUCTS}

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
#: Counted in :attr:`Dispatcher.errors` for a call whose connection was closed without a response.
DROPPED = "<dropped>"
#: Counted in :attr:`Dispatcher.errors` for a call answered with a body that is not the cloud's JSON.
MALFORMED = "<malformed>"


@dataclass
class Response:
    """An HTTP response to send."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def new_request_id() -> str:
    """A request id in the cloud's form: an upper-case UUID."""
    return str(uuid.uuid4()).upper()


class Dispatcher:
    """Serves API calls against a :class:`Cloud`, with faults, and counts what it served."""

    def __init__(self, cloud: Cloud, faults: Faults | None = None, page_size_max: int = 50) -> None:
        """Serve ``cloud``; ``faults`` default to none."""
        self.cloud = cloud
        self.faults = faults or Faults()
        self.page_size_max = page_size_max
        self.scripted = ScriptedErrors()
        self.verifier = Verifier(self._lookup_key)
        self._counts_lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._errors: Counter[tuple[str, str]] = Counter()

    # --- counters -----------------------------------------------------------------------------------------

    @property
    def calls(self) -> Counter[str]:
        """A snapshot: action name -> calls received (whatever their outcome)."""
        with self._counts_lock:
            return Counter(self._calls)

    @property
    def errors(self) -> Counter[tuple[str, str]]:
        """A snapshot: (action, error code) -> error responses sent (``"<dropped>"`` for dropped calls)."""
        with self._counts_lock:
            return Counter(self._errors)

    def reset_counters(self) -> None:
        """Zero :attr:`calls` and :attr:`errors`."""
        with self._counts_lock:
            self._calls.clear()
            self._errors.clear()

    def _count(self, action: str, code: str | None = None) -> None:
        with self._counts_lock:
            if code is None:
                self._calls[action] += 1
            else:
                self._errors[(action, code)] += 1

    # --- serving ----------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, Sequence[str]], body: bytes) -> Response | None:
        """Serve one call; ``None`` means: close the connection without answering."""
        params = _params(target, headers, body)
        # RPC style (SignatureVersion 1.0: the Tea SDK's "v2", aliyun-python-sdk-core, the aliyun CLI): no
        # Authorization header; the signature, Action and Version are parameters (the Tea SDK also sends the
        # x-acs-action/x-acs-version headers, which the signature does not cover).
        rpc = _first(headers, "authorization") is None and (
            "Signature" in params or _first(headers, "x-acs-action") is None
        )
        if rpc:
            action, version = params.get("Action", ""), params.get("Version", "")
        else:
            action, version = _first(headers, "x-acs-action") or "", _first(headers, "x-acs-version") or ""
        self._count(action)
        faults = self.faults
        delay = faults.latency_for(action)
        if delay > 0:
            time.sleep(delay)
        if faults.drop(action):
            self._count(action, DROPPED)
            return None
        request_id = new_request_id()
        try:
            response = self._ok(request_id, self._serve(method, target, headers, body, params, rpc, action, version))
        except ApiError as exc:
            self._count(action, exc.code)
            response = self._error(request_id, exc, version)
        except Exception:  # a bug in the emulator must still answer like the cloud would
            logger.exception("emulator failure serving %s", action)
            self._count(action, "InternalError")
            response = self._error(request_id, api_error("InternalError"), version)
        if faults.lose_response(action):
            self._count(action, DROPPED)
            return None
        if faults.malform(action):
            self._count(action, MALFORMED)
            cut = response.body[: max(1, len(response.body) // 2)]
            return Response(200, cut, {"Content-Type": JSON_CONTENT_TYPE, "x-acs-request-id": request_id})
        return response

    def _serve(
        self,
        method: str,
        target: str,
        headers: Mapping[str, Sequence[str]],
        body: bytes,
        params: dict[str, str],
        rpc: bool,
        action: str,
        version: str,
    ) -> dict[str, Any]:
        if method not in ("GET", "POST"):
            raise api_error("UnsupportedHTTPMethod")
        split = urlsplit(target)
        query = parse_qsl(split.query, keep_blank_values=True)
        if not action:
            raise missing_parameter("Action")
        if not version:
            raise missing_parameter("Version")
        if rpc:
            access_key_id = self.verifier.verify_rpc(method, params)
        else:
            access_key_id = self.verifier.verify(SignedRequest(method, split.path, query, headers, body))
        if version not in VERSIONS:
            raise api_error("InvalidVersion")
        handler = ACTIONS.get((version, action))
        if handler is None:
            raise api_error("InvalidAction.NotFound")

        scripted = self.scripted.pop(action, self.faults.retry_after_ms)
        if scripted is not None:
            raise scripted
        key = self.cloud.keys.get(access_key_id)
        self.faults.caller(key.account_id if key is not None else "")
        self.faults.check(action)

        with self.cloud.lock:
            self.cloud.settle()
            caller = self.cloud.keys[access_key_id]
            account = self.cloud.account(caller.account_id)
            return handler(Context(self.cloud, account, params, self.page_size_max, caller))

    def _lookup_key(self, access_key_id: str) -> AccessKey | None:
        with self.cloud.lock:
            record = self.cloud.keys.get(access_key_id)
            if record is None:
                return None
            expired = record.expires_at is not None and self.cloud.clock.now() >= record.expires_at
            return AccessKey(record.access_key_id, record.secret, record.active, record.security_token, expired)

    @staticmethod
    def _ok(request_id: str, body: dict[str, Any]) -> Response:
        payload = {"RequestId": request_id, **body}
        return Response(200, _json(payload), {"Content-Type": JSON_CONTENT_TYPE, "x-acs-request-id": request_id})

    @staticmethod
    def _error(request_id: str, exc: ApiError, version: str) -> Response:
        product = PRODUCTS.get(version, PRODUCTS[VPC_VERSION])
        payload = {
            "RequestId": request_id,
            "HostId": f"{product.lower()}.aliyuncs.com",
            "Code": exc.code,
            "Message": exc.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={exc.code}&product={product}&requestId={request_id}",
        }
        headers = {"Content-Type": JSON_CONTENT_TYPE, "x-acs-request-id": request_id}
        if exc.retry_after_ms:
            headers["x-acs-retry-after"] = str(exc.retry_after_ms)
        return Response(exc.http_status, _json(payload), headers)


def _params(target: str, headers: Mapping[str, Sequence[str]], body: bytes) -> dict[str, str]:
    """Every request parameter: the query's, then a form body's."""
    params = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
    content_type = _first(headers, "content-type") or ""
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


def _first(headers: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

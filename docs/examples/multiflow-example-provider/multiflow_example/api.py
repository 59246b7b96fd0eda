"""ExampleCloud's client library: what a real cloud's SDK is to a real provider (here, 60 lines of urllib).

Only :mod:`multiflow_example.session` imports it, and only when a session is opened, exactly as a provider
imports its cloud SDK: ``import multiflow`` and loading the plugin never do.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ApiClient", "ApiError"]


class ApiError(Exception):
    """The cloud refused a call (``code``, ``message``, ``http_status``, ``request_id``), or no answer came
    (``code="ConnectionError"``, no status)."""

    def __init__(self, code: str, message: str, http_status: int | None, request_id: str | None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.request_id = request_id


class ApiClient:
    """Calls ``POST {endpoint}/v1/<operation>`` with a bearer token. The token never shows in a repr.

    ``api_key`` is a key, or a callable that gives the key to use now (a member account's short-lived key,
    assumed again before it expires: :class:`multiflow_example.organization.AssumedKey`).
    """

    def __init__(self, endpoint: str, api_key: str | Callable[[], str], timeout: float = 10.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._api_key: Callable[[], str] = api_key if callable(api_key) else (lambda: api_key)
        self.timeout = timeout
        # An explicit opener without proxies: the cloud is reached directly (the sandbox is on loopback).
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"<ApiClient {self.endpoint}>"

    def call(self, operation: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One call; the answer's JSON object, or :class:`ApiError`."""
        request = urllib.request.Request(
            f"{self.endpoint}/v1/{operation}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._api_key()}"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            answer = _json(exc.read())
            error = answer.get("error") or {}
            raise ApiError(
                str(error.get("code") or f"HTTP{exc.code}"),
                str(error.get("message") or exc.reason),
                exc.code,
                answer.get("request_id") or exc.headers.get("X-Request-Id"),
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ApiError("ConnectionError", f"no answer from {self.endpoint}: {exc}", None, None) from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

"""Fault injection: throttling, per-action QPS limits, 5xx, latency, dropped connections, scripted errors.

All of it is off by default. Every knob is a plain attribute that may be changed while the server runs;
random decisions come from one seeded RNG, so a run with the same seed and the same request order makes the
same decisions.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import ApiError, api_error, is_throttling

#: The 5xx codes random server errors are drawn from, with their statuses.
SERVER_ERRORS: tuple[tuple[str, int], ...] = (("ServiceUnavailable", 503), ("InternalError", 500))


class Faults:
    """What can go wrong, and how often. Attach to an emulator as ``emu.faults``.

    Attributes (all changeable at run time):

    - ``throttle_rate``: share of calls (0..1) refused with ``Throttling.User``.
    - ``qps_limits``: ``{action: calls per second}``; above it a call is refused with ``Throttling.Api``
      (a token bucket per account and action, burst = one second's worth: Alibaba counts each API's calls per
      account, so two accounts each get the whole rate).
    - ``account_qps_limits``: ``{account id: {action: calls per second}}``, one account's own limits, in place of
      ``qps_limits`` for the actions it names.
    - ``server_error_rate``: share of calls failing with ``ServiceUnavailable`` (503) or ``InternalError`` (500).
    - ``latency``: seconds added before every call is handled.
    - ``drop_rate``: share of calls whose connection is closed without a response, *before* they are handled.
    - ``lost_response_rate``: share of calls that *are* handled (state changes) but whose response is lost
      the same way: the ambiguous outcome a retrying client must cope with.
    - ``malformed_rate``: share of calls that are handled (state changes) but answered HTTP 200 with a body
      that is not the cloud's JSON (cut short): what a client must turn into an error, not a crash.
    - ``retry_after_ms``: the ``x-acs-retry-after`` header sent with throttling errors (milliseconds); it is
      what makes the SDK raise ``ThrottlingException``. ``None`` sends no header (a plain ``ClientException``).
    - ``actions``: when set, the random faults above (not ``qps_limits``) only hit these actions.
    """

    def __init__(
        self,
        throttle_rate: float = 0.0,
        qps_limits: dict[str, float] | None = None,
        server_error_rate: float = 0.0,
        latency: float = 0.0,
        drop_rate: float = 0.0,
        lost_response_rate: float = 0.0,
        retry_after_ms: int | None = 200,
        actions: Iterable[str] | None = None,
        seed: int | None = None,
        malformed_rate: float = 0.0,
        account_qps_limits: dict[str, dict[str, float]] | None = None,
    ) -> None:
        """Configure faults; everything defaults to off."""
        self.throttle_rate = throttle_rate
        self.qps_limits: dict[str, float] = dict(qps_limits or {})
        self.account_qps_limits: dict[str, dict[str, float]] = {
            account: dict(limits) for account, limits in (account_qps_limits or {}).items()
        }
        self.server_error_rate = server_error_rate
        self.latency = latency
        self.drop_rate = drop_rate
        self.lost_response_rate = lost_response_rate
        self.malformed_rate = malformed_rate
        self.retry_after_ms = retry_after_ms
        self.actions: set[str] | None = None if actions is None else set(actions)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _TokenBucket] = {}
        self._local = threading.local()

    def seed(self, n: int) -> None:
        """Re-seed the RNG behind every random decision."""
        with self._lock:
            self._rng.seed(n)

    def reset(self) -> None:
        """Turn every fault off (the seed is kept)."""
        with self._lock:
            self.throttle_rate = self.server_error_rate = self.latency = 0.0
            self.drop_rate = self.lost_response_rate = self.malformed_rate = 0.0
            self.qps_limits = {}
            self.account_qps_limits = {}
            self.actions = None
            self._buckets.clear()

    def _applies(self, action: str) -> bool:
        return self.actions is None or action in self.actions

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def latency_for(self, action: str) -> float:
        """Seconds to wait before handling ``action``."""
        return self.latency if self.latency > 0 and self._applies(action) else 0.0

    def drop(self, action: str) -> bool:
        """Whether to close this call's connection before handling it."""
        return self._applies(action) and self._chance(self.drop_rate)

    def lose_response(self, action: str) -> bool:
        """Whether to close this call's connection after handling it."""
        return self._applies(action) and self._chance(self.lost_response_rate)

    def malform(self, action: str) -> bool:
        """Whether to answer this (handled) call with a body that is not the cloud's JSON."""
        return self._applies(action) and self._chance(self.malformed_rate)

    def qps_limit(self, action: str, account: str = "") -> float | None:
        """The calls per second ``account`` may make of ``action`` (its own limit, else ``qps_limits``'), if any."""
        own = self.account_qps_limits.get(account, {})
        return own[action] if action in own else self.qps_limits.get(action)

    def caller(self, account: str) -> None:
        """Say whose call this thread checks next (the dispatcher does, before :meth:`check`): rate limits are
        counted per account. Kept apart from ``check``'s signature, which subclasses override."""
        self._local.account = account

    def check(self, action: str) -> None:
        """Raise the throttling or server error this call (of the :meth:`caller` account) draws, if any."""
        account = getattr(self._local, "account", "")
        limit = self.qps_limit(action, account)
        if limit is not None and limit > 0:
            wait = self._bucket(account, action, limit).take(time.monotonic())
            if wait > 0:
                raise api_error("Throttling.Api", retry_after_ms=self._retry_after(wait))
        if not self._applies(action):
            return
        if self._chance(self.throttle_rate):
            raise api_error("Throttling.User", retry_after_ms=self.retry_after_ms)
        if self._chance(self.server_error_rate):
            with self._lock:
                code, status = self._rng.choice(SERVER_ERRORS)
            raise api_error(code, http_status=status)

    def _retry_after(self, wait_seconds: float) -> int | None:
        if self.retry_after_ms is None:
            return None
        return max(1, math.ceil(wait_seconds * 1000))

    def _bucket(self, account: str, action: str, qps: float) -> _TokenBucket:
        with self._lock:
            bucket = self._buckets.get((account, action))
            if bucket is None or bucket.rate != qps:
                bucket = self._buckets[account, action] = _TokenBucket(qps)
            return bucket


class _TokenBucket:
    """``rate`` tokens a second, holding at most ``max(1, rate)``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self, now: float) -> float:
        """Take a token: 0 if granted, else the seconds until one is available."""
        with self._lock:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


@dataclass
class _Scripted:
    error: ApiError
    remaining: int


class ScriptedErrors:
    """Errors queued by ``fail_next``: served, in order, to the next calls of an action (``"*"``: any)."""

    def __init__(self) -> None:
        """Start with nothing queued."""
        self._queues: dict[str, deque[_Scripted]] = {}
        self._lock = threading.Lock()

    def push(
        self,
        action: str,
        code: str,
        message: str | None,
        http_status: int | None,
        times: int,
        retry_after_ms: int | None,
    ) -> None:
        """Queue ``code`` for the next ``times`` calls of ``action``."""
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        error = api_error(code, message, http_status, retry_after_ms)
        with self._lock:
            self._queues.setdefault(action, deque()).append(_Scripted(error, times))

    def pop(self, action: str, throttle_retry_after_ms: int | None) -> ApiError | None:
        """The error for this call of ``action``, if one is queued (throttling codes get a retry-after)."""
        with self._lock:
            for key in (action, "*"):
                queue = self._queues.get(key)
                if not queue:
                    continue
                item = queue[0]
                item.remaining -= 1
                if item.remaining <= 0:
                    queue.popleft()
                error = item.error
                if error.retry_after_ms is None and is_throttling(error.code) and throttle_retry_after_ms:
                    error = ApiError(error.code, error.message, error.http_status, throttle_retry_after_ms)
                return error
        return None

    def clear(self) -> None:
        """Forget everything queued."""
        with self._lock:
            self._queues.clear()

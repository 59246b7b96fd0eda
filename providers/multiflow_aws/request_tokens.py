"""EC2's request rate limits as the EC2 API reference describes them: a token bucket per API class.

Every call takes one token from its class's bucket; a bucket refills at a fixed rate up to its size; a call that
finds its bucket empty is refused with ``RequestLimitExceeded`` (HTTP 503). Mutating actions share one bucket of
50 tokens refilled at 5 a second; describe (non-mutating) actions one of 100 refilled at 20 a second. The fault
proxy applies them when asked (``FaultProxy(rate_limits=RequestTokens())``), so a benchmark feels what real EC2
does; they are off by default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_BUCKETS", "Bucket", "RequestTokens", "api_class"]

_NON_MUTATING_PREFIXES = ("Describe", "Get", "List", "Search")


@dataclass(frozen=True)
class Bucket:
    """One API class's bucket: ``size`` tokens at most, ``refill`` tokens added per second."""

    size: float
    refill: float


#: EC2's documented buckets per API class (the account's defaults).
DEFAULT_BUCKETS: Mapping[str, Bucket] = {"mutating": Bucket(50, 5), "non_mutating": Bucket(100, 20)}


def api_class(action: str) -> str:
    """The API class of an EC2 action: ``non_mutating`` (Describe*, Get*, List*, Search*) or ``mutating``."""
    return "non_mutating" if action.startswith(_NON_MUTATING_PREFIXES) else "mutating"


class RequestTokens:
    """Token buckets per API class, full at start; thread-safe.

    :param buckets: API class → :class:`Bucket` (EC2's defaults when omitted).
    :param clock: a monotonic clock in seconds (tests pass their own).
    """

    def __init__(
        self, buckets: Mapping[str, Bucket] | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.buckets = dict(buckets or DEFAULT_BUCKETS)
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._level = {name: (bucket.size, now) for name, bucket in self.buckets.items()}

    def take(self, action: str) -> bool:
        """Take a token for one call of ``action``: ``True`` when there was one, ``False`` when it is throttled."""
        name = api_class(action)
        bucket = self.buckets.get(name)
        if bucket is None:
            return True
        with self._lock:
            level, since = self._level[name]
            now = self._clock()
            level = min(bucket.size, level + (now - since) * bucket.refill)
            allowed = level >= 1.0
            self._level[name] = (level - 1.0 if allowed else level, now)
            return allowed

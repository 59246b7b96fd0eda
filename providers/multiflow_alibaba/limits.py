"""Where the rate limiters live: one set per Alibaba Cloud account, shared by every session of that account.

Alibaba applies its API rate limits per account (each API separately), whatever the region, so the sessions of
one account (one per region, each with its threads) must draw from the same buckets: a session asks
:func:`account_limiters` for its account's set instead of making its own. The set lives as long as a session
holds it (a weak registry), so a process that enters many accounts one after another keeps no stale buckets.

How a limiter works is :mod:`multiflow_alibaba.retry`'s business; this module only says where one lives.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable

from multiflow_alibaba.retry import RateLimiter

__all__ = ["ActionLimiters", "account_limiters"]


class ActionLimiters:
    """The token buckets of one account: one per API action, made on first use; thread-safe."""

    def __init__(self, rate: float | None, burst: float | None) -> None:
        self._settings = (rate, burst)
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ActionLimiters {sorted(self._limiters)}>"

    def __call__(self, action: str) -> RateLimiter:
        """The bucket of ``action``."""
        with self._lock:
            limiter = self._limiters.get(action)
            if limiter is None:
                limiter = self._limiters[action] = RateLimiter(*self._settings)
            return limiter


_registry: weakref.WeakValueDictionary[Hashable, ActionLimiters] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def account_limiters(account: str, rate: float | None, burst: float | None) -> ActionLimiters:
    """The limiters of ``account`` (an account id, or a key naming the calling identity's credentials) at this
    rate and burst: the same object for every session of the account that asks with the same settings."""
    key = (account, rate, burst)
    with _registry_lock:
        found = _registry.get(key)
        if found is None:
            found = ActionLimiters(rate, burst)
            _registry[key] = found
        return found

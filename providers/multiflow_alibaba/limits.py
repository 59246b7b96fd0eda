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

from multiflow.limiter import Limiters
from multiflow_alibaba.retry import limiters

__all__ = ["account_limiters"]

_registry: weakref.WeakValueDictionary[Hashable, Limiters] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def account_limiters(account: str, rate: float | None, burst: float | None) -> Limiters:
    """The adaptive limiters of ``account`` (an account id, or a key naming the calling identity's credentials)
    at this rate and burst (one per API action, :func:`multiflow_alibaba.retry.limiters`): the same object for
    every session of the account that asks with the same settings."""
    key = (account, rate, burst)
    with _registry_lock:
        found = _registry.get(key)
        if found is None:
            found = limiters(rate, burst)
            _registry[key] = found
        return found

"""Where the rate limiters live: one set per Alibaba Cloud account, shared by every session of that account; and
how many threads the account's calls need (:func:`pool_size`).

Alibaba applies its API rate limits per account (each API separately), whatever the region, so the sessions of
one account (one per region, each with its threads) must draw from the same buckets: a session asks
:func:`account_limiters` for its account's set instead of making its own. The set lives as long as a session
holds it (a weak registry), so a process that enters many accounts one after another keeps no stale buckets.

How a limiter works is :mod:`multiflow_alibaba.retry`'s business; this module only says where one lives.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Hashable

from multiflow.limiter import Limiters
from multiflow_alibaba.retry import limiters

__all__ = ["BUSY_ACTIONS", "CALL_SECONDS", "account_limiters", "pool_size"]

#: The time one call is allowed for, when sizing an account's pool (seconds): a round trip to a far region with
#: signing and parsing (30 ms on loopback; a few hundred from another continent).
CALL_SECONDS = 0.5
#: API actions an account's work keeps busy at once, each at its own limit: a write and a read (apply's creates and
#: the waiter's polls; plan's listings of flow logs and of resources).
BUSY_ACTIONS = 2

_registry: weakref.WeakValueDictionary[Hashable, Limiters] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def account_limiters(account: str, rate: float | None, burst: float | None, known: bool = False) -> Limiters:
    """The adaptive limiters of ``account`` (an account id, or a key naming the calling identity's credentials)
    at this rate and burst, ``known`` or not (one per API action, :func:`multiflow_alibaba.retry.limiters`): the
    same object for every session of the account that asks with the same settings."""
    key = (account, rate, burst, known)
    with _registry_lock:
        found = _registry.get(key)
        if found is None:
            found = limiters(rate, burst, known)
            _registry[key] = found
        return found


def pool_size(rate_limit: float | None, most: int) -> int:
    """Threads for one account's calls (Little's law: calls in flight = rate × time per call): ``BUSY_ACTIONS``
    actions at ``rate_limit`` a second each, a call taking up to ``CALL_SECONDS``; at least 2 (a listing's pages
    beside a lookup), at most ``most`` (the session's ``max_concurrency``; all of it when nothing is limited).

    More threads than this only sleep in the account's limiters, whatever the number of its regions."""
    if not rate_limit or rate_limit <= 0:
        return most
    return max(min(2, most), min(most, math.ceil(BUSY_ACTIONS * rate_limit * CALL_SECONDS)))

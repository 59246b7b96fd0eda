"""The worker threads work on many resources (one call per id, the pages of a listing) runs on: one pool per
account, shared by the sessions of its regions.

Alibaba's rate limits are per account, shared by its regions (:mod:`multiflow_alibaba.limits`), so an account's
calls can never run faster than its limits however many threads make them: threads beyond what the limits keep
busy only sleep in the limiters. A session therefore takes its account's pool (:func:`account_workers`), sized
from the account's rate limit (:func:`multiflow_alibaba.limits.pool_size`), instead of starting its own: an
organization of 200 accounts × 4 regions runs on 200 small pools, not 800 pools of 10.

Work started from a worker runs in that worker, inline, so the pool can never deadlock waiting on itself (a
lookup that pages a listing from inside a per-id create, say).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from multiflow.errors import MultiflowError

__all__ = ["Workers", "account_workers"]

T = TypeVar("T")
R = TypeVar("R")

_registry: dict[Hashable, Workers] = {}
_registry_lock = threading.Lock()


class Workers:
    """A pool of ``size`` threads named ``<name>_N``, with each item's result or neutral error kept.

    It may be shared (:func:`account_workers`): each user calls :meth:`close` once, and the threads stop when the
    last one has.
    """

    def __init__(self, size: int, name: str, *, key: Hashable | None = None) -> None:
        self.size = size
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self._worker = threading.local()
        self._key = key
        self._users = 1

    def __repr__(self) -> str:
        return f"<Workers {self.size}, {self._users} users>"

    def each(self, fn: Callable[[T], R], items: Sequence[T]) -> list[tuple[T, R | None, MultiflowError | None]]:
        """``fn`` over ``items`` on the pool (inline from a worker, so the pool never waits on itself).

        Each item's result or neutral error is kept; other exceptions (bugs) propagate.
        """

        def run(item: T) -> tuple[T, R | None, MultiflowError | None]:
            try:
                return item, fn(item), None
            except MultiflowError as exc:
                return item, None, exc

        if len(items) <= 1 or getattr(self._worker, "active", False):
            return [run(item) for item in items]

        def in_worker(item: T) -> tuple[T, R | None, MultiflowError | None]:
            self._worker.active = True
            try:
                return run(item)
            finally:
                self._worker.active = False

        return list(self._pool.map(in_worker, items))

    def all(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` concurrently; the first error is raised once all are done."""
        results: list[R] = []
        for _, result, error in self.each(fn, items):
            if error is not None:
                raise error
            results.append(result)  # type: ignore[arg-type]
        return results

    def close(self) -> None:
        """This user is done: once every user is, stop the threads (after the work given them)."""
        with _registry_lock:
            self._users -= 1
            last = self._users <= 0
            if last and self._key is not None and _registry.get(self._key) is self:
                del _registry[self._key]
        if last:
            self._pool.shutdown(wait=True)


def account_workers(account: Hashable, size: int, name: str = "multiflow-alibaba") -> Workers:
    """The worker pool of ``account`` at ``size`` threads: the same pool for every session of the account that
    asks with the same size, until each of them has closed it."""
    key = (account, size)
    with _registry_lock:
        found = _registry.get(key)
        if found is None:
            found = _registry[key] = Workers(size, name, key=key)
        else:
            found._users += 1
        return found

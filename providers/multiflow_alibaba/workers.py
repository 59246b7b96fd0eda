"""The session's worker threads: work on many resources (one call per id, the pages of a listing) runs on them.

Work started from a worker runs in that worker, inline, so the pool can never deadlock waiting on itself (a
lookup that pages a listing from inside a per-id create, say).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from multiflow.errors import MultiflowError

__all__ = ["Workers"]

T = TypeVar("T")
R = TypeVar("R")


class Workers:
    """A pool of ``size`` threads named ``<name>_N``, with each item's result or neutral error kept."""

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self._worker = threading.local()

    def __repr__(self) -> str:
        return f"<Workers {self.size}>"

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
        """Stop the threads, once the work given them is done."""
        self._pool.shutdown(wait=True)

"""Progress of ``apply`` and ``destroy`` on stderr, while the clouds work (also with ``-o json``: stdout stays
the answer).

On a terminal, a rich live display: a bar per provider, region and phase (``delete``, ``deleting``, ``update``,
``create``, ``activating``: the wait for the cloud's asynchronous activation), its count, its failed count and
the elapsed time. Elsewhere (CI logs, pipes), plain lines: one per tenth of a phase, the last one once. Past
:data:`MANY_PLACES` places of a provider (an organization), a line or bar per provider and phase, summed over its
accounts and regions.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from multiflow.applying import ProgressEvent

__all__ = ["MANY_PLACES", "ProgressPrinter"]

#: Past this many places (account and region) of one provider, progress is summed per provider and phase.
MANY_PLACES = 12


class ProgressPrinter:
    """Progress on ``stream``: live bars on a terminal, a line per step elsewhere; use as a context manager
    around the apply (it stops the live display on the way out).

    :param quiet: print nothing.
    """

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        try:
            self.tty = stream.isatty() and os.environ.get("TERM") != "dumb"
        except (AttributeError, ValueError):
            self.tty = False
        self.lock = threading.Lock()
        self.last: dict[tuple[str, str, str], tuple[int, int]] = {}
        self.started = time.monotonic()
        self._live: Any = None
        self._tasks: dict[tuple[str, str, str], Any] = {}
        self._latest: dict[tuple[str, str, str], tuple[int, int, int]] = {}

    def __enter__(self) -> ProgressPrinter:
        if self.tty and not self.quiet:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=self.stream, no_color=bool(os.environ.get("NO_COLOR")) or None)
            self._live = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the live display (its last frame stays on screen); safe to call twice."""
        with self.lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def __call__(self, event: ProgressEvent) -> None:
        if self.quiet:
            return
        where = f"{event.account} {event.region}" if event.account else event.region
        with self.lock:
            self._latest[(event.provider, where, event.phase)] = (event.done, event.total, event.failed)
            done, total, failed = event.done, event.total, event.failed
            places = {k[:2] for k in self._latest if k[0] == event.provider}
            if len(places) > MANY_PLACES:
                # An organization: one line (or bar) per provider and phase, summed over its places, so that a
                # CI log holds some ten lines a phase whatever the number of accounts and regions.
                same = [v for k, v in self._latest.items() if k[0] == event.provider and k[2] == event.phase]
                done, total, failed = (sum(v[n] for v in same) for n in range(3))
                where = "(all places)"
            key = (event.provider, where, event.phase)
            if self._live is not None:
                self._draw(key, done, total, failed)
                return
            step = (done * 10 // max(total, 1), failed)
            if self.last.get(key) == step:
                return  # the same line again (a group's final report after its waiter's)
            self.last[key] = step
            failures = f", {failed} failed" if failed else ""
            count = f" of {len(places)}" if where == "(all places)" else ""
            self.stream.write(
                f"{event.provider:<8} {where + count:<14} {event.phase:<10} {done}/{total}"
                f"{failures}  {time.monotonic() - self.started:5.1f}s\n"
            )
            self.stream.flush()

    def _draw(self, key: tuple[str, str, str], done: int, total: int, failed: int) -> None:
        provider, region, phase = key
        shown = f"[red]{failed} failed[/red]" if failed else ""
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = self._live.add_task(
                f"{provider:<8} {region:<14} {phase:<10}", total=max(total, 1), failed=shown
            )
        self._live.update(task, completed=done + failed, total=max(total, 1), failed=shown)

"""Progress of ``apply`` and ``destroy`` on stderr, while the clouds work (also with ``-o json``: stdout stays
the answer).

On a terminal, a rich live display: a bar per provider, region and phase (``delete``, ``deleting``, ``update``,
``create``, ``activating``: the wait for the cloud's asynchronous activation), its count, its failed count and
the elapsed time. Elsewhere (CI logs, pipes), plain lines: one per tenth of a phase, the last one once.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from multiflow.applying import ProgressEvent

__all__ = ["ProgressPrinter"]


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
        key = (event.provider, where, event.phase)
        with self.lock:
            if self._live is not None:
                self._draw(key, event)
                return
            total = max(event.total, 1)
            step = (event.done * 10 // total, event.failed)
            if self.last.get(key) == step:
                return  # the same line again (a group's final report after its waiter's)
            self.last[key] = step
            failed = f", {event.failed} failed" if event.failed else ""
            self.stream.write(
                f"{event.provider:<8} {where:<14} {event.phase:<10} {event.done}/{event.total}"
                f"{failed}  {time.monotonic() - self.started:5.1f}s\n"
            )
            self.stream.flush()

    def _draw(self, key: tuple[str, str, str], event: ProgressEvent) -> None:
        provider, region, phase = key
        failed = f"[red]{event.failed} failed[/red]" if event.failed else ""
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = self._live.add_task(
                f"{provider:<8} {region:<14} {phase:<10}", total=max(event.total, 1), failed=failed
            )
        self._live.update(task, completed=event.done + event.failed, total=max(event.total, 1), failed=failed)

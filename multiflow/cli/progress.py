"""Progress of ``apply`` and ``destroy`` on stderr, while the clouds work."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from multiflow.apply import ProgressEvent

__all__ = ["ProgressPrinter"]


class ProgressPrinter:
    """Progress on stderr: a redrawn line per group on a terminal, a line per step elsewhere.

    :param quiet: print nothing (``--output json`` keeps stderr for errors).
    """

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.lock = threading.Lock()
        self.last: dict[tuple[str, str, str], int] = {}
        self.started = time.monotonic()

    def __call__(self, event: ProgressEvent) -> None:
        if self.quiet:
            return
        key = (event.provider, event.region, event.phase)
        with self.lock:
            total = max(event.total, 1)
            width = 24
            filled = int(width * event.done / total)
            bar = "#" * filled + "." * (width - filled)
            failed = f", {event.failed} failed" if event.failed else ""
            text = (
                f"{event.provider:<8} {event.region:<14} {event.phase:<7} [{bar}] {event.done}/{event.total}"
                f"{failed}  {time.monotonic() - self.started:5.1f}s"
            )
            if self.tty:
                self.stream.write("\r" + text + "\x1b[K")
                if event.done >= event.total:
                    self.stream.write("\n")
            else:
                step = event.done * 10 // total
                if self.last.get(key) != step:
                    self.last[key] = step
                    self.stream.write(text + "\n")
            self.stream.flush()

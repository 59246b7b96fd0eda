"""Logging for the command: multiflow's warnings on stderr; SDK loggers quiet unless ``--debug``.

``-v/--verbose`` shows multiflow's own records at DEBUG (each call and its request id, retries, adoptions), as
plain lines without a level: ``-v`` asked for them, and a line saying ``DEBUG`` reads as if ``--debug`` were on.
Warnings and errors say their level. ``--debug`` shows every logger's, the SDKs' (botocore, urllib3,
alibabacloud, Tea) included, each with its level.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SDK_LOGGERS", "VerboseFormatter", "configure", "configured"]

#: The SDKs' loggers, silenced unless ``--debug`` (the Alibaba SDK logs tracebacks of its credential chain).
SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "alibabacloud", "alibabacloud_credentials", "Tea", "moto")


class VerboseFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: MESSAGE`` for warnings and above (and for everything with ``--debug``); ``TIME LOGGER:
    MESSAGE`` for the informational lines ``-v`` asked for."""

    def __init__(self, *, levels: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._plain = logging.Formatter("%(asctime)s %(name)s: %(message)s")
        self._levels = levels

    def format(self, record: logging.LogRecord) -> str:
        """The record, with its level only where it tells something."""
        if self._levels or record.levelno >= logging.WARNING:
            return super().format(record)
        return self._plain.format(record)


def configure(verbose: bool, debug: bool) -> None:
    """Send records to stderr: multiflow's at WARNING (DEBUG with ``verbose``), the SDKs' not at all unless
    ``debug``, when everything goes at DEBUG."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(VerboseFormatter(levels=debug))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.getLogger("multiflow").setLevel(logging.DEBUG if verbose or debug else logging.WARNING)
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)


@contextmanager
def configured(verbose: bool, debug: bool) -> Iterator[None]:
    """:func:`configure` for the length of one command, then the logging set-up as it was: ``main()`` called
    in-process (by a test, a host program) leaves no handler or logger level of its own behind."""
    root = logging.getLogger()
    names = ("multiflow", *SDK_LOGGERS)
    saved = (list(root.handlers), root.level, {name: logging.getLogger(name).level for name in names})
    configure(verbose, debug)
    try:
        yield
    finally:
        handlers, level, levels = saved
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)

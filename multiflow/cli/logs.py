"""Logging for the command: multiflow's warnings on stderr; SDK loggers quiet unless ``--debug``.

``-v/--verbose`` shows multiflow's own records at DEBUG (each call and its request id, retries, adoptions);
``--debug`` shows every logger's, the SDKs' (botocore, urllib3, alibabacloud, Tea) included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SDK_LOGGERS", "configure", "configured"]

#: The SDKs' loggers, silenced unless ``--debug`` (the Alibaba SDK logs tracebacks of its credential chain).
SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "alibabacloud", "alibabacloud_credentials", "Tea", "moto")


def configure(verbose: bool, debug: bool) -> None:
    """Send records to stderr: multiflow's at WARNING (DEBUG with ``verbose``), the SDKs' not at all unless
    ``debug``, when everything goes at DEBUG."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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

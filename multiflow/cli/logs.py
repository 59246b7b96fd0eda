"""Logging for the command: multiflow's warnings on stderr; SDK loggers quiet unless ``--debug``.

``-v/--verbose`` shows multiflow's own records at DEBUG (each call and its request id, retries, adoptions);
``--debug`` shows every logger's, the SDKs' (botocore, urllib3, alibabacloud, Tea) included.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["SDK_LOGGERS", "configure"]

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

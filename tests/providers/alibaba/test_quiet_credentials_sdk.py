"""Alibaba's credentials SDK logs each failed refresh with a traceback; multiflow reports the failure once, in one
line, so those records must not reach stderr in a program that set up no logging (multiflow's CLI)."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import logging
import multiflow_alibaba.session  # what connecting a session imports
try:
    raise RuntimeError("Refresh credentials failed")
except RuntimeError:
    logging.getLogger("credentials").error("refresh failed", exc_info=True)
logging.getLogger("multiflow.other").error("still shown")
"""


def test_the_credentials_sdks_tracebacks_do_not_reach_stderr() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=True)
    assert "Traceback" not in done.stderr and "refresh failed" not in done.stderr
    assert "still shown" in done.stderr  # Python's last resort still prints what has no handler of its own

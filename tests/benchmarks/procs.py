"""The benchmark's processes: each sandbox in its own (:class:`Sandbox`), each measured client in its own
(:func:`run_client`), so client CPU, sandbox CPU and the client's peak RSS are measured apart.

Every child is bounded in time and stopped by its own pid; nothing outlives the ``with`` block or the call.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent

#: The environment children run in: nothing reaches past loopback (no proxies, no ECS metadata probing).
CHILD_ENV = {
    **{k: v for k, v in os.environ.items() if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}},
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost",
}


class Sandbox:
    """A sandbox process (``sandbox_server.py``) seeded as ``config`` says; a context manager.

    :attr:`ready` is what it printed when it started serving (connect options, resource ids).
    """

    def __init__(self, config: dict[str, Any], *, start_timeout: float = 600.0) -> None:
        self.config = config
        self._proc = subprocess.Popen(
            [sys.executable, str(HERE / "sandbox_server.py"), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=CHILD_ENV,
        )
        self._lock = threading.Lock()
        self.ready: dict[str, Any] = self._read(start_timeout)

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._readline(self._proc.stdout)), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0]:
            self.close()
            raise RuntimeError(f"sandbox {self.config['cloud']} gave no answer within {timeout:.0f}s")
        return dict(json.loads(line[0]))

    @staticmethod
    def _readline(stream: IO[str] | None) -> str:
        return stream.readline() if stream is not None else ""

    def command(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        """Send ``reset`` or ``stats`` and return the answer."""
        with self._lock:
            assert self._proc.stdin is not None
            self._proc.stdin.write(name + "\n")
            self._proc.stdin.flush()
            return self._read(timeout)

    def reset(self) -> None:
        """Forget the call counts; count CPU from now."""
        self.command("reset")

    def stats(self) -> dict[str, Any]:
        """Calls, errors and CPU seconds since the last reset."""
        return self.command("stats")

    def close(self) -> None:
        """Stop the process (asked first, then terminated, then killed: by its own pid)."""
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write("quit\n")
                self._proc.stdin.flush()
                self._proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class ClientRun:
    """One client process's answer and resource usage."""

    result: dict[str, Any]
    cpu: float
    peak_rss_mb: float
    sandbox: dict[str, Any] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        """The job's own wall time (import excluded)."""
        return float(self.result["wall"])


def run_client(job: dict[str, Any], *, timeout: float = 1800.0) -> ClientRun:
    """Run ``job`` in a fresh client process; its CPU (user + system) and peak RSS come from ``os.wait4``."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(job, handle)
        path = handle.name
    try:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "client_run.py"), path], stdout=subprocess.PIPE, text=True, env=CHILD_ENV
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            out = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            if proc.stdout is not None:
                proc.stdout.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 or not out.strip():
            raise RuntimeError(f"client job {job['kind']} failed (exit {proc.returncode}): {out[-2000:]}")
        result = json.loads(out.strip().splitlines()[-1])
        return ClientRun(result, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    finally:
        os.unlink(path)


def measured(sandboxes: Sequence[Sandbox], job: dict[str, Any], *, timeout: float = 1800.0) -> ClientRun:
    """``job`` in a client process, with each sandbox's calls and CPU over exactly that run."""
    for sandbox in sandboxes:
        sandbox.reset()
    run = run_client(job, timeout=timeout)
    run.sandbox = {sandbox.config["cloud"]: sandbox.stats() for sandbox in sandboxes}
    return run


def median(values: Sequence[float]) -> float:
    """The median (of at least one value)."""
    return float(statistics.median(values))


def growth_exponent(sizes: Sequence[float], values: Sequence[float]) -> float:
    """The least-squares slope of log(value) on log(size): 1 is linear, 2 quadratic."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(v, 1e-9)) for v in values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread if spread else float("nan")


__all__ = ["ClientRun", "Sandbox", "growth_exponent", "measured", "median", "run_client"]

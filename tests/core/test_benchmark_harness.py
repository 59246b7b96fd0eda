"""A smoke of the benchmark harness (tests/benchmarks): a sandbox in its own process, a client in its own, their
CPU and the client's peak RSS measured apart. The benchmarks themselves are scripts, not tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import procs
import scenarios

pytestmark = pytest.mark.timeout(120)


def test_an_alibaba_apply_is_measured_in_processes_of_its_own() -> None:
    config = {"cloud": "alibaba", "size": 3, "qps": {"CreateFlowLog": 50}, "latency": 0.0, "activation": 0.0}
    with procs.Sandbox(config) as emu:
        job = {
            "kind": "apply",
            "fleet": scenarios.alibaba_fleet(emu.ready["ids"]),
            "options": {"alibaba": emu.ready["options"]},
        }
        run = procs.measured([emu], job)
    assert run.result["ok"] and run.cpu > 0 and run.peak_rss_mb > 10
    assert run.sandbox["alibaba"]["calls"]["CreateFlowLog"] == 3
    assert run.sandbox["alibaba"]["cpu"] > 0


def test_the_growth_exponent_reads_linear_and_quadratic() -> None:
    assert procs.growth_exponent([1, 10, 100], [2, 20, 200]) == pytest.approx(1.0)
    assert procs.growth_exponent([1, 10, 100], [1, 100, 10000]) == pytest.approx(2.0)

"""multiflow's benchmarks (issue #15): run a scenario, keep its figures, write docs/performance.md from them.

    .venv/bin/python tests/benchmarks/bench.py low-limit                  # 200 creates at cloud limits 2..50/s
    .venv/bin/python tests/benchmarks/bench.py low-limit --limits 2 10 --runs 3
    .venv/bin/python tests/benchmarks/bench.py alibaba-scale --sizes 1000 3000 10000
    .venv/bin/python tests/benchmarks/bench.py aws-anchor --sizes 1000 3000 10000
    .venv/bin/python tests/benchmarks/bench.py busy-region
    .venv/bin/python tests/benchmarks/bench.py plan-wire
    .venv/bin/python tests/benchmarks/bench.py validate --sizes 10000 30000 100000
    .venv/bin/python tests/benchmarks/bench.py render                     # docs/performance.md from the results

Each scenario writes ``tests/benchmarks/results/<scenario>.json`` (kept in git: the figures the docs show) and
``render`` turns all of them into docs/performance.md. Each sandbox runs in its own process and so does each
measured client (see procs.py): run one scenario at a time on a shared machine. These are scripts, not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

import scenarios  # noqa: E402
from render import render  # noqa: E402


def machine() -> dict[str, Any]:
    """What this machine is, for the record."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "scenario",
        choices=["low-limit", "alibaba-scale", "aws-anchor", "busy-region", "plan-wire", "validate", "render"],
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--limits", type=float, nargs="*")
    parser.add_argument("--existing", type=int)
    args = parser.parse_args(argv)
    if args.scenario == "render":
        (ROOT / "docs" / "performance.md").write_text(render(RESULTS))
        return 0
    started = time.monotonic()
    if args.scenario == "low-limit":
        figures = scenarios.low_limit(limits=args.limits or (2, 5, 10, 20, 50), runs=args.runs)
    elif args.scenario == "alibaba-scale":
        figures = scenarios.alibaba_scale(sizes=args.sizes or (1000, 3000, 10000), runs=args.runs)
    elif args.scenario == "aws-anchor":
        figures = scenarios.aws_anchor(sizes=args.sizes or (1000, 3000, 10000), runs=args.runs)
    elif args.scenario == "busy-region":
        figures = scenarios.busy_region(existing=args.existing or 20000, runs=args.runs)
    elif args.scenario == "plan-wire":
        figures = scenarios.plan_over_the_wire(existing=args.existing or 100000, runs=args.runs)
    else:
        figures = scenarios.validate_scale(sizes=args.sizes or (10000, 30000, 100000), runs=args.runs)
    figures["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    figures["machine"] = machine()
    figures["seconds"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.scenario}.json").write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    print(json.dumps(figures, indent=1, sort_keys=True)[:4000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

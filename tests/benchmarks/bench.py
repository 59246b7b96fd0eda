"""multiflow's benchmarks: run them all, print the results, and write docs/performance.md.

    .venv/bin/python tests/benchmarks/bench.py                 # default size: 200 + 200 resources, 3 runs
    .venv/bin/python tests/benchmarks/bench.py --size 1000     # the full 1,000 + 1,000

Speed is reported as medians of ``--runs`` runs and as ratios measured within the same run, never as absolute
promises: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from bulk_enable import Environment, Outcome, Setting, run_each, run_multiflow, run_one_call  # noqa: E402
from startup_throughput import import_cost, plan_throughput, spec_throughput  # noqa: E402

TARGETS = {
    "floor_ratio": 1.15,
    "vs_sequential": 20.0,
    "vs_parallel": 3.0,
    "import_ms": 50.0,
    "specs_per_second": 50_000,
    "plan_seconds": 3.0,
    "plan_mb": 300.0,
}


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
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def scenario_a(setting: Setting, runs: int, sequential: int, parallel: int) -> dict[str, Any]:
    from multiflow_aws.sandbox import AwsSandbox

    results: dict[tuple[str, str], list[Outcome]] = {}
    walls: list[float] = []
    with AwsSandbox() as aws:
        for run in range(runs):
            for method in ("multiflow", "one-call", "parallel-10", "sequential"):
                env = Environment(aws, setting)
                try:
                    if method == "multiflow":
                        outcomes, wall = run_multiflow(env)
                        walls.append(wall)
                    elif method == "one-call":
                        outcomes = [run_one_call(env)]
                    elif method == "parallel-10":
                        outcomes = run_each(env, workers=10, sample=min(parallel or setting.size, setting.size))
                    else:
                        outcomes = run_each(env, workers=1, sample=min(sequential, setting.size))
                finally:
                    env.close()
                for outcome in outcomes:
                    results.setdefault((outcome.method, outcome.cloud), []).append(outcome)
                    print(
                        f"  run {run + 1}: {outcome.method:<11} {outcome.cloud:<8} {outcome.seconds:8.2f}s "
                        f"{sum(outcome.calls.values()):6d} calls",
                        flush=True,
                    )
    table: dict[str, Any] = {}
    aws_floor = statistics.median(o.seconds for o in results[("one-call", "aws")])
    for (method, cloud), outcomes in results.items():
        table[f"{method}/{cloud}"] = {
            "method": method,
            "cloud": cloud,
            "median_seconds": statistics.median(o.seconds for o in outcomes),
            "runs": [round(o.seconds, 3) for o in outcomes],
            "calls": outcomes[-1].calls,
            "extrapolated_from": outcomes[-1].extrapolated_from,
            "floor_seconds": aws_floor if cloud == "aws" else setting.alibaba_floor(),
        }
    table["multiflow/both"] = {
        "method": "multiflow",
        "cloud": "both",
        "median_seconds": statistics.median(walls),
        "runs": [round(w, 3) for w in walls],
        "calls": {},
        "extrapolated_from": None,
        "floor_seconds": max(aws_floor, setting.alibaba_floor()),
    }
    return table


def ratios(table: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cloud in ("aws", "alibaba"):
        ours = table[f"multiflow/{cloud}"]["median_seconds"]
        out[cloud] = {
            "multiflow_over_floor": ours / table[f"multiflow/{cloud}"]["floor_seconds"],
            "sequential_over_multiflow": table[f"sequential/{cloud}"]["median_seconds"] / ours,
            "parallel_over_multiflow": table[f"parallel-10/{cloud}"]["median_seconds"] / ours,
        }
    both = table["multiflow/both"]
    out["both"] = {"multiflow_over_floor": both["median_seconds"] / both["floor_seconds"]}
    return out


def write_markdown(report: dict[str, Any], path: Path) -> None:
    setting = report["setting"]
    lines = [
        "# Performance",
        "",
        "Measured by `tests/benchmarks/bench.py` (see its docstring for the command). Medians of "
        f"{report['runs']} runs; ratios are taken within the same run. Machines here are shared and noisy: read "
        "the ratios, not the absolute seconds.",
        "",
        f"Written {report['when']} on: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
        f"{report['machine']['memory']}, Python {report['machine']['python']}.",
        "",
        f"## A. Bulk enable: {setting['size']} AWS VPCs + {setting['size']} Alibaba vSwitches",
        "",
        f"Every call pays {setting['latency'] * 1000:.0f} ms; the emulator admits {setting['qps']:.0f} "
        f"CreateFlowLog calls a second (more are throttled) and activates a flow log {setting['activation']:.0f} s "
        "after its creation. The floor is what the clouds allow at best: for Alibaba a one-second burst of "
        "creates, the rest at the rate limit, the last activation and a round trip; for AWS the raw boto3 "
        "CreateFlowLogs calls of 300 resources each (`one-call`), measured in the same runs. The hand-written "
        "loops are linear in what they do (sequential: an activation per resource; parallel-10: per round of "
        "ten), so they run on a sample and are scaled, where the table says so.",
        "",
        "| method | cloud | median wall (s) | floor (s) | API calls |",
        "|---|---|---|---|---|",
    ]
    for row in sorted(report["a"].values(), key=lambda r: (r["cloud"], r["method"])):
        calls = ", ".join(f"{k} {v}" for k, v in sorted(row["calls"].items()))
        note = f" (extrapolated from {row['extrapolated_from']})" if row["extrapolated_from"] else ""
        lines.append(
            f"| {row['method']}{note} | {row['cloud']} | {row['median_seconds']:.2f} | "
            f"{row['floor_seconds']:.2f} | {calls} |"
        )
    lines += [
        "",
        "| cloud | multiflow / floor | sequential / multiflow | parallel-10 / multiflow |",
        "|---|---|---|---|",
    ]
    for cloud in ("aws", "alibaba"):
        r = report["ratios"][cloud]
        lines.append(
            f"| {cloud} | {r['multiflow_over_floor']:.2f}× | {r['sequential_over_multiflow']:.0f}× | "
            f"{r['parallel_over_multiflow']:.1f}× |"
        )
    both = report["a"]["multiflow/both"]
    lines += [
        "",
        f"The whole multiflow apply (both clouds at once): {both['median_seconds']:.2f} s median, "
        f"{report['ratios']['both']['multiflow_over_floor']:.2f}× the floor of the run "
        f"({both['floor_seconds']:.2f} s).",
    ]
    b, c = report["b"], report["c"]
    lines += [
        "",
        "## B. Start-up",
        "",
        "| import | median (ms) | modules loaded | SDKs / heavy packages imported |",
        "|---|---|---|---|",
    ]
    for row in b:
        lines.append(
            f"| `import {row['module']}` | {row['median_ms']:.1f} | {row['modules']} | "
            f"{', '.join(row['heavy_imported']) or 'none'} |"
        )
    lines += [
        "",
        "## C. Throughput",
        "",
        f"- Specs built, checked against AWS's capabilities and rules, and translated to CreateFlowLogs parameters: "
        f"**{c['specs']['per_second']:,.0f} per second** ({c['specs']['specs']:,} specs).",
        f"- `multiflow.plan` against {c['plan']['flow_logs']:,} existing flow logs (AWS-shaped records parsed, "
        f"network excluded): **{c['plan']['seconds']:.2f} s**, peak **{c['plan']['peak_mb']:.0f} MB** traced "
        f"(loading the {c['plan']['flow_logs']:,}-id fleet file: {c['plan']['load_seconds']:.2f} s).",
        "",
        "## Targets",
        "",
        "| target | wanted | measured | met |",
        "|---|---|---|---|",
    ]
    for name, wanted, measured, ok in report["targets"]:
        lines.append(f"| {name} | {wanted} | {measured} | {'yes' if ok else '**no**'} |")
    lines += ["", "## What limits it", ""] + [f"- {note}" for note in report["notes"]] + [""]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200, help="resources per cloud (200; the full run is 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per method (3)")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds added to every call (0.03)")
    parser.add_argument("--qps", type=float, default=20.0, help="CreateFlowLog calls a second the emulator admits")
    parser.add_argument("--activation", type=float, default=3.0, help="seconds until a flow log is active (3)")
    parser.add_argument(
        "--sequential-sample",
        type=int,
        default=5,
        help="resources the sequential loop really does; its time is scaled to --size (5)",
    )
    parser.add_argument(
        "--parallel-sample",
        type=int,
        default=30,
        help="resources the parallel-10 loop really does, scaled to --size; 0 for all (30)",
    )
    parser.add_argument("--plan-size", type=int, default=100_000, help="existing flow logs for the plan benchmark")
    parser.add_argument("--write", type=Path, default=ROOT / "docs" / "performance.md", help="markdown report")
    parser.add_argument("--json", type=Path, help="also write the raw results as JSON")
    parser.add_argument("--from-json", type=Path, help="only rewrite the markdown from an earlier --json")
    args = parser.parse_args(argv)
    if args.from_json:
        write_markdown(json.loads(args.from_json.read_text()), args.write)
        print(f"wrote {args.write}")
        return 0

    setting = Setting(size=args.size, latency=args.latency, qps=args.qps, activation=args.activation)
    started = time.monotonic()
    print(f"A. bulk enable, {args.size} + {args.size} resources, {args.runs} runs", flush=True)
    a = scenario_a(setting, args.runs, args.sequential_sample, args.parallel_sample)
    print("B. start-up", flush=True)
    b = [import_cost("multiflow", 7), import_cost("boto3", 7)]
    print("C. throughput", flush=True)
    c = {"specs": spec_throughput(50_000), "plan": plan_throughput(args.plan_size)}
    r = ratios(a)
    targets = [
        (
            "AWS creates",
            f"ceil(N/300) = {-(-args.size // 300)}",
            a["multiflow/aws"]["calls"].get("CreateFlowLogs"),
            a["multiflow/aws"]["calls"].get("CreateFlowLogs") == -(-args.size // 300),
        ),
        (
            "wall / floor (both clouds)",
            f"≤ {TARGETS['floor_ratio']}×",
            f"{r['both']['multiflow_over_floor']:.2f}×",
            r["both"]["multiflow_over_floor"] <= TARGETS["floor_ratio"],
        ),
        (
            "wall / floor (Alibaba)",
            f"≤ {TARGETS['floor_ratio']}×",
            f"{r['alibaba']['multiflow_over_floor']:.2f}×",
            r["alibaba"]["multiflow_over_floor"] <= TARGETS["floor_ratio"],
        ),
        (
            "vs sequential loop (Alibaba)",
            f"≥ {TARGETS['vs_sequential']:.0f}×",
            f"{r['alibaba']['sequential_over_multiflow']:.0f}×",
            r["alibaba"]["sequential_over_multiflow"] >= TARGETS["vs_sequential"],
        ),
        (
            "vs parallel-10 per-id (Alibaba)",
            f"≥ {TARGETS['vs_parallel']:.0f}×",
            f"{r['alibaba']['parallel_over_multiflow']:.1f}×",
            r["alibaba"]["parallel_over_multiflow"] >= TARGETS["vs_parallel"],
        ),
        (
            "vs sequential loop (AWS)",
            f"≥ {TARGETS['vs_sequential']:.0f}×",
            f"{r['aws']['sequential_over_multiflow']:.0f}×",
            r["aws"]["sequential_over_multiflow"] >= TARGETS["vs_sequential"],
        ),
        (
            "vs parallel-10 per-id (AWS)",
            f"≥ {TARGETS['vs_parallel']:.0f}×",
            f"{r['aws']['parallel_over_multiflow']:.1f}×",
            r["aws"]["parallel_over_multiflow"] >= TARGETS["vs_parallel"],
        ),
        (
            "`import multiflow`",
            f"≤ {TARGETS['import_ms']:.0f} ms, no SDK",
            f"{b[0]['median_ms']:.1f} ms",
            b[0]["median_ms"] <= TARGETS["import_ms"] and not b[0]["heavy_imported"],
        ),
        (
            "specs per second",
            f"≥ {TARGETS['specs_per_second']:,}",
            f"{c['specs']['per_second']:,.0f}",
            c["specs"]["per_second"] >= TARGETS["specs_per_second"],
        ),
        (
            f"plan over {args.plan_size:,} flow logs",
            f"≤ {TARGETS['plan_seconds']:.0f} s, ≤ {TARGETS['plan_mb']:.0f} MB",
            f"{c['plan']['seconds']:.2f} s, {c['plan']['peak_mb']:.0f} MB",
            c["plan"]["seconds"] <= TARGETS["plan_seconds"] and c["plan"]["peak_mb"] <= TARGETS["plan_mb"],
        ),
    ]
    report = {
        "when": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "runs": args.runs,
        "setting": vars(setting),
        "a": a,
        "ratios": r,
        "b": b,
        "c": c,
        "targets": targets,
        "notes": NOTES,
        "seconds": time.monotonic() - started,
    }
    print(json.dumps({"ratios": r, "b": b, "c": c, "targets": targets}, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    write_markdown(report, args.write)
    print(f"wrote {args.write} in {report['seconds']:.0f}s")
    return 0


NOTES = [
    "Alibaba: the emulator's CreateFlowLog rate limit. multiflow's token bucket matches it (`rate_limit`, 20/s by "
    "default), so its creates are never throttled; the waiter then needs one poll after the last activation, "
    "listing pending flow logs 50 a page (DescribeFlowLogs calls per poll = ceil(pending/50)).",
    "AWS: one CreateFlowLogs call per 300 VPCs, then one DescribeFlowLogs per 1000 ids to report what was made. "
    "Its time over the one-call floor is mostly the sandbox's: moto serialises the 1000-record answer in our own "
    "process, sharing two cores with the Alibaba half of the same apply (ten worker threads, the emulator); "
    "against AWS that work is the service's. It is well under a second of a run the Alibaba half sets.",
    "Plan over 100,000 flow logs: reading is dominated by building the neutral FlowLog objects; plan pauses the "
    "cyclic garbage collector while it reads (a million acyclic objects made it rescan the heap, doubling the "
    "time) and reads without keeping each raw record.",
    "The hand-written loops pay an activation wait per resource (sequential) or per ten resources (parallel-10), "
    "and per-id polls; the sequential loop is measured on a sample and scaled linearly (it is sequential).",
]

if __name__ == "__main__":
    sys.exit(main())

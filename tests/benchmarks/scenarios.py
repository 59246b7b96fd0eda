"""The benchmark scenarios of issue #15, each a function returning a JSON-able dict of medians and ratios.

Every run starts its sandbox(es) in their own processes (:class:`procs.Sandbox`) and the client in its own
(:func:`procs.measured`): wall time, client CPU, sandbox CPU and the client's peak RSS are reported apart. The
floors are what the (emulated) cloud allows at best; ratios are medians over runs of per-run ratios.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from procs import ClientRun, Sandbox, growth_exponent, measured, median
from sandbox_server import BUCKET, LOGSTORE, PROJECT, REGION_ALIBABA, REGION_AWS


def alibaba_fleet(ids: Sequence[str], name: str = "vswitches") -> str:
    """A fleet of one Alibaba entry over ``ids``."""
    return (
        "name: bench\nflow_logs:\n"
        f"  - {{name: {name}, provider: alibaba, regions: [{REGION_ALIBABA}],"
        f" resources: {{kind: subnet, ids: [{', '.join(ids)}]}},"
        f" destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}}}\n"
    )


def aws_fleet(ids: Sequence[str]) -> str:
    """A fleet of one AWS entry over ``ids``."""
    return (
        "name: bench\nflow_logs:\n"
        f"  - {{name: vpcs, provider: aws, regions: [{REGION_AWS}],"
        f" resources: {{kind: vpc, ids: [{', '.join(ids)}]}}, destination: {{kind: s3, bucket: {BUCKET}}}}}\n"
    )


def alibaba_floor(size: int, qps: float, activation: float, latency: float) -> float:
    """The least time the emulated cloud allows: a second's burst of creates, the rest at ``qps``, the last
    activation and a round trip to see it."""
    return max(0.0, size - qps) / qps + activation + 2 * latency


def plan_reads(size: int, existing: int, owned: int = 0) -> int:
    """The DescribeFlowLogs calls a plan needs at least for a fleet of ``size`` vSwitches, ``owned`` of them with
    the fleet's flow log already, in a region of ``existing`` others: its own flow logs by tag (a page of 50 at a
    time), then, for the ``size - owned`` it would create on, one call each or the region's pages, whichever is
    fewer (more than three: after a probe page). The cost model is ``multiflow_alibaba.reads``'s."""
    own = max(1, -(-owned // 50))
    new = size - owned
    pages = -(-(existing + owned) // 50)
    if new <= 3:
        return own + new
    return own + 1 + min(new, max(0, pages - 1))


def read_floor(calls: int, qps: float, latency: float) -> float:
    """The least time ``calls`` take at ``qps`` a second with a second's burst, and a round trip."""
    return max(0.0, calls - qps) / qps + 2 * latency


def _summary(runs: Sequence[ClientRun], cloud: str) -> dict[str, Any]:
    return {
        "wall_s": median([r.wall for r in runs]),
        "client_cpu_s": median([r.cpu for r in runs]),
        "sandbox_cpu_s": median([r.sandbox[cloud]["cpu"] for r in runs]),
        "peak_rss_mb": median([r.peak_rss_mb for r in runs]),
        "calls": runs[-1].sandbox[cloud]["calls"],
        "errors": runs[-1].sandbox[cloud]["errors"],
        "runs": len(runs),
    }


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- low-limit: a cloud that throttles below (or above) our starting rate -----------------------------------------


def low_limit(
    limits: Sequence[float] = (2, 5, 10, 20, 50),
    size: int = 200,
    runs: int = 3,
    latency: float = 0.03,
    activation: float = 2.0,
) -> dict[str, Any]:
    """200 creates at cloud limits from 2/s to 50/s, multiflow starting at its default 20/s."""
    rows = []
    for qps in limits:
        results: list[ClientRun] = []
        shares, apply_ratios, whole_ratios = [], [], []
        floor = alibaba_floor(size, qps, activation, latency)
        for run in range(runs):
            config = {"cloud": "alibaba", "size": size, "qps": {"CreateFlowLog": qps}}
            config.update(latency=latency, activation=activation)
            with Sandbox(config) as emu:
                job = {
                    "kind": "apply",
                    "fleet": alibaba_fleet(emu.ready["ids"]),
                    "options": {"alibaba": emu.ready["options"]},
                }
                got = measured([emu], job)
            assert got.result["ok"], got.result["failed"]
            calls = got.sandbox["alibaba"]["calls"].get("CreateFlowLog", 0)
            throttled = got.sandbox["alibaba"]["errors"].get("CreateFlowLog Throttling.Api", 0)
            shares.append(throttled / calls if calls else 0.0)
            apply_ratios.append(got.result["apply_s"] / floor)
            whole_ratios.append(got.wall / floor)
            results.append(got)
            _say(
                f"low-limit {qps:g}/s run {run + 1}: apply {got.result['apply_s']:.2f}s (floor {floor:.2f}s, "
                f"{apply_ratios[-1]:.3f}x), CreateFlowLog {calls} ({throttled} throttled), "
                f"limiter {got.result['limiters'].get('CreateFlowLog')}"
            )
        rows.append(
            {
                "cloud_qps": qps,
                "floor_s": floor,
                "apply_over_floor": median(apply_ratios),
                "whole_over_floor": median(whole_ratios),
                "throttled_share": median(shares),
                "throttled_share_max": max(shares),
                "apply_s": median([r.result["apply_s"] for r in results]),
                **_summary(results, "alibaba"),
            }
        )
    return {"size": size, "latency": latency, "activation": activation, "rows": rows}


# -- scale: sizes up to 10,000 per cloud, with the growth exponent ------------------------------------------------


def alibaba_scale(sizes: Sequence[int] = (1000, 3000, 10000), runs: int = 3, qps: float = 100.0) -> dict[str, Any]:
    """Bulk enable of ``size`` vSwitches at a cloud limit of ``qps`` (multiflow told so: ``rate_limit``)."""
    rows = []
    latency, activation = 0.03, 2.0
    for size in sizes:
        results: list[ClientRun] = []
        floor = alibaba_floor(size, qps, activation, latency)
        for run in range(runs):
            config = {"cloud": "alibaba", "size": size, "qps": {"CreateFlowLog": qps}, "latency": latency}
            config.update(activation=activation)
            with Sandbox(config) as emu:
                options = {**emu.ready["options"], "rate_limit": qps}
                job = {"kind": "apply", "fleet": alibaba_fleet(emu.ready["ids"]), "options": {"alibaba": options}}
                got = measured([emu], job)
            assert got.result["ok"], got.result["failed"]
            results.append(got)
            _say(f"alibaba scale {size} run {run + 1}: {got.wall:.2f}s (floor {floor:.2f}s), cpu {got.cpu:.1f}s")
        rows.append(
            {
                "size": size,
                "floor_s": floor,
                "over_floor": median([r.wall / floor for r in results]),
                **_summary(results, "alibaba"),
            }
        )
    return _with_growth({"qps": qps, "rows": rows})


def _with_growth(table: dict[str, Any]) -> dict[str, Any]:
    rows = table["rows"]
    if len(rows) >= 2:
        sizes = [r["size"] for r in rows]
        table["growth"] = {
            key: growth_exponent(sizes, [r[key] for r in rows])
            for key in ("client_cpu_s", "sandbox_cpu_s", "peak_rss_mb", "wall_s")
        }
    return table


def aws_anchor(sizes: Sequence[int] = (1000, 3000, 10000), runs: int = 3, rate_limits: bool = True) -> dict[str, Any]:
    """multiflow's AWS apply against the one-call script (``CreateFlowLogs`` of 300 ids a call, the most EC2 takes
    for VPCs) on the same moto, EC2's token buckets on; every flow log is deleted between runs (uncounted)."""
    rows = []
    for size in sizes:
        ours: list[ClientRun] = []
        anchor: list[ClientRun] = []
        with Sandbox({"cloud": "aws", "size": size * 2, "rate_limits": rate_limits, "clear_between": True}) as moto:
            ids = moto.ready["ids"]
            options = {"aws": moto.ready["options"]}
            mine, theirs = ids[:size], ids[size:]
            for run in range(runs):
                base = {"kind": "one-call", "ids": theirs, "batch": 300, "bucket": BUCKET, "region": REGION_AWS}
                anchor.append(measured([moto], {**base, "options": options}))
                ours.append(measured([moto], {"kind": "apply", "fleet": aws_fleet(mine), "options": options}))
                assert ours[-1].result["ok"], ours[-1].result["failed"]
                _say(
                    f"aws anchor {size} run {run + 1}: multiflow {ours[-1].result['apply_s']:.2f}s apply "
                    f"({ours[-1].wall:.2f}s whole, cpu {ours[-1].cpu:.2f}s) vs one-call {anchor[-1].wall:.2f}s "
                    f"(cpu {anchor[-1].cpu:.2f}s); calls {ours[-1].sandbox['aws']['calls']}"
                )
        rows.append(
            {
                "size": size,
                "apply_s": median([r.result["apply_s"] for r in ours]),
                "whole_over_anchor": median([o.wall / a.wall for o, a in zip(ours, anchor, strict=True)]),
                "apply_over_anchor": median([o.result["apply_s"] / a.wall for o, a in zip(ours, anchor, strict=True)]),
                "client_cpu_over_anchor": median([o.cpu / a.cpu for o, a in zip(ours, anchor, strict=True)]),
                "apply_cpu_s": median([o.result.get("apply_cpu_s", 0.0) for o in ours]),
                "anchor_calls_cpu_s": median([a.result.get("apply_cpu_s", 0.0) for a in anchor]),
                "apply_cpu_over_anchor": median(
                    [
                        o.result.get("apply_cpu_s", 0.0) / max(a.result.get("apply_cpu_s", 0.0), 1e-9)
                        for o, a in zip(ours, anchor, strict=True)
                    ]
                ),
                "apply_call_s": {
                    action: median([o.result.get("apply_call_s", {}).get(action, 0.0) for o in ours])
                    for action in ours[-1].result.get("apply_call_s", {})
                },
                "anchor": _summary(anchor, "aws"),
                **_summary(ours, "aws"),
            }
        )
    return _with_growth({"rate_limits": rate_limits, "rows": rows})


# -- a busy Alibaba region ---------------------------------------------------------------------------------------


def busy_region(size: int = 200, existing: int = 20000, runs: int = 3, qps: float = 20.0) -> dict[str, Any]:
    """``size`` new flow logs in a region that already holds ``existing`` others (nobody's in this fleet), the
    cloud admitting ``qps`` CreateFlowLog and ``qps`` DescribeFlowLogs calls a second.

    ``floor_s`` is apply's (creates at the limit, the last activation); ``whole_floor_s`` adds the reads plan
    needs at least (:func:`plan_reads`) at the DescribeFlowLogs limit."""
    latency, activation = 0.03, 2.0
    floor = alibaba_floor(size, qps, activation, latency)
    whole_floor = floor + read_floor(plan_reads(size, existing), qps, latency)
    results: list[ClientRun] = []
    for run in range(runs):
        limits = {"CreateFlowLog": qps, "DescribeFlowLogs": qps}
        config = {"cloud": "alibaba", "size": size, "existing": existing, "qps": limits}
        config.update(latency=latency, activation=activation)
        with Sandbox(config) as emu:
            job = {
                "kind": "apply",
                "fleet": alibaba_fleet(emu.ready["ids"]),
                "options": {"alibaba": emu.ready["options"]},
            }
            got = measured([emu], job)
        assert got.result["ok"], got.result["failed"]
        results.append(got)
        _say(
            f"busy region run {run + 1}: plan {got.result['plan_s']:.2f}s apply {got.result['apply_s']:.2f}s "
            f"(floor {floor:.2f}s); calls {got.sandbox['alibaba']['calls']}"
        )
    return {
        "size": size,
        "existing": existing,
        "floor_s": floor,
        "whole_floor_s": whole_floor,
        "plan_reads": plan_reads(size, existing),
        "apply_over_floor": median([r.result["apply_s"] / floor for r in results]),
        "whole_over_floor": median([r.wall / whole_floor for r in results]),
        "plan_s": median([r.result["plan_s"] for r in results]),
        "apply_s": median([r.result["apply_s"] for r in results]),
        **_summary(results, "alibaba"),
    }


# -- plan over 100,000 Alibaba flow logs over the wire -------------------------------------------------------------


def plan_over_the_wire(existing: int = 100000, owned: int = 100, runs: int = 3, qps: float = 20.0) -> dict[str, Any]:
    """``multiflow.plan`` of a fleet of ``owned`` vSwitches in a region holding ``existing`` flow logs, the
    emulator answering DescribeFlowLogs at ``qps`` a second, 50 a page."""
    results: list[ClientRun] = []
    for run in range(runs):
        config = {"cloud": "alibaba", "size": owned, "existing": existing, "qps": {"DescribeFlowLogs": qps}}
        config.update(latency=0.03)
        with Sandbox(config) as emu:
            job = {
                "kind": "plan",
                "fleet": alibaba_fleet(emu.ready["ids"]),
                "options": {"alibaba": emu.ready["options"]},
            }
            got = measured([emu], job)
        results.append(got)
        _say(f"plan over {existing} run {run + 1}: {got.wall:.2f}s, rss {got.peak_rss_mb:.0f} MB, cpu {got.cpu:.1f}s")
    whole_region_floor = (existing / 50 - qps) / qps
    needed = plan_reads(owned, existing)
    floor = read_floor(needed, qps, 0.03)
    return {
        "existing": existing,
        "owned": owned,
        "whole_region_floor_s": whole_region_floor,
        "plan_reads": needed,
        "floor_s": floor,
        "over_floor": median([r.wall / floor for r in results]),
        **_summary(results, "alibaba"),
    }


# -- validate: 100k entries vs 100k ids in one entry -------------------------------------------------------------


def validate_fleet_text(entries: int, ids_per_entry: int = 1) -> str:
    """A fleet of ``entries`` AWS entries of ``ids_per_entry`` VPC ids each, one entry a line."""
    lines = ["name: scale", "defaults:", "  interval: 60", "  destination: {kind: s3, bucket: 'arn:aws:s3:::central'}"]
    lines.append("flow_logs:")
    for n in range(entries):
        ids = ", ".join(f"vpc-{n * ids_per_entry + i:08x}" for i in range(ids_per_entry))
        lines.append(
            f"  - {{name: e{n:06d}, provider: aws, regions: [us-east-1], resources: {{kind: vpc, ids: [{ids}]}}}}"
        )
    return "\n".join(lines) + "\n"


def validate_scale(sizes: Sequence[int] = (10000, 30000, 100000), runs: int = 3) -> dict[str, Any]:
    """validate of ``size`` entries against the reference workload of ``size`` ids in one entry, each in its own
    process; beside it, the same entries' text read by PyYAML's C loader (``yaml-load``), a reference of the same
    shape (every entry's fifteen-odd YAML tokens), also in its own process."""
    from procs import run_client

    rows = []
    for size in sizes:
        entries: list[ClientRun] = []
        reference: list[ClientRun] = []
        loader: list[ClientRun] = []
        for _ in range(runs):
            text = validate_fleet_text(size)
            reference.append(run_validate(validate_fleet_text(1, size)))
            entries.append(run_validate(text))
            loader.append(run_client({"kind": "yaml-load", "fleet": text}))
        _say(
            f"validate {size}: {entries[-1].wall:.2f}s vs one entry {reference[-1].wall:.2f}s, "
            f"the C loader {loader[-1].wall:.2f}s"
        )
        rows.append(
            {
                "size": size,
                "wall_s": median([r.wall for r in entries]),
                "parse_s": median([float(r.result["parse_s"]) for r in entries]),
                "validate_s": median([float(r.result["validate_s"]) for r in entries]),
                "reference_wall_s": median([r.wall for r in reference]),
                "over_reference": median([e.wall / r.wall for e, r in zip(entries, reference, strict=True)]),
                "loader_wall_s": median([r.wall for r in loader]),
                "loader_peak_rss_mb": median([r.peak_rss_mb for r in loader]),
                "over_loader": median([e.wall / r.wall for e, r in zip(entries, loader, strict=True)]),
                "client_cpu_s": median([r.cpu for r in entries]),
                "peak_rss_mb": median([r.peak_rss_mb for r in entries]),
                "sandbox_cpu_s": 0.0,
            }
        )
    return _with_growth({"rows": rows})


def run_validate(text: str) -> ClientRun:
    """One validate job in its own process."""
    from procs import run_client

    return run_client({"kind": "validate", "fleet": text})

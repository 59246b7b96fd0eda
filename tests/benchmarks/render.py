"""docs/performance.md from the benchmark results (tests/benchmarks/results/*.json) and the notes in NOTES.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load(results: Path) -> dict[str, Any]:
    """Scenario name -> its figures, for the scenarios that have been run."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(results.glob("*.json"))}


def _calls(calls: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))


def _throttled(errors: dict[str, int]) -> int:
    return sum(n for k, n in errors.items() if "Throttling" in k or "rate_limit" in k)


def _growth(table: dict[str, Any]) -> str:
    growth = table.get("growth")
    if not growth:
        return ""
    parts = [f"{key.replace('_s', '').replace('_', ' ')} {value:.2f}" for key, value in growth.items()]
    return "Growth exponents (slope of log(value) on log(size); 1 is linear): " + ", ".join(parts) + "."


def _runs(table: dict[str, Any]) -> str:
    cores = table.get("machine", {}).get("cores", "?")
    return f"_Measured {table.get('when', '?')}, {cores} cores, {table.get('seconds', '?')} s in all._"


def low_limit(t: dict[str, Any]) -> list[str]:
    lines = [
        f"## Low cloud limits: {t['size']} new flow logs, the cloud admitting 2 to 50 CreateFlowLog calls a second",
        "",
        f"The emulator (its own process) throttles CreateFlowLog above the limit (`Throttling.Api`, a token bucket "
        f"per account and API with a second's burst), answers every call {t['latency'] * 1000:.0f} ms late and "
        f"activates a flow log {t['activation']:g} s after its creation; multiflow starts at its default 20/s "
        "(Alibaba documents no CreateFlowLog rate). Floor: a second's burst, the rest at the limit, the last "
        "activation and a round trip. `apply` is multiflow.apply (creates and the wait for Active); `whole` adds "
        "the plan. Medians of the runs; the throttled share is of all CreateFlowLog calls.",
        "",
        "| cloud limit | floor (s) | apply (s) | apply / floor | whole / floor | throttled (median, worst) | "
        "CreateFlowLog calls | client CPU (s) | emulator CPU (s) | client peak RSS (MB) | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in t["rows"]:
        lines.append(
            f"| {r['cloud_qps']:g}/s | {r['floor_s']:.2f} | {r['apply_s']:.2f} | {r['apply_over_floor']:.3f}× | "
            f"{r['whole_over_floor']:.3f}× | {r['throttled_share'] * 100:.1f} %, "
            f"{r['throttled_share_max'] * 100:.1f} % | "
            f"{r['calls'].get('CreateFlowLog', 0)} | {r['client_cpu_s']:.2f} | {r['sandbox_cpu_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {r['runs']} |"
        )
    return [*lines, "", _runs(t), ""]


def alibaba_scale(t: dict[str, Any]) -> list[str]:
    lines = [
        f"## Alibaba bulk enable at scale (a cloud limit of {t['qps']:g}/s, multiflow told so by `rate_limit`)",
        "",
        "| vSwitches | floor (s) | wall (s) | wall / floor | client CPU (s) | emulator CPU (s) | "
        "client peak RSS (MB) | calls | runs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in t["rows"]:
        lines.append(
            f"| {r['size']:,} | {r['floor_s']:.1f} | {r['wall_s']:.1f} | {r['over_floor']:.3f}× | "
            f"{r['client_cpu_s']:.1f} | "
            f"{r['sandbox_cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | {_calls(r['calls'])} | {r['runs']} |"
        )
    return [*lines, "", _growth(t), "", _runs(t), ""]


def aws_anchor(t: dict[str, Any]) -> list[str]:
    lines = [
        "## AWS against the one-call anchor",
        "",
        "The anchor is the obvious batched boto3 script: `CreateFlowLogs` of 300 ids a call (the most EC2 takes "
        "for VPCs), nothing else, in a process of its own, on the same moto (its own process, behind the fault "
        f"proxy: 30 ms a call, EC2's token buckets {'on' if t.get('rate_limits') else 'off'}), on other VPCs of the "
        "same size, in the same run. `apply` is multiflow.apply alone; `whole` is the command (plan + apply). "
        "Ratios are medians of per-run ratios.",
        "",
        "| VPCs | multiflow apply (s) | whole (s) | anchor (s) | apply / anchor | whole / anchor | client CPU (s) | "
        "anchor CPU (s) | CPU / anchor | moto CPU (s) | anchor's moto CPU (s) | peak RSS (MB) | multiflow's calls | "
        "runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in t["rows"]:
        a = r["anchor"]
        lines.append(
            f"| {r['size']:,} | {r['apply_s']:.2f} | {r['wall_s']:.2f} | {a['wall_s']:.2f} | "
            f"{r['apply_over_anchor']:.2f}× | "
            f"{r['whole_over_anchor']:.2f}× | {r['client_cpu_s']:.2f} | {a['client_cpu_s']:.2f} | "
            f"{r['client_cpu_over_anchor']:.2f}× | {r['sandbox_cpu_s']:.2f} | {a['sandbox_cpu_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {_calls(r['calls'])} | {r.get('runs', '?')} |"
        )
    if all(r.get("apply_call_s") for r in t["rows"]):
        lines += [
            "",
            "Where apply's time goes: seconds spent in each EC2 action's calls (botocore's `before-call` to "
            "`after-call` in the client, summed; medians of the runs):",
            "",
            "| VPCs | apply (s) | " + " | ".join(f"{a} (s)" for a in t["rows"][0]["apply_call_s"]) + " |",
            "|---|---|" + "---|" * len(t["rows"][0]["apply_call_s"]),
        ]
        lines += [
            f"| {r['size']:,} | {r['apply_s']:.2f} | "
            + " | ".join(f"{r['apply_call_s'].get(a, 0.0):.2f}" for a in t["rows"][0]["apply_call_s"])
            + " |"
            for r in t["rows"]
        ]
    if all("apply_cpu_s" in r for r in t["rows"]):
        lines += [
            "",
            "CPU of the calls alone (`time.process_time()` in the client around `multiflow.apply` and around the "
            "script's loop, imports and plan excluded):",
            "",
            "| VPCs | multiflow.apply CPU (s) | script's calls CPU (s) | ratio |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['size']:,} | {r['apply_cpu_s']:.2f} | {r['anchor_calls_cpu_s']:.2f} | "
            f"{r['apply_cpu_over_anchor']:.2f}× |"
            for r in t["rows"]
        ]
    return [*lines, "", _growth(t), "", _runs(t), ""]


def busy_region(t: dict[str, Any]) -> list[str]:
    return [
        f"## A busy Alibaba region: {t['size']} new flow logs beside {t['existing']:,} others",
        "",
        "The emulator admits 20 CreateFlowLog and 20 DescribeFlowLogs calls a second (a token bucket each, per "
        "account, a second's burst), answers 30 ms late and activates a flow log 2 s after its creation. The apply "
        "floor is the creates at the limit and the last activation; the whole command's adds the "
        f"{t.get('plan_reads', '?')} DescribeFlowLogs the plan needs at least (its own flow logs by tag, then one "
        "lookup per resource it creates on: fewer than the region's pages) at the limit.",
        "",
        "| apply floor (s) | whole floor (s) | plan (s) | apply (s) | apply / floor | whole / floor | calls | "
        "client CPU (s) | emulator CPU (s) | peak RSS (MB) | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {t['floor_s']:.2f} | {t.get('whole_floor_s', t['floor_s']):.2f} | {t['plan_s']:.2f} | "
        f"{t['apply_s']:.2f} | {t['apply_over_floor']:.2f}× | "
        f"{t['whole_over_floor']:.2f}× | {_calls(t['calls'])} | {t['client_cpu_s']:.1f} | {t['sandbox_cpu_s']:.1f} | "
        f"{t['peak_rss_mb']:.0f} | {t['runs']} |",
        "",
        _runs(t),
        "",
    ]


def plan_wire(t: dict[str, Any]) -> list[str]:
    return [
        f"## Alibaba plan over {t['existing']:,} flow logs over the wire",
        "",
        f"A fleet of {t['owned']} vSwitches, in a region holding {t['existing']:,} other flow logs; the emulator "
        "answers DescribeFlowLogs at 20 calls a second, 50 a page. Reading the whole region would take "
        f"{t['whole_region_floor_s']:.0f} s at that rate; the plan needs at least {t.get('plan_reads', '?')} calls "
        "(its own flow logs by tag, a probe page, one lookup per vSwitch it would create on), whose floor at that "
        "rate is the floor here.",
        "",
        "| floor (s) | wall (s) | wall / floor | calls | client CPU (s) | emulator CPU (s) | client peak RSS (MB) "
        "| runs |",
        "|---|---|---|---|---|---|---|---|",
        f"| {t.get('floor_s', 0.0):.2f} | {t['wall_s']:.1f} | {t.get('over_floor', 0.0):.2f}× | {_calls(t['calls'])} "
        f"| {t['client_cpu_s']:.1f} | {t['sandbox_cpu_s']:.1f} | {t['peak_rss_mb']:.0f} | {t['runs']} |",
        "",
        _runs(t),
        "",
    ]


def validate(t: dict[str, Any]) -> list[str]:
    lines = [
        "## validate: N entries against N ids in one entry",
        "",
        "`multiflow.loads` + `validate_fleet` of a fleet of N one-id entries, against the reference workload of the "
        "same N ids in one entry, each in its own process, in the same run. Beside them, a reference of the same "
        "shape: the N entries' text read by `yaml.load(text, Loader=yaml.CSafeLoader)` (PyYAML's C loader, as it "
        "comes: values only, no checks, no positions, no models), in a process of its own too.",
        "",
        "| N | entries (s) | of which loads (s) | one entry (s) | entries / one entry | C loader (s) "
        "| entries / C loader | client CPU (s) | peak RSS (MB) | C loader's peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in t["rows"]:
        loader = f"{r['loader_wall_s']:.2f} | {r['over_loader']:.2f}×" if "loader_wall_s" in r else "not measured | -"
        parse = f"{r['parse_s']:.2f}" if "parse_s" in r else "-"
        loader_rss = f"{r['loader_peak_rss_mb']:.0f}" if "loader_peak_rss_mb" in r else "-"
        lines.append(
            f"| {r['size']:,} | {r['wall_s']:.2f} | {parse} | {r['reference_wall_s']:.2f} | {r['over_reference']:.1f}× "
            f"| {loader} | {r['client_cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | {loader_rss} |"
        )
    return [*lines, "", _growth(t), "", _runs(t), ""]


SECTIONS = {
    "low-limit": low_limit,
    "aws-anchor": aws_anchor,
    "alibaba-scale": alibaba_scale,
    "busy-region": busy_region,
    "plan-wire": plan_wire,
    "validate": validate,
}


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def goals(f: dict[str, Any]) -> list[str]:
    """One row per goal of the issue, from the figures there are."""
    rows = []
    if "low-limit" in f:
        t = f["low-limit"]["rows"]
        worst = max(r["apply_over_floor"] for r in t)
        share = max(r["throttled_share"] for r in t)
        limits = ", ".join(f"{r['cloud_qps']:g}" for r in t)
        rows.append(
            f"| low cloud limit ({limits}/s): apply ≤ 1.1× the floor | worst {worst:.3f}× | {_yes(worst <= 1.1)} |"
        )
        rows.append(
            f"| low cloud limit: ≤ 5 % throttled calls | worst median {share * 100:.1f} % "
            f"(worst single run {max(r['throttled_share_max'] for r in t) * 100:.1f} %) | {_yes(share <= 0.05)} |"
        )
    if "aws-anchor" in f:
        for r in f["aws-anchor"]["rows"]:
            creates = r["calls"].get("CreateFlowLogs", 0)
            wanted = -(-r["size"] // 300)
            rows.append(
                f"| AWS {r['size']:,}: apply ≤ 1.5× the one-call script | {r['apply_over_anchor']:.2f}× "
                f"(whole command {r['whole_over_anchor']:.2f}×) | {_yes(r['apply_over_anchor'] <= 1.5)} |"
            )
            rows.append(
                f"| AWS {r['size']:,}: client CPU ≤ 2× the script's | {r['client_cpu_over_anchor']:.2f}× | "
                f"{_yes(r['client_cpu_over_anchor'] <= 2)} |"
            )
            rows.append(
                f"| AWS {r['size']:,}: ceil(N/300) creates | {creates} (ceil = {wanted}) | {_yes(creates == wanted)} |"
            )
    if "alibaba-scale" in f:
        biggest = max(r["size"] for r in f["alibaba-scale"]["rows"])
        rows.append(f"| sizes ≥ 10,000 per cloud (Alibaba) | up to {biggest:,} | {_yes(biggest >= 10000)} |")
    if "aws-anchor" in f:
        biggest = max(r["size"] for r in f["aws-anchor"]["rows"])
        rows.append(f"| sizes ≥ 10,000 per cloud (AWS) | up to {biggest:,} | {_yes(biggest >= 10000)} |")
    if "busy-region" in f:
        t = f["busy-region"]
        ok = t["whole_over_floor"] <= 1.1 and t["apply_over_floor"] <= 1.1
        rows.append(
            f"| busy region: ≤ 1.1× the floor | apply {t['apply_over_floor']:.2f}×, whole command "
            f"{t['whole_over_floor']:.2f}× (with plan's reads) | {_yes(ok)} |"
        )
    if "plan-wire" in f:
        t = f["plan-wire"]
        rows.append(
            f"| plan over 100,000: ≤ 300 MB peak RSS | {t['peak_rss_mb']:.0f} MB | {_yes(t['peak_rss_mb'] <= 300)} |"
        )
        floor = t.get("floor_s", t["whole_region_floor_s"])
        rows.append(
            f"| plan over 100,000: at the DescribeFlowLogs floor | {t['wall_s']:.1f} s against {floor:.1f} s for "
            f"the {t.get('plan_reads', '?')} calls it needs (a whole-region read: {t['whole_region_floor_s']:.0f} s) "
            f"| {_yes(t['wall_s'] <= 1.1 * floor)} |"
        )
    if "validate" in f:
        r = max(f["validate"]["rows"], key=lambda row: row["size"])
        rows.append(
            f"| validate {r['size']:,} entries ≤ 2× {r['size']:,} ids in one entry | {r['over_reference']:.1f}× | "
            f"{_yes(r['over_reference'] <= 2)} |"
        )
        if "over_loader" in r:
            rows.append(
                f"| (not a goal of the issue) validate {r['size']:,} entries against PyYAML's C loader reading the "
                f"same file | {r['over_loader']:.2f}× | - |"
            )
    return rows


def render(results: Path) -> str:
    """The whole page: the notes' head (with the goals), each scenario's tables, the notes' tail."""
    figures = load(results)
    notes = (HERE / "NOTES.md").read_text() if (HERE / "NOTES.md").exists() else ""
    notes = notes.replace("<!-- goals -->", "\n".join(goals(figures)))
    head, _, tail = notes.partition("<!-- tables -->")
    lines = [head.rstrip(), ""]
    for name, section in SECTIONS.items():
        if name in figures:
            lines += section(figures[name])
        else:
            lines += [f"## {name}", "", "Not measured in this round (see below).", ""]
    return "\n".join(lines).rstrip() + "\n\n" + tail.strip() + "\n"

"""The ``multiflow`` command.

Exit codes: 0 success; 1 an error (bad file, a cloud's refusal, failed changes); 2 changes pending
(``plan --detailed-exitcode``); 3 coverage below ``audit --fail-under``; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, TextIO

from multiflow import __version__
from multiflow.errors import MultiflowError

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_UNDER_COVERAGE = 3


# -- output helpers ----------------------------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _json(data: object, out: TextIO) -> None:
    json.dump(data, out, indent=2, default=str)
    out.write("\n")


class _ProgressPrinter:
    """Progress on stderr: a redrawn line per group on a terminal, a line per step elsewhere."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.lock = threading.Lock()
        self.last: dict[tuple[str, str, str], int] = {}
        self.started = time.monotonic()

    def __call__(self, event: Any) -> None:
        if self.quiet:
            return
        key = (event.provider, event.region, event.phase)
        with self.lock:
            total = max(event.total, 1)
            width = 24
            filled = int(width * event.done / total)
            bar = "#" * filled + "." * (width - filled)
            failed = f", {event.failed} failed" if event.failed else ""
            text = (
                f"{event.provider:<8} {event.region:<14} {event.phase:<7} [{bar}] {event.done}/{event.total}"
                f"{failed}  {time.monotonic() - self.started:5.1f}s"
            )
            if self.tty:
                self.stream.write("\r" + text + "\x1b[K")
                if event.done >= event.total:
                    self.stream.write("\n")
            else:
                step = event.done * 10 // total
                if self.last.get(key) != step:
                    self.last[key] = step
                    self.stream.write(text + "\n")
            self.stream.flush()


# -- sandboxes ------------------------------------------------------------------------------------------------------


@contextmanager
def _sandboxes(providers: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Start each provider's sandbox on loopback; always stop them."""
    from multiflow.plugins import get_provider

    started: dict[str, Any] = {}
    with ExitStack() as stack:
        for name in providers:
            provider = get_provider(name)
            factory = getattr(provider, "sandbox", None)
            if factory is None:
                raise MultiflowError(f"provider {name!r} offers no sandbox; run without --sandbox")
            sandbox = factory()
            sandbox.start()
            stack.callback(sandbox.stop)
            started[name] = sandbox
        yield started


@contextmanager
def _connections(fleet: Any, sandbox: bool) -> Iterator[Any]:
    from multiflow.planning import Connections

    if not sandbox:
        with Connections() as connections:
            yield connections
        return
    providers = sorted({entry.provider for entry in fleet.flow_logs})
    with _sandboxes(providers) as boxes:
        for target in fleet.targets():
            entry = target.entry
            spec = fleet.spec_for(entry, entry.resources.ids or ["selected-by-where"])
            tags = entry.resources.tag_filter() if entry.resources.where is not None else None
            boxes[entry.provider].prepare(
                target.region, entry.resources.kind, entry.resources.ids, tags, spec.destination
            )
        with Connections(lambda provider, region: boxes[provider].connect_options(region)) as connections:
            yield connections


# -- commands -------------------------------------------------------------------------------------------------------


def _load(path: str) -> Any:
    from multiflow.fleet import load
    from multiflow.planning import validate_fleet

    fleet = load(path)
    validate_fleet(fleet)
    return fleet


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    fleet = _load(args.file)
    if args.output == "json":
        _json({"ok": True, "fleet": fleet.name, "entries": len(fleet.flow_logs)}, out)
    else:
        providers = ", ".join(sorted({e.provider for e in fleet.flow_logs}))
        out.write(f"{args.file}: ok ({len(fleet.flow_logs)} entries; fleet {fleet.name!r}; providers {providers})\n")
    return EXIT_OK


def _print_plan(plan: Any, out: TextIO) -> None:
    rows = [
        (
            c.action.value,
            c.provider,
            c.region,
            c.entry or "",
            c.resource_id,
            c.flow_log.id if c.flow_log else "",
            "; ".join(c.reasons),
        )
        for c in plan.changes
        if c.action.value != "keep"
    ]
    if rows:
        out.write(_table(rows, ["action", "provider", "region", "entry", "resource", "flow log", "why"]) + "\n\n")
    counts = [
        (p, r, *(c.get(a, 0) for a in ("create", "update", "replace", "delete", "keep", "conflict")))
        for (p, r), c in sorted(plan.counts().items())
    ]
    out.write(_table(counts, ["provider", "region", "create", "update", "replace", "delete", "keep", "conflict"]))
    out.write("\n")
    pending = len(plan.pending)
    out.write(f"\n{pending} change(s) to make" if pending else "\nNo changes: the clouds match the file")
    if plan.conflicts:
        out.write(f"; {len(plan.conflicts)} conflict(s) multiflow will not touch")
    out.write(".\n")


def cmd_plan(args: argparse.Namespace, out: TextIO, *, destroy: bool = False) -> int:
    from multiflow.planning import plan as make_plan

    fleet = _load(args.file)
    with _connections(fleet, args.sandbox) as connections:
        plan = make_plan(fleet, connections, destroy=destroy)
        if args.output == "json":
            _json(plan.as_dict(), out)
        else:
            _print_plan(plan, out)
    if getattr(args, "detailed_exitcode", False) and plan.pending:
        return EXIT_PENDING
    return EXIT_OK


def _confirm(args: argparse.Namespace, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise MultiflowError("refusing to change the clouds without confirmation: stdin is not a terminal; add --yes")
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def cmd_apply(args: argparse.Namespace, out: TextIO, *, destroy: bool = False) -> int:
    from multiflow.planning import plan as make_plan

    fleet = _load(args.file)
    with _connections(fleet, args.sandbox) as connections:
        plan = make_plan(fleet, connections, destroy=destroy)
        if args.output != "json":
            _print_plan(plan, out)
        if not plan.pending:
            if args.output == "json":
                _json({"ok": True, "plan": plan.as_dict(), "result": None}, out)
            return EXIT_OK
        if not _confirm(args, f"{'Destroy' if destroy else 'Apply'} {len(plan.pending)} change(s)?"):
            out.write("Nothing done.\n")
            return EXIT_OK
        started = time.monotonic()
        result = plan.apply(timeout=args.timeout, progress=_ProgressPrinter(sys.stderr, args.output == "json"))
        elapsed = time.monotonic() - started
    if args.output == "json":
        _json(
            {"ok": result.ok, "elapsed_seconds": round(elapsed, 2), "plan": plan.as_dict(), "result": result.as_dict()},
            out,
        )
    else:
        _print_result(result, elapsed, out)
    return EXIT_OK if result.ok else EXIT_ERROR


def _print_result(result: Any, elapsed: float, out: TextIO) -> None:
    from collections import Counter

    done: Counter[tuple[str, str, str]] = Counter((c.provider, c.region, c.action.value) for c in result.done)
    failed: Counter[tuple[str, str]] = Counter((f.change.provider, f.change.region) for f in result.failed)
    groups = sorted({(p, r) for p, r, _ in done} | set(failed))
    rows = [
        (
            p,
            r,
            done[(p, r, "create")],
            done[(p, r, "update")],
            done[(p, r, "replace")],
            done[(p, r, "delete")],
            failed[(p, r)],
        )
        for p, r in groups
    ]
    out.write("\n" + _table(rows, ["provider", "region", "created", "updated", "replaced", "deleted", "failed"]))
    out.write("\n")
    if result.failed:
        out.write("\nFailures:\n")
        failures: list[tuple[object, ...]] = [
            (
                f.change.action.value,
                f.change.provider,
                f.change.region,
                f.change.resource_id,
                getattr(f.error, "code", type(f.error).__name__),
                getattr(f.error, "request_id", "") or "",
                getattr(f.error, "message", str(f.error)),
            )
            for f in result.failed
        ]
        out.write(_table(failures, ["action", "provider", "region", "resource", "code", "request id", "message"]))
        out.write("\n")
    status = "with failures" if result.failed else "ok"
    out.write(
        f"\nApplied in {elapsed:.1f}s: {len(result.done)} done, {len(result.failed)} failed, "
        f"{len(result.skipped)} skipped ({status}).\n"
    )


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    import multiflow

    rows = []
    records = []
    providers = [p.strip() for p in args.provider.split(",") if p.strip()]
    for provider, regions in _provider_regions(providers, args.region).items():
        for region in regions:
            with multiflow.connect(provider, region=region) as client:
                for f in client.describe():
                    records.append(f.model_dump(mode="json", exclude={"raw"}))
                    rows.append(
                        (
                            f.provider,
                            f.region,
                            f.id,
                            f.resource.kind.value if f.resource.kind else "",
                            f.resource.id,
                            f.status.value,
                            f.traffic.value if f.traffic else "",
                            f.interval,
                            f.destination.kind if f.destination else "",
                            f.tags.get("multiflow:managed", ""),
                        )
                    )
    if args.output == "json":
        _json(records, out)
    else:
        out.write(
            _table(
                rows,
                [
                    "provider",
                    "region",
                    "flow log",
                    "kind",
                    "resource",
                    "status",
                    "traffic",
                    "interval",
                    "destination",
                    "fleet",
                ],
            )
            + "\n"
        )
    return EXIT_OK


def cmd_providers(args: argparse.Namespace, out: TextIO) -> int:
    from multiflow.capability_view import KIND_HEADERS, facts, kind_rows
    from multiflow.plugins import plugin_infos, providers

    found = providers()
    infos = sorted(
        (i for i in plugin_infos(include_unloaded=args.all) if args.all or i.providers),
        key=lambda i: (not i.builtin, i.name),
    )
    if args.output == "json":
        _json(
            {
                "plugins": [i.as_dict() for i in infos],
                "providers": {name: p.capabilities.summary() for name, p in sorted(found.items())},
            },
            out,
        )
        return EXIT_OK
    rows = [
        (
            i.name,
            i.distribution or "(in-process)",
            i.version or "",
            "built-in" if i.builtin else "third-party",
            i.status,
            ", ".join(i.hooks),
            ", ".join(i.providers),
        )
        for i in infos
    ]
    out.write(_table(rows, ["plugin", "distribution", "version", "origin", "status", "hooks", "providers"]) + "\n")
    for name, provider in sorted(found.items()):
        caps = provider.capabilities
        out.write(f"\n{name}:\n")
        if args.all:
            out.write("  " + _table(kind_rows(caps), KIND_HEADERS).replace("\n", "\n  ") + "\n")
            out.write("  (* the default)\n")
            for label, value in facts(caps):
                out.write(f"  {label + ':':<24}{value}\n")
            continue
        out.write(f"  resource kinds: {', '.join(k.value for k in caps.resource_kinds)}\n")
        out.write(f"  destinations:   {', '.join(caps.destinations)}\n")
        intervals = sorted({i for values in caps.intervals.values() for i in values})
        out.write(f"  intervals (s):  {', '.join(map(str, intervals))}\n")
        extras = [
            feature
            for feature, on in (
                ("start/stop", caps.start_stop),
                ("async activation", caps.async_activation),
                ("dry run", caps.dry_run),
            )
            if on
        ]
        if caps.modifiable:
            extras.append("modify " + "/".join(caps.modifiable))
        out.write(f"  also:           {', '.join(extras) or '-'}\n")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    from multiflow.fleet import Fleet

    schema = Fleet.model_json_schema()
    schema["properties"].pop("source", None)
    schema["required"] = [r for r in schema.get("required", []) if r != "name"]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "multiflow fleet file"
    _json(schema, out)
    return EXIT_OK


def cmd_sandbox_serve(args: argparse.Namespace, out: TextIO) -> int:
    from multiflow.plugins import providers

    names = [n for n, p in sorted(providers().items()) if hasattr(p, "sandbox")]
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with _sandboxes(names) as boxes:
        environment: dict[str, str] = {}
        seeded: dict[str, Any] = {}
        for name, box in boxes.items():
            environment.update(box.environment())
            seeded[name] = box.seed_demo()
        if args.output == "json":
            _json({"environment": environment, "seeded": seeded}, out)
        else:
            out.write("# multiflow sandboxes on loopback; paste into a shell to point the CLI and SDKs at them:\n")
            for key, value in sorted(environment.items()):
                out.write(f"export {key}={value}\n")
            out.write(f"# seeded: {json.dumps(seeded, default=str)}\n# Ctrl-C stops them.\n")
        out.flush()
        stop.wait(args.seconds if args.seconds else None)
    return EXIT_OK


def _provider_regions(providers: Sequence[str], text: str) -> dict[str, list[str]]:
    """``--region``: each REGION applies to every provider, each PROVIDER:REGION to that provider only."""
    regions: dict[str, list[str]] = {p: [] for p in providers}
    for item in (i.strip() for i in text.split(",")):
        name, qualified, region = item.partition(":")
        if not qualified:
            for chosen in regions.values():
                chosen.append(item)
        elif name in regions and region:
            regions[name].append(region)
        else:
            raise MultiflowError(f"--region {item!r}: PROVIDER:REGION needs a provider among --provider {providers}")
    missing = [p for p, chosen in regions.items() if not chosen]
    if missing:
        raise MultiflowError(f"no region for {', '.join(missing)}: add --region REGION or PROVIDER:REGION")
    return {p: [r for r in dict.fromkeys(chosen) if r] for p, chosen in regions.items()}


@contextmanager
def _audit_connections(providers: Sequence[str], sandbox: bool) -> Iterator[Any]:
    from multiflow.planning import Connections

    if not sandbox:
        with Connections() as connections:
            yield connections
        return
    with _sandboxes(providers) as boxes:
        for box in boxes.values():
            box.seed_demo()
        with Connections(lambda provider, region: boxes[provider].connect_options(region)) as connections:
            yield connections


def _print_audit(report: Any, show_covered: bool, out: TextIO) -> None:
    rows = []
    for r in report.resources:
        if r.covered and not show_covered:
            continue
        via = ", ".join(
            f"{c.flow_log_id} ({'own' if c.level.value == 'own' else f'via {c.level.value} {c.on}'})"
            for c in r.covering
        )
        rows.append(
            (
                r.provider,
                r.region,
                r.kind.value,
                r.id,
                r.resource.subnet_id or r.resource.vpc_id or "",
                "yes" if r.covered else "NO",
                via or "; ".join(r.reasons),
            )
        )
    if rows:
        out.write(_table(rows, ["provider", "region", "kind", "resource", "in", "covered", "by / why not"]) + "\n\n")
    counts = [(c.provider, c.region, c.kind.value, c.covered, c.total, _percent(c.percent)) for c in report.summary()]
    out.write(_table(counts, ["provider", "region", "kind", "covered", "total", "percent"]) + "\n")
    total = report.total()
    clouds = ", ".join(f"{c.provider} {c.covered}/{c.total}" for c in report.summary(("provider",)))
    out.write(f"\nCoverage: {total.covered}/{total.total} ({_percent(total.percent)}); {clouds}.\n")


def _percent(value: float) -> str:
    """One decimal, rounded down: 99.96 shows as 99.9%, never as a 100% that --fail-under 100 would refuse."""
    return f"{math.floor(value * 10) / 10:.1f}%"


def cmd_audit(args: argparse.Namespace, out: TextIO) -> int:
    from multiflow.audit_fix import fix_fleet, fleet_yaml
    from multiflow.auditing import CoverageCriteria, audit
    from multiflow.fleet import load
    from multiflow.planning import plan as make_plan

    providers = list(dict.fromkeys(p.strip() for p in args.provider.split(",") if p.strip()))
    regions = _provider_regions(providers, args.region)
    if args.fail_under is not None and not 0 <= args.fail_under <= 100:
        raise MultiflowError(f"--fail-under {args.fail_under:g}: a percentage from 0 to 100")
    criteria = CoverageCriteria(
        traffic=args.traffic,
        destination_kind=args.destination_kind,
        require_active=not args.include_inactive,
        require_delivery_ok=args.require_delivery,
    )
    template = load(args.fix) if args.fix else None
    fix = plan = None
    with _audit_connections(providers, args.sandbox) as connections:
        report = audit(
            providers,
            regions,
            kinds=[k.strip() for k in args.kind.split(",")],
            criteria=criteria,
            connections=connections,
        )
        if template is not None:
            fix = fix_fleet(report, template)
            plan = make_plan(fix, connections) if fix is not None else None
    passed = args.fail_under is None or report.percent >= args.fail_under
    fix_text = None
    if fix is not None:
        header = f"written by multiflow audit --fix {args.fix}: {len(report.uncovered)} uncovered resource(s)"
        fix_text = fleet_yaml(fix, header + "\napply with: multiflow apply FILE")
        if args.fix_output:
            try:
                with open(args.fix_output, "w", encoding="utf-8") as file:
                    file.write(fix_text)
            except OSError as exc:
                raise MultiflowError(f"--fix-output {args.fix_output}: {exc.strerror}") from None
    if args.output == "json":
        fixed = None
        if template is not None:
            fixed = {
                "fleet": fix.name if fix else None,
                "fleet_file": args.fix_output if fix and args.fix_output else None,
                "fleet_yaml": fix_text,
                "plan": plan.as_dict() if plan else None,
            }
        _json({"ok": passed, "fail_under": args.fail_under, **report.as_dict(), "fix": fixed}, out)
    else:
        _print_audit(report, args.all, out)
        if args.fail_under is not None and not passed:
            out.write(f"Below --fail-under {args.fail_under:g}%.\n")
        if template is not None:
            _print_fix(fix, plan, fix_text, args.fix_output, out)
    return EXIT_OK if passed else EXIT_UNDER_COVERAGE


def _print_fix(fix: Any, plan: Any, text: str | None, path: str | None, out: TextIO) -> None:
    if fix is None:
        out.write("\nFix: nothing to fix.\n")
        return
    out.write(f"\nFix: fleet {fix.name!r}\n\n")
    _print_plan(plan, out)
    if path:
        out.write(f"\nFleet file written to {path}; apply it with: multiflow apply {path}\n")
    else:
        out.write("\n" + (text or ""))


# -- entry point ------------------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="multiflow", description="VPC flow logs on every cloud, from one file.")
    parser.add_argument("--version", action="version", version=f"multiflow {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[..., int], help_text: str, **kw: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--output", "-o", choices=("table", "json"), default="table", help="output format")
        sub.set_defaults(handler=handler, **kw)
        return sub

    def fleet_file(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("file", help="the fleet YAML file")
        sub.add_argument(
            "--sandbox",
            action="store_true",
            help="run against fresh in-process sandboxes seeded with what the file needs",
        )

    validate = add("validate", cmd_validate, "check a fleet file against the providers, without any API call")
    validate.add_argument("file", help="the fleet YAML file")
    plan = add("plan", cmd_plan, "show what apply would change")
    fleet_file(plan)
    plan.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes to make")
    for name, destroy, text in (
        ("apply", False, "make the clouds match the file"),
        ("destroy", True, "delete every flow log this fleet manages"),
    ):
        sub = add(name, lambda a, o, d=destroy: cmd_apply(a, o, destroy=d), text)
        fleet_file(sub)
        sub.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        sub.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the clouds (900)")
    listing = add("list", cmd_list, "list flow logs of providers and regions")
    listing.add_argument("--provider", required=True, help="provider name(s), comma-separated")
    listing.add_argument(
        "--region", required=True, help="region(s), comma-separated; PROVIDER:REGION for one provider only"
    )
    _audit_arguments(add("audit", cmd_audit, "which VPCs, subnets and ENIs lack a flow log that counts"))
    providers = add("providers", cmd_providers, "show loaded provider plugins, versions and capabilities")
    providers.add_argument(
        "--all",
        action="store_true",
        help="every plugin (also those offering no provider, disabled or not loaded) and every capability",
    )
    add("schema", cmd_schema, "print the JSON Schema of fleet files (for editors)")
    sandbox = commands.add_parser("sandbox", help="the offline sandboxes")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="COMMAND")
    serve = sandbox_commands.add_parser("serve", help="serve every provider's sandbox on loopback until stopped")
    serve.add_argument("--output", "-o", choices=("table", "json"), default="table")
    serve.add_argument("--seconds", type=float, default=0, help="stop after this long (default: until Ctrl-C)")
    serve.set_defaults(handler=cmd_sandbox_serve)
    return parser


def _audit_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--provider", required=True, help="provider name(s), comma-separated")
    sub.add_argument(
        "--region", required=True, help="region(s), comma-separated; PROVIDER:REGION for one provider only"
    )
    sub.add_argument(
        "--kind", default="vpc,subnet,network_interface", help="kinds, comma-separated (vpc,subnet,network_interface)"
    )
    sub.add_argument(
        "--traffic",
        choices=("any", "all", "accept", "reject"),
        default="any",
        help="traffic a flow log must record to count (any; accept/reject also take all)",
    )
    sub.add_argument("--destination-kind", help="count only flow logs delivering to this kind (s3, sls...)")
    sub.add_argument("--include-inactive", action="store_true", help="count flow logs that are not active")
    sub.add_argument("--require-delivery", action="store_true", help="count only flow logs delivering successfully")
    sub.add_argument("--fail-under", type=float, metavar="PCT", help="exit 3 when coverage is below PCT percent")
    sub.add_argument("--all", action="store_true", help="list covered resources too")
    sub.add_argument("--sandbox", action="store_true", help="audit fresh in-process sandboxes with a demo estate")
    sub.add_argument(
        "--fix", metavar="TEMPLATE", help="plan flow logs for what is uncovered, with a fleet file's settings"
    )
    sub.add_argument("--fix-output", metavar="PATH", help="write the fix's fleet file here (default: print it)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        return int(args.handler(args, out))
    except MultiflowError as exc:
        if getattr(args, "output", "table") == "json":
            _json({"ok": False, "error": str(exc), "error_class": type(exc).__name__}, out)
        sys.stderr.write(f"multiflow: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("multiflow: interrupted\n")
        return EXIT_INTERRUPTED

"""What the commands print: tables and JSON on stdout, one printer per kind of answer.

Tables are plain text (columns two spaces apart) when stdout is not a terminal, so CI logs and pipes get no
escape codes and no wrapping; on a terminal they are rich tables that fit its width, in colour unless
``NO_COLOR`` is set (:func:`configure` decides, once per run).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from multiflow.adopting import AdoptionPlan, AdoptionResult
    from multiflow.applying import ApplyResult
    from multiflow.auditing import AuditReport
    from multiflow.fleet import Fleet
    from multiflow.model import FlowLog
    from multiflow.planning import FailedTarget, Plan
    from multiflow.plugins import PluginInfo
    from multiflow.provider import Provider
    from multiflow.scope import ScopeFailure
    from multiflow.spec import Destination

__all__ = [
    "configure",
    "destination_text",
    "error_document",
    "folded",
    "percent",
    "print_adopted",
    "print_adoptions",
    "print_audit",
    "print_exports",
    "print_failed_targets",
    "print_fix",
    "print_flow_logs",
    "print_interrupted",
    "print_plan",
    "print_providers",
    "print_result",
    "print_sandboxes",
    "print_validated",
    "table",
    "write_json",
]


_terminal: dict[str, Any] = {"tty": False, "width": 80}


def configure(out: TextIO) -> None:
    """Render tables for ``out``: rich tables at the terminal's width if it is a terminal, plain text if not."""
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    _terminal["tty"] = tty and os.environ.get("TERM") != "dumb"
    _terminal["width"] = shutil.get_terminal_size((100, 24)).columns


#: The width of text lines off a terminal (a CI log, a pipe): what a log viewer shows without scrolling.
LOG_WIDTH = 120


def folded(text: str, indent: str = "", hang: str = "    ") -> str:
    """``text`` after ``indent``, folded between words to the terminal's width (off a terminal, :data:`LOG_WIDTH`),
    the later lines indented by ``hang``; ids, ARNs and paths are never cut (a word longer than the line keeps its
    own line)."""
    import textwrap

    width = max(40, _terminal["width"] if _terminal["tty"] else LOG_WIDTH)
    lines: list[str] = []
    for number, line in enumerate(text.split("\n")):  # a message's own lines stay lines, each folded
        first = indent if number == 0 else indent + line[: len(line) - len(line.lstrip())]
        wrapper = textwrap.TextWrapper(
            width=width,
            initial_indent=first,
            subsequent_indent=hang if number == 0 else first + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines.append(wrapper.fill(line.strip()) or first.rstrip())
    return "\n".join(lines)


def _rich_table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    from rich.console import Console
    from rich.table import Table

    grid = Table(*headers, box=None, header_style="bold", pad_edge=False, expand=False)
    for row in rows:
        grid.add_row(*("" if v is None else str(v) for v in row), style=_row_style(row))
    buffer = io.StringIO()
    plain = bool(os.environ.get("NO_COLOR"))
    console = Console(
        file=buffer, width=_terminal["width"], force_terminal=not plain, color_system=None if plain else "auto"
    )
    console.print(grid, overflow="fold", crop=False, soft_wrap=False)
    return buffer.getvalue().rstrip("\n")


def _row_style(row: Sequence[object]) -> str | None:
    first = str(row[0]) if row else ""
    return {"create": "green", "delete": "red", "replace": "yellow", "update": "cyan", "conflict": "magenta"}.get(first)


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """Left-aligned columns two spaces apart, a dashed line under the headers; ``None`` shows as nothing.

    On a terminal (:func:`configure`), a rich table that fits its width instead."""
    if _terminal["tty"]:
        return _rich_table(rows, headers)
    cells = [[str(h) for h in headers]] + [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(data: object, out: TextIO) -> None:
    """``data`` as indented JSON and a newline (what JSON cannot hold, as its ``str``)."""
    json.dump(data, out, indent=2, default=str)
    out.write("\n")


def error_document(exc: Exception) -> dict[str, Any]:
    """What ``-o json`` writes for a failed command: ``ok: false``, the message and the error's class, and for bad
    input (a SpecError) ``problems``: each one an object (``field``, ``value``, ``allowed``, ``provider``,
    ``reason``, and where a file said it ``source``, ``line``, ``column``), so CI can point at each."""
    from multiflow.errors import SpecError

    document: dict[str, Any] = {"ok": False, "error": str(exc), "error_class": type(exc).__name__}
    if isinstance(exc, SpecError):
        document["problems"] = [_problem(p) for p in getattr(exc, "problems", None) or [exc]]
    return document


def _problem(problem: Any) -> dict[str, Any]:
    """One SpecError (or FleetError) as JSON-ready data; a long value or list is cut as messages cut it."""
    from multiflow.errors import SHOWN_VALUE_LIMIT, shown

    value = problem.value
    plain = value is None or isinstance(value, bool | int | float)
    if not (plain or (isinstance(value, str) and len(value) <= SHOWN_VALUE_LIMIT)):
        value = shown(value)
    allowed = problem.allowed
    if isinstance(allowed, str):
        allowed_shown: Any = allowed
    elif isinstance(allowed, Iterable):
        allowed_shown = [_scalar(item) for item in itertools.islice(allowed, SHOWN_VALUE_LIMIT)]
    else:
        allowed_shown = str(allowed)
    found = {
        "field": problem.field,
        "value": value,
        "allowed": allowed_shown,
        "provider": problem.provider,
        "reason": problem.reason,
    }
    for key in ("source", "line", "column"):
        if hasattr(problem, key):
            found[key] = getattr(problem, key)
    return found


def _scalar(item: object) -> object:
    """A JSON scalar for one allowed value: an enum's value, a number or string as it is, anything else its str."""
    item = getattr(item, "value", item)
    return item if item is None or isinstance(item, str | bool | int | float) else str(item)


def percent(value: float) -> str:
    """One decimal, rounded down: 99.96 shows as 99.9%, never as a 100% that --fail-under 100 would refuse."""
    return f"{math.floor(value * 10) / 10:.1f}%"


def print_validated(path: str, fleet: Fleet, out: TextIO) -> None:
    """The one line ``validate`` prints for a good file."""
    providers = ", ".join(sorted({e.provider for e in fleet.flow_logs}))
    out.write(f"{path}: ok ({len(fleet.flow_logs)} entries; fleet {fleet.name!r}; providers {providers})\n")


def _accounts_shown(plan: Plan) -> bool:
    """Whether the plan spans named accounts (then every table has an account column)."""
    return bool(plan.accounts) or any(c.account for c in plan.changes) or any(t.account for t in plan.failed_targets)


def _account_label(plan: Plan, provider: str, account_id: str) -> str:
    """``id (name)`` where the plan knows the account's name; ``default`` for the SDK chain's account."""
    account = plan.account(provider, account_id)
    return account.label() if account is not None else (account_id or "default")


def _with_account(shown: bool, headers: list[str]) -> list[str]:
    return [headers[0], "account", *headers[1:]] if shown else headers


def _row(shown: bool, provider: str, account: str, *rest: object) -> tuple[object, ...]:
    return (provider, account or "default", *rest) if shown else (provider, *rest)


_ACTIONS = ("create", "update", "replace", "delete", "wait", "keep", "conflict")
#: Past this many (account, region) rows, plan's table leaves out the places where nothing is to change.
MANY_ROWS = 24


def print_plan(plan: Plan, out: TextIO) -> None:
    """Every change but the keeps, then the counts per provider, account and region (and, across accounts, per
    account), then a one-line verdict."""
    shown = _accounts_shown(plan)
    rows = [
        (
            c.action.value,
            *_row(shown, c.provider, c.account, c.region),
            c.entry or "",
            c.resource_id,
            c.flow_log.id if c.flow_log else "",
            "; ".join(c.reasons),
        )
        for c in plan.changes
        if c.action.value != "keep"
    ]
    if rows:
        headers = ["action", *_with_account(shown, ["provider", "region"]), "entry", "resource", "flow log", "why"]
        out.write(table(rows, headers) + "\n\n")
    per_place = sorted(plan.counts().items())
    quiet = [key for key, c in per_place if set(c) <= {"keep"}]
    if len(per_place) > MANY_ROWS and quiet:
        # An organization: the places where nothing is to change would fill a CI log; the totals below count them.
        per_place = [(key, c) for key, c in per_place if not set(c) <= {"keep"}]
    counts = [(*_row(shown, p, a, r), *(c.get(action, 0) for action in _ACTIONS)) for (p, a, r), c in per_place]
    out.write(table(counts, [*_with_account(shown, ["provider", "region"]), *_ACTIONS]))
    out.write("\n")
    if len(per_place) < len(plan.counts()):
        hidden = len(plan.counts()) - len(per_place)
        out.write(f"({hidden} place(s) with nothing to change are not shown; -o json has every one)\n")
    if shown:
        per_account: dict[tuple[str, str], Counter[str]] = {}
        for (p, a, _), c in plan.counts().items():
            per_account.setdefault((p, a), Counter()).update(c)
        totals = [
            (p, _account_label(plan, p, a), *(c.get(action, 0) for action in _ACTIONS))
            for (p, a), c in sorted(per_account.items())
        ]
        out.write(f"\nPer account ({len(totals)}):\n" + table(totals, ["provider", "account", *_ACTIONS]) + "\n")
    for note in plan.notes:
        out.write("\n" + folded(note, "Note: "))
    if plan.notes:
        out.write("\n")
    print_failed_targets(plan.failed_targets, out)
    for warning in plan.warnings:
        out.write("\n" + folded(warning, "Warning: "))
    if plan.warnings:
        out.write("\n")
    pending = len(plan.pending)
    matched = "nothing to change in what could be read" if plan.failed_targets else "the clouds match the file"
    if pending:
        out.write(f"\n{pending} change(s) to make")
    elif plan.conflicts:
        out.write("\nNot converged: nothing multiflow can change, but the file is not satisfied")
    else:
        out.write(f"\nNo changes: {matched}")
    if plan.conflicts:
        out.write(f"; {len(plan.conflicts)} conflict(s) multiflow will not touch")
    if plan.failed_targets:
        out.write(f"; {len(plan.failed_targets)} target(s) could not be read, nothing planned there")
    out.write(".\n")


def print_failed_targets(failed: Sequence[FailedTarget], out: TextIO) -> None:
    """The providers and regions plan could not read, each with its error (nothing when all were read)."""
    if not failed:
        return
    out.write("\nNot read (nothing planned there):\n")
    for target in failed:
        entries = ", ".join(target.entries)
        out.write(folded(f"{target.label()} (entries {entries}): {target.error}", "  ") + "\n")


def print_result(result: ApplyResult, elapsed: float, out: TextIO) -> None:
    """What apply did per provider and region, every failure with the cloud's code and request id, a verdict."""
    shown = any(c.account for c in [*result.done, *(f.change for f in result.failed)]) or any(
        t.account for t in result.failed_targets
    )
    done: Counter[tuple[str, str, str, str]] = Counter(
        (c.provider, c.account, c.region, c.action.value) for c in result.done
    )
    failed: Counter[tuple[str, str, str]] = Counter(
        (f.change.provider, f.change.account, f.change.region) for f in result.failed
    )
    groups = sorted({(p, a, r) for p, a, r, _ in done} | set(failed))
    rows = [
        (
            *_row(shown, p, a, r),
            done[(p, a, r, "create")],
            done[(p, a, r, "update")],
            done[(p, a, r, "replace")],
            done[(p, a, r, "delete")],
            failed[(p, a, r)],
        )
        for p, a, r in groups
    ]
    headers = [*_with_account(shown, ["provider", "region"]), "created", "updated", "replaced", "deleted", "failed"]
    out.write("\n" + table(rows, headers))
    out.write("\n")
    if result.failed:
        out.write("\nFailures:\n")
        failures: list[tuple[object, ...]] = [
            (
                f.change.action.value,
                *_row(shown, f.change.provider, f.change.account, f.change.region),
                f.change.resource_id,
                getattr(f.error, "code", type(f.error).__name__),
                getattr(f.error, "request_id", "") or "",
                getattr(f.error, "message", str(f.error)),
            )
            for f in result.failed
        ]
        headers = ["action", *_with_account(shown, ["provider", "region"]), "resource", "code", "request id", "message"]
        out.write(table(failures, headers))
        out.write("\n")
    print_failed_targets(result.failed_targets, out)
    status = "ok"
    if result.failed:
        status = "with failures"
    elif result.failed_targets:
        status = f"{len(result.failed_targets)} place(s) or account(s) not read"
    out.write(
        f"\nApplied in {elapsed:.1f}s: {len(result.done)} done, {len(result.failed)} failed, "
        f"{len(result.skipped)} skipped ({status}).\n"
    )


def print_flow_logs(flow_logs: Sequence[FlowLog], out: TextIO, accounts: Sequence[str] | None = None) -> None:
    """A row per flow log: where (with its account, where ``accounts`` gives one per flow log), what it watches,
    how, and the fleet that manages it."""
    shown = accounts is not None
    rows = [
        (
            *_row(shown, f.provider, accounts[n] if accounts is not None else "", f.region),
            f.id,
            f.resource.kind.value if f.resource.kind else "",
            f.resource.id,
            f.status.value,
            f.traffic.value if f.traffic else "",
            f.interval,
            destination_text(f.destination),
            f.tags.get("multiflow:managed", ""),
        )
        for n, f in enumerate(flow_logs)
    ]
    if not rows:
        out.write("No flow logs found.\n")
        return
    headers = ["flow log", "kind", "resource", "status", "traffic", "interval", "destination"]
    out.write(table(rows, [*_with_account(shown, ["provider", "region"]), *headers, "fleet"]) + "\n")


def print_scope_failures(failures: Sequence[ScopeFailure], notes: Sequence[str], out: TextIO) -> None:
    """Accounts, sources and regions that could not be read (each with its error), then the notes."""
    if failures:
        out.write("\nNot read:\n")
        for f in failures:
            named = f"{f.account} of {f.source}" if f.account and f.source else f.account or f.source or ""
            where = " ".join(x for x in (f.provider, named, f.region or "") if x)
            out.write(folded(f"{where}: {f.error}", "  ") + "\n")
    for note in notes:
        out.write(folded(note, "Note: ") + "\n")


def print_providers(
    infos: Sequence[PluginInfo], found: Mapping[str, Provider], every_capability: bool, out: TextIO
) -> None:
    """The plugins, then per provider its main capabilities (``every_capability``: all of them)."""
    from multiflow.capability_view import KIND_HEADERS, facts, kind_rows

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
    out.write(table(rows, ["plugin", "distribution", "version", "origin", "status", "hooks", "providers"]) + "\n")
    for name, provider in sorted(found.items()):
        caps = provider.capabilities
        out.write(f"\n{name}:\n")
        if every_capability:
            out.write("  " + table(kind_rows(caps), KIND_HEADERS).replace("\n", "\n  ") + "\n")
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


def print_sandboxes(environment: Mapping[str, str], seeded: Mapping[str, Any], out: TextIO) -> None:
    """``export`` lines that point a shell at the served sandboxes, and what they were seeded with."""
    out.write("# multiflow sandboxes on loopback; paste into a shell to point the CLI and SDKs at them:\n")
    for key, value in sorted(environment.items()):
        out.write(f"export {key}={value}\n")
    out.write(f"# seeded: {json.dumps(seeded, default=str)}\n# Ctrl-C stops them.\n")


def print_exports(environment: Mapping[str, str], out: TextIO) -> None:
    """Only ``export NAME=value`` lines, shell-quoted: ``eval "$(multiflow sandbox serve --env)"``."""
    import shlex

    for key, value in sorted(environment.items()):
        out.write(f"export {key}={shlex.quote(value)}\n")


def print_audit(report: AuditReport, show_covered: bool, out: TextIO) -> None:
    """The uncovered resources (``show_covered``: every one) with why, counts per group, and the total."""
    shown = bool(report.accounts)
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
                *_row(shown, r.provider, r.account, r.region),
                r.kind.value,
                r.id,
                r.resource.subnet_id or r.resource.vpc_id or "",
                "yes" if r.covered else "NO",
                via or "; ".join(r.reasons),
            )
        )
    if rows:
        headers = [*_with_account(shown, ["provider", "region"]), "kind", "resource", "in", "covered", "by / why not"]
        out.write(table(rows, headers) + "\n\n")
    counts = [
        (
            *_row(shown, c.provider or "", c.account or "", c.region),
            c.kind.value if c.kind else "",
            c.covered,
            c.total,
            percent(c.percent) if c.total else "-",
        )
        for c in report.summary()
    ]
    out.write(
        table(counts, [*_with_account(shown, ["provider", "region"]), "kind", "covered", "total", "percent"]) + "\n"
    )
    if shown:
        per_account = [
            (c.provider, c.account or "default", c.covered, c.total, percent(c.percent) if c.total else "-")
            for c in report.summary(("provider", "account"))
        ]
        out.write(
            "\nPer account:\n" + table(per_account, ["provider", "account", "covered", "total", "percent"]) + "\n"
        )
    total = report.total()
    if total.total == 0:
        out.write("\nCoverage: no resources of these kinds in these regions (nothing to cover).\n")
        return
    clouds = ", ".join(f"{c.provider} {c.covered}/{c.total}" for c in report.summary(("provider",)))
    out.write(f"\nCoverage: {total.covered}/{total.total} ({percent(total.percent)}); {clouds}.\n")


def print_fix(fix: Fleet | None, plan: Plan | None, text: str | None, path: str | None, out: TextIO) -> None:
    """``audit --fix``: the fleet that covers what is uncovered, its plan, and its file (or where it went)."""
    if fix is None or plan is None:
        out.write("\nFix: nothing to fix.\n")
        return
    out.write(f"\nFix: fleet {fix.name!r}\n\n")
    print_plan(plan, out)
    if path:
        out.write(f"\nFleet file written to {path}; apply it with: multiflow apply {path}\n")
    else:
        out.write("\n" + (text or ""))


def print_adoptions(chosen: AdoptionPlan, out: TextIO) -> None:
    """``plan --adopt`` and ``adopt``: the flow logs adopt takes over, then the conflicts it leaves and why."""
    rows = [
        ("adopt", a.change.provider, a.change.region, a.change.entry, a.change.resource_id, a.flow_log.id, "matches")
        for a in chosen.adoptions
    ]
    rows += [
        (
            "conflict",
            r.change.provider,
            r.change.region,
            r.change.entry,
            r.change.resource_id,
            r.change.flow_log.id if r.change.flow_log else "",
            r.reason,
        )
        for r in chosen.refused
    ]
    if rows:
        out.write("\n" + table(rows, ["adopt?", "provider", "region", "entry", "resource", "flow log", "why"]) + "\n")
    out.write(
        f"\n{len(chosen.adoptions)} flow log(s) to adopt; {len(chosen.refused)} conflict(s) adopt leaves alone.\n"
    )


def print_adopted(result: AdoptionResult, out: TextIO) -> None:
    """What adopt did: the flow logs now the fleet's, and every failure with its error."""
    for adoption, error in result.failed:
        out.write(f"failed: {adoption.flow_log.id} ({adoption.change.provider} {adoption.change.region}): {error}\n")
    out.write(f"\nAdopted {len(result.done)} flow log(s); {len(result.failed)} failed.\n")


def destination_text(destination: Destination | None) -> str:
    """Where a flow log delivers, as a person names it (the destination model's own :meth:`~Destination.label`:
    ``s3://bucket/prefix``, ``sls:project/logstore``...); empty where the cloud reported none."""
    return destination.label() if destination is not None else ""


def print_interrupted(result: ApplyResult, elapsed: float, out: TextIO) -> None:
    """After Ctrl-C: what was done, what is still activating (or deleting), what was not started, and the rerun."""
    out.write(f"\nInterrupted after {elapsed:.1f}s.\n")
    sections = (
        ("Done", result.done),
        ("Still activating or deleting (made; the cloud is finishing them)", result.in_progress),
        ("Not started", result.not_started),
    )
    for title, changes in sections:
        out.write(f"{title}: {len(changes)}\n")
        for change in changes:
            made = next((f.id for f in result.created if f.resource.id == change.resource_id), None)
            ident = made or (change.flow_log.id if change.flow_log else "")
            out.write(f"  {change.action.value} {change.place.label()} {change.resource_id} {ident}\n")
    if result.failed:
        out.write(f"Failed: {len(result.failed)}\n")
        for failure in result.failed:
            change = failure.change
            where = f"{change.action.value} {change.place.label()} {change.resource_id}"
            out.write(folded(f"{where}: {failure.error}", "  ") + "\n")
    out.write("Run the same command again to finish: it converges from here.\n")

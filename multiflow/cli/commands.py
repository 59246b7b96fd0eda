"""One function per command: it reads its parsed arguments, asks the library, prints, and returns the exit code.

Each takes ``(args, out)``: the namespace :func:`multiflow.cli.parsing.build_parser` made and the stream for the
answer (progress and errors go to stderr). The library is imported inside them, so ``multiflow --help`` stays quick.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from multiflow.accounts import Shard
from multiflow.cli import rendering
from multiflow.cli.parsing import UsageError, names, profiles, provider_regions
from multiflow.errors import MultiflowError

if TYPE_CHECKING:
    from multiflow.client import Connections
    from multiflow.fleet import Fleet
    from multiflow.model import FlowLog

__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PENDING",
    "EXIT_TERMINATED",
    "EXIT_UNDER_COVERAGE",
    "cmd_adopt",
    "cmd_apply",
    "cmd_audit",
    "cmd_destroy",
    "cmd_list",
    "cmd_merge",
    "cmd_open_service",
    "cmd_plan",
    "cmd_providers",
    "cmd_sandbox_serve",
    "cmd_schema",
    "cmd_validate",
]

EXIT_OK, EXIT_ERROR, EXIT_PENDING, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_UNDER_COVERAGE = 3
#: A run ended by SIGTERM (128 + 15, what a shell reports for it), as Ctrl-C's 130 is 128 + SIGINT.
EXIT_TERMINATED = 143

#: The exit code of each signal the command stops on.
_SIGNAL_EXITS = {signal.SIGINT: EXIT_INTERRUPTED, signal.SIGTERM: EXIT_TERMINATED}


def _profile_options(given: Sequence[str], sandbox: bool = False) -> dict[str, dict[str, Any]]:
    """``--profile PROVIDER=NAME``: each provider's connect options naming the profile (its ``profile_option``)."""
    from multiflow.plugins import get_provider

    chosen = profiles(given)
    if chosen and sandbox:
        raise MultiflowError("--profile with --sandbox: the sandboxes have credentials of their own; drop one")
    options: dict[str, dict[str, Any]] = {}
    for provider_name, profile in chosen.items():
        provider = get_provider(provider_name)
        if provider.profile_option is None:
            raise MultiflowError(f"--profile {provider_name}={profile}: provider {provider_name!r} has no profiles")
        options[provider_name] = {provider.profile_option: profile}
    return options


@contextmanager
def _connections(
    sandbox: bool, fleet: Fleet | None = None, providers: Sequence[str] = (), profile: Sequence[str] = ()
) -> Iterator[Connections]:
    """Connections to the clouds (with each provider's ``--profile``); with ``--sandbox``, to sandboxes prepared
    for ``fleet`` (or, without a fleet, seeded with the demo estates of ``providers``)."""
    from multiflow import sandbox as sandboxes
    from multiflow.client import Connections

    options = _profile_options(profile, sandbox)
    with ExitStack() as stack:
        if not sandbox:
            connections = stack.enter_context(Connections(lambda p, r: dict(options.get(p, {}))))
        else:
            try:
                connections = stack.enter_context(
                    sandboxes.prepared(fleet) if fleet is not None else sandboxes.demo(providers)
                )
            except sandboxes.NoSandbox as exc:
                raise MultiflowError(f"{exc}; run without --sandbox") from None
        yield connections


@contextmanager
def _reading(args: argparse.Namespace) -> Iterator[None]:
    """While the command only reads the clouds (plan, the plan phase and the question of apply, destroy and adopt,
    list, audit): the first Ctrl-C or SIGTERM says so and ends the run at once, 130 or 143. Nothing was changed,
    so there is nothing to finish or report; waiting for the reads in flight (each with its SDK's timeout and
    retries, in thread pools that would run their queued reads too) is what made Ctrl-C slow and silent."""

    def stop(signum: int, frame: object) -> None:
        what = "terminated" if signum == signal.SIGTERM else "interrupted"
        message = f"{what} before any change (nothing was changed); stopping"
        try:
            if args.output == "json":
                document = {"ok": False, "interrupted": True, "signal": signal.Signals(signum).name, "error": message}
                rendering.write_json(document, sys.stdout)
            sys.stdout.flush()
            sys.stderr.write(f"\nmultiflow: {message}\n")
            sys.stderr.flush()
        except OSError:  # the reader went away (a closed pipe): the exit code still says it
            pass
        os._exit(_SIGNAL_EXITS[signal.Signals(signum)])

    with _handling(stop):
        yield


@contextmanager
def _handling(handler: Callable[[int, object], None]) -> Iterator[None]:
    """``handler`` for SIGINT and SIGTERM inside the block, the previous handlers after; outside the main thread
    (where Python takes no handler) the signals keep theirs."""
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in _SIGNAL_EXITS:
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _load(path: str) -> Fleet:
    from multiflow.fleet import load
    from multiflow.validate import validate_fleet

    fleet = load(path)
    validate_fleet(fleet)
    return fleet


def _confirm(args: argparse.Namespace, question: str) -> bool:
    """``--yes``, or a ``y`` typed at the prompt; end of input (Ctrl-D, a closed stdin) is "not confirmed"."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise MultiflowError("refusing to change the clouds without confirmation: stdin is not a terminal; add --yes")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        sys.stderr.write("\n")
        raise MultiflowError("not confirmed (end of input at the prompt): nothing done; add --yes to skip it") from None
    return answer.strip().lower() in {"y", "yes"}


def _regions(providers: Sequence[str], text: str | None) -> dict[str, list[str] | str]:
    """``--region`` (``all``, or ``PROVIDER:all``: every region each account can use); a provider it names no region
    for (none given, or only other providers' ``PROVIDER:REGION``) takes its configured region (``default_region()``
    where its plugin has one)."""
    given = provider_regions(providers, text or "", fallback=_default_region)
    return {p: ("all" if "all" in regions else list(regions)) for p, regions in given.items()}


def _default_region(name: str) -> list[str]:
    """The provider's configured region, or an error saying where to set it."""
    from multiflow.plugins import get_provider

    region = get_provider(name).default_region()
    if not region:
        hints = {
            "aws": "AWS_REGION / AWS_DEFAULT_REGION or the profile's region",
            "alibaba": "ALIBABA_CLOUD_REGION_ID",
        }
        where = hints.get(name, "its region setting")
        raise MultiflowError(f"no region for {name}: add --region REGION (or {name}:REGION), or set {where}")
    return [region]


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow validate FILE``: the file against the providers, without any API call."""
    fleet = _load(args.file)
    if args.output == "json":
        rendering.write_json({"ok": True, "fleet": fleet.name, "entries": len(fleet.flow_logs)}, out)
    else:
        rendering.print_validated(args.file, fleet, out)
    return EXIT_OK


def cmd_plan(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow plan FILE``: what apply would change; exit 2 with ``--detailed-exitcode`` when anything would."""
    from multiflow.planfile import plan_document, write_saved
    from multiflow.planning import plan as make_plan

    fleet = _load(args.file)
    shard = _shard(args)
    with _reading(args), _connections(args.sandbox, fleet, profile=args.profile) as connections:
        plan = make_plan(fleet, connections, shard=shard)
        adoption = _adoptions(plan) if args.adopt else None
    # Written after the reads, with the signals' usual handling: a signal never cuts the saved plan or the answer.
    if args.out:
        write_saved(plan, args.file, args.out)
    if args.output == "json":
        document = plan_document(plan, args.file)
        if adoption is not None:
            document["adopt"] = adoption.as_dict()
        rendering.write_json(document, out)
    else:
        rendering.print_plan(plan, out)
        if adoption is not None:
            rendering.print_adoptions(adoption, out)
        if args.out:
            out.write(f"\nPlan saved to {args.out}; apply it with: multiflow apply {args.out}\n")
    if plan.failed_targets:
        return EXIT_ERROR
    if getattr(args, "detailed_exitcode", False) and (plan.pending or plan.conflicts):
        return EXIT_PENDING  # conflicts too: a fleet that cannot be satisfied is not converged
    return EXIT_OK


def _shard(args: argparse.Namespace, saved: str | None = None) -> Shard | None:
    """``--shard K/N`` (checked before any call), or the shard a saved plan was made with; both must agree."""
    given = getattr(args, "shard", None)
    if given and saved and given != saved:
        raise MultiflowError(f"--shard {given}: the saved plan was made with --shard {saved}; give that, or none")
    text = given or saved
    return Shard.parse(text) if text else None


def _saved_plan_path(args: argparse.Namespace) -> str | None:
    """The saved plan ``apply`` is to execute (``--plan PATH``, or a FILE that is one), or ``None``."""
    from multiflow.planfile import is_plan_file

    given = getattr(args, "plan", None)
    if given:
        if args.file:
            raise MultiflowError(f"apply {args.file} --plan {given}: give a fleet file or a saved plan, not both")
        return str(given)
    if not args.file:
        raise MultiflowError("apply needs a fleet file, or a plan file saved by multiflow plan FILE --out PLANFILE")
    return str(args.file) if is_plan_file(args.file) else None


def cmd_apply(args: argparse.Namespace, out: TextIO, *, destroy: bool = False) -> int:
    """``multiflow apply FILE``: plan, confirm, make the changes; exit 1 when any failed.

    ``apply PLANFILE`` (or ``--plan PLANFILE``) executes a plan saved by ``plan --out``, without asking: only if
    the fleet file is the same and the clouds have not moved since (else an error naming what moved)."""
    from multiflow.applying import ApplyInterrupted, apply
    from multiflow.cli.progress import ProgressPrinter
    from multiflow.planfile import FORMAT_VERSION, load_saved, plan_document

    saved_path = _saved_plan_path(args) if not destroy else None
    saved = load_saved(saved_path) if saved_path else None
    if saved is not None:
        saved.check_fleet_file()
        destroy = saved.destroy
    fleet_file = saved.fleet_file if saved is not None else args.file
    fleet = _load(fleet_file)
    shard = _shard(args, saved.shard if saved is not None else None)
    with _connections(args.sandbox, fleet, profile=args.profile) as connections:
        with _reading(args):
            plan, confirmed = _planned(args, fleet, fleet_file, connections, destroy, shard, saved, saved_path, out)
        if plan is None:
            return EXIT_OK if confirmed else EXIT_ERROR
        if not confirmed:
            out.write("Nothing done.\n")
            return EXIT_OK
        started = time.monotonic()
        cancel = threading.Event()
        exit_code = [EXIT_INTERRUPTED]
        with ProgressPrinter(sys.stderr) as progress, _interruptible(cancel, exit_code):
            try:
                result = apply(plan, connections, timeout=args.timeout, progress=progress, cancel=cancel)
            except ApplyInterrupted as exc:
                progress.close()
                _report_interrupted(args, plan, exc.result, time.monotonic() - started, out)
                os._exit(exit_code[0])  # at once: the calls still in flight are the clouds' to finish
        elapsed = time.monotonic() - started
    if result.interrupted:
        _report_interrupted(args, plan, result, elapsed, out)
        return exit_code[0]
    if args.output == "json":
        rendering.write_json(
            {
                "format_version": FORMAT_VERSION,
                "ok": result.ok,
                "elapsed_seconds": round(elapsed, 2),
                "plan": plan_document(plan, fleet_file),
                "result": result.as_dict(),
            },
            out,
        )
    else:
        rendering.print_result(result, elapsed, out)
    return EXIT_OK if result.ok else EXIT_ERROR


def _planned(
    args: argparse.Namespace,
    fleet: Fleet,
    fleet_file: str,
    connections: Connections,
    destroy: bool,
    shard: Shard | None,
    saved: Any,
    saved_path: str | None,
    out: TextIO,
) -> tuple[Any, bool]:
    """apply's plan phase: plan (checked against a saved plan), shown, and the question; ``(plan, confirmed)``, or
    ``(None, complete)`` when there is nothing to change (the answer already printed)."""
    from multiflow.planfile import FORMAT_VERSION, moved, plan_document
    from multiflow.planning import plan as make_plan

    plan = make_plan(fleet, connections, destroy=destroy, shard=shard)
    if saved is not None:
        moves = moved(saved, plan)
        if moves:
            raise MultiflowError(
                f"{saved_path}: the clouds moved since the plan was saved, nothing done:\n  "
                + "\n  ".join(moves)
                + "\nrun multiflow plan --out again"
            )
    if args.output != "json":
        rendering.print_plan(plan, out)
    if not plan.pending:
        if args.output == "json":
            rendering.write_json(
                {
                    "format_version": FORMAT_VERSION,
                    "ok": plan.complete,
                    "plan": plan_document(plan, fleet_file),
                    "result": None,
                },
                out,
            )
        return None, plan.complete
    asked = f"{'Destroy' if destroy else 'Apply'} {len(plan.pending)} change(s)?"
    return plan, saved is not None or _confirm(args, asked)


@contextmanager
def _interruptible(cancel: threading.Event, exit_code: list[int]) -> Iterator[None]:
    """While applying: the first Ctrl-C or SIGTERM sets ``cancel`` (no new work, waits end within a poll) and
    puts its exit code (130, or 143 for SIGTERM) in ``exit_code``; the second raises KeyboardInterrupt (apply
    then returns at once with what it knows)."""

    def interrupted(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        exit_code[:] = [_SIGNAL_EXITS[signal.Signals(signum)]]
        cancel.set()
        what = "terminated" if signum == signal.SIGTERM else "interrupted"
        sys.stderr.write(
            f"\nmultiflow: {what}: starting nothing new, stopping the waits (Ctrl-C again to quit at once)\n"
        )
        sys.stderr.flush()

    with _handling(interrupted):
        yield


def _report_interrupted(args: argparse.Namespace, plan: Any, result: Any, elapsed: float, out: TextIO) -> None:
    if args.output == "json":
        rendering.write_json(
            {
                "ok": False,
                "interrupted": True,
                "elapsed_seconds": round(elapsed, 2),
                "plan": plan.as_dict(),
                "result": result.as_dict(),
            },
            out,
        )
    else:
        rendering.print_interrupted(result, elapsed, out)
    out.flush()
    sys.stderr.flush()


def cmd_destroy(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow destroy FILE``: :func:`cmd_apply` of a plan that deletes every flow log the fleet manages."""
    return cmd_apply(args, out, destroy=True)


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow list``: every flow log of the providers in the regions (of every account ``--accounts`` names)."""
    from multiflow.client import Connections
    from multiflow.errors import SpecError
    from multiflow.scope import ScopeFailure, places_for

    found: list[tuple[str, FlowLog]] = []
    accounts = _accounts_file(args)  # the file first: it is what the command line got wrong, if anything
    options = _profile_options(args.profile)
    regions = _regions(names(args.provider), args.region)
    with _reading(args), Connections(lambda p, r: dict(options.get(p, {}))) as connections:
        coverage = places_for(regions, connections, accounts=accounts, shard=_shard(args))
        failures = list(coverage.failures)
        for place in coverage.places:
            try:
                client = connections.client(
                    place.provider, place.region, coverage.account(place.provider, place.account)
                )
                found.extend((place.account, f) for f in client.describe())
            except MultiflowError as exc:
                if not accounts or isinstance(exc, SpecError):
                    raise
                failures.append(ScopeFailure(place.provider, place.account, place.region, (), exc))
    if args.output == "json":
        rows = [{"account": a or None, **f.model_dump(mode="json", exclude={"raw"})} for a, f in found]
        if accounts:
            shard = _shard(args)
            document: object = {
                "shard": str(shard) if shard else None,
                "flow_logs": rows,
                "failed": [f.as_dict() for f in failures],
                "notes": list(coverage.notes),
            }
        else:
            document = rows
        rendering.write_json(document, out)
    else:
        rendering.print_flow_logs([f for _, f in found], out, accounts=[a for a, _ in found] if accounts else None)
        rendering.print_scope_failures(failures, coverage.notes, out)
    return EXIT_ERROR if failures else EXIT_OK


def _accounts_file(args: argparse.Namespace) -> dict[str, Any] | None:
    """``--accounts FILE``: the ``accounts:`` of a fleet file (or of a file with only that), checked before calls."""
    path = getattr(args, "accounts", None)
    if not path:
        if getattr(args, "shard", None):
            raise UsageError(f"--shard {args.shard}: shards split the accounts of --accounts FILE; add --accounts")
        return None
    from multiflow.fleet import load_accounts

    return load_accounts(path)


def cmd_merge(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow merge FILE...``: one JSON document from the shards' outputs; exits as the merged run would
    (1 when an apply failed or an account could not be read, 3 when an audit is under its --fail-under)."""
    from multiflow.merging import document_kind, merge_files

    merged = merge_files(args.files, allow_partial=args.allow_partial)
    rendering.write_json(merged, out)
    kind = document_kind(merged)
    failed = merged.get("failed_targets") or merged.get("failed") or (merged.get("plan") or {}).get("failed_targets")
    if kind == "apply" and not merged["ok"]:
        return EXIT_ERROR
    if failed:
        return EXIT_ERROR
    if kind == "audit" and not merged["ok"]:
        return EXIT_UNDER_COVERAGE
    return EXIT_OK


def cmd_providers(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow providers``: the plugins, their versions and the providers' capabilities."""
    from multiflow.plugins import plugin_infos, providers

    found = providers()
    infos = sorted(
        (i for i in plugin_infos(include_unloaded=args.all) if args.all or i.providers),
        key=lambda i: (not i.builtin, i.name),
    )
    if args.output == "json":
        rendering.write_json(
            {
                "plugins": [i.as_dict() for i in infos],
                "providers": {name: p.capabilities.summary() for name, p in sorted(found.items())},
            },
            out,
        )
    else:
        rendering.print_providers(infos, found, args.all, out)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow schema``: the fleet file's JSON Schema."""
    from multiflow.schema import fleet_schema

    rendering.write_json(fleet_schema(), out)
    return EXIT_OK


def cmd_sandbox_serve(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow sandbox serve``: every provider's sandbox with its demo estate, until a signal or ``--seconds``;
    ``--env`` prints only ``export`` lines; the knobs make the sandboxes slow or flaky."""
    from multiflow import sandbox

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with sandbox.started() as boxes:
        untuned = sandbox.tune(
            boxes,
            activation_delay=args.activation_delay,
            deletion_delay=args.deletion_delay,
            latency=args.latency,
            throttle_rate=args.throttle_rate,
            server_error_rate=args.server_error_rate,
        )
        for name in untuned:
            sys.stderr.write(f"multiflow: note: the {name} sandbox takes no knobs; serving it as it is\n")
        environment: dict[str, str] = {}
        seeded: dict[str, Any] = {}
        for name, box in boxes.items():
            environment.update(box.environment())
            seeded[name] = box.seed_demo()
        for path in args.fleet:
            fleet = _load(path)
            absent = sorted({e.provider for e in fleet.flow_logs} - set(boxes))
            if absent:
                raise MultiflowError(f"--fleet {path}: provider {absent[0]!r} offers no sandbox")
            with sandbox.connections_to(boxes) as connections:
                sandbox.prepare_fleet(boxes, fleet, connections)
        if args.output == "json":
            rendering.write_json({"environment": environment, "seeded": seeded}, out)
        elif args.env:
            rendering.print_exports(environment, out)
        else:
            rendering.print_sandboxes(environment, seeded, out)
        out.flush()
        stop.wait(args.seconds if args.seconds else None)
    return EXIT_OK


def cmd_audit(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow audit``: coverage of VPCs, subnets and ENIs; exit 3 below ``--fail-under``; ``--fix`` plans
    flow logs for what is uncovered."""
    from multiflow.audit_fix import fix_fleet, fleet_yaml
    from multiflow.audit_formats import FORMAT_VERSION as AUDIT_FORMAT_VERSION
    from multiflow.auditing import CoverageCriteria, audit
    from multiflow.fleet import load
    from multiflow.planning import plan as make_plan

    providers = list(dict.fromkeys(names(args.provider)))
    accounts = _accounts_file(args)  # the files first: they are what the command line got wrong, if anything
    template = load(args.fix) if args.fix else None
    regions = _regions(providers, args.region)
    fix_output = _writable(args.fix_output, args.fix, args.force) if args.fix_output else None
    criteria = _criteria(
        CoverageCriteria,
        traffic=args.traffic,
        destination_kind=args.destination_kind,
        require_active=not args.include_inactive,
        require_delivery_ok=args.require_delivery,
        **({"destination": _destination_argument(args.destination)} if args.destination else {}),
    )
    fix = plan = None
    shard = _shard(args)
    with _reading(args), _connections(args.sandbox, providers=providers, profile=args.profile) as connections:
        report = audit(
            providers,
            regions,
            kinds=[k.strip() for k in args.kind.split(",")],
            criteria=criteria,
            connections=connections,
            accounts=accounts,
            shard=shard,
        )
        if template is not None:
            fix = fix_fleet(report, template, accounts=accounts)
            plan = make_plan(fix, connections) if fix is not None else None
    passed = args.fail_under is None or report.percent >= args.fail_under
    fix_text = None
    if fix is not None:
        header = f"written by multiflow audit --fix {args.fix}: {len(report.uncovered)} uncovered resource(s)"
        fix_text = fleet_yaml(fix, header + "\napply with: multiflow apply FILE")
        if fix_output is not None:
            _write_atomically(fix_output, fix_text, args.fix, args.force)
    if args.output in AUDIT_MACHINE_FORMATS:
        from multiflow.audit_formats import render

        out.write(render(report, args.output))
    elif args.output == "json":
        fixed = None
        if template is not None:
            fixed = {
                "fleet": fix.name if fix else None,
                "fleet_file": args.fix_output if fix and args.fix_output else None,
                "fleet_yaml": fix_text,
                "plan": plan.as_dict() if plan else None,
            }
        document = {
            "format_version": AUDIT_FORMAT_VERSION,
            "ok": passed,
            "fail_under": args.fail_under,
            "shard": str(shard) if shard else None,
        }
        rendering.write_json({**document, **report.as_dict(), "fix": fixed}, out)
    else:
        rendering.print_audit(report, args.all, out)
        rendering.print_scope_failures(report.failed, report.notes, out)
        if args.fail_under is not None and not passed:
            out.write(f"Below --fail-under {args.fail_under:g}%.\n")
        if template is not None:
            rendering.print_fix(fix, plan, fix_text, args.fix_output, out)
    if report.failed:
        return EXIT_ERROR  # some accounts or regions could not be read: the coverage is not the whole estate's
    return EXIT_OK if passed else EXIT_UNDER_COVERAGE


def cmd_open_service(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow open-service``: open the flow-log service of each provider's account in each region, where
    the provider's sessions have one to open (:class:`multiflow.provider.ServiceOptIn`); nothing else changes."""
    import multiflow
    from multiflow.errors import UnsupportedFeature
    from multiflow.provider import ServiceOptIn

    rows: list[dict[str, Any]] = []
    for provider, regions in provider_regions(names(args.provider), args.region).items():
        for region in regions:
            with multiflow.connect(provider, region=region) as client:
                session = client.session
                if not isinstance(session, ServiceOptIn):
                    raise UnsupportedFeature("open-service", provider, "providers with a flow-log service to open")
                was_open = session.service_opened(refresh=True)
                if not was_open:
                    session.open_service()
                rows.append({"provider": provider, "region": region, "opened": not was_open, "open": True})
    if args.output == "json":
        rendering.write_json(rows, out)
    else:
        for row in rows:
            state = "opened now" if row["opened"] else "already open"
            out.write(f"{row['provider']} {row['region']}: flow-log service {state}\n")
    return EXIT_OK


#: ``audit -o`` formats written by :mod:`multiflow.audit_formats`.
AUDIT_MACHINE_FORMATS = ("sarif", "junit", "csv")


def _destination_argument(text: str) -> dict[str, Any]:
    """``--destination s3:bucket=central-logs`` or ``sls:project=p,logstore=l``, or a JSON object."""
    import json

    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise MultiflowError(f"--destination {text!r}: not a JSON object ({exc.msg})") from None
        if not isinstance(value, dict):
            raise MultiflowError(f"--destination {text!r}: a JSON object")
        return value
    kind, colon, rest = stripped.partition(":")
    fields: dict[str, Any] = {"kind": kind.strip()}
    for item in (i for i in rest.split(",") if i.strip()):
        key, equals, value_text = item.partition("=")
        if not equals or not key.strip():
            raise MultiflowError(f"--destination {text!r}: {item!r} is not FIELD=VALUE")
        fields[key.strip()] = value_text.strip()
    if not colon or not kind.strip() or len(fields) == 1:
        raise MultiflowError(
            f"--destination {text!r}: KIND:FIELD=VALUE[,FIELD=VALUE], e.g. s3:bucket=central-logs or "
            "sls:project=audit,logstore=flows"
        )
    return fields


def _criteria(model: Any, **given: Any) -> Any:
    """``CoverageCriteria`` of the audit's options; a pydantic refusal as a MultiflowError naming the option."""
    from pydantic import ValidationError

    try:
        return model(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        option = "--destination" if where.startswith("destination") else f"--{where.replace('_', '-')}"
        value = given.get("destination") if option == "--destination" else error.get("input")
        raise MultiflowError(f"{option} {value!r}: {error['msg']} (at {where})") from None


def _adoptions(plan: Any) -> Any:
    from multiflow.adopting import adoptions

    return adoptions(plan)


def cmd_adopt(args: argparse.Namespace, out: TextIO) -> int:
    """``multiflow adopt FILE``: tag unmanaged flow logs that already match an entry as the fleet's (after the
    confirmation), so plan keeps them instead of reporting conflicts; exit 1 when any could not be tagged."""
    from multiflow.adopting import adopt
    from multiflow.planning import plan as make_plan

    fleet = _load(args.file)
    with _connections(args.sandbox, fleet, profile=args.profile) as connections:
        with _reading(args):
            plan = make_plan(fleet, connections)
            chosen = _adoptions(plan)
            if args.output != "json":
                rendering.print_adoptions(chosen, out)
            if not chosen.adoptions:
                if args.output == "json":
                    rendering.write_json({"ok": True, **chosen.as_dict(), "result": None}, out)
                return EXIT_OK
            confirmed = _confirm(args, f"Adopt {len(chosen.adoptions)} flow log(s) into fleet {fleet.name!r}?")
        if not confirmed:
            out.write("Nothing done.\n")
            return EXIT_OK
        result = adopt(chosen, connections)
    if args.output == "json":
        rendering.write_json({"ok": result.ok, **chosen.as_dict(), "result": result.as_dict()}, out)
    else:
        rendering.print_adopted(result, out)
    return EXIT_OK if result.ok else EXIT_ERROR


#: Every command's function by its ``command_path`` (what the parser sets).
COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "validate": cmd_validate,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "destroy": cmd_destroy,
    "adopt": cmd_adopt,
    "list": cmd_list,
    "audit": cmd_audit,
    "providers": cmd_providers,
    "schema": cmd_schema,
    "merge": cmd_merge,
    "open-service": cmd_open_service,
    "sandbox serve": cmd_sandbox_serve,
}


def _writable(path: str, template: str | None, force: bool) -> str:
    """``--fix-output PATH`` checked before any call: never the template, never a symlink, an existing file only
    with ``--force``, a directory that exists."""
    if os.path.islink(path):
        raise MultiflowError(f"--fix-output {path}: a symbolic link; multiflow does not write through links")
    if template and os.path.exists(path) and os.path.samefile(path, template):
        raise MultiflowError(f"--fix-output {path}: that is the --fix template; write the fix elsewhere")
    if os.path.isdir(path):
        raise MultiflowError(f"--fix-output {path}: a directory; give a file path")
    if os.path.exists(path) and not force:
        raise MultiflowError(f"--fix-output {path}: the file exists; add --force to replace it")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise MultiflowError(f"--fix-output {path}: no directory {parent}")
    return path


def _write_atomically(path: str, text: str, template: str | None, force: bool) -> None:
    """Write ``text`` to a new file beside ``path``, then rename it over ``path`` (a reader sees the old file or
    the new one, never half of one); checked again just before, since the file system may have moved."""
    import tempfile

    _writable(path, template, force)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".multiflow-fix-", suffix=".yaml", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if force:
            os.replace(temporary, path)  # replaces the entry itself: a symlink created meanwhile is not followed
        else:
            os.link(temporary, path)  # fails if the file appeared meanwhile
            os.unlink(temporary)
    except OSError as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(exc, FileExistsError):
            raise MultiflowError(f"--fix-output {path}: the file exists; add --force to replace it") from None
        raise MultiflowError(f"--fix-output {path}: {exc.strerror}") from None

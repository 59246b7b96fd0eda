"""The command line's grammar: the argparse parser of every command, and helpers that read argument values.

Each leaf command's parser sets ``command_path`` (``"plan"``, ``"sandbox serve"``...), the key of its function in
:data:`multiflow.cli.commands.COMMANDS`; building the parser loads no command and no cloud SDK.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from multiflow import __version__
from multiflow.errors import MultiflowError

__all__ = [
    "AUDIT_FORMATS",
    "EXIT_USAGE",
    "OUTPUTS",
    "Parser",
    "UsageError",
    "build_parser",
    "names",
    "number",
    "profiles",
    "provider_regions",
]

#: A usage error (bad flag or value): EX_USAGE of sysexits.h, apart from ``plan --detailed-exitcode``'s 2.
EXIT_USAGE = 64

#: The output formats every command takes.
OUTPUTS = ("table", "json")
#: ``multiflow audit -o``: the table, JSON, and the CI formats of :mod:`multiflow.audit_formats`.
AUDIT_FORMATS = (*OUTPUTS, "sarif", "junit", "csv")


class UsageError(MultiflowError):
    """A combination of flags the parser cannot refuse by itself (e.g. ``--shard`` without ``--accounts``): the
    command line exits :data:`EXIT_USAGE`, as for any other usage error."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits :data:`EXIT_USAGE` (argparse's own 2 means "changes pending" here)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def number(
    flag: str, *, minimum: float = 0.0, maximum: float, inclusive: bool = False, integer: bool = False
) -> Callable[[str], float]:
    """An argparse ``type`` for a finite number above ``minimum`` (or at it, ``inclusive``) and at most
    ``maximum``; anything else is a usage error naming ``flag``."""
    low = f"at least {minimum:g}" if inclusive else f"more than {minimum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: not a number") from None
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive) or value > maximum:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: a finite number {low} and at most {maximum:g}")
        if integer and value != int(value):
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: a whole number")
        return value

    parse.__name__ = flag  # argparse names the type in its own messages
    return parse


_REGION_HELP = "region(s), comma-separated; PROVIDER:REGION for one provider only"
_REGION_DEFAULT = " (a provider it names no region for: its configured region, e.g. AWS_DEFAULT_REGION)"


def build_parser() -> argparse.ArgumentParser:
    """The ``multiflow`` parser (docs/cli.md is generated from it)."""
    parser = Parser(prog="multiflow", description="VPC flow logs on every cloud, from one file.")
    parser.add_argument("--version", action="version", version=f"multiflow {__version__}")
    _global_options(parser, argparse.SUPPRESS, AUDIT_FORMATS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, formats: Sequence[str] = ("table", "json")) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _global_options(sub, argparse.SUPPRESS, formats)
        sub.set_defaults(command_path=name)
        return sub

    validate = add("validate", "check a fleet file against the providers, without any API call")
    validate.add_argument("file", help="the fleet YAML file")
    plan = add("plan", "show what apply would change")
    _fleet_file(plan)
    plan.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes to make")
    _plan_arguments(plan)
    for name, text in (
        ("apply", "make the clouds match the file"),
        ("destroy", "delete every flow log this fleet manages"),
    ):
        sub = add(name, text)
        _fleet_file(sub, saved_plan=name == "apply")
        sub.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        sub.add_argument(
            "--timeout",
            type=number("--timeout", maximum=86400),
            default=900.0,
            metavar="SECONDS",
            help="seconds to wait for the clouds (900; at most 86400)",
        )
        _profile_argument(sub)
    adopt = add("adopt", "tag unmanaged flow logs that already match an entry as the fleet's (shown in plan --adopt)")
    _fleet_file(adopt)
    adopt.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    _profile_argument(adopt)
    listing = add("list", "list flow logs of providers and regions")
    listing.add_argument("--provider", required=True, help="provider name(s), comma-separated")
    listing.add_argument("--region", help=_REGION_HELP + _REGION_DEFAULT + "; all: every region each account can use")
    _accounts_arguments(listing)
    _profile_argument(listing)
    audit = add("audit", "which VPCs, subnets and ENIs lack a flow log that counts", AUDIT_FORMATS)
    _audit_arguments(audit)
    _profile_argument(audit)
    providers = add("providers", "show loaded provider plugins, versions and capabilities")
    providers.add_argument(
        "--all",
        action="store_true",
        help="every plugin (also those offering no provider, disabled or not loaded) and every capability",
    )
    add("schema", "print the JSON Schema of fleet files (for editors)")
    merger = add("merge", "merge the -o json outputs of --shard 1/N ... N/N runs into one document", ("json",))
    merger.add_argument("files", nargs="+", metavar="FILE", help="the shards' JSON outputs (plan, apply, audit, list)")
    merger.add_argument("--allow-partial", action="store_true", help="merge even when some shards are missing")
    opener = add("open-service", "open the accounts' flow-log service where the cloud asks for it (Alibaba), opt-in")
    opener.add_argument("--provider", required=True, help="provider name(s), comma-separated")
    opener.add_argument("--region", required=True, help=_REGION_HELP)
    sandbox = commands.add_parser("sandbox", help="the offline sandboxes")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="COMMAND")
    serve = sandbox_commands.add_parser("serve", help="serve every provider's sandbox on loopback until stopped")
    _global_options(serve, argparse.SUPPRESS)
    serve.add_argument(
        "--seconds",
        type=number("--seconds", maximum=7 * 86400),
        default=None,
        help="stop after this long (default: until Ctrl-C)",
    )
    serve.add_argument("--env", action="store_true", help="print only `export NAME=value` lines (for eval)")
    serve.add_argument(
        "--fleet",
        action="append",
        default=[],
        metavar="FILE",
        help="also seed what this fleet file needs, as --sandbox does (repeatable)",
    )
    for flag, text in (
        ("--activation-delay", "seconds a new Alibaba flow log stays activating (1)"),
        ("--deletion-delay", "seconds an Alibaba flow log stays deleting (0.5)"),
        ("--latency", "seconds added to every call, both clouds (0)"),
    ):
        serve.add_argument(flag, type=number(flag, maximum=3600, inclusive=True), metavar="SECONDS", help=text)
    for flag, text in (
        ("--throttle-rate", "share of calls (0..1) refused as throttled, both clouds (0)"),
        ("--server-error-rate", "share of calls (0..1) failing with a 5xx, both clouds (0)"),
    ):
        serve.add_argument(flag, type=number(flag, maximum=1, inclusive=True), metavar="RATE", help=text)
    serve.set_defaults(command_path="sandbox serve")
    return parser


def _global_options(parser: argparse.ArgumentParser, default: object, formats: Sequence[str] = OUTPUTS) -> None:
    """``-o``, ``--query``, ``-v`` and ``--debug``: accepted before the command (on the main parser) and after it
    (on each command's); the command's own copy has no default, so it never hides one given before. ``formats``
    are the command's output formats (the main parser takes every format; the command checks its own)."""
    chosen = "table" if "table" in formats else f"{formats[0]}, the only one"
    parser.add_argument("--output", "-o", choices=tuple(formats), default=default, help=f"output format ({chosen})")
    parser.add_argument(
        "--query", metavar="JMESPATH", default=default, help="JMESPath applied to JSON output (implies -o json)"
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", default=default, help="log multiflow's calls and request ids"
    )
    parser.add_argument("--debug", action="store_true", default=default, help="log everything, SDKs included")


def _fleet_file(sub: argparse.ArgumentParser, *, saved_plan: bool = False) -> None:
    """The fleet file argument and ``--sandbox`` of plan, apply and destroy."""
    if saved_plan:
        sub.add_argument("file", nargs="?", help="the fleet YAML file, or a plan file saved by plan --out")
        sub.add_argument("--plan", metavar="PLANFILE", help="apply this saved plan (if the clouds have not moved)")
    else:
        sub.add_argument("file", help="the fleet YAML file")
    sub.add_argument(
        "--sandbox",
        action="store_true",
        help="run against fresh in-process sandboxes seeded with what the file needs",
    )
    sub.add_argument(
        "--shard",
        metavar="K/N",
        type=shard,
        help="cover only shard K of N of the fleet's accounts (stable by account id; N runs cover each once)",
    )


def _accounts_arguments(sub: argparse.ArgumentParser) -> None:
    """``--accounts FILE`` and ``--shard K/N`` of list and audit."""
    sub.add_argument(
        "--accounts",
        metavar="FILE",
        help="cover the accounts the accounts: section of FILE names (a fleet file, or a file with only accounts:)",
    )
    sub.add_argument(
        "--shard",
        metavar="K/N",
        type=shard,
        help="cover only shard K of N of the --accounts FILE's accounts (needs --accounts)",
    )


def _audit_arguments(sub: argparse.ArgumentParser) -> None:
    """What to audit, what counts as covered, and ``--fix``."""
    sub.add_argument("--provider", required=True, help="provider name(s), comma-separated")
    sub.add_argument("--region", help=_REGION_HELP + _REGION_DEFAULT + "; all: every region each account can use")
    _accounts_arguments(sub)
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
    sub.add_argument(
        "--destination",
        metavar="KIND:FIELD=VALUE,...",
        help="count only flow logs delivering here: s3:bucket=central-logs, sls:project=p,logstore=flows "
        "(the fields given must match), or a JSON object",
    )
    sub.add_argument("--include-inactive", action="store_true", help="count flow logs that are not active")
    sub.add_argument("--require-delivery", action="store_true", help="count only flow logs delivering successfully")
    sub.add_argument(
        "--fail-under",
        type=number("--fail-under", maximum=100, inclusive=True),
        metavar="PCT",
        help="exit 3 when coverage is below PCT percent",
    )
    sub.add_argument("--all", action="store_true", help="list covered resources too")
    sub.add_argument("--sandbox", action="store_true", help="audit fresh in-process sandboxes with a demo estate")
    sub.add_argument(
        "--fix", metavar="TEMPLATE", help="plan flow logs for what is uncovered, with a fleet file's settings"
    )
    sub.add_argument("--fix-output", metavar="PATH", help="write the fix's fleet file here (default: print it)")
    sub.add_argument("--force", action="store_true", help="let --fix-output replace an existing file")


def _plan_arguments(plan: argparse.ArgumentParser) -> None:
    """``plan --out`` (a saved plan for ``apply PLANFILE``), ``--adopt`` and ``--profile``."""
    plan.add_argument("--out", metavar="PLANFILE", help="save the plan here, for multiflow apply PLANFILE")
    plan.add_argument(
        "--adopt", action="store_true", help="also show which unmanaged flow logs multiflow adopt would take over"
    )
    _profile_argument(plan)


def _profile_argument(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="PROVIDER=NAME",
        help="a named profile of a provider's SDK configuration (aws=prod, alibaba=ops); repeatable",
    )


def profiles(given: Sequence[str]) -> dict[str, str]:
    """``--profile aws=prod --profile alibaba=ops``: the profile name per provider."""
    chosen: dict[str, str] = {}
    for item in given:
        provider, equals, name = (part.strip() for part in item.partition("="))
        if not equals or not provider or not name:
            raise MultiflowError(f"--profile {item!r}: PROVIDER=NAME, e.g. --profile aws=prod")
        if provider in chosen and chosen[provider] != name:
            raise MultiflowError(f"--profile {item!r}: {provider} already has profile {chosen[provider]!r}")
        chosen[provider] = name
    return chosen


def shard(text: str) -> str:
    """``--shard K/N``, checked as it is parsed (a usage error otherwise)."""
    from multiflow.accounts import Shard
    from multiflow.errors import SpecError

    try:
        return str(Shard.parse(text))
    except SpecError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc.allowed}") from None


def names(text: str) -> list[str]:
    """``--provider aws, alibaba``: the names, stripped, empty ones left out, in order."""
    return [name.strip() for name in text.split(",") if name.strip()]


def provider_regions(
    providers: Sequence[str], text: str, fallback: Callable[[str], list[str]] | None = None
) -> dict[str, list[str]]:
    """``--region``: each REGION applies to every provider, each PROVIDER:REGION to that provider only; a provider
    it names no region for takes ``fallback(provider)`` (its configured region) where given, else is an error."""
    regions: dict[str, list[str]] = {p: [] for p in providers}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        name, qualified, region = item.partition(":")
        if not qualified:
            for chosen in regions.values():
                chosen.append(item)
        elif name in regions and region:
            regions[name].append(region)
        else:
            raise MultiflowError(f"--region {item!r}: PROVIDER:REGION needs a provider among --provider {providers}")
    if fallback is not None:
        for name in [p for p, chosen in regions.items() if not chosen]:
            regions[name] = fallback(name)
    missing = [p for p, chosen in regions.items() if not chosen]
    if missing:
        raise MultiflowError(f"no region for {', '.join(missing)}: add --region REGION or PROVIDER:REGION")
    return {p: [r for r in dict.fromkeys(chosen) if r] for p, chosen in regions.items()}

"""Turn an audit's findings into a fleet that gives the uncovered resources a flow log (``multiflow audit --fix``).

The template is an ordinary fleet file (your own one will do): for each provider, its first entry lends its
settings (destination, traffic, interval, fields, tags...) and the file's ``defaults`` apply as usual; the
entry's ``regions`` and ``resources`` are ignored. The fix fleet has one entry per provider, region and kind with
the ids to cover, named ``<template entry>-<region>-<kind>``.

Only the highest uncovered level gets a flow log: an uncovered VPC gets one, and then its uncovered subnets and
ENIs need none of their own; likewise an uncovered subnet for its ENIs. A parent that has a flow log of its own
which does not count (stopped, other traffic...) is not relied on: its children get their own, and the plan shows
the parent as a conflict where the cloud refuses a second flow log.

The fleet gets a name of its own (``<template>-fix-<UTC time>``), so that applying it never deletes flow logs of
the template's fleet, nor those of an earlier fix.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import yaml

from multiflow.accounts import AccountSource
from multiflow.auditing import AuditReport, CoverageLevel, ResourceCoverage
from multiflow.errors import SpecError
from multiflow.fleet import Fleet, FleetEntry
from multiflow.plugins import get_provider
from multiflow.spec import ResourceKind
from multiflow.validate import effective_traffic, validate_fleet

__all__ = ["fix_fleet", "fix_targets", "fleet_yaml"]

_SHORT = {ResourceKind.VPC: "vpc", ResourceKind.SUBNET: "subnet", ResourceKind.NETWORK_INTERFACE: "eni"}
_NAME_MAX = 64


def fix_targets(report: AuditReport) -> dict[tuple[str, str, str, ResourceKind], list[str]]:
    """Uncovered resource ids to give a flow log, per (provider, account, region, kind): the highest level only."""
    fixed: set[tuple[str, str, str, str]] = set()
    targets: dict[tuple[str, str, str, ResourceKind], list[str]] = {}
    order = {ResourceKind.VPC: 0, ResourceKind.SUBNET: 1, ResourceKind.NETWORK_INTERFACE: 2}
    for found in sorted(report.uncovered, key=lambda r: (r.provider, r.account, r.region, order[r.kind], r.id)):
        parents = (found.resource.vpc_id, found.resource.subnet_id)
        if any((found.provider, found.account, found.region, p) in fixed for p in parents if p):
            continue
        targets.setdefault((found.provider, found.account, found.region, found.kind), []).append(found.id)
        if not _has_own(found):
            fixed.add((found.provider, found.account, found.region, found.id))
    return targets


def _has_own(found: ResourceCoverage) -> bool:
    return any(c.level is CoverageLevel.OWN for c, _ in found.rejected)


def fix_fleet(
    report: AuditReport,
    template: Fleet,
    *,
    name: str | None = None,
    accounts: Mapping[str, Sequence[AccountSource]] | None = None,
) -> Fleet | None:
    """A fleet that creates the flow logs ``report`` found missing, with ``template``'s settings; ``None`` when
    nothing is missing. Refuses (SpecError) a template that lacks an entry for a provider with uncovered
    resources, or whose settings would not meet the audit's criteria.

    Where the audit covered accounts (``accounts``, as given to it; else the template's), each entry is limited
    to its account (``accounts: [id]``) and the fleet keeps the account sources, so that it enters them again."""
    targets = fix_targets(report)
    if not targets:
        return None
    templates: dict[str, FleetEntry] = {}
    for entry in template.flow_logs:
        templates.setdefault(entry.provider, entry)
    entries: list[FleetEntry] = []
    for (provider, account, region, kind), ids in sorted(
        targets.items(), key=lambda item: (*item[0][:3], item[0][3].value)
    ):
        base = templates.get(provider)
        if base is None:
            raise SpecError(
                "fix template",
                template.source,
                f"an entry for each provider with uncovered resources (none for {provider})",
            )
        entry = FleetEntry.model_validate(
            {
                **base.model_dump(exclude_unset=True),
                "name": _entry_name(base.name, region, kind, account),
                "regions": [region],
                "resources": {"kind": kind, "ids": ids},
                **({"accounts": [account]} if account else {}),
            }
        )
        _check_meets(report, template, entry)
        entries.append(entry)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    sources = dict(accounts) if accounts else dict(template.accounts)
    fleet = Fleet(
        name=name or f"{template.name[:40]}-fix-{stamp}",
        accounts={p: list(v) for p, v in sources.items() if any(e.provider == p for e in entries)},
        defaults=template.defaults,
        flow_logs=entries,
        source=f"fix of {template.source}",
    )
    validate_fleet(fleet)
    return fleet


def _entry_name(base: str, region: str, kind: ResourceKind, account: str = "") -> str:
    suffix = f"-{account}-{region}-{_SHORT[kind]}" if account else f"-{region}-{_SHORT[kind]}"
    return base[: _NAME_MAX - len(suffix)] + suffix


def _check_meets(report: AuditReport, template: Fleet, entry: FleetEntry) -> None:
    """Refuse a template whose flow logs would not count by the audit's own criteria."""
    spec = template.spec_for(entry, list(entry.resources.ids or []))
    caps = get_provider(entry.provider).capabilities
    criteria = report.criteria
    why = criteria.traffic_refusal(effective_traffic(spec, caps)) or criteria.destination_refusal(spec.destination)
    if why:
        raise SpecError(
            "fix template",
            entry.provider,
            "an entry whose flow logs the audit would count",
            reason=f"its flow logs {why}",
        )


def fleet_yaml(fleet: Fleet, header: str | None = None) -> str:
    """``fleet`` as a fleet file (what ``multiflow apply`` reads), with ``header`` as a comment on top."""
    data = fleet.model_dump(mode="json", exclude_unset=True, exclude={"source"})
    data["name"] = fleet.name
    if not data.get("defaults"):
        data.pop("defaults", None)
    first = ("name", "provider", "regions", "resources")
    data["flow_logs"] = [
        {**{k: e[k] for k in first if k in e}, **{k: v for k, v in e.items() if k not in first}}
        for e in data["flow_logs"]
    ]
    if not data.get("accounts"):
        data.pop("accounts", None)
    data = {k: data[k] for k in ("name", "accounts", "defaults", "flow_logs") if k in data}
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)
    if header:
        text = "".join(f"# {line}\n" for line in header.splitlines()) + text
    return text

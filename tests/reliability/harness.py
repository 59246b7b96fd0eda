"""Seeded fault trials: apply a two-cloud fleet through faulty endpoints, then read the clouds directly.

One trial (:func:`run_trial`):

1. a seeded RNG builds an estate on both sandboxes (AWS: VPCs and subnets in two regions of moto; Alibaba: VPCs,
   vSwitches and ENIs in two regions of a fresh emulator), flow logs multiflow does not manage (made by hand, or
   by another fleet; some block a wanted resource), and a fleet file of five entries (selectors and ids);
2. faults are switched on, about 20% of calls on each cloud: throttling, 5xx, connections dropped before the call
   was handled or after (the state changed, the answer is lost), unreadable answers, and added latency. AWS calls
   go through a :class:`~multiflow_aws.fault_proxy.FaultProxy` in front of moto; Alibaba calls meet the
   emulator's own fault injection;
3. the fleet is applied as an operator would: plan and apply with fresh connections, rerun until apply reports ok
   (at most ``max_rounds`` times); then the fleet changes (intervals, traffic, tags, prefixes, ids, an entry
   dropped or renamed, resources retagged or added) and is applied again the same way; every other trial ends
   with a destroy;
4. after each phase, with faults off, each cloud is read directly (boto3 against moto, the emulator's own state):
   every wanted resource has exactly one flow log of this fleet with the wanted settings, active; no duplicate;
   no orphan (a flow log of this fleet that is not wanted); nothing missing; the flow logs multiflow does not
   manage are untouched; and a fresh plan has nothing left to do.

The seed fixes the estate, the fleets and the fault rates; which call meets which fault also depends on how the
threads of a run interleave, so two runs of one seed inject similar, not identical, faults. Trials run several at
a time (:func:`run_campaign`), each in its own pair of AWS regions and with its own fleet name; moto is not reset
between them, so each trial looks only at the resources it made, and deletes them when it is done.
"""

from __future__ import annotations

import contextlib
import copy
import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import yaml

import multiflow
from multiflow.client import Connections
from multiflow.errors import MultiflowError
from multiflow_alibaba.sandbox_support import connect_options as alibaba_options
from multiflow_alibaba_emulator import AlibabaEmulator, ApiError, Faults
from multiflow_aws.fault_proxy import FaultProxy
from multiflow_aws.sandbox import AwsSandbox

__all__ = ["CountingFaults", "TrialResult", "run_campaign", "run_trial", "summarize"]

#: AWS region pairs, one per worker: trials that run at once share moto but never a region (moto is not reset
#: between trials; each trial's fleet has its own name and its checks look only at the resources it made).
AWS_REGION_PAIRS = (
    ("us-east-1", "eu-west-1"),
    ("us-west-2", "eu-central-1"),
    ("ap-southeast-1", "ap-northeast-1"),
    ("us-east-2", "eu-west-2"),
    ("ca-central-1", "sa-east-1"),
    ("ap-south-1", "eu-north-1"),
)
ALI_REGIONS = ("cn-hangzhou", "cn-shanghai")
PROJECT = "mf-trials"
ALI_KEY_ID = "LTAI5tReliabilityTrial01"
ALI_SECRET = "reliability-trials-not-a-secret"
MAX_ROUNDS = 8
APPLY_TIMEOUT = 60.0
#: Fault rates at a total of 20% per cloud; scaled by ``fault_rate / 0.2``.
AWS_RATES = {
    "throttle_rate": 0.05,
    "server_error_rate": 0.05,
    "drop_rate": 0.04,
    "lost_response_rate": 0.04,
    "garbage_rate": 0.02,
}
#: The emulator draws each of these independently (the proxy draws one of its kinds): a little more each, for
#: about the same 20%.
ALI_RATES = {
    "throttle_rate": 0.06,
    "server_error_rate": 0.06,
    "drop_rate": 0.045,
    "lost_response_rate": 0.045,
    "malformed_rate": 0.02,
}
LATENCY_RATE, LATENCY = 0.1, 0.05
#: Record fields the AWS entries may ask for, with the LogFormat AWS then describes.
AWS_FIELDS = (
    (["version", "src_addr", "dst_addr", "action"], "${version} ${srcaddr} ${dstaddr} ${action}"),
    (
        ["interface_id", "src_port", "dst_port", "log_status", "flow_direction"],
        "${interface-id} ${srcport} ${dstport} ${log-status} ${flow-direction}",
    ),
)
ALI_TRAFFIC = {"all": "All", "accept": "Allow", "reject": "Drop"}


class CountingFaults(Faults):
    """The emulator's fault injection, counted by kind, with latency on a share of calls rather than on all."""

    def __init__(self, *, seed: int, latency_rate: float = 0.0, latency: float = 0.0, **rates: Any) -> None:
        super().__init__(seed=seed, **rates)
        self.latency_rate = latency_rate
        self.latency = latency
        self.injected: Counter[str] = Counter()
        self._own_rng = random.Random(seed + 1)
        self._count_lock = threading.Lock()

    def _note(self, kind: str, hit: bool = True) -> bool:
        if hit:
            with self._count_lock:
                self.injected[kind] += 1
        return hit

    def latency_for(self, action: str) -> float:
        with self._count_lock:
            hit = self.latency_rate > 0 and self._own_rng.random() < self.latency_rate
        return self.latency if self._note("latency", hit) else 0.0

    def drop(self, action: str) -> bool:
        return self._note("drop", super().drop(action))

    def lose_response(self, action: str) -> bool:
        return self._note("lost_response", super().lose_response(action))

    def malform(self, action: str) -> bool:
        return self._note("garbage", super().malform(action))

    def check(self, action: str) -> None:
        try:
            super().check(action)
        except ApiError as exc:
            self._note("throttle" if "Throttling" in exc.code else "server_error")
            raise

    def switch(self, on: bool, scale: float) -> None:
        """Turn the random faults on (at ``scale`` times :data:`ALI_RATES`) or off."""
        for name, rate in ALI_RATES.items():
            setattr(self, name, rate * scale if on else 0.0)
        self.latency_rate = LATENCY_RATE * scale if on else 0.0


# -- the estate ---------------------------------------------------------------------------------------------------


@dataclass
class Resource:
    """One VPC, subnet/vSwitch or ENI the trial made, with its tags (kept in step with the cloud)."""

    provider: str
    region: str
    kind: str
    id: str
    tags: dict[str, str]


@dataclass
class Estate:
    """Everything a trial made on both clouds."""

    fleet: str
    aws_regions: tuple[str, str]
    bucket: str
    resources: list[Resource] = field(default_factory=list)

    def select(self, provider: str, region: str, kind: str, selector: dict[str, Any]) -> list[str]:
        """The ids a fleet entry's ``resources`` selects, worked out from the trial's own records."""
        if "ids" in selector:
            return list(selector["ids"])
        wanted = {k[4:]: v for k, v in selector["where"].items()}
        return [
            r.id
            for r in self.resources
            if (r.provider, r.region, r.kind) == (provider, region, kind)
            and all(key in r.tags and (value == "*" or r.tags[key] == value) for key, value in wanted.items())
        ]

    def of(self, provider: str, region: str, kind: str) -> list[Resource]:
        return [r for r in self.resources if (r.provider, r.region, r.kind) == (provider, region, kind)]


def _build_estate(
    rng: random.Random, aws: AwsSandbox, emu: AlibabaEmulator, seed: int, regions: tuple[str, str]
) -> Estate:
    estate = Estate(fleet=f"trials-{seed}", aws_regions=regions, bucket=f"mf-trial-{seed}")
    with contextlib.suppress(Exception):  # a rerun of the seed in one process finds it there
        aws.create_bucket(estate.bucket)
    for region in regions:
        ec2 = aws.client("ec2", region)
        for n in range(rng.randint(5, 9)):
            env = rng.choice(("prod", "prod", "dev"))
            vpc = ec2.create_vpc(
                CidrBlock="10.0.0.0/16",
                TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "env", "Value": env}]}],
            )["Vpc"]["VpcId"]
            estate.resources.append(Resource("aws", region, "vpc", vpc, {"env": env}))
            for m in range(rng.randint(0, 2)):
                subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n * 4 + m}.0/24")["Subnet"]["SubnetId"]
                estate.resources.append(Resource("aws", region, "subnet", subnet, {}))
    emu.add_account(ALI_KEY_ID, ALI_SECRET, account_id="3141592653")
    for region in ALI_REGIONS:
        for logstore in ("vswitches", "vpcs", "enis", "manual"):
            emu.add_logstore(region, PROJECT, logstore)
        for _ in range(rng.randint(3, 5)):
            env = rng.choice(("prod", "prod", "dev"))
            vpc = emu.add_vpc(region, tags={"env": env})
            estate.resources.append(Resource("alibaba", region, "vpc", vpc, {"env": env}))
            for _ in range(rng.randint(1, 3)):
                vsw_env = rng.choice(("prod", "dev"))
                vsw = emu.add_vswitch(region, vpc, tags={"env": vsw_env})
                estate.resources.append(Resource("alibaba", region, "subnet", vsw, {"env": vsw_env}))
                if region == ALI_REGIONS[0] and rng.random() < 0.6:
                    tags = {"role": "app"} if rng.random() < 0.7 else {}
                    eni = emu.add_network_interface(region, vsw, tags=tags)
                    estate.resources.append(Resource("alibaba", region, "network_interface", eni, tags))
    return estate


# -- flow logs multiflow does not manage --------------------------------------------------------------------------


@dataclass(frozen=True)
class Unmanaged:
    """A flow log made outside this fleet (by hand, or by another fleet): it must survive every phase as it was."""

    provider: str
    region: str
    id: str
    resource_id: str
    destination: str


def _make_unmanaged(rng: random.Random, aws: AwsSandbox, emu: AlibabaEmulator, estate: Estate) -> list[Unmanaged]:
    made: list[Unmanaged] = []
    region = estate.aws_regions[0]
    ec2 = aws.client("ec2", region)
    vpcs = estate.of("aws", region, "vpc")
    # By hand, to another prefix of the bucket: beside whatever the fleet wants there.
    for prefix, owner in (("manual/", None), ("vpcs/", "another-fleet")):
        target = rng.choice(vpcs)
        tags = (
            [{"Key": "multiflow:managed", "Value": owner}, {"Key": "multiflow:spec", "Value": "x@0"}] if owner else []
        )
        destination = f"arn:aws:s3:::{estate.bucket}/{prefix}"
        answer = ec2.create_flow_logs(
            ResourceIds=[target.id],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="s3",
            LogDestination=destination,
            **({"TagSpecifications": [{"ResourceType": "vpc-flow-log", "Tags": tags}]} if tags else {}),
        )
        made += [Unmanaged("aws", region, i, target.id, destination) for i in answer["FlowLogIds"]]
    # Alibaba: one flow log per resource, so these block the fleet wherever it wants the same resource.
    client = multiflow.connect("alibaba", region=ALI_REGIONS[0], **alibaba_options(emu, ALI_KEY_ID, rate_limit=None))
    try:
        for kind in ("subnet", "network_interface"):
            candidates = estate.of("alibaba", ALI_REGIONS[0], kind)
            if not candidates:
                continue
            target = rng.choice(candidates)
            spec = multiflow.FlowLogSpec(
                resources={"kind": kind, "ids": [target.id]},
                destination={"kind": "sls", "project": PROJECT, "logstore": "manual"},
            )
            extra = {"multiflow:managed": "another-fleet"} if kind == "network_interface" else {}
            [flow_log] = client.create(spec, wait=False, extra_tags=extra)
            made.append(Unmanaged("alibaba", ALI_REGIONS[0], flow_log.id, target.id, f"{PROJECT}/manual"))
    finally:
        client.close()
    return made


# -- fleets -------------------------------------------------------------------------------------------------------


def _first_fleet(rng: random.Random, estate: Estate) -> dict[str, Any]:
    def some(resources: list[Resource]) -> list[str]:
        ids = [r.id for r in resources]
        return rng.sample(ids, k=rng.randint(1, len(ids))) if ids else []

    bucket = f"arn:aws:s3:::{estate.bucket}"
    entries: list[dict[str, Any]] = [
        {
            "name": "aws-prod-vpcs",
            "provider": "aws",
            "regions": list(estate.aws_regions),
            "resources": {"kind": "vpc", "where": {"tag:env": "prod"}},
            "destination": {"kind": "s3", "bucket": bucket, "prefix": "vpcs/"},
            "interval": rng.choice((60, 600)),
            "traffic": rng.choice(("all", "accept", "reject")),
        },
        {
            "name": "ali-prod-vswitches",
            "provider": "alibaba",
            "regions": list(ALI_REGIONS),
            "resources": {"kind": "subnet", "where": {"tag:env": "prod"}},
            "destination": {"kind": "sls", "project": PROJECT, "logstore": "vswitches"},
            "interval": rng.choice((60, 300, 600)),
        },
        {
            "name": "ali-app-enis",
            "provider": "alibaba",
            "regions": [ALI_REGIONS[0]],
            "resources": {"kind": "network_interface", "where": {"tag:role": "app"}},
            "destination": {"kind": "sls", "project": PROJECT, "logstore": "enis"},
            "traffic": rng.choice(("all", "reject")),
        },
    ]
    subnets = some(estate.of("aws", estate.aws_regions[0], "subnet"))
    if subnets:
        fields, _ = rng.choice(AWS_FIELDS)
        entries.append(
            {
                "name": "aws-subnets",
                "provider": "aws",
                "regions": [estate.aws_regions[0]],
                "resources": {"kind": "subnet", "ids": subnets},
                "destination": {"kind": "s3", "bucket": bucket, "prefix": "subnets/"},
                "fields": fields,
                "tags": {"tier": "web"},
            }
        )
    vpcs = some(estate.of("alibaba", ALI_REGIONS[0], "vpc"))
    entries.append(
        {
            "name": "ali-vpcs",
            "provider": "alibaba",
            "regions": [ALI_REGIONS[0]],
            "resources": {"kind": "vpc", "ids": vpcs},
            "destination": {"kind": "sls", "project": PROJECT, "logstore": "vpcs"},
            "description": "every VPC we were asked for",
        }
    )
    rng.shuffle(entries)
    return {
        "name": estate.fleet,
        "defaults": {"traffic": "all", "interval": 600, "tags": {"team": "netops"}},
        "flow_logs": entries,
    }


def _second_fleet(
    rng: random.Random, first: dict[str, Any], estate: Estate, aws: AwsSandbox, emu: AlibabaEmulator
) -> tuple[dict[str, Any], list[str]]:
    """The fleet changed (and the estate too), as a team would between two applies; returns what changed."""
    fleet = copy.deepcopy(first)
    entries: list[dict[str, Any]] = fleet["flow_logs"]
    changes: list[str] = []
    moves = ["interval", "traffic", "tags", "prefix", "description", "ids", "drop", "rename", "retag", "add"]
    for move in rng.sample(moves, k=rng.randint(2, 5)):
        entry = rng.choice(entries)
        aws_entry = entry["provider"] == "aws"
        if move == "interval":
            allowed = (60, 600) if aws_entry else (60, 300, 600)
            entry["interval"] = rng.choice([i for i in allowed if i != entry.get("interval", 600)])
        elif move == "traffic":
            entry["traffic"] = rng.choice([t for t in ("all", "accept", "reject") if t != entry.get("traffic", "all")])
        elif move == "tags":
            entry["tags"] = {**entry.get("tags", {}), "changed": str(rng.randint(1, 99))}
        elif move == "prefix" and aws_entry:
            entry["destination"] = {**entry["destination"], "prefix": entry["destination"]["prefix"].rstrip("/") + "2/"}
        elif move == "description" and not aws_entry:
            entry["description"] = f"changed {rng.randint(1, 99)}"
        elif move == "ids" and "ids" in entry["resources"]:
            kind = entry["resources"]["kind"]
            pool = [r.id for r in estate.of(entry["provider"], entry["regions"][0], kind)]
            entry["resources"] = {"kind": kind, "ids": rng.sample(pool, k=rng.randint(1, len(pool)))}
        elif move == "drop" and len(entries) > 2 and _still_named(entry, [e for e in entries if e is not entry]):
            entries.remove(entry)
        elif move == "rename":
            entry["name"] = entry["name"] + "-v2"
        elif move == "retag":
            _retag_aws(rng, estate, aws)
        elif move == "add":
            region = rng.choice(ALI_REGIONS)
            vpc = rng.choice(estate.of("alibaba", region, "vpc"))
            vsw = emu.add_vswitch(region, vpc.id, tags={"env": "prod"})
            estate.resources.append(Resource("alibaba", region, "subnet", vsw, {"env": "prod"}))
        else:
            continue
        changes.append(f"{move} {entry['name']}")
    return fleet, changes


def _still_named(entry: dict[str, Any], others: list[dict[str, Any]]) -> bool:
    """Whether every (provider, region) of ``entry`` is named by another entry too.

    Plan reads only the regions a fleet file names (docs/fleet.md), so dropping the last entry of a region would
    leave its flow logs unseen: the trials keep to that documented scope (docs/reliability.md says more).
    """
    named = {(e["provider"], r) for e in others for r in e["regions"]}
    return all((entry["provider"], r) in named for r in entry["regions"])


def _retag_aws(rng: random.Random, estate: Estate, aws: AwsSandbox) -> None:
    """Flip the env tag of a few AWS VPCs: the prod selector gains some and loses others."""
    for resource in rng.sample(estate.of("aws", estate.aws_regions[1], "vpc"), k=2):
        resource.tags["env"] = "dev" if resource.tags["env"] == "prod" else "prod"
        aws.client("ec2", resource.region).create_tags(
            Resources=[resource.id], Tags=[{"Key": "env", "Value": resource.tags["env"]}]
        )


# -- reading the clouds directly ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """A flow log as a cloud holds it, read without multiflow."""

    provider: str
    region: str
    id: str
    resource_id: str
    destination: str
    settings: tuple[tuple[str, Any], ...]
    tags: tuple[tuple[str, str], ...]

    @property
    def tag(self) -> dict[str, str]:
        return dict(self.tags)


def _read_clouds(aws: AwsSandbox, emu: AlibabaEmulator, estate: Estate) -> list[Seen]:
    """Every flow log on the trial's own resources (moto also holds other trials')."""
    seen: list[Seen] = []
    for region in estate.aws_regions:
        for r in aws.client("ec2", region).describe_flow_logs()["FlowLogs"]:
            tags = {t["Key"]: t.get("Value", "") for t in r.get("Tags", [])}
            settings = {
                "traffic": r.get("TrafficType"),
                "interval": r.get("MaxAggregationInterval"),
                "log_format": r.get("LogFormat"),
                "status": r.get("FlowLogStatus"),
            }
            seen.append(
                Seen(
                    "aws",
                    region,
                    r["FlowLogId"],
                    r["ResourceId"],
                    r.get("LogDestination", ""),
                    tuple(sorted(settings.items())),
                    tuple(sorted(tags.items())),
                )
            )
    for r in emu.flow_logs():
        tags = {t["Key"]: t["Value"] for t in r["Tags"]["Tag"]}
        settings = {
            "traffic": r["TrafficType"],
            "interval": int(r["AggregationInterval"]) * 60,
            "name": r["FlowLogName"] or None,
            "description": r["Description"] or None,
            "status": r["Status"],
        }
        seen.append(
            Seen(
                "alibaba",
                r["RegionId"],
                r["FlowLogId"],
                r["ResourceId"],
                f"{r['ProjectName']}/{r['LogStoreName']}",
                tuple(sorted(settings.items())),
                tuple(sorted(tags.items())),
            )
        )
    mine = {r.id for r in estate.resources}
    return [s for s in seen if s.resource_id in mine]


@dataclass
class Findings:
    """What the direct read found wrong; every list must be empty."""

    duplicates: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    unmanaged_touched: list[str] = field(default_factory=list)
    plan_pending: list[str] = field(default_factory=list)
    wanted: int = 0

    @property
    def clean(self) -> bool:
        return not (
            self.duplicates or self.orphans or self.missing or self.wrong or self.unmanaged_touched or self.plan_pending
        )


def _merged(fleet: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    merged = {**fleet["defaults"], **entry}
    merged["tags"] = {**fleet["defaults"].get("tags", {}), **entry.get("tags", {})}
    return merged


def _expected(entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(destination, settings) a flow log of this entry must have, as the cloud spells them."""
    if entry["provider"] == "aws":
        destination = f"{entry['destination']['bucket']}/{entry['destination']['prefix']}"
        fmt = dict((tuple(f), s) for f, s in AWS_FIELDS).get(tuple(entry.get("fields") or ()))
        return destination, {
            "traffic": entry["traffic"].upper(),
            "interval": entry["interval"],
            "status": "ACTIVE",
            **({"log_format": fmt} if fmt else {}),
        }
    destination = f"{entry['destination']['project']}/{entry['destination']['logstore']}"
    return destination, {
        "traffic": ALI_TRAFFIC[entry["traffic"]],
        "interval": entry["interval"],
        "name": entry["name"],
        "description": entry.get("description"),
        "status": "Active",
    }


def check_clouds(
    fleet: dict[str, Any] | None, estate: Estate, unmanaged: list[Unmanaged], aws: AwsSandbox, emu: AlibabaEmulator
) -> Findings:
    """Compare both clouds, read directly, with what ``fleet`` wants (``None``: nothing, after a destroy)."""
    findings = Findings()
    seen = _read_clouds(aws, emu, estate)
    by_id = {s.id: s for s in seen}
    for u in unmanaged:
        now = by_id.get(u.id)
        if now is None or now.resource_id != u.resource_id or now.destination != u.destination:
            findings.unmanaged_touched.append(f"{u.provider} {u.id} on {u.resource_id}")
    keep = {u.id for u in unmanaged}
    # Duplicates: two flow logs where the cloud should hold one (AWS: per resource and destination; Alibaba: per
    # resource), whoever made them.
    slots: Counter[tuple[str, str, str]] = Counter(
        (s.provider, s.resource_id, s.destination if s.provider == "aws" else "") for s in seen
    )
    findings.duplicates += [f"{p} {r} {d}".strip() for (p, r, d), n in slots.items() if n > 1]
    ours = [s for s in seen if s.tag.get("multiflow:managed") == estate.fleet]
    wanted: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for entry in (fleet or {}).get("flow_logs", []):
        merged = _merged(fleet or {}, entry)
        for region in entry["regions"]:
            for resource_id in estate.select(entry["provider"], region, entry["resources"]["kind"], entry["resources"]):
                wanted[(entry["provider"], region, entry["name"], resource_id)] = merged
    blocked = {
        (s.provider, s.region, s.resource_id, s.destination)
        for s in seen
        if s.id in keep or s.tag.get("multiflow:managed") != estate.fleet
    }
    findings.wanted = len(wanted)
    matched: set[str] = set()
    for (provider, region, name, resource_id), entry in wanted.items():
        destination, settings = _expected(entry)
        mine = [
            s
            for s in ours
            if (s.provider, s.region, s.resource_id) == (provider, region, resource_id)
            and s.tag.get("multiflow:spec", "").partition("@")[0] == name
        ]
        blocker = any(
            (p, r, res) == (provider, region, resource_id) and (provider == "alibaba" or d == destination)
            for p, r, res, d in blocked
        )
        if blocker:
            if mine:
                findings.wrong.append(f"{provider} {resource_id}: made a flow log beside one it may not touch")
            continue
        if not mine:
            findings.missing.append(f"{provider} {region} {name} {resource_id}")
            continue
        if len(mine) > 1:
            findings.duplicates.append(f"{provider} {region} {name} {resource_id}: {[s.id for s in mine]}")
        for s in mine:
            matched.add(s.id)
            have = dict(s.settings)
            diffs = [f"{k}={have.get(k)!r} not {v!r}" for k, v in settings.items() if have.get(k) != v]
            if s.destination != destination:
                diffs.append(f"destination {s.destination} not {destination}")
            user = {k: v for k, v in s.tag.items() if not k.startswith("multiflow:") and k != "Name"}
            if user != entry["tags"]:
                diffs.append(f"tags {user} not {entry['tags']}")
            if provider == "aws" and s.tag.get("Name") != name:
                diffs.append(f"Name {s.tag.get('Name')!r} not {name!r}")
            if diffs:
                findings.wrong.append(f"{provider} {s.id} on {resource_id}: {'; '.join(diffs)}")
    findings.orphans += [f"{s.provider} {s.region} {s.id} on {s.resource_id}" for s in ours if s.id not in matched]
    return findings


# -- a trial ----------------------------------------------------------------------------------------------------------


@dataclass
class TrialResult:
    """What one trial did and found."""

    seed: int
    phases: list[str] = field(default_factory=list)
    rounds: list[int | None] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    findings: list[Findings] = field(default_factory=list)
    round_failures: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def converged(self) -> bool:
        return bool(self.rounds) and all(r is not None for r in self.rounds)

    @property
    def ok(self) -> bool:
        return self.converged and not self.unexpected and all(f.clean for f in self.findings)

    def problems(self) -> list[str]:
        """Everything wrong, one line each (empty when ok)."""
        lines = [f"unexpected exception: {u}" for u in self.unexpected]
        lines += [
            f"phase {p} did not converge in {MAX_ROUNDS} rounds"
            for p, r in zip(self.phases, self.rounds, strict=True)
            if r is None
        ]
        for phase, found in zip(self.phases, self.findings, strict=True):
            for name in ("duplicates", "orphans", "missing", "wrong", "unmanaged_touched", "plan_pending"):
                lines += [f"{phase}: {name}: {item}" for item in getattr(found, name)]
        return lines


@contextmanager
def _faults_off(proxy: FaultProxy, faults: CountingFaults, scale: float) -> Iterator[None]:
    saved = {name: getattr(proxy, name) for name in (*AWS_RATES, "latency_rate")}
    proxy.reset()
    faults.switch(False, scale)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(proxy, name, value)
        faults.switch(True, scale)


def run_trial(
    seed: int,
    aws: AwsSandbox,
    *,
    regions: tuple[str, str] = AWS_REGION_PAIRS[0],
    fault_rate: float = 0.2,
    max_rounds: int = MAX_ROUNDS,
    destroy: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> TrialResult:
    """One seeded trial (see the module docstring) in two AWS ``regions`` of the started sandbox ``aws``."""
    started = time.monotonic()
    rng = random.Random(seed)
    result = TrialResult(seed)
    scale = fault_rate / 0.2
    faults = CountingFaults(seed=seed, latency=LATENCY, retry_after_ms=50)
    emu = AlibabaEmulator(activation_delay=rng.uniform(0.02, 0.3), deletion_delay=rng.uniform(0.02, 0.2), faults=faults)
    with emu:
        estate = _build_estate(rng, aws, emu, seed, regions)
        unmanaged = _make_unmanaged(rng, aws, emu, estate)
        proxy = aws.fault_proxy(seed=seed, latency=LATENCY, latency_rate=LATENCY_RATE * scale)
        for name, rate in AWS_RATES.items():
            setattr(proxy, name, rate * scale)
        faults.switch(True, scale)
        emu.reset_calls()
        # One boto3 session for the trial's clients: each fresh one would load EC2's service model again.
        boto3_session = boto3.Session(**_aws_keys(aws))

        def options(provider: str, region: str) -> dict[str, Any]:
            if provider == "aws":
                return {
                    "endpoint_url": proxy.endpoint_url,
                    "boto3_session": boto3_session,
                    "read_timeout": 5,
                    "connect_timeout": 2,
                }
            return alibaba_options(
                emu, ALI_KEY_ID, rate_limit=None, retry_timeout=10, read_timeout=5, connect_timeout=2, settle_timeout=30
            )

        fleet: dict[str, Any] = _first_fleet(rng, estate)
        phases = ["apply", "change"] + (["destroy"] if (destroy if destroy is not None else seed % 2 == 0) else [])
        for phase in phases:
            if phase == "change":  # the team changes the file, and the estate changes under it
                fleet, result.changes = _second_fleet(rng, fleet, estate, aws, emu)
            text = yaml.safe_dump(fleet, sort_keys=False)
            gone = phase == "destroy"
            rounds = _converge(text, options, destroy=gone, max_rounds=max_rounds, result=result, phase=phase)
            result.phases.append(phase)
            result.rounds.append(rounds)
            with _faults_off(proxy, faults, scale):
                found = check_clouds(None if gone else fleet, estate, unmanaged, aws, emu)
                found.plan_pending = _pending(text, boto3_session, aws, emu, destroy=gone)
            result.findings.append(found)
            if log:
                log(f"seed {seed} {phase}: rounds={rounds} wanted={found.wanted} clean={found.clean}")
        result.faults.update({f"aws:{k}": v for k, v in proxy.injected.items()})
        result.faults.update({f"alibaba:{k}": v for k, v in faults.injected.items()})
        result.calls.update({"aws": sum(proxy.calls.values()), "alibaba": sum(emu.calls.values())})
        proxy.stop()
        _clean_up_aws(aws, estate)
    result.elapsed = time.monotonic() - started
    return result


def _clean_up_aws(aws: AwsSandbox, estate: Estate) -> None:
    """Delete what the trial made in moto (which is not reset between trials), so later trials stay as quick."""
    mine = {r.id for r in estate.resources if r.provider == "aws"}
    for region in estate.aws_regions:
        ec2 = aws.client("ec2", region)
        flow_logs = [f["FlowLogId"] for f in ec2.describe_flow_logs()["FlowLogs"] if f["ResourceId"] in mine]
        if flow_logs:
            ec2.delete_flow_logs(FlowLogIds=flow_logs)
        for resource in estate.of("aws", region, "subnet"):
            ec2.delete_subnet(SubnetId=resource.id)
        for resource in estate.of("aws", region, "vpc"):
            ec2.delete_vpc(VpcId=resource.id)


def _aws_keys(aws: AwsSandbox) -> dict[str, str]:
    options = aws.connect_options()
    return {k: options[k] for k in ("aws_access_key_id", "aws_secret_access_key")}


def run_campaign(
    seeds: list[int],
    aws: AwsSandbox,
    *,
    workers: int = 4,
    fault_rate: float = 0.2,
    on_result: Callable[[TrialResult], None] | None = None,
) -> list[TrialResult]:
    """Trials for ``seeds`` on ``workers`` threads at once (each worker in its own pair of AWS regions)."""
    workers = max(1, min(workers, len(AWS_REGION_PAIRS), len(seeds)))
    queue = list(seeds)
    lock = threading.Lock()
    results: list[TrialResult] = []

    def worker(regions: tuple[str, str]) -> None:
        while True:
            with lock:
                if not queue:
                    return
                seed = queue.pop(0)
            result = run_trial(seed, aws, regions=regions, fault_rate=fault_rate)
            with lock:
                results.append(result)
                if on_result:
                    on_result(result)

    threads = [threading.Thread(target=worker, args=(AWS_REGION_PAIRS[w],), daemon=True) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results, key=lambda r: r.seed)


def _converge(
    text: str,
    options: Callable[[str, str], dict[str, Any]],
    *,
    destroy: bool,
    max_rounds: int,
    result: TrialResult,
    phase: str,
) -> int | None:
    """Plan and apply (fresh connections each time, as a rerun of the CLI) until apply is ok; the rounds used."""
    fleet = multiflow.fleet.loads(text, source=f"seed-{result.seed}.yaml")
    for round_number in range(1, max_rounds + 1):
        try:
            with Connections(options) as connections:
                plan = multiflow.plan(fleet, connections, destroy=destroy)
                applied = multiflow.apply(plan, connections, timeout=APPLY_TIMEOUT)
            if applied.ok:
                return round_number
            result.round_failures += [
                f"{phase} round {round_number}: {f.change.action.value} {f.change.resource_id}: "
                f"{type(f.error).__name__} {getattr(f.error, 'code', '')}"
                for f in applied.failed
            ]
        except MultiflowError as exc:
            result.round_failures.append(f"{phase} round {round_number}: {type(exc).__name__}: {exc}")
        except Exception:  # a bug: anything but a MultiflowError escaping plan or apply
            result.unexpected.append(traceback.format_exc())
    return None


def _pending(text: str, boto3_session: Any, aws: AwsSandbox, emu: AlibabaEmulator, *, destroy: bool) -> list[str]:
    """What a fresh plan, fault-free, would still change (must be nothing)."""

    def options(provider: str, region: str) -> dict[str, Any]:
        if provider == "aws":
            return {"endpoint_url": aws.endpoint_url, "boto3_session": boto3_session}
        return alibaba_options(emu, ALI_KEY_ID, rate_limit=None)

    fleet = multiflow.fleet.loads(text)
    with Connections(options) as connections:
        plan = multiflow.plan(fleet, connections, destroy=destroy)
        return [f"{c.action.value} {c.provider} {c.resource_id}: {'; '.join(c.reasons)}" for c in plan.pending]


def summarize(results: list[TrialResult]) -> dict[str, Any]:
    """The figures docs/reliability.md records, from a list of trials."""
    faults: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    for r in results:
        faults.update(r.faults)
        calls.update(r.calls)
    by_kind: Counter[str] = Counter()
    for key, n in faults.items():
        by_kind[key.split(":", 1)[1]] += n
    failing = {k: v for k, v in faults.items() if not k.endswith(":latency")}
    rounds = [n for r in results for n in r.rounds if n is not None]
    return {
        "trials": len(results),
        "ok": sum(r.ok for r in results),
        "phases": sum(len(r.phases) for r in results),
        "calls": dict(calls),
        "faults_injected": sum(faults.values()),
        "failed_calls_injected": sum(failing.values()),
        "faults_by_kind": dict(sorted(by_kind.items())),
        "faults_by_cloud_and_kind": dict(sorted(faults.items())),
        "failed_call_share": {
            cloud: round(sum(v for k, v in failing.items() if k.startswith(cloud + ":")) / max(1, calls[cloud]), 3)
            for cloud in ("aws", "alibaba")
        },
        "flow_logs_wanted": sum(f.wanted for r in results for f in r.findings),
        "duplicates": sum(len(f.duplicates) for r in results for f in r.findings),
        "orphans": sum(len(f.orphans) for r in results for f in r.findings),
        "missing": sum(len(f.missing) for r in results for f in r.findings),
        "wrong": sum(len(f.wrong) for r in results for f in r.findings),
        "unmanaged_touched": sum(len(f.unmanaged_touched) for r in results for f in r.findings),
        "unexpected_exceptions": sum(len(r.unexpected) for r in results),
        "not_converged": sum(r.rounds.count(None) for r in results),
        "rounds": dict(sorted(Counter(rounds).items())),
        "seconds": round(sum(r.elapsed for r in results), 1),
    }

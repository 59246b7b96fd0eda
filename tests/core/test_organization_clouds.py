"""Organizations end to end on both real sandboxes at once: moto's AWS Organization (members entered by
sts:AssumeRole into OrganizationAccountAccessRole) and the Alibaba emulator's Resource Directory (members entered
by STS AssumeRole into ResourceDirectoryAccountAccessRole), through the official SDKs over loopback HTTP.

One fleet covers both organizations: applied and re-planned to nothing, each change in its account and each
member's flow logs made with the member's own credentials; a new member on each cloud picked up; a member on each
cloud whose role cannot be assumed reported with the cloud's code while the others converge; an excluded account
and a dropped region swept; ``--shard K/4`` over both organizations covering every account once, and
``multiflow merge`` of the four outputs equal to the unsharded plan.

The sandboxes are started once for the module (moto builds each account's region the first time it is asked
about it, a fraction of a second each): every test has a fleet of its own name and selector tag, so what one
test made is no other test's, and each test reads the organizations as they are when it starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import multiflow
from multiflow import sandbox
from multiflow.cli import main
from multiflow.client import Connections
from multiflow.planning import Action, Plan
from multiflow.provider import Sandbox
from multiflow.scope import resolve

pytestmark = pytest.mark.slow

AWS_REGIONS = ("us-east-1", "eu-west-1")
ALI_REGIONS = ("cn-hangzhou", "cn-shanghai")
#: The AWS regions every sandbox account has enabled here (the fleet's two and one more, only ever swept).
AWS_ENABLED = frozenset({*AWS_REGIONS, "us-west-2"})
#: The Alibaba sandbox's prod folder (its sub-folder prod-eu is walked too); the dev folder holds dev-legacy,
#: the member without the access role.
PROD_FOLDER = "fd-demoprod01"
PROD_FOLDERS = frozenset({PROD_FOLDER, "fd-demoprodeu"})
DEV_LEGACY = "1234567890000004"
PROD_EU = "1234567890000002"


def fleet_text(
    name: str,
    *,
    aws_org: str = "{}",
    ali_org: str = f"{{folders: [{PROD_FOLDER}]}}",
    aws_regions: tuple[str, ...] = AWS_REGIONS,
    ali_regions: tuple[str, ...] = ALI_REGIONS,
    sweep: str | None = "named",
    aws_accounts: str = "",
    ali_accounts: str = "",
    tag: str | None = None,
) -> str:
    """A fleet over both organizations: one entry per cloud, selecting VPCs tagged ``e2e: <tag or name>``."""
    selector = tag or name
    head = f"sweep: {sweep}\n" if sweep else ""
    aws_limit = f"\n    accounts: {aws_accounts}" if aws_accounts else ""
    ali_limit = f"\n    accounts: {ali_accounts}" if ali_accounts else ""
    return f"""\
name: {name}
{head}accounts:
  aws:
    - organization: {aws_org}
  alibaba:
    - organization: {ali_org}
defaults:
  traffic: all
flow_logs:
  - name: {name}-aws
    provider: aws
    regions: [{", ".join(aws_regions)}]
    resources: {{kind: vpc, where: {{"tag:e2e": {selector}}}}}
    destination: {{kind: s3, bucket: "arn:aws:s3:::e2e-flowlogs", prefix: {selector}/}}{aws_limit}
  - name: {name}-ali
    provider: alibaba
    regions: [{", ".join(ali_regions)}]
    resources: {{kind: vpc, where: {{"tag:e2e": {selector}}}}}
    destination: {{kind: sls, project: e2e-flowlogs, logstore: vpc}}{ali_limit}
"""


@dataclass
class Clouds:
    """Both sandboxes, their organizations, and connections to them (clients pooled for the module)."""

    boxes: dict[str, Sandbox]
    connections: Connections

    @property
    def aws(self) -> Any:
        return self.boxes["aws"]

    @property
    def ali(self) -> Any:
        return self.boxes["alibaba"]

    def aws_accounts(self) -> set[str]:
        """The AWS Organization's ACTIVE accounts now, the management account among them."""
        org = self.aws.organization()
        return {m["id"] for m in org["members"] if m["state"] == "ACTIVE"} | {org["management"]}

    def ali_accounts(self, folders: frozenset[str] | None = PROD_FOLDERS) -> set[str]:
        """The Resource Directory's accounts in ``folders`` (every folder: ``None``): the management account only
        when no folder filter leaves it out (it sits in the root folder), as on AWS."""
        org = self.ali.organization()
        members = {a for a, m in org["members"].items() if folders is None or m["folder"] in folders}
        return members | ({org["management_account_id"]} if folders is None else set())

    def aws_management(self) -> str:
        return str(self.aws.organization()["management"])

    def ali_management(self) -> str:
        return str(self.ali.organization()["management_account_id"])

    def seeded(self, text: str) -> multiflow.Fleet:
        """The fleet of ``text``, its VPCs and destinations seeded in every account and region it covers."""
        fleet = multiflow.loads(text)
        sandbox.prepare_fleet(self.boxes, fleet, self.connections)
        return fleet

    def seed_account(self, fleet: multiflow.Fleet, provider: str, account: str) -> None:
        """Seed what ``fleet`` needs in one account only (a member added after the fleet was seeded)."""
        targets = [
            t for t in resolve(fleet, self.connections).targets if (t.provider, t.account) == (provider, account)
        ]
        assert targets, f"the fleet covers no region of {provider} {account}"
        for target in targets:
            sandbox.prepare(self.boxes[provider], fleet, target)

    def converge(self, fleet: multiflow.Fleet) -> Plan:
        """Plan and apply ``fleet``, expecting every account entered and every change made; the plan applied."""
        plan = multiflow.plan(fleet, self.connections)
        assert plan.complete, [str(t.error) for t in plan.failed_targets]
        result = multiflow.apply(plan, self.connections, timeout=60)
        assert result.ok, [str(f.error) for f in result.failed]
        return plan

    def flow_log_ids(self, plan: Plan, provider: str, account: str, region: str) -> set[str]:
        """The ids of the flow logs a session in ``account`` sees in ``region``, entered as ``plan`` enters it
        (the caller's own keys for a management account; the member's assumed role for a member)."""
        client = self.connections.client(provider, region, plan.account(provider, account))
        return {f.id for f in client.describe(include_raw=False)}


@pytest.fixture(scope="module")
def clouds() -> Iterator[Clouds]:
    """Both sandboxes with their organizations, started once; moto's (per-process) state is reset on the way in
    and out, so that the organization is the sandbox's own and other tests do not meet the members added here.

    Every AWS account has :data:`AWS_ENABLED` enabled and the other regions opt-in and not enabled (the sandbox's
    DescribeRegions answers so): the default sweep then reads three regions of each account, not seventeen (moto
    takes about half a second to build each account's region the first time)."""
    from multiflow_aws import moto_fidelity

    with pytest.MonkeyPatch.context() as patch, sandbox.started(["aws", "alibaba"]) as boxes:
        patch.setattr(moto_fidelity, "OPT_IN_NOT_REQUIRED", AWS_ENABLED)
        boxes["aws"].reset()  # type: ignore[attr-defined]
        boxes["alibaba"].tune(activation_delay=0.05, deletion_delay=0.05)  # type: ignore[attr-defined]
        try:
            with sandbox.connections_to(boxes) as connections:
                yield Clouds(boxes, connections)
        finally:
            boxes["aws"].reset()  # type: ignore[attr-defined]


def places(plan: Plan, action: Action | None = None) -> set[tuple[str, str]]:
    """The (provider, account) pairs of the plan's changes (of ``action`` only, when given)."""
    return {(c.provider, c.account) for c in plan.changes if action is None or c.action is action}


def test_an_org_wide_fleet_over_both_clouds_converges_in_every_account_entered_as_itself(clouds: Clouds) -> None:
    fleet = clouds.seeded(fleet_text("whole"))
    aws_accounts, ali_accounts = clouds.aws_accounts(), clouds.ali_accounts()
    assert len(aws_accounts) >= 4 and len(ali_accounts) == 2  # AWS: management and members; Alibaba: the prod folder

    plan = multiflow.plan(fleet, clouds.connections)
    assert plan.complete, [str(t.error) for t in plan.failed_targets]
    expected = {("aws", a) for a in aws_accounts} | {("alibaba", a) for a in ali_accounts}
    assert {c.action for c in plan.changes} == {Action.CREATE}
    assert places(plan) == expected
    assert {(c.provider, c.account, c.region) for c in plan.changes} == {
        (p, a, r) for p, a in expected for r in (AWS_REGIONS if p == "aws" else ALI_REGIONS)
    }
    assert len(plan.changes) == 3 * 2 * len(expected)  # three VPCs seeded in each of two regions of each account
    assert all(d["account"] for d in plan.as_dict()["changes"])
    assert {(a["provider"], a["account"]) for a in plan.as_dict()["accounts"]} == expected

    result = multiflow.apply(plan, clouds.connections, timeout=60)
    assert result.ok, [str(f.error) for f in result.failed]
    assert {(c.provider, c.account) for c in result.done} == expected

    again = multiflow.plan(fleet, clouds.connections)
    assert again.complete and again.pending == []
    assert {c.action for c in again.changes} == {Action.KEEP}
    assert places(again) == expected

    # Each member's flow logs were made in the member, with the keys its role gave: a session of that member sees
    # them, the management account's does not; and the management account's are seen by its own session only.
    for provider, management in (("aws", clouds.aws_management()), ("alibaba", clouds.ali_management())):
        region = AWS_REGIONS[0] if provider == "aws" else ALI_REGIONS[0]
        made: dict[str, set[str]] = {}
        for change in again.changes:
            if change.provider == provider and change.region == region and change.flow_log is not None:
                made.setdefault(change.account, set()).add(change.flow_log.id)
        assert set(made) == {a for p, a in expected if p == provider}
        in_management = clouds.flow_log_ids(again, provider, management, region)
        assert made.get(management, set()) <= in_management  # (Alibaba: the prod folder leaves it out)
        for account, ids in made.items():
            assert len(ids) == 3, (provider, account, ids)
            if account != management:
                assert ids <= clouds.flow_log_ids(again, provider, account, region), (provider, account)
                assert not ids & in_management, (provider, account)
    for account in ali_accounts:
        owned = {f["FlowLogId"] for f in clouds.ali.emulator.flow_logs(account_id=account)}
        in_plan = {c.flow_log.id for c in again.changes if c.account == account and c.flow_log is not None}
        assert in_plan <= owned  # the emulator's record of whose flow log it is


def test_a_member_added_to_each_organization_is_picked_up_by_the_next_plan(clouds: Clouds) -> None:
    fleet = clouds.seeded(fleet_text("grow"))
    clouds.converge(fleet)

    aws_new = clouds.aws.add_member("e2e-new", unit="workloads", tags={"env": "new"})
    ali_new = "1234567890000009"
    clouds.ali.emulator.add_member(ali_new, "e2e-new", folder_id=PROD_FOLDER, tags={"env": "new"})
    clouds.seed_account(fleet, "aws", aws_new)
    clouds.seed_account(fleet, "alibaba", ali_new)

    plan = multiflow.plan(fleet, clouds.connections)
    assert plan.complete, [str(t.error) for t in plan.failed_targets]
    assert {(c.action, c.provider, c.account) for c in plan.pending} == {
        (Action.CREATE, "aws", aws_new),
        (Action.CREATE, "alibaba", ali_new),
    }
    assert {(c.provider, c.region) for c in plan.pending} == {("aws", r) for r in AWS_REGIONS} | {
        ("alibaba", r) for r in ALI_REGIONS
    }
    assert len(plan.pending) == 2 * 2 * 3
    assert plan.accounts[("aws", aws_new)].name == "e2e-new"
    assert plan.accounts[("alibaba", ali_new)].name == "e2e-new"

    clouds.converge(fleet)
    again = multiflow.plan(fleet, clouds.connections)
    assert again.pending == [] and {("aws", aws_new), ("alibaba", ali_new)} <= places(again, Action.KEEP)
    assert len(clouds.flow_log_ids(again, "alibaba", ali_new, ALI_REGIONS[0])) == 3


def test_a_member_whose_role_cannot_be_assumed_fails_alone_on_each_cloud(clouds: Clouds) -> None:
    roleless = clouds.aws.add_member("e2e-roleless", access_role=False)
    try:
        # The whole directory: its dev folder holds dev-legacy, which has no ResourceDirectoryAccountAccessRole.
        fleet = clouds.seeded(fleet_text("refused", ali_org="{}"))
        plan = multiflow.plan(fleet, clouds.connections)

        failed = {(t.provider, t.account): t for t in plan.failed_targets}
        assert set(failed) == {("aws", roleless), ("alibaba", DEV_LEGACY)}
        for (provider, account), target in failed.items():
            assert target.region == "", target.label()
            assert target.entries == (f"refused-{'aws' if provider == 'aws' else 'ali'}",)
            assert target.label() == f"{provider} account {account}"
            assert account in str(target.error)
        aws_error, ali_error = failed[("aws", roleless)].error, failed[("alibaba", DEV_LEGACY)].error
        assert getattr(aws_error, "code", None) == "AccessDenied"
        assert getattr(ali_error, "code", None) == "EntityNotExist.Role"
        assert getattr(aws_error, "request_id", None) and getattr(ali_error, "request_id", None)
        shown = {(t["provider"], t["account"]): t for t in plan.as_dict()["failed_targets"]}
        assert shown[("alibaba", DEV_LEGACY)]["code"] == "EntityNotExist.Role"
        assert shown[("aws", roleless)]["request_id"] == getattr(aws_error, "request_id", None)

        others = {("aws", a) for a in clouds.aws_accounts() - {roleless}} | {
            ("alibaba", a) for a in clouds.ali_accounts(folders=None) - {DEV_LEGACY}
        }
        assert places(plan, Action.CREATE) == others

        result = multiflow.apply(plan, clouds.connections, timeout=60)
        assert result.failed == [], [str(f.error) for f in result.failed]
        assert result.failed_targets == list(plan.failed_targets) and not result.ok
        assert {(c.provider, c.account) for c in result.done} == others
        assert [t["account"] for t in result.as_dict()["failed_targets"]] == [t.account for t in plan.failed_targets]

        again = multiflow.plan(fleet, clouds.connections)
        assert again.pending == []
        assert {(t.provider, t.account) for t in again.failed_targets} == set(failed)
    finally:
        clouds.aws.suspend_member(roleless)  # SUSPENDED members are skipped: the later tests do not meet it


def test_an_account_excluded_on_each_cloud_has_this_fleets_flow_logs_deleted_and_no_others(clouds: Clouds) -> None:
    # Under the default sweep: plan looks in every region of every account of both organizations.
    aws_dropped = next(m["id"] for m in clouds.aws.organization()["members"] if m["name"] == "staging")
    fleet = clouds.seeded(fleet_text("drop", sweep=None))
    clouds.converge(fleet)
    # Another fleet's flow logs in the very accounts to be excluded (on VPCs of their own).
    neighbour = clouds.seeded(fleet_text("neighbour", aws_accounts=f'["{aws_dropped}"]', ali_accounts=f'["{PROD_EU}"]'))
    assert places(clouds.converge(neighbour)) == {("aws", aws_dropped), ("alibaba", PROD_EU)}

    narrowed = multiflow.loads(
        fleet_text(
            "drop",
            sweep=None,
            aws_org=f'{{exclude: ["{aws_dropped}"]}}',
            ali_org=f'{{folders: [{PROD_FOLDER}], exclude: ["{PROD_EU}"]}}',
        )
    )
    plan = multiflow.plan(narrowed, clouds.connections)
    assert plan.complete, [str(t.error) for t in plan.failed_targets]
    assert {(c.action, c.provider, c.account) for c in plan.pending} == {
        (Action.DELETE, "aws", aws_dropped),
        (Action.DELETE, "alibaba", PROD_EU),
    }
    assert len(plan.pending) == 2 * 2 * 3  # its three VPCs' flow logs in both regions, on each cloud
    assert {c.entry for c in plan.pending} <= {"drop-aws", "drop-ali", None}
    # The excluded accounts are entered to delete, and only to delete.
    assert ("aws", aws_dropped) in plan.accounts and ("alibaba", PROD_EU) in plan.accounts
    assert not {("aws", aws_dropped), ("alibaba", PROD_EU)} & places(plan, Action.CREATE)

    deleted: dict[tuple[str, str, str], set[str]] = {}
    for change in plan.pending:
        assert change.flow_log is not None
        deleted.setdefault((change.provider, change.account, change.region), set()).add(change.flow_log.id)

    clouds.converge(narrowed)
    kept = multiflow.plan(neighbour, clouds.connections)
    assert kept.pending == [] and len(kept.changes) == 2 * 2 * 3
    for (provider, account, region), ids in deleted.items():
        left = clouds.flow_log_ids(plan, provider, account, region)
        assert not ids & left, (provider, account, region)
        theirs = {c.flow_log.id for c in kept.changes if c.flow_log and (c.account, c.region) == (account, region)}
        assert len(theirs) == 3 and theirs <= left  # the neighbour's, untouched
    assert multiflow.plan(narrowed, clouds.connections).pending == []


def test_a_region_dropped_from_each_entry_is_swept_in_every_account(clouds: Clouds) -> None:
    fleet = clouds.seeded(fleet_text("shrink", sweep=None))
    before = clouds.converge(fleet)
    covered = places(before)
    fewer = multiflow.loads(fleet_text("shrink", sweep=None, aws_regions=AWS_REGIONS[:1], ali_regions=ALI_REGIONS[:1]))

    plan = multiflow.plan(fewer, clouds.connections)
    assert plan.complete, [str(t.error) for t in plan.failed_targets]
    assert {(c.action, c.provider, c.region) for c in plan.pending} == {
        (Action.DELETE, "aws", AWS_REGIONS[1]),
        (Action.DELETE, "alibaba", ALI_REGIONS[1]),
    }
    assert places(plan, Action.DELETE) == covered  # in every account of both organizations
    assert len(plan.pending) == 3 * len(covered)

    clouds.converge(fewer)
    again = multiflow.plan(fleet, clouds.connections)  # the wider file again: the dropped regions only to make
    assert {(c.action, c.region) for c in again.pending} == {
        (Action.CREATE, AWS_REGIONS[1]),
        (Action.CREATE, ALI_REGIONS[1]),
    }


def test_four_shards_cover_both_organizations_once_and_merge_into_the_whole_plan(
    clouds: Clouds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # More members, so that four shards of the two organizations each likely hold some accounts.
    for n in range(2):
        clouds.aws.add_member(f"e2e-shard-{n}")
        clouds.ali.emulator.add_member(f"12345678900001{n:02d}", f"e2e-shard-{n}", folder_id=PROD_FOLDER)
    path = tmp_path / "org.yaml"
    path.write_text(fleet_text("sharded"))
    clouds.seeded(path.read_text())
    everyone = {("aws", a) for a in clouds.aws_accounts()} | {("alibaba", a) for a in clouds.ali_accounts()}
    # The command line, in process, pointed at the running sandboxes by their environment (as a shell would be).
    from alibabacloud_credentials.utils import auth_util

    for box in clouds.boxes.values():
        for key, value in box.environment().items():  # type: ignore[attr-defined]
            monkeypatch.setenv(key, value)
    # alibabacloud-credentials reads its environment variables once, when it is imported (this process imported
    # it long ago): what a shell gives a new process at its start, given to the SDK as it would have read it.
    monkeypatch.setattr(auth_util, "environment_access_key_id", os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"])
    monkeypatch.setattr(auth_util, "environment_access_key_secret", os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"])

    def run(*argv: str) -> str:
        capsys.readouterr()
        code = main(list(argv))
        out = capsys.readouterr().out
        assert code == 0, out
        return out

    whole = json.loads(run("plan", str(path), "-o", "json"))
    assert {(c["provider"], c["account"]) for c in whole["changes"]} == everyone
    assert {c["action"] for c in whole["changes"]} == {"create"} and not whole["failed_targets"]

    shards = []
    for k in range(1, 5):
        out = run("plan", str(path), "--shard", f"{k}/4", "-o", "json")
        (tmp_path / f"plan-{k}.json").write_text(out)
        document = json.loads(out)
        assert document["shard"] == f"{k}/4" and not document["failed_targets"]
        shards.append({(c["provider"], c["account"]) for c in document["changes"]})
        assert {(a["provider"], a["account"]) for a in document["accounts"]} == shards[-1]
    assert sum(len(s) for s in shards) == len(everyone)  # pairwise disjoint ...
    assert set().union(*shards) == everyone  # ... and every account of both organizations
    assert sum(1 for s in shards if s) >= 2, shards  # a split, not one shard holding everything

    merged = json.loads(run("merge", *(str(tmp_path / f"plan-{k}.json") for k in range(1, 5))))
    assert merged["shards"] == ["1/4", "2/4", "3/4", "4/4"]

    def canonical(items: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(item, sort_keys=True) for item in items)

    assert canonical(merged["changes"]) == canonical(whole["changes"])
    assert canonical(merged["counts"]) == canonical(whole["counts"])
    assert canonical(merged["accounts"]) == canonical(whole["accounts"])
    assert merged["failed_targets"] == [] and merged["fleet"] == whole["fleet"] == "sharded"

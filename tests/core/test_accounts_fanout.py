"""Organizations end to end through the public API, on the example provider's cloud (an organization on loopback):
an org-wide fleet applied and re-planned to nothing, a new member picked up, a member that refuses entry reported
while the others converge, an excluded account and a dropped region cleaned up, ``regions: all`` over opt-in
regions, and entries narrowed to some accounts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.errors import AuthError
from multiflow.planning import Action, Plan
from multiflow.sandbox import connections_to, prepare_fleet
from multiflow_example.cloud import MANAGEMENT_ACCOUNT, ExampleCloud
from multiflow_example.sandbox import MEMBERS, ExampleSandbox

ALL = sorted([MANAGEMENT_ACCOUNT, *MEMBERS])
PROD, STAGING, DEV = sorted(MEMBERS)


def fleet_text(organization: str = "{}", regions: str = "[local-1, local-2]", extra: str = "") -> str:
    return f"""
name: org
accounts:
  example:
    - organization: {organization}
flow_logs:
  - name: nets
    provider: example
    regions: {regions}
    resources: {{kind: vpc, where: {{"tag:team": net}}}}
    destination: {{kind: example_bucket, bucket: central-logs}}
{extra}"""


@dataclass
class Org:
    box: ExampleSandbox
    connections: Connections

    @property
    def cloud(self) -> ExampleCloud:
        return self.box.cloud

    def seeded(self, text: str) -> multiflow.Fleet:
        """The fleet of ``text``, with what it needs seeded in every account and region it covers."""
        fleet = multiflow.loads(text)
        prepare_fleet({"example": self.box}, fleet, self.connections)
        return fleet

    def converge(self, fleet: multiflow.Fleet) -> Plan:
        """Plan and apply ``fleet``; return the plan applied."""
        plan = multiflow.plan(fleet, self.connections)
        result = multiflow.apply(plan, self.connections, timeout=30)
        assert not result.failed, result.failed
        return plan

    def flow_logs_by_account(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for record in self.cloud.flow_logs():
            found.setdefault(record["account_id"], set()).add(record["region"])
        return found


@pytest.fixture
def org() -> Iterator[Org]:
    """The example sandbox's organization (a management account, three members), always stopped."""
    with ExampleSandbox(activation_delay=0.05, deletion_delay=0.05) as box, connections_to({"example": box}) as c:
        yield Org(box, c)


def accounts_of(plan: Plan, action: Action | None = None) -> set[str]:
    return {c.account for c in plan.changes if action is None or c.action is action}


def test_an_org_wide_fleet_is_applied_in_every_account_and_replans_to_nothing(org: Org) -> None:
    fleet = org.seeded(fleet_text())
    plan = multiflow.plan(fleet, org.connections)
    assert plan.complete and not plan.failed_targets
    assert accounts_of(plan, Action.CREATE) == set(ALL)
    assert {(c.account, c.region) for c in plan.changes} == {(a, r) for a in ALL for r in ("local-1", "local-2")}
    assert sorted(a for _, a in plan.accounts) == ALL
    assert {d["account"] for d in plan.as_dict()["changes"]} == set(ALL)
    assert {(d["account"], d["region"]) for d in plan.as_dict()["counts"]} == {
        (a, r) for a in ALL for r in ("local-1", "local-2")
    }

    result = multiflow.apply(plan, org.connections, timeout=30)
    assert not result.failed and len(result.done) == len(plan.changes) == 4 * 2 * 3
    assert org.flow_logs_by_account() == {a: {"local-1", "local-2"} for a in ALL}
    again = multiflow.plan(fleet, org.connections)
    assert again.pending == [] and again.complete
    assert {c.account for c in again.changes if c.action is Action.KEEP} == set(ALL)
    # Each member was entered once for the whole run (its regions share one key), though read and changed in two.
    assert org.cloud.calls["AssumeAccount"] == len(MEMBERS)


def test_a_member_added_to_the_organization_is_picked_up_by_the_next_plan(org: Org) -> None:
    fleet = org.seeded(fleet_text())
    org.converge(fleet)
    added = org.cloud.add_account(name="new-team", unit="ou-new")
    for region in ("local-1", "local-2"):
        org.cloud.add_resource(region, "network", labels={"team": "net"}, account=added)

    plan = multiflow.plan(fleet, org.connections)
    assert [(c.action, c.account) for c in plan.pending] == [(Action.CREATE, added)] * 2
    assert (("example", added) in plan.accounts) and plan.accounts[("example", added)].name == "new-team"
    org.converge(fleet)
    assert org.flow_logs_by_account()[added] == {"local-1", "local-2"}


def test_a_member_that_refuses_entry_is_one_failure_and_the_others_converge(org: Org) -> None:
    org.cloud.set_account(STAGING, enterable=False)  # before anything entered it: a key once given stays good
    fleet = org.seeded(fleet_text())

    plan = multiflow.plan(fleet, org.connections)
    [failed] = plan.failed_targets
    assert (failed.account, failed.region, failed.entries) == (STAGING, "", ("nets",))
    assert isinstance(failed.error, AuthError) and failed.error.code == "AccessDenied"
    assert failed.error.request_id and STAGING in str(failed.error)
    assert failed.label() == f"example account {STAGING}"
    shown = plan.as_dict()["failed_targets"][0]
    assert (shown["account"], shown["code"], shown["region"]) == (STAGING, "AccessDenied", None)
    assert shown["request_id"] == failed.error.request_id
    assert accounts_of(plan, Action.CREATE) == set(ALL) - {STAGING}

    result = multiflow.apply(plan, org.connections, timeout=30)
    assert not result.failed
    assert set(org.flow_logs_by_account()) == set(ALL) - {STAGING}
    again = multiflow.plan(fleet, org.connections)
    assert again.pending == [] and [t.account for t in again.failed_targets] == [STAGING]


def test_an_account_excluded_from_the_file_has_its_flow_logs_planned_for_deletion(org: Org) -> None:
    org.converge(org.seeded(fleet_text()))
    narrowed = multiflow.loads(fleet_text(organization=f'{{exclude: ["{DEV}"]}}'))

    plan = multiflow.plan(narrowed, org.connections)
    assert {(c.action, c.account) for c in plan.pending} == {(Action.DELETE, DEV)}
    assert len(plan.pending) == 2 * 3  # its three networks, in both regions
    assert ("example", DEV) in plan.accounts  # apply can enter it to delete
    org.converge(narrowed)
    assert DEV not in org.flow_logs_by_account()
    assert multiflow.plan(narrowed, org.connections).pending == []


def test_a_region_dropped_from_an_entry_has_its_flow_logs_planned_for_deletion(org: Org) -> None:
    org.converge(org.seeded(fleet_text()))
    fewer = multiflow.loads(fleet_text(regions="[local-1]"))

    plan = multiflow.plan(fewer, org.connections)
    assert {(c.action, c.region) for c in plan.pending} == {(Action.DELETE, "local-2")}
    assert accounts_of(plan, Action.DELETE) == set(ALL)
    org.converge(fewer)
    assert org.flow_logs_by_account() == {a: {"local-1"} for a in ALL}


def test_a_region_dropped_is_left_alone_with_sweep_named(org: Org) -> None:
    org.converge(org.seeded(fleet_text()))
    fewer = multiflow.loads("sweep: named\n" + fleet_text(regions="[local-1]"))
    assert multiflow.plan(fewer, org.connections).pending == []


def test_regions_all_covers_each_accounts_enabled_regions_and_notes_the_others(org: Org) -> None:
    fleet = org.seeded(fleet_text(regions="all"))
    plan = multiflow.plan(fleet, org.connections)
    assert plan.complete
    in_opt_in = {c.account for c in plan.changes if c.region == "local-3"}
    assert in_opt_in == {MANAGEMENT_ACCOUNT, PROD}  # the others have not enabled local-3
    assert {(c.account, c.region) for c in plan.changes} >= {(a, r) for a in ALL for r in ("local-1", "local-2")}
    # One note for the region, however many accounts skip it, naming them.
    [note] = [n for n in plan.notes if "local-3 skipped" in n]
    assert "in 2 account(s)" in note and STAGING in note and DEV in note
    assert plan.as_dict()["notes"] == list(plan.notes)
    org.converge(fleet)
    assert multiflow.plan(fleet, org.connections).pending == []


def test_an_entry_limited_to_accounts_by_name_or_id_covers_those_only(org: Org) -> None:
    fleet = org.seeded(fleet_text(extra=f'    accounts: [prod, "{DEV}"]\n'))
    plan = multiflow.plan(fleet, org.connections)
    assert accounts_of(plan, Action.CREATE) == {PROD, DEV}


def test_units_and_labels_narrow_the_organization(org: Org) -> None:
    fleet = org.seeded(fleet_text(organization="{units: [ou-nonprod], labels: {env: dev}}"))
    plan = multiflow.plan(fleet, org.connections)
    assert accounts_of(plan, Action.CREATE) == {DEV}
    assert accounts_of(plan) == {DEV}  # the others are only swept, and hold nothing of the fleet's

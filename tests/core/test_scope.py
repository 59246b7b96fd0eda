"""multiflow.scope.resolve on the example provider's organization: targets per (account, region), the options that
enter each account, the places swept, shards, and what could not be listed or entered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import multiflow
from multiflow.accounts import Shard
from multiflow.client import Connections
from multiflow.errors import SpecError
from multiflow.fleet import FleetError
from multiflow.plugins import get_provider
from multiflow.sandbox import connections_to
from multiflow.scope import Place, resolve
from multiflow_example.cloud import MANAGEMENT_ACCOUNT
from multiflow_example.sandbox import MEMBERS, ExampleSandbox

ALL = sorted([MANAGEMENT_ACCOUNT, *MEMBERS])
PROD, STAGING, DEV = sorted(MEMBERS)


def fleet(organization: str = "{}", regions: str = "[local-1]", head: str = "") -> multiflow.Fleet:
    return multiflow.loads(f"""
name: org
{head}
accounts:
  example:
    - organization: {organization}
flow_logs:
  - name: nets
    provider: example
    regions: {regions}
    resources: {{kind: vpc, ids: [net-a]}}
    destination: {{kind: example_bucket, bucket: central-logs}}
""")


@pytest.fixture
def box() -> Iterator[ExampleSandbox]:
    with ExampleSandbox(activation_delay=0.0, deletion_delay=0.0) as running:
        yield running


@pytest.fixture
def connections(box: ExampleSandbox) -> Iterator[Connections]:
    with connections_to({"example": box}) as made:
        yield made


def test_each_account_of_the_organization_gets_its_targets_and_the_options_that_enter_it(
    connections: Connections,
) -> None:
    scope = resolve(fleet(regions="[local-1, local-2]"), connections)
    assert sorted((t.account, t.region) for t in scope.targets) == [(a, r) for a in ALL for r in ("local-1", "local-2")]
    assert sorted(a for _, a in scope.accounts) == ALL
    assert dict(scope.accounts[("example", MANAGEMENT_ACCOUNT)].connect_options) == {}  # the caller's own
    assert dict(scope.accounts[("example", PROD)].connect_options) == {"account_id": PROD}
    assert scope.accounts[("example", PROD)].name == "prod"
    assert not scope.failures


def test_the_sweep_holds_every_other_enabled_region_and_the_members_the_filters_leave_out(
    connections: Connections,
) -> None:
    scope = resolve(fleet(organization="{units: [ou-prod]}"), connections)
    assert [(t.account, t.region) for t in scope.targets] == [(PROD, "local-1")]
    swept = set(scope.sweep)
    assert Place("example", PROD, "local-2") in swept and Place("example", PROD, "local-3") in swept
    for outside in (MANAGEMENT_ACCOUNT, STAGING, DEV):  # outside the filter: looked at, never given flow logs
        assert Place("example", outside, "local-1") in swept
    assert Place("example", STAGING, "local-3") not in swept  # not enabled there
    assert Place("example", PROD, "local-1") not in swept  # a target's place is read in full, not swept


def test_sweep_named_sweeps_nothing(connections: Connections) -> None:
    scope = resolve(fleet(head="sweep: named"), connections)
    assert scope.sweep == ()
    assert sorted(t.account for t in scope.targets) == ALL


def test_sweep_named_still_looks_in_excluded_members_in_the_named_regions(connections: Connections) -> None:
    scope = resolve(fleet(organization=f"{{exclude: ['{DEV}']}}", head="sweep: named"), connections)
    assert scope.sweep == (Place("example", DEV, "local-1"),)  # the file's one region, nothing listed
    assert ("example", DEV) in scope.accounts  # entered to delete what the fleet left there


def test_a_member_that_refuses_entry_is_one_failure_under_sweep_named(
    box: ExampleSandbox, connections: Connections
) -> None:
    box.cloud.set_account(STAGING, enterable=False)
    scope = resolve(fleet(regions="[local-1, local-2]", head="sweep: named"), connections)
    [failure] = scope.failures  # one for the account, not one per region
    assert (failure.account, failure.region, failure.entries) == (STAGING, None, ("nets",))
    assert getattr(failure.error, "code", None) == "AccessDenied"
    assert STAGING not in {t.account for t in scope.targets} and ("example", STAGING) not in scope.accounts
    assert box.cloud.calls["AssumeAccount"] == len(MEMBERS)  # entered (or refused) once each


def test_four_shards_cover_every_account_exactly_once(box: ExampleSandbox, connections: Connections) -> None:
    added = [box.cloud.add_account() for _ in range(12)]
    everyone = sorted([*ALL, *added])
    covered = [{t.account for t in resolve(fleet(), connections, shard=Shard(k, 4)).targets} for k in range(1, 5)]
    assert sorted(a for shard in covered for a in shard) == everyone  # each once: no overlap, none left out
    assert all(covered)
    notes = resolve(fleet(), connections, shard=Shard(2, 4)).notes
    assert f"example: shard 2/4 covers {len(covered[1])} of {len(everyone)} account(s)" in notes


def test_an_organization_that_cannot_be_listed_is_one_failure_with_the_clouds_code(
    box: ExampleSandbox, connections: Connections
) -> None:
    box.cloud.fail_next("ListAccounts", "AccessDenied", "not allowed to list the organization")
    scope = resolve(fleet(), connections)
    [failure] = scope.failures
    assert (failure.account, failure.region, failure.source) == (None, None, "accounts.example[0] (organization)")
    assert getattr(failure.error, "code", None) == "AccessDenied" and getattr(failure.error, "request_id", None)
    assert scope.targets == ()


def test_an_explicit_account_and_a_suspended_member(box: ExampleSandbox, connections: Connections) -> None:
    box.cloud.set_account(DEV, status="SUSPENDED")
    explicit = multiflow.loads(f"""
name: two
accounts:
  example:
    - account: "{STAGING}"
    - organization: {{units: [ou-nonprod]}}
flow_logs:
  - name: nets
    provider: example
    regions: [local-1]
    resources: {{kind: vpc, ids: [net-a]}}
    destination: {{kind: example_bucket, bucket: central-logs}}
""")
    scope = resolve(explicit, connections)
    assert [t.account for t in scope.targets] == [STAGING]
    assert any(DEV in note and "SUSPENDED" in note for note in scope.notes), scope.notes
    assert scope.accounts[("example", STAGING)].source == f"account {STAGING}"


def test_an_entry_naming_an_account_the_fleet_does_not_cover_is_noted(connections: Connections) -> None:
    named = multiflow.loads("""
name: org
accounts:
  example:
    - organization: {units: [ou-prod]}
flow_logs:
  - name: nets
    provider: example
    regions: [local-1]
    accounts: [prod, nobody]
    resources: {kind: vpc, ids: [net-a]}
    destination: {kind: example_bucket, bucket: central-logs}
""")
    scope = resolve(named, connections)
    assert [t.account for t in scope.targets] == [PROD]
    assert "nets: accounts nobody are not among the fleet's accounts" in scope.warnings


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ("{account: '12'}", "account"),
        ("{organization: {}, account: '100000000001'}", "organization or account"),
        ("{organization: {exclude: [abc]}}", "exclude"),
        ("{organization: {unit: [x]}}", "unit"),
    ],
)
def test_a_bad_account_source_is_a_located_error_before_any_call(item: str, field: str) -> None:
    with pytest.raises(SpecError) as raised:
        multiflow.loads(f"""
name: org
accounts:
  example:
    - {item}
flow_logs:
  - name: nets
    provider: example
    regions: [local-1]
    resources: {{kind: vpc, ids: [net-a]}}
    destination: {{kind: example_bucket, bucket: central-logs}}
""")
    assert field in str(raised.value) and "accounts" in str(raised.value)


def test_an_unknown_region_names_the_closest_before_any_call(connections: Connections) -> None:
    with pytest.raises(SpecError) as raised:
        multiflow.plan(fleet(regions="[local-4]"), connections)
    assert "local-4" in str(raised.value) and "local-1" in str(raised.value)


def test_a_region_the_cloud_lists_but_multiflow_does_not_know_is_left_out_with_a_note(
    connections: Connections, monkeypatch: pytest.MonkeyPatch
) -> None:
    # multiflow's region list (capabilities data) lacking local-2: what the cloud lists there is not trusted as a
    # host name, and regions: all says so instead of dropping it silently.
    provider = get_provider("example")
    fewer = provider.capabilities.model_copy(update={"regions": ("local-1", "local-3")})
    monkeypatch.setattr(type(provider), "capabilities", fewer)
    scope = resolve(fleet(regions="all"), connections)
    assert {t.region for t in scope.targets} <= {"local-1", "local-3"}
    assert "local-1" in {t.region for t in scope.targets}
    [note] = [n for n in scope.notes if "local-2" in n]
    assert "not in multiflow's region list" in note and "MULTIFLOW_EXTRA_REGIONS" in note


def test_every_bad_account_source_is_reported_at_once_with_did_you_mean() -> None:
    with pytest.raises(FleetError) as caught:
        multiflow.loads("""
accounts:
  example:
    - organisation: {}
    - organization: {idz: ["100000000001"]}
flow_logs:
  - name: nets
    provider: example
    regions: [local-1]
    resources: {kind: vpc, ids: [net-a]}
    destination: {kind: example_bucket, bucket: central-logs}
""")
    problems = caught.value.problems
    assert [p.field for p in problems] == ["accounts.example[0].organisation", "accounts.example[1].organization.idz"]
    assert "did you mean `organization`?" in str(problems[0].reason)
    assert "did you mean `ids`?" in str(problems[1].reason)
    assert [p.line for p in problems] == [4, 5]

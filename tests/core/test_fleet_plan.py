"""Fleet files, plan and apply, against the AWS sandbox through the real SDK (the cloud is the state)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.errors import SpecError
from multiflow.fleet import FleetError, load, loads
from multiflow.ownership import MANAGED_TAG, SPEC_TAG
from multiflow.planning import Action, plan

REGION = "us-east-1"


def fleet_text(extra: str = "", *, interval: int = 60, where: str = '{"tag:env": prod}') -> str:
    return textwrap.dedent(f"""\
        name: netops
        defaults:
          traffic: all
          interval: {interval}
          tags: {{team: netops}}
        flow_logs:
          - name: prod-vpcs
            provider: aws
            regions: [{REGION}]
            resources: {{kind: vpc, where: {where}}}
            destination: {{kind: s3, bucket: central-flowlogs, prefix: prod/}}
        """) + textwrap.indent(textwrap.dedent(extra), "  ")


@pytest.fixture
def connections(aws_env: Any) -> Any:
    with Connections(lambda provider, region: aws_env.connect_options()) as made:
        yield made


@pytest.fixture
def estate(aws_env: Any) -> dict[str, list[str]]:
    aws_env.create_bucket("central-flowlogs")
    return {"prod": aws_env.seed_vpcs(REGION, 3, tags={"env": "prod"}), "dev": aws_env.seed_vpcs(REGION, 2)}


def actions(made: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for change in made.changes:
        found.setdefault(change.action.value, []).append(change.resource_id)
    return {k: sorted(v) for k, v in found.items()}


# -- the file -----------------------------------------------------------------------------------------------------


def test_entries_merge_defaults_and_tags() -> None:
    fleet = loads(
        fleet_text("""\
          - name: dev
            provider: aws
            regions: [eu-west-1]
            resources: {kind: subnet, ids: [subnet-1]}
            destination: {kind: s3, bucket: other-bucket}
            interval: 600
            tags: {env: dev}
        """)
    )
    prod, dev = fleet.flow_logs
    prod_spec = fleet.spec_for(prod, ["vpc-1"])
    dev_spec = fleet.spec_for(dev, ["subnet-1"])
    assert prod_spec.interval == 60 and prod_spec.name == "prod-vpcs" and prod_spec.tags == {"team": "netops"}
    assert dev_spec.interval == 600 and dev_spec.tags == {"team": "netops", "env": "dev"}
    assert dev_spec.traffic.value == "all"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (fleet_text(interval=-5), 4, "fleet.yaml:4:3: defaults.interval=-5 is not allowed"),
        (
            fleet_text().replace("kind: vpc, where", "kind: vpc, ids: [vpc-1], where"),
            10,
            "give exactly one of ids or where",
        ),
        (
            fleet_text().replace("bucket: central-flowlogs", "bucket: central-flowlogs, colour: red"),
            11,
            "flow_logs[0].destination.colour='red' is not allowed",
        ),
        (fleet_text().replace("name: prod-vpcs", "name: prod vpcs"), 7, "flow_logs[0].name='prod vpcs'"),
        (
            fleet_text() + "  - {name: prod-vpcs, provider: aws, regions: [x], resources: {kind: vpc, ids: [v]}}\n",
            1,
            "entry names must be unique; repeated: prod-vpcs",
        ),
        ("flow_logs: [\n", 2, "a valid YAML document"),
        ("- just a list\n", 1, "document='list' is not allowed"),
    ],
)
def test_bad_files_give_located_errors(text: str, line: int, message: str) -> None:
    with pytest.raises(FleetError) as caught:
        loads(text, source="fleet.yaml")
    assert caught.value.line == line
    assert message in str(caught.value)


def test_provider_refusals_are_located_too(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(fleet_text(interval=300))
    with pytest.raises(FleetError) as caught:
        multiflow.plan(load(path))
    assert str(caught.value).startswith(f"{path}:4:3: aws: flow_logs[0].interval=300 is not allowed")
    path.write_text(fleet_text().replace("provider: aws", "provider: gcp"))
    with pytest.raises(FleetError, match=r"fleet.yaml:8:5: flow_logs\[0\].provider='gcp'.*no provider named 'gcp'"):
        multiflow.plan(load(path))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="a readable file"):
        load(tmp_path / "nope.yaml")


# -- plan and apply -----------------------------------------------------------------------------------------------


def test_plan_apply_then_nothing_left_to_do(estate: dict[str, list[str]], connections: Any, aws_env: Any) -> None:
    fleet = loads(fleet_text())
    first = plan(fleet, connections)
    assert actions(first) == {"create": sorted(estate["prod"])}
    result = multiflow.apply(first, connections)
    assert result.ok and len(result.done) == 3
    flow_logs = connections.client("aws", REGION).describe()
    assert {f.resource.id for f in flow_logs} == set(estate["prod"])
    tags = flow_logs[0].tags
    assert tags[MANAGED_TAG] == "netops" and tags[SPEC_TAG].startswith("prod-vpcs@") and tags["team"] == "netops"
    again = plan(fleet, connections)
    assert actions(again) == {"keep": sorted(estate["prod"])}
    assert not again.pending


def test_changed_spec_replaces_removed_resources_delete(
    estate: dict[str, list[str]], connections: Any, aws_env: Any
) -> None:
    multiflow.apply(plan(loads(fleet_text()), connections), connections)
    client = connections.client("aws", REGION)
    untag = estate["prod"][0]
    client.session.ec2.delete_tags(Resources=[untag], Tags=[{"Key": "env"}])
    changed = plan(loads(fleet_text(interval=600)), connections)
    assert actions(changed) == {"replace": sorted(estate["prod"][1:]), "delete": [untag]}
    reasons = {c.resource_id: c.reasons for c in changed.changes}
    assert reasons[estate["prod"][1]] == ("interval: 60 → 600",)
    assert reasons[untag] == ("no longer wanted",)
    assert multiflow.apply(changed, connections).ok
    after = client.describe()
    assert {f.resource.id for f in after} == set(estate["prod"][1:])
    assert {f.interval for f in after} == {600}
    assert not plan(loads(fleet_text(interval=600)), connections).pending


def test_drift_made_by_hand_is_found_and_corrected(estate: dict[str, list[str]], connections: Any) -> None:
    fleet = loads(fleet_text())
    multiflow.apply(plan(fleet, connections), connections)
    client = connections.client("aws", REGION)
    victim = client.describe(resource_ids=[estate["prod"][0]])[0]
    client.session.ec2.delete_tags(Resources=[victim.id], Tags=[{"Key": "team"}])  # changed by hand
    gone = client.describe(resource_ids=[estate["prod"][1]])[0]
    client.delete([gone.id])  # deleted by hand
    drift = plan(fleet, connections)
    assert actions(drift) == {
        "create": [estate["prod"][1]],
        "update": [estate["prod"][0]],  # AWS changes tags in place
        "keep": [estate["prod"][2]],
    }
    assert [c.reasons for c in drift.changes if c.action is Action.UPDATE] == [("tags: {} → {team: netops}",)]
    assert multiflow.apply(drift, connections).ok
    assert not plan(fleet, connections).pending


def test_flow_logs_not_managed_or_of_another_fleet_are_never_touched(
    estate: dict[str, list[str]], connections: Any
) -> None:
    client = connections.client("aws", REGION)
    spec = multiflow.FlowLogSpec(
        resources={"kind": "vpc", "ids": estate["dev"]}, destination={"kind": "s3", "bucket": "central-flowlogs"}
    )
    by_hand = client.create(spec)
    other_fleet = client.create(
        spec.for_ids([estate["prod"][0]]).model_copy(update={"tags": {"x": "y"}}),
        extra_tags={MANAGED_TAG: "someone-else", SPEC_TAG: "theirs@1"},
    )
    made = plan(loads(fleet_text()), connections)
    touched = {c.flow_log.id for c in made.pending if c.flow_log}
    assert not touched & {f.id for f in [*by_hand, *other_fleet]}
    destroy = plan(loads(fleet_text()), connections, destroy=True)
    assert destroy.changes == ()


def test_a_duplicate_the_cloud_would_refuse_is_a_conflict_not_a_failure(
    estate: dict[str, list[str]], connections: Any
) -> None:
    client = connections.client("aws", REGION)
    target = estate["prod"][0]
    [blocker] = client.create(
        multiflow.FlowLogSpec(
            resources={"kind": "vpc", "ids": [target]},
            destination={"kind": "s3", "bucket": "central-flowlogs", "prefix": "prod/"},
        )
    )
    made = plan(loads(fleet_text()), connections)
    [conflict] = made.conflicts
    assert conflict.resource_id == target and conflict.flow_log.id == blocker.id
    assert "not managed by multiflow" in conflict.reasons[0] and "one flow log per destination" in conflict.reasons[0]
    result = multiflow.apply(made, connections)
    assert result.ok and [c.resource_id for c in result.skipped] == [target]


def test_destroy_deletes_only_this_fleets_flow_logs(estate: dict[str, list[str]], connections: Any) -> None:
    multiflow.apply(plan(loads(fleet_text()), connections), connections)
    client = connections.client("aws", REGION)
    [keep] = client.create(
        multiflow.FlowLogSpec(
            resources={"kind": "vpc", "ids": estate["dev"][:1]},
            destination={"kind": "s3", "bucket": "central-flowlogs"},
        )
    )
    destroy = plan(loads(fleet_text()), connections, destroy=True)
    assert actions(destroy) == {"delete": sorted(estate["prod"])}
    assert multiflow.apply(destroy, connections).ok
    assert [f.id for f in client.describe()] == [keep.id]


def test_an_interrupted_apply_converges_without_duplicates(estate: dict[str, list[str]], connections: Any) -> None:
    fleet = loads(fleet_text())
    half = plan(fleet, connections)
    # As if apply had died after its first batch: create only one of the three, the way apply does.
    entry = fleet.flow_logs[0]
    one = half.changes[0]
    from multiflow.ownership import managed_tags

    spec = one.spec.for_ids([one.resource_id])  # a change carries its entry's spec
    connections.client("aws", REGION).create(spec, extra_tags=managed_tags(fleet.name, entry.name, spec, "aws"))
    rerun = plan(fleet, connections)
    assert actions(rerun)["keep"] == [one.resource_id] and len(actions(rerun)["create"]) == 2
    assert multiflow.apply(rerun, connections).ok
    flow_logs = connections.client("aws", REGION).describe()
    assert sorted(f.resource.id for f in flow_logs) == sorted(estate["prod"])


def test_partial_failure_does_not_stop_the_rest(estate: dict[str, list[str]], connections: Any) -> None:
    fleet = loads(
        fleet_text("""\
          - name: broken
            provider: aws
            regions: [us-east-1]
            resources: {kind: vpc, ids: [vpc-0000000000000dead]}
            destination: {kind: s3, bucket: central-flowlogs}
        """)
    )
    result = multiflow.apply(plan(fleet, connections), connections)
    assert len(result.done) == 3
    [failure] = result.failed
    assert failure.change.resource_id == "vpc-0000000000000dead"
    assert failure.as_dict()["code"] == "InvalidVpcID.NotFound"


@pytest.mark.slow
def test_selectors_read_every_page(aws_env: Any, connections: Any) -> None:
    aws_env.create_bucket("central-flowlogs")
    many = aws_env.seed_vpcs(REGION, 1005, tags={"env": "prod"})
    made = plan(loads(fleet_text()), connections)
    assert len(made.pending) == 1005 and {c.resource_id for c in made.pending} == set(many)


def test_selector_on_a_kind_that_cannot_be_listed_is_refused(aws_env: Any, connections: Any) -> None:
    text = textwrap.dedent("""\
        flow_logs:
          - name: gateways
            provider: aws
            regions: [us-east-1]
            resources: {kind: transit_gateway, where: {"tag:env": prod}}
            destination: {kind: s3, bucket: central-flowlogs}
        """)
    with pytest.raises(SpecError, match="transit_gateway cannot be listed: give ids"):
        plan(loads(text), connections)

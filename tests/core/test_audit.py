"""Coverage audits against both sandboxes over HTTP: inheritance, what counts, bulk reads and pages, the CLI, --fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

import multiflow
from multiflow.accounts import Account
from multiflow.audit_fix import fix_fleet, fix_targets, fleet_yaml
from multiflow.auditing import AuditReport, CoverageCriteria, CoverageLevel, assess
from multiflow.client import Client, Connections
from multiflow.errors import SpecError, UnsupportedFeature
from multiflow.fleet import load, loads
from multiflow.model import CloudResource, DeliveryStatus, FlowLog, FlowLogStatus, ResourceRef
from multiflow.spec import ResourceKind, Traffic
from multiflow_alibaba.sandbox_support import ENDPOINT_VARIABLE, PROTOCOL_VARIABLE, connect_options
from multiflow_alibaba_emulator import AlibabaEmulator
from multiflow_aws.destinations import S3Destination

AWS_REGION = "us-east-1"
ALI_REGION = "cn-hangzhou"
KEY_ID = "LTAI5tAuditTests0000001"
SECRET = "audit-tests-secret"
PROJECT, LOGSTORE = "audit-project", "audit-store"
VPC, SUBNET, ENI = ResourceKind.VPC, ResourceKind.SUBNET, ResourceKind.NETWORK_INTERFACE
LISTINGS = ("DescribeVpcs", "DescribeSubnets", "DescribeNetworkInterfaces", "DescribeFlowLogs")


# -- sandboxes ---------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    # The Alibaba SDK sends through $HTTP_PROXY even to 127.0.0.1.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws(aws_env: Any) -> Any:
    """The AWS sandbox, emptied, without moto's default VPC in us-east-1 (so every resource is the test's)."""
    ec2 = aws_env.client("ec2", AWS_REGION)
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]:
        for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        ec2.delete_vpc(VpcId=vpc["VpcId"])
    return aws_env


@pytest.fixture
def emu() -> Iterator[AlibabaEmulator]:
    """The Alibaba emulator on loopback with one account and one logstore; always stopped."""
    emulator = AlibabaEmulator()
    emulator.add_account(KEY_ID, SECRET)
    with emulator:
        emulator.add_logstore(ALI_REGION, PROJECT, LOGSTORE)
        yield emulator


@pytest.fixture
def connections(aws: Any, emu: AlibabaEmulator) -> Iterator[Connections]:
    """Clients for both sandboxes, shared by the audit and the test."""
    options = {
        "aws": aws.connect_options(),
        "alibaba": connect_options(emu, KEY_ID, rate_limit=None, retry_timeout=10.0),
    }
    with Connections(lambda provider, region: options[provider]) as made:
        yield made


class Wire:
    """EC2 actions boto3 sent, counted, with their parameters (observes only)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, list[str]]]] = []

    def __call__(self, request: Any, **_: Any) -> None:
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        params = parse_qs(body)
        self.sent.append((params.get("Action", ["?"])[0], params))

    @property
    def calls(self) -> Counter[str]:
        """Action → calls."""
        return Counter(action for action, _ in self.sent)


def aws_wire(connections: Connections) -> Wire:
    wire = Wire()
    connections.client("aws", AWS_REGION).session.ec2.meta.events.register("before-send.ec2", wire)  # type: ignore[attr-defined]
    return wire


def aws_logs(connections: Connections, kind: str, ids: list[str], bucket: str, **fields: Any) -> list[FlowLog]:
    spec = multiflow.FlowLogSpec(
        resources={"kind": kind, "ids": ids}, destination={"kind": "s3", "bucket": bucket}, **fields
    )
    return connections.client("aws", AWS_REGION).create(spec)


def ali_logs(connections: Connections, kind: str, ids: list[str], **fields: Any) -> list[FlowLog]:
    spec = multiflow.FlowLogSpec(
        resources={"kind": kind, "ids": ids},
        destination={"kind": "sls", "project": PROJECT, "logstore": LOGSTORE},
        **fields,
    )
    return connections.client("alibaba", ALI_REGION).create(spec, wait=True, timeout=30)


def by_id(report: AuditReport) -> dict[str, Any]:
    return {r.id: r for r in report.resources}


# -- inheritance, what counts, and bulk reads, on each cloud ------------------------------------------------------


def test_aws_inheritance_and_reasons_in_one_describe_per_kind(aws: Any, connections: Connections) -> None:
    bucket = aws.create_bucket("audit-aws")
    vpc_logged, vpc_subnets, vpc_accept, vpc_failing = aws.seed_vpcs(AWS_REGION, 4)
    [in_logged] = aws.seed_subnets(AWS_REGION, vpc_logged, 1)
    [eni_in_logged] = aws.seed_network_interfaces(AWS_REGION, in_logged, 1)
    logged_subnet, bare_subnet = aws.seed_subnets(AWS_REGION, vpc_subnets, 2)
    [eni_via_subnet] = aws.seed_network_interfaces(AWS_REGION, logged_subnet, 1)
    own_eni, bare_eni = aws.seed_network_interfaces(AWS_REGION, bare_subnet, 2)
    aws_logs(connections, "vpc", [vpc_logged], bucket, traffic="all")
    aws_logs(connections, "subnet", [logged_subnet], bucket, traffic="all")
    aws_logs(connections, "network_interface", [own_eni], bucket, traffic="all")
    [accept_only] = aws_logs(connections, "vpc", [vpc_accept], bucket, traffic="accept")
    [failing] = aws_logs(connections, "vpc", [vpc_failing], bucket, traffic="all")
    _fail_delivery(failing.id, "Access error")
    wire = aws_wire(connections)

    criteria = CoverageCriteria(traffic="all", require_delivery_ok=True)
    report = multiflow.audit("aws", [AWS_REGION], criteria=criteria, connections=connections)

    assert wire.calls == Counter(dict.fromkeys(LISTINGS, 1))  # one read per kind, none per resource
    assert all(params["MaxResults"] == ["1000"] for _, params in wire.sent)
    found = by_id(report)
    levels = {rid: found[rid].level for rid in found if found[rid].covered}
    assert levels == {
        vpc_logged: CoverageLevel.OWN,
        in_logged: CoverageLevel.VPC,
        eni_in_logged: CoverageLevel.VPC,
        logged_subnet: CoverageLevel.OWN,
        eni_via_subnet: CoverageLevel.SUBNET,
        own_eni: CoverageLevel.OWN,
    }
    assert found[eni_via_subnet].resource.vpc_id == vpc_subnets
    assert found[bare_subnet].reasons == ("no flow log on it or its VPC",)
    assert found[bare_eni].reasons == ("no flow log on it, its subnet or its VPC",)
    assert found[vpc_accept].reasons == (f"flow log {accept_only.id} on it records accept traffic, not all traffic",)
    assert found[vpc_failing].reasons == (f"flow log {failing.id} on it fails to deliver: Access error",)
    assert (report.total().covered, report.total().total) == (6, 11)
    # Any traffic, delivery not required: the accept-only and the failing flow logs count.
    relaxed = multiflow.audit("aws", [AWS_REGION], connections=connections)
    assert {r.id for r in relaxed.uncovered} == {vpc_subnets, bare_subnet, bare_eni}


def _fail_delivery(flow_log_id: str, message: str) -> None:
    """Make moto (in this process) report the flow log's delivery as failed, as AWS does on a bucket policy error."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends

    flow_log = ec2_backends[DEFAULT_ACCOUNT_ID][AWS_REGION].flow_logs[flow_log_id]
    flow_log.deliver_logs_status = "FAILED"
    flow_log.deliver_logs_error_message = message


def test_alibaba_inheritance_inactive_and_wrong_traffic_in_bulk(emu: AlibabaEmulator, connections: Connections) -> None:
    vpc_logged, vpc_switches, vpc_stopped = (emu.add_vpc(ALI_REGION) for _ in range(3))
    under_logged = emu.add_vswitch(ALI_REGION, vpc_logged)
    eni_under_logged = emu.add_network_interface(ALI_REGION, under_logged)
    logged_switch, allow_switch = (emu.add_vswitch(ALI_REGION, vpc_switches) for _ in range(2))
    eni_via_switch = emu.add_network_interface(ALI_REGION, logged_switch)
    eni_allow = emu.add_network_interface(ALI_REGION, allow_switch)
    ali_logs(connections, "vpc", [vpc_logged])
    ali_logs(connections, "subnet", [logged_switch])
    [allow_only] = ali_logs(connections, "subnet", [allow_switch], traffic="accept")
    [stopped] = ali_logs(connections, "vpc", [vpc_stopped])
    emu.set_status(stopped.id, "Inactive")
    emu.reset_calls()

    report = multiflow.audit(
        ["alibaba"], {"alibaba": [ALI_REGION]}, criteria=CoverageCriteria(traffic="all"), connections=connections
    )

    assert emu.calls == Counter(
        {"DescribeVpcs": 1, "DescribeVSwitches": 1, "DescribeNetworkInterfaces": 1, "DescribeFlowLogs": 1}
    )
    found = by_id(report)
    assert {rid for rid, r in found.items() if r.covered} == {
        vpc_logged,
        under_logged,
        eni_under_logged,
        logged_switch,
        eni_via_switch,
    }
    assert found[eni_via_switch].level is CoverageLevel.SUBNET
    assert found[eni_under_logged].level is CoverageLevel.VPC
    assert found[vpc_stopped].reasons == (f"flow log {stopped.id} on it is inactive",)
    assert found[eni_allow].reasons == (
        f"flow log {allow_only.id} on its subnet {allow_switch} records accept traffic, not all traffic",
    )
    assert found[vpc_switches].reasons == ("no flow log on it",)
    # Counting inactive flow logs too, and any traffic: only the VPC without any flow log is left.
    loose = CoverageCriteria(require_active=False)
    relaxed = multiflow.audit(["alibaba"], [ALI_REGION], criteria=loose, connections=connections)
    assert [r.id for r in relaxed.uncovered] == [vpc_switches]


def test_alibaba_pages_past_50_and_100(emu: AlibabaEmulator, connections: Connections) -> None:
    vpc = emu.add_vpc(ALI_REGION)
    switches = [emu.add_vswitch(ALI_REGION, vpc) for _ in range(60)]
    enis = [emu.add_network_interface(ALI_REGION, switches[n % 60]) for n in range(110)]
    ali_logs(connections, "subnet", switches[:55])
    emu.reset_calls()

    report = multiflow.audit("alibaba", [ALI_REGION], kinds=["subnet", "network_interface"], connections=connections)

    assert emu.calls == Counter({"DescribeVSwitches": 2, "DescribeNetworkInterfaces": 2, "DescribeFlowLogs": 2})
    assert {r.id for r in report.uncovered} == set(switches[55:]) | {e for n, e in enumerate(enis) if n % 60 >= 55}
    [switch_row, eni_row] = report.summary()
    assert (switch_row.kind, switch_row.covered, switch_row.total) == (SUBNET, 55, 60)
    assert (eni_row.kind, eni_row.covered, eni_row.total) == (ENI, 105, 110)
    assert report.kinds == (SUBNET, ENI)


@pytest.mark.slow
def test_aws_pages_past_1000(aws: Any, connections: Connections) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends

    bucket = aws.create_bucket("audit-many")
    backend: Any = ec2_backends[DEFAULT_ACCOUNT_ID][AWS_REGION]
    # Seeded inside moto's (in-process) backend: 1002 CreateVpc calls over HTTP would take ~10 s.
    vpcs = [backend.create_vpc(cidr_block="10.0.0.0/16").id for _ in range(1002)]
    aws_logs(connections, "vpc", vpcs[:1001], bucket)  # two CreateFlowLogs calls: 1000 + 1
    wire = aws_wire(connections)

    report = multiflow.audit("aws", [AWS_REGION], kinds=["vpc"], connections=connections)

    assert wire.calls == Counter({"DescribeVpcs": 2, "DescribeFlowLogs": 2})
    assert report.flow_logs_read == 1001
    assert [r.id for r in report.uncovered] == [vpcs[1001]]
    assert (report.total().covered, report.total().total) == (1001, 1002)


def test_both_clouds_in_one_report(aws: Any, emu: AlibabaEmulator, connections: Connections) -> None:
    bucket = aws.create_bucket("audit-both")
    aws_vpcs = aws.seed_vpcs(AWS_REGION, 2)
    aws_logs(connections, "vpc", aws_vpcs[:1], bucket)
    ali_vpc = emu.add_vpc(ALI_REGION)
    ali_logs(connections, "vpc", [ali_vpc])
    emu.add_vswitch(ALI_REGION, ali_vpc)

    report = multiflow.audit(
        ["aws", "alibaba"],
        {"aws": [AWS_REGION], "alibaba": [ALI_REGION]},
        kinds=["vpc", "subnet"],
        connections=connections,
    )

    data = json.loads(json.dumps(report.as_dict()))
    assert data["total"] == {"covered": 3, "total": 4, "percent": 75.0}
    assert data["by_provider"] == [
        {"provider": "alibaba", "covered": 2, "total": 2, "percent": 100.0},
        {"provider": "aws", "covered": 1, "total": 2, "percent": 50.0},
    ]
    assert [(row["provider"], row["kind"], row["covered"], row["total"]) for row in data["summary"]] == [
        ("alibaba", "vpc", 1, 1),
        ("alibaba", "subnet", 1, 1),
        ("aws", "vpc", 1, 2),
        ("aws", "subnet", 0, 0),
    ]
    [missing] = [r for r in data["resources"] if not r["covered"]]
    assert missing == {
        "provider": "aws",
        "account": None,  # the default account: the fleet names none
        "region": AWS_REGION,
        "kind": "vpc",
        "id": aws_vpcs[1],
        "vpc_id": None,
        "subnet_id": None,
        "covered": False,
        "level": None,
        "covered_by": [],
        "reasons": ["no flow log on it"],
    }


# -- what counts, in memory ---------------------------------------------------------------------------------------


def flow_log(on: str, **fields: Any) -> FlowLog:
    values: dict[str, Any] = {
        "id": f"fl-{on}",
        "provider": "aws",
        "region": AWS_REGION,
        "resource": ResourceRef(kind=None, id=on),
        "status": FlowLogStatus.ACTIVE,
        "traffic": Traffic.ALL,
        "destination": S3Destination(bucket="arn:aws:s3:::central", prefix="prod/"),
        "delivery_status": DeliveryStatus.OK,
    }
    values.update(fields)
    return FlowLog(**values)


@pytest.mark.parametrize(
    ("criteria", "fields", "why"),
    [
        ({}, {"traffic": Traffic.REJECT}, None),
        ({"traffic": "all"}, {"traffic": Traffic.REJECT}, "records reject traffic, not all traffic"),
        ({"traffic": "reject"}, {"traffic": Traffic.ALL}, None),
        ({"traffic": "reject"}, {"traffic": Traffic.ACCEPT}, "records accept traffic, not reject (or all) traffic"),
        ({"traffic": "all"}, {"traffic": None}, None),
        ({}, {"status": FlowLogStatus.ACTIVATING}, "is activating"),
        ({"require_active": False}, {"status": FlowLogStatus.INACTIVE}, None),
        ({"require_active": False}, {"status": FlowLogStatus.DELETING}, "is being deleted"),
        ({"destination_kind": "sls"}, {}, "delivers to s3, not sls"),
        ({"destination_kind": "s3"}, {}, None),
        ({"destination": {"kind": "s3", "bucket": "central"}}, {}, None),
        (
            {"destination": {"kind": "s3", "bucket": "other"}},
            {},
            "delivers to bucket 'arn:aws:s3:::central', not 'other'",
        ),
        (
            {"destination": {"kind": "s3", "bucket": "central", "prefix": "dev/"}},
            {},
            "delivers to prefix 'prod/', not 'dev/'",
        ),
        ({"destination": {"kind": "sls", "project": "p", "logstore": "l"}}, {}, "delivers to s3, not sls"),
        ({"destination_kind": "s3"}, {"destination": None}, "has a destination the cloud does not report"),
        ({}, {"delivery_status": DeliveryStatus.FAILED}, None),
        ({"require_delivery_ok": True}, {"delivery_status": DeliveryStatus.FAILED}, "fails to deliver"),
        ({"require_delivery_ok": True}, {"delivery_status": DeliveryStatus.UNKNOWN}, "reports no delivery status"),
    ],
)
def test_what_counts(criteria: dict[str, Any], fields: dict[str, Any], why: str | None) -> None:
    assert CoverageCriteria(**criteria).refusal(flow_log("vpc-1", **fields)) == why


def test_every_matching_flow_log_is_listed_nearest_first() -> None:
    eni = CloudResource(kind=ENI, id="eni-1", vpc_id="vpc-1", subnet_id="subnet-1")
    logs = [flow_log("vpc-1"), flow_log("subnet-1"), flow_log("eni-1", id="fl-b"), flow_log("eni-1", id="fl-a")]
    [found] = assess("aws", AWS_REGION, [eni], logs, CoverageCriteria())
    assert [(c.flow_log_id, c.level.value) for c in found.covering] == [
        ("fl-a", "own"),
        ("fl-b", "own"),
        ("fl-subnet-1", "subnet"),
        ("fl-vpc-1", "vpc"),
    ]


def test_bad_arguments_fail_before_any_call() -> None:
    with pytest.raises(SpecError, match="kinds='transit_gateway'"):
        multiflow.audit("aws", [AWS_REGION], kinds=["transit_gateway"])
    with pytest.raises(SpecError, match="regions given for providers not audited"):
        multiflow.audit("aws", {"alibaba": [ALI_REGION]})
    with pytest.raises(SpecError, match="at least one region"):
        multiflow.audit("aws", [])


def test_a_provider_without_inventory_is_refused_by_name(aws: Any) -> None:
    from multiflow_aws.provider import AwsProvider

    class BareAws(AwsProvider):
        """The AWS provider, declaring no listing (its sessions here have none)."""

        capabilities = AwsProvider.capabilities.model_copy(update={"selectable_kinds": ()})

    class NoInventory(Connections):
        def client(self, provider: str, region: str, account: Account | None = None) -> Client:
            real = super().client(provider, region, account)
            bare = {"provider": provider, "region": region, "describe": real.session.describe}
            bare["modify"] = real.session.modify  # AWS declares in-place tag changes: the session must offer them
            session = type("Bare", (), bare)()
            return Client(BareAws(), session)

    with (
        NoInventory(lambda p, r: aws.connect_options()) as connections,
        pytest.raises(UnsupportedFeature, match="cannot list its resources"),
    ):
        multiflow.audit("aws", [AWS_REGION], connections=connections)


# -- --fix --------------------------------------------------------------------------------------------------------


def report_of(*resources: CloudResource, logs: Sequence[FlowLog] = (), **criteria: Any) -> AuditReport:
    crit = CoverageCriteria(**criteria)
    report = AuditReport(criteria=crit, kinds=(VPC, SUBNET, ENI), targets=(("aws", AWS_REGION),))
    report.resources = assess("aws", AWS_REGION, resources, logs, crit)
    return report


def test_fix_covers_the_highest_uncovered_level_only() -> None:
    report = report_of(
        CloudResource(kind=VPC, id="vpc-bare"),
        CloudResource(kind=SUBNET, id="subnet-in-bare", vpc_id="vpc-bare"),
        CloudResource(kind=ENI, id="eni-in-bare", vpc_id="vpc-bare", subnet_id="subnet-in-bare"),
        CloudResource(kind=VPC, id="vpc-stopped"),
        CloudResource(kind=SUBNET, id="subnet-in-stopped", vpc_id="vpc-stopped"),
        CloudResource(kind=ENI, id="eni-in-stopped", vpc_id="vpc-stopped", subnet_id="subnet-in-stopped"),
        logs=[flow_log("vpc-stopped", status=FlowLogStatus.INACTIVE)],
    )
    # A VPC with no flow log gets one, which will cover what is inside it; one whose own flow log does not count
    # may refuse a second (Alibaba), so what is inside it gets its own.
    assert fix_targets(report) == {
        ("aws", "", AWS_REGION, VPC): ["vpc-bare", "vpc-stopped"],  # "": the default account
        ("aws", "", AWS_REGION, SUBNET): ["subnet-in-stopped"],
    }


TEMPLATE = """\
name: netops
defaults: {tags: {team: netops}}
flow_logs:
  - name: central
    provider: aws
    regions: [eu-west-1]
    resources: {kind: subnet, where: {"tag:env": prod}}
    destination: {kind: s3, bucket: "arn:aws:s3:::central", prefix: fix/}
    traffic: %s
"""


def test_fix_fleet_round_trips_and_refuses_a_template_that_would_not_count() -> None:
    report = report_of(CloudResource(kind=VPC, id="vpc-1"), CloudResource(kind=VPC, id="vpc-2"), traffic="all")
    fleet = fix_fleet(report, loads(TEMPLATE % "all", source="template.yaml"), name="fix-1")
    assert fleet is not None
    again = loads(fleet_yaml(fleet, "a header"))
    assert again.name == "fix-1"
    [entry] = again.flow_logs
    assert (entry.name, entry.regions, entry.resources.ids) == (
        "central-us-east-1-vpc",
        [AWS_REGION],
        ["vpc-1", "vpc-2"],
    )
    spec = again.spec_for(entry, ["vpc-1"])
    assert (spec.traffic, spec.tags, spec.destination.prefix) == (Traffic.ALL, {"team": "netops"}, "fix/")  # type: ignore[union-attr]
    with pytest.raises(SpecError, match="its flow logs records accept traffic, not all traffic"):
        fix_fleet(report, loads(TEMPLATE % "accept"))
    alibaba_only = loads(TEMPLATE.replace("provider: aws", "provider: alibaba") % "all")
    with pytest.raises(SpecError, match="none for aws"):
        fix_fleet(report, alibaba_only)
    assert fix_fleet(report_of(), loads(TEMPLATE % "all")) is None


# -- the command ---------------------------------------------------------------------------------------------------


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ALIBABA_", "MULTIFLOW_"))}
    environment = {k: v for k, v in environment.items() if k.lower() not in ("http_proxy", "https_proxy")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "multiflow.cli", "audit", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def cli_env(aws: Any, emu: AlibabaEmulator) -> dict[str, str]:
    return {
        **aws.environment(AWS_REGION),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        ENDPOINT_VARIABLE: emu.endpoint,
        PROTOCOL_VARIABLE: "http",
    }


def test_cli_fail_under_fix_and_apply_reach_full_coverage(
    aws: Any, emu: AlibabaEmulator, connections: Connections, tmp_path: Path
) -> None:
    bucket = aws.create_bucket("audit-cli")
    fix_bucket = aws.create_bucket("audit-fix")
    [aws_vpc] = aws.seed_vpcs(AWS_REGION, 1)
    aws_subnets = aws.seed_subnets(AWS_REGION, aws_vpc, 2)
    aws_logs(connections, "subnet", aws_subnets[:1], bucket, traffic="reject")  # not all traffic: does not count
    ali_vpc = emu.add_vpc(ALI_REGION)
    ali_switch = emu.add_vswitch(ALI_REGION, ali_vpc)
    [stopped] = ali_logs(connections, "subnet", [ali_switch])
    emu.set_status(stopped.id, "Inactive")
    env = cli_env(aws, emu)
    scope = ["--provider", "aws,alibaba", "--region", f"aws:{AWS_REGION},alibaba:{ALI_REGION}", "--traffic", "all"]

    under = run_cli(*scope, "--fail-under", "100", env=env)
    assert under.returncode == 3, under.stderr
    assert "Coverage: 0/5 (0.0%); alibaba 0/2, aws 0/3." in under.stdout
    assert f"flow log {stopped.id} on it is inactive" in under.stdout
    assert run_cli(*scope, "--fail-under", "0", env=env).returncode == 0
    bad = run_cli("--provider", "aws", "--region", "alibaba:cn-hangzhou", env=env)
    assert bad.returncode == 1 and "PROVIDER:REGION" in bad.stderr

    template = tmp_path / "template.yaml"
    template.write_text(
        textwrap.dedent(f"""\
        name: netops
        defaults: {{traffic: all, interval: 60}}
        flow_logs:
          - name: aws-all
            provider: aws
            regions: [{AWS_REGION}]
            resources: {{kind: vpc, ids: [vpc-placeholder]}}
            destination: {{kind: s3, bucket: "{fix_bucket}"}}
          - name: ali-all
            provider: alibaba
            regions: [{ALI_REGION}]
            resources: {{kind: vpc, ids: [vpc-placeholder]}}
            destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
        """)
    )
    fixed_path = tmp_path / "fix.yaml"
    fixing = run_cli(*scope, "--fix", str(template), "--fix-output", str(fixed_path), "-o", "json", env=env)
    assert fixing.returncode == 0, fixing.stderr
    answer = json.loads(fixing.stdout)
    assert answer["total"] == {"covered": 0, "total": 5, "percent": 0.0}
    # One flow log per VPC covers everything inside it: two creates for five uncovered resources.
    changes = [(c["action"], c["provider"], c["resource_id"]) for c in answer["fix"]["plan"]["changes"]]
    assert changes == [("create", "alibaba", ali_vpc), ("create", "aws", aws_vpc)]
    assert answer["fix"]["fleet_file"] == str(fixed_path)

    assert multiflow.apply(multiflow.plan(load(fixed_path), connections), connections, timeout=60).ok
    after = run_cli(*scope, "--fail-under", "100", "-o", "json", env=env)
    assert after.returncode == 0, after.stdout
    assert json.loads(after.stdout)["total"] == {"covered": 5, "total": 5, "percent": 100.0}


def test_cli_sandbox_audits_the_demo_estate(capsys: pytest.CaptureFixture[str]) -> None:
    from multiflow.cli import main

    code = main(
        ["audit", "--provider", "alibaba", "--region", ALI_REGION, "--sandbox", "--fail-under", "1", "-o", "json"]
    )
    answer = json.loads(capsys.readouterr().out)
    assert code == 3 and answer["ok"] is False
    # The demo: two VPCs, four vSwitches, four ENIs, and no flow log yet.
    assert answer["total"] == {"covered": 0, "total": 10, "percent": 0.0}

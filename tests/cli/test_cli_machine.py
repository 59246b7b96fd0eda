"""Machine output of the multiflow command, end to end in subprocesses against `sandbox serve`: created ids in
apply -o json, versioned plan JSON with before/after, saved plans, audit -o sarif|junit|csv and --destination,
adopt, and --profile."""

from __future__ import annotations

import csv
import io
import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_cli import multiflow, served, write_fleet

__all__ = ["served"]  # the module-scoped `sandbox serve` of test_cli, a server of this module's own

AUDIT = ("audit", "--provider", "aws,alibaba", "--region", "us-east-1,alibaba:cn-hangzhou", "--kind", "vpc")


def as_json(done: Any) -> Any:
    assert done.returncode in (0, 2), done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def env(served: dict[str, Any]) -> dict[str, str]:
    return dict(served["environment"])


@pytest.fixture
def client(served: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A multiflow client of the served AWS sandbox in this process (to make flow logs multiflow does not own)."""
    import multiflow as library

    for key, value in served["environment"].items():
        monkeypatch.setenv(key, value)
    with library.connect("aws", region="us-east-1") as made:
        yield made


@pytest.fixture
def fleet(served: dict[str, Any], tmp_path: Path, env: dict[str, str]) -> Iterator[Path]:
    """The e2e fleet file; whatever it made is destroyed after the test."""
    path = write_fleet(tmp_path, served["seeded"])
    yield path
    multiflow("destroy", str(path), "--yes", env=env)


def test_apply_json_reports_the_ids_created_and_plan_json_has_before_and_after(
    fleet: Path, env: dict[str, str], served: dict[str, Any], tmp_path: Path
) -> None:
    plan = as_json(multiflow("plan", str(fleet), "-o", "json", env=env))
    assert plan["format_version"] == "1.0" and plan["kind"] == "multiflow-plan"
    assert plan["fleet_digest"].startswith("sha256:")
    create = next(c for c in plan["changes"] if c["provider"] == "aws")
    assert create["before"] is None
    assert create["after"]["destination"]["bucket"].endswith(served["seeded"]["aws"]["bucket"])
    assert create["after"]["resources"]["ids"] == [create["resource_id"]]

    applied = as_json(multiflow("apply", str(fleet), "--yes", "-o", "json", env=env))
    assert applied["format_version"] == "1.0"
    ids = {c["resource_id"]: c["flow_log_id"] for c in applied["result"]["done"]}
    assert None not in ids.values() and len(ids) == len(plan["changes"])
    both = ("list", "--provider", "aws,alibaba", "--region", "us-east-1,alibaba:cn-hangzhou", "-o", "json")
    listed = {f["resource"]["id"]: f["id"] for f in as_json(multiflow(*both, env=env))}
    assert {resource: listed.get(resource) for resource in ids} == ids

    changed = write_fleet(tmp_path, served["seeded"], interval=600)
    update = as_json(multiflow("plan", str(changed), "-o", "json", env=env))
    alibaba = next(c for c in update["changes"] if c["provider"] == "alibaba")
    assert alibaba["action"] == "update"
    assert {"field": "interval", "before": 60, "after": 600} in alibaba["differences"]
    assert alibaba["before"]["interval"] == 60 and alibaba["after"]["interval"] == 600
    assert alibaba["before"]["id"] == ids[alibaba["resource_id"]]
    multiflow("apply", str(write_fleet(tmp_path, served["seeded"])), "--yes", env=env)


def test_a_saved_plan_applies_only_while_the_file_and_the_clouds_stand_still(
    fleet: Path, env: dict[str, str], tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    made = multiflow("plan", str(fleet), "--out", str(saved), env=env)
    assert made.returncode == 0, made.stderr
    text = saved.read_text()
    for secret in (env["AWS_SECRET_ACCESS_KEY"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"], env["AWS_ACCESS_KEY_ID"]):
        assert secret not in text
    document = json.loads(text)
    assert document["format_version"] == "1.0" and document["fleet_file"] == str(fleet.resolve())

    stale = tmp_path / "stale.json"
    stale.write_text(text)
    applied = multiflow("apply", str(saved), "-o", "json", env=env)  # no --yes: a saved plan was reviewed
    assert applied.returncode == 0, applied.stderr
    done = json.loads(applied.stdout)["result"]["done"]
    assert len(done) == len(document["changes"]) and all(c["flow_log_id"] for c in done)

    refused = multiflow("apply", "--plan", str(stale), env=env)
    assert refused.returncode == 1
    assert "the clouds moved since the plan was saved" in refused.stderr
    some = document["changes"][0]
    assert f"{some['resource_id']} (entry {some['entry']}): planned create, now keep" in refused.stderr

    again = tmp_path / "again.json"
    assert multiflow("plan", str(fleet), "--out", str(again), env=env).returncode == 0
    fleet.write_text(fleet.read_text().replace("team: netops", "team: secops"))
    edited = multiflow("apply", str(again), env=env)
    assert edited.returncode == 1
    assert f"the fleet file {fleet.resolve()} changed since the plan was saved" in edited.stderr

    both = multiflow("apply", str(fleet), "--plan", str(again), env=env)
    assert both.returncode == 1 and "not both" in both.stderr
    fleet.write_text(fleet.read_text().replace("team: secops", "team: netops"))


def test_audit_writes_sarif_junit_and_csv_and_checks_the_destination(fleet: Path, env: dict[str, str]) -> None:
    assert multiflow("apply", str(fleet), "--yes", env=env).returncode == 0
    report = as_json(multiflow(*AUDIT, "-o", "json", env=env))
    assert report["format_version"] == "1.0"
    uncovered = {r["id"] for r in report["resources"] if not r["covered"]}
    assert uncovered and len(uncovered) < len(report["resources"])

    sarif = as_json(multiflow(*AUDIT, "-o", "sarif", env=env))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run,) = sarif["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["multiflow/uncovered-resource"]
    assert {r["locations"][0]["logicalLocations"][0]["name"] for r in run["results"]} == uncovered
    assert len(run["results"]) == len(uncovered)
    assert all(r["level"] == "error" and r["partialFingerprints"] for r in run["results"])

    junit = multiflow(*AUDIT, "-o", "junit", env=env)
    root = ET.fromstring(junit.stdout)
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(report["resources"]) == int(root.get("tests", "0"))
    assert {c.get("name") for c in cases if c.find("failure") is not None} == uncovered
    assert int(root.get("failures", "0")) == len(uncovered)

    rows = list(csv.DictReader(io.StringIO(multiflow(*AUDIT, "-o", "csv", env=env).stdout)))
    assert len(rows) == len(report["resources"])
    assert {r["id"] for r in rows if r["covered"] == "false"} == uncovered
    assert list(rows[0])[:4] == ["provider", "region", "kind", "id"]

    aws = ("audit", "--provider", "aws", "--region", "us-east-1", "--kind", "vpc", "-o", "json")
    central = as_json(multiflow(*aws, "--destination", "s3:bucket=central-flowlogs", env=env))
    elsewhere = as_json(multiflow(*aws, "--destination", "s3:bucket=another-bucket", env=env))
    assert central["total"]["covered"] == 2 and elsewhere["total"]["covered"] == 0
    reasons = [why for r in elsewhere["resources"] for why in r["reasons"]]
    assert any("not 'another-bucket'" in why for why in reasons), reasons

    bad = multiflow(*aws, "--destination", "s3", env=env)
    assert bad.returncode == 1 and "--destination 's3': KIND:FIELD=VALUE" in bad.stderr
    unknown = multiflow(*aws, "--destination", "s3:bukket=x", env=env)
    assert unknown.returncode == 1 and "--destination" in unknown.stderr and "bukket" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def _unmanaged(client: Any, after: dict[str, Any], extra_tags: dict[str, str] | None = None, **changes: Any) -> str:
    from multiflow.spec import FlowLogSpec

    spec = FlowLogSpec.model_validate({**after, **changes})
    (made,) = client.create(spec, extra_tags=extra_tags)
    return str(made.id)


def test_adopt_takes_over_unmanaged_flow_logs_that_match_and_names_the_others(
    fleet: Path, env: dict[str, str], client: Any, served: dict[str, Any]
) -> None:
    vpcs = [*served["seeded"]["aws"]["vpcs"]["prod"], *served["seeded"]["aws"]["vpcs"]["dev"]]
    fleet.write_text(fleet.read_text().replace('where: {"tag:env": prod}', f"ids: [{', '.join(vpcs)}]", 1))
    plan = as_json(multiflow("plan", str(fleet), "-o", "json", env=env))
    aws = [c for c in plan["changes"] if c["provider"] == "aws"]
    matching = _unmanaged(client, aws[0]["after"])
    different = _unmanaged(client, aws[1]["after"], interval=600)
    others = _unmanaged(client, aws[2]["after"], extra_tags={"multiflow:managed": "other", "multiflow:spec": "x@0"})
    try:
        conflicts = as_json(multiflow("plan", str(fleet), "--adopt", "-o", "json", env=env))
        in_the_way = {c["flow_log_id"] for c in conflicts["changes"] if c["action"] == "conflict"}
        assert in_the_way == {matching, different, others}
        assert [a["flow_log_id"] for a in conflicts["adopt"]["adoptions"]] == [matching]
        why_not = {r["flow_log_id"]: r["why_not"] for r in conflicts["adopt"]["not_adoptable"]}
        assert "interval: 600 → 60" in why_not[different]
        assert why_not[others] == f"{others} is managed by fleet 'other'"

        shown = multiflow("plan", str(fleet), "--adopt", env=env)
        assert "1 flow log(s) to adopt; 2 conflict(s) adopt leaves alone." in shown.stdout

        adopted = multiflow("adopt", str(fleet), "--yes", "-o", "json", env=env)
        assert adopted.returncode == 0, adopted.stdout + adopted.stderr
        assert [a["flow_log_id"] for a in json.loads(adopted.stdout)["result"]["done"]] == [matching]

        after = as_json(multiflow("plan", str(fleet), "-o", "json", env=env))
        by_id = {c["flow_log_id"]: c["action"] for c in after["changes"] if c["flow_log_id"]}
        assert by_id == {matching: "keep", different: "conflict", others: "conflict"}
        assert client.get(matching).tags["multiflow:managed"] == "e2e"
    finally:
        client.delete([different, others])


def test_adopt_tags_an_alibaba_flow_log_in_place(
    served: dict[str, Any], env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiflow as library

    fleet = write_fleet(tmp_path, served["seeded"])
    alibaba = next(
        c
        for c in as_json(multiflow("plan", str(fleet), "-o", "json", env=env))["changes"]
        if c["provider"] == "alibaba"
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from multiflow.spec import FlowLogSpec

    keys = {  # explicit: the credential chain may have read the environment when first imported
        "access_key_id": env["ALIBABA_CLOUD_ACCESS_KEY_ID"],
        "access_key_secret": env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
    }
    with library.connect("alibaba", region="cn-hangzhou", **keys) as alibaba_client:
        (made,) = alibaba_client.create(FlowLogSpec.model_validate(alibaba["after"]))
        try:
            done = multiflow("adopt", str(fleet), "--yes", env=env)
            assert done.returncode == 0, done.stdout + done.stderr
            assert alibaba_client.get(made.id).tags["multiflow:managed"] == "e2e"  # read back from the emulator
            again = as_json(multiflow("plan", str(fleet), "-o", "json", env=env))
            assert {c["action"] for c in again["changes"] if c["flow_log_id"] == made.id} == {"keep"}
        finally:
            alibaba_client.delete([made.id])


def test_profile_picks_each_sdks_named_profile(served: dict[str, Any], tmp_path: Path) -> None:
    environment = served["environment"]
    (tmp_path / "aws-credentials").write_text(
        textwrap.dedent(f"""\
        [sandbox]
        aws_access_key_id = {environment["AWS_ACCESS_KEY_ID"]}
        aws_secret_access_key = {environment["AWS_SECRET_ACCESS_KEY"]}
        """)
    )
    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text(
        json.dumps(
            {
                "current": "",
                "profiles": [
                    {
                        "name": "ops",
                        "mode": "AK",
                        "access_key_id": environment["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                        "access_key_secret": environment["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
                        "region_id": "cn-hangzhou",
                    }
                ],
            }
        )
    )
    secretless = {
        k: v
        for k, v in environment.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") and not k.startswith("ALIBABA_CLOUD_ACCESS_KEY")
    }
    env = {
        **secretless,
        "HOME": str(tmp_path),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
    }
    both = ("list", "--provider", "aws,alibaba", "--region", "us-east-1,alibaba:cn-hangzhou", "-o", "json")
    listed = multiflow(*both, "--profile", "aws=sandbox", "--profile", "alibaba=ops", env=env)
    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)

    fleet = write_fleet(tmp_path, served["seeded"])
    planned = multiflow(
        "plan", str(fleet), "-o", "json", "--profile", "aws=sandbox", "--profile", "alibaba=ops", env=env
    )
    assert planned.returncode == 0, planned.stderr
    audited = multiflow(*AUDIT, "-o", "csv", "--profile", "aws=sandbox", "--profile", "alibaba=ops", env=env)
    assert audited.returncode in (0, 3), audited.stderr
    without = multiflow("list", "--provider", "aws", "--region", "us-east-1", env=env)
    assert without.returncode != 0
    unknown = multiflow("list", "--provider", "aws", "--region", "us-east-1", "--profile", "aws=nosuch", env=env)
    assert unknown.returncode == 1 and "The config profile (nosuch) could not be found" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    for wrong in ("aws", "aws=", "nosuch=x"):
        refused = multiflow("list", "--provider", "aws", "--region", "us-east-1", "--profile", wrong, env=env)
        assert refused.returncode == 1, refused.stderr
        assert "--profile" in refused.stderr or "'nosuch'" in refused.stderr
        assert "Traceback" not in refused.stderr
    sandboxed = multiflow("plan", str(fleet), "--sandbox", "--profile", "aws=x")
    assert sandboxed.returncode == 1 and "--profile with --sandbox" in sandboxed.stderr

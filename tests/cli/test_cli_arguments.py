"""What the command line makes of the organization flags before any call: a file it cannot read, ``--shard``
without ``--accounts``, and ``PROVIDER:all`` beside providers the ``--region`` does not name; in process."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from multiflow.cli import main


@pytest.fixture(autouse=True)
def no_configured_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider has a configured region unless a test gives it one."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "ALIBABA_CLOUD_REGION_ID", "ALIBABA_CLOUD_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/multiflow-tests")
    monkeypatch.setenv("ALIBABA_CLOUD_CONFIG_FILE", "/nonexistent/multiflow-tests")


@pytest.mark.parametrize("command", ["list", "audit"])
def test_an_accounts_file_that_cannot_be_read_is_a_bad_file_as_for_plan(
    command: str, tmp_path: Path, capsys: Any
) -> None:
    """Exit 1 naming the file, as ``plan missing.yaml``, before anything else (even a region to find)."""
    missing = str(tmp_path / "missing.yaml")
    assert main(["plan", missing]) == 1
    planned = capsys.readouterr().err
    assert main([command, "--provider", "example", "--accounts", missing]) == 1
    said = capsys.readouterr().err
    assert said == planned and "missing.yaml" in said and "a readable file" in said


def test_an_unreadable_fix_template_is_named_before_the_regions(tmp_path: Path, capsys: Any) -> None:
    missing = str(tmp_path / "template.yaml")
    assert main(["audit", "--provider", "example", "--fix", missing]) == 1
    assert "template.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["list", "audit"])
def test_shard_without_accounts_is_a_usage_error(command: str, capsys: Any) -> None:
    code = main([command, "--provider", "example", "--region", "local-1", "--shard", "1/2", "-o", "json"])
    captured = capsys.readouterr()
    assert code == 64
    assert "--shard 1/2: shards split the accounts of --accounts FILE; add --accounts" in captured.err
    assert json.loads(captured.out)["ok"] is False


def test_provider_all_leaves_the_other_providers_their_configured_region(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """``--region alibaba:all`` says nothing of AWS: AWS audits its configured region, Alibaba every region."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    argv = ["audit", "--provider", "aws,alibaba", "--region", "alibaba:all", "--sandbox", "-o", "json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    regions: dict[str, set[str]] = {}
    for row in report["summary"]:
        regions.setdefault(row["provider"], set()).add(row["region"])
    assert regions["aws"] == {"us-east-1"}
    assert {"cn-hangzhou", "cn-shanghai"} <= regions["alibaba"]


def test_provider_region_beside_a_provider_without_a_configured_region_says_which(capsys: Any) -> None:
    assert main(["list", "--provider", "aws,alibaba", "--region", "alibaba:all"]) == 1
    assert "no region for aws: add --region REGION (or aws:REGION), or set AWS_REGION" in capsys.readouterr().err


def test_a_bad_region_names_a_few_regions_and_how_many_more(tmp_path: Path, capsys: Any) -> None:
    """The message stays a line a terminal can show (the JSON problem keeps the list for machines)."""
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "flow_logs:\n  - name: n\n    provider: alibaba\n    regions: [cn-nowhere-9]\n"
        "    resources: {kind: vpc, ids: [vpc-bp1aaaaaaaaaaaaaaaaaa]}\n"
        "    destination: {kind: sls, project: proj-one, logstore: store-one}\n"
    )
    assert main(["validate", str(path)]) == 1
    said = capsys.readouterr().err
    assert re.search(r"allowed: 'cn-qingdao'(, '[a-z0-9-]+'){5} \.\.\. and \d+ more$", said.strip()), said
    assert main(["validate", str(path), "-o", "json"]) == 1
    [problem] = json.loads(capsys.readouterr().out)["problems"]
    assert len(problem["allowed"]) > 8

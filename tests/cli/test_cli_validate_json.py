"""``multiflow validate -o json`` lists each problem of a bad file as an object CI can point at."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from multiflow.cli import main

SHAPE_PROBLEMS = """\
    name: netops
    flow_logs:
      - name: vpcs
        provider: aws
        regions: [us-east-1]
        resources: {kind: vpc, ids: [vpc-0123abcd]}
        destination: {kind: s3, bucket: central-flowlogs}
        traffic: sideways
        interval: often
    """

PROVIDER_PROBLEMS = """\
    name: netops
    flow_logs:
      - name: vpcs
        provider: aws
        regions: [us-east-1]
        resources: {kind: vpc, ids: [subnet-0123abcd]}
        destination: {kind: s3, bucket: central-flowlogs}
      - name: wan
        provider: aws
        regions: [us-east-1]
        resources: {kind: core_network, ids: [core-network-0123abcd]}
        destination: {kind: s3, bucket: central-flowlogs}
        interval: 600
    """


def validated(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    path = tmp_path / "fleet.yaml"
    path.write_text(textwrap.dedent(text))
    assert main(["validate", str(path), "-o", "json"]) == 1
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and document["error_class"] == "FleetError"
    return document


def test_every_problem_of_a_pass_is_an_object_with_its_field_value_and_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = validated(tmp_path, SHAPE_PROBLEMS, capsys)
    problems = document["problems"]
    assert isinstance(problems, list)
    assert [(p["field"], p["value"], p["line"], p["column"]) for p in problems] == [
        ("flow_logs[0].traffic", "sideways", 8, 5),
        ("flow_logs[0].interval", "often", 9, 5),
    ]
    assert all(p["source"] == str(tmp_path / "fleet.yaml") and p["allowed"] for p in problems)


def test_a_providers_problems_name_the_provider_and_keep_allowed_values_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = validated(tmp_path, PROVIDER_PROBLEMS, capsys)
    problems = document["problems"]
    assert isinstance(problems, list)
    assert [(p["field"], p["provider"], p["line"]) for p in problems] == [
        ("flow_logs[0].resources.ids[0]", "aws", 6),
        ("flow_logs[1].interval", "aws", 13),
    ]
    assert problems[1]["value"] == 600 and problems[1]["allowed"] == [60]
    assert "core_network" in problems[1]["reason"]

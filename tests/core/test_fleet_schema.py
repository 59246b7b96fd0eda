"""``multiflow schema``: the fleet files' JSON Schema is built from the loaded providers' own models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from multiflow.schema import fleet_schema as json_schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json_schema()


def entry(**changes: Any) -> dict[str, Any]:
    base = {
        "name": "e",
        "provider": "example",
        "regions": ["local-1"],
        "resources": {"kind": "vpc", "ids": ["net-1"]},
        "destination": {"kind": "example_bucket", "bucket": "logs"},
    }
    return {"flow_logs": [{**base, **changes}]}


def test_a_third_party_providers_destination_and_options_are_in_the_schema(schema: dict[str, Any]) -> None:
    mapping = schema["$defs"]["Destination"]["discriminator"]["mapping"]
    assert {"s3", "cloudwatch_logs", "firehose", "sls", "example_bucket"} <= set(mapping)
    options = schema["$defs"]["FleetEntry"]["properties"]["options"]["properties"]
    assert {"aws", "alibaba", "example"} <= set(options)
    jsonschema.validate(entry(example={"sampling": 0.5}), schema)
    jsonschema.validate(entry(options={"example": {"sampling": 0.5}}), schema)


@pytest.mark.parametrize(
    "changes",
    [
        {"destination": {"kind": "example_bucket", "bucket": "logs", "colour": "blue"}},
        {"destination": {"kind": "ftp", "host": "x"}},
        {"example": {"sampling": 2}},
        {"options": {"nope": {}}},
    ],
)
def test_the_schema_refuses_what_the_models_refuse(schema: dict[str, Any], changes: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(entry(**changes), schema)


def test_the_example_fleet_file_is_valid_under_the_printed_schema() -> None:
    printed = subprocess.run(
        [str(Path(sys.executable).parent / "multiflow"), "schema"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    fleet = yaml.safe_load((ROOT / "docs" / "examples" / "fleet.yaml").read_text())
    jsonschema.validate(fleet, json.loads(printed))

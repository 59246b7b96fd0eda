"""FlowLogSpec: every refusal is a SpecError naming the field, the value and what is allowed."""

from __future__ import annotations

import pytest

from multiflow.errors import SpecError
from multiflow.spec import FlowLogSpec, ResourceKind, Traffic
from multiflow_alibaba.options import SlsDestination
from multiflow_aws.destinations import S3Destination

BASE = {"resources": {"kind": "vpc", "ids": ["vpc-1"]}, "destination": {"kind": "s3", "bucket": "arn:aws:s3:::b"}}


def spec(**changes: object) -> FlowLogSpec:
    return FlowLogSpec(**{**BASE, **changes})


def test_minimal_spec_takes_provider_defaults() -> None:
    made = spec()
    assert made.resources.kind is ResourceKind.VPC
    assert made.traffic is None and made.interval is None and made.fields is None
    assert isinstance(made.destination, S3Destination)
    assert made.destination.file_format == "plain_text"


def test_destination_is_chosen_by_kind() -> None:
    made = spec(destination={"kind": "sls", "project": "p", "logstore": "l"})
    assert isinstance(made.destination, SlsDestination)


@pytest.mark.parametrize(
    ("changes", "field", "value", "allowed"),
    [
        ({"traffic": "everything"}, "traffic", "everything", "'all', 'accept' or 'reject'"),
        ({"interval": 0}, "interval", 0, "greater than 0"),
        ({"resources": {"kind": "router", "ids": ["r-1"]}}, "resources.kind", "router", "'vpc', 'subnet'"),
        ({"resources": {"kind": "vpc", "ids": []}}, "resources.ids", [], "at least 1 item"),
        (
            {"resources": {"kind": "vpc", "ids": ["vpc-1", "vpc-1"]}},
            "resources.ids",
            ["vpc-1", "vpc-1"],
            "repeated: vpc-1",
        ),
        ({"resources": {"kind": "vpc", "ids": ["vpc 1"]}}, "resources.ids.0", "vpc 1", "match pattern"),
        ({"destination": {"kind": "ftp"}}, "destination", {"kind": "ftp"}, "'cloudwatch_logs', 'example_bucket'"),
        ({"destination": {"kind": "s3"}}, "destination.bucket", None, "Field required"),
        (
            {"destination": {"kind": "s3", "bucket": "arn:aws:s3:::b", "file_format": "csv"}},
            "destination.file_format",
            "csv",
            "'plain_text' or 'parquet'",
        ),
        ({"fields": ["src-addr"]}, "fields.0", "src-addr", "match pattern"),
        ({"fields": ["src_addr", "src_addr"]}, "spec", None, "repeated: src_addr"),
        ({"name": ""}, "name", "", "at least 1 character"),
        ({"colour": "blue"}, "colour", "blue", "Extra inputs are not permitted"),
        (
            {"aws": {"tag_fields": [{"resource_type": "vpc", "keys": ["a"]}]}},
            "options.aws.tag_fields.0.resource_type",
            "vpc",
            "'network-interface', 'instance' or 'auto-scaling-group'",
        ),
        ({"alibaba": {"ip_version": "IPv5"}}, "options.alibaba.ip_version", "IPv5", "'IPv4' or 'DualStack'"),
        ({"options": {"gcp": {}}}, "options", {"gcp": {}}, "no loaded provider of that name takes options"),
        ({"aws": {}, "options": {"aws": {}}}, "spec", None, "given twice"),
        ({"interval_policy": "round"}, "interval_policy", "round", "'exact' or 'finer'"),
    ],
)
def test_refusals_name_field_value_and_allowed(changes: dict, field: str, value: object, allowed: str) -> None:
    with pytest.raises(SpecError) as caught:
        spec(**changes)
    error = caught.value
    assert error.field == field
    if value is not None:
        assert error.value == value
    assert allowed in str(error)
    assert str(error).startswith(f"{field}=")


def test_spec_error_is_a_value_error_and_keeps_every_complaint() -> None:
    with pytest.raises(ValueError) as caught:
        spec(traffic="x", interval=-1)
    assert len(caught.value.errors) == 2


def test_specs_are_immutable() -> None:
    made = spec()
    with pytest.raises(Exception, match="frozen"):
        made.interval = 60  # type: ignore[misc]


def test_settings_digest_ignores_ids_but_not_settings() -> None:
    one = spec()
    assert one.settings_digest() == spec(resources={"kind": "vpc", "ids": ["vpc-2", "vpc-3"]}).settings_digest()
    assert one.settings_digest() != spec(traffic="accept").settings_digest()
    assert one.settings_digest() != spec(resources={"kind": "subnet", "ids": ["vpc-1"]}).settings_digest()
    assert len(one.settings_digest()) == 16


def test_for_ids_keeps_settings() -> None:
    made = spec(traffic=Traffic.REJECT).for_ids(["vpc-9"])
    assert made.resources.ids == ["vpc-9"] and made.traffic is Traffic.REJECT


def test_round_trips_through_json() -> None:
    made = spec(fields=["src_addr"], tags={"a": "b"}, aws={"cross_account_role": "arn:aws:iam::1:role/x"})
    assert FlowLogSpec.model_validate_json(made.model_dump_json()) == made

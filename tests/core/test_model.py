"""FlowLog construction paths agree."""

from __future__ import annotations

import datetime

import pytest

from multiflow.model import DeliveryStatus, FlowLog, FlowLogStatus, ResourceRef, resource_ref
from multiflow.spec import ResourceKind, Traffic
from multiflow_aws.destinations import S3Destination


def values() -> dict[str, object]:
    return {
        "id": "fl-1",
        "provider": "aws",
        "region": "us-east-1",
        "resource": ResourceRef(kind=ResourceKind.VPC, id="vpc-1"),
        "status": FlowLogStatus.ACTIVE,
        "traffic": Traffic.ALL,
        "destination": S3Destination(bucket="arn:aws:s3:::b"),
        "interval": 60,
        "fields": ["src_addr"],
        "name": "n",
        "description": None,
        "tags": {"a": "b"},
        "options": None,
        "delivery_status": DeliveryStatus.OK,
        "delivery_error": None,
        "created_at": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
        "raw": {"FlowLogId": "fl-1"},
    }


def test_trusted_equals_validated() -> None:
    trusted = FlowLog.trusted(**values())
    validated = FlowLog(**values())
    assert trusted == validated
    assert trusted.model_dump() == validated.model_dump()
    assert repr(trusted) == repr(validated)
    with pytest.raises(Exception, match="frozen"):
        trusted.id = "other"  # type: ignore[misc]


def test_trusted_refuses_a_missing_field() -> None:
    partial = values()
    del partial["raw"]
    with pytest.raises(TypeError, match="missing: raw"):
        FlowLog.trusted(**partial)
    with pytest.raises(TypeError, match="exactly every field"):
        FlowLog.trusted(**values(), colour="red")


def test_trusted_copies_do_not_share_what_they_change() -> None:
    first = FlowLog.trusted(**values())
    second = first.model_copy(update={"name": "other"})
    assert (first.name, second.name) == ("n", "other")
    assert FlowLog.trusted(**values()).model_fields_set == set(FlowLog.model_fields)
    assert resource_ref(ResourceKind.VPC, "vpc-1") == ResourceRef(kind=ResourceKind.VPC, id="vpc-1")

"""Alibaba records become FlowLogs without a second validation pass: the result equals a validated FlowLog."""

from __future__ import annotations

from typing import Any

import pytest

from multiflow.model import FlowLog
from multiflow_alibaba.mapping import flow_log_from_record

FULL: dict[str, Any] = {
    "FlowLogId": "fl-1",
    "RegionId": "cn-hangzhou",
    "ResourceType": "VSwitch",
    "ResourceId": "vsw-1",
    "Status": "Active",
    "TrafficType": "All",
    "ProjectName": "p",
    "LogStoreName": "l",
    "AggregationInterval": 10,
    "FlowLogName": "n",
    "Description": "d",
    "Tags": {"Tag": [{"Key": "multiflow:managed", "Value": "fleet"}, {"Key": "team", "Value": ""}]},
    "TrafficPath": {"TrafficPathList": ["all"]},
    "IpVersion": "DualStack",
    "ResourceGroupId": "rg-1",
    "BusinessStatus": "Abnormal",
    "FlowLogDeliverStatus": "FAILED",
    "FlowLogDeliverErrorMessage": "no",
    "CreationTime": "2026-01-01T00:00:00Z",
}
BARE: dict[str, Any] = {"FlowLogId": "fl-2", "ResourceType": "Unknown", "Status": "Strange"}


def validated(made: FlowLog) -> FlowLog:
    return FlowLog(**{name: getattr(made, name) for name in FlowLog.model_fields})


@pytest.mark.parametrize("record", [FULL, BARE], ids=["full", "bare"])
@pytest.mark.parametrize("include_raw", [True, False])
def test_a_record_builds_the_flow_log_a_validated_model_would(record: dict[str, Any], include_raw: bool) -> None:
    made = flow_log_from_record(record, "cn-hangzhou", include_raw)
    assert made == validated(made)
    assert made.model_dump() == validated(made).model_dump()
    assert made.raw == (record if include_raw else {})


def test_repeated_destinations_and_options_are_one_object() -> None:
    first = flow_log_from_record(FULL, "cn-hangzhou")
    second = flow_log_from_record({**FULL, "FlowLogId": "fl-3"}, "cn-hangzhou")
    assert first.destination is second.destination and first.options is second.options
    assert first.destination is not None and (first.destination.project, first.destination.logstore) == ("p", "l")
    assert first.options.ip_version == "DualStack" and first.interval == 600
    assert flow_log_from_record(BARE, "cn-hangzhou").region == "cn-hangzhou"

"""FlowLogSpec → CreateFlowLog parameters, and DescribeFlowLogs records → neutral FlowLog.

Parameters are kept as plain dicts keyed by the API's own names (``ResourceType``, ``Tag``...), so that they can
be compared with what DescribeFlowLogs returns (to adopt a flow log a lost answer hid) and turned into the SDK's
request models in one place (:mod:`multiflow_alibaba.session`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from multiflow.model import DeliveryStatus, FlowLog, FlowLogStatus, resource_ref
from multiflow.spec import FlowLogSpec, ResourceKind, Traffic
from multiflow.validate import effective_interval, effective_traffic
from multiflow_alibaba.capabilities import (
    CAPABILITIES,
    DEFAULT_INTERVAL_MINUTES,
    RESOURCE_TYPES,
    STATUSES,
    TRAFFIC_TYPES,
)
from multiflow_alibaba.options import AlibabaOptions, SlsDestination, options_of

__all__ = [
    "ABNORMAL",
    "create_params",
    "differences",
    "flow_log_from_params",
    "flow_log_from_record",
    "options_from_record",
    "records_of",
]

_KINDS = {api: kind for kind, api in RESOURCE_TYPES.items()}
_TRAFFIC = {api: neutral for neutral, api in TRAFFIC_TYPES.items()}
_DELIVERY = {"SUCCESS": DeliveryStatus.OK, "FAILED": DeliveryStatus.FAILED}
#: Why a flow log whose ``BusinessStatus`` is ``Abnormal`` delivers nothing (the cloud gives no reason of its own).
ABNORMAL = (
    "BusinessStatus Abnormal: the cloud holds this flow log (an overdue account, or a deleted project or logstore)"
)


def create_params(spec: FlowLogSpec, resource_id: str, region: str, extra_tags: Mapping[str, str]) -> dict[str, Any]:
    """The CreateFlowLog parameters for one resource with ``spec``'s settings (API names, API units)."""
    destination = spec.destination
    if not isinstance(destination, SlsDestination):  # check_spec refuses every other kind first
        raise AssertionError(f"unchecked destination kind {destination.kind}")
    traffic = effective_traffic(spec, CAPABILITIES) or Traffic.ALL
    params: dict[str, Any] = {
        "RegionId": region,
        "ResourceType": RESOURCE_TYPES[spec.resources.kind],
        "ResourceId": resource_id,
        "TrafficType": TRAFFIC_TYPES[traffic],
        "ProjectName": destination.project,
        "LogStoreName": destination.logstore,
        "AggregationInterval": effective_interval(spec, CAPABILITIES) // 60,
    }
    if spec.name is not None:
        params["FlowLogName"] = spec.name
    if spec.description is not None:
        params["Description"] = spec.description
    tags = {**spec.tags, **extra_tags}
    if tags:
        params["Tag"] = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    options = options_of(spec)
    if options is not None:
        if options.traffic_paths:
            params["TrafficPath"] = list(options.traffic_paths)
        if options.ip_version:
            params["IpVersion"] = options.ip_version
        if options.resource_group_id:
            params["ResourceGroupId"] = options.resource_group_id
    return params


def records_of(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The flow-log records of one DescribeFlowLogs answer (``FlowLogs.FlowLog``)."""
    flow_logs = body.get("FlowLogs") or {}
    return list(flow_logs.get("FlowLog") or [])


def _tags_of(record: Mapping[str, Any]) -> dict[str, str]:
    tags = (record.get("Tags") or {}).get("Tag") or []
    # A region's flow logs repeat the same few tags: one string object each, not one per flow log.
    return {_intern(str(t["Key"])): _intern(str(t.get("Value") or "")) for t in tags if t.get("Key")}


def _intern(text: str) -> str:
    return sys.intern(text) if len(text) <= 128 else text


def _paths_of(record: Mapping[str, Any]) -> list[str]:
    paths = (record.get("TrafficPath") or {}).get("TrafficPathList") or []
    return list(paths) or ["all"]


def _created_at(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def options_from_record(record: Mapping[str, Any]) -> AlibabaOptions:
    """The ``alibaba:`` options as DescribeFlowLogs reports them; only the fields the record holds are set (one
    validated object per distinct value: a region's flow logs repeat a few)."""
    paths = (record.get("TrafficPath") or {}).get("TrafficPathList")
    ip_version = record.get("IpVersion") if record.get("IpVersion") in ("IPv4", "DualStack") else None
    return _options(tuple(paths) if paths else None, ip_version, record.get("ResourceGroupId") or None)


@functools.lru_cache(maxsize=1024)
def _options(paths: tuple[str, ...] | None, ip_version: str | None, resource_group_id: str | None) -> AlibabaOptions:
    read: dict[str, Any] = {}
    if paths:
        read["traffic_paths"] = list(paths)
    if ip_version:
        read["ip_version"] = ip_version
    if resource_group_id:
        read["resource_group_id"] = resource_group_id
    return AlibabaOptions(**read)


@functools.lru_cache(maxsize=1024)
def _destination(project: str, logstore: str) -> SlsDestination:
    """One validated destination per (project, logstore): frozen, so flow logs share it."""
    return SlsDestination(project=project, logstore=logstore)


def _delivery(record: Mapping[str, Any]) -> tuple[DeliveryStatus, str | None]:
    """The delivery status and error: ``suspended`` with the reason when ``BusinessStatus`` is ``Abnormal``."""
    error = record.get("FlowLogDeliverErrorMessage") or None
    if str(record.get("BusinessStatus") or "").lower() == "abnormal":
        return DeliveryStatus.SUSPENDED, f"{ABNORMAL}; {error}" if error else ABNORMAL
    return _DELIVERY.get(str(record.get("FlowLogDeliverStatus") or "").upper(), DeliveryStatus.UNKNOWN), error


def flow_log_from_record(record: Mapping[str, Any], region: str, include_raw: bool = True) -> FlowLog:
    """One DescribeFlowLogs record as a neutral FlowLog (the record itself kept in ``raw`` unless not wanted):
    its ``alibaba:`` options read back, a ``BusinessStatus`` ``Abnormal`` as a suspended delivery."""
    interval = record.get("AggregationInterval")
    traffic = _TRAFFIC.get(record.get("TrafficType") or "")
    project, logstore = record.get("ProjectName"), record.get("LogStoreName")
    destination = _destination(str(project), str(logstore)) if project and logstore else None
    delivery, delivery_error = _delivery(record)
    # Built without a second validation pass (FlowLog.trusted): every value is typed here, and what repeats across
    # a region (destinations, options, tag strings) is shared, so reading 100,000 flow logs stays fast and small.
    return FlowLog.trusted(
        id=str(record["FlowLogId"]),
        provider="alibaba",
        region=str(record.get("RegionId") or region),
        resource=resource_ref(_KINDS.get(record.get("ResourceType") or ""), str(record.get("ResourceId") or "")),
        status=STATUSES.get(record.get("Status") or "", FlowLogStatus.UNKNOWN),
        traffic=traffic,
        destination=destination,
        interval=int(interval) * 60 if interval not in (None, "") else None,
        fields=None,
        name=_text(record.get("FlowLogName")),
        description=_text(record.get("Description")),
        tags=_tags_of(record),
        options=options_from_record(record),
        delivery_status=delivery,
        delivery_error=delivery_error,
        created_at=_created_at(record.get("CreationTime")),
        raw=dict(record) if include_raw else {},
    )


def _text(value: Any) -> str | None:
    return str(value) if value else None


def flow_log_from_params(flow_log_id: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> FlowLog:
    """The flow log a CreateFlowLog call just made, as far as the call tells (``activating``), created now: the
    answer names no creation time, and the waiter schedules its polls by each flow log's age.

    Saves a DescribeFlowLogs per created flow log; the waiter reads the cloud's own record soon enough.
    """
    record: dict[str, Any] = {
        "FlowLogId": flow_log_id,
        "RegionId": params["RegionId"],
        "ResourceType": params["ResourceType"],
        "ResourceId": params["ResourceId"],
        "TrafficType": params["TrafficType"],
        "ProjectName": params["ProjectName"],
        "LogStoreName": params["LogStoreName"],
        "AggregationInterval": params.get("AggregationInterval", DEFAULT_INTERVAL_MINUTES),
        "FlowLogName": params.get("FlowLogName"),
        "Description": params.get("Description"),
        "Tags": {"Tag": list(params.get("Tag", []))},
        "TrafficPath": {"TrafficPathList": list(params.get("TrafficPath", ["all"]))},
        "IpVersion": params.get("IpVersion", "IPv4"),
        "ResourceGroupId": response.get("ResourceGroupId") or params.get("ResourceGroupId"),
        "Status": "Activating",
    }
    flow_log = flow_log_from_record(record, params["RegionId"])
    return flow_log.model_copy(
        update={"raw": {**dict(response), "Request": dict(params)}, "created_at": datetime.now(timezone.utc)}
    )


def differences(record: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    """What an existing flow log (a DescribeFlowLogs record) has other than CreateFlowLog ``params`` ask for.

    Empty means the existing one is the flow log those parameters make, and may be adopted instead of creating a
    duplicate. Tags asked for must all be present with equal values; other tags on the flow log are allowed.
    """
    found: list[str] = []

    def compare(name: str, have: Any, want: Any) -> None:
        if have != want:
            found.append(f"{name} is {have!r}, not {want!r}")

    for name in ("ResourceType", "TrafficType", "ProjectName", "LogStoreName"):
        compare(name, record.get(name), params[name])
    compare("AggregationInterval", int(record.get("AggregationInterval") or 0), params["AggregationInterval"])
    for name in ("FlowLogName", "Description"):
        if name in params:
            compare(name, record.get(name) or None, params[name])
    compare("TrafficPath", sorted(_paths_of(record)), sorted(params.get("TrafficPath", ["all"])))
    if "IpVersion" in params:
        compare("IpVersion", record.get("IpVersion") or "IPv4", params["IpVersion"])
    if "ResourceGroupId" in params:
        compare("ResourceGroupId", record.get("ResourceGroupId"), params["ResourceGroupId"])
    tags = _tags_of(record)
    for tag in params.get("Tag", []):
        if tags.get(tag["Key"]) != tag["Value"]:
            found.append(f"tag {tag['Key']} is {tags.get(tag['Key'])!r}, not {tag['Value']!r}")
    return found


def kind_of(resource_type: str) -> ResourceKind | None:
    """The neutral kind of a ``ResourceType``."""
    return _KINDS.get(resource_type)

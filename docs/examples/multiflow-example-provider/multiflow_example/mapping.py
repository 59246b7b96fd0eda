"""FlowLogSpec → CreateFlowLogs body, and ExampleCloud records → neutral FlowLog, both ways from the tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from multiflow.model import FlowLog, FlowLogStatus, ResourceRef
from multiflow.spec import FlowLogSpec
from multiflow.validate import effective_interval, effective_traffic
from multiflow_example.capabilities import CAPABILITIES, FIELDS, RESOURCE_TYPES, STATES, TRAFFIC
from multiflow_example.options import ExampleBucketDestination, options_of

__all__ = ["create_body", "flow_log_from_record"]

_KINDS = {value: kind for kind, value in RESOURCE_TYPES.items()}
_TRAFFIC = {value: traffic for traffic, value in TRAFFIC.items()}
_FIELDS = {value: name for name, value in FIELDS.items()}


def create_body(
    spec: FlowLogSpec, resource_ids: Sequence[str], region: str, extra_tags: Mapping[str, str]
) -> dict[str, Any]:
    """The CreateFlowLogs body for ``resource_ids`` with ``spec``'s (validated) settings."""
    destination = spec.destination
    assert isinstance(destination, ExampleBucketDestination)  # the capabilities allow nothing else
    traffic = effective_traffic(spec, CAPABILITIES)
    body: dict[str, Any] = {
        "region": region,
        "resource_type": RESOURCE_TYPES[spec.resources.kind],
        "resource_ids": list(resource_ids),
        "bucket": destination.bucket,
        "interval_seconds": effective_interval(spec, CAPABILITIES),
        "labels": {**spec.tags, **extra_tags},
        "sampling": options_of(spec).sampling,
    }
    if destination.prefix:
        body["prefix"] = destination.prefix
    if traffic is not None:
        body["traffic"] = TRAFFIC[traffic]
    if spec.fields:
        body["fields"] = [FIELDS[name] for name in spec.fields]
    if spec.name:
        body["display_name"] = spec.name
    if spec.description:
        body["description"] = spec.description
    return body


def flow_log_from_record(record: Mapping[str, Any]) -> FlowLog:
    """One ExampleCloud record as a neutral FlowLog (the record itself kept in ``raw``)."""
    fields = record.get("fields")
    created = record.get("create_time")
    return FlowLog(
        id=record["id"],
        provider="example",
        region=record["region"],
        resource=ResourceRef(kind=_KINDS.get(record.get("resource_type", "")), id=record["resource_id"]),
        status=STATES.get(record.get("state", ""), FlowLogStatus.UNKNOWN),
        traffic=_TRAFFIC.get(record.get("traffic", "")),
        destination=ExampleBucketDestination(bucket=record["bucket"], prefix=record.get("prefix")),
        interval=record.get("interval_seconds"),
        fields=[_FIELDS[f] for f in fields] if fields else None,
        name=record.get("display_name"),
        description=record.get("description"),
        tags=dict(record.get("labels") or {}),
        created_at=datetime.fromisoformat(created) if created else None,
        raw=dict(record),
    )

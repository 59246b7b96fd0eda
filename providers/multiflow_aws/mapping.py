"""FlowLogSpec → CreateFlowLogs parameters, and DescribeFlowLogs records → neutral FlowLog."""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from multiflow.model import DeliveryStatus, FlowLog, FlowLogStatus, resource_ref
from multiflow.spec import Destination, FlowLogSpec, ResourceKind
from multiflow.validate import effective_interval, effective_traffic
from multiflow_aws.capabilities import CAPABILITIES, DESTINATION_TYPES, RESOURCE_TYPES, TRAFFIC_TYPES
from multiflow_aws.destinations import CloudWatchLogsDestination, FirehoseDestination, S3Destination
from multiflow_aws.fields import format_log_format, parse_log_format
from multiflow_aws.options import AwsOptions, AwsTagField, options_of

__all__ = [
    "client_token",
    "create_params",
    "destination_identity",
    "flow_log_from_record",
    "kind_of",
    "log_group_name",
    "normalized_destination",
    "partition_of",
    "s3_arn",
    "stream_arn",
]

_FILE_FORMATS = {"plain_text": "plain-text", "parquet": "parquet"}
_ID_PREFIXES = (
    ("tgw-attach-", ResourceKind.TRANSIT_GATEWAY_ATTACHMENT),
    ("tgw-", ResourceKind.TRANSIT_GATEWAY),
    ("vpc-", ResourceKind.VPC),
    ("subnet-", ResourceKind.SUBNET),
    ("eni-", ResourceKind.NETWORK_INTERFACE),
    ("nat-", ResourceKind.REGIONAL_NAT_GATEWAY),
    ("core-network-", ResourceKind.CORE_NETWORK),
    ("attachment-", ResourceKind.CORE_NETWORK_ATTACHMENT),
)


def partition_of(region: str) -> str:
    """The ARN partition of a region: ``aws``, ``aws-cn`` or ``aws-us-gov``."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def s3_arn(bucket: str, region: str) -> str:
    """A bucket ARN from an ARN or a bare name."""
    return bucket if bucket.startswith("arn:") else f"arn:{partition_of(region)}:s3:::{bucket}"


def log_group_name(group: str) -> str:
    """A log group's name from its name or its ARN (with or without the trailing ``:*``)."""
    if group.startswith("arn:") and ":log-group:" in group:
        return group.split(":log-group:", 1)[1].removesuffix(":*")
    return group


def stream_arn(arn: str) -> str:
    """A delivery stream's ARN in IAM's form (``deliverystream/NAME``), from that form or the EC2 reference's
    (``deliverystream:NAME``): the two name one stream."""
    head, sep, name = arn.partition(":deliverystream:")
    return f"{head}:deliverystream/{name}" if sep else arn


def normalized_destination(destination: Destination, region: str) -> Destination:
    """``destination`` as DescribeFlowLogs is read back (the same object where nothing changes): a bucket
    name becomes its ARN in the region's partition, a log-group ARN its group name, a stream ARN its
    ``deliverystream/NAME`` form."""
    if isinstance(destination, S3Destination) and not destination.bucket.startswith("arn:"):
        return destination.model_copy(update={"bucket": s3_arn(destination.bucket, region)})
    if isinstance(destination, CloudWatchLogsDestination):
        name = log_group_name(destination.log_group)
        if name != destination.log_group:
            return destination.model_copy(update={"log_group": name})
    if isinstance(destination, FirehoseDestination):
        arn = stream_arn(destination.stream_arn)
        if arn != destination.stream_arn:
            return destination.model_copy(update={"stream_arn": arn})
    return destination


def destination_identity(destination: Destination, region: str) -> Hashable:
    """What AWS's uniqueness rule compares (one flow log per resource and log destination): the S3 target
    with its prefix, the log group name or the stream ARN; not the file format, partitions or role."""
    destination = normalized_destination(destination, region)
    if isinstance(destination, S3Destination):
        return ("s3", destination.bucket, destination.prefix or "")
    if isinstance(destination, CloudWatchLogsDestination):
        return ("cloudwatch_logs", destination.log_group)
    if isinstance(destination, FirehoseDestination):
        return ("firehose", destination.stream_arn)
    return destination


def kind_of(resource_id: str) -> ResourceKind | None:
    """The neutral kind of an AWS resource id, from its prefix."""
    for prefix, kind in _ID_PREFIXES:
        if resource_id.startswith(prefix):
            return kind
    return None


def create_params(
    spec: FlowLogSpec, resource_ids: Sequence[str], region: str, extra_tags: Mapping[str, str]
) -> dict[str, Any]:
    """The CreateFlowLogs parameters for ``resource_ids`` with ``spec``'s settings (no ClientToken yet)."""
    kind = spec.resources.kind
    params: dict[str, Any] = {
        "ResourceType": RESOURCE_TYPES[kind],
        "ResourceIds": list(resource_ids),
        "MaxAggregationInterval": effective_interval(spec, CAPABILITIES),
    }
    traffic = effective_traffic(spec, CAPABILITIES)
    if traffic is not None:
        params["TrafficType"] = TRAFFIC_TYPES[traffic]
    params.update(_destination_params(spec.destination, region))
    if spec.fields:
        params["LogFormat"] = format_log_format(spec.fields)
    tags = {**spec.tags, **extra_tags}
    if spec.name:
        tags["Name"] = spec.name
    if tags:
        params["TagSpecifications"] = [
            {"ResourceType": "vpc-flow-log", "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
        ]
    aws = options_of(spec)
    if aws is not None:
        if aws.cross_account_role:
            params["DeliverCrossAccountRole"] = aws.cross_account_role
        if aws.tag_fields:
            params["TagFieldSpecifications"] = [
                {"ResourceType": tf.resource_type, "TagKeys": list(tf.keys)} for tf in aws.tag_fields
            ]
        params.update(aws.extra)  # checked against botocore's model by AwsProvider.validate
    return params


def _destination_params(destination: Destination, region: str) -> dict[str, Any]:
    if isinstance(destination, CloudWatchLogsDestination):
        params: dict[str, Any] = {"LogDestinationType": DESTINATION_TYPES["cloudwatch_logs"]}
        if destination.log_group.startswith("arn:"):
            params["LogDestination"] = destination.log_group
        else:
            params["LogGroupName"] = destination.log_group
        if destination.role_arn:
            params["DeliverLogsPermissionArn"] = destination.role_arn
        return params
    if isinstance(destination, S3Destination):
        arn = s3_arn(destination.bucket, region)
        if destination.prefix:
            arn = f"{arn}/{destination.prefix}"
        return {
            "LogDestinationType": DESTINATION_TYPES["s3"],
            "LogDestination": arn,
            "DestinationOptions": {
                "FileFormat": _FILE_FORMATS[destination.file_format],
                "HiveCompatiblePartitions": destination.hive_compatible_partitions,
                "PerHourPartition": destination.per_hour_partition,
            },
        }
    if isinstance(destination, FirehoseDestination):
        params = {"LogDestinationType": DESTINATION_TYPES["firehose"], "LogDestination": destination.stream_arn}
        if destination.role_arn:
            params["DeliverLogsPermissionArn"] = destination.role_arn
        return params
    raise AssertionError(f"unchecked destination kind {destination.kind}")  # check_spec refuses it first


def client_token(params: Mapping[str, Any], salt: str = "") -> str:
    """A deterministic ClientToken (≤64 ASCII characters) for one batch: equal requests, equal token.

    A rerun of an interrupted batch then returns AWS's first answer instead of creating duplicates. ``salt``
    makes a fresh token, for when that first answer names flow logs deleted since.
    """
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str) + salt
    return "multiflow-" + hashlib.sha256(canonical.encode()).hexdigest()[:54]


def _destination_from(record: Mapping[str, Any]) -> Destination | None:
    options = record.get("DestinationOptions") or {}
    return _destination(
        record.get("LogDestinationType", "cloud-watch-logs"),
        record.get("LogDestination"),
        record.get("LogGroupName"),
        record.get("DeliverLogsPermissionArn"),
        options.get("FileFormat", "plain-text"),
        bool(options.get("HiveCompatiblePartitions", False)),
        bool(options.get("PerHourPartition", False)),
    )


@functools.lru_cache(maxsize=4096)
def _destination(
    kind: str,
    target: str | None,
    group: str | None,
    role: str | None,
    file_format: str,
    hive: bool,
    per_hour: bool,
) -> Destination | None:
    """One validated, immutable destination per distinct value: a fleet's flow logs share a few destinations, so
    describing 100,000 of them builds a handful of objects, not 100,000."""
    if kind == "cloud-watch-logs":
        group = group or log_group_name(target or "")
        if not group:
            return None
        return CloudWatchLogsDestination(log_group=group, role_arn=role)
    if kind == "s3" and target:
        bucket_arn, _, prefix = target.partition("/") if not target.startswith("arn:") else _split_s3(target)
        neutral_format = {v: k for k, v in _FILE_FORMATS.items()}.get(file_format, "plain_text")
        return S3Destination(
            bucket=bucket_arn,
            prefix=prefix or None,
            file_format=neutral_format,  # type: ignore[arg-type]
            hive_compatible_partitions=hive,
            per_hour_partition=per_hour,
        )
    if kind == "kinesis-data-firehose" and target:
        # Read back in one form whichever form it was created with (or EC2 answers with), as normalize writes it.
        return FirehoseDestination(stream_arn=stream_arn(target), role_arn=role)
    return None


def _split_s3(arn: str) -> tuple[str, str, str]:
    head, _, rest = arn.partition(":::")
    bucket, slash, prefix = rest.partition("/")
    return f"{head}:::{bucket}", slash, prefix


_DELIVERY = {"SUCCESS": DeliveryStatus.OK, "FAILED": DeliveryStatus.FAILED}
_TRAFFIC = {api: neutral for neutral, api in TRAFFIC_TYPES.items()}


def flow_log_from_record(record: Mapping[str, Any], region: str, include_raw: bool = True) -> FlowLog:
    """One DescribeFlowLogs record as a neutral FlowLog (the record itself kept in ``raw``).

    Built without a second validation pass (:meth:`FlowLog.trusted`): every value is typed here, and the parts that
    repeat across a fleet (destinations, field lists) are shared, so describing 100,000 flow logs stays fast and
    small. ``include_raw=False`` leaves ``raw`` empty (plan reads that way).
    A record missing its id, or with a value AWS does not document, raises KeyError/ValueError, which the
    session turns into a ProviderError.
    """
    # A fleet's flow logs repeat the same few tags: one string object each, not one per flow log.
    tags = {_intern(t["Key"]): _intern(t.get("Value", "")) for t in record.get("Tags", ())}
    name = tags.pop("Name", None)
    traffic = record.get("TrafficType")
    resource_id = record.get("ResourceId", "")
    return FlowLog.trusted(
        id=record["FlowLogId"],
        provider="aws",
        region=region,
        resource=resource_ref(kind_of(resource_id), resource_id),
        status=FlowLogStatus.ACTIVE if record.get("FlowLogStatus") == "ACTIVE" else FlowLogStatus.UNKNOWN,
        traffic=_TRAFFIC[traffic.upper()] if traffic else None,
        destination=_destination_from(record),
        interval=record.get("MaxAggregationInterval"),
        fields=parse_log_format(record.get("LogFormat")),
        name=name,
        description=None,
        tags=tags,
        options=_options(record.get("DeliverCrossAccountRole"), _tag_fields_key(record.get("TagFieldSpecifications"))),
        delivery_status=_DELIVERY.get(record.get("DeliverLogsStatus", ""), DeliveryStatus.UNKNOWN),
        delivery_error=record.get("DeliverLogsErrorMessage"),
        created_at=record.get("CreationTime"),
        raw=(record if isinstance(record, dict) else dict(record)) if include_raw else {},
    )


def _tag_fields_key(items: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((str(i.get("ResourceType", "")), tuple(i.get("TagKeys") or ())) for i in items or ())


@functools.lru_cache(maxsize=1024)
def _options(role: str | None, tag_fields: tuple[tuple[str, tuple[str, ...]], ...]) -> AwsOptions:
    """The ``aws`` options DescribeFlowLogs reports (both fields read, so both set), one object per value."""
    return AwsOptions.model_construct(
        cross_account_role=role,
        tag_fields=[AwsTagField.model_construct(resource_type=kind, keys=list(keys)) for kind, keys in tag_fields],
    )


def _intern(text: str) -> str:
    return sys.intern(text) if len(text) <= 128 else text

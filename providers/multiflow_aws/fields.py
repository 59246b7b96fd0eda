"""AWS flow log record fields: neutral names ↔ AWS ``${field-id}`` names, with the version that added each.

Sources: the "Flow log records" page of the Amazon VPC User Guide (versions 2 to 10) and the Transit Gateway
flow log records page. A neutral name is the AWS id with hyphens as underscores, except where AWS runs words
together (``srcaddr`` → ``src_addr``).
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "DEFAULT_FIELDS",
    "TGW_FIELDS",
    "VPC_FIELDS",
    "format_log_format",
    "parse_log_format",
    "to_aws",
    "to_neutral",
]

#: (AWS field id, version) for VPC, subnet and network interface flow logs, in AWS's table order.
_VPC_FIELD_TABLE: tuple[tuple[str, int], ...] = (
    ("version", 2),
    ("account-id", 2),
    ("interface-id", 2),
    ("srcaddr", 2),
    ("dstaddr", 2),
    ("srcport", 2),
    ("dstport", 2),
    ("protocol", 2),
    ("packets", 2),
    ("bytes", 2),
    ("start", 2),
    ("end", 2),
    ("action", 2),
    ("log-status", 2),
    ("vpc-id", 3),
    ("subnet-id", 3),
    ("instance-id", 3),
    ("tcp-flags", 3),
    ("type", 3),
    ("pkt-srcaddr", 3),
    ("pkt-dstaddr", 3),
    ("region", 4),
    ("az-id", 4),
    ("sublocation-type", 4),
    ("sublocation-id", 4),
    ("pkt-src-aws-service", 5),
    ("pkt-dst-aws-service", 5),
    ("flow-direction", 5),
    ("traffic-path", 5),
    ("ecs-cluster-arn", 7),
    ("ecs-cluster-name", 7),
    ("ecs-container-instance-arn", 7),
    ("ecs-container-instance-id", 7),
    ("ecs-container-id", 7),
    ("ecs-second-container-id", 7),
    ("ecs-service-name", 7),
    ("ecs-task-definition-arn", 7),
    ("ecs-task-arn", 7),
    ("ecs-task-id", 7),
    ("reject-reason", 8),
    ("resource-id", 9),
    ("encryption-status", 10),
)

#: Fields of transit gateway flow logs (their own set).
_TGW_FIELD_TABLE: tuple[str, ...] = (
    "version",
    "resource-type",
    "account-id",
    "tgw-id",
    "tgw-attachment-id",
    "tgw-src-vpc-account-id",
    "tgw-dst-vpc-account-id",
    "tgw-src-vpc-id",
    "tgw-dst-vpc-id",
    "tgw-src-subnet-id",
    "tgw-dst-subnet-id",
    "tgw-src-eni",
    "tgw-dst-eni",
    "tgw-src-az-id",
    "tgw-dst-az-id",
    "tgw-pair-attachment-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "log-status",
    "type",
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
    "tcp-flags",
    "region",
    "flow-direction",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
)

_JOINED = {
    "srcaddr": "src_addr",
    "dstaddr": "dst_addr",
    "srcport": "src_port",
    "dstport": "dst_port",
    "pkt-srcaddr": "pkt_src_addr",
    "pkt-dstaddr": "pkt_dst_addr",
}


def to_neutral(aws_id: str) -> str:
    """``pkt-srcaddr`` → ``pkt_src_addr``; ``log-status`` → ``log_status``."""
    return _JOINED.get(aws_id, aws_id.replace("-", "_"))


_TO_AWS = {to_neutral(a): a for a, _ in _VPC_FIELD_TABLE} | {to_neutral(a): a for a in _TGW_FIELD_TABLE}

VPC_FIELDS: tuple[str, ...] = tuple(to_neutral(a) for a, _ in _VPC_FIELD_TABLE)
"""Neutral names of the fields VPC, subnet and network-interface flow logs can record."""

TGW_FIELDS: tuple[str, ...] = tuple(to_neutral(a) for a in _TGW_FIELD_TABLE)
"""Neutral names of the fields transit gateway flow logs can record."""

DEFAULT_FIELDS: tuple[str, ...] = tuple(to_neutral(a) for a, v in _VPC_FIELD_TABLE if v == 2)
"""The version 2 fields: what AWS records when no format is given."""

FIELD_VERSIONS: dict[str, int] = {to_neutral(a): v for a, v in _VPC_FIELD_TABLE}
"""The flow log version that introduced each VPC field."""


def to_aws(neutral: str) -> str:
    """``src_addr`` → ``srcaddr``. KeyError for a name AWS does not have."""
    return _TO_AWS[neutral]


def format_log_format(fields: list[str]) -> str:
    """``["src_addr", "dst_port"]`` → ``"${srcaddr} ${dstport}"``."""
    return " ".join(f"${{{to_aws(f)}}}" for f in fields)


_TOKEN = re.compile(r"\$\{([a-z0-9-]+)\}")


def parse_log_format(log_format: str | None) -> list[str] | None:
    """``"${srcaddr} ${dstport}"`` → ``["src_addr", "dst_port"]``; no format → ``None``.

    The list is shared between calls with the same format (flow logs of a fleet share one): treat it as read-only.
    """
    if not log_format:
        return None
    return _parse(log_format)


@functools.lru_cache(maxsize=1024)
def _parse(log_format: str) -> list[str]:
    return [to_neutral(token) for token in _TOKEN.findall(log_format)]

"""What AWS EC2 flow logs can take, as data (from the CreateFlowLogs reference and its change logs)."""

from __future__ import annotations

from multiflow.model import Capabilities
from multiflow.spec import ResourceKind, Traffic
from multiflow_aws.fields import TGW_FIELDS, VPC_FIELDS

__all__ = [
    "CAPABILITIES",
    "DESTINATION_TYPES",
    "ID_PATTERNS",
    "REGIONS",
    "REGION_PATTERN",
    "RESOURCE_TYPES",
    "TRAFFIC_TYPES",
]

_TGW_KINDS = (ResourceKind.TRANSIT_GATEWAY, ResourceKind.TRANSIT_GATEWAY_ATTACHMENT)
_ENI_KINDS = (ResourceKind.VPC, ResourceKind.SUBNET, ResourceKind.NETWORK_INTERFACE, ResourceKind.REGIONAL_NAT_GATEWAY)
_ALL_TRAFFIC = (Traffic.ALL, Traffic.ACCEPT, Traffic.REJECT)

#: Neutral kind → the ResourceType CreateFlowLogs takes.
RESOURCE_TYPES: dict[ResourceKind, str] = {
    ResourceKind.VPC: "VPC",
    ResourceKind.SUBNET: "Subnet",
    ResourceKind.NETWORK_INTERFACE: "NetworkInterface",
    ResourceKind.TRANSIT_GATEWAY: "TransitGateway",
    ResourceKind.TRANSIT_GATEWAY_ATTACHMENT: "TransitGatewayAttachment",
    ResourceKind.REGIONAL_NAT_GATEWAY: "RegionalNatGateway",
}

#: Neutral traffic → CreateFlowLogs ``TrafficType``.
TRAFFIC_TYPES: dict[Traffic, str] = {Traffic.ALL: "ALL", Traffic.ACCEPT: "ACCEPT", Traffic.REJECT: "REJECT"}

#: Neutral destination kind → CreateFlowLogs ``LogDestinationType``.
DESTINATION_TYPES: dict[str, str] = {
    "cloudwatch_logs": "cloud-watch-logs",
    "s3": "s3",
    "firehose": "kinesis-data-firehose",
}

#: Every EC2 region of every partition, from botocore's bundled endpoints data (botocore 1.43,
#: ``get_available_regions("ec2", partition_name=...)`` over its partitions), copied here at dev time: the
#: provider checks regions without importing botocore.
REGIONS: tuple[str, ...] = (
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1",
    "eu-central-1", "eu-central-2", "eu-isoe-west-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
    "eu-west-2", "eu-west-3", "eusc-de-east-1", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
    "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-iso-east-1", "us-iso-west-1",
    "us-isob-east-1", "us-isob-west-1", "us-isof-east-1", "us-isof-south-1", "us-west-1", "us-west-2",
)  # fmt: skip

#: What an AWS region name looks like (a region newer than the list must match it).
REGION_PATTERN = r"[a-z]{2,4}(-(gov|iso[a-z]?|de))?-[a-z]+-[0-9]{1,2}"

#: Resource ids: a prefix, then 8 or 17 hexadecimal digits (any count up to 17 is taken).
ID_PATTERNS: dict[ResourceKind, str] = {
    ResourceKind.VPC: r"vpc-[0-9a-f]{1,17}",
    ResourceKind.SUBNET: r"subnet-[0-9a-f]{1,17}",
    ResourceKind.NETWORK_INTERFACE: r"eni-[0-9a-f]{1,17}",
    ResourceKind.TRANSIT_GATEWAY: r"tgw-[0-9a-f]{1,17}",
    ResourceKind.TRANSIT_GATEWAY_ATTACHMENT: r"tgw-attach-[0-9a-f]{1,17}",
    ResourceKind.REGIONAL_NAT_GATEWAY: r"nat-[0-9a-f]{1,17}",
}

CAPABILITIES = Capabilities(
    provider="aws",
    resource_kinds=(*_ENI_KINDS[:3], *_TGW_KINDS, ResourceKind.REGIONAL_NAT_GATEWAY),
    traffic={**{k: _ALL_TRAFFIC for k in _ENI_KINDS}, **{k: () for k in _TGW_KINDS}},
    default_traffic={**{k: Traffic.ALL for k in _ENI_KINDS}, **{k: None for k in _TGW_KINDS}},
    # MaxAggregationInterval: 60 or 600 seconds; transit gateways take 60 only.
    intervals={**{k: (60, 600) for k in _ENI_KINDS}, **{k: (60,) for k in _TGW_KINDS}},
    default_interval={**{k: 600 for k in _ENI_KINDS}, **{k: 60 for k in _TGW_KINDS}},
    destinations=tuple(DESTINATION_TYPES),
    fields={**{k: VPC_FIELDS for k in _ENI_KINDS}, **{k: TGW_FIELDS for k in _TGW_KINDS}},
    # CreateFlowLogsRequest.ResourceIds in botocore's EC2 model (1.44): "Maximum of 25 for transit gateway resource
    # types. Maximum of 300 for the other resource types."
    ids_per_call={**{k: 300 for k in _ENI_KINDS}, **{k: 25 for k in _TGW_KINDS}},
    max_tags=50,
    max_tag_key_length=127,
    max_tag_value_length=256,
    reserved_tag_prefixes=("aws:",),
    name_max_length=256,
    description_max_length=None,
    start_stop=False,
    selectable_kinds=(ResourceKind.VPC, ResourceKind.SUBNET, ResourceKind.NETWORK_INTERFACE),
    # Tags change in place (CreateTags/DeleteTags). The name is the Name tag too, but a name change stays a
    # replace: ModifyChanges(name=None) means "leave it", so a removed name could never be applied in place.
    modifiable=("tags",),
    readable_options=("cross_account_role", "tag_fields"),
    async_activation=False,
    dry_run=True,
    regions=REGIONS,
    region_pattern=REGION_PATTERN,
    id_patterns=ID_PATTERNS,
)

"""What AWS EC2 flow logs can take, as data (from the CreateFlowLogs reference and its change logs)."""

from __future__ import annotations

from multiflow.model import Capabilities
from multiflow.spec import ResourceKind, Traffic
from multiflow_aws.fields import TGW_FIELDS, VPC_FIELDS

__all__ = ["CAPABILITIES", "DESTINATION_TYPES", "RESOURCE_TYPES", "TRAFFIC_TYPES"]

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
    ids_per_call={**{k: 1000 for k in _ENI_KINDS}, **{k: 25 for k in _TGW_KINDS}},
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
)

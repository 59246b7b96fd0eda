"""What Alibaba Cloud VPC flow logs can take, as data (from the CreateFlowLog reference and the SDK's models).

Everything here is plain data: the neutral → Alibaba tables that :mod:`multiflow_alibaba.mapping` reads, and the
:class:`~multiflow.model.Capabilities` the core checks specs against before any call.
"""

from __future__ import annotations

from multiflow.model import Capabilities, FlowLogStatus
from multiflow.spec import ResourceKind, Traffic

__all__ = [
    "API_STATUSES",
    "CAPABILITIES",
    "DEFAULT_INTERVAL_MINUTES",
    "INTERVALS",
    "IP_VERSIONS",
    "RESOURCE_TYPES",
    "STATUSES",
    "TRAFFIC_PATHS",
    "TRAFFIC_TYPES",
]

_KINDS = (ResourceKind.VPC, ResourceKind.SUBNET, ResourceKind.NETWORK_INTERFACE)
_ALL_TRAFFIC = (Traffic.ALL, Traffic.ACCEPT, Traffic.REJECT)

#: Neutral kind → CreateFlowLog ``ResourceType``.
RESOURCE_TYPES: dict[ResourceKind, str] = {
    ResourceKind.VPC: "VPC",
    ResourceKind.SUBNET: "VSwitch",
    ResourceKind.NETWORK_INTERFACE: "NetworkInterface",
}

#: Neutral traffic → CreateFlowLog ``TrafficType``.
TRAFFIC_TYPES: dict[Traffic, str] = {Traffic.ALL: "All", Traffic.ACCEPT: "Allow", Traffic.REJECT: "Drop"}

#: ``AggregationInterval`` is in minutes: 1, 5 or 10 (the default).
DEFAULT_INTERVAL_MINUTES = 10

#: Aggregation intervals in seconds (AggregationInterval 1, 5, 10 minutes), for every kind.
INTERVALS: tuple[int, ...] = (60, 300, 600)

#: ``TrafficPath.N`` values, as the CreateFlowLog reference lists them (alibabacloud-vpc20160428 7.2,
#: ``CreateFlowLogRequest.traffic_path``). Anything but ``all`` needs the feature enabled by a ticket.
TRAFFIC_PATHS: tuple[str, ...] = (
    "all",
    "internetGateway",
    "natGateway",
    "vpnGateway",
    "transitRouter",
    "gatewayEndpoint",
    "vbr",
    "ecr",
    "ipv4Gateway",
    "gatewayLoadBalancerEndpoint",
)

#: ``IpVersion`` values.
IP_VERSIONS: tuple[str, ...] = ("IPv4", "DualStack")

#: DescribeFlowLogs ``Status`` → neutral status; anything else is ``unknown``.
STATUSES: dict[str, FlowLogStatus] = {
    "Activating": FlowLogStatus.ACTIVATING,
    "Active": FlowLogStatus.ACTIVE,
    "Inactive": FlowLogStatus.INACTIVE,
    "Deactivating": FlowLogStatus.DEACTIVATING,
    "Deleting": FlowLogStatus.DELETING,
}

#: Neutral status → the ``Status`` filter of DescribeFlowLogs.
API_STATUSES: dict[FlowLogStatus, str] = {neutral: api for api, neutral in STATUSES.items()}

CAPABILITIES = Capabilities(
    provider="alibaba",
    resource_kinds=_KINDS,
    traffic=dict.fromkeys(_KINDS, _ALL_TRAFFIC),
    default_traffic=dict.fromkeys(_KINDS, Traffic.ALL),
    # AggregationInterval in minutes 1, 5, 10 (default 10), offered here in seconds.
    intervals=dict.fromkeys(_KINDS, INTERVALS),
    default_interval=dict.fromkeys(_KINDS, 600),
    destinations=("sls",),
    # LogFormat's syntax is undocumented: custom record fields are not offered until it is verified.
    fields=dict.fromkeys(_KINDS, ()),
    ids_per_call=dict.fromkeys(_KINDS, 1),
    max_tags=20,
    max_tag_key_length=128,
    max_tag_value_length=128,
    reserved_tag_prefixes=("aliyun", "acs:"),
    name_max_length=128,
    description_max_length=256,
    start_stop=True,
    selectable_kinds=(ResourceKind.VPC, ResourceKind.SUBNET, ResourceKind.NETWORK_INTERFACE),
    modifiable=("name", "description", "interval"),
    async_activation=True,
    dry_run=False,
    # CreateFlowLog refuses a second flow log on a resource (InvalidResourceId.NotFound), whatever its destination.
    one_flow_log_per_resource=True,
)

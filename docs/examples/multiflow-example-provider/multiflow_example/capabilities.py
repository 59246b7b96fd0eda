"""What ExampleCloud can take, as data: the neutral → ExampleCloud tables and the provider's Capabilities.

The core checks every spec against :data:`CAPABILITIES` before any call; ``multiflow providers`` prints it; the
conformance suite proves each declared value is accepted by the cloud and each undeclared one refused early.
"""

from __future__ import annotations

from multiflow.model import Capabilities, FlowLogStatus
from multiflow.spec import ResourceKind, Traffic

__all__ = ["CAPABILITIES", "FIELDS", "RESOURCE_TYPES", "STATES", "TRAFFIC"]

_KINDS = (ResourceKind.VPC, ResourceKind.SUBNET)

#: Neutral kind → ExampleCloud ``resource_type``.
RESOURCE_TYPES: dict[ResourceKind, str] = {ResourceKind.VPC: "network", ResourceKind.SUBNET: "subnetwork"}

#: Neutral traffic → ExampleCloud ``traffic``.
TRAFFIC: dict[Traffic, str] = {Traffic.ALL: "ALL", Traffic.ACCEPT: "ALLOWED", Traffic.REJECT: "DENIED"}

#: Neutral record field → ExampleCloud field, in the cloud's order.
FIELDS: dict[str, str] = {
    "src_addr": "srcIp",
    "dst_addr": "dstIp",
    "src_port": "srcPort",
    "dst_port": "dstPort",
    "protocol": "protocol",
    "packets": "packets",
    "bytes": "bytes",
    "start": "startTime",
    "end": "endTime",
    "action": "disposition",
}

#: ExampleCloud ``state`` → neutral status; anything else is ``unknown``.
STATES: dict[str, FlowLogStatus] = {
    "PROVISIONING": FlowLogStatus.ACTIVATING,
    "ACTIVE": FlowLogStatus.ACTIVE,
    "DELETING": FlowLogStatus.DELETING,
}

CAPABILITIES = Capabilities(
    provider="example",
    regions=("local-1", "local-2", "local-3"),
    resource_kinds=_KINDS,
    traffic=dict.fromkeys(_KINDS, (Traffic.ALL, Traffic.ACCEPT, Traffic.REJECT)),
    default_traffic=dict.fromkeys(_KINDS, Traffic.ALL),
    intervals=dict.fromkeys(_KINDS, (30, 60, 300)),
    default_interval=dict.fromkeys(_KINDS, 60),
    destinations=("example_bucket",),  # declared by ExampleProvider.destinations
    fields=dict.fromkeys(_KINDS, tuple(FIELDS)),
    ids_per_call=dict.fromkeys(_KINDS, 10),
    max_tags=16,
    max_tag_key_length=128,
    max_tag_value_length=256,
    reserved_tag_prefixes=("example:",),
    name_max_length=63,
    description_max_length=256,
    selectable_kinds=_KINDS,
    async_activation=True,
)

"""Resources as the cloud returns them: the JSON shapes the SDK's response models read with ``from_map``.

Field names and nesting come from ``alibabacloud_vpc20160428.models`` (``DescribeFlowLogsResponseBody`` and
friends) and, for ENIs, from ECS ``DescribeNetworkInterfaces``.
"""

from __future__ import annotations

from typing import Any

from .state import FlowLog, NetworkInterface, Vpc, VSwitch


def _owner_id(account_id: str) -> int | str:
    return int(account_id) if account_id.isdigit() else account_id


def _tags(tags: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {"Tag": [{"Key": k, "Value": v} for k, v in tags.items()]}


def flow_log_view(fl: FlowLog, business_status: str = "Normal", deliver_error: str = "") -> dict[str, Any]:
    """A flow log as an item of ``DescribeFlowLogs`` ``FlowLogs.FlowLog`` (``deliver_error``: why its records
    are not delivered, if they are not)."""
    view: dict[str, Any] = {
        "FlowLogId": fl.flow_log_id,
        "FlowLogName": fl.name,
        "Description": fl.description,
        "RegionId": fl.region,
        "ResourceType": fl.resource_type,
        "ResourceId": fl.resource_id,
        "ProjectName": fl.project_name,
        "LogStoreName": fl.logstore_name,
        "TrafficType": fl.traffic_type,
        "AggregationInterval": fl.aggregation_interval,
        "TrafficPath": {"TrafficPathList": list(fl.traffic_paths)},
        "IpVersion": fl.ip_version,
        "ResourceGroupId": fl.resource_group_id,
        "Status": fl.status,
        "BusinessStatus": business_status,
        "CreationTime": fl.creation_time,
        "ServiceType": "sls",
        "FlowLogDeliverStatus": "FAILED" if deliver_error else "SUCCESS",
        "FlowLogDeliverErrorMessage": deliver_error,
        "Tags": _tags(fl.tags),
    }
    if fl.log_format:
        view["LogFormat"] = fl.log_format
    return view


def vpc_view(vpc: Vpc) -> dict[str, Any]:
    """A VPC as an item of ``DescribeVpcs`` ``Vpcs.Vpc``."""
    return {
        "VpcId": vpc.vpc_id,
        "RegionId": vpc.region,
        "Status": "Available",
        "VpcName": vpc.name,
        "Description": vpc.description,
        "CreationTime": vpc.creation_time,
        "CidrBlock": vpc.cidr_block,
        "VRouterId": vpc.vrouter_id,
        "IsDefault": vpc.is_default,
        "OwnerId": _owner_id(vpc.account_id),
        "ResourceGroupId": vpc.resource_group_id,
        "EnabledIpv6": False,
        "Ipv6CidrBlock": "",
        "CenStatus": "Detached",
        "DnsHostnameStatus": "DISABLED",
        "VSwitchIds": {"VSwitchId": list(vpc.vswitch_ids)},
        "UserCidrs": {"UserCidr": []},
        "NatGatewayIds": {"NatGatewayIds": []},
        "RouterTableIds": {"RouterTableIds": []},
        "SecondaryCidrBlocks": {"SecondaryCidrBlock": []},
        "Tags": _tags(vpc.tags),
    }


def vswitch_view(vsw: VSwitch) -> dict[str, Any]:
    """A vSwitch as an item of ``DescribeVSwitches`` ``VSwitches.VSwitch``."""
    return {
        "VSwitchId": vsw.vswitch_id,
        "VpcId": vsw.vpc_id,
        "ZoneId": vsw.zone_id,
        "Status": "Available",
        "VSwitchName": vsw.name,
        "Description": vsw.description,
        "CreationTime": vsw.creation_time,
        "CidrBlock": vsw.cidr_block,
        "AvailableIpAddressCount": 252,
        "IsDefault": vsw.is_default,
        "OwnerId": _owner_id(vsw.account_id),
        "ResourceGroupId": vsw.resource_group_id,
        "EnabledIpv6": False,
        "NetworkAclId": "",
        "ShareType": "Sharing",
        "RouteTable": {"RouteTableId": "", "RouteTableType": "System"},
        "Tags": _tags(vsw.tags),
    }


def network_interface_view(eni: NetworkInterface) -> dict[str, Any]:
    """An ENI as an item of ECS ``DescribeNetworkInterfaces`` ``NetworkInterfaceSets.NetworkInterfaceSet``."""
    return {
        "NetworkInterfaceId": eni.eni_id,
        "Status": "Available",
        "Type": "Secondary",
        "VpcId": eni.vpc_id,
        "VSwitchId": eni.vswitch_id,
        "ZoneId": eni.zone_id,
        "PrivateIpAddress": eni.private_ip,
        "CreationTime": eni.creation_time,
        "ResourceGroupId": eni.resource_group_id,
        "OwnerId": eni.account_id,
        # ECS spells tag fields TagKey/TagValue, unlike VPC.
        "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in eni.tags.items()]},
    }

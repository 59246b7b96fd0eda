"""The API actions: parameter checks and business rules, each raising the cloud's error code.

A handler takes a :class:`Context` (the caller's account, the request parameters) and returns the response
body without ``RequestId``, which the server adds. The server runs handlers under ``Cloud.lock`` after
settling due transitions, so each action sees a consistent cloud and is atomic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .errors import api_error, missing_parameter
from .params import indexed_objects, indexed_values, optional, page, paginate, parse_bool, required
from .state import (
    ACTIVATING,
    ACTIVE,
    DEACTIVATING,
    DELETING,
    INACTIVE,
    AccessKeyRecord,
    Account,
    Cloud,
    FlowLog,
    RegionState,
)
from .views import flow_log_view, network_interface_view, vpc_view, vswitch_view

VPC_VERSION = "2016-04-28"
ECS_VERSION = "2014-05-26"

RESOURCE_PREFIXES = {"VPC": "vpc-", "VSwitch": "vsw-", "NetworkInterface": "eni-"}
TRAFFIC_TYPES = ("All", "Allow", "Drop")
AGGREGATION_INTERVALS = (1, 5, 10)
DEFAULT_AGGREGATION_INTERVAL = 10
#: TrafficPath values documented for CreateFlowLog (alibabacloud_vpc20160428 7.2 CreateFlowLogRequest).
TRAFFIC_PATHS = (
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
IP_VERSIONS = ("IPv4", "DualStack")
MAX_TAGS = 20
FLOW_LOG_PAGE_SIZE = 20
VPC_PAGE_SIZE = 10
ENI_PAGE_SIZE = 10
ENI_PAGE_SIZE_MAX = 1000


@dataclass(frozen=True)
class Context:
    """One call: who makes it and with which parameters."""

    cloud: Cloud
    account: Account
    params: Mapping[str, str]
    page_size_max: int = 50
    #: The key the request was signed with (STS needs to know who calls, not only in which account).
    caller: AccessKeyRecord | None = None


Handler = Callable[[Context], dict[str, Any]]


# --- shared checks ------------------------------------------------------------------------------------


def _region(ctx: Context) -> tuple[str, RegionState]:
    region = required(ctx.params, "RegionId")
    if region not in ctx.cloud.known_regions:
        raise api_error("InvalidRegionId.NotFound")
    return region, ctx.cloud.region(ctx.account.account_id, region)


def _require_service(ctx: Context) -> None:
    if not ctx.account.service_opened:
        raise api_error("OptInRequired.FlowLog")


def _check_text(value: str | None, max_len: int) -> None:
    """FlowLogName (128) / Description (256): 1..max chars, not starting with http:// or https://."""
    if value is None:
        return
    if not 1 <= len(value) <= max_len or value.startswith(("http://", "https://")):
        raise api_error("ParameterInvalid")


def _aggregation_interval(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise api_error("IllegalParam.AggregationInterval") from None
    if value not in AGGREGATION_INTERVALS:
        raise api_error("IllegalParam.AggregationInterval")
    return value


def _ip_version(raw: str | None) -> str | None:
    if raw is not None and raw not in IP_VERSIONS:
        raise api_error("IllegalParam.IpVersion")
    return raw


def _bad_tag_text(text: str) -> bool:
    return len(text) > 128 or text.startswith(("aliyun", "acs:")) or "http://" in text or "https://" in text


def _tags(params: Mapping[str, str], prefix: str = "Tag") -> dict[str, str]:
    raw = indexed_objects(params, prefix)
    if len(raw) > MAX_TAGS:
        raise api_error("QuotaExceeded.TagNum")
    tags: dict[str, str] = {}
    for item in raw:
        key = item.get("Key", "")
        value = item.get("Value", "")
        if not key or _bad_tag_text(key):
            raise api_error("InvalidTagKey")
        if _bad_tag_text(value):
            raise api_error("InvalidTagValue")
        if key in tags:
            raise api_error("Duplicate.TagKey")
        tags[key] = value
    return tags


def _tag_filter(params: Mapping[str, str], prefix: str) -> list[tuple[str, str | None]]:
    return [(t["Key"], t.get("Value")) for t in indexed_objects(params, prefix) if t.get("Key")]


def _tags_match(tags: Mapping[str, str], wanted: Iterable[tuple[str, str | None]]) -> bool:
    return all(key in tags and (value is None or tags[key] == value) for key, value in wanted)


def _page_body(items: list[Any], number: int, size: int) -> dict[str, Any]:
    return {"TotalCount": len(items), "PageNumber": number, "PageSize": size}


def _flow_log(ctx: Context, state: RegionState) -> FlowLog:
    flow_log_id = required(ctx.params, "FlowLogId")
    fl = state.flow_logs.get(flow_log_id)
    if fl is None:
        raise api_error("InvalidFlowLogId.NotFound")
    return fl


def _require_status(fl: FlowLog, allowed: tuple[str, ...]) -> None:
    if fl.status not in allowed:
        raise api_error(
            "IncorrectStatus.flowlog",
            f"The current FlowLog instance status does not support this operation. {fl.flow_log_id} is {fl.status}.",
        )


def business_status(account: Account, fl: FlowLog) -> tuple[str, str]:
    """The flow log's BusinessStatus and, if its records cannot be delivered, why.

    ``Abnormal`` when the test forced it, when the account is overdue, or when the flow log's logstore is gone.
    """
    if (fl.region, fl.project_name, fl.logstore_name) not in account.logstores:
        return "Abnormal", "ProjectOrLogstoreNotExist: the project or logstore of this flow log does not exist"
    if account.overdue:
        return "Abnormal", ""
    return fl.business_status or "Normal", ""


def _require_normal(ctx: Context, fl: FlowLog) -> None:
    if business_status(ctx.account, fl)[0] != "Normal":
        raise api_error("IncorrectBusinessStatus.FlowLog")


# --- flow-log service ---------------------------------------------------------------------------------


def get_flow_log_service_status(ctx: Context) -> dict[str, Any]:
    """GetFlowLogServiceStatus: whether the account opened the flow-log service."""
    _region(ctx)
    return {"Enabled": ctx.account.service_opened}


def open_flow_log_service(ctx: Context) -> dict[str, Any]:
    """OpenFlowLogService: open the service for the account (idempotent)."""
    _region(ctx)
    ctx.account.service_opened = True
    return {"Code": "200", "Message": "successful"}


# --- flow logs ----------------------------------------------------------------------------------------


def _resource(state: RegionState, resource_type: str, resource_id: str) -> str:
    """The VPC id the resource belongs to; the cloud's error when it does not exist."""
    if not resource_id.startswith(RESOURCE_PREFIXES[resource_type]):
        raise api_error("InvalidResourceType.NotFound")
    if resource_type == "VPC":
        if resource_id in state.vpcs:
            return resource_id
        raise api_error("InvalidInstanceId", "vpc does not exist.")
    if resource_type == "VSwitch":
        vsw = state.vswitches.get(resource_id)
        if vsw is None:
            raise api_error("InvalidInstanceId", "vswitch does not exist.")
        return vsw.vpc_id
    eni = state.enis.get(resource_id)
    if eni is None:
        raise api_error("InvalidInstanceId", "eni does not exist.")
    return eni.vpc_id


def _traffic_paths(ctx: Context, ip_version: str) -> list[str]:
    paths = indexed_values(ctx.params, "TrafficPath")
    if not paths:
        return ["all"]
    if any(p not in TRAFFIC_PATHS for p in paths) or ("all" in paths and len(set(paths)) > 1):
        raise api_error("IllegalParam.TrafficPath")
    if len(set(paths)) != len(paths):
        raise api_error("DuplicatedParam.TrafficPath")
    if paths != ["all"]:
        if not ctx.account.traffic_path_enabled:
            raise api_error("UnsupportedFeature.UserDefinedTrafficPath")
        if ip_version == "DualStack":
            raise api_error("UnsupportedFeature.UserDefinedTrafficPathIpv6")
    return paths


def create_flow_log(ctx: Context) -> dict[str, Any]:
    """CreateFlowLog: validate everything, then create the flow log in Activating."""
    p = ctx.params
    region, state = _region(ctx)
    resource_type = required(p, "ResourceType")
    resource_id = required(p, "ResourceId")
    traffic_type = required(p, "TrafficType")
    _require_service(ctx)
    if ctx.account.overdue:
        raise api_error("IncorrectBusinessStatus.FlowLog")

    if resource_type not in RESOURCE_PREFIXES:
        raise api_error("OperationUnsupported.ResourceType")
    if traffic_type not in TRAFFIC_TYPES:
        raise api_error("ParameterInvalid")
    name = optional(p, "FlowLogName")
    description = optional(p, "Description")
    _check_text(name, 128)
    _check_text(description, 256)
    interval = _aggregation_interval(optional(p, "AggregationInterval"))
    ip_version = _ip_version(optional(p, "IpVersion")) or "IPv4"
    paths = _traffic_paths(ctx, ip_version)
    tags = _tags(p)

    resource_group_id = optional(p, "ResourceGroupId") or ctx.account.default_resource_group_id
    if resource_group_id not in ctx.account.resource_groups:
        raise api_error("IllegalParam.ResourceGroupId")

    vpc_id = _resource(state, resource_type, resource_id)

    project = optional(p, "ProjectName") or ""
    logstore = optional(p, "LogStoreName") or ""
    if not project and not logstore:
        raise api_error("MissingParam.TrafficAnalyzerIdOrLogProjectOrLogStore")
    if not project or not logstore:
        raise missing_parameter("ProjectName" if not project else "LogStoreName")
    if (region, project, logstore) not in ctx.account.logstores:
        raise api_error("ProjectOrLogstoreNotExist")

    if resource_id in state.flow_log_by_resource:
        raise api_error("InvalidResourceId.NotFound")
    if ctx.account.flow_log_count >= ctx.cloud.flow_log_quota_for(ctx.account):
        raise api_error("QuotaExceeded.FlowlogCount")

    fl = FlowLog(
        flow_log_id=ctx.cloud.new_id("fl-", 20),
        account_id=ctx.account.account_id,
        region=region,
        resource_type=resource_type,
        resource_id=resource_id,
        vpc_id=vpc_id,
        project_name=project,
        logstore_name=logstore,
        traffic_type=traffic_type,
        aggregation_interval=interval or DEFAULT_AGGREGATION_INTERVAL,
        traffic_paths=paths,
        ip_version=ip_version,
        resource_group_id=resource_group_id,
        creation_time=ctx.cloud.wall_now_iso(),
        status=ACTIVATING,
        name=name or "",
        description=description or "",
        log_format=optional(p, "LogFormat") or "",
        tags=tags,
    )
    ctx.cloud.add_flow_log(fl)
    return {"Success": "true", "FlowLogId": fl.flow_log_id, "ResourceGroupId": resource_group_id}


def describe_flow_logs(ctx: Context) -> dict[str, Any]:
    """DescribeFlowLogs: filter, in creation order, one page at a time."""
    p = ctx.params
    _, state = _region(ctx)
    number, size = page(p, FLOW_LOG_PAGE_SIZE, ctx.page_size_max)

    flow_log_id = optional(p, "FlowLogId")
    resource_id = optional(p, "ResourceId")
    vpc_id = optional(p, "VpcId")
    # Narrow with an index first: by id, by resource, or by VPC; else the region's flow logs in order.
    candidates: Iterable[FlowLog]
    if flow_log_id:
        candidates = [fl for fl in (state.flow_logs.get(flow_log_id),) if fl is not None]
    elif resource_id:
        found = state.flow_log_by_resource.get(resource_id)
        candidates = [state.flow_logs[found]] if found else []
    elif vpc_id:
        candidates = [state.flow_logs[i] for i in state.flow_logs_by_vpc.get(vpc_id, {})]
    else:
        candidates = state.flow_logs.values()

    equal = {
        "flow_log_id": flow_log_id,
        "resource_id": resource_id,
        "vpc_id": vpc_id,
        "name": optional(p, "FlowLogName"),
        "description": optional(p, "Description"),
        "resource_type": optional(p, "ResourceType"),
        "project_name": optional(p, "ProjectName"),
        "logstore_name": optional(p, "LogStoreName"),
        "status": optional(p, "Status"),
        "traffic_type": optional(p, "TrafficType"),
        "resource_group_id": optional(p, "ResourceGroupId"),
    }
    # One narrowing pass per filter given: pollers page through thousands of flow logs by Status.
    matched = list(candidates)
    for attr, value in equal.items():
        if value:
            get = attrgetter(attr)
            matched = [fl for fl in matched if get(fl) == value]
    tag_filter = _tag_filter(p, "Tags")
    if tag_filter:
        matched = [fl for fl in matched if _tags_match(fl.tags, tag_filter)]
    return {
        "Success": "true",
        # DescribeFlowLogs returns its counters as strings (the SDK model types them str).
        "TotalCount": str(len(matched)),
        "PageNumber": str(number),
        "PageSize": str(size),
        "FlowLogs": {
            "FlowLog": [flow_log_view(fl, *business_status(ctx.account, fl)) for fl in paginate(matched, number, size)]
        },
    }


def _writable_flow_log(ctx: Context) -> FlowLog:
    """The flow log a write action names, once the region and the service check out."""
    _, state = _region(ctx)
    _require_service(ctx)
    return _flow_log(ctx, state)


def _begin(ctx: Context, allowed: tuple[str, ...], status: str) -> dict[str, Any]:
    """Move the named flow log from one of ``allowed`` into the transitional ``status``."""
    fl = _writable_flow_log(ctx)
    _require_status(fl, allowed)
    ctx.cloud.begin(fl, status)
    return {"Success": "true"}


def delete_flow_log(ctx: Context) -> dict[str, Any]:
    """DeleteFlowLog: Active or Inactive -> Deleting -> gone after the deletion delay."""
    return _begin(ctx, (ACTIVE, INACTIVE), DELETING)


def active_flow_log(ctx: Context) -> dict[str, Any]:
    """ActiveFlowLog: Inactive -> Activating -> Active; refused while the flow log's BusinessStatus is Abnormal."""
    _require_normal(ctx, _writable_flow_log(ctx))
    return _begin(ctx, (INACTIVE,), ACTIVATING)


def deactive_flow_log(ctx: Context) -> dict[str, Any]:
    """DeactiveFlowLog: Active -> Deactivating -> Inactive."""
    return _begin(ctx, (ACTIVE,), DEACTIVATING)


#: Parameters every call may carry: the RPC signature's and the SDK's common ones (never action parameters).
COMMON_PARAMETERS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "SecurityToken",
        "RegionId",
        "OwnerId",
        "OwnerAccount",
        "ResourceOwnerId",
        "ResourceOwnerAccount",
    }
)
#: What ModifyFlowLogAttribute emulates (alibabacloud_vpc20160428 ModifyFlowLogAttributeRequest's fields).
MODIFY_FLOW_LOG_PARAMETERS = frozenset(
    {"FlowLogId", "FlowLogName", "Description", "AggregationInterval", "IpVersion", "LogFormat"}
)


def _refuse_unemulated(params: Mapping[str, str], known: frozenset[str], action: str) -> None:
    """A parameter the action does not emulate is refused by name, never silently ignored."""
    unknown = sorted(name for name in params if name not in known and name not in COMMON_PARAMETERS)
    if unknown:
        raise api_error(
            "InvalidParameter",
            f"The specified parameter {', '.join(repr(n) for n in unknown)} is not valid: {action} in the emulator "
            f"takes {', '.join(sorted(known))}.",
        )


def modify_flow_log_attribute(ctx: Context) -> dict[str, Any]:
    """ModifyFlowLogAttribute: name, description, interval, IP version, LogFormat (kept as given); only when
    Active or Inactive and the BusinessStatus is Normal. Any other parameter is refused by name."""
    p = ctx.params
    _refuse_unemulated(p, MODIFY_FLOW_LOG_PARAMETERS, "ModifyFlowLogAttribute")
    fl = _writable_flow_log(ctx)
    _require_normal(ctx, fl)
    name = optional(p, "FlowLogName")
    description = optional(p, "Description")
    _check_text(name, 128)
    _check_text(description, 256)
    interval = _aggregation_interval(optional(p, "AggregationInterval"))
    ip_version = _ip_version(optional(p, "IpVersion"))
    if ip_version == "DualStack" and fl.traffic_paths != ["all"]:
        raise api_error("UnsupportedFeature.UserDefinedTrafficPathIpv6")
    _require_status(fl, (ACTIVE, INACTIVE))
    if name is not None:
        fl.name = name
    if description is not None:
        fl.description = description
    if interval is not None:
        fl.aggregation_interval = interval
    if ip_version is not None:
        fl.ip_version = ip_version
    log_format = optional(p, "LogFormat")
    if log_format is not None:
        fl.log_format = log_format
    return {"Success": "true"}


# --- tags and resource groups -------------------------------------------------------------------------

#: TagResources / UnTagResources / ListTagResources ``ResourceType`` values emulated (the SDK documents more).
TAG_RESOURCE_TYPES = ("FLOWLOG", "VPC", "VSWITCH")
MAX_TAG_RESOURCE_IDS = 50
TAG_PAGE_SIZE = 50


def _taggable(state: RegionState, resource_type: str) -> Mapping[str, Any]:
    """The region's resources of an upper-case ``ResourceType`` (FLOWLOG, VPC, VSWITCH), by id."""
    tables: dict[str, Mapping[str, Any]] = {"FLOWLOG": state.flow_logs, "VPC": state.vpcs, "VSWITCH": state.vswitches}
    return tables[resource_type]


def _tagged(ctx: Context, state: RegionState) -> tuple[str, list[Any]]:
    """The ``ResourceType`` and the resources ``ResourceId.N`` names (each must exist)."""
    resource_type = required(ctx.params, "ResourceType").upper()
    if resource_type not in TAG_RESOURCE_TYPES:
        raise api_error(
            "InvalidParameter",
            f'The specified parameter "ResourceType" is not valid: the emulator tags {", ".join(TAG_RESOURCE_TYPES)}.',
        )
    ids = indexed_values(ctx.params, "ResourceId")
    if len(ids) > MAX_TAG_RESOURCE_IDS:
        raise api_error("InvalidParameter", f"At most {MAX_TAG_RESOURCE_IDS} ResourceId.N are allowed.")
    table = _taggable(state, resource_type)
    found = []
    for resource_id in ids:
        resource = table.get(resource_id)
        if resource is None:
            code = "InvalidFlowLogId.NotFound" if resource_type == "FLOWLOG" else "InvalidInstanceId.NotFound"
            raise api_error(code, f"The specified resource {resource_id} does not exist.")
        found.append(resource)
    return resource_type, found


def tag_resources(ctx: Context) -> dict[str, Any]:
    """TagResources: add or overwrite tags (``Tag.N``) on ``ResourceId.N``; at most 20 user tags a resource."""
    _, state = _region(ctx)
    ids = indexed_values(ctx.params, "ResourceId")
    if not ids:
        raise missing_parameter("ResourceId.1")
    _, resources = _tagged(ctx, state)
    tags = _tags(ctx.params)
    if not tags:
        raise missing_parameter("Tag.1.Key")
    for resource in resources:
        if len({**resource.tags, **tags}) > MAX_TAGS:
            raise api_error("QuotaExceeded.TagNum")
    for resource in resources:
        resource.tags.update(tags)
    return {}


def un_tag_resources(ctx: Context) -> dict[str, Any]:
    """UnTagResources: remove ``TagKey.N`` (or, with ``All=true``, every tag) from ``ResourceId.N``."""
    _, state = _region(ctx)
    if not indexed_values(ctx.params, "ResourceId"):
        raise missing_parameter("ResourceId.1")
    _, resources = _tagged(ctx, state)
    keys = indexed_values(ctx.params, "TagKey")
    remove_all = parse_bool(optional(ctx.params, "All")) or False
    if not keys and not remove_all:
        raise missing_parameter("TagKey.1")
    for resource in resources:
        for key in list(resource.tags) if remove_all else keys:
            resource.tags.pop(key, None)
    return {}


def list_tag_resources(ctx: Context) -> dict[str, Any]:
    """ListTagResources: (resource, key, value) of ``ResourceId.N`` or of resources with ``Tag.N``, paged by
    ``NextToken`` (an offset) and ``MaxResults``."""
    p = ctx.params
    _, state = _region(ctx)
    resource_type = required(p, "ResourceType").upper()
    wanted = _tag_filter(p, "Tag")
    if indexed_values(p, "ResourceId"):
        _, resources = _tagged(ctx, state)
    else:
        if not wanted:
            raise missing_parameter("ResourceId.1")
        _tagged(ctx, state)  # checks the type
        resources = [r for r in _taggable(state, resource_type).values() if _tags_match(r.tags, wanted)]
    id_attr = {"FLOWLOG": "flow_log_id", "VPC": "vpc_id", "VSWITCH": "vswitch_id"}[resource_type]
    rows = [
        {"ResourceId": getattr(r, id_attr), "ResourceType": resource_type, "TagKey": k, "TagValue": v}
        for r in resources
        for k, v in r.tags.items()
    ]
    try:
        start = int(optional(p, "NextToken") or 0)
        size = int(optional(p, "MaxResults") or TAG_PAGE_SIZE)
    except ValueError:
        raise api_error("InvalidParameter", "NextToken and MaxResults must be integers.") from None
    if not 1 <= size <= TAG_PAGE_SIZE or start < 0:
        raise api_error("InvalidParameter", f"MaxResults is 1 to {TAG_PAGE_SIZE}.")
    chunk = rows[start : start + size]
    more = start + size < len(rows)
    return {"NextToken": str(start + size) if more else "", "TagResources": {"TagResource": chunk}}


#: MoveResourceGroup ``ResourceType`` values emulated, with the resources each names.
MOVABLE_RESOURCE_TYPES = ("flowlog", "vpc", "vswitch")


def move_resource_group(ctx: Context) -> dict[str, Any]:
    """MoveResourceGroup: put the flow log (or VPC, vSwitch) ``ResourceId`` in ``NewResourceGroupId``."""
    p = ctx.params
    _, state = _region(ctx)
    resource_id = required(p, "ResourceId")
    new_group = required(p, "NewResourceGroupId")
    resource_type = required(p, "ResourceType").lower()
    if resource_type not in MOVABLE_RESOURCE_TYPES:
        raise api_error(
            "InvalidParameter",
            f'The specified parameter "ResourceType" is not valid: the emulator moves '
            f"{', '.join(MOVABLE_RESOURCE_TYPES)}.",
        )
    if new_group not in ctx.account.resource_groups:
        raise api_error("IllegalParam.ResourceGroupId")
    resource = _taggable(state, resource_type.upper()).get(resource_id)
    if resource is None:
        code = "InvalidFlowLogId.NotFound" if resource_type == "flowlog" else "InvalidInstanceId.NotFound"
        raise api_error(code, f"The specified resource {resource_id} does not exist.")
    resource.resource_group_id = new_group
    return {}


# --- VPCs, vSwitches, ENIs ------------------------------------------------------------------------------


def _dry_run(params: Mapping[str, str]) -> None:
    if parse_bool(params.get("DryRun")):
        raise api_error("DryRunOperation")


def describe_vpcs(ctx: Context) -> dict[str, Any]:
    """DescribeVpcs: by ids (comma-separated), name, default flag, resource group and tags."""
    p = ctx.params
    _, state = _region(ctx)
    number, size = page(p, VPC_PAGE_SIZE, ctx.page_size_max)
    _dry_run(p)
    ids = [i.strip() for i in (optional(p, "VpcId") or "").split(",") if i.strip()]
    vpcs = [state.vpcs[i] for i in dict.fromkeys(ids) if i in state.vpcs] if ids else list(state.vpcs.values())
    name = optional(p, "VpcName")
    is_default = parse_bool(optional(p, "IsDefault"))
    rg = optional(p, "ResourceGroupId")
    tag_filter = _tag_filter(p, "Tag")
    matched = [
        v
        for v in vpcs
        if (not name or v.name == name)
        and (is_default is None or v.is_default == is_default)
        and (not rg or v.resource_group_id == rg)
        and _tags_match(v.tags, tag_filter)
    ]
    items = [vpc_view(v) for v in paginate(matched, number, size)]
    return {**_page_body(matched, number, size), "Vpcs": {"Vpc": items}}


def describe_vswitches(ctx: Context) -> dict[str, Any]:
    """DescribeVSwitches: by VPC, id, zone, name, default flag, resource group and tags."""
    p = ctx.params
    vpc_id = optional(p, "VpcId")
    if p.get("RegionId") or not vpc_id:
        _, state = _region(ctx)
    else:
        # RegionId may be left out when VpcId is given: look in the VPC's region.
        owner = ctx.account.account_id
        regions = (s for (acct, _), s in ctx.cloud.regions.items() if acct == owner and vpc_id in s.vpcs)
        state = next(regions, RegionState())
    number, size = page(p, VPC_PAGE_SIZE, ctx.page_size_max)
    _dry_run(p)
    vswitch_id = optional(p, "VSwitchId")
    if vswitch_id:
        vswitches = [state.vswitches[vswitch_id]] if vswitch_id in state.vswitches else []
    elif vpc_id:
        vpc = state.vpcs.get(vpc_id)
        vswitches = [state.vswitches[i] for i in vpc.vswitch_ids] if vpc else []
    else:
        vswitches = list(state.vswitches.values())
    zone = optional(p, "ZoneId")
    name = optional(p, "VSwitchName")
    is_default = parse_bool(optional(p, "IsDefault"))
    rg = optional(p, "ResourceGroupId")
    tag_filter = _tag_filter(p, "Tag")
    matched = [
        s
        for s in vswitches
        if (not vpc_id or s.vpc_id == vpc_id)
        and (not zone or s.zone_id == zone)
        and (not name or s.name == name)
        and (is_default is None or s.is_default == is_default)
        and (not rg or s.resource_group_id == rg)
        and _tags_match(s.tags, tag_filter)
    ]
    body = _page_body(matched, number, size)
    return {**body, "VSwitches": {"VSwitch": [vswitch_view(s) for s in paginate(matched, number, size)]}}


def describe_network_interfaces(ctx: Context) -> dict[str, Any]:
    """ECS DescribeNetworkInterfaces (version 2014-05-26): by ids, VPC, vSwitch and tags."""
    p = ctx.params
    _, state = _region(ctx)
    number, size = page(p, ENI_PAGE_SIZE, ENI_PAGE_SIZE_MAX)
    ids = indexed_values(p, "NetworkInterfaceId")
    enis = [state.enis[i] for i in dict.fromkeys(ids) if i in state.enis] if ids else list(state.enis.values())
    vpc_id = optional(p, "VpcId")
    vswitch_id = optional(p, "VSwitchId")
    tag_filter = _tag_filter(p, "Tag")
    matched = [
        e
        for e in enis
        if (not vpc_id or e.vpc_id == vpc_id)
        and (not vswitch_id or e.vswitch_id == vswitch_id)
        and _tags_match(e.tags, tag_filter)
    ]
    items = [network_interface_view(e) for e in paginate(matched, number, size)]
    return {**_page_body(matched, number, size), "NetworkInterfaceSets": {"NetworkInterfaceSet": items}}


def describe_regions(ctx: Context) -> dict[str, Any]:
    """VPC DescribeRegions: every region the account can use (here: every region the emulator knows)."""
    regions = [
        {"RegionId": region, "LocalName": region, "RegionEndpoint": "vpc.aliyuncs.com"}
        for region in sorted(ctx.cloud.known_regions)
    ]
    return {"Regions": {"Region": regions}}


#: (API version, action name) -> handler.
ACTIONS: dict[tuple[str, str], Handler] = {
    (VPC_VERSION, "CreateFlowLog"): create_flow_log,
    (VPC_VERSION, "DescribeFlowLogs"): describe_flow_logs,
    (VPC_VERSION, "DeleteFlowLog"): delete_flow_log,
    (VPC_VERSION, "ActiveFlowLog"): active_flow_log,
    (VPC_VERSION, "DeactiveFlowLog"): deactive_flow_log,
    (VPC_VERSION, "ModifyFlowLogAttribute"): modify_flow_log_attribute,
    (VPC_VERSION, "GetFlowLogServiceStatus"): get_flow_log_service_status,
    (VPC_VERSION, "OpenFlowLogService"): open_flow_log_service,
    (VPC_VERSION, "TagResources"): tag_resources,
    (VPC_VERSION, "UnTagResources"): un_tag_resources,
    (VPC_VERSION, "ListTagResources"): list_tag_resources,
    (VPC_VERSION, "MoveResourceGroup"): move_resource_group,
    (VPC_VERSION, "DescribeVpcs"): describe_vpcs,
    (VPC_VERSION, "DescribeVSwitches"): describe_vswitches,
    (VPC_VERSION, "DescribeRegions"): describe_regions,
    (ECS_VERSION, "DescribeNetworkInterfaces"): describe_network_interfaces,
}
#: The API versions the emulator speaks.
VERSIONS = frozenset(version for version, _ in ACTIONS)

#: The product named in error responses' HostId/Recommend, per version.
PRODUCTS = {VPC_VERSION: "Vpc", ECS_VERSION: "Ecs"}

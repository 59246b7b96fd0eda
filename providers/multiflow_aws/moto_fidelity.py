"""Make moto's flow logs behave as AWS documents them, inside the sandbox process only.

moto (5.2) differs from AWS's CreateFlowLogs/DescribeFlowLogs reference in ways that would hide real bugs in
multiflow, so the sandbox corrects them at moto's HTTP-handler layer (the wire protocol and boto3 are untouched):

* an S3 destination with a subfolder (``arn:aws:s3:::bucket/prefix/``) is checked as a bucket called
  ``bucket/prefix/``, which never exists; AWS checks the bucket;
* ``DestinationOptions``, ``DeliverCrossAccountRole`` and ``TagFieldSpecifications`` are dropped; AWS keeps and
  describes them;
* ``ClientToken`` is ignored; AWS answers a repeated token with the first answer (idempotency);
* a duplicate (a resource that already has a flow log to the destination) refuses the call after moto has
  created, untagged, the flow logs of the resources before it; AWS creates none;
* a flow log to ``bucket/prefix/`` is refused as a duplicate when the resource has one to the bare ``bucket``
  (moto compares the bucket only), but not in the other order; AWS allows both, in either order;
* moto's CreateFlowLogs looks for a duplicate by listing and scanning every flow log of the region once per
  resource of the call, so creating N flow logs costs it O(N²) (0.48 s of the 0.74 s one call of 300 took beside
  2,700 others; minutes at 10,000), a cost AWS does not have and which would swamp what the benchmarks measure. The
  duplicate rule (AWS's: one flow log per resource and whole destination, a resource named twice in one call
  refused too) is checked once per call here, against a set of the call's resources, and moto's own scan is
  skipped while that call runs (which also corrects the bucket-only comparison above);
* DescribeFlowLogs with ``FlowLogId.N`` tests each flow log of the region against the list of ids (O(N x ids) a
  call); it is tested against a set (the same flow logs, in the same order);
* CreateVpc (and seeding VPCs through moto's backend) looks for the new VPC's ``default`` security group by
  trying the name as a group id against every security group of the region first, so N VPCs cost O(N²) to make
  (seeding 20,000 did not finish in 7 minutes); a name that is not an ``sg-`` id skips that scan (moto's group ids
  all start ``sg-``, so the answer is the same);
* every Describe filter is matched value by value with ``fnmatch`` (a filter of 200 ids against 6,000 VPCs is
  1.2 million pattern matches a call, over a second of sandbox CPU), where AWS looks ids up; a filter whose values
  hold no wildcard (``*``, ``?``, ``[``) is matched against a set of them, for a resource whose value for it is a
  single string (the same answer; wildcards and every other value type still go moto's way);
* DescribeFlowLogs, DescribeVpcs, DescribeSubnets and DescribeNetworkInterfaces ignore ``MaxResults``/
  ``NextToken``; AWS pages;
* every EC2 resource's own tags are found by scanning every tag of the region (``TaggedEC2Resource.get_tags``
  asks ``describe_tags`` with a ``resource-id`` filter), so describing N tagged flow logs costs N x all tags: a
  sandbox cost AWS does not have, which would swamp what the benchmarks measure. The tags are read from the
  resource's own entry instead (the same list, in the same order);
* DescribeFlowLogs and DeleteFlowLogs take any number of ``FlowLogId.N``; AWS takes at most
  :data:`FLOW_LOG_IDS_PER_CALL` (the EC2 API reference: "Constraint: Maximum of 1000 flow log IDs") and refuses
  the call otherwise (``InvalidParameterValue``, HTTP 400);
* CreateFlowLogs takes any number of ``ResourceId.N``; AWS takes at most 25 for transit gateway resource types
  and 300 for the others (:data:`RESOURCE_IDS_PER_CREATE`, from botocore's model of the parameter);
* the Cloud WAN resource types (``CoreNetwork``, ``CoreNetworkAttachment``) are refused as ``InvalidID``, since
  moto knows no ``core-network-`` or ``attachment-`` prefix; AWS takes them. Their ids are checked for their
  prefix and hexadecimal digits only: like transit gateways in moto, a well-formed id that names nothing is taken.
* STS AssumeRole enters any role ARN, existing or not ("the role does not need to exist"); AWS refuses a role
  that does not exist in its account, or whose trust policy does not name the caller's account, with HTTP 403
  ``AccessDenied`` "User: ARN is not authorized to perform: sts:AssumeRole on resource: ROLE" and a request id;
* EC2 DescribeRegions answers the regions of every partition (GovCloud and China beside the commercial ones),
  calls ``af-south-1``, ``eu-south-1`` and ``ap-southeast-3`` ``opt-in-not-required`` and ignores
  ``AllRegions``; AWS answers the caller's partition only, every region launched since March 2019 is opt-in
  (``not-opted-in`` until the account enables it: :func:`opt_in`), and without ``AllRegions`` only the enabled
  regions are answered.

:func:`apply` is idempotent and refuses to run against a moto whose handlers no longer look as expected, so a
moto upgrade cannot silently turn the corrections off.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Any

__all__ = ["FLOW_LOG_IDS_PER_CALL", "OPT_IN_NOT_REQUIRED", "RESOURCE_IDS_PER_CREATE", "apply", "opt_in"]

#: The most ``FlowLogId.N`` one DescribeFlowLogs or DeleteFlowLogs call may carry.
FLOW_LOG_IDS_PER_CALL = 1000
#: The most ``ResourceId.N`` one CreateFlowLogs call may carry, by ResourceType (300 for any type not named).
RESOURCE_IDS_PER_CREATE = {"TransitGateway": 25, "TransitGatewayAttachment": 25}
_CLOUD_WAN_ID = re.compile(r"(core-network|attachment)-[0-9a-f]{1,17}")

_lock = threading.Lock()
#: Set while one CreateFlowLogs runs in this thread, its duplicates checked already (moto's scan skipped).
_checked = threading.local()
_applied = False
_tokens: dict[tuple[str, str, str], dict[str, Any]] = {}
#: The commercial regions launched before March 2019, enabled in every account; every later one is opt-in.
OPT_IN_NOT_REQUIRED = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "eu-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-north-1",
        "sa-east-1",
    }
)
_opted_in: dict[str, set[str]] = {}


def _bucket_only(destination: str) -> str:
    head, sep, rest = destination.partition(":::")
    return f"{head}{sep}{rest.split('/', 1)[0]}" if sep else destination


def apply() -> None:
    """Install the corrections into moto's EC2 flow-log handlers (once per process)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.ec2.exceptions import FlowLogAlreadyExists
        from moto.ec2.responses.flow_logs import FlowLogs as FlowLogsResponse

        original_create = FlowLogsResponse.create_flow_logs
        original_describe = FlowLogsResponse.describe_flow_logs
        original_delete = FlowLogsResponse.delete_flow_logs
        for name in ("create_flow_logs", "describe_flow_logs", "delete_flow_logs"):
            if not callable(getattr(FlowLogsResponse, name, None)):
                raise RuntimeError(f"moto's FlowLogs handler has no {name}: update multiflow_aws.moto_fidelity")

        def create_flow_logs(self: Any) -> Any:
            _check_resource_count(self._get_param("ResourceType"), self._get_param("ResourceIds", []))
            token = self._get_param("ClientToken")
            key = (self.current_account, self.region, token) if token else None
            if key and key in _tokens:
                from moto.core.responses import ActionResult

                return ActionResult(_tokens[key])
            destination = self._get_param("LogDestination")
            group = self._get_param("LogGroupName")
            resource_ids = self._get_param("ResourceIds", [])
            # One duplicate refuses the whole call, before anything is created (moto creates the resources
            # before the duplicate, untagged, then refuses); moto's own per-resource scan is skipped below.
            wanted = set(resource_ids)
            if len(wanted) < len(resource_ids) or any(
                fl.resource_id in wanted and (fl.log_group_name, fl.log_destination) == (group, destination)
                for fl in self.ec2_backend.flow_logs.values()
            ):
                raise FlowLogAlreadyExists()
            if destination and self._get_param("LogDestinationType") == "s3" and "/" in destination.split(":::")[-1]:
                if self.automated_parameter_parsing:
                    self.params["LogDestination"] = _bucket_only(destination)
                else:
                    self.querystring["LogDestination"] = [_bucket_only(destination)]
            before = set(self.ec2_backend.flow_logs)
            _checked.active = True
            try:
                result: Any = original_create(self)
            finally:
                _checked.active = False
            created = [fl for fid, fl in self.ec2_backend.flow_logs.items() if fid not in before]
            options = self._get_param("DestinationOptions")
            cross_account = self._get_param("DeliverCrossAccountRole")
            tag_fields = self._get_param("TagFieldSpecifications")
            for flow_log in created:
                if destination:
                    flow_log.log_destination = destination
                if options:
                    flow_log.destination_options = options
                if cross_account:
                    flow_log.deliver_cross_account_role = cross_account
                if tag_fields:
                    flow_log.tag_field_specifications = tag_fields
            if key:
                _tokens[key] = {
                    "FlowLogIds": [fl.id for fl in created],
                    "ClientToken": token,
                    "Unsuccessful": result.result.get("Unsuccessful", []),
                }
            return result

        FlowLogsResponse.create_flow_logs = create_flow_logs  # type: ignore[method-assign]
        _accept_cloud_wan_ids()
        paged_describe = _paged(original_describe, "FlowLogs")
        FlowLogsResponse.describe_flow_logs = _id_limited(paged_describe)  # type: ignore[method-assign]
        FlowLogsResponse.delete_flow_logs = _id_limited(original_delete)  # type: ignore[method-assign]
        _page_listings()
        _refuse_unknown_roles()
        _describe_regions_as_aws()
        _own_tags()
        _indexed_flow_log_reads()
        _default_group_by_name()
        _literal_filters()
        _applied = True


def _check_resource_count(resource_type: str | None, resource_ids: list[str]) -> None:
    """Refuse a CreateFlowLogs with more resource ids than AWS takes for its resource type."""
    from moto.ec2.exceptions import EC2ClientError

    most = RESOURCE_IDS_PER_CREATE.get(resource_type or "", 300)
    if len(resource_ids) > most:
        raise EC2ClientError(
            "InvalidParameterValue",
            f"The maximum number of resource IDs for {resource_type} is {most}; {len(resource_ids)} were given.",
        )


def _accept_cloud_wan_ids() -> None:
    """Let moto's CreateFlowLogs handler take Cloud WAN ids (their prefix, then hexadecimal digits); any other id
    is judged by moto's own check, as before."""
    from moto.ec2.responses import flow_logs as handler_module

    original = getattr(handler_module, "validate_resource_ids", None)
    if not callable(original):
        raise RuntimeError("moto's flow_logs handler has no validate_resource_ids: update multiflow_aws.moto_fidelity")

    def validate_resource_ids(resource_ids: list[str]) -> bool:
        others = [i for i in resource_ids if not _CLOUD_WAN_ID.fullmatch(i)]
        return original(others) if others or not resource_ids else True

    handler_module.validate_resource_ids = validate_resource_ids  # type: ignore[attr-defined]


def _own_tags() -> None:
    """``get_tags`` from the resource's own entry of the tag backend, not a scan of every tag."""
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    if not callable(getattr(TaggedEC2Resource, "get_tags", None)):
        raise RuntimeError("moto's TaggedEC2Resource has no get_tags: update multiflow_aws.moto_fidelity")

    def get_tags(self: Any) -> list[dict[str, str]]:
        resource_id = getattr(self, "id", None)
        if not resource_id:
            return []
        own = self.ec2_backend.tags.get(resource_id) or {}
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [{"resource_id": resource_id, "key": k, "value": v, "resource_type": kind} for k, v in own.items()]

    TaggedEC2Resource.get_tags = get_tags  # type: ignore[method-assign]


def _indexed_flow_log_reads() -> None:
    """moto's ``describe_flow_logs`` testing ids against a set, and answering the unfiltered listing its own
    CreateFlowLogs makes per resource with nothing while the call's duplicates are checked already."""
    from moto.ec2.models.flow_logs import FlowLogsBackend

    original = getattr(FlowLogsBackend, "describe_flow_logs", None)
    if not callable(original):
        raise RuntimeError("moto's FlowLogsBackend has no describe_flow_logs: update multiflow_aws.moto_fidelity")

    def describe_flow_logs(self: Any, flow_log_ids: list[str] | None = None, filters: Any = None) -> Any:
        if not flow_log_ids and not filters and getattr(_checked, "active", False):
            return []
        return original(self, frozenset(flow_log_ids) if flow_log_ids else None, filters)

    FlowLogsBackend.describe_flow_logs = describe_flow_logs  # type: ignore[method-assign]


def _default_group_by_name() -> None:
    """``get_security_group_from_id`` answering ``None`` at once for what is not an ``sg-`` id (a name such as
    ``default``, which CreateVpc looks up), instead of scanning every security group of the region."""
    from moto.ec2.models.security_groups import SecurityGroupBackend

    original = getattr(SecurityGroupBackend, "get_security_group_from_id", None)
    if not callable(original):
        raise RuntimeError(
            "moto's SecurityGroupBackend has no get_security_group_from_id: update multiflow_aws.moto_fidelity"
        )

    def get_security_group_from_id(self: Any, group_id: str) -> Any:
        if not str(group_id).startswith("sg-"):
            return None
        return original(self, group_id)

    SecurityGroupBackend.get_security_group_from_id = get_security_group_from_id  # type: ignore[method-assign]


#: The moto EC2 model modules whose Describe calls multiflow makes with id filters.
_FILTERED_MODULES = ("vpcs", "subnets", "elastic_network_interfaces", "flow_logs")


def _literal_filters() -> None:
    """moto's ``generic_filter`` matching a filter of literal values (no wildcard) by set membership."""
    import importlib

    from moto.ec2 import utils

    original = getattr(utils, "generic_filter", None)
    matching = getattr(utils, "is_filter_matching", None)
    if not callable(original) or not callable(matching):
        raise RuntimeError(
            "moto.ec2.utils has no generic_filter/is_filter_matching: update multiflow_aws.moto_fidelity"
        )

    def generic_filter(filters: dict[str, Any], objects: list[Any]) -> list[Any]:
        for name, wanted in (filters or {}).items():
            values = wanted if isinstance(wanted, list) else [wanted]
            literal = len(values) > 1 and all(isinstance(v, str) and not set(v) & set("*?[") for v in values)
            if not literal:
                objects = [obj for obj in objects if matching(obj, name, wanted)]
                continue
            chosen = frozenset(values)

            def keep(obj: Any, name: str = name, wanted: Any = wanted, chosen: frozenset[str] = chosen) -> bool:
                value = obj.get_filter_value(name)
                return value in chosen if isinstance(value, str) else bool(matching(obj, name, wanted))

            objects = [obj for obj in objects if keep(obj)]
        return objects

    for module_name in _FILTERED_MODULES:
        module = importlib.import_module(f"moto.ec2.models.{module_name}")
        if getattr(module, "generic_filter", None) is not original:
            raise RuntimeError(f"moto.ec2.models.{module_name} filters otherwise: update multiflow_aws.moto_fidelity")
        module.generic_filter = generic_filter  # type: ignore[attr-defined]
    utils.generic_filter = generic_filter  # type: ignore[attr-defined]


def _id_limited(original: Any) -> Any:
    """``original`` (a moto flow-log handler) refusing more than :data:`FLOW_LOG_IDS_PER_CALL` flow log ids."""

    def handler(self: Any) -> Any:
        from moto.ec2.exceptions import EC2ClientError

        ids = self._get_param("FlowLogIds", [])
        if len(ids) > FLOW_LOG_IDS_PER_CALL:
            raise EC2ClientError(
                "InvalidParameterValue",
                f"The maximum number of flow log IDs is {FLOW_LOG_IDS_PER_CALL}; {len(ids)} were given.",
            )
        return original(self)

    return handler


def _paged(original: Any, key: str) -> Any:
    """``original`` (a moto Describe handler) answering ``MaxResults`` items a page, with a ``NextToken``."""

    def handler(self: Any) -> Any:
        result: Any = original(self)
        max_results = self._get_int_param("MaxResults")
        if not max_results:
            return result
        items = result.result[key]
        token = self._get_param("NextToken")
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        result.result[key] = items[start : start + max_results]
        if start + max_results < len(items):
            result.result["NextToken"] = base64.urlsafe_b64encode(str(start + max_results).encode()).decode()
        return result

    return handler


def _page_listings() -> None:
    """Page DescribeVpcs, DescribeSubnets and DescribeNetworkInterfaces as AWS does (audits read them in bulk)."""
    from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces
    from moto.ec2.responses.subnets import Subnets
    from moto.ec2.responses.vpcs import VPCs

    for handler_class, name, key in (
        (VPCs, "describe_vpcs", "Vpcs"),
        (Subnets, "describe_subnets", "Subnets"),
        (ElasticNetworkInterfaces, "describe_network_interfaces", "NetworkInterfaces"),
    ):
        original = getattr(handler_class, name, None)
        if not callable(original):
            missing = f"moto's {handler_class.__name__} handler has no {name}"
            raise RuntimeError(f"{missing}: update multiflow_aws.moto_fidelity")
        setattr(handler_class, name, _paged(original, key))


def forget_tokens() -> None:
    """Forget remembered ClientTokens and opted-in regions (with the sandbox's reset)."""
    _tokens.clear()
    _opted_in.clear()


def opt_in(account_id: str, region: str) -> None:
    """Enable an opt-in region for an account (what ``account:EnableRegion`` does): DescribeRegions then calls
    it ``opted-in`` for that account."""
    _opted_in.setdefault(account_id, set()).add(region)


def _partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _describe_regions_as_aws() -> None:
    """DescribeRegions of the caller's partition, with AWS's opt-in statuses per account, honouring AllRegions."""
    from moto.ec2.models.availability_zones_and_regions import Region
    from moto.ec2.responses.availability_zones_and_regions import AvailabilityZonesAndRegions

    original = getattr(AvailabilityZonesAndRegions, "describe_regions", None)
    if not callable(original):
        raise RuntimeError(
            "moto's AvailabilityZonesAndRegions has no describe_regions: update multiflow_aws.moto_fidelity"
        )

    def describe_regions(self: Any) -> Any:
        result: Any = original(self)
        partition = _partition_of(self.region)
        every = self._get_param("AllRegions") in (True, "true", "True")
        enabled = _opted_in.get(self.current_account, set())
        regions = []
        for region in result.result["Regions"]:
            if _partition_of(region.name) != partition:
                continue
            if partition != "aws" or region.name in OPT_IN_NOT_REQUIRED:
                status = "opt-in-not-required"
            else:
                status = "opted-in" if region.name in enabled else "not-opted-in"
            if status == "not-opted-in" and not every:
                continue
            regions.append(Region(region.name, region.endpoint, status))
        result.result["Regions"] = regions
        return result

    AvailabilityZonesAndRegions.describe_regions = describe_regions  # type: ignore[method-assign]


def _refuse_unknown_roles() -> None:
    """AssumeRole refused, as AWS refuses it, into a role that does not exist or does not trust the caller."""
    from moto.iam.models import iam_backends
    from moto.sts.responses import TokenResponse

    original = getattr(TokenResponse, "assume_role", None)
    if not callable(original):
        raise RuntimeError("moto's STS handler has no assume_role: update multiflow_aws.moto_fidelity")

    def assume_role(self: Any) -> Any:
        role_arn = str(self._get_param("RoleArn") or "")
        parts = role_arn.split(":", 5)
        caller_account = self.current_account
        trusted = False
        if len(parts) == 6 and parts[5].startswith("role/"):
            name = parts[5].rsplit("/", 1)[-1]
            backend = iam_backends[parts[4]][parts[1] if parts[1] in ("aws", "aws-cn", "aws-us-gov") else "aws"]
            role = next((r for r in backend.get_roles() if r.name == name), None)
            if role is not None:
                policy = str(getattr(role, "assume_role_policy_document", "") or "")
                trusted = caller_account in policy or '"*"' in policy
        if not trusted:
            _, caller_arn, _ = self.backend.get_caller_identity(self.get_access_key(), self.region)
            return _sts_error(
                "AccessDenied",
                f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                403,
            )
        return original(self)

    TokenResponse.assume_role = assume_role  # type: ignore[method-assign]


def _sts_error(code: str, message: str, status: int) -> tuple[str, dict[str, Any]]:
    """An STS (query protocol) error answer as AWS writes it, with a request id."""
    import uuid
    from xml.sax.saxutils import escape

    request_id = str(uuid.uuid4())
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return body, {"status": status, "Content-Type": "text/xml", "x-amzn-RequestId": request_id}

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
* DescribeFlowLogs, DescribeVpcs, DescribeSubnets and DescribeNetworkInterfaces ignore ``MaxResults``/
  ``NextToken``; AWS pages;
* every EC2 resource's own tags are found by scanning every tag of the region (``TaggedEC2Resource.get_tags``
  asks ``describe_tags`` with a ``resource-id`` filter), so describing N tagged flow logs costs N x all tags: a
  sandbox cost AWS does not have, which would swamp what the benchmarks measure. The tags are read from the
  resource's own entry instead (the same list, in the same order);
* DescribeFlowLogs and DeleteFlowLogs take any number of ``FlowLogId.N``; AWS takes at most
  :data:`FLOW_LOG_IDS_PER_CALL` (the EC2 API reference: "Constraint: Maximum of 1000 flow log IDs") and refuses
  the call otherwise (``InvalidParameterValue``, HTTP 400).

:func:`apply` is idempotent and refuses to run against a moto whose handlers no longer look as expected, so a
moto upgrade cannot silently turn the corrections off.
"""

from __future__ import annotations

import base64
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["FLOW_LOG_IDS_PER_CALL", "apply"]

#: The most ``FlowLogId.N`` one DescribeFlowLogs or DeleteFlowLogs call may carry.
FLOW_LOG_IDS_PER_CALL = 1000

_lock = threading.Lock()
_create_lock = threading.Lock()
_applied = False
_tokens: dict[tuple[str, str, str], dict[str, Any]] = {}


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
            token = self._get_param("ClientToken")
            key = (self.current_account, self.region, token) if token else None
            if key and key in _tokens:
                from moto.core.responses import ActionResult

                return ActionResult(_tokens[key])
            destination = self._get_param("LogDestination")
            group = self._get_param("LogGroupName")
            resource_ids = self._get_param("ResourceIds", [])
            # One duplicate refuses the whole call, before anything is created (moto creates the resources
            # before the duplicate, untagged, then refuses).
            existing = self.ec2_backend.describe_flow_logs()
            if any(
                fl.resource_id in resource_ids and (fl.log_group_name, fl.log_destination) == (group, destination)
                for fl in existing
            ):
                raise FlowLogAlreadyExists()
            if destination and self._get_param("LogDestinationType") == "s3" and "/" in destination.split(":::")[-1]:
                if self.automated_parameter_parsing:
                    self.params["LogDestination"] = _bucket_only(destination)
                else:
                    self.querystring["LogDestination"] = [_bucket_only(destination)]
            before = set(self.ec2_backend.flow_logs)
            with _bucket_twins_hidden(self.ec2_backend, resource_ids, destination):
                result: Any = original_create(self)
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
        paged_describe = _paged(original_describe, "FlowLogs")
        FlowLogsResponse.describe_flow_logs = _id_limited(paged_describe)  # type: ignore[method-assign]
        FlowLogsResponse.delete_flow_logs = _id_limited(original_delete)  # type: ignore[method-assign]
        _page_listings()
        _own_tags()
        _applied = True


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


@contextlib.contextmanager
def _bucket_twins_hidden(backend: Any, resource_ids: list[str], destination: str | None) -> Iterator[None]:
    """While moto creates a flow log to ``bucket/prefix/`` (handed to it as ``bucket``), hide the flow logs of the
    same resources to the bare ``bucket``, which moto would take for duplicates: AWS compares the whole destination,
    so ``bucket`` then ``bucket/prefix/`` are two flow logs in either order."""
    bare = _bucket_only(destination) if destination else None
    if not destination or bare == destination:
        yield
        return
    hidden = [fl for fl in backend.flow_logs.values() if fl.resource_id in resource_ids and fl.log_destination == bare]
    with _create_lock:
        for flow_log in hidden:
            flow_log.log_destination = None
        try:
            yield
        finally:
            for flow_log in hidden:
                flow_log.log_destination = bare


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
    """Forget remembered ClientTokens (with the sandbox's reset)."""
    _tokens.clear()

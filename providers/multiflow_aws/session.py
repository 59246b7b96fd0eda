"""One region of one AWS account, through boto3's EC2 client.

Throttling and transient failures are retried by botocore's own retry modes (``standard`` by default). The one
case botocore cannot know is retried here: a just-created IAM role that EC2 cannot assume yet
(``InvalidParameter`` "Unable to assume given IAM role"), for up to ``iam_propagation_timeout`` seconds with
backoff from 0.5 s doubling to 10 s, as Terraform does.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import boto3
import botocore.exceptions
from botocore.config import Config
from botocore.parsers import ResponseParserError

from multiflow.backoff import Backoff, retry
from multiflow.errors import AlreadyExists, AuthError, NotFound, ProviderError, ResourceFailure, UnsupportedFeature
from multiflow.model import CloudResource, FlowLog, FlowLogStatus
from multiflow.provider import CreateOutcome, DeleteOutcome, DescribeQuery
from multiflow.spec import FlowLogSpec, ResourceKind
from multiflow_aws.capabilities import CAPABILITIES
from multiflow_aws.errors import ERROR_TABLE, UNEXPECTED_RESPONSE, from_client_error
from multiflow_aws.mapping import client_token, create_params, flow_log_from_record

__all__ = ["AwsSession"]

log = logging.getLogger("multiflow.aws")

T = TypeVar("T")

#: EC2 takes up to 1000 flow log ids per DescribeFlowLogs/DeleteFlowLogs call.
IDS_PER_CALL = 1000
#: Values per filter in one EC2 Describe call.
FILTER_VALUES_PER_CALL = 200
IAM_PROPAGATION_MESSAGE = "Unable to assume given IAM role"
#: Terraform's: 0.5 s doubling to 10 s; equal jitter so concurrent creates for one new role spread apart.
IAM_PROPAGATION_BACKOFF = Backoff(base=0.5, factor=2.0, cap=10.0, jitter="equal")


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class AwsSession:
    """EC2 flow logs in one region. Make one with ``multiflow.connect("aws", region=..., **options)``.

    :param region: the AWS region.
    :param endpoint_url: an EC2 endpoint (the sandbox's); otherwise boto3's chain (``AWS_ENDPOINT_URL_EC2``...).
    :param profile_name: a profile from the shared config files.
    :param aws_access_key_id: explicit keys (prefer the standard chain); never logged or shown.
    :param aws_secret_access_key: see above.
    :param aws_session_token: see above.
    :param boto3_session: a ready ``boto3.Session`` to use instead of building one.
    :param retry_mode: botocore's retry mode: ``standard`` (default), ``adaptive`` or ``legacy``.
    :param max_attempts: attempts per call, retries included (botocore counts the first one).
    :param iam_propagation_timeout: seconds to keep retrying "Unable to assume given IAM role".
    :param connect_timeout: seconds to wait for a connection.
    :param read_timeout: seconds to wait for a response.
    """

    provider = "aws"

    def __init__(
        self,
        region: str,
        *,
        endpoint_url: str | None = None,
        profile_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        boto3_session: boto3.Session | None = None,
        retry_mode: str = "standard",
        max_attempts: int = 5,
        iam_propagation_timeout: float = 120.0,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.iam_propagation_timeout = iam_propagation_timeout
        self._sleep = sleep
        try:
            session = boto3_session or boto3.Session(
                profile_name=profile_name,
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
            )
        except botocore.exceptions.BotoCoreError as exc:
            raise _configuration_error(exc, profile_name) from None
        config = Config(
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra="multiflow",
            max_pool_connections=20,
        )
        try:
            self.ec2 = session.client("ec2", region_name=region, endpoint_url=endpoint_url, config=config)
        except botocore.exceptions.BotoCoreError as exc:
            raise _configuration_error(exc, profile_name) from None

    def __repr__(self) -> str:
        endpoint = f" {self.endpoint_url}" if self.endpoint_url else ""
        return f"<AwsSession {self.region}{endpoint}>"

    # -- calling EC2 -----------------------------------------------------------------------------------------

    @contextmanager
    def _mapped(self, operation: str) -> Iterator[None]:
        """Turn every botocore failure into a neutral error, at this one place."""
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            raise from_client_error(exc, operation) from exc
        except botocore.exceptions.NoCredentialsError as exc:
            raise ERROR_TABLE.error("NoCredentials", str(exc), operation=operation) from exc
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
            # Refused, dropped, timed out, proxy or TLS failures: no answer came (botocore retried already).
            raise ERROR_TABLE.error("ConnectionError", str(exc), operation=operation) from exc
        except ResponseParserError as exc:
            # An answer that is not the service's XML (cut short, or not XML at all); botocore does not retry it.
            first_line = str(exc).split("\n", 1)[0]
            raise ERROR_TABLE.error(
                UNEXPECTED_RESPONSE, f"unreadable answer: {first_line}", operation=operation
            ) from exc

    def _flow_logs(self, records: Sequence[Mapping[str, Any]], include_raw: bool = True) -> list[FlowLog]:
        """DescribeFlowLogs records as FlowLogs; one EC2 would never send (no id...) is a ServiceError, not a crash."""
        try:
            return [flow_log_from_record(r, self.region, include_raw) for r in records]
        except (KeyError, TypeError, ValueError) as exc:
            raise ERROR_TABLE.error(
                UNEXPECTED_RESPONSE,
                f"a DescribeFlowLogs record multiflow cannot read: {exc!r}"[:500],
                operation="DescribeFlowLogs",
            ) from exc

    def _call(self, operation: str, method: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
        """Call boto3 with errors mapped."""
        with self._mapped(operation):
            return method(**params)

    def _create_call(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateFlowLogs, retrying only the IAM-propagation case, under its own deadline."""

        def propagating(error: Exception) -> bool:
            return (
                isinstance(error, ProviderError)
                and error.code == "InvalidParameter"
                and IAM_PROPAGATION_MESSAGE in error.message
            )

        return retry(
            lambda: self._call("CreateFlowLogs", self.ec2.create_flow_logs, **params),
            retryable=propagating,
            backoff=IAM_PROPAGATION_BACKOFF,
            deadline=time.monotonic() + self.iam_propagation_timeout,
            on_retry=lambda _, __, pause: log.info(
                "IAM role not assumable yet; retrying CreateFlowLogs in %.1fs", pause
            ),
            sleep=self._sleep,
        )

    # -- create ----------------------------------------------------------------------------------------------

    def create(self, specs: Sequence[FlowLogSpec], *, extra_tags: Mapping[str, str], dry_run: bool) -> CreateOutcome:
        """Create flow logs, grouping resources with identical settings into calls of ≤1000 ids (25 for TGW)."""
        groups: dict[str, tuple[FlowLogSpec, list[str]]] = {}
        for spec in specs:
            _, ids = groups.setdefault(spec.settings_digest(), (spec, []))
            ids.extend(i for i in spec.resources.ids if i not in ids)
        outcome = CreateOutcome()
        for spec, ids in groups.values():
            size = CAPABILITIES.ids_per_call[spec.resources.kind]
            for batch in _chunks(ids, size):
                params = create_params(spec, batch, self.region, extra_tags)
                if dry_run:
                    self._call("CreateFlowLogs", self.ec2.create_flow_logs, DryRun=True, **params)
                    continue  # unreachable: AWS answers a dry run with an error either way
                self._create_batch(params, outcome)
        return outcome

    def _create_batch(
        self, params: dict[str, Any], outcome: CreateOutcome, retried: bool = False, salt: str = ""
    ) -> None:
        batch: list[str] = params["ResourceIds"]
        try:
            response = self._create_call({**params, "ClientToken": client_token(params, salt)})
        except AlreadyExists as exc:
            if retried:
                outcome.failed += [ResourceFailure(i, exc) for i in batch]
                return
            # One duplicate refuses the whole call: set the duplicates aside and create the rest.
            duplicates = self._duplicates(params)
            outcome.failed += [ResourceFailure(i, exc.about(i)) for i in batch if i in duplicates]
            rest = [i for i in batch if i not in duplicates]
            if rest and len(rest) < len(batch):
                self._create_batch({**params, "ResourceIds": rest}, outcome, retried=True)
            elif rest:
                outcome.failed += [ResourceFailure(i, exc.about(i)) for i in rest]
            return
        except ProviderError as exc:
            outcome.failed += [ResourceFailure(i, exc.about(i)) for i in batch]
            return
        outcome.failed += _unsuccessful(response, "CreateFlowLogs")
        created_ids = response.get("FlowLogIds", [])
        found = self.get(created_ids) if created_ids else {}
        outcome.created += [found[i] for i in created_ids if i in found]
        if len(found) < len(created_ids) and not salt:
            # AWS answered a remembered ClientToken with flow logs deleted since: ask again, with a new token,
            # for the resources that are still without one.
            covered = {f.resource.id for f in found.values()} | {f.resource_id for f in outcome.failed}
            missing = [i for i in batch if i not in covered]
            if missing:
                log.info("ClientToken answered with deleted flow logs; creating %d again", len(missing))
                self._create_batch({**params, "ResourceIds": missing}, outcome, retried, salt=uuid.uuid4().hex)

    def _duplicates(self, params: Mapping[str, Any]) -> set[str]:
        """Resources in ``params`` that already have a flow log to the same destination."""
        existing = self._records([{"Name": "resource-id", "Values": params["ResourceIds"]}])
        target = (params.get("LogGroupName"), params.get("LogDestination"))
        return {
            r.get("ResourceId", "")
            for r in existing
            if (r.get("LogGroupName"), r.get("LogDestination")) == target
            or (target[1] is not None and r.get("LogDestination") == target[1])
        }

    # -- read ------------------------------------------------------------------------------------------------

    def _records(self, filters: list[dict[str, Any]], flow_log_ids: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Every DescribeFlowLogs record for ``filters``, splitting long id/value lists and following pages."""
        value_lists = [(i, f) for i, f in enumerate(filters) if len(f["Values"]) > FILTER_VALUES_PER_CALL]
        if value_lists:
            index, long_filter = value_lists[0]
            records: list[dict[str, Any]] = []
            for chunk in _chunks(long_filter["Values"], FILTER_VALUES_PER_CALL):
                narrowed = [*filters[:index], {"Name": long_filter["Name"], "Values": chunk}, *filters[index + 1 :]]
                records += self._records(narrowed, flow_log_ids)
            return records
        if len(flow_log_ids) > IDS_PER_CALL:
            return [r for chunk in _chunks(flow_log_ids, IDS_PER_CALL) for r in self._records(filters, chunk)]
        params: dict[str, Any] = {"MaxResults": 1000}
        if filters:
            params["Filters"] = filters
        if flow_log_ids:
            params["FlowLogIds"] = list(flow_log_ids)
        records = []
        paginator = self.ec2.get_paginator("describe_flow_logs")
        with self._mapped("DescribeFlowLogs"):
            for page in paginator.paginate(**params):
                records += page.get("FlowLogs", [])
        return records

    def describe(self, query: DescribeQuery) -> list[FlowLog]:
        """Flow logs matching ``query``, all pages."""
        filters: list[dict[str, Any]] = []
        if query.resource_ids:
            filters.append({"Name": "resource-id", "Values": list(query.resource_ids)})
        for key, value in query.tags.items():
            filters.append(
                {"Name": f"tag:{key}", "Values": [value]} if value is not None else {"Name": "tag-key", "Values": [key]}
            )
        records = self._records(filters, flow_log_ids=query.ids)
        flow_logs = self._flow_logs(records, query.include_raw)
        if query.resource_kind is not None:
            flow_logs = [f for f in flow_logs if f.resource.kind == query.resource_kind]
        return flow_logs

    def get(self, ids: Sequence[str], *, transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        """Flow logs by id, 1000 ids a call; ids AWS does not know are absent."""
        records = self._records([], flow_log_ids=list(dict.fromkeys(ids)))
        return {f.id: f for f in self._flow_logs(records)}

    def _listing(self, kind: ResourceKind, filters: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
        """Every DescribeVpcs/Subnets/NetworkInterfaces item for ``filters``, 1000 a page; ``field`` names what
        asked for a kind AWS cannot list, in the UnsupportedFeature."""
        if kind not in _LISTERS:
            raise UnsupportedFeature(
                field,
                kind.value,
                "vpc, subnet, network_interface",
                provider="aws",
                reason=f"{_LISTING_USES.get(field, 'multiflow')} list VPCs, subnets and ENIs only",
            )
        operation, key, id_key = _LISTERS[kind]
        items: list[dict[str, Any]] = []
        paginator = self.ec2.get_paginator(operation)
        with self._mapped(operation):
            for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": 1000}):
                items += page.get(key, [])
        if any(id_key not in item for item in items):
            raise ERROR_TABLE.error(
                UNEXPECTED_RESPONSE, f"{operation} answered an item without its {id_key}", operation=operation
            )
        return items

    def list_resources(self, kind: ResourceKind, tags: Mapping[str, str | None]) -> list[str]:
        """Ids of every VPC, subnet or network interface in the region whose tags match, all pages."""
        filters = [
            {"Name": f"tag:{k}", "Values": [v]} if v is not None else {"Name": "tag-key", "Values": [k]}
            for k, v in tags.items()
        ]
        id_key = _LISTERS[kind][2] if kind in _LISTERS else ""
        return [item[id_key] for item in self._listing(kind, filters, "resources.where")]

    def inventory(self, kinds: Sequence[ResourceKind]) -> list[CloudResource]:
        """Every VPC, subnet and ENI of ``kinds`` with its VPC, subnet and tags: one paginated Describe per kind
        (1000 a page), never a call per resource."""
        resources: list[CloudResource] = []
        for kind in dict.fromkeys(kinds):
            id_key = _LISTERS[kind][2] if kind in _LISTERS else ""
            for item in self._listing(kind, [], "kinds"):
                tags = item.get("Tags") or item.get("TagSet") or []  # ENIs carry theirs in TagSet
                resources.append(
                    CloudResource(
                        kind=kind,
                        id=item[id_key],
                        vpc_id=item.get("VpcId") if kind is not ResourceKind.VPC else None,
                        subnet_id=item.get("SubnetId") if kind is ResourceKind.NETWORK_INTERFACE else None,
                        tags={t["Key"]: t.get("Value", "") for t in tags if "Key" in t},
                    )
                )
        return resources

    # -- delete ----------------------------------------------------------------------------------------------

    def delete(self, ids: Sequence[str]) -> DeleteOutcome:
        """DeleteFlowLogs, 1000 ids a call, after one DescribeFlowLogs per 1000 ids to find the unknown ones.

        Ids EC2 does not know are reported as NotFound without being sent: EC2 implementations differ on whether
        one unknown id refuses the whole call, and the describe makes the outcome per id certain either way.
        """
        outcome = DeleteOutcome()
        wanted = list(dict.fromkeys(ids))
        known = set(self.get(wanted))
        for flow_log_id in wanted:
            if flow_log_id not in known:
                outcome.failed.append(
                    ResourceFailure(
                        flow_log_id,
                        ERROR_TABLE.error(
                            "InvalidFlowLogId.NotFound",
                            f"The flow log ID '{flow_log_id}' does not exist",
                            operation="DeleteFlowLogs",
                            resource_id=flow_log_id,
                        ),
                    )
                )
        for batch in _chunks([i for i in wanted if i in known], IDS_PER_CALL):
            self._delete_batch(batch, outcome)
        return outcome

    def _delete_batch(self, batch: list[str], outcome: DeleteOutcome, retried: bool = False) -> None:
        """One DeleteFlowLogs call. Ids it calls unknown, though they were there a moment ago, are looked up again:
        gone means deleted (a retry whose first answer was lost finds them gone, and EC2 may then refuse the whole
        call); those still there are sent once more."""
        try:
            response = self._call("DeleteFlowLogs", self.ec2.delete_flow_logs, FlowLogIds=batch)
        except NotFound as exc:
            unknown = {i: exc.about(i) for i in batch}
        except ProviderError as exc:
            outcome.failed += [ResourceFailure(i, exc.about(i)) for i in batch]
            return
        else:
            unsuccessful = _unsuccessful(response, "DeleteFlowLogs")
            unknown = {f.resource_id: f.error for f in unsuccessful if isinstance(f.error, NotFound)}
            outcome.failed += [f for f in unsuccessful if f.resource_id not in unknown]
            failed_ids = {f.resource_id for f in unsuccessful}
            outcome.deleted += [i for i in batch if i not in failed_ids]
        if not unknown:
            return
        still = set(self.get(list(unknown)))
        outcome.deleted += [i for i in unknown if i not in still]
        again = [i for i in unknown if i in still]
        if again and not retried:
            self._delete_batch(again, outcome, retried=True)
        else:
            outcome.failed += [ResourceFailure(i, unknown[i]) for i in again]

    # -- what AWS does not offer -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP connections of the EC2 client."""
        self.ec2.close()


#: What asks for a listing, by the field named when a kind cannot be listed.
_LISTING_USES = {"resources.where": "selectors", "kinds": "audits"}
_LISTERS = {
    ResourceKind.VPC: ("describe_vpcs", "Vpcs", "VpcId"),
    ResourceKind.SUBNET: ("describe_subnets", "Subnets", "SubnetId"),
    ResourceKind.NETWORK_INTERFACE: ("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId"),
}


def _unsuccessful(response: Mapping[str, Any], operation: str) -> list[ResourceFailure]:
    """The ``Unsuccessful`` items of a 200 answer (EC2's per-resource failures), as neutral failures."""
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    failures = []
    for item in response.get("Unsuccessful", []):
        error = item.get("Error", {})
        resource_id = item.get("ResourceId", "")
        code, message = str(error.get("Code", "Unknown")), str(error.get("Message", ""))
        failures.append(
            ResourceFailure(
                resource_id,
                ERROR_TABLE.error(code, message, operation=operation, request_id=request_id, resource_id=resource_id),
            )
        )
    return failures


def _configuration_error(exc: Exception, profile_name: str | None) -> AuthError:
    """botocore's configuration errors (``ProfileNotFound``, a broken ``~/.aws/config``...) as an AuthError with
    what to check; the message names the profile, never a key."""
    profile = profile_name or os.environ.get("AWS_PROFILE")
    source = "profile_name" if profile_name else "AWS_PROFILE"
    where = f"profile {profile!r} (from {source})" if profile else "the default profile"
    hint = (
        f"check {where} in ~/.aws/config and ~/.aws/credentials (or AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), "
        "or unset AWS_PROFILE and set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    )
    return AuthError("aws", type(exc).__name__, f"{exc}; {hint}")

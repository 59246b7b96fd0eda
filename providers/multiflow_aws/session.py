"""One region of one AWS account, through boto3's EC2 client.

Throttling and transient failures are retried by botocore's own retry modes, configured as botocore configures
them (``AWS_RETRY_MODE``, ``AWS_MAX_ATTEMPTS``, ``retry_mode``/``max_attempts`` in ``~/.aws/config``) unless the
caller passes ``retry_mode`` or ``max_attempts``. The one
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
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.exceptions
from botocore.config import Config
from botocore.parsers import ResponseParserError

from multiflow.accounts import RegionListing
from multiflow.backoff import Backoff, retry
from multiflow.errors import (
    AlreadyExists,
    AuthError,
    DryRunSucceeded,
    NotFound,
    ProviderError,
    ResourceFailure,
    SpecError,
    UnsupportedFeature,
)
from multiflow.model import CloudResource, DeliveryStatus, FlowLog, FlowLogStatus
from multiflow.ownership import OWNERSHIP_PREFIX, user_tags
from multiflow.provider import CreateOutcome, DeleteOutcome, DescribeQuery, ModifyChanges
from multiflow.spec import FlowLogSpec, ResourceKind, Traffic
from multiflow_aws.capabilities import CAPABILITIES, DESTINATION_TYPES, TRAFFIC_TYPES
from multiflow_aws.errors import ERROR_TABLE, UNEXPECTED_RESPONSE, from_client_error
from multiflow_aws.mapping import client_token, create_params, flow_log_from_record, log_group_name

__all__ = ["AwsSession"]

log = logging.getLogger("multiflow.aws")

T = TypeVar("T")

#: EC2 takes up to 1000 flow log ids per DescribeFlowLogs/DeleteFlowLogs call.
IDS_PER_CALL = 1000
#: Values per filter in one EC2 Describe call.
FILTER_VALUES_PER_CALL = 200
#: DescribeRegions' ``OptInStatus`` values of a region the account can use.
ENABLED_OPT_IN_STATUSES = frozenset({"opt-in-not-required", "opted-in"})
#: Why ``regions: all`` skips a ``not-opted-in`` region.
OPT_IN_SKIPPED = "opt-in region not enabled for this account"
IAM_PROPAGATION_MESSAGE = "Unable to assume given IAM role"
#: Terraform's: 0.5 s doubling to 10 s; equal jitter so concurrent creates for one new role spread apart.
IAM_PROPAGATION_BACKOFF = Backoff(base=0.5, factor=2.0, cap=10.0, jitter="equal")


@dataclass(frozen=True)
class _Made:
    """One answered CreateFlowLogs: what was sent, the flow log ids EC2 named (to be read back) and the resources
    it listed as ``Unsuccessful``."""

    params: dict[str, Any]
    flow_log_ids: list[str]
    refused: frozenset[str]
    retried: bool
    salt: str


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
    :param role_arn: a role to assume (``sts:AssumeRole``) from the identity above, to work in its account; the
        role's credentials refresh before they expire and one AssumeRole serves every region of the account
        (:mod:`multiflow_aws.credentials`). A refusal is an AuthError here, at connect. STS is called at
        ``endpoint_url`` when it is given, else at the region's own STS endpoint.
    :param external_id: the ``ExternalId`` the role's trust policy asks for.
    :param role_session_name: the ``RoleSessionName`` (``multiflow`` by default), as CloudTrail shows it.
    :param role_duration: the role's credentials' lifetime in seconds (``DurationSeconds``, 900 to 43200; STS's
        one hour by default); botocore asks STS again 15 minutes before they expire.
    :param retry_mode: botocore's retry mode (``standard``, ``adaptive`` or ``legacy``); ``None`` leaves it to
        botocore's own chain (``AWS_RETRY_MODE``, the profile's ``retry_mode``, botocore's default).
    :param max_attempts: attempts per call, retries included (botocore counts the first one); ``None`` leaves it
        to ``AWS_MAX_ATTEMPTS``, the profile's ``max_attempts`` or the mode's default.
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
        role_arn: str | None = None,
        external_id: str | None = None,
        role_session_name: str | None = None,
        role_duration: int | None = None,
        retry_mode: str | None = None,
        max_attempts: int | None = None,
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
        self.role_arn = role_arn
        if role_arn is not None:
            from multiflow_aws.credentials import assumed_session, identity_of

            caller = identity_of(
                {
                    "profile_name": profile_name,
                    "aws_access_key_id": aws_access_key_id,
                    "aws_secret_access_key": aws_secret_access_key,
                    "aws_session_token": aws_session_token,
                    "boto3_session": boto3_session,
                }
            )
            try:
                session = assumed_session(
                    session,
                    caller,
                    role_arn,
                    external_id=external_id,
                    session_name=role_session_name,
                    region=region,
                    endpoint_url=endpoint_url,
                    duration=role_duration,
                )
            except botocore.exceptions.BotoCoreError as exc:
                raise _configuration_error(exc, profile_name) from None
        retries: dict[str, Any] = {}
        if retry_mode is not None:
            retries["mode"] = retry_mode
        if max_attempts is not None:
            retries["total_max_attempts"] = max_attempts
        config = Config(
            retries=retries or None,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra="multiflow",
            max_pool_connections=20,
        )
        try:
            self.ec2 = session.client("ec2", region_name=region, endpoint_url=endpoint_url, config=config)
        except botocore.exceptions.BotoCoreError as exc:
            raise _configuration_error(exc, profile_name) from None
        self.ec2.meta.events.register("after-call.ec2", self._log_call)
        self.ec2.meta.events.register("after-call-error.ec2", self._log_unanswered)

    def __repr__(self) -> str:
        endpoint = f" {self.endpoint_url}" if self.endpoint_url else ""
        role = f" as {self.role_arn}" if self.role_arn else ""
        return f"<AwsSession {self.region}{endpoint}{role}>"

    # -- calling EC2 -----------------------------------------------------------------------------------------

    def _log_call(self, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        """botocore's ``after-call`` (answered calls, errors included, after its retries): one DEBUG line with the
        operation, region, HTTP status, request id, attempts and error code. Never a parameter or a header, so
        never a credential."""
        if not log.isEnabledFor(logging.DEBUG):
            return
        meta = parsed.get("ResponseMetadata") or {}
        attempts = int(meta.get("RetryAttempts") or 0) + 1
        code = (parsed.get("Error") or {}).get("Code")
        log.debug(
            "%s %s: HTTP %s%s, request id %s, %d attempt%s",
            model.name,
            self.region,
            meta.get("HTTPStatusCode", "?"),
            f" {code}" if code else "",
            meta.get("RequestId") or "none",
            attempts,
            "" if attempts == 1 else "s",
        )

    def _log_unanswered(self, exception: Exception, event_name: str = "", **_: Any) -> None:
        """botocore's ``after-call-error``: a call that got no answer (refused, dropped, timed out), after its
        retries, by the error's type only."""
        operation = event_name.rsplit(".", 1)[-1] or "EC2 call"
        log.debug("%s %s: no answer (%s)", operation, self.region, type(exception).__name__)

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
        """Create flow logs, grouping resources with identical settings into calls of at most
        ``CAPABILITIES.ids_per_call`` ids (300; 25 for transit gateways).

        EC2's answer names the new flow logs but not the resource each is on (and documents no order), so what the
        calls made is read back once they are all sent: one DescribeFlowLogs per 1000 new flow logs, not one per
        CreateFlowLogs call."""
        groups: dict[str, tuple[FlowLogSpec, dict[str, None]]] = {}
        for spec in specs:
            _, ids = groups.setdefault(spec.settings_digest(), (spec, {}))
            ids.update(dict.fromkeys(spec.resources.ids))
        outcome = CreateOutcome()
        passed: DryRunSucceeded | None = None
        made: list[_Made] = []
        for spec, ids in groups.values():
            size = CAPABILITIES.ids_per_call[spec.resources.kind]
            for batch in _chunks(list(ids), size):
                params = create_params(spec, batch, self.region, extra_tags)
                if dry_run:
                    passed = self._dry_run(params)
                    continue
                self._create_batch(params, outcome, made)
        if passed is not None:
            raise passed
        self._read_back(made, outcome)
        return outcome

    def _read_back(self, made: list[_Made], outcome: CreateOutcome) -> None:
        """The flow logs the calls in ``made`` created, read in one DescribeFlowLogs per 1000 ids, into
        ``outcome``. A call answered with flow logs that are gone (a remembered ClientToken whose flow logs were
        deleted since) is sent again with a new token for its resources still without one, and read back in turn
        (once: a salted call is not sent again)."""
        while made:
            found = self.get([i for m in made for i in m.flow_log_ids])
            again: list[_Made] = []
            for call in made:
                mine = [found[i] for i in call.flow_log_ids if i in found]
                outcome.created += mine
                if len(mine) < len(call.flow_log_ids) and not call.salt:
                    covered = {f.resource.id for f in mine} | call.refused
                    missing = [i for i in call.params["ResourceIds"] if i not in covered]
                    if missing:
                        log.info("ClientToken answered with deleted flow logs; creating %d again", len(missing))
                        params = {**call.params, "ResourceIds": missing}
                        self._create_batch(params, outcome, again, call.retried, salt=uuid.uuid4().hex)
            made = again

    def _dry_run(self, params: dict[str, Any]) -> DryRunSucceeded:
        """One CreateFlowLogs with ``DryRun``: its DryRunSucceeded, or the refusal raised (every call of a create
        is tried, so a later batch's refusal is not hidden behind the first one's success)."""
        try:
            self._call("CreateFlowLogs", self.ec2.create_flow_logs, DryRun=True, **params)
        except DryRunSucceeded as passed:
            return passed
        raise ERROR_TABLE.error(  # pragma: no cover - EC2 answers a dry run with an error either way
            UNEXPECTED_RESPONSE, "a dry run answered as a real call", operation="CreateFlowLogs"
        )

    def _create_batch(
        self, params: dict[str, Any], outcome: CreateOutcome, made: list[_Made], retried: bool = False, salt: str = ""
    ) -> None:
        """One CreateFlowLogs call: its refusals into ``outcome``, what it made into ``made`` (read back later)."""
        batch: list[str] = params["ResourceIds"]
        try:
            response = self._create_call({**params, "ClientToken": client_token(params, salt)})
        except AlreadyExists as exc:
            # One duplicate refuses the whole call: set the duplicates aside and create the rest. A duplicate that
            # carries every tag this call sends (same fleet, entry, digest, name and tags) is what this call would
            # have made, by a run beside this one: it is adopted as created, not reported as a failure.
            records = self._duplicates(params)
            duplicates = {r.get("ResourceId", "") for r in records}
            sent = _sent_tags(params)
            twins = [r for r in records if sent and sent.items() <= _record_tags(r).items()]
            adopted = {r.get("ResourceId", "") for r in twins}
            outcome.created += self._flow_logs(twins)
            outcome.failed += [ResourceFailure(i, exc.about(i)) for i in batch if i in duplicates and i not in adopted]
            rest = [i for i in batch if i not in duplicates]
            if rest and len(rest) < len(batch) and not retried:
                self._create_batch({**params, "ResourceIds": rest}, outcome, made, retried=True)
            elif rest:
                outcome.failed += [ResourceFailure(i, exc.about(i)) for i in rest]
            return
        except ProviderError as exc:
            if isinstance(exc, AuthError) and not outcome.created and not outcome.failed and not made:
                # A refusal of the whole call (credentials, permission) before anything succeeded: the call's own
                # error, not a PartialFailure of every resource with nothing done.
                raise
            outcome.failed += [ResourceFailure(i, exc.about(i)) for i in batch]
            return
        refused = _unsuccessful(response, "CreateFlowLogs")
        outcome.failed += refused
        created_ids = list(response.get("FlowLogIds", []))
        if created_ids:
            made.append(_Made(params, created_ids, frozenset(f.resource_id for f in refused), retried, salt))

    def _duplicates(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The flow logs of resources in ``params`` that already log to the same destination."""
        existing = self._records([{"Name": "resource-id", "Values": params["ResourceIds"]}])
        target = (params.get("LogGroupName"), params.get("LogDestination"))
        return [
            r
            for r in existing
            if (r.get("LogGroupName"), r.get("LogDestination")) == target
            or (target[1] is not None and r.get("LogDestination") == target[1])
        ]

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

    def describe(
        self,
        query: DescribeQuery,
        *,
        destination_kind: str | None = None,
        log_group: str | None = None,
        traffic: Traffic | str | None = None,
        delivery_status: DeliveryStatus | str | None = None,
    ) -> list[FlowLog]:
        """Flow logs matching ``query`` and the AWS-only criteria, all pages; every criterion is a
        DescribeFlowLogs filter, answered by EC2 (``resource_kind`` alone is filtered here: EC2 has no filter).

        :param destination_kind: ``s3``, ``cloudwatch_logs`` or ``firehose`` (``log-destination-type``).
        :param log_group: a log group name or ARN (``log-group-name``).
        :param traffic: ``all``, ``accept`` or ``reject`` (``traffic-type``).
        :param delivery_status: ``ok`` or ``failed`` (``deliver-log-status``).
        """
        filters = _server_filters(destination_kind, log_group, traffic, delivery_status)
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

    def existing_resources(self, kind: ResourceKind, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` (VPCs, subnets or ENIs) that exist in the region: DescribeVpcs/Subnets/
        NetworkInterfaces filtered by id (``vpc-id``, ``subnet-id``, ``network-interface-id``), at most
        ``FILTER_VALUES_PER_CALL`` ids a call. A filter, unlike the ``VpcIds`` parameter, leaves out the ids EC2
        does not know instead of refusing the call."""
        wanted = list(dict.fromkeys(ids))
        id_key = _LISTERS[kind][2] if kind in _LISTERS else ""
        name = _ID_FILTERS.get(kind, "")
        found: set[str] = set()
        for chunk in _chunks(wanted, FILTER_VALUES_PER_CALL):
            items = self._listing(kind, [{"Name": name, "Values": list(chunk)}], "resources.ids")
            found.update(str(item[id_key]) for item in items)
        return found & set(wanted)

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

        Ids EC2 does not know are reported as NotFound without being sent (the error says so, and has no request
        id): EC2 implementations differ on whether one unknown id refuses the whole call, and the describe makes
        the outcome per id certain either way.
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
                            f"The flow log ID '{flow_log_id}' does not exist (DescribeFlowLogs does not know it, so "
                            "DeleteFlowLogs was not sent for it, and no request id stands for this answer)",
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

    # -- in place ------------------------------------------------------------------------------------------

    def modify(self, flow_log_id: str, changes: ModifyChanges) -> None:
        """Change a flow log's tags (and its name, the ``Name`` tag) in place with CreateTags/DeleteTags;
        multiflow's own ``multiflow:`` tags are never touched."""
        found = self.get([flow_log_id])
        if flow_log_id not in found:
            raise ERROR_TABLE.error(
                "InvalidFlowLogId.NotFound",
                f"The flow log ID '{flow_log_id}' does not exist",
                operation="DescribeFlowLogs",
                resource_id=flow_log_id,
            )
        current = _record_tags(found[flow_log_id].raw)
        wanted = {k: v for k, v in current.items() if k.startswith(OWNERSHIP_PREFIX)}
        wanted.update(changes.tags if changes.tags is not None else user_tags(current))
        name = changes.name if changes.name is not None else current.get("Name")
        wanted.pop("Name", None)
        if name is not None:
            wanted["Name"] = name
        put = {k: v for k, v in wanted.items() if current.get(k) != v}
        drop = [k for k in current if k not in wanted]
        if put:
            tags = [{"Key": k, "Value": v} for k, v in sorted(put.items())]
            self._call("CreateTags", self.ec2.create_tags, Resources=[flow_log_id], Tags=tags)
        if drop:
            keys = [{"Key": k} for k in sorted(drop)]
            self._call("DeleteTags", self.ec2.delete_tags, Resources=[flow_log_id], Tags=keys)

    def add_tags(self, flow_log_ids: Sequence[str], tags: Mapping[str, str]) -> None:
        """CreateTags on flow logs (multiflow.adopting.TagWriter): add ``tags``, or overwrite those of the same key
        (multiflow's own included), 1000 flow logs a call."""
        listed = [{"Key": key, "Value": value} for key, value in tags.items()]
        for batch in _chunks(list(flow_log_ids), IDS_PER_CALL):
            self._call("CreateTags", self.ec2.create_tags, Resources=batch, Tags=listed)

    # -- the account's regions (multiflow.accounts.RegionLister) -------------------------------------------

    def list_regions(self) -> RegionListing:
        """Every region of the partition from one EC2 DescribeRegions (``AllRegions``): ``opt-in-not-required``
        and ``opted-in`` are enabled, ``not-opted-in`` skipped (an opt-in region this account has not enabled)."""
        answer = self._call("DescribeRegions", self.ec2.describe_regions, AllRegions=True)
        enabled: list[str] = []
        skipped: dict[str, str] = {}
        for region in answer.get("Regions", []):
            name = region.get("RegionName")
            if not name:
                continue
            status = region.get("OptInStatus", "opt-in-not-required")
            if status in ENABLED_OPT_IN_STATUSES:
                enabled.append(name)
            else:
                skipped[name] = OPT_IN_SKIPPED if status == "not-opted-in" else f"opt-in status {status}"
        return RegionListing(enabled=sorted(enabled), skipped=dict(sorted(skipped.items())))

    # -- what AWS does not offer -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP connections of the EC2 client."""
        self.ec2.close()


#: What asks for a listing, by the field named when a kind cannot be listed.
_LISTING_USES = {"resources.where": "selectors", "kinds": "audits", "resources.ids": "existence checks"}
_LISTERS = {
    ResourceKind.VPC: ("describe_vpcs", "Vpcs", "VpcId"),
    ResourceKind.SUBNET: ("describe_subnets", "Subnets", "SubnetId"),
    ResourceKind.NETWORK_INTERFACE: ("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId"),
}
#: The filter that picks resources of a kind by id.
_ID_FILTERS = {
    ResourceKind.VPC: "vpc-id",
    ResourceKind.SUBNET: "subnet-id",
    ResourceKind.NETWORK_INTERFACE: "network-interface-id",
}


def _server_filters(
    destination_kind: str | None,
    log_group: str | None,
    traffic: Traffic | str | None,
    delivery_status: DeliveryStatus | str | None,
) -> list[dict[str, Any]]:
    """The DescribeFlowLogs filters for the AWS-only describe criteria; a value AWS does not take is a SpecError."""
    filters: list[dict[str, Any]] = []
    if destination_kind is not None:
        if destination_kind not in DESTINATION_TYPES:
            raise SpecError("destination_kind", destination_kind, ", ".join(DESTINATION_TYPES), provider="aws")
        filters.append({"Name": "log-destination-type", "Values": [DESTINATION_TYPES[destination_kind]]})
    if log_group is not None:
        filters.append({"Name": "log-group-name", "Values": [log_group_name(log_group)]})
    if traffic is not None:
        try:
            neutral = Traffic(traffic)
        except ValueError:
            raise SpecError("traffic", traffic, "all, accept or reject", provider="aws") from None
        filters.append({"Name": "traffic-type", "Values": [TRAFFIC_TYPES[neutral]]})
    if delivery_status is not None:
        value = delivery_status.value if isinstance(delivery_status, DeliveryStatus) else str(delivery_status)
        status = {DeliveryStatus.OK.value: "SUCCESS", DeliveryStatus.FAILED.value: "FAILED"}.get(value)
        if status is None:
            raise SpecError("delivery_status", delivery_status, "ok or failed", provider="aws")
        filters.append({"Name": "deliver-log-status", "Values": [status]})
    return filters


def _sent_tags(params: Mapping[str, Any]) -> dict[str, str]:
    """The tags a CreateFlowLogs call puts on each flow log."""
    specs = params.get("TagSpecifications") or [{}]
    return {t["Key"]: t.get("Value", "") for t in specs[0].get("Tags", [])}


def _record_tags(record: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in record.get("Tags", []) if "Key" in t}


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

"""The AWS provider object: capabilities, AWS's own spec rules, and ``connect`` (which imports boto3)."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from multiflow.accounts import AccountListing, AccountSource
from multiflow.errors import SpecError
from multiflow.model import Capabilities
from multiflow.ownership import MANAGED_TAG_COUNT
from multiflow.provider import Provider
from multiflow.spec import Destination, FlowLogSpec
from multiflow_aws.accounts import AwsAccountSource
from multiflow_aws.capabilities import CAPABILITIES
from multiflow_aws.destinations import CloudWatchLogsDestination, FirehoseDestination, S3Destination
from multiflow_aws.options import AwsOptions, options_of

if TYPE_CHECKING:
    from multiflow_aws.sandbox import AwsSandbox
    from multiflow_aws.session import AwsSession

__all__ = ["AwsProvider"]

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_LOG_GROUP_NAME = re.compile(r"^[\w#./-]{1,512}$")
_LOG_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[\w#./-]{1,512}(:\*)?$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# The EC2 reference's own example writes ``deliverystream:NAME``; IAM's ARN format is ``deliverystream/NAME``.
_FIREHOSE_ARN = re.compile(r"^arn:aws[a-z-]*:firehose:[a-z0-9-]+:\d{12}:deliverystream[/:][\w.-]{1,64}$")


class AwsProvider(Provider):
    """Amazon EC2 VPC flow logs (boto3). Constructing it imports neither boto3 nor botocore."""

    name = "aws"
    capabilities: ClassVar[Capabilities] = CAPABILITIES
    options = AwsOptions
    profile_option = "profile_name"
    destinations = (CloudWatchLogsDestination, S3Destination, FirehoseDestination)
    accounts = AwsAccountSource

    def validate(self, spec: FlowLogSpec) -> None:
        """AWS's own rules beyond the capabilities: ids of the kind named, ARNs, names, the role CloudWatch Logs
        needs, and the tag count as CreateFlowLogs will send it (``Name`` and multiflow's own tags included)."""
        _check_id_kinds(spec)
        sent = len(spec.tags) + MANAGED_TAG_COUNT + (1 if spec.name is not None else 0)
        if sent > CAPABILITIES.max_tags:
            raise SpecError(
                "tags",
                f"{len(spec.tags)} tags",
                f"at most {CAPABILITIES.max_tags - MANAGED_TAG_COUNT - (1 if spec.name is not None else 0)}: "
                f"AWS takes {CAPABILITIES.max_tags} a flow log, and apply adds {MANAGED_TAG_COUNT} of multiflow's"
                + (" and the Name tag" if spec.name is not None else ""),
                provider="aws",
            )
        destination = spec.destination
        if isinstance(destination, CloudWatchLogsDestination):
            group = destination.log_group
            if not (_LOG_GROUP_NAME.match(group) or _LOG_GROUP_ARN.match(group)):
                raise SpecError(
                    "destination.log_group",
                    group,
                    "a log group name ([A-Za-z0-9_#./-], 1-512) or log-group ARN",
                    provider="aws",
                )
            if destination.role_arn is None:
                raise SpecError(
                    "destination.role_arn",
                    None,
                    "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                    provider="aws",
                    reason="CloudWatch Logs delivery needs a role to assume",
                )
            _check_role("destination.role_arn", destination.role_arn)
        elif isinstance(destination, S3Destination):
            bucket = destination.bucket
            if not (_BUCKET_NAME.match(bucket) or _BUCKET_ARN.match(bucket)):
                raise SpecError(
                    "destination.bucket",
                    bucket,
                    "a bucket name (3-63 of a-z 0-9 . -) or arn:aws:s3:::NAME",
                    provider="aws",
                )
            prefix = destination.prefix
            if prefix is not None and (prefix.startswith("/") or prefix.strip("/").split("/")[0] == "AWSLogs"):
                raise SpecError(
                    "destination.prefix",
                    prefix,
                    "a prefix not starting with '/' and not 'AWSLogs' (reserved by AWS)",
                    provider="aws",
                )
        elif isinstance(destination, FirehoseDestination):
            if not _FIREHOSE_ARN.match(destination.stream_arn):
                raise SpecError(
                    "destination.stream_arn",
                    destination.stream_arn,
                    "arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME",
                    provider="aws",
                )
            if destination.role_arn is not None:
                _check_role("destination.role_arn", destination.role_arn)
        if spec.name is not None and "Name" in spec.tags:
            raise SpecError(
                "tags.Name",
                spec.tags["Name"],
                "no Name tag when name is set",
                provider="aws",
                reason="AWS keeps the name as the Name tag",
            )
        aws = options_of(spec)
        if aws is not None:
            if aws.cross_account_role is not None:
                _check_role("options.aws.cross_account_role", aws.cross_account_role)
            if aws.extra:
                from multiflow_aws.passthrough import check_extra

                check_extra(aws.extra)
            kinds = [tf.resource_type for tf in aws.tag_fields]
            if len(set(kinds)) != len(kinds):
                raise SpecError("options.aws.tag_fields", kinds, "each resource_type at most once", provider="aws")

    def connect(self, region: str, **options: Any) -> AwsSession:
        """An EC2 session for ``region``; see :class:`multiflow_aws.session.AwsSession` for the options."""
        try:
            from multiflow_aws.session import AwsSession
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the AWS provider needs boto3: pip install 'multiflow-vpc[aws]'") from exc
        return AwsSession(region, **options)

    def list_accounts(self, sources: Sequence[AccountSource], **options: Any) -> AccountListing:
        """The accounts ``sources`` (:class:`~multiflow_aws.accounts.AwsAccountSource` items) cover, entered with
        the caller's ``options`` (``endpoint_url``, ``profile_name``, keys, as ``connect`` takes them).

        An organization: DescribeOrganization (the management account), ListAccounts (ACTIVE members; the others
        are notes), ListAccountsForParent and ListOrganizationalUnitsForParent walked for ``units``,
        ListTagsForResource per member only when ``tags`` is given; members the filters leave out are
        ``outside``. A member is entered through ``role_name``, the management account with the caller's own
        credentials. A profile or a role: one GetCallerIdentity (after the AssumeRole, for a role). A source that
        fails is an AccountFailure with AWS's code, message and request id; the others go on. Accounts are
        de-duplicated by id (the first source wins) and sorted by id.
        """
        from multiflow_aws.accounts import list_accounts

        return list_accounts(sources, options, self.home_region())

    def home_region(self) -> str:
        """The configured default region, else ``us-east-1``: enabled in every account of the commercial
        partition (the first of ``capabilities.regions``, ``af-south-1``, is opt-in, and STS and EC2 refuse calls
        there in accounts that have not enabled it)."""
        return self.default_region() or "us-east-1"

    def default_region(self) -> str | None:
        """The region boto3 picks when none is given (``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's)."""
        import boto3
        import botocore.exceptions

        from multiflow_aws.session import _configuration_error

        try:
            region = boto3.Session().region_name
        except botocore.exceptions.BotoCoreError as exc:
            raise _configuration_error(exc, None) from None
        return str(region) if region else None

    def sandbox(self) -> AwsSandbox:
        """moto's server on loopback, corrected to the AWS reference (needs ``multiflow-vpc[sandbox]``)."""
        from multiflow_aws.sandbox import AwsSandbox

        return AwsSandbox()

    def normalize(self, spec: FlowLogSpec, region: str) -> FlowLogSpec:
        """``spec`` as DescribeFlowLogs will report it, for comparisons: a bucket name becomes its ARN in the
        region's partition, a log-group ARN (with or without ``:*``) its group name, a delivery stream ARN its
        ``deliverystream/NAME`` form (read back in that form too, whichever form EC2 answers with)."""
        from multiflow_aws.mapping import normalized_destination

        destination = normalized_destination(spec.destination, region)
        if destination is spec.destination:
            return spec
        return spec.model_copy(update={"destination": destination})

    def destination_identity(self, destination: Destination, region: str) -> Hashable:
        """AWS allows one flow log per resource and log destination, whatever its file format or partitions:
        the bucket ARN and prefix, the log group name, or the stream ARN."""
        from multiflow_aws.mapping import destination_identity

        return destination_identity(destination, region)


def _check_id_kinds(spec: FlowLogSpec) -> None:
    """Refuse an id whose AWS prefix names another kind (``subnet-...`` under ``kind: vpc``) before any call."""
    from multiflow_aws.mapping import kind_of

    kind = spec.resources.kind
    for index, resource_id in enumerate(spec.resources.ids):
        actual = kind_of(resource_id)
        if actual is not None and actual is not kind:
            raise SpecError(
                f"resources.ids[{index}]",
                resource_id,
                f"an id of kind {kind.value} (its prefix names a {actual.value})",
                provider="aws",
            )


def _check_role(field: str, arn: str) -> None:
    if not _ROLE_ARN.match(arn):
        raise SpecError(field, arn, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", provider="aws")

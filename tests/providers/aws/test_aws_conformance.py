"""The AWS provider runs multiflow's provider conformance suite against moto's server on loopback."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from multiflow.errors import ProviderError
from multiflow.spec import ResourceKind
from multiflow.testing import ConformanceTarget, ProviderConformance, error_samples
from multiflow_aws.errors import EXACT_CODES

#: A sentinel secret: moto accepts any key, so the suite can check this one never shows.
SECRET = "SENTINEL-aws-3b9d-never-print-me"
_ID_PREFIXES = {
    ResourceKind.VPC: "vpc-",
    ResourceKind.SUBNET: "subnet-",
    ResourceKind.NETWORK_INTERFACE: "eni-",
    ResourceKind.TRANSIT_GATEWAY: "tgw-",
    ResourceKind.TRANSIT_GATEWAY_ATTACHMENT: "tgw-attach-",
    ResourceKind.REGIONAL_NAT_GATEWAY: "nat-",
    ResourceKind.CORE_NETWORK: "core-network-",
    ResourceKind.CORE_NETWORK_ATTACHMENT: "attachment-",
}


class AwsTarget(ConformanceTarget):
    """moto's server, seeded on demand; errors injected at botocore's ``before-call`` (moto has no fault knobs)."""

    provider = "aws"
    region = "us-east-1"
    sdk_modules = ("boto3", "botocore")

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.ec2 = sandbox.client("ec2", self.region)
        self._failing: str | None = None
        self._boto3 = self._session(SECRET)  # one session: its clients share botocore's loaded models
        self._destinations: dict[str, dict[str, Any]] = {}
        self._names = itertools.count()

    def _session(self, secret: str) -> Any:
        import boto3

        session = boto3.Session(aws_access_key_id="AKIACONFORMANCE", aws_secret_access_key=secret)
        session.events.register("before-call.ec2.CreateFlowLogs", self._answer_with_error)
        return session

    def _answer_with_error(self, **_: Any) -> tuple[Any, dict[str, Any]] | None:
        if self._failing is None:
            return None
        from botocore.awsrequest import AWSResponse

        error = {"Code": self._failing, "Message": f"injected {self._failing}"}
        meta = {"RequestId": f"conformance-{next(self._names)}", "HTTPStatusCode": 400}
        return AWSResponse(self.sandbox.endpoint_url, 400, {}, None), {"Error": error, "ResponseMetadata": meta}

    def connect_options(self) -> dict[str, Any]:
        return {"endpoint_url": self.sandbox.endpoint_url, "boto3_session": self._boto3}

    def resources(self, kind: ResourceKind, count: int, tags: Mapping[str, str] | None = None) -> list[str]:
        sandbox, region = self.sandbox, self.region
        if kind in (ResourceKind.CORE_NETWORK, ResourceKind.CORE_NETWORK_ATTACHMENT):
            # moto has no Cloud WAN attachments (and makes core network ids longer than AWS's): well-formed ids,
            # which the corrected sandbox takes as it takes transit gateways, without looking them up.
            return [f"{_ID_PREFIXES[kind]}{next(self._names):017x}" for _ in range(count)]
        tag_list = [{"Key": k, "Value": v} for k, v in (tags or {}).items()]
        if kind is ResourceKind.VPC:
            return list(sandbox.seed_vpcs(region, count, tags=dict(tags or {})))
        vpc = sandbox.seed_vpcs(region, 1)[0]
        if kind is ResourceKind.SUBNET:
            return list(sandbox.seed_subnets(region, vpc, count, tags=dict(tags or {})))
        subnet = sandbox.seed_subnets(region, vpc, 1)[0]
        made: list[str] = []
        for _ in range(count):
            if kind is ResourceKind.NETWORK_INTERFACE:
                made += sandbox.seed_network_interfaces(region, subnet, 1)
            elif kind is ResourceKind.TRANSIT_GATEWAY:
                made.append(self.ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"])
            elif kind is ResourceKind.TRANSIT_GATEWAY_ATTACHMENT:
                gateway = self.ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
                attachment = self.ec2.create_transit_gateway_vpc_attachment(
                    TransitGatewayId=gateway, VpcId=vpc, SubnetIds=[subnet]
                )["TransitGatewayVpcAttachment"]
                made.append(attachment["TransitGatewayAttachmentId"])
            else:
                made.append(self.ec2.create_nat_gateway(SubnetId=subnet)["NatGateway"]["NatGatewayId"])
        if tag_list and made:
            self.ec2.create_tags(Resources=made, Tags=tag_list)
        return made

    def destination(self, kind: str) -> dict[str, Any]:
        if kind not in self._destinations:
            if kind == "cloudwatch_logs":
                group = self.sandbox.create_log_group("conformance-flow-logs", self.region)
                role = self.sandbox.create_role("conformance-flow-logs")
                self._destinations[kind] = {"kind": kind, "log_group": group, "role_arn": role}
            elif kind == "s3":
                self._destinations[kind] = {"kind": kind, "bucket": self.sandbox.create_bucket("conformance-flowlogs")}
            else:  # moto does not check that Firehose streams exist
                stream = "arn:aws:firehose:us-east-1:123456789012:deliverystream/conformance"
                self._destinations[kind] = {"kind": kind, "stream_arn": stream}
        return self._destinations[kind]

    def missing_resource_id(self, kind: ResourceKind) -> str:
        return f"{_ID_PREFIXES[kind]}0123456789abcdef0"

    def inject_error(self, code: str) -> AbstractContextManager[object]:
        @contextmanager
        def failing() -> Iterator[None]:
            self._failing = code
            try:
                yield
            finally:
                self._failing = None

        return failing()

    def error_samples(self) -> dict[str, type[ProviderError]]:
        return error_samples(EXACT_CODES)

    def secrets(self) -> list[str]:
        return [SECRET]


@pytest.fixture(scope="module")
def conformance_target(aws_sandbox: Any) -> AwsTarget:
    """The session-wide moto server of tests/conftest.py, emptied first."""
    aws_sandbox.reset()
    return AwsTarget(aws_sandbox)


class TestAwsConformance(ProviderConformance):
    """multiflow's provider contract, against moto's server."""

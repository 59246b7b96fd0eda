"""An AWS sandbox on loopback: moto's server, with helpers to seed VPCs, subnets, ENIs and destinations.

Needs the ``sandbox`` extra (``pip install 'multiflow-vpc[sandbox]'``). Every call goes over real HTTP through
boto3, exactly as against AWS; only the endpoint differs.

>>> with AwsSandbox() as sandbox:                                         # doctest: +SKIP
...     vpc_ids = sandbox.seed_vpcs("us-east-1", 3, tags={"env": "prod"})
...     client = multiflow.connect("aws", region="us-east-1", **sandbox.connect_options())
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from multiflow.spec import ResourceKind

if TYPE_CHECKING:
    from multiflow_aws.fault_proxy import FaultProxy

__all__ = ["SANDBOX_ACCESS_KEY_ID", "SANDBOX_SECRET_ACCESS_KEY", "AwsSandbox"]

#: Fake keys the sandbox accepts (moto accepts any); never real credentials, and shaped so that secret scanners
#: (``AKIA[A-Z0-9]{16}``, 40-character secrets) do not take them for real ones.
SANDBOX_ACCESS_KEY_ID = "multiflow-sandbox-not-a-key"
SANDBOX_SECRET_ACCESS_KEY = "multiflow-sandbox-secret-not-a-real-key"


class AwsSandbox:
    """moto's threaded server on 127.0.0.1 (a free port unless ``port`` is given).

    Moto keeps its state per process: two sandboxes in one process share it. :meth:`reset` empties it.
    """

    def __init__(self, port: int = 0) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the AWS sandbox needs moto: pip install 'multiflow-vpc[sandbox]'") from exc
        from multiflow_aws import moto_fidelity

        moto_fidelity.apply()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._started = False
        self._proxies: list[FaultProxy] = []

    def start(self) -> AwsSandbox:
        """Start serving; returns self."""
        if not self._started:
            self._server.start()
            self._started = True
        return self

    def stop(self) -> None:
        """Stop serving (and every fault proxy made by :meth:`fault_proxy`) and join the server thread."""
        while self._proxies:
            self._proxies.pop().stop()
        if self._started:
            self._server.stop()
            self._started = False

    def __enter__(self) -> AwsSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    provider = "aws"

    def connect_options(self, region: str | None = None, *, proxy: FaultProxy | None = None) -> dict[str, Any]:
        """Keyword arguments for ``multiflow.connect("aws", region=..., **options)`` (any region).

        With ``proxy`` (from :meth:`fault_proxy`), calls go through it and meet its faults.
        """
        return {
            "endpoint_url": proxy.endpoint_url if proxy is not None else self.endpoint_url,
            "aws_access_key_id": SANDBOX_ACCESS_KEY_ID,
            "aws_secret_access_key": SANDBOX_SECRET_ACCESS_KEY,
        }

    def fault_proxy(self, *, seed: int | None = None, **faults: Any) -> FaultProxy:
        """A started :class:`~multiflow_aws.fault_proxy.FaultProxy` in front of this sandbox, stopped with it.

        ``faults`` are the proxy's rates (``throttle_rate=0.05``, ``lost_response_rate=0.05``...); see that class.
        """
        from multiflow_aws.fault_proxy import FaultProxy

        proxy = FaultProxy(self.endpoint_url, seed=seed, **faults).start()
        self._proxies.append(proxy)
        return proxy

    def tune(self, **knobs: float | None) -> None:
        """Make the sandbox slow or flaky (``sandbox serve``'s flags) by serving it through a fault proxy:
        ``latency`` (seconds a call), ``throttle_rate``, ``server_error_rate`` (0..1); :meth:`environment` then
        points at the proxy. Other knobs (Alibaba's activation delays) do not apply to AWS and are ignored."""
        if any(knobs.get(k) for k in ("latency", "throttle_rate", "server_error_rate")):
            self._served = self.fault_proxy(
                throttle_rate=float(knobs.get("throttle_rate") or 0),
                server_error_rate=float(knobs.get("server_error_rate") or 0),
                latency_rate=1.0 if knobs.get("latency") else 0.0,
                latency=float(knobs.get("latency") or 0),
            ).endpoint_url

    def environment(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment variables that point boto3 (EC2 only: ``AWS_ENDPOINT_URL_EC2``, so other AWS services in
        the shell are untouched), the AWS CLI and multiflow at this sandbox."""
        return {
            "AWS_ENDPOINT_URL_EC2": getattr(self, "_served", None) or self.endpoint_url,
            "AWS_ACCESS_KEY_ID": SANDBOX_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": region,
        }

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A boto3 client for ``service`` against the sandbox (for seeding and for checks)."""
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=SANDBOX_ACCESS_KEY_ID,
            aws_secret_access_key=SANDBOX_SECRET_ACCESS_KEY,
        )

    def reset(self) -> None:
        """Forget every resource in every region (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        from multiflow_aws import moto_fidelity

        moto_fidelity.forget_tokens()

    # -- seeding -----------------------------------------------------------------------------------------------

    def seed_vpcs(self, region: str, count: int, tags: dict[str, str] | None = None) -> list[str]:
        """Create ``count`` VPCs (each 10.0.0.0/16: VPC blocks may overlap) and return their ids."""
        ec2 = self.client("ec2", region)
        spec = _tag_spec("vpc", tags)
        return [ec2.create_vpc(CidrBlock="10.0.0.0/16", **spec)["Vpc"]["VpcId"] for _ in range(count)]

    def seed_subnets(self, region: str, vpc_id: str, count: int, tags: dict[str, str] | None = None) -> list[str]:
        """Create up to 256 subnets (10.0.N.0/24) in a VPC made by :meth:`seed_vpcs`; return their ids."""
        if count > 256:
            raise ValueError("a seeded VPC holds at most 256 /24 subnets")
        ec2 = self.client("ec2", region)
        spec = _tag_spec("subnet", tags)
        return [
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{n}.0/24", **spec)["Subnet"]["SubnetId"]
            for n in range(count)
        ]

    def seed_network_interfaces(self, region: str, subnet_id: str, count: int) -> list[str]:
        """Create ``count`` network interfaces in ``subnet_id`` and return their ids."""
        ec2 = self.client("ec2", region)
        return [
            ec2.create_network_interface(SubnetId=subnet_id)["NetworkInterface"]["NetworkInterfaceId"]
            for _ in range(count)
        ]

    def create_bucket(self, name: str, region: str = "us-east-1") -> str:
        """Create an S3 bucket and return its ARN."""
        s3 = self.client("s3", region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        return f"arn:aws:s3:::{name}"

    def create_log_group(self, name: str, region: str = "us-east-1") -> str:
        """Create a CloudWatch Logs group and return its name."""
        self.client("logs", region).create_log_group(logGroupName=name)
        return name

    def create_role(self, name: str) -> str:
        """Create an IAM role EC2's flow log service may assume, and return its ARN."""
        import json

        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        role = self.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))
        return str(role["Role"]["Arn"])

    # -- what a fleet file needs (the Sandbox protocol of multiflow.provider) ---------------------------------

    def prepare(
        self,
        region: str,
        kind: ResourceKind,
        ids: Sequence[str] | None,
        tags: Mapping[str, str | None] | None,
        destination: Any,
        *,
        account: str = "",
    ) -> None:
        """Seed the resources a fleet entry names (with those very ids) or three matching its selector, and its
        destination (bucket or log group)."""
        if ids is not None:
            existing = set(self._existing_ids(region, kind))
            for resource_id in ids:
                if resource_id not in existing:
                    self._add_with_id(region, kind, resource_id)
        elif tags is not None:
            wanted = {k: (v if v is not None else "any") for k, v in tags.items()}
            for _ in range(3):
                self._add(region, kind, wanted)
        self._prepare_destination(region, destination)

    def seed_demo(self) -> dict[str, Any]:
        """Two prod and one dev VPC in us-east-1, a subnet each, a prod VPC in eu-west-1 (what
        docs/examples/fleet.yaml names), and a bucket ``central-flowlogs``."""
        prod = self.seed_vpcs("us-east-1", 2, tags={"env": "prod"})
        dev = self.seed_vpcs("us-east-1", 1, tags={"env": "dev"})
        subnets = [s for vpc in (*prod, *dev) for s in self.seed_subnets("us-east-1", vpc, 1)]
        europe = self.seed_vpcs("eu-west-1", 1, tags={"env": "prod"})
        bucket = self.create_bucket("central-flowlogs")
        return {
            "region": "us-east-1",
            "vpcs": {"prod": prod, "dev": dev},
            "subnets": subnets,
            "bucket": bucket,
            "elsewhere": {"eu-west-1": europe},
        }

    def _existing_ids(self, region: str, kind: ResourceKind) -> list[str]:
        ec2 = self.client("ec2", region)
        if kind is ResourceKind.VPC:
            return [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
        if kind is ResourceKind.SUBNET:
            return [v["SubnetId"] for v in ec2.describe_subnets()["Subnets"]]
        if kind is ResourceKind.NETWORK_INTERFACE:
            return [v["NetworkInterfaceId"] for v in ec2.describe_network_interfaces()["NetworkInterfaces"]]
        return []

    def _add(self, region: str, kind: ResourceKind, tags: dict[str, str] | None = None) -> str | None:
        if kind is ResourceKind.VPC:
            return self.seed_vpcs(region, 1, tags=tags)[0]
        if kind is ResourceKind.SUBNET:
            return self.seed_subnets(region, self.seed_vpcs(region, 1)[0], 1, tags=tags)[0]
        if kind is ResourceKind.NETWORK_INTERFACE:
            subnet = self.seed_subnets(region, self.seed_vpcs(region, 1)[0], 1)[0]
            eni = self.seed_network_interfaces(region, subnet, 1)[0]
            if tags:
                self.client("ec2", region).create_tags(
                    Resources=[eni], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
                )
            return eni
        return None  # transit gateways and NAT gateways: moto does not check they exist

    def _add_with_id(self, region: str, kind: ResourceKind, resource_id: str) -> None:
        """Create a resource, then give it ``resource_id`` inside moto's (in-process) backend."""
        made = self._add(region, kind)
        if made is None:
            return
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        backend: Any = ec2_backends[DEFAULT_ACCOUNT_ID][region]
        table: dict[str, Any]
        if kind is ResourceKind.VPC:
            table = backend.vpcs
        elif kind is ResourceKind.SUBNET:
            table = next(t for t in backend.subnets.values() if made in t)
        else:
            table = backend.enis
        resource = table.pop(made)
        resource.id = resource_id
        table[resource_id] = resource
        if made in backend.tags:
            backend.tags[resource_id] = backend.tags.pop(made)

    def _prepare_destination(self, region: str, destination: Any) -> None:
        kind = getattr(destination, "kind", None)
        if kind == "s3":
            name = destination.bucket.split(":::")[-1].split("/")[0]
            try:
                self.create_bucket(name, region)
            except Exception as exc:  # already there is fine
                if "BucketAlreadyOwnedByYou" not in str(exc) and "BucketAlreadyExists" not in str(exc):
                    raise
        elif kind == "cloudwatch_logs":
            name = destination.log_group.split(":log-group:")[-1].removesuffix(":*")
            try:
                self.create_log_group(name, region)
            except Exception as exc:
                if "ResourceAlreadyExists" not in str(exc):
                    raise


def _tag_spec(resource_type: str, tags: dict[str, str] | None) -> dict[str, Any]:
    if not tags:
        return {}
    return {
        "TagSpecifications": [
            {"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    }

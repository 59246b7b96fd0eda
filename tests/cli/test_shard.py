"""The command line over an organization, in process, against the example provider's cloud on loopback:
``--shard K/4`` covering every account exactly once (and the four JSON outputs), the table grouped per account,
the account on every change and count of ``-o json``, and a member that refuses entry reported per account."""

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

FLEET = """\
name: org
accounts:
  example:
    - organization: {}
flow_logs:
  - name: nets
    provider: example
    regions: [local-1, local-2]
    resources: {kind: vpc, where: {"tag:team": net}}
    destination: {kind: example_bucket, bucket: central-logs}
"""
#: Sixteen accounts: enough that each of four shards holds some (the hash is stable, so this is fixed).
EXTRA_MEMBERS = 12


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch) -> Iterator[ExampleSandbox]:
    """The example sandbox's organization with 12 more members, and the environment pointing at it."""
    with ExampleSandbox(activation_delay=0.0, deletion_delay=0.0) as running:
        for _ in range(EXTRA_MEMBERS):
            running.cloud.add_account()
        for key, value in running.environment().items():
            monkeypatch.setenv(key, value)
        yield running


@pytest.fixture
def fleet_file(box: ExampleSandbox, tmp_path: Path) -> Path:
    """The fleet file, with its network seeded in every account of the organization."""
    path = tmp_path / "org.yaml"
    path.write_text(FLEET)
    with connections_to({"example": box}) as connections:
        prepare_fleet({"example": box}, multiflow.load(path), connections)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str, exit_code: int = 0) -> dict[str, Any]:
    code, out = run(capsys, "plan", *argv, "-o", "json")
    assert code == exit_code, out
    answer: dict[str, Any] = json.loads(out)
    return answer


def test_four_shards_cover_every_account_exactly_once_and_together_converge(
    box: ExampleSandbox, fleet_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    everyone = box.cloud.accounts()
    assert len(everyone) == 1 + len(MEMBERS) + EXTRA_MEMBERS
    plans = [plan_json(capsys, str(fleet_file), "--shard", f"{k}/4") for k in range(1, 5)]
    shards = [{c["account"] for c in p["changes"]} for p in plans]
    assert all(shards), [sorted(s) for s in shards]
    assert sorted(a for s in shards for a in s) == everyone  # pairwise disjoint, and all of them
    for k, (p, accounts) in enumerate(zip(plans, shards, strict=True), start=1):
        assert p["shard"] == f"{k}/4"
        assert {a["account"] for a in p["accounts"]} == accounts
        assert {(c["account"], c["region"]) for c in p["counts"]} == {
            (a, r) for a in accounts for r in ("local-1", "local-2")
        }
        assert f"example: shard {k}/4 covers {len(accounts)} of {len(everyone)} account(s)" in p["notes"]

    for k in range(1, 5):
        code, out = run(capsys, "apply", str(fleet_file), "--shard", f"{k}/4", "--yes", "-o", "json")
        assert code == 0, out
    assert sorted({r["account_id"] for r in box.cloud.flow_logs()}) == everyone
    whole = plan_json(capsys, str(fleet_file))
    assert whole["shard"] is None and [c for c in whole["changes"] if c["action"] != "keep"] == []


def test_json_has_the_account_on_every_change_and_count(fleet_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_json(capsys, str(fleet_file))
    assert plan["changes"] and all(c["account"] for c in plan["changes"])
    assert plan["counts"] and all(c["account"] for c in plan["counts"])
    assert {c["account"] for c in plan["changes"]} == {a["account"] for a in plan["accounts"]}


def test_the_table_has_an_account_column_and_totals_per_account(
    box: ExampleSandbox, fleet_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "plan", str(fleet_file))
    assert code == 0, out
    header = next(line for line in out.splitlines() if line.startswith("action"))
    assert header.split()[:4] == ["action", "provider", "account", "region"]
    totals = out.split(f"Per account ({len(box.cloud.accounts())}):")[1]
    rows = [line.split() for line in totals.splitlines() if line.startswith("example")]
    # Each account by id and name, then its counts: create is the sixth column from the end.
    assert [(r[1], r[-7]) for r in rows] == [(a, "6") for a in box.cloud.accounts()]  # 3 networks x 2 regions
    assert all(r[2].startswith("(") for r in rows)


def test_a_member_that_refuses_entry_is_reported_in_json_and_the_others_are_applied(
    box: ExampleSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refusing = sorted(MEMBERS)[1]
    box.cloud.set_account(refusing, enterable=False)
    path = tmp_path / "org.yaml"
    path.write_text(FLEET)
    with connections_to({"example": box}) as connections:
        prepare_fleet({"example": box}, multiflow.load(path), connections)

    plan = plan_json(capsys, str(path), exit_code=1)  # not a whole plan
    [failed] = plan["failed_targets"]
    assert (failed["account"], failed["region"], failed["code"]) == (refusing, None, "AccessDenied")
    assert failed["request_id"] and failed["entries"] == ["nets"]
    assert refusing not in {c["account"] for c in plan["changes"]}

    code, out = run(capsys, "apply", str(path), "--yes", "-o", "json")
    applied = json.loads(out)
    assert code != 0  # not every account could be entered
    assert [t["account"] for t in applied["result"]["failed_targets"]] == [refusing]
    assert {r["account_id"] for r in box.cloud.flow_logs()} == set(box.cloud.accounts()) - {refusing}
    assert MANAGEMENT_ACCOUNT in {r["account_id"] for r in box.cloud.flow_logs()}


@pytest.mark.parametrize("bad", ["0/4", "5/4", "2", "a/b"])
def test_a_bad_shard_is_a_usage_error_naming_the_value(
    bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(FLEET)
    with pytest.raises(SystemExit) as raised:
        main(["plan", str(path), "--shard", bad])
    err = capsys.readouterr().err
    assert raised.value.code == 64
    assert f"argument --shard: {bad!r}: K/N with 1 <= K <= N <= 1024" in err, err


def test_a_converged_organization_keeps_its_table_short(
    box: ExampleSandbox, fleet_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with connections_to({"example": box}) as connections:
        fleet = multiflow.load(fleet_file)
        assert multiflow.apply(multiflow.plan(fleet, connections), connections, timeout=30).ok
    code, out = run(capsys, "plan", str(fleet_file))
    assert code == 0
    places = len(box.cloud.accounts()) * 2
    assert f"({places} place(s) with nothing to change are not shown; -o json has every one)" in out
    assert not [line for line in out.splitlines() if line.startswith("example ") and " local-" in line]
    assert f"Per account ({len(box.cloud.accounts())}):" in out

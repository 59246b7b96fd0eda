"""`multiflow merge`: the -o json outputs of --shard 1/N..N/N runs become one document, and only a whole set does.

The shards' outputs come from real runs (`plan --sandbox --shard K/2 -o json` of the example fleet, in
subprocesses); the refusals (a missing or repeated shard, mixed commands, other fleet files) from edits of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_cli import multiflow

from multiflow.merging import MergeError, merge

EXAMPLE = str(Path(__file__).resolve().parents[2] / "docs" / "examples" / "fleet.yaml")


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The plan of the example fleet as shards 1/3, 2/3 and 3/3, each against fresh sandboxes (its two default
    accounts, aws's and alibaba's, hash into shards 1 and 2 of 3: the merge really joins two halves)."""
    folder = tmp_path_factory.mktemp("shards")
    paths = []
    for k in (1, 2, 3):
        done = multiflow("plan", EXAMPLE, "--sandbox", "--shard", f"{k}/3", "-o", "json")
        assert done.returncode == 0, done.stderr
        path = folder / f"plan-{k}.json"
        path.write_text(done.stdout)
        paths.append(path)
    return paths


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_the_shards_of_a_plan_merge_into_the_whole_plan(shards: list[Path]) -> None:
    whole = multiflow("plan", EXAMPLE, "--sandbox", "-o", "json")
    done = multiflow("merge", *map(str, shards))
    assert done.returncode == 0, done.stderr
    merged = json.loads(done.stdout)
    parts = [load(p) for p in shards]
    assert [p["shard"] for p in parts] == ["1/3", "2/3", "3/3"]
    assert merged["shards"] == ["1/3", "2/3", "3/3"]
    assert [sorted({c["provider"] for c in p["changes"]}) for p in parts] == [["aws"], ["alibaba"], []]
    # The merge has every change of the whole plan, each once.
    key = ("action", "provider", "account", "region", "entry")
    whole_changes = sorted(tuple(c[k] for k in key) for c in json.loads(whole.stdout)["changes"])
    assert sorted(tuple(c[k] for k in key) for c in merged["changes"]) == whole_changes
    assert sum(len(p["changes"]) for p in parts) == len(whole_changes)


def test_a_missing_shard_is_refused_unless_partial_is_allowed(shards: list[Path]) -> None:
    done = multiflow("merge", str(shards[0]), str(shards[2]))
    assert done.returncode == 1
    assert "shard(s) missing: 2/3" in done.stderr
    partial = multiflow("merge", "--allow-partial", str(shards[0]))
    assert partial.returncode == 0, partial.stderr
    assert json.loads(partial.stdout)["shards"] == ["1/3"]


def test_a_shard_twice_other_fleets_and_mixed_commands_are_refused(shards: list[Path]) -> None:
    first, second, _ = (load(p) for p in shards)
    with pytest.raises(MergeError, match="given twice: 1/3"):
        merge([first, first, second])
    other = {**second, "fleet_digest": "sha256:0"}
    with pytest.raises(MergeError, match="different fleet files"):
        merge([first, other])
    audit = {"resources": [], "summary": [], "shard": "2/3"}
    with pytest.raises(MergeError, match="different commands"):
        merge([first, audit])
    with pytest.raises(MergeError, match="not a shard"):
        merge([first, {**second, "shard": None}])


def test_audits_merge_with_their_totals_summed_again() -> None:
    def audit(shard: str, covered: list[bool]) -> dict[str, Any]:
        resources = [{"provider": "aws", "account": shard, "covered": c} for c in covered]
        return {"shard": shard, "ok": True, "fail_under": 60, "resources": resources, "summary": []}

    merged = merge([audit("1/2", [True, True]), audit("2/2", [False, True])])
    assert merged["total"] == {"covered": 3, "total": 4, "percent": 75.0}
    assert merged["by_provider"] == [{"provider": "aws", "covered": 3, "total": 4, "percent": 75.0}]
    assert merged["ok"] is True
    under = merge([audit("1/2", [False, False]), audit("2/2", [False, True])])
    assert under["ok"] is False  # 25 % is under the shards' --fail-under 60, though each shard alone said ok

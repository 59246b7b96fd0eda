"""One report from the JSON outputs of ``--shard 1/N`` … ``--shard N/N`` runs: ``multiflow merge FILE...``.

A large organization is split by a scheduler the team already has (a CI matrix, Kubernetes Jobs, Airflow) into N
processes, each running ``multiflow plan|apply|audit|list ... --shard K/N -o json``. Shards are chosen by a stable
hash of the account id (:func:`multiflow.accounts.in_shard`), so their accounts are disjoint and together are
every account: merging is concatenation, plus the totals summed again and a check that the documents are of one
kind, of one fleet file (plans), and of every shard exactly once (``allow_partial`` lifts that last check).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from multiflow.errors import MultiflowError

__all__ = ["MergeError", "document_kind", "merge", "merge_files"]

#: The largest JSON document read for a merge (a plan of 100,000 changes is some 200 MB; past that, refuse).
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024


class MergeError(MultiflowError):
    """Documents that cannot be merged: of different kinds or fleets, shards missing or repeated."""


def document_kind(document: object) -> str:
    """``plan``, ``apply``, ``audit`` or ``list``: which command's ``-o json`` output ``document`` is."""
    if isinstance(document, Mapping):
        if document.get("kind") == "multiflow-plan":
            return "plan"
        if "result" in document and "plan" in document:
            return "apply"
        if "resources" in document and "summary" in document:
            return "audit"
        if "flow_logs" in document:
            return "list"
    raise MergeError("not the JSON output of multiflow plan, apply, audit or list (with --accounts) -o json")


def merge_files(paths: Sequence[str | Path], *, allow_partial: bool = False) -> dict[str, Any]:
    """:func:`merge` of the JSON documents in ``paths``."""
    documents = []
    for path in paths:
        file = Path(path)
        try:
            if file.stat().st_size > MAX_DOCUMENT_BYTES:
                raise MergeError(f"{path}: larger than {MAX_DOCUMENT_BYTES} bytes")
            documents.append(json.loads(file.read_text(encoding="utf-8")))
        except OSError as exc:
            raise MergeError(f"{path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MergeError(f"{path}: not JSON ({exc})") from None
    return merge(documents, allow_partial=allow_partial, names=[str(p) for p in paths])


def merge(
    documents: Sequence[Mapping[str, Any]], *, allow_partial: bool = False, names: Sequence[str] = ()
) -> dict[str, Any]:
    """One document of the same kind as ``documents`` (outputs of the shards of one run), covering all of them.

    :raises MergeError: the documents are of different kinds or fleets; a shard is missing or given twice (unless
        ``allow_partial``).
    """
    if not documents:
        raise MergeError("nothing to merge: give the JSON outputs of the shards")
    labels = list(names) or [f"document {n + 1}" for n in range(len(documents))]
    kinds = {document_kind(d) for d in documents}
    if len(kinds) > 1:
        raise MergeError(f"documents of different commands: {', '.join(sorted(kinds))}")
    kind = kinds.pop()
    plans = [d if kind == "plan" else d.get("plan", {}) for d in documents] if kind in ("plan", "apply") else []
    shards = [_shard_of(p) for p in plans] if plans else [_shard_of(d) for d in documents]
    if kind in ("plan", "apply"):
        fleets = {(p.get("fleet"), p.get("fleet_digest")) for p in plans}
        if len(fleets) > 1:
            raise MergeError(f"plans of different fleet files (or versions of one): {sorted(map(str, fleets))}")
    _check_shards(shards, labels, allow_partial)
    merged: dict[str, Any]
    if kind == "plan":
        merged = _merge_plans(documents)
    elif kind == "apply":
        result_docs = [d.get("result") or {} for d in documents]
        result: dict[str, Any] = {}
        for key in ("failed_targets", "done", "failed", "skipped", "in_progress", "not_started"):
            result[key] = [item for r in result_docs for item in r.get(key, [])]
        result["interrupted"] = any(r.get("interrupted") for r in result_docs)
        result["ok"] = all(r.get("ok", True) for r in result_docs) and not result["interrupted"]
        merged = {
            "format_version": documents[0].get("format_version"),
            "ok": all(d.get("ok") for d in documents),
            "elapsed_seconds": max(float(d.get("elapsed_seconds") or 0) for d in documents),
            "plan": _merge_plans(plans),
            "result": result if any(d.get("result") is not None for d in documents) else None,
        }
    elif kind == "audit":
        merged = _merge_audits(documents)
    else:
        merged = {
            "flow_logs": [f for d in documents for f in d.get("flow_logs", [])],
            "failed": [f for d in documents for f in d.get("failed", [])],
            "notes": list(dict.fromkeys(n for d in documents for n in d.get("notes", []))),
        }
    merged["shards"] = sorted(s for s in shards if s)
    return merged


def _shard_of(document: Mapping[str, Any]) -> str | None:
    value = document.get("shard")
    return str(value) if value else None


def _check_shards(shards: Sequence[str | None], labels: Sequence[str], allow_partial: bool) -> None:
    given = [s for s in shards if s]
    if not given:
        if len(shards) > 1 and not allow_partial:
            raise MergeError("none of the documents is a shard (--shard K/N): nothing says they cover one run once")
        return
    if len(given) != len(shards):
        unsharded = [label for label, s in zip(labels, shards, strict=True) if not s]
        raise MergeError(f"{', '.join(unsharded)}: not a shard, beside shards of N (run every part with --shard)")
    counts = {int(s.split("/")[1]) for s in given}
    if len(counts) > 1:
        raise MergeError(f"shards of different splits: {', '.join(sorted(set(given)))}")
    total = counts.pop()
    seen = Counter(int(s.split("/")[0]) for s in given)
    repeated = sorted(k for k, n in seen.items() if n > 1)
    if repeated:
        raise MergeError(f"shard(s) given twice: {', '.join(f'{k}/{total}' for k in repeated)}")
    missing = sorted(set(range(1, total + 1)) - set(seen))
    if missing and not allow_partial:
        raise MergeError(
            f"shard(s) missing: {', '.join(f'{k}/{total}' for k in missing)} (or pass --allow-partial to merge what "
            "is there)"
        )


def _merge_plans(plans: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    first = plans[0]
    merged = {key: first.get(key) for key in ("format_version", "kind", "multiflow_version", "fleet")}
    merged.update(
        {
            "fleet_file": first.get("fleet_file"),
            "fleet_digest": first.get("fleet_digest"),
            "destroy": any(p.get("destroy") for p in plans),
            "shard": None,
        }
    )
    for key in ("accounts", "outside_accounts", "changes", "counts", "failed_targets"):
        merged[key] = [item for p in plans for item in p.get(key, [])]
    for key in ("warnings", "notes"):
        merged[key] = list(dict.fromkeys(item for p in plans for item in p.get(key, [])))
    return merged


def _merge_audits(audits: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    first = audits[0]
    resources = [r for a in audits for r in a.get("resources", [])]
    covered = sum(1 for r in resources if r.get("covered"))
    total = len(resources)
    by_provider: dict[str, list[int]] = {}
    for r in resources:
        counts = by_provider.setdefault(str(r.get("provider")), [0, 0])
        counts[0] += bool(r.get("covered"))
        counts[1] += 1
    percent = round(100.0 * covered / total, 2) if total else 100.0
    fail_under = first.get("fail_under")
    return {
        "format_version": first.get("format_version"),
        "ok": percent >= fail_under if isinstance(fail_under, int | float) else all(a.get("ok") for a in audits),
        "fail_under": fail_under,
        "criteria": first.get("criteria"),
        "kinds": first.get("kinds"),
        "targets": [t for a in audits for t in a.get("targets", [])],
        "places": [p for a in audits for p in a.get("places", [])],
        "failed": [f for a in audits for f in a.get("failed", [])],
        "notes": list(dict.fromkeys(n for a in audits for n in a.get("notes", []))),
        "flow_logs_read": sum(int(a.get("flow_logs_read") or 0) for a in audits),
        "total": {"covered": covered, "total": total, "percent": percent},
        "by_provider": [
            {"provider": p, "covered": c, "total": t, "percent": round(100.0 * c / t, 2) if t else 100.0}
            for p, (c, t) in sorted(by_provider.items())
        ],
        "summary": [row for a in audits for row in a.get("summary", [])],
        "resources": resources,
    }

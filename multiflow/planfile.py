"""Plans as machine-readable documents, and saved plans that apply only while the clouds stand still.

:func:`plan_document` is the JSON that ``multiflow plan -o json`` prints and ``plan --out FILE`` saves: a
``format_version``, the fleet file's digest, and per change its action, the differences (field, before, after)
and the whole ``before`` (the flow log the cloud has) and ``after`` (the spec the file wants for that resource),
like ``terraform show -json``. Nothing in it comes from the connect options, so no credential is ever written.

:func:`load_saved` reads a saved plan back; :func:`moved` compares it with a fresh plan of the same fleet and
names every change that is no longer the same, so that ``multiflow apply PLANFILE`` refuses a plan the clouds
(or the file) have moved away from.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from multiflow import __version__
from multiflow.errors import MultiflowError
from multiflow.planning import Change, Plan

__all__ = [
    "FORMAT_VERSION",
    "PLAN_KIND",
    "SavedPlan",
    "file_digest",
    "is_plan_file",
    "load_saved",
    "moved",
    "plan_document",
    "write_saved",
]

#: The version of the plan document's layout: the major number changes when a field changes meaning or goes.
FORMAT_VERSION = "1.0"
#: The ``kind`` field that marks a document as a multiflow plan.
PLAN_KIND = "multiflow-plan"


def file_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a file's bytes (the fleet file a plan was made from)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MultiflowError(f"{path}: {exc.strerror}") from None
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _change_document(change: Change) -> dict[str, Any]:
    before = change.flow_log.model_dump(mode="json", exclude={"raw"}) if change.flow_log is not None else None
    after = None
    if change.spec is not None:
        after = change.spec.for_ids([change.resource_id]).model_dump(mode="json", exclude_none=True)
    return {**change.as_dict(), "before": before, "after": after}


def plan_document(plan: Plan, fleet_file: str | Path | None = None) -> dict[str, Any]:
    """The plan as a versioned JSON-ready document; with ``fleet_file``, its absolute path and digest too."""
    summary = plan.as_dict()
    return {
        "format_version": FORMAT_VERSION,
        "kind": PLAN_KIND,
        "multiflow_version": __version__,
        "fleet": summary["fleet"],
        "fleet_file": str(Path(fleet_file).resolve()) if fleet_file is not None else None,
        "fleet_digest": file_digest(fleet_file) if fleet_file is not None else None,
        "destroy": plan.destroy,
        "shard": summary["shard"],
        "accounts": summary["accounts"],
        "outside_accounts": summary["outside_accounts"],
        "changes": [_change_document(c) for c in plan.changes],
        "counts": summary["counts"],
        "failed_targets": summary["failed_targets"],
        "warnings": summary["warnings"],
        "notes": summary["notes"],
    }


def write_saved(plan: Plan, fleet_file: str | Path, path: str | Path) -> dict[str, Any]:
    """Save ``plan`` (made from ``fleet_file``) to ``path`` for ``multiflow apply PATH``; returns the document."""
    document = plan_document(plan, fleet_file)
    try:
        Path(path).write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    except OSError as exc:
        raise MultiflowError(f"--out {path}: {exc.strerror}") from None
    return document


def is_plan_file(path: str | Path) -> bool:
    """Whether ``path`` holds a saved plan (a JSON object of kind ``multiflow-plan``) rather than a fleet file."""
    try:
        with open(path, "rb") as file:
            head = file.read(4096).lstrip()
    except OSError:
        return False
    return head.startswith(b"{") and PLAN_KIND.encode() in head


class SavedPlan:
    """A plan file read back: its document, the fleet file it names and whether that file is unchanged."""

    def __init__(self, path: str | Path, document: dict[str, Any]) -> None:
        self.path = str(path)
        self.document = document

    @property
    def fleet_file(self) -> str:
        """The fleet file the plan was made from (absolute)."""
        return str(self.document["fleet_file"])

    @property
    def shard(self) -> str | None:
        """The ``--shard K/N`` the plan was made with, or ``None``."""
        value = self.document.get("shard")
        return str(value) if value else None

    @property
    def destroy(self) -> bool:
        """Whether it is a destroy plan."""
        return bool(self.document.get("destroy"))

    def check_fleet_file(self) -> None:
        """Refuse when the fleet file is gone or its content differs from what the plan was made from."""
        digest = file_digest(self.fleet_file)
        if digest != self.document["fleet_digest"]:
            raise MultiflowError(
                f"{self.path}: the fleet file {self.fleet_file} changed since the plan was saved "
                f"(digest {self.document['fleet_digest']} then, {digest} now); run multiflow plan --out again"
            )


def load_saved(path: str | Path) -> SavedPlan:
    """Read a saved plan; a clear error when it is not one, or of a format version this multiflow cannot read."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MultiflowError(f"{path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MultiflowError(f"{path}: not a multiflow plan file (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("kind") != PLAN_KIND:
        raise MultiflowError(f'{path}: not a multiflow plan file (no "kind": "{PLAN_KIND}")')
    version = str(document.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise MultiflowError(
            f"{path}: format_version {version!r} is not readable by multiflow {__version__} "
            f"(reads {FORMAT_VERSION.split('.')[0]}.x)"
        )
    for key in ("fleet_file", "fleet_digest", "changes"):
        if not document.get(key) and key != "changes":
            raise MultiflowError(f"{path}: a plan file needs {key!r}; save one with multiflow plan FILE --out PATH")
    if not isinstance(document.get("changes"), list):
        raise MultiflowError(f"{path}: 'changes' must be a list")
    return SavedPlan(path, document)


def _key(change: dict[str, Any]) -> tuple[Any, ...]:
    return (
        change.get("provider"),
        change.get("account"),
        change.get("region"),
        change.get("entry"),
        change.get("resource_id"),
    )


def _what(change: dict[str, Any]) -> tuple[Any, ...]:
    return (change.get("action"), change.get("flow_log_id"), change.get("differences"))


def _show(change: dict[str, Any]) -> str:
    flow_log = f" {change['flow_log_id']}" if change.get("flow_log_id") else ""
    return f"{change.get('action')}{flow_log}"


def moved(saved: SavedPlan, fresh: Plan) -> list[str]:
    """Every change of ``saved`` that a fresh plan of the same fleet no longer makes the same way, as lines that
    name the resource and what moved (an empty list: the clouds stand where the plan found them)."""
    then: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for change in saved.document["changes"]:
        then.setdefault(_key(change), []).append(change)
    now: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for change in fresh.changes:
        # Through JSON, as the saved side went, so that a tuple and a list (say) compare equal.
        document = json.loads(json.dumps(change.as_dict(), default=str))
        now.setdefault(_key(document), []).append(document)
    lines = []
    for key in sorted(set(then) | set(now), key=lambda k: tuple(str(v) for v in k)):
        before = sorted((_what(c) for c in then.get(key, [])), key=str)
        after = sorted((_what(c) for c in now.get(key, [])), key=str)
        if before == after:
            continue
        provider, account, region, entry, resource = key
        where = " ".join(str(p) for p in (provider, account, region) if p)
        was = ", ".join(_show(c) for c in then.get(key, [])) or "nothing"
        is_now = ", ".join(_show(c) for c in now.get(key, [])) or "nothing"
        lines.append(f"{where} {resource} (entry {entry}): planned {was}, now {is_now}")
    return lines

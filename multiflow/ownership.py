"""The tags that make the cloud the state: which fleet and entry own a flow log, and what cannot be read back.

Every flow log multiflow creates for a fleet carries two tags:

``multiflow:managed=<fleet name>``
    which fleet owns it; plan never touches flow logs of other fleets, or made by hand.
``multiflow:spec=<entry>@<digest>``
    which entry made it, and a digest of what the cloud cannot report back (the provider's options block and
    the record fields), so that a change there is still seen.

Everything else is read back from the cloud and compared attribute by attribute.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from multiflow.model import FlowLog
from multiflow.spec import FlowLogSpec

__all__ = [
    "MANAGED_TAG",
    "MANAGED_TAG_COUNT",
    "OWNERSHIP_PREFIX",
    "SPEC_TAG",
    "Owner",
    "managed_tags",
    "options_digest",
    "options_digests",
    "owner_of",
    "user_tags",
]

MANAGED_TAG = "multiflow:managed"
SPEC_TAG = "multiflow:spec"
#: The prefix of every tag multiflow writes for itself; user tags may not use it.
OWNERSHIP_PREFIX = "multiflow:"
#: How many tags :func:`managed_tags` puts on a flow log (counted against a provider's tag limit).
MANAGED_TAG_COUNT = 2

#: Version 0.1 kept these two option blocks at the top level of the spec and digested every block of every
#: provider; its digest is still recognised, so that upgrading replaces no flow log.
_V01_TOP_LEVEL_BLOCKS = ("aws", "alibaba")


@dataclass(frozen=True)
class Owner:
    """Who made a flow log, from its tags: the fleet, the entry and the digest (``None`` where absent)."""

    fleet: str | None
    entry: str | None
    digest: str | None


def owner_of(flow_log: FlowLog) -> Owner:
    """The owner a flow log's tags name; all ``None`` where it is not multiflow's."""
    entry, _, digest = flow_log.tags.get(SPEC_TAG, "").partition("@")
    return Owner(flow_log.tags.get(MANAGED_TAG), entry or None, digest or None)


def _digest(data: Any, **dumps: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, **dumps).encode()).hexdigest()[:12]


def _dumped(block: Any) -> Any:
    return block.model_dump(mode="json") if block is not None else None


def options_digest(spec: FlowLogSpec, provider: str, readable: Collection[str] = ()) -> str:
    """A digest of what ``provider`` cannot read back: its own options block (but the ``readable`` fields, which
    plan compares with what the cloud reports) and the record fields."""
    block = spec.options_for(provider)
    dumped = block.model_dump(mode="json", exclude=set(readable)) if block is not None else None
    return _digest({"fields": spec.fields, "options": dumped}, separators=(",", ":"))


def _v01_digest(spec: FlowLogSpec) -> str:
    blocks: dict[str, Any] = {name: _dumped(spec.options_for(name)) for name in _V01_TOP_LEVEL_BLOCKS}
    others = {name: _dumped(block) for name, block in spec.options.items() if name not in _V01_TOP_LEVEL_BLOCKS}
    return _digest({**blocks, "options": others, "fields": spec.fields})


def options_digests(spec: FlowLogSpec, provider: str, readable: Collection[str] = ()) -> frozenset[str]:
    """Every digest that stands for ``spec`` on ``provider``: the current one and version 0.1's."""
    return frozenset({options_digest(spec, provider, readable), _v01_digest(spec)})


def managed_tags(
    fleet: str, entry: str, spec: FlowLogSpec, provider: str, readable: Collection[str] = ()
) -> dict[str, str]:
    """The tags that mark a flow log as ``fleet``'s, made by ``entry`` with ``spec`` on ``provider`` (whose cloud
    reports the option fields ``readable`` back)."""
    return {MANAGED_TAG: fleet, SPEC_TAG: f"{entry}@{options_digest(spec, provider, readable)}"}


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """``tags`` without multiflow's own."""
    return {key: value for key, value in tags.items() if not key.startswith(OWNERSHIP_PREFIX)}

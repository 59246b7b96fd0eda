"""The Alibaba Cloud provider object: capabilities, Alibaba's own spec rules, and ``connect`` (imports the SDK)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from multiflow.accounts import AccountListing, AccountSource
from multiflow.errors import SpecError
from multiflow.model import Capabilities
from multiflow.ownership import MANAGED_TAG_COUNT, OWNERSHIP_PREFIX
from multiflow.provider import ModifyChanges, Provider
from multiflow.spec import FlowLogSpec
from multiflow_alibaba.accounts import AlibabaAccountSource
from multiflow_alibaba.capabilities import CAPABILITIES, IP_VERSIONS, TRAFFIC_PATHS
from multiflow_alibaba.options import AlibabaOptions, SlsDestination, options_of

if TYPE_CHECKING:
    from multiflow_alibaba.sandbox_support import AlibabaSandbox
    from multiflow_alibaba.session import AlibabaSession

__all__ = ["AlibabaProvider"]

# SLS naming rules (Simple Log Service CreateProject / CreateLogStore, and CreateFlowLog's ProjectName/LogStoreName):
# project: 3-63 characters, lowercase letters, digits and hyphens, starting and ending with a letter or digit;
# logstore: the same, with underscores allowed too.
_PROJECT = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_LOGSTORE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$")
# Resource group ids: "rg-" and lowercase letters and digits (rg-acfmxazdjdhd****).
_RESOURCE_GROUP = re.compile(r"^rg-[a-z0-9]{1,61}$")
_URL_PREFIXES = ("http://", "https://")
_RESERVED_TAG_PREFIXES = ("aliyun", "acs:")


class AlibabaProvider(Provider):
    """Alibaba Cloud VPC flow logs (alibabacloud-vpc20160428). Constructing it imports no SDK."""

    name = "alibaba"
    capabilities: ClassVar[Capabilities] = CAPABILITIES
    options = AlibabaOptions
    profile_option = "profile_name"
    destinations = (SlsDestination,)
    accounts = AlibabaAccountSource

    def validate(self, spec: FlowLogSpec) -> None:
        """Alibaba's own rules beyond the capabilities: SLS names, name/description text, tags, ``alibaba:`` options."""
        destination = spec.destination
        if isinstance(destination, SlsDestination):
            if not _PROJECT.match(destination.project):
                raise SpecError(
                    "destination.project",
                    destination.project,
                    "an SLS project name: 3-63 lowercase letters, digits and hyphens, "
                    "starting and ending with a letter or digit",
                    provider="alibaba",
                )
            if not _LOGSTORE.match(destination.logstore):
                raise SpecError(
                    "destination.logstore",
                    destination.logstore,
                    "an SLS logstore name: 3-63 lowercase letters, digits, hyphens and underscores, "
                    "starting and ending with a letter or digit",
                    provider="alibaba",
                )
        _check_text(spec.name, spec.description)
        _check_tags(spec.tags)
        options = options_of(spec)
        if options is not None:
            _check_options(options)

    def validate_changes(self, changes: ModifyChanges) -> None:
        """The rules of :meth:`validate` for what ``Client.modify`` changes: name, description, tags (with the
        room multiflow's own leave) and the ``alibaba:`` options, before any call."""
        _check_text(changes.name, changes.description)
        if changes.tags is not None:
            room = CAPABILITIES.max_tags - MANAGED_TAG_COUNT
            if len(changes.tags) > room:
                raise SpecError(
                    "tags",
                    f"{len(changes.tags)} tags",
                    f"at most {room} (Alibaba's {CAPABILITIES.max_tags}, less {MANAGED_TAG_COUNT} kept by multiflow)",
                    provider="alibaba",
                )
            for key in changes.tags:
                if key.lower().startswith(OWNERSHIP_PREFIX):
                    raise SpecError(
                        f"tags.{key}",
                        key,
                        f"keys not starting with {OWNERSHIP_PREFIX!r} (kept for multiflow)",
                        provider="alibaba",
                    )
            _check_tags(changes.tags)
        if changes.options:
            for name, value in changes.options.items():  # one at a time, so the error names the field
                try:
                    AlibabaOptions.model_validate({name: value})
                except ValidationError as exc:
                    reason = exc.errors()[0]["msg"]
                    raise SpecError(f"options.alibaba.{name}", value, reason, provider="alibaba") from None
            _check_options(AlibabaOptions.model_validate(dict(changes.options)))

    def default_region(self) -> str | None:
        """``ALIBABA_CLOUD_REGION_ID``, else the current profile's ``region_id`` in ``~/.aliyun/config.json`` (the
        aliyun CLI's file), else ``None``."""
        import json
        import os
        from pathlib import Path

        region = os.environ.get("ALIBABA_CLOUD_REGION_ID")
        if region:
            return region
        path = Path(os.environ.get("ALIBABA_CLOUD_CONFIG_FILE") or Path.home() / ".aliyun" / "config.json")
        try:
            config = json.loads(path.read_text(encoding="utf-8")[:1_000_000])
            current = config.get("current")
            profile = next(p for p in config.get("profiles", []) if p.get("name") == current)
        except (OSError, ValueError, AttributeError, StopIteration, TypeError):
            return None
        found = profile.get("region_id") if isinstance(profile, dict) else None
        return found if isinstance(found, str) and found else None

    def connect(self, region: str, **options: Any) -> AlibabaSession:
        """A VPC session for ``region``; see :class:`multiflow_alibaba.session.AlibabaSession` for the options."""
        try:
            from multiflow_alibaba.session import AlibabaSession
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the Alibaba Cloud provider needs alibabacloud-vpc20160428: pip install 'multiflow-vpc[alibaba]'"
            ) from exc
        return AlibabaSession(region, **options)

    def list_accounts(self, sources: Sequence[AccountSource], **options: Any) -> AccountListing:
        """The accounts of ``sources`` (see :mod:`multiflow_alibaba.accounts`): a profile's (STS GetCallerIdentity),
        a role's (its ARN's), a Resource Directory's members (Resource Manager ListAccounts, folders walked with
        ListFoldersForParent); ``options`` are the run's connect options, the calling identity's."""
        from multiflow_alibaba.accounts import list_accounts

        return list_accounts(sources, options, self.home_region())

    def sandbox(self) -> AlibabaSandbox:
        """The wire-level emulator on loopback with a demo account (standard library only; no extra needed)."""
        from multiflow_alibaba.sandbox_support import AlibabaSandbox

        return AlibabaSandbox()


def _check_text(name: str | None, description: str | None) -> None:
    for field, value, limit in (("name", name, 128), ("description", description, 256)):
        if value is None:
            continue
        if not 1 <= len(value) <= limit:
            raise SpecError(field, value, f"1 to {limit} characters", provider="alibaba")
        if value.lower().startswith(_URL_PREFIXES):
            raise SpecError(
                field, value, f"1 to {limit} characters not starting with http:// or https://", provider="alibaba"
            )


def _check_tags(tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        if len(key) > 128:
            raise SpecError(f"tags.{key}", key, "keys of 1 to 128 characters", provider="alibaba")
        if not key.strip():
            raise SpecError(f"tags.{key}", key, "non-empty keys", provider="alibaba")
        lowered = key.lower()
        if lowered.startswith(_RESERVED_TAG_PREFIXES):
            raise SpecError(
                f"tags.{key}", key, "keys not starting with 'aliyun' or 'acs:' (reserved)", provider="alibaba"
            )
        if "http://" in lowered or "https://" in lowered:
            raise SpecError(f"tags.{key}", key, "keys without http:// or https://", provider="alibaba")
        if len(value) > 128:
            raise SpecError(f"tags.{key}", value, "values of at most 128 characters", provider="alibaba")
        if value.lower().startswith(_RESERVED_TAG_PREFIXES) or "http://" in value or "https://" in value:
            raise SpecError(
                f"tags.{key}",
                value,
                "values not starting with 'aliyun' or 'acs:' and without http:// or https://",
                provider="alibaba",
            )


def _check_options(options: AlibabaOptions) -> None:
    paths = options.traffic_paths
    if paths is not None:
        for index, path in enumerate(paths):
            if path not in TRAFFIC_PATHS:
                raise SpecError(f"options.alibaba.traffic_paths[{index}]", path, TRAFFIC_PATHS, provider="alibaba")
        repeated = sorted(path for path, count in Counter(paths).items() if count > 1)
        if repeated:
            raise SpecError(
                "options.alibaba.traffic_paths",
                paths,
                "each traffic path at most once",
                provider="alibaba",
                reason=f"repeated: {', '.join(repeated)}",
            )
        if "all" in paths and len(paths) > 1:
            raise SpecError(
                "options.alibaba.traffic_paths",
                paths,
                "either ['all'] or a list of specific paths",
                provider="alibaba",
                reason="'all' already covers every path",
            )
        if options.ip_version == "DualStack" and paths != ["all"]:
            raise SpecError(
                "options.alibaba.traffic_paths",
                paths,
                "['all'] (or no traffic_paths) with ip_version DualStack",
                provider="alibaba",
                reason="dual-stack flow logs take no custom traffic path",
            )
    if options.ip_version is not None and options.ip_version not in IP_VERSIONS:  # pragma: no cover - typed Literal
        raise SpecError("options.alibaba.ip_version", options.ip_version, IP_VERSIONS, provider="alibaba")
    group = options.resource_group_id
    if group is not None and not _RESOURCE_GROUP.match(group):
        raise SpecError(
            "options.alibaba.resource_group_id",
            group,
            "a resource group id: 'rg-' and lowercase letters and digits (rg-acfmxazdjdhd...)",
            provider="alibaba",
        )

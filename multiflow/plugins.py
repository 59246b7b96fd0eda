"""Find and load provider plugins, built-in and third-party alike, through the ``multiflow`` entry points.

Loading is lazy: nothing here runs on ``import multiflow``, only on the first call that needs a provider.

Environment variables narrow what is loaded:

``MULTIFLOW_LOAD_PLUGINS``
    a comma-separated allow-list of entry-point names (``aws,alibaba``); empty loads none.
``MULTIFLOW_DISABLE_PLUGINS``
    a comma-separated block-list of entry-point names.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from multiflow import hookspecs
from multiflow.errors import MultiflowError
from multiflow.model import Capabilities
from multiflow.provider import Provider

__all__ = [
    "BUILTIN_DISTRIBUTION",
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "get_plugin_manager",
    "get_provider",
    "plugin_infos",
    "providers",
    "refresh_providers",
    "reset",
]

ENTRY_POINT_GROUP = "multiflow"

_lock = threading.Lock()
_manager: pluggy.PluginManager | None = None
_providers: dict[str, Provider] | None = None


class PluginError(MultiflowError):
    """A plugin broke the contract (bad provider object, duplicate name, unknown hook)."""


def _names(variable: str) -> list[str] | None:
    raw = os.environ.get(variable)
    if raw is None:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def _build_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    for name in _names("MULTIFLOW_DISABLE_PLUGINS") or []:
        manager.set_blocked(name)
    allowed = _names("MULTIFLOW_LOAD_PLUGINS")
    if allowed is None:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    else:
        for name in allowed:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
    manager.check_pending()
    return manager


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loading entry points on first use."""
    global _manager
    with _lock:
        if _manager is None:
            _manager = _build_manager()
        return _manager


def _collect(manager: pluggy.PluginManager) -> dict[str, Provider]:
    found: dict[str, Provider] = {}

    def register(provider: Provider) -> None:
        if not isinstance(provider, Provider):
            raise PluginError(
                f"register_providers got {provider!r}, which lacks what multiflow.provider.Provider needs "
                "(name, capabilities, validate, connect)"
            )
        if not isinstance(provider.capabilities, Capabilities):
            raise PluginError(f"provider {provider.name!r}: capabilities must be a multiflow Capabilities")
        if provider.name in found:
            raise PluginError(f"two plugins register a provider named {provider.name!r}")
        found[provider.name] = provider

    manager.hook.register_providers(register=register)
    return found


def providers() -> dict[str, Provider]:
    """Every registered provider, by name."""
    global _providers
    manager = get_plugin_manager()
    with _lock:
        if _providers is None:
            _providers = _collect(manager)
        return dict(_providers)


def get_provider(name: str) -> Provider:
    """The provider called ``name``, or a clear error listing what is there and how to get the rest."""
    found = providers()
    if name in found:
        return found[name]
    known = ", ".join(sorted(found)) or "none"
    hint = ""
    if name in {"aws", "alibaba"}:
        hint = f" (install it with: pip install 'multiflow[{name}]'; check MULTIFLOW_LOAD_PLUGINS / _DISABLE_)"
    raise MultiflowError(f"no provider named {name!r}; loaded providers: {known}{hint}")


#: The distribution that ships multiflow's own (built-in) plugins.
BUILTIN_DISTRIBUTION = "multiflow"


@dataclass(frozen=True)
class PluginInfo:
    """A plugin, for ``multiflow providers``: where it came from, its version, hooks and providers.

    ``status`` is ``loaded``, ``disabled`` (``MULTIFLOW_DISABLE_PLUGINS``) or ``not loaded`` (left out by
    ``MULTIFLOW_LOAD_PLUGINS``); only loaded plugins have hooks and providers.
    """

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    providers: tuple[str, ...]
    module: str | None = None
    status: str = "loaded"

    @property
    def builtin(self) -> bool:
        """Whether multiflow itself ships the plugin."""
        return self.distribution == BUILTIN_DISTRIBUTION

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "module": self.module,
            "status": self.status,
            "hooks": list(self.hooks),
            "providers": list(self.providers),
        }


def _offered(manager: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    """The names of the providers ``plugin`` registers (its hook called alone, with a collecting callback)."""
    collected: dict[str, Provider] = {}
    for impl in manager.hook.register_providers.get_hookimpls():
        if impl.plugin is plugin:
            offered = {"register": lambda p, c=collected: c.setdefault(p.name, p)}
            impl.function(**{arg: offered[arg] for arg in impl.argnames})
    return tuple(sorted(collected))


def plugin_infos(*, include_unloaded: bool = False) -> list[PluginInfo]:
    """Every loaded plugin (entry-point and in-process alike); with ``include_unloaded``, also the entry points of
    the ``multiflow`` group that the environment switches kept from loading."""
    manager = get_plugin_manager()
    dists = {id(plugin): dist for plugin, dist in manager.list_plugin_distinfo()}
    infos = []
    for plugin_name, plugin in manager.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        hooks = tuple(sorted(caller.name for caller in manager.get_hookcallers(plugin) or [] if caller.name != ""))
        infos.append(
            PluginInfo(
                name=plugin_name,
                distribution=dist.project_name if dist else None,
                version=dist.version if dist else None,
                hooks=hooks,
                providers=_offered(manager, plugin),
                module=getattr(plugin, "__name__", type(plugin).__module__),
            )
        )
    if include_unloaded:
        loaded = {info.name for info in infos}
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if entry_point.name in loaded:
                continue
            source = entry_point.dist
            infos.append(
                PluginInfo(
                    name=entry_point.name,
                    distribution=source.metadata["Name"] if source else None,
                    version=source.version if source else None,
                    hooks=(),
                    providers=(),
                    module=entry_point.value,
                    status="disabled" if manager.is_blocked(entry_point.name) else "not loaded",
                )
            )
    return infos


def refresh_providers() -> None:
    """Ask the loaded plugins for their providers again on the next call (after registering a plugin in-process)."""
    global _providers
    with _lock:
        _providers = None


def reset() -> None:
    """Forget loaded plugins, so the next call loads them again (for tests and long-lived hosts)."""
    global _manager, _providers
    with _lock:
        _manager = None
        _providers = None

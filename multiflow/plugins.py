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
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from types import MappingProxyType
from typing import Any

import pluggy

from multiflow import hookspecs
from multiflow.accounts import AccountSource
from multiflow.errors import MultiflowError
from multiflow.model import Capabilities
from multiflow.provider import Provider
from multiflow.spec import Destination, ProviderOptions

__all__ = [
    "BUILTIN_DISTRIBUTION",
    "ENTRY_POINT_GROUP",
    "PluginError",
    "PluginInfo",
    "account_models",
    "check",
    "destination_models",
    "get_plugin_manager",
    "get_provider",
    "options_models",
    "plugin_infos",
    "providers",
    "refresh_providers",
    "register",
    "reset",
]

ENTRY_POINT_GROUP = "multiflow"

_lock = threading.RLock()
_manager: pluggy.PluginManager | None = None
_registry: _Registry | None = None


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
    try:
        if allowed is None:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        else:
            for name in allowed:
                manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
    except Exception as exc:
        raise PluginError(
            f"a plugin of the {ENTRY_POINT_GROUP!r} entry-point group failed to load: {type(exc).__name__}: {exc} "
            "(MULTIFLOW_DISABLE_PLUGINS=NAME skips one)"
        ) from exc
    check(manager)
    return manager


def check(manager: pluggy.PluginManager) -> None:
    """Refuse a plugin that implements a hook multiflow does not have (a misspelt name, say), at once.

    pluggy's ``check_pending``, with the hooks multiflow offers named; run after every load and registration.
    """
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        offered = ", ".join(sorted(name for name in dir(manager.hook) if not name.startswith("_")))
        raise PluginError(f"{exc} (multiflow's hooks: {offered})") from None


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loading entry points on first use."""
    global _manager
    with _lock:
        if _manager is None:
            _manager = _build_manager()
        return _manager


@dataclass(frozen=True)
class _Registry:
    """What the loaded plugins offer: providers by name (and which plugin registered each), destination models
    by kind, options models by provider name. Built in one pass over the plugins' hook implementations."""

    providers: dict[str, Provider]
    registered_by: dict[str, str]
    destinations: dict[str, type[Destination]]
    options: dict[str, type[ProviderOptions]]
    accounts: dict[str, type[AccountSource]]


def _check_provider(provider: object) -> Provider:
    if not isinstance(provider, Provider):
        raise PluginError(
            f"register_providers got {provider!r}, which is not a multiflow.provider.Provider "
            "(subclass it: name, capabilities, connect)"
        )
    try:
        provider.name, provider.capabilities  # noqa: B018 - both are class attributes a subclass must set
    except AttributeError as exc:
        raise PluginError(f"provider {type(provider).__name__}: set {exc.name} on the class") from None
    if not isinstance(provider.capabilities, Capabilities):
        raise PluginError(f"provider {provider.name!r}: capabilities must be a multiflow Capabilities")
    if provider.capabilities.provider != provider.name:
        raise PluginError(
            f"provider {provider.name!r}: its capabilities say provider={provider.capabilities.provider!r}"
        )
    options = provider.options
    if options is not None and not (isinstance(options, type) and issubclass(options, ProviderOptions)):
        raise PluginError(f"provider {provider.name!r}: options must be a subclass of multiflow.spec.ProviderOptions")
    accounts = provider.accounts
    if accounts is not None and not (isinstance(accounts, type) and issubclass(accounts, AccountSource)):
        raise PluginError(
            f"provider {provider.name!r}: accounts must be a subclass of multiflow.accounts.AccountSource"
        )
    for model in provider.destinations:
        if not (isinstance(model, type) and issubclass(model, Destination) and model is not Destination):
            raise PluginError(
                f"provider {provider.name!r}: destinations must be subclasses of multiflow.spec.Destination"
            )
    return provider


def _destination_kind(provider: Provider, model: type[Destination]) -> str:
    default = model.model_fields["kind"].default
    if not isinstance(default, str) or not default:
        raise PluginError(
            f"provider {provider.name!r}: destination {model.__name__} needs kind: Literal['...'] = '...'"
        )
    return default


def _collect(manager: pluggy.PluginManager) -> _Registry:
    providers: dict[str, Provider] = {}
    registered_by: dict[str, str] = {}
    destinations: dict[str, type[Destination]] = {}
    options: dict[str, type[ProviderOptions]] = {}
    accounts: dict[str, type[AccountSource]] = {}
    for impl in manager.hook.register_providers.get_hookimpls():

        def register(provider: Provider, plugin: str = impl.plugin_name) -> None:
            found = _check_provider(provider)
            if found.name in providers:
                raise PluginError(
                    f"two plugins register a provider named {found.name!r}: "
                    f"{registered_by[found.name]!r} and {plugin!r}"
                )
            for model in found.destinations:
                kind = _destination_kind(found, model)
                if destinations.get(kind, model) is not model:
                    raise PluginError(
                        f"provider {found.name!r} declares destination kind {kind!r}, which "
                        f"{destinations[kind].__module__}.{destinations[kind].__name__} already declares"
                    )
                destinations[kind] = model
            providers[found.name] = found
            registered_by[found.name] = plugin
            if found.options is not None:
                options[found.name] = found.options
            if found.accounts is not None:
                accounts[found.name] = found.accounts

        offered = {"register": register}
        impl.function(**{arg: offered[arg] for arg in impl.argnames})
    for provider in providers.values():
        unknown = [kind for kind in provider.capabilities.destinations if kind not in destinations]
        if unknown:
            raise PluginError(
                f"provider {provider.name!r} writes to destination kind(s) {', '.join(map(repr, unknown))} that no "
                f"loaded provider declares (declared: {', '.join(map(repr, sorted(destinations))) or 'none'})"
            )
    return _Registry(providers, registered_by, destinations, options, accounts)


def _loaded() -> _Registry:
    global _registry
    found = _registry
    if found is not None:
        # Built already: read without the locks (one assignment replaces it whole). Every model of every entry
        # of a fleet file asks, and the two locks were 0.6 s of a 20,000-entry validate.
        return found
    manager = get_plugin_manager()
    with _lock:
        if _registry is None:
            _registry = _collect(manager)
        return _registry


def providers() -> dict[str, Provider]:
    """Every registered provider, by name."""
    return dict(_loaded().providers)


def loaded_models() -> tuple[Mapping[str, type[Destination]], Mapping[str, type[ProviderOptions]]]:
    """The destination models by ``kind`` and the options-block models by provider name, as read-only views
    (no copy: what :mod:`multiflow.spec` asks for every model it validates)."""
    registry = _loaded()
    return MappingProxyType(registry.destinations), MappingProxyType(registry.options)


def destination_models() -> dict[str, type[Destination]]:
    """The destination models the loaded providers declare, by ``kind``."""
    return dict(_loaded().destinations)


def options_models() -> dict[str, type[ProviderOptions]]:
    """The options-block models of the loaded providers, by provider name."""
    return dict(_loaded().options)


def account_models() -> dict[str, type[AccountSource]]:
    """The account-source models of the loaded providers that cover many accounts, by provider name."""
    return dict(_loaded().accounts)


def get_provider(name: str) -> Provider:
    """The provider called ``name``, or a clear error listing what is there and how to get the rest."""
    found = providers()
    if name in found:
        return found[name]
    known = ", ".join(sorted(found)) or "none"
    hint = ""
    if name in {"aws", "alibaba"}:
        hint = (
            f" (install it with: pip install '{BUILTIN_DISTRIBUTION}[{name}]'; "
            "check MULTIFLOW_LOAD_PLUGINS / _DISABLE_)"
        )
    raise MultiflowError(f"no provider named {name!r}; loaded providers: {known}{hint}")


#: The distribution that ships multiflow's own (built-in) plugins.
BUILTIN_DISTRIBUTION = "multiflow-vpc"


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


def plugin_infos(*, include_unloaded: bool = False) -> list[PluginInfo]:
    """Every loaded plugin (entry-point and in-process alike); with ``include_unloaded``, also the entry points of
    the ``multiflow`` group that the environment switches kept from loading."""
    manager = get_plugin_manager()
    registry = _loaded()
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
                providers=tuple(sorted(p for p, by in registry.registered_by.items() if by == plugin_name)),
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
    global _registry
    with _lock:
        _registry = None


def register(plugin: object, name: str | None = None) -> None:
    """Register an in-process plugin (a module or object with hook implementations), checked at once."""
    manager = get_plugin_manager()
    with _lock:
        manager.register(plugin, name=name)
        try:
            check(manager)
        except PluginError:
            manager.unregister(plugin)
            raise
    refresh_providers()


def reset() -> None:
    """Forget loaded plugins, so the next call loads them again (for tests and long-lived hosts)."""
    global _manager, _registry
    with _lock:
        _manager = None
        _registry = None

"""multiflow's pytest plugin, opted into with ``pytest_plugins = ["multiflow.testing"]``: markers and fixtures.

It imports nothing but pytest at load time: multiflow's core, the providers and their SDKs are imported by the
fixtures, when used.

Fixtures:

``conformance_target``
    a placeholder that fails, naming what to do: a provider's tests define their own (see
    :class:`multiflow.testing.ProviderConformance`).
``multiflow_register``
    register plugin objects in-process for one test (for a plugin not installed yet, or a broken one).
``multiflow_sandbox``
    start a provider's sandbox (its ``sandbox()``) on loopback for one test; always stopped.

The conformance suite itself is :class:`multiflow.testing.ProviderConformance`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = ["conformance_target", "multiflow_register", "multiflow_sandbox", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker the conformance suite puts on its tests (``-m multiflow_conformance`` selects them)."""
    config.addinivalue_line("markers", "multiflow_conformance: a test of multiflow's provider conformance suite")


@pytest.fixture
def conformance_target(request: pytest.FixtureRequest) -> Any:
    """Overridden by a provider's tests with its :class:`~multiflow.testing.ConformanceTarget`; fails here."""
    pytest.fail(
        f"{request.node.nodeid}: define a conformance_target fixture (in the test module, a conftest.py, or the "
        "ProviderConformance subclass) that yields your provider's multiflow.testing.ConformanceTarget",
        pytrace=False,
    )


@pytest.fixture
def multiflow_register() -> Iterator[Callable[..., None]]:
    """``register(plugin, name=None)``: add a plugin object (with ``@multiflow.hookimpl`` hooks) for this test.

    Hooks are checked at once (a misspelt hook fails here); the providers it offers are visible to
    ``multiflow.connect`` until the test ends, when the plugin is removed again.
    """
    from multiflow import plugins

    manager = plugins.get_plugin_manager()
    added: list[Any] = []

    def register(plugin: Any, name: str | None = None) -> None:
        plugins.register(plugin, name=name)
        added.append(plugin)

    try:
        yield register
    finally:
        for plugin in added:
            if manager.is_registered(plugin):
                manager.unregister(plugin)
        plugins.refresh_providers()


@pytest.fixture
def multiflow_sandbox() -> Iterator[Callable[[str], Any]]:
    """``start(provider)``: the provider's sandbox (``Provider.sandbox()``), started on loopback; stopped after
    the test."""
    from multiflow.plugins import get_provider

    started: list[Any] = []

    def start(provider: str) -> Any:
        sandbox = get_provider(provider).sandbox()
        if sandbox is None:
            pytest.fail(f"provider {provider!r} offers no sandbox()")
        sandbox.start()
        started.append(sandbox)
        return sandbox

    try:
        yield start
    finally:
        for sandbox in reversed(started):
            sandbox.stop()

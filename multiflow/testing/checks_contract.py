"""Conformance checks of the contract's shape: protocols, consistent capabilities, no SDK on ``import multiflow``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from multiflow.ownership import MANAGED_TAG_COUNT
from multiflow.provider import Provider, ProviderSession, Sandbox
from multiflow.spec import FlowLogSpec
from multiflow.testing.harness import MODIFIABLE, Harness, destination_kinds
from multiflow.testing.target import ConformanceTarget

__all__ = ["ContractChecks"]


class ContractChecks:
    """Checks of the provider's and its sessions' shape (part of :class:`ProviderConformance`)."""

    # -- the contract's shape --------------------------------------------------------------------------------

    def test_provider_satisfies_the_protocol(self, conformance_provider: Provider, provider_name: str) -> None:
        """The provider satisfies ``multiflow.provider.Provider``; its name matches its capabilities; it was
        registered by an installed distribution through the ``multiflow`` entry-point group."""
        from multiflow.plugins import plugin_infos

        assert isinstance(conformance_provider, Provider)
        assert conformance_provider.name == provider_name == conformance_provider.capabilities.provider
        offering = [info for info in plugin_infos() if provider_name in info.providers]
        assert offering, f"no loaded plugin offers {provider_name!r}"
        assert offering[0].distribution, f"{provider_name!r} is not registered by an installed distribution"

    def test_capabilities_are_consistent(self, conformance_provider: Provider) -> None:
        """Every per-kind table covers exactly the declared kinds; defaults are among the allowed values; limits
        leave room for multiflow's own tags; destinations are kinds the spec knows."""
        caps = conformance_provider.capabilities
        kinds = set(caps.resource_kinds)
        problems: list[str] = []
        assert caps.resource_kinds, "no resource kind declared"
        for table in ("traffic", "default_traffic", "intervals", "default_interval", "fields", "ids_per_call"):
            keys = set(getattr(caps, table))
            if keys != kinds:
                problems.append(f"{table} covers {sorted(k.value for k in keys)}, not the declared kinds")
        for kind in caps.resource_kinds:
            allowed = caps.traffic.get(kind, ())
            default = caps.default_traffic.get(kind)
            if (default is None) != (not allowed) or (default is not None and default not in allowed):
                problems.append(f"{kind.value}: default traffic {default} does not fit the allowed {allowed}")
            intervals = caps.intervals.get(kind, ())
            if not intervals or any(i <= 0 for i in intervals):
                problems.append(f"{kind.value}: intervals {intervals} must be positive seconds")
            if caps.default_interval.get(kind) not in intervals:
                problems.append(f"{kind.value}: default interval {caps.default_interval.get(kind)} not in {intervals}")
            if caps.ids_per_call.get(kind, 0) < 1:
                problems.append(f"{kind.value}: ids_per_call must be at least 1")
        unknown = set(caps.destinations) - set(destination_kinds())
        if not caps.destinations or unknown:
            problems.append(f"destinations {caps.destinations}: need one or more of {destination_kinds()}")
        for field, limit in (("name", caps.name_max_length), ("description", caps.description_max_length)):
            most = _spec_max_length(field)
            if limit is not None and not 1 <= limit <= most:
                problems.append(f"{field}_max_length {limit}: a spec's {field} is 1 to {most} characters")
        if caps.max_tags <= MANAGED_TAG_COUNT:
            problems.append(f"max_tags {caps.max_tags} leaves no room beside multiflow's {MANAGED_TAG_COUNT} tags")
        options = {f"options.{name}" for name in caps.readable_options}
        if not set(caps.modifiable) <= set(MODIFIABLE) | options:
            problems.append(
                f"modifiable {caps.modifiable}: only {MODIFIABLE} and options.FIELD of readable_options can be modified"
            )
        json.dumps(caps.summary())
        assert not problems, "\n".join(problems)

    def test_sessions_satisfy_the_protocol(
        self, conformance: Harness, conformance_provider: Provider, provider_name: str
    ) -> None:
        """A connected session satisfies ``ProviderSession`` for the provider and region; a ``sandbox()``, where
        offered, returns a ``Sandbox``."""
        session = conformance.client.session
        assert isinstance(session, ProviderSession)
        assert (session.provider, session.region) == (provider_name, conformance.target.region)
        sandbox = conformance_provider.sandbox()
        if sandbox is not None:
            assert isinstance(sandbox, Sandbox)
            assert sandbox.provider == provider_name

    def test_import_multiflow_loads_no_provider_and_no_sdk(
        self, conformance_provider: Provider, conformance_target: ConformanceTarget, provider_name: str
    ) -> None:
        """In a fresh interpreter: ``import multiflow`` imports neither the provider's package nor its SDK; finding
        the provider and reading its capabilities imports no SDK either."""
        package = type(conformance_provider).__module__.split(".")[0]
        code = (
            "import json, sys\n"
            "def loaded(names): return sorted(m for m in sys.modules if any(m == n or m.startswith(n + '.')"
            " for n in names))\n"
            f"package, sdk = {package!r}, {list(conformance_target.sdk_modules)!r}\n"
            "import multiflow\n"
            "after_import = loaded([package, *sdk])\n"
            f"multiflow.get_provider({provider_name!r}).capabilities.summary()\n"
            "print(json.dumps({'import': after_import, 'providers': loaded(sdk)}))\n"
        )
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MULTIFLOW_")}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120
        )
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert seen["import"] == [], f"import multiflow imported {seen['import']}"
        assert seen["providers"] == [], f"loading the {provider_name!r} plugin imported its SDK: {seen['providers']}"


def _spec_max_length(field: str) -> int:
    """The longest ``field`` a FlowLogSpec takes (from the model's own constraint)."""
    for constraint in FlowLogSpec.model_fields[field].metadata:
        if isinstance(getattr(constraint, "max_length", None), int):
            return int(constraint.max_length)
    raise AssertionError(f"FlowLogSpec.{field} has no max_length")

"""multiflow: one provider-neutral way to manage VPC flow logs on AWS, Alibaba Cloud and any cloud a plugin adds.

>>> import multiflow
>>> spec = multiflow.FlowLogSpec(resources={"kind": "vpc", "ids": ["vpc-0abc"]},
...                              destination={"kind": "s3", "bucket": "arn:aws:s3:::central-logs"})
>>> spec.resources.kind.value
'vpc'

Names are imported on first use (PEP 562), so ``import multiflow`` stays fast and loads no cloud SDK and no
provider plugin; providers load through the ``multiflow`` entry points when first needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "FlowLogSpec": "multiflow.spec",
    "Resources": "multiflow.spec",
    "ResourceKind": "multiflow.spec",
    "Traffic": "multiflow.spec",
    "Destination": "multiflow.spec",
    "ProviderOptions": "multiflow.spec",
    "FlowLog": "multiflow.model",
    "FlowLogStatus": "multiflow.model",
    "DeliveryStatus": "multiflow.model",
    "Capabilities": "multiflow.model",
    "Client": "multiflow.client",
    "connect": "multiflow.client",
    "hookimpl": "multiflow.hookspecs",
    "Provider": "multiflow.provider",
    "providers": "multiflow.plugins",
    "load": "multiflow.fleet",
    "loads": "multiflow.fleet",
    "Fleet": "multiflow.fleet",
    "plan": "multiflow.planning",
    "Plan": "multiflow.planning",
    "apply": "multiflow.applying",
    "ApplyResult": "multiflow.applying",
    "Connections": "multiflow.client",
    "get_provider": "multiflow.plugins",
    "audit": "multiflow.auditing",
    "AuditReport": "multiflow.auditing",
    "CoverageCriteria": "multiflow.auditing",
    "CloudResource": "multiflow.model",
}
_SUBMODULES = {
    "errors",
    "spec",
    "model",
    "client",
    "plugins",
    "hookspecs",
    "provider",
    "validate",
    "waiting",
    "fleet",
    "ownership",
    "planning",
    "applying",
    "cli",
    "auditing",
    "audit_fix",
    "sandbox",
    "schema",
}

__all__ = [*sorted(_EXPORTS), "__version__", "errors"]

if TYPE_CHECKING:
    from multiflow import errors as errors
    from multiflow import sandbox as sandbox
    from multiflow.applying import ApplyResult as ApplyResult
    from multiflow.applying import apply as apply
    from multiflow.auditing import AuditReport as AuditReport
    from multiflow.auditing import CoverageCriteria as CoverageCriteria
    from multiflow.auditing import audit as audit
    from multiflow.client import Client as Client
    from multiflow.client import Connections as Connections
    from multiflow.client import connect as connect
    from multiflow.fleet import Fleet as Fleet
    from multiflow.fleet import load as load
    from multiflow.fleet import loads as loads
    from multiflow.hookspecs import hookimpl as hookimpl
    from multiflow.model import Capabilities as Capabilities
    from multiflow.model import CloudResource as CloudResource
    from multiflow.model import DeliveryStatus as DeliveryStatus
    from multiflow.model import FlowLog as FlowLog
    from multiflow.model import FlowLogStatus as FlowLogStatus
    from multiflow.planning import Plan as Plan
    from multiflow.planning import plan as plan
    from multiflow.plugins import get_provider as get_provider
    from multiflow.plugins import providers as providers
    from multiflow.provider import Provider as Provider
    from multiflow.spec import Destination as Destination
    from multiflow.spec import FlowLogSpec as FlowLogSpec
    from multiflow.spec import ProviderOptions as ProviderOptions
    from multiflow.spec import ResourceKind as ResourceKind
    from multiflow.spec import Resources as Resources
    from multiflow.spec import Traffic as Traffic


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"multiflow.{name}")
    raise AttributeError(f"module 'multiflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

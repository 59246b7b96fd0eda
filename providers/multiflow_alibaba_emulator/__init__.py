"""A wire-level emulator of Alibaba Cloud's VPC flow-log API, for the official SDK over real HTTP.

Standard library only, but for :mod:`multiflow.loopback` (its HTTP server, itself standard library only): it
imports neither the Alibaba SDK, nor pydantic, nor the provider. See ``docs/alibaba-emulator.md``.

>>> from multiflow_alibaba_emulator import AlibabaEmulator, ManualClock, Faults
"""

from .clock import Clock, ManualClock, MonotonicClock
from .demo import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    DEMO_ACCOUNT_ID,
    DEMO_FOLDERS,
    DEMO_LOGSTORE,
    DEMO_MEMBERS,
    DEMO_PROJECT,
    DEMO_REGION,
    DemoInventory,
    seed_demo,
    seed_organization,
)
from .errors import ERROR_CATALOGUE, ApiError
from .faults import Faults
from .server import AlibabaEmulator
from .state import DEFAULT_ACCOUNT_ID, FLOW_LOG_STATUSES

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEMO_ACCESS_KEY_ID",
    "DEMO_ACCESS_KEY_SECRET",
    "DEMO_ACCOUNT_ID",
    "DEMO_FOLDERS",
    "DEMO_LOGSTORE",
    "DEMO_MEMBERS",
    "DEMO_PROJECT",
    "DEMO_REGION",
    "ERROR_CATALOGUE",
    "FLOW_LOG_STATUSES",
    "AlibabaEmulator",
    "ApiError",
    "Clock",
    "DemoInventory",
    "Faults",
    "ManualClock",
    "MonotonicClock",
    "seed_demo",
    "seed_organization",
]

"""Alibaba Cloud VPC flow logs for multiflow.

Registered through the ``multiflow`` entry-point group (``alibaba = "multiflow_alibaba"``), exactly as a
third-party plugin would be. Importing this package is cheap: the Alibaba SDK is imported only when a session is
opened. The wire-level emulator of the API it is tested against is a package of its own, beside this one
(:mod:`multiflow_alibaba_emulator`, standard library only but for :mod:`multiflow.loopback`), as moto is beside boto3.
"""

from __future__ import annotations

from collections.abc import Callable

from multiflow.hookspecs import hookimpl
from multiflow.provider import Provider
from multiflow_alibaba.provider import AlibabaProvider

__all__ = ["AlibabaProvider", "register_providers"]


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer the ``alibaba`` provider."""
    register(AlibabaProvider())

"""Alibaba Cloud VPC flow logs for multiflow.

Registered through the ``multiflow`` entry-point group (``alibaba = "multiflow_alibaba"``), exactly as a
third-party plugin would be. Importing this package is cheap: the Alibaba SDK is imported only when a session is
opened. The package also ships a wire-level emulator of the API (:mod:`multiflow_alibaba.sandbox`).
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

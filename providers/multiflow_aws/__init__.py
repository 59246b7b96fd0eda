"""Amazon EC2 VPC flow logs for multiflow.

Registered through the ``multiflow`` entry-point group (``aws = "multiflow_aws"``), exactly as a third-party
plugin would be. Importing this package is cheap: boto3 is imported only when a session is opened.
"""

from __future__ import annotations

from collections.abc import Callable

from multiflow.hookspecs import hookimpl
from multiflow.provider import Provider
from multiflow_aws.provider import AwsProvider

__all__ = ["AwsProvider", "register_providers"]


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer the ``aws`` provider."""
    register(AwsProvider())

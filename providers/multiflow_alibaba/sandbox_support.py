"""Connecting multiflow to the Alibaba emulator (:mod:`multiflow_alibaba.sandbox`).

>>> options = connect_options(emu, "LTAIexample")             # doctest: +SKIP
>>> client = multiflow.connect("alibaba", region="cn-hangzhou", **options)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiflow_alibaba.sandbox import AlibabaEmulator

__all__ = ["connect_options"]


def connect_options(emulator: AlibabaEmulator, access_key_id: str, **overrides: Any) -> dict[str, Any]:
    """``connect`` options that reach ``emulator`` over plain HTTP with the key ``access_key_id``.

    The key must be registered (``emulator.add_account``); ``overrides`` replace or add options
    (``rate_limit=None``, ``max_attempts=1``...). The result holds the key's secret: pass it on, do not print it.
    """
    settings = emulator.client_settings(access_key_id)
    options: dict[str, Any] = {
        "access_key_id": settings["access_key_id"],
        "access_key_secret": settings["access_key_secret"],
        "endpoint": settings["endpoint"],
        "protocol": settings["protocol"],
    }
    options.update(overrides)
    return options

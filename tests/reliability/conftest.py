"""Fixtures for the reliability suite."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    # The Alibaba SDK sends through $HTTP_PROXY even to 127.0.0.1 (it ignores no_proxy).
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)

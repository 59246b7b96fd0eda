"""ExampleCloud keeps multiflow's provider contract: the conformance suite against the provider's own sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from multiflow.errors import ProviderError
from multiflow.spec import ResourceKind
from multiflow.testing import ConformanceTarget, ProviderConformance, error_samples
from multiflow_example.capabilities import RESOURCE_TYPES
from multiflow_example.cloud import ExampleCloud
from multiflow_example.errors import CODES

#: Sentinel secrets: the suite checks they never show in a repr, an error or a log line.
API_KEY = "SENTINEL-example-5e1f-never-print-me"
WRONG_KEY = "SENTINEL-example-wrong-never-print-me"
BUCKET = "conformance-flowlogs"


class ExampleTarget(ConformanceTarget):
    """What the suite needs, from an ExampleCloud on loopback."""

    provider = "example"
    region = "local-1"
    sdk_modules = ("multiflow_example.api", "multiflow_example.session")
    page_size = 20  # ListFlowLogs' largest page
    wait_timeout = 30.0

    def __init__(self, cloud: ExampleCloud) -> None:
        self.cloud = cloud
        cloud.add_bucket(BUCKET)

    def connect_options(self) -> dict[str, Any]:
        return {"endpoint": self.cloud.endpoint, "api_key": API_KEY, "max_attempts": 2}

    def resources(self, kind: ResourceKind, count: int, tags: Mapping[str, str] | None = None) -> list[str]:
        return [self.cloud.add_resource(self.region, RESOURCE_TYPES[kind], labels=tags) for _ in range(count)]

    def destination(self, kind: str) -> dict[str, Any]:
        return {"kind": "example_bucket", "bucket": BUCKET}

    def missing_resource_id(self, kind: ResourceKind) -> str:
        return "net-missing0"

    def make_stuck(self, flow_log_id: str) -> Any:
        self.cloud.hold(flow_log_id)
        return lambda: self.cloud.hold(flow_log_id, held=False)

    def inject_error(self, code: str) -> AbstractContextManager[object]:
        @contextmanager
        def failing() -> Iterator[None]:
            self.cloud.fail_next("CreateFlowLogs", code, times=10)
            try:
                yield
            finally:
                self.cloud.clear_failures()

        return failing()

    def error_samples(self) -> dict[str, type[ProviderError]]:
        # Our own codes never come from the cloud: sample only what the cloud sends.
        return error_samples(
            {code: cls for code, cls in CODES.items() if code not in {"NoCredentials", "ConnectionError"}}
        )

    def bad_credentials_options(self) -> dict[str, Any]:
        return {**self.connect_options(), "api_key": WRONG_KEY}

    def secrets(self) -> list[str]:
        return [API_KEY, WRONG_KEY]


@pytest.fixture(scope="module")
def conformance_target() -> Iterator[ExampleTarget]:
    """ExampleCloud on loopback with the test key; always stopped. Flow logs are created PROVISIONING and turn
    ACTIVE by the next call (so the suite's waits take no sleep); the stuck-flow-log check holds one there."""
    with ExampleCloud(activation_delay=0.0, deletion_delay=0.0) as cloud:
        cloud.add_api_key(API_KEY)
        yield ExampleTarget(cloud)


class TestExampleConformance(ProviderConformance):
    """multiflow's provider contract, against ExampleCloud."""

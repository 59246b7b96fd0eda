"""ExampleCloud itself, through its client library: authentication, errors, pages, idempotency, states."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from multiflow_example.api import ApiClient, ApiError
from multiflow_example.cloud import ExampleCloud

KEY = "cloud-test-key"


@pytest.fixture
def cloud() -> Iterator[ExampleCloud]:
    with ExampleCloud(activation_delay=0.05, deletion_delay=0.05) as running:
        running.add_api_key(KEY)
        running.add_bucket("logs")
        yield running


def api(cloud: ExampleCloud, key: str = KEY) -> ApiClient:
    return ApiClient(cloud.endpoint, key, timeout=5)


def test_an_unknown_key_is_refused_with_401_and_a_request_id(cloud: ExampleCloud) -> None:
    with pytest.raises(ApiError) as raised:
        api(cloud, "wrong").call("ListFlowLogs", {"region": "local-1"})
    assert (raised.value.code, raised.value.http_status) == ("Unauthenticated", 401)
    assert raised.value.request_id
    assert "wrong" not in repr(api(cloud, "wrong"))


def test_create_reports_per_resource_failures_beside_what_it_made(cloud: ExampleCloud) -> None:
    network = cloud.add_resource("local-1", "network")
    answer = api(cloud).call(
        "CreateFlowLogs",
        {"region": "local-1", "resource_type": "network", "resource_ids": [network, "net-nope"], "bucket": "logs"},
    )
    assert [r["resource_id"] for r in answer["flow_logs"]] == [network]
    assert answer["flow_logs"][0]["state"] == "PROVISIONING"
    assert answer["failures"] == [
        {"resource_id": "net-nope", "code": "ResourceNotFound", "message": "network net-nope does not exist"}
    ]


def test_a_client_token_makes_a_retried_create_return_the_first_answer(cloud: ExampleCloud) -> None:
    network = cloud.add_resource("local-1", "network")
    body = {"region": "local-1", "resource_type": "network", "resource_ids": [network], "bucket": "logs"}
    first = api(cloud).call("CreateFlowLogs", {**body, "client_token": "t-1"})
    again = api(cloud).call("CreateFlowLogs", {**body, "client_token": "t-1"})
    assert again["flow_logs"] == first["flow_logs"]
    duplicate = api(cloud).call("CreateFlowLogs", body)
    assert duplicate["failures"][0]["code"] == "FlowLogExists"


def test_list_pages_twenty_at_a_time_and_states_move_on(cloud: ExampleCloud) -> None:
    networks = [cloud.add_resource("local-1", "network") for _ in range(25)]
    for start in (0, 10, 20):
        api(cloud).call(
            "CreateFlowLogs",
            {
                "region": "local-1",
                "resource_type": "network",
                "resource_ids": networks[start : start + 10],
                "bucket": "logs",
            },
        )
    first = api(cloud).call("ListFlowLogs", {"region": "local-1"})
    assert len(first["flow_logs"]) == 20 and first["next_page_token"]
    second = api(cloud).call("ListFlowLogs", {"region": "local-1", "page_token": first["next_page_token"]})
    assert len(second["flow_logs"]) == 5 and second["next_page_token"] is None
    time.sleep(0.1)
    assert {r["state"] for r in cloud.flow_logs()} == {"ACTIVE"}


def test_injected_failures_answer_with_the_code_and_its_status(cloud: ExampleCloud) -> None:
    cloud.fail_next("ListFlowLogs", "RateLimited")
    with pytest.raises(ApiError) as raised:
        api(cloud).call("ListFlowLogs", {"region": "local-1"})
    assert (raised.value.code, raised.value.http_status) == ("RateLimited", 429)
    assert api(cloud).call("ListFlowLogs", {"region": "local-1"})["flow_logs"] == []

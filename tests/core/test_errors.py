"""multiflow.errors: CodeTable (the most specific rule wins, nothing said is lost), declared fields, pickling."""

from __future__ import annotations

import pickle
import re

import pytest

from multiflow import errors
from multiflow.errors import (
    AlreadyExists,
    AuthError,
    CodeTable,
    Conflict,
    InvalidRequest,
    NotFound,
    ProviderError,
    ServiceError,
    Throttled,
)
from multiflow.model import FlowLog, FlowLogStatus, ResourceRef
from multiflow.spec import ResourceKind

TABLE = CodeTable(
    "testcloud",
    exact={"FlowLogExists": AlreadyExists, "InvalidThing": Conflict, "Busy": Conflict},
    patterns=[
        (r"^Invalid[A-Za-z]*Id\.NotFound$", NotFound),
        (re.compile(r"^Invalid"), InvalidRequest),
        ("Throttling", Throttled),
    ],
    statuses={range(400, 500): InvalidRequest, 401: AuthError, 404: NotFound},  # the range first on purpose
    overrides=[("^Throttling", Throttled), (range(500, 600), ServiceError)],
)


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("FlowLogExists", None, AlreadyExists),  # exact
        ("InvalidThing", None, Conflict),  # exact beats the ^Invalid pattern
        ("InvalidVpcId.NotFound", None, NotFound),  # the more specific pattern, listed first, wins
        ("InvalidVpcId.Malformed", None, InvalidRequest),  # the broader pattern
        ("Api.Throttling.User", None, Throttled),  # a pattern is searched, not only matched at the start
        ("FlowLogExists", 400, AlreadyExists),  # a code rule beats a (non-overriding) status
        ("Whatever", 401, AuthError),  # an exact status...
        ("Whatever", 404, NotFound),  # ...beats the range that holds it, whatever the order given
        ("Whatever", 418, InvalidRequest),
        ("FlowLogExists", 503, ServiceError),  # an overriding status beats even an exact code
        ("Throttling.User", 503, Throttled),  # overrides are tried in order
        ("InvalidThing", 503, ServiceError),
        ("Whatever", None, ProviderError),  # the default
        ("Whatever", 302, ProviderError),
    ],
)
def test_the_most_specific_rule_wins(code: str, status: int | None, cls: type[ProviderError]) -> None:
    assert TABLE.classify(code, status) is cls


def test_error_keeps_everything_the_cloud_said() -> None:
    error = TABLE.error(
        "FlowLogExists",
        "already there",
        request_id="req-9",
        operation="CreateFlowLogs",
        http_status=400,
        resource_id="vpc-1",
    )
    assert type(error) is AlreadyExists
    assert (error.provider, error.code, error.message) == ("testcloud", "FlowLogExists", "already there")
    assert (error.request_id, error.operation, error.http_status, error.resource_id) == (
        "req-9",
        "CreateFlowLogs",
        400,
        "vpc-1",
    )
    assert "(request id req-9)" in str(error)
    assert vars(pickle.loads(pickle.dumps(error))) == vars(error)


def test_retryable_follows_the_class_unless_the_table_or_the_call_says_otherwise() -> None:
    assert TABLE.error("Busy", "m").retryable is True  # Conflict's default
    assert TABLE.error("FlowLogExists", "m").retryable is False
    assert TABLE.error("Busy", "m", retryable=False).retryable is False
    picky = CodeTable("testcloud", {"Busy": Conflict, "Stuck": Conflict}, retryable=lambda code, _: code == "Busy")
    assert picky.error("Busy", "m").retryable is True
    assert picky.error("Stuck", "m").retryable is False  # a Conflict that time will not cure
    assert picky.is_retryable("Stuck") is False


def test_the_default_can_be_another_class_and_rules_must_be_provider_errors() -> None:
    assert CodeTable("x", {}, default=ServiceError).classify("anything") is ServiceError
    with pytest.raises(TypeError, match="not ProviderError classes"):
        CodeTable("x", {"Boom": ValueError})  # type: ignore[dict-item]


def test_the_tables_inputs_stay_readable_for_the_docs_and_cannot_be_changed_behind_its_back() -> None:
    exact = {"A": NotFound}
    table = CodeTable("x", exact, [("^B", Conflict)])
    exact["A"] = Conflict
    assert table.classify("A") is NotFound
    assert dict(table.exact) == {"A": NotFound}
    assert [(p.pattern, cls) for p, cls in table.patterns] == [("^B", Conflict)]
    with pytest.raises(TypeError):
        table.exact["C"] = Conflict  # type: ignore[index]


def test_every_neutral_class_is_exported() -> None:
    assert "CodeTable" in errors.__all__


# -- declared fields, kept through pickling ---------------------------------------------------------------------


def _flow_log() -> FlowLog:
    return FlowLog(
        id="fl-1",
        provider="aws",
        region="us-east-1",
        resource=ResourceRef(kind=ResourceKind.VPC, id="vpc-1"),
        status=FlowLogStatus.ACTIVATING,
    )


def test_spec_error_declares_every_complaint_and_pickles() -> None:
    complaints = [{"loc": ("interval",), "msg": "bad"}, {"loc": ("traffic",), "msg": "worse"}]
    error = errors.SpecError("interval", 7, [60, 600], provider="aws", reason="no", errors=complaints)
    assert error.errors == complaints and errors.SpecError("f", 1, "x").errors == []
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is errors.SpecError and vars(again) == vars(error) and str(again) == str(error)
    unsupported = errors.UnsupportedFeature("dry_run", True, "no dry run", provider="example")
    assert str(pickle.loads(pickle.dumps(unsupported))) == str(unsupported)


def test_wait_timeout_declares_what_was_created_and_pickles() -> None:
    cause = errors.Throttled("aws", "Throttling", "slow down")
    timeout = errors.WaitTimeout(["fl-1"], "active", {"fl-1": "activating"}, 30.0)
    assert timeout.created == []
    timeout.__cause__ = cause
    made = timeout.with_created([_flow_log()])
    assert [f.id for f in made.created] == ["fl-1"] and str(made) == str(timeout) and made.ids == timeout.ids
    again = pickle.loads(pickle.dumps(made))
    assert type(again) is errors.WaitTimeout and vars(again) == vars(made) and str(again) == str(made)


def test_partial_failure_pickles_with_both_sides() -> None:
    failure = errors.PartialFailure(
        "create", [_flow_log()], [errors.ResourceFailure("vpc-2", errors.NotFound("aws", "X.NotFound", "gone"))]
    )
    again = pickle.loads(pickle.dumps(failure))
    assert str(again) == str(failure) and again.succeeded == failure.succeeded
    assert [(f.resource_id, vars(f.error)) for f in again.failed] == [
        (f.resource_id, vars(f.error)) for f in failure.failed
    ]


def test_retry_after_is_a_declared_field_kept_by_about_and_pickling() -> None:
    error = TABLE.error("Api.Throttling.User", "slow", retry_after=0.2, http_status=400)
    assert type(error) is Throttled and error.retry_after == 0.2
    assert error.about("vpc-1").retry_after == 0.2
    assert pickle.loads(pickle.dumps(error)).retry_after == 0.2
    assert TABLE.error("Busy", "m").retry_after is None

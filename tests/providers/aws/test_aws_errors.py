"""Every AWS code named in DESIGN.md lands on exactly one neutral class, keeping code, message and request id."""

from __future__ import annotations

import pytest

from multiflow import errors
from multiflow_aws.errors import ERROR_TABLE, EXACT_CODES

DESIGN_CODES = {
    "FlowLogAlreadyExists": errors.AlreadyExists,
    "FlowLogsLimitExceeded": errors.QuotaExceeded,
    "InvalidParameter": errors.InvalidRequest,
    "InvalidParameterValue": errors.InvalidRequest,
    "InvalidParameterCombination": errors.InvalidRequest,
    "InvalidVpcID.NotFound": errors.NotFound,
    "InvalidSubnetID.NotFound": errors.NotFound,
    "InvalidNetworkInterfaceID.NotFound": errors.NotFound,
    "InvalidFlowLogId.NotFound": errors.NotFound,
    "InvalidTransitGatewayID.NotFound": errors.NotFound,
    "UnauthorizedOperation": errors.AuthError,
    "AuthFailure": errors.AuthError,
    "RequestLimitExceeded": errors.Throttled,
    "ServiceUnavailable": errors.ServiceError,
    "InternalError": errors.ServiceError,
    "DryRunOperation": errors.DryRunSucceeded,
    "InvalidVpcId.Malformed": errors.InvalidRequest,
    "400": errors.InvalidRequest,
    "503": errors.ServiceError,
    "SomethingNew": errors.ProviderError,
}


@pytest.mark.parametrize(("code", "cls"), sorted(DESIGN_CODES.items()))
def test_code_lands_on_its_class(code: str, cls: type[errors.ProviderError]) -> None:
    assert ERROR_TABLE.classify(code) is cls
    error = ERROR_TABLE.error(code, "the message", operation="CreateFlowLogs", request_id="r-1")
    assert type(error) is cls
    assert (error.provider, error.code, error.message, error.request_id) == ("aws", code, "the message", "r-1")
    assert f"{code}: the message (request id r-1)" in str(error)


@pytest.mark.parametrize("code", sorted(EXACT_CODES))
def test_every_exact_code_has_one_class(code: str) -> None:
    assert issubclass(ERROR_TABLE.classify(code), errors.ProviderError)


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (errors.Throttled, True),
        (errors.ServiceError, True),
        (errors.Conflict, True),
        (errors.AuthError, False),
        (errors.InvalidRequest, False),
        (errors.NotFound, False),
    ],
)
def test_retryable_by_class(cls: type[errors.ProviderError], retryable: bool) -> None:
    assert cls("aws", "X", "m").retryable is retryable


def test_provider_errors_pickle_with_everything_kept() -> None:
    import pickle

    error = ERROR_TABLE.error("AuthFailure", "no", operation="X", request_id="r", http_status=401, resource_id="vpc-1")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is errors.AuthError
    assert vars(again) == vars(error)


def test_about_keeps_everything_but_the_resource() -> None:
    error = ERROR_TABLE.error(
        "RequestLimitExceeded", "slow down", operation="CreateFlowLogs", request_id="r", http_status=503
    )
    about = error.about("vpc-1")
    assert type(about) is errors.Throttled and about.resource_id == "vpc-1" and error.resource_id is None
    assert {k: v for k, v in vars(about).items() if k != "resource_id"} == {
        k: v for k, v in vars(error).items() if k != "resource_id"
    }

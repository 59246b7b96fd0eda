"""Capability checks: what a provider cannot take is refused before any call, naming provider, field and allowed."""

from __future__ import annotations

import pytest

from multiflow.errors import SpecError, UnsupportedFeature
from multiflow.spec import FlowLogSpec
from multiflow.validate import check_spec, effective_interval, effective_traffic
from multiflow_aws.capabilities import CAPABILITIES as AWS


def spec(**changes: object) -> FlowLogSpec:
    base = {"resources": {"kind": "vpc", "ids": ["vpc-1"]}, "destination": {"kind": "s3", "bucket": "bucket-x"}}
    return FlowLogSpec(**{**base, **changes})


def test_defaults_come_from_the_capabilities() -> None:
    assert effective_interval(spec(), AWS) == 600
    assert effective_traffic(spec(), AWS).value == "all"
    tgw = spec(resources={"kind": "transit_gateway", "ids": ["tgw-1"]})
    assert effective_interval(tgw, AWS) == 60
    assert effective_traffic(tgw, AWS) is None


def test_finer_policy_picks_the_nearest_finer_interval_and_never_a_coarser_one() -> None:
    assert effective_interval(spec(interval=300, interval_policy="finer"), AWS) == 60
    assert effective_interval(spec(interval=3600, interval_policy="finer"), AWS) == 600
    with pytest.raises(SpecError, match="interval=30 is not allowed"):
        effective_interval(spec(interval=30, interval_policy="finer"), AWS)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            {"interval": 120},
            SpecError,
            "aws: interval=120 is not allowed (seconds, for vpc; set interval_policy: finer",
        ),
        ({"description": "d"}, UnsupportedFeature, "aws does not support description='d'"),
        ({"fields": ["tgw_id"]}, SpecError, "aws: fields[0]='tgw_id' is not allowed"),
        ({"tags": {"aws:owner": "x"}}, SpecError, "aws: tags.aws:owner='aws:owner' is not allowed; allowed: keys not"),
        ({"tags": {"multiflow:managed": "x"}}, SpecError, "kept for multiflow"),
        ({"tags": {"k" * 128: "v"}}, SpecError, "keys of 1 to 127 characters"),
        ({"tags": {"k": "v" * 257}}, SpecError, "values of at most 256 characters"),
        ({"tags": {f"k{n}": "v" for n in range(49)}}, SpecError, "tags='49 tags' is not allowed; allowed: at most 48"),
        (
            {"destination": {"kind": "sls", "project": "p", "logstore": "l"}},
            UnsupportedFeature,
            "aws does not support destination.kind='sls'",
        ),
    ],
)
def test_capability_refusals(changes: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        check_spec(spec(**changes), AWS)
    assert message in str(caught.value)
    assert caught.value.provider == "aws"

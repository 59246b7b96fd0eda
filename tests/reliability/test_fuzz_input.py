"""Fuzzed input: specs built from dicts of any shape, and fleet files of any text.

Only a SpecError (a FleetError for files), naming the field, the value and what is allowed, may come out; and when
a spec or a fleet is refused, no request reaches either cloud (counted on the wire: boto3's before-send hook for
AWS, the emulator's own call counter for Alibaba). ``MULTIFLOW_FUZZ_EXAMPLES`` sets the examples per test (300).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import multiflow
from multiflow.client import Connections
from multiflow.errors import SpecError
from multiflow.fleet import FleetError, loads
from multiflow.validate import validate_fleet
from multiflow_alibaba.sandbox_support import connect_options
from multiflow_alibaba_emulator import AlibabaEmulator
from multiflow_aws.fault_proxy import FaultProxy

EXAMPLES = int(os.environ.get("MULTIFLOW_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
#: Inputs tried, by test: the figures docs/reliability.md records (printed with ``-s``).
TRIED: Counter[str] = Counter()

pytestmark = pytest.mark.timeout(600)


def fuzzed(counter: str, run: Callable[[], None], floor: int) -> None:
    """Run a hypothesis property, then fail unless ``counter`` grew by at least ``floor``: a property that saw (next
    to) no input of interest proves nothing, and must not pass as if it did."""
    before = TRIED[counter]
    run()
    tried = TRIED[counter] - before
    assert tried >= floor, f"{counter}: {tried} inputs tried, fewer than {floor}; the fuzzing tried next to nothing"


#: Every example runs the body of a property (a floor of half leaves room for hypothesis' own bookkeeping) ...
EVERY = EXAMPLES // 2
#: ... and at least this many reach its interesting branch (a refusal handed on to create or plan): about a
#: tenth do at the default size, so a fiftieth fails only if the generators stopped producing them.
SOME = EXAMPLES // 50

# -- strategies -------------------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        ["", " ", "vpc-0abc", "all", "s3", "sls", "60", "600", "http://x", "aws:x", "acs:x", "\x00", "é" * 3]
    ),
)
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)
KINDS = ["vpc", "subnet", "network_interface", "transit_gateway", "transit_gateway_attachment", "regional_nat_gateway"]
ids = st.lists(
    st.one_of(
        st.sampled_from(["vpc-0abc", "subnet-1", "vsw-bp1abc", "eni-1", "tgw-1", "vpc-0abc"]), st.text(max_size=20)
    ),
    max_size=4,
)
resources = st.fixed_dictionaries(
    {"kind": st.one_of(st.sampled_from(KINDS), anything)}, optional={"ids": st.one_of(ids, anything)}
)
destinations = st.one_of(
    st.fixed_dictionaries(
        {
            "kind": st.just("s3"),
            "bucket": st.sampled_from(["arn:aws:s3:::central-logs", "central-logs", "B", "x" * 80]),
        },
        optional={
            "prefix": st.sampled_from(["prod/", "/abs", "AWSLogs/x", ""]),
            "file_format": st.sampled_from(["plain_text", "parquet", "csv"]),
            "hive_compatible_partitions": anything,
        },
    ),
    st.fixed_dictionaries(
        {"kind": st.just("cloudwatch_logs"), "log_group": st.text(max_size=30)},
        optional={"role_arn": st.sampled_from(["arn:aws:iam::123456789012:role/flow", "role", ""])},
    ),
    st.fixed_dictionaries(
        {"kind": st.just("firehose"), "stream_arn": st.text(max_size=30)},
        optional={"role_arn": st.text(max_size=10)},
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("sls"),
            "project": st.sampled_from(["central-flowlogs", "Bad_Project", "ab"]),
            "logstore": st.text(max_size=70),
        }
    ),
    st.dictionaries(st.sampled_from(["kind", "bucket", "project", "logstore", "extra"]), anything, max_size=4),
)
#: Values close to what a spec takes, per key: most are valid for some provider, many are not.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "resources": resources,
    "destination": destinations,
    "traffic": st.sampled_from(["all", "accept", "reject", "ALL", "Allow"]),
    "interval": st.sampled_from([60, 300, 600, 61, 0, -1, 86401, 120]),
    "interval_policy": st.sampled_from(["exact", "finer", "coarser"]),
    "fields": st.lists(st.sampled_from(["version", "src_addr", "dst_addr", "action", "nope", "Bad"]), max_size=4),
    "name": st.text(max_size=300),
    "description": st.text(max_size=300),
    "tags": st.dictionaries(st.text(max_size=140), st.text(max_size=300), max_size=25),
    "aws": st.fixed_dictionaries(
        {},
        optional={
            "cross_account_role": st.sampled_from(["arn:aws:iam::123456789012:role/x", "role"]),
            "tag_fields": st.lists(
                st.fixed_dictionaries(
                    {"resource_type": st.sampled_from(["instance", "vm"]), "keys": st.lists(st.text(max_size=5))}
                ),
                max_size=3,
            ),
        },
    ),
    "alibaba": st.fixed_dictionaries(
        {},
        optional={
            "traffic_paths": st.lists(st.sampled_from(["all", "natGateway", "vbr", "bogus"]), max_size=3),
            "ip_version": st.sampled_from(["IPv4", "DualStack", "IPv6"]),
            "resource_group_id": st.sampled_from(["rg-acfm1", "RG-1", ""]),
        },
    ),
    "options": st.dictionaries(st.sampled_from(["aws", "gcp"]), st.dictionaries(st.text(max_size=5), scalars)),
    "extra_key": anything,
}
#: Specs each valid for one provider: the fuzzer changes a few keys of one.
VALID_SPECS = [
    {"resources": {"kind": "vpc", "ids": ["vpc-0abc"]}, "destination": {"kind": "s3", "bucket": "central-logs"}},
    {
        "resources": {"kind": "subnet", "ids": ["vsw-bp1abc", "vsw-bp1def"]},
        "destination": {"kind": "sls", "project": "central-flowlogs", "logstore": "prod"},
        "interval": 300,
    },
]


@st.composite
def near_valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec with up to three keys replaced (or dropped) by plausible values."""
    data = dict(draw(st.sampled_from(VALID_SPECS)))
    for key in draw(st.lists(st.sampled_from(sorted(PLAUSIBLE)), max_size=3, unique=True)):
        if draw(st.booleans()) and key in data:
            del data[key]
        else:
            data[key] = draw(st.one_of(PLAUSIBLE[key], anything) if draw(st.integers(0, 9)) == 0 else PLAUSIBLE[key])
    return data


spec_dicts = st.one_of(
    near_valid_specs(),
    st.dictionaries(st.sampled_from(sorted(PLAUSIBLE)), anything, max_size=6),
)


def well_formed(error: SpecError) -> bool:
    """A SpecError names a field (a non-empty string), carries the value, and says what is allowed."""
    return isinstance(error.field, str) and bool(error.field) and hasattr(error, "value") and error.allowed is not None


# -- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clouds(aws_sandbox: Any) -> Iterator[Clouds]:
    """Both clouds, each behind a counter of the requests it receives: a fault-free proxy in front of moto, and a
    fresh Alibaba emulator (its own call counter)."""
    with FaultProxy(aws_sandbox.endpoint_url) as proxy, AlibabaEmulator() as emu:
        emu.add_account("LTAI5tFuzzTests000000001", "fuzz-tests-secret")
        yield Clouds(aws_sandbox, proxy, emu)


class Clouds:
    """Where the fuzz tests may send requests, and how many arrived."""

    def __init__(self, aws: Any, proxy: FaultProxy, emu: AlibabaEmulator) -> None:
        self.aws, self.proxy, self.emu = aws, proxy, emu
        self.clients = {"aws": multiflow.connect("aws", region="us-east-1", **self.options("aws", "us-east-1"))}
        self.clients["alibaba"] = multiflow.connect("alibaba", region="cn-hangzhou", **self.options("alibaba", ""))

    def options(self, provider: str, region: str) -> dict[str, Any]:
        if provider == "aws":
            return self.aws.connect_options(proxy=self.proxy)
        return connect_options(self.emu, "LTAI5tFuzzTests000000001", rate_limit=None)

    def received(self) -> int:
        return sum(self.proxy.calls.values()) + sum(self.emu.calls.values())


# -- specs --------------------------------------------------------------------------------------------------------


@FUZZ
@given(data=spec_dicts)
def _spec_from_a_dict(data: dict[str, Any]) -> None:
    TRIED["spec dicts"] += 1
    try:
        multiflow.FlowLogSpec(**data)
    except SpecError as exc:
        assert well_formed(exc), repr(exc)


def test_specs_from_any_dict_are_built_or_refused_with_a_spec_error() -> None:
    fuzzed("spec dicts", _spec_from_a_dict, EVERY)


@FUZZ
@given(data=spec_dicts)
def _refused_spec_makes_no_call(clouds: Clouds, data: dict[str, Any]) -> None:
    try:
        spec = multiflow.FlowLogSpec(**data)
    except SpecError:
        return
    TRIED["specs checked against both providers"] += 1
    for client in clouds.clients.values():
        try:
            client.validate(spec)
        except SpecError as exc:
            assert well_formed(exc), repr(exc)
            received = clouds.received()
            with pytest.raises(SpecError):
                client.create(spec)
            assert clouds.received() == received, "a refused spec reached the cloud"
            TRIED["refused specs sent to create"] += 1


def test_a_refused_spec_makes_no_call_on_either_cloud(clouds: Clouds) -> None:
    fuzzed("refused specs sent to create", lambda: _refused_spec_makes_no_call(clouds=clouds), SOME)


# -- fleet files ----------------------------------------------------------------------------------------------------

NASTY_YAML = [
    "",
    "~",
    "[]",
    "- 1\n- 2",
    "&a [*a]",
    "flow_logs: &a [*a]",
    "flow_logs: &a {x: *a}",
    "a: &a [*a, *a]\nflow_logs: *a",
    "!!python/object/apply:os.system ['true']",
    "flow_logs: !!binary aGVsbG8=",
    "flow_logs:\n  - name: x\n    name: y",
    "? [1, 2]\n: 3",
    "{1: 2, 3: 4}",
    *(
        f"flow_logs: [{{name: a, provider: aws, regions: [us-east-1], resources: {{kind: vpc, ids: [v]}}, {extra}}}]"
        for extra in ("interval: .inf", "interval: .nan", "interval: 1e400", "name: 2026-01-01", "tags: {a: [1]}")
    ),
    "name: [x]\nflow_logs: []",
    "defaults: 3\nflow_logs: [1]",
    "flow_logs:\n" + "  " * 200 + "- x",
    "[" * 500 + "]" * 500,
    "\t- tab",
    "flow_logs: [{name: a, provider: nope, regions: [r], resources: {kind: vpc, ids: [v]}, destination: {kind: s3}}]",
    '"\\ud800"',
    "\ufeffflow_logs: []",
]


def fleet_entry() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "name": st.one_of(st.sampled_from(["prod-vpcs", "a", "bad name", "x" * 70]), anything),
            "provider": st.one_of(st.sampled_from(["aws", "alibaba", "nope", ""]), anything),
            "regions": st.one_of(
                st.lists(st.sampled_from(["us-east-1", "cn-hangzhou", "us-east-1", ""]), max_size=3), anything
            ),
            "resources": st.one_of(
                st.fixed_dictionaries(
                    {"kind": st.sampled_from(KINDS)},
                    optional={
                        "ids": ids,
                        "where": st.dictionaries(
                            st.sampled_from(["tag:env", "env", "tag:", "tag:x"]), st.text(max_size=5)
                        ),
                    },
                ),
                anything,
            ),
            "destination": st.one_of(destinations, anything),
            "interval": st.one_of(st.sampled_from([60, 300, 600, 61]), anything),
            "traffic": st.one_of(st.sampled_from(["all", "reject"]), anything),
            "tags": st.one_of(st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3), anything),
            "alibaba": anything,
            "fields": anything,
            "bogus": anything,
        },
    )


#: A fleet valid for both providers: the fuzzer changes a few of its keys.
VALID_FLEET: dict[str, Any] = {
    "name": "netops",
    "defaults": {"traffic": "all", "interval": 60, "tags": {"team": "netops"}},
    "flow_logs": [
        {
            "name": "prod-vpcs",
            "provider": "aws",
            "regions": ["us-east-1"],
            "resources": {"kind": "vpc", "where": {"tag:env": "prod"}},
            "destination": {"kind": "s3", "bucket": "arn:aws:s3:::central-flowlogs", "prefix": "prod/"},
        },
        {
            "name": "prod-vswitches",
            "provider": "alibaba",
            "regions": ["cn-hangzhou"],
            "resources": {"kind": "subnet", "ids": ["vsw-bp1abc"]},
            "destination": {"kind": "sls", "project": "central-flowlogs", "logstore": "prod"},
            "interval": 300,
        },
    ],
}


@st.composite
def near_valid_fleets(draw: st.DrawFn) -> dict[str, Any]:
    """The valid fleet with up to three keys of an entry, of the defaults or of the top changed or dropped."""
    doc = {
        **VALID_FLEET,
        "defaults": dict(VALID_FLEET["defaults"]),
        "flow_logs": [dict(e) for e in VALID_FLEET["flow_logs"]],
    }
    entry_keys = sorted(set(draw(fleet_entry()).keys()) | {"name", "provider", "regions", "resources", "destination"})
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["entry", "entry", "defaults", "top"]))
        if where == "entry" and isinstance(doc.get("flow_logs"), list) and doc["flow_logs"]:
            target = draw(st.sampled_from(doc["flow_logs"]))
            key = draw(st.sampled_from(entry_keys))
            value_source = fleet_entry().map(lambda e, k=key: e.get(k))
        elif where == "defaults" and isinstance(doc.get("defaults"), dict):
            target, key = doc["defaults"], draw(st.sampled_from(sorted(PLAUSIBLE)))
            value_source = PLAUSIBLE[key]
        else:
            target, key = doc, draw(st.sampled_from(["name", "defaults", "flow_logs", "surplus"]))
            value_source = anything
        if not isinstance(target, dict):
            continue
        if draw(st.booleans()) and key in target:
            del target[key]
        else:
            target[key] = draw(value_source)
    return doc


fleet_docs = st.one_of(
    near_valid_fleets(),
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.one_of(st.sampled_from(["netops", "bad name!"]), anything),
            "defaults": anything,
            "flow_logs": st.one_of(st.lists(fleet_entry(), max_size=3), anything),
            "surplus": anything,
        },
    ),
)


def refused_as_fleet_error(text: str) -> None:
    """``loads`` and ``validate_fleet`` either accept ``text`` or raise a located, well-formed FleetError."""
    try:
        fleet = loads(text, source="fuzz.yaml")
        validate_fleet(fleet)
    except FleetError as exc:
        assert well_formed(exc) and exc.source == "fuzz.yaml", repr(exc)
        assert str(exc).startswith("fuzz.yaml:")


@pytest.mark.parametrize("text", NASTY_YAML, ids=range(len(NASTY_YAML)))
def test_nasty_yaml_is_a_fleet_error(text: str) -> None:
    TRIED["fleet files (hand-picked)"] += 1
    refused_as_fleet_error(text)


@FUZZ
@given(text=st.text(max_size=300))
def _fleet_file_of_any_text(text: str) -> None:
    TRIED["fleet files (any text)"] += 1
    refused_as_fleet_error(text)


def test_fleet_files_of_any_text_are_read_or_refused_with_a_fleet_error() -> None:
    fuzzed("fleet files (any text)", _fleet_file_of_any_text, EVERY)


@FUZZ
@given(doc=fleet_docs, flow_style=st.booleans())
def _fleet_file_of_any_shape(doc: dict[str, Any], flow_style: bool) -> None:
    TRIED["fleet files (any shape)"] += 1
    try:
        text = yaml.safe_dump(doc, default_flow_style=flow_style, allow_unicode=True)
    except yaml.YAMLError:
        return
    refused_as_fleet_error(text)


def test_fleet_files_of_any_shape_are_read_or_refused_with_a_fleet_error() -> None:
    fuzzed("fleet files (any shape)", _fleet_file_of_any_shape, EVERY)


#: The valid fleet with a selector on a kind AWS takes flow logs on but multiflow cannot list (NAT gateways):
#: it passes every check of the spec, and plan must still refuse it before reading anything.
UNLISTABLE_SELECTOR: dict[str, Any] = {
    **VALID_FLEET,
    "flow_logs": [
        {**VALID_FLEET["flow_logs"][0], "resources": {"kind": "regional_nat_gateway", "where": {"tag:env": "prod"}}},
        VALID_FLEET["flow_logs"][1],
    ],
}


@FUZZ
@given(doc=fleet_docs)
@example(doc=UNLISTABLE_SELECTOR)
def _refused_fleet_makes_no_call(clouds: Clouds, doc: dict[str, Any]) -> None:
    text = yaml.safe_dump(doc)
    try:
        fleet = loads(text, source="fuzz.yaml")
    except FleetError:
        return  # not even a fleet: nothing to plan
    received = clouds.received()
    try:
        validate_fleet(fleet)
    except FleetError:
        TRIED["refused fleets sent to plan"] += 1
        with Connections(clouds.options) as connections, pytest.raises(FleetError):
            multiflow.plan(fleet, connections)
        assert clouds.received() == received, "a refused fleet reached the cloud"
        return
    # Valid as far as validate can tell: plan reads the clouds, and whatever it refuses, it refuses before that.
    TRIED["valid fleets planned"] += 1
    with Connections(clouds.options) as connections:
        try:
            multiflow.plan(fleet, connections)
        except SpecError as exc:
            assert clouds.received() == received, f"plan refused a fleet validate took, after calls: {exc}"
            raise AssertionError(f"validate took a fleet plan refuses: {exc}") from None


def test_a_refused_fleet_makes_no_call_on_either_cloud(clouds: Clouds) -> None:
    fuzzed("refused fleets sent to plan", lambda: _refused_fleet_makes_no_call(clouds=clouds), SOME)


def test_zz_report_how_many_inputs_were_fuzzed() -> None:
    """Prints the counts (shown with ``-s``); each property above checks its own."""
    print("\ninputs fuzzed:", dict(TRIED), "total", sum(TRIED.values()))

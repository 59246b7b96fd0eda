"""Hostile and careless fleet files (issue #17): each is a clear, located multiflow error before any call.

Nothing here needs a sandbox: every refusal happens while reading or validating, which makes no call at all.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

import multiflow
from multiflow.errors import SpecError
from multiflow.fleet import MAX_FLEET_BYTES, FleetError, load, loads
from multiflow.spec import FlowLogSpec
from multiflow.validate import EXTRA_REGIONS_VARIABLE, check_region, check_spec, validate_fleet
from multiflow_alibaba.capabilities import CAPABILITIES as ALIBABA
from multiflow_aws.capabilities import CAPABILITIES as AWS

GOOD = """\
name: hostile
defaults:
  traffic: all
  interval: 60
  tags: {team: netops}
flow_logs:
  - name: prod
    provider: aws
    regions: [us-east-1]
    resources: {kind: vpc, ids: [vpc-0abc]}
    destination: {kind: s3, bucket: "arn:aws:s3:::central"}
"""


def refused(text: str) -> FleetError:
    with pytest.raises(FleetError) as caught:
        validate_fleet(loads(text, source="fleet.yaml"))
    return caught.value


def test_the_good_file_passes() -> None:
    validate_fleet(loads(GOOD))


# -- YAML: duplicates, aliases, tags, YAML 1.2 --------------------------------------------------------------------


def test_a_second_flow_logs_block_is_refused_not_a_silent_replacement() -> None:
    second = (
        "flow_logs:\n  - {name: other, provider: aws, regions: [us-east-1], resources: {kind: vpc, ids: [vpc-1]}}\n"
    )
    error = refused(GOOD + second)
    assert (error.line, error.column, error.field) == (12, 1, "flow_logs")
    assert "already given on line 6" in str(error) and "each key once" in str(error)


def test_a_repeated_name_or_setting_inside_an_entry_is_refused() -> None:
    error = refused(GOOD + "    name: renamed\n    traffic: all\n    traffic: accept\n")
    assert [p.field for p in error.problems] == ["flow_logs[0].name", "flow_logs[0].traffic"]
    assert [p.line for p in error.problems] == [12, 14]


def test_billion_laughs_ends_at_once_with_a_clear_error() -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 12)]
    text = "\n".join(levels) + "\n" + GOOD.replace("name: hostile", "name: hostile\ndescription: *a11")
    error = refused(text)
    assert error.field == "alias" and error.line == 2 and "no aliases" in str(error)
    assert len(str(error)) < 300


def test_a_merge_key_is_an_alias_too() -> None:
    error = refused(GOOD.replace("defaults:\n", "base: &base {traffic: all}\ndefaults:\n  <<: *base\n"))
    assert error.field == "alias"


@pytest.mark.parametrize(
    "tagged", ["fields: !!set {srcaddr: null, dstaddr: null}", "description: !!python/object/apply:os.getcwd []"]
)
def test_explicit_tags_are_refused(tagged: str) -> None:
    error = refused(GOOD + "    " + tagged + "\n")
    assert error.field == "tag" and error.line == 12 and "no explicit tags" in str(error)


def test_yaml_1_2_yes_is_a_string() -> None:
    fleet = loads(GOOD.replace("{team: netops}", "{team: netops, legacy: yes, off: no}"))
    spec = fleet.targets()[0].spec
    assert spec.tags == {"team": "netops", "legacy": "yes", "off": "no"}


@pytest.mark.parametrize(("written", "allowed"), [("0x3C", "decimal integer"), ("0o74", "decimal integer")])
def test_numbers_in_other_bases_are_refused(written: str, allowed: str) -> None:
    error = refused(GOOD.replace("interval: 60", f"interval: {written}"))
    assert error.field == "defaults.interval" and allowed in str(error) and error.line == 4


@pytest.mark.parametrize("written", ['"60"', "1:00", "true", "60.0"])
def test_an_interval_is_an_integer_not_something_that_converts_to_one(written: str) -> None:
    error = refused(GOOD.replace("interval: 60", f"interval: {written}"))
    assert error.field == "defaults.interval" and (error.line, error.column) == (4, 3)


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ('hive_compatible_partitions: "yes"', "destination.hive_compatible_partitions"),
        ("per_hour_partition: 1", "destination.per_hour_partition"),
    ],
)
def test_a_providers_destination_is_as_strict_as_the_rest_of_the_file(setting: str, field: str) -> None:
    error = refused(GOOD.replace('bucket: "arn:aws:s3:::central"', f'bucket: "arn:aws:s3:::central", {setting}'))
    assert error.field == f"flow_logs[0].{field}" and "valid boolean" in str(error)


def test_a_providers_options_block_is_as_strict_as_the_rest_of_the_file() -> None:
    error = refused(GOOD + "    aws: {cross_account_role: 12}\n")
    assert error.field == "flow_logs[0].options.aws.cross_account_role" and error.line == 12


# -- reading the file ----------------------------------------------------------------------------------------------


def test_a_file_larger_than_the_bound_is_refused_unparsed(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as out:
        out.write(GOOD.encode())
        out.write(b"# " + b"x" * (MAX_FLEET_BYTES + 1) + b"\n")
    with pytest.raises(FleetError, match=f"a file of at most {MAX_FLEET_BYTES} bytes"):
        load(path)


def test_a_device_is_refused_without_reading_it() -> None:
    with pytest.raises(FleetError, match=r"\(it is a device or socket\); allowed: a regular file"):
        load("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fleet.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: _capture(outcome, load, fifo), daemon=True)
    reader.start()
    reader.join(30)
    if reader.is_alive():  # it blocks: unblock it with a writer so that the thread ends, then fail
        with open(fifo, "wb") as writer:
            writer.write(b"x")
        pytest.fail("load() blocked on a FIFO")
    assert isinstance(outcome[0], FleetError) and "it is a FIFO" in str(outcome[0])


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match=r"\(it is a directory\); allowed: a regular file"):
        load(tmp_path)


def test_a_file_that_is_not_utf8_names_the_byte_and_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.replace("team: netops", "team: r\xe9seau").encode("latin-1"))
    with pytest.raises(FleetError) as caught:
        load(path)
    offset = GOOD.encode().index(b"netops") + 1
    assert caught.value.field == "encoding" and caught.value.line == 5
    assert f"byte 0xe9 at offset {offset}" in str(caught.value) and "UTF-8 text" in str(caught.value)


def _capture(outcome: list[BaseException], function: Any, *args: Any) -> None:
    try:
        function(*args)
    except BaseException as exc:
        outcome.append(exc)


# -- every problem at once, located, with suggestions -------------------------------------------------------------


def test_every_problem_of_the_file_is_reported_at_once_with_line_column_and_suggestion() -> None:
    text = GOOD.replace("    destination:", "    destinaton:") + (
        "  - name: second\n"
        "    provider: alibaba\n"
        "    regions: [cn-hangzou]\n"
        "    resources: {kind: subnet, ids: [vsw-ok, 'http://169.254.169.254/latest']}\n"
        "    destination: {kind: sls, project: p, logstore: l}\n"
        "  - name: third\n"
        "    provider: aws\n"
        "    regions: [us-east-1]\n"
        "    resources: {kind: vpc, where: {}}\n"
        "    destination: {kind: s3, bucket: 'arn:aws:s3:::central'}\n"
    )
    with pytest.raises(FleetError) as caught:
        loads(text, source="fleet.yaml")
    parsed = caught.value
    assert [p.field for p in parsed.problems] == ["flow_logs[0].destinaton", "flow_logs[2].resources"]
    assert (parsed.problems[0].line, parsed.problems[0].column) == (11, 5)
    assert "did you mean `destination`?" in str(parsed)
    assert "where: {} would select every resource" in str(parsed)
    assert str(parsed).startswith("fleet.yaml:11:5: flow_logs[0].destinaton=")
    line, column = parsed.problems[1].line, parsed.problems[1].column
    assert (line, column) == (20, 16)
    listed = f"; and 1 more problem(s) found in this pass:\n  fleet.yaml:{line}:{column}: flow_logs[2].resources="
    assert listed in str(parsed)

    fixed = text.replace("destinaton:", "destination:").replace("where: {}", "where: {'tag:env': prod}")
    validated = refused(fixed)
    assert [p.field for p in validated.problems] == ["flow_logs[1].regions[0]", "flow_logs[1].resources.ids[1]"]
    assert [(p.line, p.column) for p in validated.problems] == [(14, 15), (15, 45)]
    assert "did you mean cn-hangzhou" in str(validated)


def test_an_error_never_echoes_a_huge_value(tmp_path: Path) -> None:
    huge = "d" * 5_000_000
    path = tmp_path / "fleet.yaml"
    path.write_text(GOOD.replace("provider: aws", "provider: alibaba") + f"    description: {huge}\n")
    with pytest.raises(FleetError) as caught:
        validate_fleet(load(path))
    assert len(str(caught.value)) < 2000 and "(5000000 characters)" in str(caught.value)


# -- regions -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caps", "region", "suggestion"),
    [
        (ALIBABA, "x@attacker:443/", None),
        (ALIBABA, "cn-hangzou", "cn-hangzhou"),
        (AWS, "us-east-1; rm -rf /", None),
        (AWS, "us-e\u0430st-1", "us-east-1"),  # a Cyrillic a
        (AWS, "US-EAST-1", "us-east-1"),
        (AWS, "us-east-9", None),
        (AWS, "", None),
    ],
)
def test_unknown_regions_are_refused_with_the_closest_real_names(caps: Any, region: str, suggestion: str) -> None:
    with pytest.raises(SpecError) as caught:
        check_region(region, caps, field="regions[0]")
    assert caught.value.field == "regions[0]" and caught.value.provider == caps.provider
    if suggestion:
        assert f"did you mean {suggestion}" in str(caught.value)


def test_known_regions_pass_and_a_newer_one_only_by_name_and_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_region("cn-hangzhou", ALIBABA) == "cn-hangzhou"
    assert check_region("eu-west-1", AWS) == "eu-west-1"
    monkeypatch.setenv(EXTRA_REGIONS_VARIABLE, "us-east-9, x@attacker")
    assert check_region("us-east-9", AWS) == "us-east-9"
    with pytest.raises(SpecError, match="lower-case ASCII"):
        check_region("x@attacker", AWS)


class _Listener:
    """A loopback socket that counts the connections it is offered (and answers none)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("MULTIFLOW_ALIBABA_ENDPOINT", raising=False)
    monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    made = _Listener()
    yield made
    made.close()


FAKE_KEYS = {"access_key_id": "LTAIfakefakefake", "access_key_secret": "not-a-secret", "protocol": "http"}


def test_a_region_that_would_redirect_the_alibaba_endpoint_is_refused_before_a_client(listener: _Listener) -> None:
    region = f"x@127.0.0.1:{listener.port}/"
    with pytest.raises(SpecError, match=r"region=.*not allowed \(lower-case ASCII"):
        multiflow.connect("alibaba", region, **FAKE_KEYS)
    fleet = loads(GOOD.replace("provider: aws", "provider: alibaba").replace("[us-east-1]", f"['{region}']"))
    with pytest.raises(FleetError, match=r"regions\[0\]"):
        multiflow.plan(fleet)
    assert listener.accepted == 0


def test_the_alibaba_transport_refuses_such_a_region_itself(listener: _Listener) -> None:
    from multiflow_alibaba.session import AlibabaSession

    region = f"x@127.0.0.1:{listener.port}/"
    with pytest.raises(SpecError, match="an Alibaba region name"):
        session = AlibabaSession(region, max_attempts=1, connect_timeout=1, read_timeout=1, **FAKE_KEYS)  # type: ignore[arg-type]
        session.describe(multiflow.provider.DescribeQuery())
    assert listener.accepted == 0


# -- resource ids --------------------------------------------------------------------------------------------------


def _spec(kind: str, *ids: str, destination: dict[str, str] | None = None) -> FlowLogSpec:
    return FlowLogSpec(
        resources={"kind": kind, "ids": list(ids)},
        destination=destination or {"kind": "s3", "bucket": "arn:aws:s3:::central"},
    )


SLS = {"kind": "sls", "project": "p", "logstore": "l"}


@pytest.mark.parametrize(
    ("caps", "spec", "index"),
    [
        (AWS, _spec("vpc", "vpc-0abc", "subnet-0abc"), 1),
        (AWS, _spec("vpc", "http://169.254.169.254/latest"), 0),
        (AWS, _spec("vpc", "vpc-../../etc/passwd"), 0),
        (AWS, _spec("transit_gateway_attachment", "tgw-0abc"), 0),
        (AWS, _spec("network_interface", "eni-0abc", "eni-0ABC"), 1),
        (ALIBABA, _spec("subnet", "vpc-bp1", destination=SLS), 0),
        (ALIBABA, _spec("vpc", "vpc-bp1", "vpc-bp1/../x", destination=SLS), 1),
    ],
)
def test_ids_not_of_the_providers_form_are_refused_naming_the_index(caps: Any, spec: FlowLogSpec, index: int) -> None:
    with pytest.raises(SpecError) as caught:
        check_spec(spec, caps)
    assert caught.value.field == f"resources.ids[{index}]" and caught.value.provider == caps.provider
    assert caught.value.value == spec.resources.ids[index]


def test_ids_of_the_providers_form_pass() -> None:
    check_spec(_spec("vpc", "vpc-0123456789abcdef0", "vpc-1"), AWS)
    check_spec(_spec("transit_gateway_attachment", "tgw-attach-0abc"), AWS)
    check_spec(_spec("subnet", "vsw-bp1abc", destination=SLS), ALIBABA)


# -- the figures: every hostile file through plan, connections counted at a socket -------------------------------

ALI = GOOD.replace("provider: aws", "provider: alibaba").replace("[us-east-1]", "[cn-hangzhou]")
ALI = ALI.replace("{kind: vpc, ids: [vpc-0abc]}", "{kind: subnet, ids: [vsw-bp1abc]}")
ALI = ALI.replace('{kind: s3, bucket: "arn:aws:s3:::central"}', "{kind: sls, project: flow-project, logstore: l}")
LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)
)
HOSTILE: dict[str, str] = {
    "second flow_logs block": GOOD + "flow_logs:\n  - {name: x, provider: aws}\n",
    "repeated name": GOOD + "    name: again\n",
    "repeated top-level name": GOOD + "name: other\n",
    "billion laughs": LAUGHS + GOOD,
    "merge key": GOOD.replace("defaults:\n", "b: &b {traffic: all}\ndefaults:\n  <<: *b\n"),
    "!!set fields": GOOD + "    fields: !!set {srcaddr: null}\n",
    "!!python tag": GOOD + "    description: !!python/object/apply:os.getcwd []\n",
    "interval '60'": GOOD.replace("interval: 60", 'interval: "60"'),
    "interval 0x3C": GOOD.replace("interval: 60", "interval: 0x3C"),
    "interval 1:00": GOOD.replace("interval: 60", "interval: 1:00"),
    "interval true": GOOD.replace("interval: 60", "interval: true"),
    "where {}": GOOD.replace("ids: [vpc-0abc]", "where: {}"),
    "unknown key": GOOD.replace("    destination:", "    destinaton:"),
    "alibaba region redirect": ALI.replace("[cn-hangzhou]", "['x@127.0.0.1:1/']"),
    "alibaba region typo": ALI.replace("[cn-hangzhou]", "[cn-hangzou]"),
    "aws region injection": GOOD.replace("[us-east-1]", "['us-east-1; rm -rf /']"),
    "aws region cyrillic": GOOD.replace("[us-east-1]", "[us-e\u0430st-1]"),
    "aws unknown region": GOOD.replace("[us-east-1]", "[us-east-9]"),
    "metadata url id": GOOD.replace("ids: [vpc-0abc]", "ids: ['http://169.254.169.254/latest']"),
    "path traversal id": GOOD.replace("ids: [vpc-0abc]", "ids: ['vpc-../../etc/passwd']"),
    "subnet id as vpc": GOOD.replace("ids: [vpc-0abc]", "ids: [subnet-0abc]"),
    "alibaba vpc id as subnet": ALI.replace("vsw-bp1abc", "vpc-bp1abc"),
    "huge description": ALI + "    description: " + "d" * 1_000_000 + "\n",
    "empty document": "",
    "a list": "- flow_logs\n",
}


@pytest.fixture
def counted(listener: _Listener, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Connections to both clouds, each pointed at the counting socket."""
    endpoint = f"127.0.0.1:{listener.port}"
    aws = {"endpoint_url": f"http://{endpoint}", "aws_access_key_id": "fake", "aws_secret_access_key": "fake"}

    def options(provider: str, region: str) -> dict[str, Any]:
        return aws if provider == "aws" else {**FAKE_KEYS, "endpoint": endpoint, "max_attempts": 1}

    with multiflow.Connections(options) as made:
        yield made


def test_every_hostile_file_is_a_clear_error_before_any_connection(
    counted: multiflow.Connections, listener: _Listener
) -> None:
    outcomes: dict[str, str] = {}
    for label, text in HOSTILE.items():
        try:
            multiflow.plan(loads(text, source="hostile.yaml"), counted)
        except FleetError as exc:
            assert str(exc).startswith("hostile.yaml:") and len(str(exc)) < 5000, (label, str(exc)[:300])
            outcomes[label] = str(exc).splitlines()[0][:160]
        else:
            outcomes[label] = "ACCEPTED"
    accepted = [label for label, outcome in outcomes.items() if outcome == "ACCEPTED"]
    assert not accepted and listener.accepted == 0
    print(f"\nhostile files: {len(HOSTILE)} tried, {len(HOSTILE) - len(accepted)} clear FleetErrors, ", end="")
    print(f"{listener.accepted} connections made")
    for label, outcome in outcomes.items():
        print(f"  {label}: {outcome}")

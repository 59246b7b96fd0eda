"""The fast way into a fleet file (libyaml, :mod:`multiflow.fleet_fast`) reads what the located way (ruamel.yaml)
reads, refuses nothing itself, and hands every document it does not take to the located way.

Each test compares the two ways on the same text: the fast way may only answer UNCLEAN or the located way's
values, and positions from libyaml's nodes must be ruamel's.
"""

from __future__ import annotations

import contextlib
import gc
import random
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multiflow import fleet_fast
from multiflow.fleet import FleetError, _Builder, _compose, _position, loads
from multiflow.fleet_fast import UNCLEAN, clean_values, located_nodes
from multiflow.validate import validate_fleet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from scenarios import validate_fleet_text

ROOT = Path(__file__).resolve().parents[2]

TRICKY = """\
name: tricky
defaults:
  interval: 60
  description: "quoted: with # and \\u00e9"
  tags: {team: netops, legacy: yes, off: no, empty: '', time: 1:00, day: 2001-12-14, hex: '0x3C', n: null-ish}
  destination: {kind: s3, bucket: 'arn:aws:s3:::central', prefix: prod/}
flow_logs:
  - name: elan-1
    provider: aws
    regions: [us-east-1, eu-west-1]
    resources: {kind: vpc, ids: [vpc-0abc, "vpc-0def"]}
    fields: [srcaddr, dstaddr]
    description: "two\nlines\n"
  - name: folded
    provider: aws
    regions: all
    resources:
      kind: vpc
      where: {"tag:env": prod, "tag:any": "*"}
    description: 'one
      line'
    interval: 600
    traffic: reject
    options: {aws: {}}
    tags: {owner: "é ü", "key with space": 'x'}
"""

#: Values of every kind, for the comparisons that read YAML only (no fleet model).
SCALARS = (
    TRICKY
    + """weights: [-1.5e3, 1.0, .5, 60, -7, +3]
nothing: [~, null, Null, NULL, ""]
truths: [true, True, TRUE, false, False, FALSE, yes, no, on, off]
other: [2001-12-14t21:59:43.10-05:00, 1:00:00, <<, =, 0755, "0x3C"]
"""
)


def located(text: str) -> Any:
    """The located way's values of ``text`` (its problems fail the test)."""
    problems: list[FleetError] = []
    values = _Builder("<t>", problems).value(_compose(text, "<t>"), [])
    assert not problems, problems
    return values


def documents() -> list[str]:
    texts = [TRICKY, SCALARS, validate_fleet_text(30), validate_fleet_text(1, 50)]
    texts += [p.read_text() for p in sorted((ROOT / "docs" / "examples").glob("*.yaml"))]
    return texts


@pytest.mark.parametrize("text", documents(), ids=lambda t: t.splitlines()[0][:30])
def test_a_clean_document_reads_as_the_located_way_reads_it(text: str) -> None:
    values = clean_values(text)
    assert values is not UNCLEAN
    assert values == located(text)
    assert type(values.get("defaults", {}).get("interval", 0)) is int


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: 2\n",  # an anchor (an alias could follow)
        "a: &x 1\nb: *x\n",  # an alias
        "a: 1\nb: *x\n",  # an alias of no anchor (libyaml's parser leaves that to a composer)
        "a: [*x]\n",
        "a: !!str 1\n",  # an explicit tag
        "a: !custom x\n",
        "a: 1\na: 2\n",  # a key given twice
        "a: {b: 1, b: 2}\n",
        "1: a\n",  # keys that are no strings
        "null: a\n",
        "? [k]\n: v\n",
        "a: 0x3C\n",  # numbers YAML 1.2 reads that a fleet file refuses
        "a: 0o74\n",
        "a: 1_000\n",
        "a: .inf\n",
        "%YAML 1.1\n---\na: yes\n",  # a directive (it would change how scalars read)
        "a: 1\n---\nb: 2\n",  # a second document
        "- a\n",  # no mapping
        "just text\n",
        "",
        "a: [\n",  # libyaml's own errors
        "a: b: c\n",
        "a:\n\tb: c\n",
        "a: " + "[" * 40 + "]" * 40 + "\n",  # deeper than MAX_DEPTH
        "a: b\t: c\n",  # a tab: libyaml takes this, ruamel does not
        "a:\u2028b: x\n",  # a line separator: a line break to ruamel, not to libyaml
        "a: x\u2029y\n",
        "a: x\x85y\n",
        "a: 1\rb: 2\n",  # a carriage return alone
        "a: x\ufeffy\n",  # a byte-order mark past the start
        "a: \x01\n",
        "a: |\n  text\n",  # block scalars: ruamel refuses some headers and indents libyaml takes
        "a: >-\n  text\n",
        "a: |\n  \n   more\n",
    ],
)
def test_what_the_fast_way_does_not_take_goes_the_located_way(text: str) -> None:
    assert clean_values(text) is UNCLEAN


def test_nesting_at_the_limit_is_read_and_past_it_is_not() -> None:
    deep = fleet_fast.MAX_DEPTH - 2  # the root mapping, then the sequences, then the scalar: ruamel's count
    inside = "a: " + "[" * deep + "x" + "]" * deep + "\n"
    assert clean_values(inside) == located(inside)
    past = "a: " + "[" * (deep + 1) + "x" + "]" * (deep + 1) + "\n"
    assert clean_values(past) is UNCLEAN


_KEY = st.text(st.sampled_from("abnNtTfF0-9._ :#é'\"\\"), min_size=1, max_size=6)
_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(st.sampled_from("ab yesNo01.:-#&*!|>{}[],'\"\\\té\n~"), max_size=8)
)
_VALUE = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEY, inner, max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEY, _VALUE, min_size=1, max_size=4), st.sampled_from([None, True, False]))
def test_any_document_the_fast_way_takes_reads_as_the_located_way_reads_it(data: dict[str, Any], flow: Any) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    values = clean_values(text)
    if values is not UNCLEAN:
        assert values == located(text)


_PIECES = [
    *["a", "b", "k", ":", ": ", " ", "  ", "\n", "\n  ", "\n- ", "- ", "[", "]", "{", "}", ",", ", ", "'", '"'],
    *["#", " #", "\\", "\t", "é", "x:y", "1", "0x1", "yes", "~", "null", "-", "?", "|", ">", "\n    ", '"\\/"'],
    *['"\\x41"', "'it''s'", "...", "---", "=", "<<", "@", "`", "%", "!", "&", "*", "1.5", "+1", ".5", "1e3"],
    *["TRUE", "a b", "\r\n", "\ufeff", "\u2028", "\x85"],
]


def test_random_text_the_fast_way_takes_reads_as_the_located_way_reads_it() -> None:
    """Seeded fuzzing of both ways with YAML's punctuation: found the tab and line-separator divergences."""
    rng = random.Random(15)
    taken = 0
    for _ in range(20000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 25)))
        values = clean_values(text)
        if values is UNCLEAN:
            continue
        taken += 1
        assert values == located(text), text
    assert taken > 100


_CHARS = [*"abz019 -_.:#'\"\\/,[]{}?!&*|>%@`=~é", "\\n", "\\t", "\\x41", "\\u00e9", " #", ": "]


def _document(rng: random.Random) -> str:
    """A random block document: nested mappings, block and flow sequences, flow mappings, block scalars,
    comments; its scalars plain, single- or double-quoted, of YAML's punctuation."""

    def scalar() -> str:
        raw = "".join(rng.choice(_CHARS) for _ in range(rng.randint(0, 6)))
        style = rng.random()
        if style < 0.5:
            return raw
        return "'" + raw.replace("'", "''") + "'" if style < 0.75 else '"' + raw.replace('"', '\\"') + '"'

    def flow(depth: int) -> str:
        r = rng.random()
        if depth > 3 or r < 0.5:
            return scalar()
        if r < 0.75:
            return "[" + ", ".join(flow(depth + 1) for _ in range(rng.randint(0, 3))) + "]"
        return "{" + ", ".join(f"{scalar()}: {flow(depth + 1)}" for _ in range(rng.randint(0, 3))) + "}"

    def block(indent: int, depth: int) -> list[str]:
        lines = []
        for _ in range(rng.randint(1, 3)):
            key, r, pad = scalar(), rng.random(), " " * indent
            if depth < 3 and r < 0.3:
                lines += [f"{pad}{key}:", *block(indent + rng.choice([1, 2, 4]), depth + 1)]
            elif depth < 3 and r < 0.45:
                lines.append(f"{pad}{key}:")
                lines += [" " * (indent + rng.choice([0, 2])) + "- " + flow(depth + 1) for _ in range(3)]
            elif r < 0.55:
                lines.append(f"{pad}{key}: " + rng.choice(["|", ">", "|-", ">+"]))
                lines += [" " * (indent + 2) + scalar() for _ in range(rng.randint(1, 3))]
            else:
                lines.append(f"{pad}{key}: {flow(depth + 1)}" + rng.choice(["", " # c", "  #c"]))
        return lines

    return "\n".join(block(0, 0)) + rng.choice(["\n", "", "\n\n"])


def test_random_documents_the_fast_way_takes_read_as_the_located_way_reads_them() -> None:
    """Seeded fuzzing of both ways with structured documents: found the block-scalar divergences."""
    rng = random.Random(15)
    taken = 0
    for _ in range(4000):
        text = _document(rng)
        values = clean_values(text)
        if values is not UNCLEAN:
            taken += 1
            assert values == located(text), text
    assert taken > 300


def _paths(value: Any, path: list[Any]) -> list[list[Any]]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, [*path, key])
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            found += _paths(inner, [*path, n])
    return found


def test_libyamls_nodes_locate_every_value_where_ruamels_do() -> None:
    nodes, ruamel = located_nodes(SCALARS), _compose(SCALARS, "<t>")
    paths = _paths(located(SCALARS), [])
    assert len(paths) > 40
    for path in paths:
        for at_key in (False, True):
            assert _position(nodes, path, at_key=at_key) == _position(ruamel, path, at_key=at_key), path


def _problems(text: str) -> list[tuple[str, int | None, int | None, str]]:
    with pytest.raises(FleetError) as caught:
        validate_fleet(loads(text, source="fleet.yaml"))
    return [(p.field, p.line, p.column, str(p)) for p in caught.value.problems]


def test_an_error_in_a_clean_file_is_located_as_the_located_way_locates_it(monkeypatch: pytest.MonkeyPatch) -> None:
    text = TRICKY.replace("    traffic: reject\n", "    trafic: reject\n").replace("interval: 600", "interval: 6o0")
    assert clean_values(text) is not UNCLEAN
    fast = _problems(text)
    lines = text.splitlines()
    where = {field: (line, column) for field, line, column, _ in fast}
    assert lines[where["flow_logs[1].trafic"][0] - 1][where["flow_logs[1].trafic"][1] - 1 :].startswith("trafic:")
    assert lines[where["flow_logs[1].interval"][0] - 1][where["flow_logs[1].interval"][1] - 1 :] == "interval: 6o0"
    monkeypatch.setattr(fleet_fast, "_CParser", None)  # a platform where PyYAML has no C extension
    assert _problems(text) == fast


def test_a_providers_refusal_in_a_clean_file_is_located_too(monkeypatch: pytest.MonkeyPatch) -> None:
    text = validate_fleet_text(3).replace("vpc-00000002", "subnet-2")
    fast = _problems(text)
    assert [(line, column) for _, line, column, _ in fast] == [(8, 87)]
    assert text.splitlines()[7][86:].startswith("subnet-2")
    monkeypatch.setattr(fleet_fast, "_CParser", None)
    assert _problems(text) == fast


def test_without_libyaml_every_file_reads_the_located_way_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = loads(TRICKY).model_dump(mode="json")
    monkeypatch.setattr(fleet_fast, "_CParser", None)  # a platform where PyYAML has no C extension
    assert clean_values(TRICKY) is UNCLEAN
    assert loads(TRICKY).model_dump(mode="json") == fast


@pytest.mark.parametrize("text", [TRICKY, "a: *x\n", "name: x\nflow_logs: 3\n"])
def test_the_collector_is_on_again_after_a_load_and_stays_off_if_it_was(text: str) -> None:
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        with contextlib.suppress(FleetError):
            loads(text)
        assert gc.isenabled() is enabled
    gc.enable()

"""YAML 1.2 core schema as neurotox reads it: every scalar form, duplicates, aliases."""

import math

import pytest

from neurotox.errors import InputError
from neurotox.yamlio import parse_override, parse_overrides, parse_yaml


@pytest.mark.parametrize(("text", "value"), [
    ("010", 10), ("0o17", 15), ("0x1F", 31), ("-7", -7), ("+4", 4), ("0", 0),
    ("1.5", 1.5), ("1e3", 1000.0), ("-1.5E-2", -0.015), (".5", 0.5), ("5.", 5.0),
    (".inf", math.inf), ("-.Inf", -math.inf), ("+.INF", math.inf),
    ("true", True), ("True", True), ("FALSE", False),
    ("null", None), ("Null", None), ("~", None), ("", None),
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("Off", "Off"), ("y", "y"), ("n", "n"),
    ("1:40", "1:40"), ("2026-01-15", "2026-01-15"), ("2001-12-14t21:59:43.10-05:00",
                                                     "2001-12-14t21:59:43.10-05:00"),
    ("1_000", "1_000"), ("0b101", "0b101"), ("+.5e", "+.5e"), ("0o8", "0o8"),
    ("'010'", "010"), ('"yes"', "yes"), ("!!str 5", "5"), ("!!int '7'", 7),
])
def test_scalars_read_as_yaml_1_2(text, value):
    got = parse_yaml(f"v: {text}")["v"]
    assert got == value and type(got) is type(value)


def test_nan():
    assert math.isnan(parse_yaml("v: .NaN")["v"])


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\nb: 2\na: 3\n", "line 3, column 1: duplicate key 'a' (first given on line 1)"),
    ("a: {x: 1, x: 2}\n", "duplicate key 'x'"),
    ("- {x: 1}\n- {y: 1, y: 2}\n", "line 2, column 10: duplicate key 'y'"),
    ("1: a\n0x1: b\n", "duplicate key 1"),
    ("v: 1e400\n", "line 1, column 4: number 1e400 is too large (overflows to infinity)"),
    ("v: -1e400\n", "overflows to infinity"),
    ("v: " + "1" * 4001 + "\n", "integer with 4001 digits is too large"),
    ("a: &x [*x]\n", "recursive alias (an anchor used inside itself)"),
    ("a: !!python/name:os.system\n", "line 1: unsafe or unknown YAML tag"),
    ("a: [\n", "invalid YAML"),
    ("a: 1\n---\nb: 2\n", "line 2, column 1: invalid YAML: expected a single document in "
                          "the stream, but found another document"),
    ("? [a]\n: 1\n", "found an unhashable key"),
    ("a: \x00\n", "invalid YAML: unacceptable character #x0000"),
    ("[" * 5000 + "]" * 5000, "YAML nests too deeply"),
])
def test_refused(text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_yaml(text, path="s.yaml")


def test_alias_expansion_is_bounded():
    levels = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 6))
    with pytest.raises(InputError, match="expands to more than 200000 nodes"):
        parse_yaml(levels)
    small = parse_yaml("a: &a [1, 2]\nb: [*a, *a]\n")   # ordinary aliases still work
    assert small == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


@pytest.mark.parametrize(("item", "expected"), [
    ("window=3", ("window", 3)), ("window=010", ("window", 10)), ("x = yes", ("x", "yes")),
    ("phase_map={T1: training}", ("phase_map", {"T1": "training"})), ("x=", ("x", None)),
    ("x=a=b", ("x", "a=b")),
])
def test_override_values(item, expected):
    assert parse_override(item, option="--param") == expected


@pytest.mark.parametrize(("items", "message"), [
    (["=3"], "--param: expected KEY=VALUE"), (["3=x"], "expected KEY=VALUE"),
    (["a.b=1"], "expected KEY=VALUE"), (["x=["], "--param x, line 1, column 2: invalid YAML"),
    (["x=1", "x=2"], "parameter 'x' is given twice"),
])
def test_override_errors(items, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[")):
        parse_overrides(items, option="--param")

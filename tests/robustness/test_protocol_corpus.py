"""Malformed protocol YAML files given with ``--protocol FILE`` (``neurotox nor``)."""

from __future__ import annotations

import pytest

from tests.robustness.corpus import Case, run_case
from tests.robustness.test_rodent_corpus import BASE, NOR

PROTO = """\
name: my-nor
assay: nor
title: NOR for robustness tests
category: neurobehavioral
guidelines: [OECD TG 424]
parameters:
  min_test_exploration_s: 10
"""
ARGS = ("nor", "{dir}/nor.csv", "--study", "{dir}/study.yaml", "--protocol", "{dir}/p.yaml",
        "-o", "{out}")


def proto(old: str, new: str) -> dict:
    assert old in PROTO, old
    return {**BASE, "nor.csv": NOR, "p.yaml": PROTO.replace(old, new, 1)}


def raw(data: str | bytes) -> dict:
    return {**BASE, "nor.csv": NOR, "p.yaml": data}


CASES = [
    Case("proto-unknown-parameter",
         proto("min_test_exploration_s: 10", "min_test_exploration: 10"), ARGS,
         "key 'parameters.min_test_exploration': unknown key", "p.yaml"),
    Case("proto-parameter-text", proto("exploration_s: 10", "exploration_s: ten"), ARGS,
         "key 'parameters.min_test_exploration_s': Input should be a valid numbe", "p.yaml"),
    Case("proto-parameter-negative", proto("exploration_s: 10", "exploration_s: -3"), ARGS,
         "key 'parameters.min_test_exploration_s': Input should be greater than", "p.yaml"),
    Case("proto-wrong-assay", proto("assay: nor", "assay: tmaze"), ARGS,
         "key 'assay': protocol 'my-nor' is for assay 'tmaze', not 'nor'", "p.yaml"),
    Case("proto-unknown-top-key", proto("title:", "colour: red\ntitle:"), ARGS,
         "key 'colour': unknown key", "p.yaml"),
    Case("proto-bad-category", proto("category: neurobehavioral", "category: fun"), ARGS,
         "key 'category': Input should be 'structural', 'neurophysiological', 'n", "p.yaml"),
    Case("proto-python-tag",
         proto("title: NOR", "title: !!python/object/apply:os.system " "['true']\nx: NOR"), ARGS,
         "line 3: unsafe or unknown YAML tag: could not determine a constructor", "p.yaml"),
    Case("proto-invalid-yaml", proto("parameters:", "parameters: [\n"), ARGS,
         "line 9, column 1: invalid YAML: expected ',' or ']', but got '<stream", "p.yaml"),
    Case("proto-empty", raw(""), ARGS, "expected a mapping of protocol keys", "p.yaml"),
    Case("proto-not-mapping", raw("- a\n- b\n"), ARGS, "expected a mapping of protocol keys",
         "p.yaml"),
    Case("proto-binary", raw(b"\xff\xfe\x00garbage"), ARGS, "file is not UTF-8 text (byte 0)",
         "p.yaml"),
    Case("proto-parameters-not-mapping",
         proto("parameters:\n  min_test_exploration_s: 10", "parameters: 10"), ARGS,
         "key 'parameters': Input should be a valid dictionary (found 10)", "p.yaml"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_protocol_case(case, tmp_path):
    run_case(case, tmp_path)

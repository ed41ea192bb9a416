"""Message helpers: quoted lists and the 'did you mean' suggestion."""

from __future__ import annotations

import pytest

from neurotox.errors import closest, did_you_mean, quoted


@pytest.mark.parametrize(("word", "expected"), [
    ("dmso", "DMSO"),          # case
    ("7", "007"),              # the same number
    ("DMS0", "DMSO"),          # spelling
    ("dmso2", "DMSO"),         # spelling, ignoring case
    ("vehicle", None),         # nothing close
])
def test_closest(word, expected):
    assert closest(word, ["DMSO", "007", "Trici"]) == expected


def test_did_you_mean_and_quoted_limit():
    assert did_you_mean("--formats", ["--format", "--force"]) == " (did you mean '--format'?)"
    assert did_you_mean("zzz", ["--format"]) == ""
    assert quoted("abcdefg", limit=3) == "'a', 'b', 'c' and 4 more"
    assert quoted([]) == "nothing"

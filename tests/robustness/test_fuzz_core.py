"""Property-based fuzzing: validators and loaders raise only neurotox's own errors."""

import math

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurotox import endpoints as ep
from neurotox.errors import NeurotoxError
from neurotox.study import load_study, normalise_well

cell = st.one_of(st.text(max_size=8), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(-10, 10), st.booleans(), st.none())
names = sorted(ep.registry())


@st.composite
def tables(draw):
    n = draw(st.integers(0, 5))
    cols = draw(st.lists(st.sampled_from(list(ep.COLUMNS)), unique=True,
                         min_size=len(ep.COLUMNS) - 2))
    rows = []
    for _ in range(n):
        r = {c: draw(cell) for c in cols}
        if "endpoint" in r and draw(st.booleans()):
            r["endpoint"] = draw(st.sampled_from(names))
        rows.append(r)
    return pd.DataFrame(rows, columns=cols)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_validate_raises_only_validation_errors(df):
    try:
        out = ep.validate(df)
    except NeurotoxError:
        return
    assert list(out.columns) == list(ep.COLUMNS)
    ok = out["excluded"] | out["value"].map(math.isfinite)
    assert ok.all()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_load_study_raises_only_input_errors(tmp_path, data):
    p = tmp_path / "study.yaml"
    p.write_bytes(data)
    try:
        load_study(p)
    except NeurotoxError:
        pass


yaml_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                                     st.floats(allow_nan=False)),
                           lambda kids: st.lists(kids, max_size=3) |
                           st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["study_id", "title", "test_item", "groups", "subjects",
                                        "assays", "statistics", "plate_layouts", "glp"]),
                       yaml_values, max_size=9))
def test_structured_study_raises_only_input_errors(tmp_path, doc):
    import yaml
    p = tmp_path / "study.yaml"
    p.write_text(yaml.safe_dump(doc))
    try:
        load_study(p)
    except NeurotoxError:
        pass


@given(st.text(max_size=6))
def test_normalise_well_only_value_error(text):
    try:
        w = normalise_well(text)
    except ValueError:
        return
    assert len(w) == 3 and w[0] in "ABCDEFGHIJKLMNOP" and 1 <= int(w[1:]) <= 24


tree_entries = st.lists(st.tuples(
    st.sampled_from(["a.csv", "sub/b.csv", "sub/manifest.json", "x", "sub/deep/y", "two\nl",
                     "é"]),
    st.sampled_from(["file", "dir", "symlink-in", "symlink-out", "fifo", "delete", "edit"])),
    max_size=6)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree_entries)
def test_verify_any_tree(tmp_path, entries):
    """Whatever is planted in an output folder, verify names it on one line or is intact."""
    import os
    import shutil

    from neurotox.io.output import OutputDir, RunRecord, verify

    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    with OutputDir(out, record=RunRecord(command=["fuzz"])) as od:
        od.write_text("a.csv", "x\n1\n")
        od.write_text("sub/b.csv", "y\n2\n")
        od.write_text("sub/manifest.json", "{}\n")
    for rel, kind in entries:
        p = out / rel
        try:
            if kind == "delete":
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
                continue
            if os.path.lexists(p):
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file" or kind == "edit":
                p.write_text("planted")
            elif kind == "dir":
                p.mkdir()
            elif kind == "symlink-in":
                p.symlink_to(out / "a.csv")
            elif kind == "symlink-out":
                p.symlink_to(tmp_path)
            else:
                os.mkfifo(p)
        except (FileNotFoundError, NotADirectoryError, FileExistsError, IsADirectoryError):
            continue
    try:
        problems = verify(out)
    except NeurotoxError:
        return
    assert all("\n" not in line and line for line in problems)
    assert len(problems) == len(set(problems))

"""A study left out of ranges by the laboratory (hcd exclude/include), and pre-schema-3 vehicles.

Studies SYN-1 and SYN-2 of :mod:`tests.send_files`: included controls' brain weights
SYN-1 M 2.0, 2.2 and F 1.8, 1.9, 2.0 (g); SYN-2 every brain 0.5 g heavier
(M 2.5, 2.7; F 2.3, 2.4, 2.5). Animals are 56 days (8 weeks) old; facility 'Test Lab'.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from tests.hcd_backends import hcd_engine, hcd_url  # noqa: F401  (fixtures)
from tests.send_files import BRAIN, write_study

from neurotox.errors import InputError
from neurotox.hcd import db, schema, store
from neurotox.hcd.compare import for_study
from neurotox.hcd.exclusion import shared_vehicle_entries
from neurotox.hcd.ranges import Query, ranges, select_rows
from neurotox.hcd.send import send_batch
from neurotox.hcd.store import set_excluded
from neurotox.io.send import read_send
from neurotox.study import HistoricalControls

HEAVIER = {"om": {"OMSTRESN": [BRAIN[i] + 0.5 for i in BRAIN] + [12.5]}}


def _add_two(engine, tmp_path):
    store.add(engine, send_batch(read_send(write_study(tmp_path / "syn1"))))
    store.add(engine, send_batch(read_send(write_study(tmp_path / "syn2", HEAVIER,
                                                       study_id="SYN-2"))))


def _brain(engine):
    table = ranges(select_rows(store.range_rows(engine)[0], Query()))
    bw = table[table["endpoint"] == "brain_weight"].set_index("sex")
    return {sex: (int(r.n_studies), int(r.n_animals), round(float(r["mean"]), 6))
            for sex, r in bw.iterrows()}


def test_exclude_leaves_the_study_out_and_include_takes_it_back(hcd_engine, tmp_path):  # noqa: F811
    _add_two(hcd_engine, tmp_path)
    assert _brain(hcd_engine) == {"F": (2, 6, 2.15), "M": (2, 4, 2.35)}
    with pytest.raises(InputError, match="a reason is required to exclude a study"):
        set_excluded(hcd_engine, "SYN-1", " ", excluded=True)
    with pytest.raises(InputError, match="study SYN-1 \\(id 1\\) is not left out of ranges"):
        set_excluded(hcd_engine, "SYN-1", "why", excluded=False)
    done = set_excluded(hcd_engine, "syn-1", "contaminated diet batch", excluded=True)
    assert (done.id, done.study_id, done.reason) == (1, "SYN-1", "contaminated diet batch")
    assert _brain(hcd_engine) == {"F": (1, 3, 2.4), "M": (1, 2, 2.6)}        # SYN-2 only
    with pytest.raises(InputError, match=r"is already left out of ranges \('contaminated diet "
                                         r"batch', by .+@"):
        set_excluded(hcd_engine, "1", "again", excluded=True)
    listed = store.list_studies(hcd_engine).set_index("study_id")
    assert listed.loc["SYN-1", "excluded"] and not listed.loc["SYN-2", "excluded"]
    assert listed.loc["SYN-1", "exclusion_reason"] == "contaminated diet batch"
    assert listed.loc["SYN-1", "excluded_utc"] == done.at_utc and "@" in done.by
    assert listed.loc["SYN-1", "animals"] == 9                                # values kept
    set_excluded(hcd_engine, "SYN-1", "batch cleared by QA", excluded=False)
    assert _brain(hcd_engine) == {"F": (2, 6, 2.15), "M": (2, 4, 2.35)}
    listed = store.list_studies(hcd_engine).set_index("study_id")
    assert not listed.loc["SYN-1", "excluded"] and listed.loc["SYN-1", "exclusion_reason"] == ""
    log = store.audit_log(hcd_engine)
    assert log["action"].tolist() == ["add", "add", "exclude", "include"]
    assert log["reason"].tolist()[2:] == ["contaminated diet batch", "batch cleared by QA"]
    assert json.loads(log["detail"].iloc[2])["id"] == 1


def test_list_shows_facility_and_age(hcd_engine, tmp_path):  # noqa: F811
    _add_two(hcd_engine, tmp_path)
    listed = store.list_studies(hcd_engine)
    assert listed["facility"].tolist() == ["Test Lab", "Test Lab"]
    assert listed["age_weeks"].tolist() == ["8", "8"]                         # 56 days
    assert store._weeks(56, 66) == "8–9.43" and store._weeks(None, None) == ""


def test_a_schema_3_database_gets_the_columns(hcd_url, tmp_path):  # noqa: F811
    engine = db.connect(hcd_url)
    _add_two(engine, tmp_path)
    with engine.begin() as conn:                  # as neurotox with schema 3 left it
        for name in ("excluded", "exclusion_reason", "excluded_utc", "excluded_by"):
            conn.execute(sa.text(f"ALTER TABLE study DROP COLUMN {name}"))
        conn.execute(schema.schema_table.delete().where(schema.schema_table.c.version == 4))
    engine.dispose()
    engine = db.connect(hcd_url)
    try:
        with engine.connect() as conn:
            assert db.current_version(conn) == 4
        assert not store.list_studies(engine)["excluded"].any()
        set_excluded(engine, "SYN-2", "protocol deviation", excluded=True)
        assert _brain(engine) == {"F": (1, 3, 1.9), "M": (1, 2, 2.1)}
    finally:
        engine.dispose()


def test_cli_exclude_include_list_and_ranges(tmp_path, invoke):
    path = tmp_path / "hcd.sqlite"
    engine = db.connect(str(path))
    _add_two(engine, tmp_path)
    engine.dispose()
    res = invoke("hcd", "exclude", "SYN-2", "--db", path)
    assert res.exit_code == 2 and "Missing option '--reason'" in res.output
    res = invoke("hcd", "exclude", "SYN-2", "--db", path, "--reason", "contaminated batch")
    assert res.exit_code == 0, res.output
    assert "left study SYN-2 (id 2) out of ranges; its values stay stored" in res.output
    res = invoke("hcd", "list", "--db", path)
    header, first, second = res.output.splitlines()[:3]
    for col in ("facility", "age_weeks", "excluded", "exclusion_reason", "excluded_by"):
        assert col in header
    assert "contaminated batch" in second and "yes" in second and "yes" not in first
    col = header.split().index("excluded")
    assert (first.split()[col], second.split()[col]) == ("no", "yes")
    res = invoke("hcd", "ranges", "--db", path, "--endpoint", "brain_weight")
    assert res.exit_code == 0, res.output
    assert "left out of ranges by 'hcd exclude': id 2 (SYN-2: 'contaminated batch'" in res.output
    m = next(line.split() for line in res.output.splitlines()
             if line.startswith("brain_weight   M"))
    assert m[4:8] == ["continuous", "1", "2", "2.1"]                          # SYN-1 only
    res = invoke("hcd", "include", "SYN-2", "--db", path, "--reason", "cleared")
    assert res.exit_code == 0 and "took study SYN-2 (id 2) back into ranges" in res.output
    res = invoke("hcd", "include", "SYN-2", "--db", path, "--reason", "cleared")
    assert res.exit_code == 2 and "is not left out of ranges" in res.output


def test_a_report_names_the_excluded_study_and_why(tmp_path):
    engine = db.connect(str(tmp_path / "hcd.sqlite"))
    _add_two(engine, tmp_path)
    set_excluded(engine, "SYN-1", "contaminated diet batch", excluded=True)
    engine.dispose()
    hist = for_study(HistoricalControls(database="hcd.sqlite"), tmp_path / "study.yaml",
                     ["brain_weight"])
    r = hist.ranges.set_index("sex")
    assert r.loc["M", "mean"] == pytest.approx(2.6) and r.loc["F", "n_animals"] == 3
    assert (hist.n_studies, hist.n_animals) == (1, 5)
    assert "; left out by the laboratory ('hcd exclude'): id 1 (SYN-1: 'contaminated diet " \
        "batch', by " in hist.describe()
    out = hist.manifest()["excluded_by_laboratory"]
    assert [(e["id"], e["study_id"], e["reason"]) for e in out] == \
        [(1, "SYN-1", "contaminated diet batch")]
    # a stratum that would not have used it: not named
    other = for_study(HistoricalControls(database="hcd.sqlite", strata={"strain": "Wistar"}),
                      tmp_path / "study.yaml", ["brain_weight"])
    assert "hcd exclude" not in other.describe() and "excluded_by_laboratory" not in \
        other.manifest()


# ------------------------------------------------- entries stored before schema 3

def _old_db(path, tmp_path, second_set):
    """A database whose SYN-1 entry was added at schema 2 (no per-set vehicle).

    With ``second_set`` male S-102 is in a second vehicle-control set (group 4), as
    the Instem study's water males beside its saline males.
    """
    engine = sa.create_engine(f"sqlite:///{path}")
    batch = send_batch(read_send(write_study(tmp_path / "syn1")))
    animals = batch.animals.assign(vehicle="")
    if second_set:
        animals.loc[animals["subject"] == "S-102", "group_id"] = "4"
    with engine.begin() as conn:
        schema.schema_table.create(conn)
        for m in schema.MIGRATIONS[:2]:
            m.apply(conn)
            conn.execute(schema.schema_table.insert().values(
                version=m.version, description=m.description, applied_utc="2025-01-01T00:00:00Z"))
        pk = conn.execute(schema.study.insert().values(
            study_id=batch.study_id, source_kind="send", source_path=batch.source_path,
            source_hash=batch.source_hash, added_utc="2025-01-01T00:00:01Z", added_by="old@lab",
            **{k: str(batch.study.get(k) or "") for k in store.STUDY_FIELDS})
            .returning(schema.study.c.id)).scalar_one()
        conn.execute(schema.animal.insert(), [{**a, "study": pk} for a in
                                              store._records(animals, store.ANIMAL_COLUMNS)])
        ids = dict(conn.execute(sa.select(schema.animal.c.subject, schema.animal.c.id)).all())
        store._insert_results(conn, batch.results, ids)
    engine.dispose()
    return path


def test_schema_2_send_entry_with_two_control_sets_is_warned(tmp_path, invoke):
    path = _old_db(tmp_path / "old.sqlite", tmp_path, second_set=True)
    engine = db.connect(str(path))                         # migrations 3 and 4 applied now
    try:
        with engine.connect() as conn:
            found = shared_vehicle_entries(conn, [1])
    finally:
        engine.dispose()
    assert [(e.id, e.study_id, e.vehicle, e.sets) for e in found] == \
        [(1, "SYN-1", "Water", ("1", "4"))]
    assert "import the SEND folder again with 'neurotox hcd import-send FOLDER --replace " \
        "--reason TEXT'" in found[0].describe()
    res = invoke("hcd", "ranges", "--db", path)
    assert res.exit_code == 0, res.output
    assert "database id 1 (SEND study SYN-1) was added before schema version 3, which stored " \
        "the study's vehicle 'Water' for each of its control sets (1, 4)" in res.output
    res = invoke("--warnings-as-errors", "hcd", "ranges", "--db", path)
    assert res.exit_code == 2 and "before schema version 3" in res.output
    hist = for_study(HistoricalControls(database=str(path)), tmp_path / "study.yaml",
                     ["brain_weight"])                 # a report's ranges warn too
    assert [w for w in hist.warnings() if "before schema version 3" in w] == \
        [found[0].describe()]
    assert hist.ranges.set_index("sex").loc["M", "n_animals"] == 2      # S-101, S-102
    # imported again: the new entry has per-set vehicles, no warning
    engine = db.connect(str(path))
    try:
        store.add(engine, send_batch(read_send(tmp_path / "syn1")), replace="per-set vehicles")
        with engine.connect() as conn:
            assert shared_vehicle_entries(conn, [2]) == []
    finally:
        engine.dispose()


def test_schema_2_entry_with_one_control_set_per_sex_is_not_warned(tmp_path):
    path = _old_db(tmp_path / "old.sqlite", tmp_path, second_set=False)
    engine = db.connect(str(path))
    try:
        with engine.connect() as conn:
            assert shared_vehicle_entries(conn, [1]) == []
    finally:
        engine.dispose()


def test_replacing_an_excluded_study_keeps_it_out(hcd_engine, tmp_path):  # noqa: F811
    _add_two(hcd_engine, tmp_path)
    done = set_excluded(hcd_engine, "SYN-1", "contaminated diet batch", excluded=True)
    again = send_batch(read_send(write_study(tmp_path / "syn1-again")))
    added = store.add(hcd_engine, again, replace="re-import of the SEND folder")
    assert (added.id, [m.id for m in added.replaced]) == (3, [1])
    e = added.excluded
    assert (e.id, e.study_id, e.reason, e.at_utc, e.by) == (
        3, "SYN-1", "contaminated diet batch", done.at_utc, done.by)
    assert _brain(hcd_engine) == {"F": (1, 3, 2.4), "M": (1, 2, 2.6)}        # SYN-2 only
    listed = store.list_studies(hcd_engine).set_index("id")
    assert listed.loc[3, "excluded"] and listed.loc[3, "exclusion_reason"] == e.reason
    assert listed.loc[3, "excluded_utc"] == done.at_utc and listed.loc[3, "excluded_by"] == done.by
    log = store.audit_log(hcd_engine)
    assert log["action"].tolist() == ["add", "add", "exclude", "remove", "add"]
    carried = {"reason": "contaminated diet batch", "excluded_utc": done.at_utc,
               "excluded_by": done.by}
    assert json.loads(log["detail"].iloc[3])["excluded"] == carried
    assert json.loads(log["detail"].iloc[4])["excluded"] == {"from_id": 1, **carried}
    assert json.loads(log["detail"].iloc[4])["replaces"] == [1]
    set_excluded(hcd_engine, "3", "diet batch cleared", excluded=False)
    assert _brain(hcd_engine) == {"F": (2, 6, 2.15), "M": (2, 4, 2.35)}
    # an included study replaced stays included, and its audit rows say nothing of exclusion
    added = store.add(hcd_engine, send_batch(read_send(write_study(tmp_path / "syn2-again",
                                                                   HEAVIER, study_id="SYN-2"))),
                      replace="re-import")
    assert added.excluded is None and not store.list_studies(hcd_engine)["excluded"].any()
    log = store.audit_log(hcd_engine)
    assert "excluded" not in json.loads(log["detail"].iloc[-1])
    assert "excluded" not in json.loads(log["detail"].iloc[-2])


def test_cli_import_send_replace_warns_that_the_exclusion_is_kept(tmp_path, invoke):
    path = tmp_path / "hcd.sqlite"
    engine = db.connect(str(path))
    _add_two(engine, tmp_path)
    engine.dispose()
    res = invoke("hcd", "exclude", "SYN-2", "--db", path, "--reason", "contaminated batch")
    assert res.exit_code == 0, res.output
    folder = write_study(tmp_path / "syn2-again", HEAVIER, study_id="SYN-2")
    res = invoke("hcd", "import-send", folder, "--db", path, "--replace", "--reason", "re-run")
    assert res.exit_code == 0, res.output
    assert "added study SYN-2 (id 3)" in res.output
    assert re.search(r"WARNING: study SYN-2 \(id 3\) stays left out of ranges: the entry it "
                     r"replaces was excluded by the laboratory \('contaminated batch', by \S+@"
                     r"\S+, 20\d\d-[^)]+\); 'neurotox hcd include 3 --reason TEXT' takes it "
                     r"back in", res.output), res.output
    res = invoke("hcd", "ranges", "--db", path, "--endpoint", "brain_weight")
    m = next(line.split() for line in res.output.splitlines()
             if line.startswith("brain_weight   M"))
    assert m[4:8] == ["continuous", "1", "2", "2.1"]                          # SYN-1 only


def test_export_says_which_study_the_laboratory_left_out(tmp_path, invoke):
    import pandas as pd

    path, out = tmp_path / "hcd.sqlite", tmp_path / "ex.csv"
    engine = db.connect(str(path))
    _add_two(engine, tmp_path)
    done = set_excluded(engine, "SYN-2", "contaminated batch", excluded=True)
    engine.dispose()
    res = invoke("hcd", "export", "--db", path, "-o", out)
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out, keep_default_na=False)
    cols = list(df.columns)
    assert cols[cols.index("start_date") + 1:cols.index("subject")] == [
        "study_excluded", "study_exclusion_reason", "study_excluded_utc", "study_excluded_by"]
    by = df.groupby("study_id")
    assert by["study_excluded"].unique().to_dict() == {"SYN-1": [False], "SYN-2": [True]}
    assert set(by.get_group("SYN-2")["study_exclusion_reason"]) == {"contaminated batch"}
    assert set(by.get_group("SYN-2")["study_excluded_utc"]) == {done.at_utc}
    assert set(by.get_group("SYN-2")["study_excluded_by"]) == {done.by}
    assert set(by.get_group("SYN-1")["study_exclusion_reason"]) == {""}
    brains = df[(df["endpoint"] == "brain_weight") & df["included"] & df["animal_included"]]
    assert sorted(brains.loc[brains["study_id"] == "SYN-2", "value"]) == [2.3, 2.4, 2.5, 2.5,
                                                                          2.7]
    # an export written before the columns existed (its header, unchanged since) is replaced
    old = df.drop(columns=[c for c in cols if c.startswith("study_excl")])
    old.to_csv(out, index=False, lineterminator="\n")
    from neurotox.io.output import sha256_file
    (tmp_path / "ex.csv.sha256").write_text(f"{sha256_file(out)}  ex.csv\n")
    res = invoke("hcd", "export", "--db", path, "-o", out, "--force")
    assert res.exit_code == 0, res.output
    assert list(pd.read_csv(out, nrows=1).columns) == cols


def test_a_new_database_says_created_and_an_old_one_names_its_migrations(tmp_path, caplog):
    import logging

    path = tmp_path / "hcd.sqlite"
    with caplog.at_level(logging.INFO, logger="neurotox.hcd.db"):
        db.connect(str(path)).dispose()
    said = [r.getMessage() for r in caplog.records if r.name == "neurotox.hcd.db"]
    assert said == ["historical control database: created (schema version 4)"]
    engine = db.connect(str(path))
    with engine.begin() as conn:                                # as schema 3 left it
        for name in ("excluded", "exclusion_reason", "excluded_utc", "excluded_by"):
            conn.execute(sa.text(f"ALTER TABLE study DROP COLUMN {name}"))
        conn.execute(schema.schema_table.delete().where(schema.schema_table.c.version == 4))
    engine.dispose()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="neurotox.hcd.db"):
        db.connect(str(path)).dispose()
    said = [r.getMessage() for r in caplog.records if r.name == "neurotox.hcd.db"]
    assert said == ["historical control database: applying migration 4 (study.excluded: a "
                    "study the laboratory leaves out of ranges, with the reason, when and by "
                    "whom)"]

"""A study stored twice by an older neurotox (schema 1) counts once after the upgrade.

Schema 1 refused only the same source; a re-export of a stored study (same study
number, other bytes) was added as a second entry. The database here is built as
that neurotox left it: schema version 1, no ``study_input`` table, three entries
(SYN-1, SYN-2, SYN-1 again). Study SYN-1 of :mod:`tests.send_files`: included
controls' brain weights M 2.0, 2.2 and F 1.8, 1.9, 2.0 (g).
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from tests.hcd_backends import hcd_engine, hcd_url  # noqa: F401  (fixtures)
from tests.send_files import tables, write_study

from neurotox.errors import InputError
from neurotox.hcd import db, identity, schema, store
from neurotox.hcd.ranges import Query, ranges, select_rows
from neurotox.hcd.send import send_batch
from neurotox.io.send import read_send

RE_EXPORT = {"ts": {"TSVAL": ["Synthetic 4-week study (v2)", "RAT", "SPRAGUE-DAWLEY", "Water",
                              "ORAL GAVAGE", "2020-01-02", "Test Lab", "Supplier"]}}


def _old_add(conn, batch):
    """Add as schema 1 did: no data-file rows, only the source was compared."""
    s = schema.study
    pk = conn.execute(s.insert().values(
        study_id=batch.study_id, source_kind=batch.source_kind, source_path=batch.source_path,
        source_hash=batch.source_hash, added_utc="2025-01-01T00:00:00Z", added_by="old@lab",
        **{k: str(batch.study.get(k) or "") for k in store.STUDY_FIELDS})
        .returning(s.c.id)).scalar_one()
    animals = store._records(batch.animals, store.ANIMAL_COLUMNS)
    conn.execute(schema.animal.insert(), [{**a, "study": pk} for a in animals])
    ids = dict(conn.execute(sa.select(schema.animal.c.subject, schema.animal.c.id)
                            .where(schema.animal.c.study == pk)).all())
    store._insert_results(conn, batch.results, ids)


def _schema1(path, entries):
    """A schema-1 SQLite file at ``path`` holding ``entries`` (folder, write_study kwargs)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        schema.schema_table.create(conn)
        schema.MIGRATIONS[0].apply(conn)
        conn.execute(schema.schema_table.insert().values(
            version=1, description=schema.MIGRATIONS[0].description,
            applied_utc="2025-01-01T00:00:00Z"))
        for folder, kwargs in entries:
            _old_add(conn, send_batch(read_send(write_study(path.parent / folder, **kwargs))))
        assert not sa.inspect(conn).has_table("study_input")
    engine.dispose()
    return path


@pytest.fixture
def old_db(tmp_path):
    """A schema-1 SQLite file holding SYN-1 (id 1), SYN-2 (id 2) and SYN-1 again (id 3)."""
    return _schema1(tmp_path / "old.sqlite", [("a", {}), ("b", {"study_id": "SYN-2"}),
                                              ("rerun", {"changes": RE_EXPORT})])


#: SYN-1 re-run under an amended number: the same subject IDs and values, other bytes.
RENUMBERED = {"changes": {dom: {"STUDYID": ["SYN-1A"] * n} for dom, n in
                          (("dm", 11), ("ts", 8))}}


def _brain(rows):
    table = ranges(select_rows(rows, Query()))
    bw = table[table["endpoint"] == "brain_weight"].set_index("sex")
    return {sex: (int(r.n_studies), int(r.n_animals), round(float(r["mean"]), 6))
            for sex, r in bw.iterrows()}


def test_upgrade_warns_and_ranges_count_the_copy_once(old_db, caplog):
    with caplog.at_level(logging.WARNING):
        engine = db.connect(str(old_db))
    try:
        upgrade = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert upgrade == [
            "upgraded the historical control database from schema version 1: it holds a "
            "study twice (id 3 (study 'SYN-1') is the same study as id 1 (study 'SYN-1'; same "
            "control animals (9), same study number)); ranges leave the later copy out; "
            "'neurotox hcd list' shows it (column same_as)"]
        assert identity.duplicates_message(store.range_rows(engine)[1]) == (
            "the historical control database holds 1 later copy of studies stored before "
            "(added by an older neurotox): id 3 (study 'SYN-1') is the same study as id 1 "
            "(study 'SYN-1'; same control animals (9), same study number); ranges leave out id "
            "3. Repair: 'neurotox hcd remove ID --reason TEXT' for the copy that should go, "
            "or add the study again with --replace --reason TEXT")
        with engine.connect() as conn:
            assert [(d.copy, d.kept, d.reasons) for d in identity.duplicates(conn)] == \
                [(3, 1, ("same control animals (9)", "same study number"))]
        everything = store.fetch(engine, included_only=True)
        assert _brain(everything) == {"F": (3, 9, 1.9), "M": (3, 6, 2.1)}   # as before: wrong
        rows, copies = store.range_rows(engine)
        assert [d.copy for d in copies] == [3]
        assert sorted(rows["study_pk"].unique()) == [1, 2]
        assert _brain(rows) == {"F": (2, 6, 1.9), "M": (2, 4, 2.1)}
        listed = store.list_studies(engine)
        assert listed[["id", "study_id", "same_as"]].values.tolist() == \
            [[1, "SYN-1", ""], [2, "SYN-2", ""], [3, "SYN-1", "1"]]
        # repaired: the copy removed, nothing is left out any more
        store.remove(engine, "3", "stored twice by neurotox schema 1")
        assert store.range_rows(engine)[1] == []
    finally:
        engine.dispose()


def test_a_renumbered_rerun_stored_by_schema_1_counts_once(tmp_path, invoke, caplog):
    """SYN-1A: SYN-1 re-run under an amended number (no data files stored to compare)."""
    tb = tables()
    other = {"changes": {"dm": {"STUDYID": ["SYN-3"] * 11},     # same subject IDs, own values
                         "om": {"OMSTRESN": [v + 0.5 for v in tb["om"]["OMSTRESN"]]},
                         "bw": {"BWSTRESN": [v + 5.0 for v in tb["bw"]["BWSTRESN"]]}}}
    path = _schema1(tmp_path / "renum.sqlite", [("a", {}), ("renum", RENUMBERED),
                                                ("b", {"study_id": "SYN-2"}), ("c", other)])
    with caplog.at_level(logging.WARNING):
        engine = db.connect(str(path))
    try:
        assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
            "upgraded the historical control database from schema version 1: it holds a "
            "study twice (id 2 (study 'SYN-1A') is the same study as id 1 (study 'SYN-1'; "
            "same control animals (9))); ranges leave the later copy out; 'neurotox hcd list' "
            "shows it (column same_as)"]
        assert _brain(store.fetch(engine, included_only=True)) == \
            {"F": (4, 12, 2.025), "M": (4, 8, 2.225)}                # as before: wrong
        rows, copies = store.range_rows(engine)
        assert [(d.copy, d.kept) for d in copies] == [(2, 1)]      # SYN-3 is no copy
        # SYN-1 and SYN-2: F 1.8, 1.9, 2.0 twice, M 2.0, 2.2 twice; SYN-3 0.5 g heavier
        assert _brain(rows) == {"F": (3, 9, round((5.7 * 2 + 7.2) / 9, 6)),
                                "M": (3, 6, round((4.2 * 2 + 5.2) / 6, 6))}
    finally:
        engine.dispose()
    engine = db.connect(str(path))                     # already upgraded: found again
    try:
        assert store.list_studies(engine)[["id", "study_id", "same_as"]].values.tolist() == \
            [[1, "SYN-1", ""], [2, "SYN-1A", "1"], [3, "SYN-2", ""], [4, "SYN-3", ""]]
    finally:
        engine.dispose()
    res = invoke("hcd", "list", "--db", path)
    assert res.exit_code == 0 and "ranges leave id 2 out" in res.output, res.output
    res = invoke("hcd", "ranges", "--db", path, "--endpoint", "brain_weight")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    m = next(line.split() for line in lines if line.startswith("brain_weight   M"))
    assert m[4:7] == ["continuous", "3", "6"]
    assert "id 2 (study 'SYN-1A') is the same study as id 1 (study 'SYN-1'" in res.output


def test_cli_ranges_and_list_say_which_copy_is_left_out(old_db, invoke):
    res = invoke("hcd", "ranges", "--db", old_db, "--endpoint", "brain_weight")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    m = next(line.split() for line in lines if line.startswith("brain_weight   M"))
    assert m[4:7] == ["continuous", "2", "4"]            # 2 studies, 4 animals
    assert "ranges leave out id 3" in res.output
    res = invoke("--warnings-as-errors", "hcd", "ranges", "--db", old_db)
    assert res.exit_code == 2 and "id 3 (study 'SYN-1') is the same study as id 1" in res.output
    res = invoke("hcd", "list", "--db", old_db)
    assert res.exit_code == 0, res.output
    assert "same_as" in res.output.splitlines()[0]
    assert res.output.splitlines()[3].rstrip().endswith("1")
    assert "ranges leave id 3 out" in res.output


def test_entries_sharing_their_data_files_are_copies(tmp_path, hcd_engine):  # noqa: F811
    """SQLite and PostgreSQL: id 2 read from id 1's files is a copy of it."""
    engine = hcd_engine
    try:
        store.add(engine, send_batch(read_send(write_study(tmp_path / "a"))))
        store.add(engine, send_batch(read_send(write_study(tmp_path / "b", study_id="SYN-2"))))
        with engine.connect() as conn:
            assert identity.duplicates(conn) == []
        with engine.begin() as conn:      # as if id 2 had been read from id 1's files
            si = schema.study_input
            files = conn.execute(sa.select(si.c.path, si.c.sha256).where(si.c.study == 1)).all()
            conn.execute(si.delete().where(si.c.study == 2))
            conn.execute(si.insert(), [{"study": 2, "path": p, "sha256": h} for p, h in files])
        with engine.connect() as conn:
            found = identity.duplicates(conn)
        assert [(d.copy, d.copy_study_id, d.kept, d.reasons) for d in found] == \
            [(2, "SYN-2", 1, ("same data files (6)",))]
        rows, copies = store.range_rows(engine, endpoints=["brain_weight"])
        assert sorted(rows["study_pk"].unique()) == [1] and [d.copy for d in copies] == [2]
    finally:
        engine.dispose()


def test_a_read_only_old_database_is_refused_naming_the_file(old_db, monkeypatch):
    monkeypatch.setattr(db, "_writable", lambda path: False)     # a read-only share
    with pytest.raises(InputError) as err:
        db.connect(str(old_db), create=False, readonly=True)
    assert str(err.value) == (
        f"{old_db}: the database is read-only here and at schema version 1, not "
        f"{schema.SCHEMA_VERSION}: open it once where it can be written (any neurotox hcd "
        "command updates it)")

"""One study, one entry: re-runs, copies and re-exports of a stored study are refused or replace it.

SQLite and PostgreSQL alike. SEND studies are the hand-made ones of
:mod:`tests.send_files` (study SYN-1: 9 control animals, 5 included, 22 values).
"""

from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa
from tests.hcd_backends import hcd_engine, hcd_url  # noqa: F401  (fixtures)
from tests.send_files import BRAIN, TERMBW, tables, write_study

from neurotox.errors import InputError
from neurotox.hcd import db, identity, schema, store
from neurotox.hcd.send import send_batch
from neurotox.io.send import read_send

SAME_ANIMALS = "same control animals: 5 of 5 with the same subject IDs and values"


@pytest.fixture
def engine(hcd_engine):  # noqa: F811
    return hcd_engine


def counts(engine):
    with engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                     for t in (schema.study, schema.animal, schema.result, schema.study_input,
                               schema.audit))


def batch_of(folder, changes=None, drop=()):
    return send_batch(read_send(write_study(folder, changes, drop)))


def test_a_copy_of_a_send_study_elsewhere_is_refused(engine, tmp_path):
    first = batch_of(tmp_path / "a")
    store.add(engine, first)
    assert counts(engine) == (1, 9, 22, 6, 1)       # six .xpt files recorded
    shutil.copytree(tmp_path / "a", tmp_path / "copy")
    copy = send_batch(read_send(tmp_path / "copy"))
    with pytest.raises(InputError) as err:
        store.add(engine, copy)
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / 'copy'}: study 'SYN-1' is in the historical control "
                          f"database already as id 1 (study 'SYN-1', added ")
    assert msg.endswith(f" from {tmp_path / 'a'}; same source, same study number, same data "
                        f"files: bw.xpt, dm.xpt, lb.xpt and 3 more, {SAME_ANIMALS}); to add "
                        "this one instead, "
                        "give --replace --reason TEXT, or remove it first ('neurotox hcd remove "
                        "1 --reason TEXT')")
    assert "\n" not in msg
    assert counts(engine) == (1, 9, 22, 6, 1)


def test_a_re_export_with_other_bytes_is_refused_by_its_study_number(engine, tmp_path):
    store.add(engine, batch_of(tmp_path / "a"))
    # exported again: every file differs (here the title), the study number is the same
    again = batch_of(tmp_path / "b", {"ts": {"TSVAL": ["Synthetic 4-week study (v2)", "RAT",
                                                       "SPRAGUE-DAWLEY", "Water", "ORAL GAVAGE",
                                                       "2020-01-02", "Test Lab", "Supplier"]},
                                      "lb": {"LBSTRESU": ["mmol/L"] * 7}})
    assert again.source_hash != store.list_studies(engine)["source_hash"][0]
    with pytest.raises(InputError, match=r"already as id 1 \(study 'SYN-1', added .*; same study "
                                         r"number, "):
        store.add(engine, again)
    # the study number is compared without regard to case
    lower = batch_of(tmp_path / "c", {"dm": {"STUDYID": ["syn-1"] * 11}})
    with pytest.raises(InputError, match=r"study 'syn-1' is in the historical control "
                                         r"database already as id 1 .*same study number, "):
        store.add(engine, lower)
    assert counts(engine)[:3] == (1, 9, 22)


def test_the_same_data_under_another_study_number_is_refused(engine, tmp_path):
    store.add(engine, batch_of(tmp_path / "a"))
    # renumbered, one domain dropped: its remaining files are all among the stored study's
    renamed = batch_of(tmp_path / "b", drop=("lb",))
    renamed.study_id = "SYN-1-RERUN"
    with pytest.raises(InputError, match=r"study 'SYN-1-RERUN' is in the historical control "
                                         r"database already as id 1 \(study 'SYN-1', .*; same "
                                         r"data files: bw.xpt, dm.xpt, om.xpt and 2 more, "
                                         rf"{SAME_ANIMALS}\)"):
        store.add(engine, renamed)


def test_a_corrected_re_run_under_an_amended_number_is_refused(engine, tmp_path):
    store.add(engine, batch_of(tmp_path / "a"))
    # amended study number in dm and one corrected lb value: four of six files are
    # byte-identical, and the five included animals keep their IDs and values
    lb = tables()["lb"]["LBSTRESN"]
    amended = batch_of(tmp_path / "b", {"dm": {"STUDYID": ["SYN-1A"] * 11},
                                        "lb": {"LBSTRESN": [101.0, *lb[1:]]}})
    with pytest.raises(InputError, match=r"study 'SYN-1A' is in the historical control "
                                         r"database already as id 1 \(study 'SYN-1', .*; same "
                                         r"data files \(4 of 6\): bw.xpt, om.xpt, ts.xpt and 1 "
                                         rf"more, {SAME_ANIMALS}\); to add this one instead"):
        store.add(engine, amended)
    assert counts(engine)[:3] == (1, 9, 22)
    # the animals alone (a re-export: every file differs, subject IDs and values do not)
    title = ["Re-exported", *tables()["ts"]["TSVAL"][1:]]
    export = batch_of(tmp_path / "c", {"dm": {"STUDYID": ["SYN-1B"] * 11},
                                       "ts": {"TSVAL": title},
                                       "tx": {"SET": ["Controls"] * 7},
                                       "bw": {"BWSTRESU": ["G"] * 10},
                                       "om": {"OMSTRESU": ["G"] * 12},
                                       "lb": {"LBSTRESN": [101.0, *lb[1:]]}})
    with engine.connect() as conn:
        found = identity.matches(conn, study_id="SYN-1B", inputs=export.inputs,
                                 controls=export.control_values())
    assert [(m.id, m.reasons) for m in found] == [(1, (SAME_ANIMALS,))]
    # --replace replaces it
    added = store.add(engine, amended, replace="study number amended, glucose corrected")
    assert (added.id, [m.id for m in added.replaced]) == (2, [1])


def test_studies_sharing_one_file_or_animal_ids_are_different_studies(engine, tmp_path):
    store.add(engine, batch_of(tmp_path / "a"))
    # another study: its own number and subject IDs, but SYN-1's tx.xpt (one of six files)
    other = send_batch(read_send(write_study(tmp_path / "b", {"tx": tables()["tx"]},
                                             study_id="SYN-2")))
    added = store.add(engine, other)
    assert (added.id, added.study_id, added.animals) == (2, "SYN-2", 9)
    # subject IDs S-101 ... as SYN-1's, other values: not the same animals
    heavier = {"om": {"OMSTRESN": [b + 0.5 for b in BRAIN.values()] + [12.5]},
               "bw": {"BWSTRESN": [w + 7 for w in TERMBW.values()]},
               "lb": {"LBSTRESN": [None if v is None else v + 1
                                   for v in tables()["lb"]["LBSTRESN"]]}}
    third = send_batch(read_send(write_study(tmp_path / "c", heavier, study_id="SYN-3")))
    third.animals["subject"] = third.animals["subject"].str.removeprefix("SYN-3-")
    third.results["subject"] = third.results["subject"].str.removeprefix("SYN-3-")
    assert store.add(engine, third).id == 3
    assert counts(engine)[:4] == (3, 27, 66, 18)


def test_replace_removes_the_earlier_entry_in_the_same_transaction(engine, tmp_path):
    store.add(engine, batch_of(tmp_path / "a"))
    again = batch_of(tmp_path / "b", {"lb": {"LBSTRESU": ["mmol/L"] * 7}})
    with pytest.raises(InputError, match="a reason is required to replace a study"):
        store.add(engine, again, replace="  ")
    added = store.add(engine, again, replace="lb units corrected")
    assert added.id == 2 and [m.id for m in added.replaced] == [1]     # ids are never reused
    assert added.replaced[0].reasons == (
        "same study number", "same data files (5 of 6): bw.xpt, dm.xpt, om.xpt and 2 more",
        "same control animals: 5 of 5 with the same subject IDs and values")
    listed = store.list_studies(engine)
    assert listed["id"].tolist() == [added.id] and listed["source_hash"][0] == again.source_hash
    assert counts(engine) == (1, 9, 22, 6, 3)        # audit: add, remove, add
    log = store.audit_log(engine)
    assert log["action"].tolist() == ["add", "remove", "add"]
    assert log["reason"][1] == f"replaced by {tmp_path / 'b'}: lb units corrected"
    assert json.loads(log["detail"][2])["replaces"] == [1]
    units = set(store.fetch(engine, endpoints=["lb_gluc_serum"])["unit"])
    assert units == {"mmol/L"}


def test_a_version_1_database_is_migrated_and_keeps_its_studies(tmp_path):
    path = tmp_path / "v1.sqlite"
    eng = db.connect(str(path))
    store.add(eng, batch_of(tmp_path / "a"))
    with eng.begin() as conn:                      # as written by neurotox before version 2
        conn.execute(sa.text("DROP TABLE study_input"))
        conn.execute(schema.schema_table.delete().where(schema.schema_table.c.version >= 2))
    eng.dispose()
    eng = db.connect(str(path))
    try:
        with eng.connect() as conn:
            assert db.current_version(conn) == schema.SCHEMA_VERSION
            assert sa.inspect(conn).has_table("study_input")
        assert counts(eng) == (1, 9, 22, 0, 1)     # no data files known for the old entry
        # its study number still identifies it
        # its study number, and its animals (same subject IDs, same values)
        with pytest.raises(InputError, match=r"already as id 1 .*same study number, "
                                             rf"{SAME_ANIMALS}\)"):
            store.add(eng, batch_of(tmp_path / "b", {"lb": {"LBSTRESU": ["mmol/L"] * 7}}))
    finally:
        eng.dispose()


def test_empty_files_identify_nothing():
    assert identity.data_hashes({"a": identity.EMPTY_SHA256, "b": "ab" * 32}) == {"b": "ab" * 32}
    assert identity.study_key("  NTX-2026-001 ") == identity.study_key("ntx-2026-001")

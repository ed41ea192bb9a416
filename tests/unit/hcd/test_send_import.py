"""SEND reader and import rules on a hand-made study (tests/send_files.py)."""

from __future__ import annotations

import math

import pytest
from tests.send_files import tables, write_study

from neurotox.errors import InputError
from neurotox.hcd.send import animal_fields, role_of, send_batch, study_controls, trial_sets
from neurotox.io.send import read_send


@pytest.fixture
def study(tmp_path):
    return read_send(write_study(tmp_path / "syn"))


def test_reader_reads_every_domain_with_numbers_and_text(study):
    assert sorted(study.domains) == ["bw", "dm", "lb", "om", "ts", "tx"]
    dm = study.domains["dm"]
    assert len(dm) == 11 and dm["USUBJID"].iloc[-1] == "S-211"
    assert study.domains["om"]["OMSTRESN"].iloc[0] == 2.0
    assert math.isnan(study.domains["lb"]["LBSTRESN"].iloc[1])
    assert len(study.source_hash) == 64


def test_control_animals_roles_and_inclusion(study):
    batch = send_batch(study)
    a = batch.animals.set_index("subject")
    assert sorted(a.index) == ["S-101", "S-102", "S-103", "S-111", "S-112", "S-113", "S-121",
                               "S-122", "S-131"]            # treated animals not imported
    assert a.loc["S-121", "role"] == "recovery" and a.loc["S-131", "role"] == "tk"
    assert a.loc["S-101", "role"] == "main" and a.loc["S-101", "age_days"] == 56
    assert sorted(a.index[a["included"]]) == ["S-101", "S-102", "S-111", "S-112", "S-113"]
    assert "unscheduled death" in a.loc["S-103", "exclusion_reason"]
    assert "2020-01-10" in a.loc["S-103", "exclusion_reason"]
    assert a.loc["S-131", "exclusion_reason"] == "TK animal (set 3)"
    assert a.loc["S-101", "control_type"] == "Vehicle Control"
    listed = "\n".join(batch.excluded)
    for s in ("S-103", "S-121", "S-122", "S-131"):
        assert f"animal {s} " in listed


def test_include_recovery(study):
    a = send_batch(study, include_recovery=True).animals.set_index("subject")
    assert a.loc["S-121", "included"] and a.loc["S-122", "included"]
    assert not a.loc["S-131", "included"]


def test_values_censoring_flags_and_skips(study):
    batch = send_batch(study)
    r = batch.results.set_index(["subject", "endpoint"])
    assert r.loc[("S-101", "brain_weight"), "value"] == 2.0
    assert r.loc[("S-101", "brain_weight"), "timepoint"] == "NA"
    assert r.loc[("S-101", "terminal_body_weight"), "value"] == 400.0
    liver = r.loc[("S-101", "organ_weight_liver")]
    assert not liver["included"] and liver["exclusion_reason"].endswith("Weighed wet")
    glu = r.loc[("S-102", "lb_gluc_serum")]
    assert (glu["value"], glu["censoring"], glu["timepoint"]) == (5.0, "left", "day29")
    # the second same-day record of S-113 is not imported; the first one is
    assert r.loc[("S-113", "lb_gluc_serum"), "value"] == 90.0
    listed = "\n".join(batch.excluded)
    assert "1 value(s) not imported — lb: not done" in listed
    assert "1 value(s) not imported — lb: no numeric result (qualitative)" in listed
    assert "second record of the same animal, test and day" in listed
    assert batch.study["strain"] == "SPRAGUE-DAWLEY" and batch.study["vehicle"] == "Water"


@pytest.mark.parametrize(("label", "arm", "tkdesc", "role"), [
    ("Male, Vehicle, 0 mg/kg , NON-TK", "M - Vehicle", "NON-TK", "main"),
    ("Male, Vehicle, 0 mg/kg , TK", "M - Vehicle", "TK", "tk"),
    ("Control Vehicle TK", "Control Vehicle", "", "tk"),
    ("Control", "M - Vehicle - with recovery", "NON-TK", "recovery"),
    ("Control satellite", "Control", "", "satellite"),
    ("Control non-TK", "Control", "", "main"),
])
def test_role_rules(label, arm, tkdesc, role):
    from neurotox.hcd.send import SetInfo

    info = SetInfo("1", label, {"TKDESC": tkdesc} if tkdesc else {})
    assert role_of(info, arm) == role


def test_trial_sets_take_first_value(study):
    sets = trial_sets(study.domains["tx"])
    assert sets["1"].params["TCNTRL"] == "Vehicle Control" and "TCNTRL" not in sets["2"].params


def test_no_control_set_is_an_error(tmp_path):
    from tests.send_files import tables

    tx = tables()["tx"]
    folder = write_study(tmp_path / "s", {"tx": {**tx, "TXPARMCD": [
        "X" if p == "TCNTRL" else p for p in tx["TXPARMCD"]]}})
    with pytest.raises(InputError, match=r"tx\.xpt: no trial set has a control type"):
        send_batch(read_send(folder))


def test_an_ibm_float_zero_is_read_as_zero(tmp_path):
    # stranger42: PDS urine counts 0 were stored and shown as 5.397605e-79; pandas reads
    # the IBM-float zero (eight zero bytes, as SAS writes it) as 16**-65
    from tests.send_files import tables

    from neurotox.files import NOTE_SINK

    lb = tables()["lb"]["LBSTRESN"]
    notes: list[str] = []
    token = NOTE_SINK.set(notes.append)
    try:
        study = read_send(write_study(tmp_path / "z", {"lb": {"LBSTRESN": [0.0, *lb[1:]]}}))
    finally:
        NOTE_SINK.reset(token)
    values = study.domains["lb"]["LBSTRESN"]
    assert values.iloc[0] == 0.0 and values.iloc[2] == 110.0
    assert notes == ["lb.xpt: column 'LBSTRESN': 1 value(s) below 1e-70 (e.g. 5.39761e-79: an "
                     "IBM-float zero with a non-zero exponent) read as 0"]
    batch = send_batch(study)
    r = batch.results.set_index(["subject", "endpoint"])
    assert r.loc[("S-101", "lb_gluc_serum"), "value"] == 0.0


@pytest.mark.parametrize(("lloq", "limit"), [(None, None), (3.0, 3.0)])
def test_lo_results_are_stored_left_censored_and_counted(tmp_path, lloq, limit):
    """S-111's serum glucose reported "LO" (below the limit): censored, never dropped."""
    from neurotox.hcd.ranges import Query, ranges, select_rows

    lb = {"LBSTRESN": [100.0, None, None, None, None, 90.0, 95.0],
          "LBSTRESC": ["100", "<5", "LO", "", "NEG", "90", "95"]}
    if lloq is not None:
        lb["LBLLOQ"] = [None, None, lloq, None, None, None, None]
    batch = send_batch(read_send(write_study(tmp_path / "syn", {"lb": lb})))
    r = batch.results.set_index(["subject", "endpoint"])
    lo = r.loc[("S-111", "lb_gluc_serum")]
    assert lo["censoring"] == "left" and lo["timepoint"] == "day29"
    assert (math.isnan(lo["value"]) if limit is None else lo["value"] == limit)
    listed = "\n".join(batch.excluded)
    assert "1 value(s) not imported — lb: no numeric result (qualitative)" in listed   # NEG
    rows = batch.results.merge(batch.animals, on="subject", suffixes=("", "_animal"))
    rows = rows.rename(columns={"included_animal": "animal_included"}).assign(
        study_pk=1, source_hash="h", **{k: "" for k in ("species", "strain", "route",
                                                          "vehicle", "guideline", "facility",
                                                          "start_date")})
    glu = ranges(select_rows(rows, Query())).set_index(["endpoint", "sex"]).loc["lb_gluc_serum"]
    # F: S-111 LO (censored), S-112 not done, S-113 90; M: S-101 100, S-102 < 5
    assert glu.loc["F", ["n_animals", "n_censored", "mean"]].tolist() == [2, 1.0, 90.0]
    assert glu.loc["M", ["n_animals", "n_censored", "mean"]].tolist() == [2, 1.0, 100.0]


def _without_ts(code: str) -> dict[str, list]:
    ts = tables()["ts"]
    keep = [i for i, c in enumerate(ts["TSPARMCD"]) if c != code]
    return {k: [v[i] for i in keep] for k, v in ts.items()}


def test_strain_missing_from_ts_is_taken_from_dm_with_a_note(tmp_path):
    n = len(tables()["dm"]["USUBJID"])
    study = read_send(write_study(tmp_path / "s", {"ts": _without_ts("STRAIN"),
                                                   "dm": {"STRAIN": ["SPRAGUE-DAWLEY"] * n}}))
    controls = study_controls(study)
    fields, lines = animal_fields(study, controls)
    assert fields == {"strain": "SPRAGUE-DAWLEY"}
    assert lines == [(False, "strain 'SPRAGUE-DAWLEY' from dm STRAIN of the 9 control animal(s): "
                      "ts.xpt has no STRAIN")]
    assert send_batch(study, controls).study["strain"] == "SPRAGUE-DAWLEY"


def test_strain_and_species_from_tx_sets_when_ts_and_dm_lack_them(tmp_path):
    ts = _without_ts("STRAIN")
    ts = {k: [v[i] for i, c in enumerate(ts["TSPARMCD"]) if c != "SPECIES"]
          for k, v in ts.items()}
    tx = tables()["tx"]
    for setcd in ("1", "3"):
        for code, val in (("STRAIN", "Wistar Han"), ("SPECIES", "RAT")):
            for col, x in (("STUDYID", "SYN-1"), ("SETCD", setcd), ("SET", "Control"),
                           ("TXPARMCD", code), ("TXVAL", val)):
                tx[col] = [*tx[col], x]
    study = read_send(write_study(tmp_path / "s", {"ts": ts, "tx": tx}))
    fields, lines = animal_fields(study, study_controls(study))
    assert fields == {"strain": "Wistar Han", "species": "rat"}
    assert [w for w, _ in lines] == [False, False]
    assert lines[1][1].startswith("species 'RAT' from tx SPECIES of the 9 control animal(s)")


def test_control_animals_of_several_strains_are_a_warning(tmp_path):
    strains = ["SPRAGUE-DAWLEY"] * 5 + ["WISTAR"] * (len(tables()["dm"]["USUBJID"]) - 5)
    study = read_send(write_study(tmp_path / "s", {"ts": _without_ts("STRAIN"),
                                                   "dm": {"STRAIN": strains}}))
    controls = study_controls(study)
    fields, lines = animal_fields(study, controls)
    assert fields == {}
    assert lines == [(True, "control animals differ in strain (dm STRAIN: 'SPRAGUE-DAWLEY' (5), "
                      "'WISTAR' (4)) and ts.xpt has no STRAIN: stored without a strain (the "
                      "database holds one per study), so a --strain stratum leaves the study "
                      "out")]
    assert send_batch(study, controls).study["strain"] == ""


def test_strain_in_ts_is_kept_and_says_nothing(study):
    assert animal_fields(study, study_controls(study)) == ({}, [])


def test_import_notes_the_strain_and_ranges_name_a_study_without_one(tmp_path, invoke):
    # stranger43: a study whose strain is only in dm was stored without one, and a
    # --strain range then left it out without a word
    n = len(tables()["dm"]["USUBJID"])
    write_study(tmp_path / "dm_strain", {"ts": _without_ts("STRAIN"),
                                         "dm": {"STRAIN": ["SPRAGUE-DAWLEY"] * n}})
    write_study(tmp_path / "none", {"ts": _without_ts("STRAIN")}, study_id="SYN-2")
    write_study(tmp_path / "ts", study_id="SYN-3")
    db_file = tmp_path / "h.sqlite"
    res = invoke("hcd", "import-send", tmp_path / "dm_strain", "--db", db_file)
    assert res.exit_code == 0, res.output
    assert ("dm_strain: strain 'SPRAGUE-DAWLEY' from dm STRAIN of the 9 control animal(s): "
            "ts.xpt has no STRAIN") in res.output
    for name in ("none", "ts"):
        assert invoke("hcd", "import-send", tmp_path / name, "--db", db_file).exit_code == 0
    res = invoke("hcd", "ranges", "--db", db_file, "--endpoint", "brain_weight",
                 "--strain", "sprague-dawley")
    assert res.exit_code == 0, res.output
    assert ("WARNING: --strain leaves out 1 study (SYN-2), 5 control animal(s) within the other "
            "strata for want of a recorded strain") in res.output
    m = [line.split() for line in res.output.splitlines() if line.lstrip().startswith("brain")]
    assert [(r[1], r[5], r[6]) for r in m] == [("F", "2", "6"), ("M", "2", "4")]
    refused = invoke("--warnings-as-errors", "hcd", "ranges", "--db", db_file, "--endpoint",
                     "brain_weight", "--strain", "sprague-dawley")
    assert refused.exit_code == 2

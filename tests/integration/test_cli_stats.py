"""``neurotox stats`` end to end: files written, manifest intact, errors exit 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from neurotox.endpoints import as_written
from neurotox.stats import DECISION_COLUMNS, RESULT_COLUMNS

STUDY = """\
study_id: S-STATS
title: stats CLI test
test_item: X
groups:
  - {id: C, label: Control, dose: 0, dose_unit: mg/kg/day, control: true}
  - {id: L, label: Low, dose: 10, dose_unit: mg/kg/day}
  - {id: H, label: High, dose: 100, dose_unit: mg/kg/day}
statistics: {alpha: 0.05, sided: one, trend_test: true}
"""


def _write_inputs(folder):
    (folder / "study.yaml").write_text(STUDY)
    rng = np.random.default_rng(11)
    rows = []
    for k, (g, dose) in enumerate([("C", 0), ("L", 10), ("H", 100)]):
        for i in range(8):
            rows.append({"study_id": "S-STATS", "assay": "fob", "category": "neurobehavioral",
                         "endpoint": "grip_strength_forelimb", "unit": "g",
                         "subject": f"{g}{i}", "group": g, "dose": dose,
                         "dose_unit": "mg/kg/day", "sex": "M", "timepoint": "NA",
                         "value": 100 - 20 * k + rng.normal(0, 5), "excluded": False,
                         "exclusion_reason": "", "batch": "NA", "source": "test"})
    pd.DataFrame(rows).to_csv(folder / "endpoints.csv", index=False)


def test_stats_writes_results_decisions_and_manifest(invoke, tmp_path):
    _write_inputs(tmp_path)
    out = tmp_path / "out"
    r = invoke("stats", tmp_path / "endpoints.csv", "--study", tmp_path / "study.yaml",
               "-o", out)
    assert r.exit_code == 0, r.output
    assert "1 analyses, 3 group rows" in r.output
    for stem in ("results", "decisions"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.parquet").is_file()
    res = pd.read_parquet(out / "results.parquet")
    dec = pd.read_csv(out / "decisions.csv")
    assert list(res.columns) == RESULT_COLUMNS and list(dec.columns) == DECISION_COLUMNS
    assert list(res["flag"].fillna("")) == ["", "**", "**"]
    assert dec["pairwise_test"].item() == "Dunnett" and dec["sided"].item() == "one"
    manifest = json.loads((out / "manifest.json").read_text())
    assert "results.csv" in json.dumps(manifest) and "endpoints.csv" in json.dumps(manifest)
    assert invoke("verify", out).exit_code == 0


def test_stats_existing_output_and_bad_group_exit_2(invoke, tmp_path):
    _write_inputs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    r = invoke("stats", tmp_path / "endpoints.csv", "--study", tmp_path / "study.yaml",
               "-o", out)
    # beside its input files, as anywhere: the folder exists, and --force replaces it
    # (stranger26 F15, stranger27 F2: it was refused as "inside the folder of the input")
    assert r.exit_code == 2 and "output already exists; use --force" in r.output
    r = invoke("stats", tmp_path / "endpoints.csv", "--study", tmp_path / "study.yaml",
               "-o", out, "--force")
    assert r.exit_code == 0, r.output
    assert invoke("verify", out).exit_code == 0
    df = pd.read_csv(tmp_path / "endpoints.csv")
    df.loc[0, "group"] = "Z"
    df.to_csv(tmp_path / "endpoints.csv", index=False)
    r = invoke("stats", tmp_path / "endpoints.csv", "--study", tmp_path / "study.yaml",
               "-o", tmp_path / "out2")
    assert r.exit_code == 2
    assert "endpoints.csv, row 2, column 'group': group(s) 'Z' in the EndpointTable are " \
        "not defined in the study" in r.output
    assert not (tmp_path / "out2").exists()


def test_stats_applies_the_study_exclusions_file(invoke, tmp_path):
    _write_inputs(tmp_path)
    (tmp_path / "study.yaml").write_text(STUDY + "exclusions: exclusions.csv\n")
    (tmp_path / "exclusions.csv").write_text("subject,reason\nH0,gavage error on day 2\n")
    out = tmp_path / "out"
    r = invoke("stats", tmp_path / "endpoints.csv", "--study", tmp_path / "study.yaml",
               "-o", out)
    assert r.exit_code == 0, r.output
    res = pd.read_csv(out / "results.csv").set_index("group")
    assert res.loc["H", "n"] == 7 and res.loc["H", "n_excluded"] == 1
    table = pd.read_csv(tmp_path / "endpoints.csv")
    kept = table[(table["group"] == "H") & (table["subject"] != "H0")]["value"]
    # values are held to the 10 significant digits an EndpointTable is written with
    assert res.loc["H", "mean"] == pytest.approx(as_written(kept).mean(), rel=1e-12)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["exclusions"] == [{"rule": "manual exclusions file", "subject": "H0",
                                       "endpoint": "all", "reason": "gavage error on day 2",
                                       "values": 1}]


def test_values_the_censoring_policy_excludes_have_manifest_records(invoke, tmp_path):
    # stranger44 #7: policy 'exclude' dropped values with "exclusions": [] in the manifest
    _write_inputs(tmp_path)
    (tmp_path / "study.yaml").write_text(STUDY.replace(
        "trend_test: true}", "trend_test: true, censored: {policy: exclude}}"))
    table = pd.read_csv(tmp_path / "endpoints.csv")
    table["censoring"] = np.where(table["subject"].isin(["L3"]), "left", "none")
    table.loc[table["subject"] == "L3", "value"] = 50.0      # 1 of 8 in L: below 20 %
    table.to_csv(tmp_path / "endpoints.csv", index=False)
    out = tmp_path / "out"
    r = invoke("stats", tmp_path / "endpoints.csv", "--study", tmp_path / "study.yaml",
               "-o", out)
    assert r.exit_code == 0, r.output
    res = pd.read_csv(out / "results.csv").set_index("group")
    assert res.loc["L", "n"] == 7 and res.loc["L", "n_excluded"] == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["exclusions"] == [{
        "rule": "censoring policy", "assay": "fob", "endpoint": "grip_strength_forelimb",
        "subject": "L3", "group": "L",
        "reason": "below the limit (left-censored); censoring policy exclude", "values": 1,
        "limit": 50.0}]


def _unnamed_dose_table(folder):
    """The same values under free group names with no doses (a neurite run's table)."""
    _write_inputs(folder)
    t = pd.read_csv(folder / "endpoints.csv")
    t["group"] = t["group"].map({"C": "DMSO", "L": "drug 0,1 uM", "H": "drug_1,0 uM"})
    t["dose"], t["dose_unit"] = 0.0, "none"
    t.to_csv(folder / "named.csv", index=False)
    return t


def test_stats_without_study_names_the_control(invoke, tmp_path):
    from neurotox.stats import analyse
    from neurotox.study import Group, StatisticsPlan

    _unnamed_dose_table(tmp_path)
    r = invoke("stats", tmp_path / "named.csv", "-o", tmp_path / "no")
    assert r.exit_code == 2 and "name the control group with --control: the table gives no " \
        "doses" in r.output
    r = invoke("stats", tmp_path / "named.csv", "--control", "DSMO", "-o", tmp_path / "no")
    assert r.exit_code == 2 and "'DSMO' (did you mean 'DMSO'?)" in r.output
    r = invoke("stats", tmp_path / "named.csv", "--control", "dmso", "-o", tmp_path / "no")
    assert r.exit_code == 2 and "'dmso' (did you mean 'DMSO'?)" in r.output
    assert "named.csv" in r.output and not (tmp_path / "no").exists()
    out = tmp_path / "out"
    r = invoke("stats", tmp_path / "named.csv", "--control", "DMSO", "-o", out)
    assert r.exit_code == 0, r.output
    res = pd.read_csv(out / "results.csv")
    assert list(res.loc[res["is_control"], "group"]) == ["DMSO"]
    # the same numbers as the study-defined groups under the default plan
    table = pd.read_csv(tmp_path / "endpoints.csv")
    ref = analyse(table, StatisticsPlan(), [
        Group(id="C", label="C", dose=0, dose_unit="mg/kg/day", control=True),
        Group(id="L", label="L", dose=10, dose_unit="mg/kg/day"),
        Group(id="H", label="H", dose=100, dose_unit="mg/kg/day")]).results
    by_name = res.set_index("group").loc[["DMSO", "drug 0,1 uM", "drug_1,0 uM"]]
    np.testing.assert_allclose(by_name["mean"], ref["mean"])
    np.testing.assert_allclose(by_name["p_value"].iloc[1:], ref["p_value"].iloc[1:])
    assert by_name["trend_p"].isna().all()          # no doses: no dose-trend test
    assert invoke("verify", out).exit_code == 0


def test_a_table_of_one_group_is_refused(invoke, tmp_path):
    """A measure-only neurite run (group 'all'): nothing to compare, said at once."""
    t = _unnamed_dose_table(tmp_path)
    t.assign(group="all").to_csv(tmp_path / "one.csv", index=False)
    for extra in ((), ("--control", "all")):
        r = invoke("stats", tmp_path / "one.csv", *extra, "-o", tmp_path / "no")
        assert r.exit_code == 2
        assert "column 'group': the table has one group ('all'): nothing to compare" in r.output
    assert not (tmp_path / "no").exists()


def test_control_option_needs_no_study(invoke, tmp_path):
    _write_inputs(tmp_path)
    r = invoke("stats", tmp_path / "endpoints.csv", "--study", tmp_path / "study.yaml",
               "--control", "C", "-o", tmp_path / "out")
    assert r.exit_code == 2 and "--control is for tables analysed without --study" in r.output


def test_an_endpoint_table_resaved_by_a_spreadsheet_is_read_and_noted(invoke, tmp_path):
    # Excel in a German locale: ';' between cells, decimal commas, Windows-1252; the results
    # are those of the original and the manifest says how the table was read (stranger F16)
    _write_inputs(tmp_path)
    table = pd.read_csv(tmp_path / "endpoints.csv", keep_default_na=False)
    table.to_csv(tmp_path / "excel.csv", sep=";", decimal=",", index=False, encoding="cp1252")
    for name in ("endpoints.csv", "excel.csv"):
        r = invoke("stats", tmp_path / name, "--study", tmp_path / "study.yaml",
                   "-o", tmp_path / f"out-{name}")
        assert r.exit_code == 0, r.output
    a, b = (pd.read_parquet(tmp_path / f"out-{n}" / "results.parquet")
            for n in ("endpoints.csv", "excel.csv"))
    pd.testing.assert_frame_equal(a, b)
    notes = [json.loads((tmp_path / f"out-{n}" / "manifest.json").read_text())["notes"]
             for n in ("endpoints.csv", "excel.csv")]
    assert not any("read with" in n for n in notes[0])
    assert any(n.startswith("excel.csv read with encoding") and "delimiter ';'" in n
               and "decimal commas read as decimal points" in n for n in notes[1])


@pytest.mark.parametrize(("endpoint", "unit", "value", "expected"), [
    ("grip_strength_forelimb", "g", -12.5, "continuous endpoint 'grip_strength_forelimb' needs "
     "values of 0 or more (g), found -12.5 (subject 'C3')"),
    ("fob_gait_score", "score", 7, "ordinal endpoint 'fob_gait_score' needs whole numbers "
     "from 1 to 4, found 7 (subject 'C3')"),
    ("fob_tremors", "incidence", 2, "incidence endpoint 'fob_tremors' needs values 0 or 1, "
     "found 2 (subject 'C3')"),
])
def test_stats_and_report_refuse_a_value_outside_the_endpoint_domain(invoke, tmp_path, endpoint,
                                                                     unit, value, expected):
    """stranger29 F1/F2: impossible values were analysed (scores, counts, %) or named no row."""
    _write_inputs(tmp_path)
    df = pd.read_csv(tmp_path / "endpoints.csv")
    ok = {"grip_strength_forelimb": df["value"], "fob_gait_score": 2, "fob_tremors": 0}[endpoint]
    df = df.assign(endpoint=endpoint, unit=unit, value=ok)
    df.to_csv(tmp_path / "valid.csv", index=False)
    df.loc[3, "value"] = value
    df.to_csv(tmp_path / "endpoints.csv", index=False)
    r = invoke("stats", tmp_path / "valid.csv", "--study", tmp_path / "study.yaml",
               "-o", tmp_path / "ok")
    assert r.exit_code == 0, r.output
    line = f"{tmp_path / 'endpoints.csv'}, row 5, column 'value': {expected}"
    r = invoke("stats", tmp_path / "endpoints.csv", "--study", tmp_path / "study.yaml",
               "-o", tmp_path / "out")
    assert r.exit_code == 2 and line in r.output, r.output
    assert not (tmp_path / "out").exists()
    r = invoke("report", tmp_path / "study.yaml", "--endpoints", tmp_path / "endpoints.csv",
               "--format", "csv", "-o", tmp_path / "rep")
    assert r.exit_code == 2 and line in r.output, r.output



def _relabel(t):      # an animal of L relabelled H, its dose left at 10
    t.loc[t["subject"] == "L0", "group"] = "H"


def _dose(t):
    t.loc[t["subject"] == "L3", "dose"] = 20


def _unit_in_group(t):
    t.loc[t["subject"] == "L3", "dose_unit"] = "mg/kg"


def _unit_of_group(t):
    t.loc[t["group"] == "H", "dose_unit"] = "mg/kg"


@pytest.mark.parametrize(("change", "expected"), [
    (_relabel, "row 18, column 'dose': group 'H' has doses 10 (row 10) and 100;"),
    (_dose, "row 13, column 'dose': group 'L' has doses 10 (row 10) and 20;"),
    (_unit_in_group, "row 13, column 'dose_unit': group 'L' has dose units 'mg/kg/day' "
                     "(row 10) and 'mg/kg';"),
    (_unit_of_group, "row 18, column 'dose_unit': dose units differ: 'mg/kg/day' (row 2, "
                     "group 'C') and 'mg/kg' (group 'H'); doses of one table are compared on "
                     "one scale"),
])
def test_stats_without_study_refuses_a_group_of_two_doses_or_units(invoke, tmp_path, change,
                                                                   expected):
    """stranger29 F22: without --study a group's dose was its first row's (H at dose 10)."""
    _write_inputs(tmp_path)
    t = pd.read_csv(tmp_path / "endpoints.csv")
    change(t)
    t.to_csv(tmp_path / "mixed.csv", index=False)
    r = invoke("stats", tmp_path / "mixed.csv", "--control", "C", "-o", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert f"{tmp_path / 'mixed.csv'}, {expected}" in r.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("strict", [False, True])
def test_a_note_taken_before_the_output_folder_opens_reaches_the_run(invoke, tmp_path, strict):
    # the endpoint table is read before the output folder opens: its "looks cut" warning
    # was logged only, missing from the manifest notes and passing --warnings-as-errors
    _write_inputs(tmp_path)
    table = tmp_path / "endpoints.csv"
    table.write_bytes(table.read_bytes().rstrip(b"\n")[:-2])     # 'test' -> 'te', no line end
    out = tmp_path / "out"
    r = invoke(*(["--warnings-as-errors"] if strict else []), "stats", table, "-o", out)
    cut = ("endpoints.csv: the last line (line 25) has no line end and its last value 'te' "
           "is shorter than every other in its column: the file looks cut (a copy or "
           "transfer stopped); check it against the original export")
    if strict:
        assert r.exit_code == 2
        assert r.stderr.splitlines()[-1] == \
            f"Error: {cut} (a warning, an error under --warnings-as-errors)"
        assert not out.exists()
        return
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[-1] == "INFO: 1 warning(s) above"
    assert r.stderr.count(f"WARNING: {cut}") == 1
    notes = json.loads((out / "manifest.json").read_text())["notes"]
    assert notes.count(f"warning: {cut}") == 1


def _sessions(folder, spell=None, ranks=None):
    """Two sessions of 3 groups x 8 rats; the high dose lowers day-7 values."""
    _write_inputs(folder)
    t = pd.read_csv(folder / "endpoints.csv", keep_default_na=False)
    both = pd.concat([t.assign(timepoint="day7"),
                      t.assign(timepoint="day21", value=t["value"] + 3)], ignore_index=True)
    if spell is not None:   # the control's day 7 written another way
        both.loc[(both["group"] == "C") & (both["timepoint"] == "day7"), "timepoint"] = spell
    if ranks is not None:
        both["time_order"] = both["timepoint"].map(ranks)
    both.to_csv(folder / "endpoints.csv", index=False)
    return folder / "endpoints.csv"


def test_a_zero_padded_session_label_is_refused_not_a_new_session(invoke, tmp_path):
    """stranger39 C1: day07 beside day7 was a second session; the day-7 test vanished."""
    table = _sessions(tmp_path, spell="day07")
    r = invoke("stats", table, "--study", tmp_path / "study.yaml", "-o", tmp_path / "out")
    assert r.exit_code == 2
    assert r.output.strip().splitlines()[-1] == (
        f"Error: {table}, row 10, column 'timepoint': timepoint 'day7' and 'day07' (row 2) "
        "of assay 'fob' differ only in letter case, spaces, punctuation or leading zeros; "
        "write one session's label the same way throughout")
    assert not (tmp_path / "out").exists()


def test_a_time_order_against_the_labels_is_warned(invoke, tmp_path):
    """stranger39 C2: day21 placed before day7 was followed without a word."""
    table = _sessions(tmp_path, ranks={"day7": 2, "day21": 1})
    r = invoke("stats", table, "--study", tmp_path / "study.yaml", "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "WARNING: the EndpointTable column 'time_order' puts timepoints of assay 'fob' " \
           "against the order their labels say: 'day21' (time_order 1) before 'day7' " \
           "(time_order 2);" in r.output
    res = pd.read_csv(tmp_path / "out" / "results.csv")
    assert list(dict.fromkeys(res["timepoint"])) == ["day21", "day7"]   # followed
    r = invoke("--warnings-as-errors", "stats", table, "--study", tmp_path / "study.yaml",
               "-o", tmp_path / "out2")
    assert r.exit_code == 2
    table = _sessions(tmp_path, ranks={"day7": 1, "day21": 2})
    r = invoke("stats", table, "--study", tmp_path / "study.yaml", "-o", tmp_path / "out3")
    assert r.exit_code == 0 and "WARNING" not in r.output


@pytest.mark.parametrize(("column", "i", "value", "expected"), [
    ("subject", 16, "\u04211", "row 18, column 'subject': subject '\u04211' (row 18) and 'C1' "
                               "(row 3) differ only in letter case, invisible or look-alike "
                               "characters; give them IDs that read differently"),
    ("group", 23, "\u041d", "row 25, column 'group': group '\u041d' (row 25) and 'H' (row 18) "
                            "differ only in letter case"),
    # stranger55: a Cyrillic letter in one timepoint label made a third timepoint of n 1
    ("timepoint", 5, "N\u0410", "row 7, column 'timepoint': timepoint 'N\u0410' (row 7) and "
                                "'NA' (row 2) differ only in letter case"),
])
def test_stats_without_study_refuses_ids_that_read_alike(invoke, tmp_path, column, i, value,
                                                         expected):
    # stranger53 S7d: Latin 'G1M01' and Cyrillic 'G1М01' were two animals (rc 0); the
    # subjects file of a study refuses them
    _write_inputs(tmp_path)
    t = pd.read_csv(tmp_path / "endpoints.csv", dtype=str, keep_default_na=False)
    t.loc[i, column] = value
    t.to_csv(tmp_path / "alike.csv", index=False)
    r = invoke("stats", tmp_path / "alike.csv", "--control", "C", "-o", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert f"{tmp_path / 'alike.csv'}, {expected}" in r.output
    assert not (tmp_path / "out").exists()

"""Maze exports as labs save them, against the authors' own results (skipped without ../shared).

* RICAP hand-scored Y-maze sheet (14 rats, 4 banner rows): the authors' R output
  ``test2_authors_output.xlsx`` gives entries, doubles, doubles index, alternations
  and alternation index per rat (indices rounded to whole percent, R's ``round``).
* rrios ANY-maze per-sample zone export (one 10-min mouse trial): the authors'
  ``output.txt`` gives 37 entries (same-arm re-entries collapsed), 35 triplets,
  23 alternations, 65.71 %; PROVENANCE.md: 43 entries when every re-entry counts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurotox.cli.main import cli
from neurotox.workbook import read_excel

SHEET = "RICAP Y Maze Scoring Sheet copy.xlsx"
RICAP_IDS = [f"10.{k:02d}" for k in range(1, 15)]
ARMS = {"top": "A", "left": "B", "right": "C"}   # output.txt: A = top, B = left, C = right


@pytest.fixture(scope="module")
def ricap(shared_data):
    return shared_data / "rodent" / "ricap_ymaze_scoring_sheet"


@pytest.fixture(scope="module")
def rrios(shared_data):
    return shared_data / "rodent" / "rrios_anymaze_ymaze"


def _study(folder, subjects, sex="M"):
    """A one-group study as docs/assays.md tells a user to write it."""
    (folder / "study.yaml").write_text(
        "study_id: YM-1\ntitle: Y-maze\ntest_item: none\nsubjects: subjects.csv\ngroups:\n"
        "  - {id: ALL, label: All animals, dose: 0, dose_unit: none, control: true}\n")
    (folder / "subjects.csv").write_text(
        "subject,group,sex\n" + "".join(f"{s},ALL,{sex}\n" for s in subjects))
    return folder / "study.yaml"


def _run(runner, args):
    res = runner.invoke(cli, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def test_ricap_sheet_as_exported_reproduces_the_authors(ricap, tmp_path, runner):
    import pandas as pd

    study = _study(tmp_path, RICAP_IDS)
    out = tmp_path / "out"
    _run(runner, ["tmaze", ricap / SHEET, "--study", study, "-o", out])
    got = pd.read_csv(out / "tmaze_animals.csv", dtype={"subject": str}).set_index("subject")
    ref = read_excel(ricap / "test2_authors_output.xlsx")
    # the authors' R wrote some IDs as 10.119999999999999: compare in sheet order
    assert list(got.index) == RICAP_IDS and len(ref) == 14
    np.testing.assert_array_equal(got["sequence"], ref["Arm entries"])
    np.testing.assert_array_equal(got["entries"], ref["Total Entries"])
    np.testing.assert_array_equal(got["reentries"], ref["Total Doubles"])
    np.testing.assert_array_equal(got["alternations"], ref["Total Alternations"])
    # R's round() and Python's round() both round half to even (10.11: 12.5 % -> 12)
    assert [round(v) for v in got["alternation_pct"]] == list(ref["Alternations Index (%)"])
    assert [round(v) for v in got["reentry_pct"]] == list(ref["Doubles Index (%)"])
    assert got.loc["10.08", "alternation_pct"] == pytest.approx(100 * 18 / 32)
    assert got["notes"].fillna("").str.len().gt(0).sum() == 2
    manifest = json.loads((out / "manifest.json").read_text())
    text = json.dumps(manifest)
    assert "reentries: counted" in text
    assert "header in row 5 (4 banner row(s) above it skipped)" in text
    assert "note: Video labeled 10.12 says 10.11" in text
    ep = pd.read_csv(out / "endpoints.csv", dtype={"subject": str})
    doubles = ep[ep["endpoint"] == "tmaze_reentries"].set_index("subject")["value"]
    assert doubles.to_dict() == dict(zip(RICAP_IDS, ref["Total Doubles"].astype(float),
                                         strict=True))


def test_ricap_numeric_ids_match_a_subjects_file_by_value(ricap, tmp_path):
    """Cells 10.11-10.14 are numbers in the workbook; a subjects file may write 10.110."""
    from neurotox.assays.rodent.params import TmazeParameters
    from neurotox.assays.rodent.tmaze import analyse
    from neurotox.study import load_study

    ids = RICAP_IDS[:10] + ["10.110", "10.120", "10.130", "10.140"]
    study = load_study(_study(tmp_path, ids))
    res = analyse(study, [ricap / SHEET], TmazeParameters())
    assert sorted(res.endpoints["subject"].unique()) == sorted(ids)
    assert any("10.11 -> 10.110" in n for n in res.notes)


@pytest.mark.parametrize("rule, entries, windows, alternations, pct", [
    ("collapsed", 37, 35, 23, 100 * 23 / 35),   # output.txt: 37, 35, 23, 65.71 %
    ("counted", 43, 41, 19, 100 * 19 / 41)])    # PROVENANCE.md: 43 entries
def test_rrios_anymaze_zone_file_reproduces_the_authors(rrios, tmp_path, runner, rule, entries,
                                                       windows, alternations, pct):
    import pandas as pd

    study = _study(tmp_path, ["M1"])
    out = tmp_path / "out"
    _run(runner, ["tmaze", rrios / "ymaze.csv", "--study", study, "-o", out,
                  "--param", f"reentries={rule}", "--param", "file_subjects={ymaze.csv: M1}",
                  "--param", "zone_arms={top: A, left: B, right: C}"])
    a = pd.read_csv(out / "tmaze_animals.csv").iloc[0]
    assert (a["subject"], a["entries"], a["windows"], a["alternations"]) == \
        ("M1", entries, windows, alternations)
    assert a["alternation_pct"] == pytest.approx(pct)
    if rule == "collapsed":
        assert round(a["alternation_pct"], 2) == 65.71
        assert a["sequence"] == "CABCBCACBCACABACBABCABCACBCABACBACBAB"   # output.txt
    manifest = (out / "manifest.json").read_text()
    assert f"reentries: {rule}" in manifest and "no_zone_samples: exit" in manifest
    assert "subject 'M1' given by the protocol's file_subjects" in manifest


def test_rrios_subject_from_file_name_is_said(rrios, tmp_path):
    from neurotox.assays.rodent.params import TmazeParameters
    from neurotox.assays.rodent.tmaze_inputs import collect

    data = collect([rrios / "ymaze.csv"], TmazeParameters())
    assert set(data["entries"]["subject"]) == {"ymaze"}
    assert any("subject 'ymaze' taken from the file name" in n for n in data["notes"])
    # zones named as exported: top/left/right are arms, 'center' is not
    assert set(data["entries"]["arm"]) == {"top", "left", "right"}


def test_authors_output_sheet_reads_with_ids_written_by_r(ricap, tmp_path):
    """R wrote 10.12 as '10.119999999999999': matched to the subjects file by value."""
    from neurotox.assays.rodent.params import TmazeParameters
    from neurotox.assays.rodent.tmaze import analyse
    from neurotox.study import load_study

    study = load_study(_study(tmp_path, RICAP_IDS))
    res = analyse(study, [ricap / "test2_authors_output.xlsx"], TmazeParameters())
    per = res.details["tmaze_animals"].set_index("subject")
    assert sorted(per.index) == RICAP_IDS
    assert per.loc["10.12", "alternations"] == 18
    assert any("10.119999999999999 -> 10.12" in n for n in res.notes)

"""EthoVision XT multi-arena workbooks: every track sheet is a trial of its own.

The fixture is modelled on the layout of the Anderson NOR exports (EthoVision XT
"Export raw data" to Excel): one ``Track-Arena N-Subject 1`` sheet per arena with
its own header block (``Arena name``, ``mouse ID``) and a ``Trial Control-Arena
N`` event sheet per arena carrying the same block without zone columns. Arena 1
holds mouse M1 with the nose on the left object for 300 samples and on the right
one for 150 (9.9 s and 4.95 s at 0.033 s); arena 2 holds M2 with the objects the
other way round. Each value is compared with the same trial given as a
single-sheet file.
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from neurotox.assays.rodent.nor import nor_animals
from neurotox.assays.rodent.nor_inputs import collect
from neurotox.assays.rodent.params import NorParameters, TmazeParameters
from neurotox.errors import FormatError, InputError
from neurotox.io.rodent import read_rodent, read_rodent_trials

from .test_ethovision_raw import N, _cell, ev_rows, maze_rows, nose_seconds, write, write_xlsx

TRAINING, TEST = "10/03/2025 10:00:00.000", "10/03/2025 10:05:00.000"


def arena(k: int, rows: list[list[str]]) -> list[list[str]]:
    """``rows`` as arena ``k`` writes them: its arena name, and for arena 2 the objects swapped."""
    rows = [list(r) for r in rows]
    for r in rows[1:int(rows[0][1])]:
        if r and r[0] == "Arena name":
            r[1] = f"Arena {k}"
    if k == 2:
        for r in rows[int(rows[0][1]):]:
            if r[6] != "-":
                r[6], r[7] = r[7], r[6]
    return rows


def trial_rows(k: int, subject: str, *, start: str = TEST, trial: str = "Trial     2",
               **kw) -> list[list[str]]:
    return arena(k, ev_rows(subject=subject, start=start, trial=trial, **kw))


def workbook(path, *tracks, hidden: tuple[int, ...] = ()):
    """Track sheets then one Trial Control sheet per arena, as EthoVision orders them."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for k, rows in enumerate(tracks, start=1):
        ws = wb.create_sheet(f"Track-Arena {k}-Subject 1")
        for r in rows:
            ws.append([_cell(c) for c in r])
        if k in hidden:
            ws.sheet_state = "hidden"
    for k, rows in enumerate(tracks, start=1):
        ws = wb.create_sheet(f"Trial Control-Arena {k}")
        for r in rows[:int(rows[0][1]) - 2]:
            ws.append([_cell(c) for c in r])
        ws.append(["Trial time", "Recording time", "Event", "Rule"])
        ws.append(["s", "s", "", ""])
        ws.append([2.0, 0.0, "becomes active", "Start-stop trial"])
    wb.save(path)
    return path


def test_every_track_sheet_is_a_trial_read_as_its_single_sheet_file(tmp_path):
    path = workbook(tmp_path / "Raw data-NOR-Trial 2.xlsx", trial_rows(1, "M1"),
                    trial_rows(2, "M2"))
    trials = read_rodent_trials(path)
    assert [(d.meta["subject"], d.sheet) for d in trials] == [
        ("M1", "Track-Arena 1-Subject 1"), ("M2", "Track-Arena 2-Subject 1")]
    assert [nose_seconds(d) for d in trials] == [(9.9, 4.95), (4.95, 9.9)]
    for k, (d, subject) in enumerate(zip(trials, ("M1", "M2"), strict=True), start=1):
        single = read_rodent(write_xlsx(tmp_path / f"{subject}.xlsx", trial_rows(k, subject)))
        assert single.sheet is None
        assert d.table.equals(single.table)
        for key in ("trial", "start_time", "sample_interval_s", "missing_samples",
                    "gap_samples", "n_samples"):
            assert d.meta[key] == single.meta[key], key
        assert d.meta["header"]["Arena name"] == f"Arena {k}"
    assert trials[1].notes[0] == ("Raw data-NOR-Trial 2.xlsx[Track-Arena 2-Subject 1]: subject "
                                  "'M2' read from the file; trial 'Trial 2'")
    assert trials[0].notes[-1] == "Raw data-NOR-Trial 2.xlsx: format ethovision-raw (detected)"


def _nor(files, params=None):
    params = params or NorParameters(novel_default="L")
    data = collect(files, params)
    animals = nor_animals(data["exploration"], data["key"], data["flags"], params,
                          data["tracking"])
    return animals.set_index(["subject", "phase"]), data["notes"]


def test_nor_from_two_workbooks_equals_nor_from_four_single_files(tmp_path):
    def rows(k, subject, start, trial, lost=None):
        return trial_rows(k, subject, start=start, trial=trial, lost=lost)

    day = [("training", TRAINING, "Trial     1", None), ("test", TEST, "Trial     2", (600, 700))]
    books = [workbook(tmp_path / f"{phase}.xlsx", rows(1, "M1", start, trial),
                      rows(2, "M2", start, trial, lost))
             for phase, start, trial, lost in day]
    singles = [write(tmp_path / f"{s}_{phase}.csv", rows(k, s, start, trial,
                                                         lost if s == "M2" else None))
               for phase, start, trial, lost in day for k, s in ((1, "M1"), (2, "M2"))]
    got, notes = _nor(books)
    want, _ = _nor(singles)
    values = ["time_a_s", "time_b_s", "total_s", "index", "latency_a_s", "excluded",
              "exclusion_reason"]
    pd.testing.assert_frame_equal(got[values], want[values])
    # the real values: M1 explores the left (novel) object 9.9 s, M2 the right one 9.9 s
    assert tuple(got.loc[("M1", "test"), ["time_a_s", "time_b_s"]]) == pytest.approx((9.9, 4.95))
    assert tuple(got.loc[("M2", "test"), ["time_a_s", "time_b_s"]]) == pytest.approx((4.95, 9.9))
    assert got.loc[("M2", "test"), "index"] == pytest.approx(-1 / 3)
    assert got.loc[("M1", "training"), "source"] == "training.xlsx[Track-Arena 1-Subject 1]:Trial 1"
    # M2's test lost 100 samples ('-'): said for its sheet, below the 0.2 limit
    assert "test.xlsx[Track-Arena 2-Subject 1] (subject M2, test): 100 of 900 samples (3.3 s) " \
           "lost: 100 with the nose point not found ('-'), counted as outside every zone" in notes
    assert not got["excluded"].any()


def test_each_sheet_gets_the_single_file_checks(tmp_path):
    cut = trial_rows(2, "M2")[:-450]
    with pytest.raises(FormatError, match=r"two\.xlsx, sheet 'Track-Arena 2-Subject 1': the "
                       r"samples end at 15\.000 s .* the export is cut short"):
        read_rodent_trials(workbook(tmp_path / "two.xlsx", trial_rows(1, "M1"), cut))
    frames = trial_rows(2, "M2", units=["frames", "s", "cm", "", "", "", "", ""])
    with pytest.raises(FormatError, match=r"two\.xlsx, sheet 'Track-Arena 2-Subject 1', row 15: "
                       r"column 'Trial time' is in 'frames' \(units row\)"):
        read_rodent_trials(workbook(tmp_path / "two.xlsx", trial_rows(1, "M1"), frames))
    rows = trial_rows(2, "M2")
    k = len(rows) - N
    gap = rows[:k + 600] + rows[k + 690:]                   # 90 samples absent from arena 2
    trials = read_rodent_trials(workbook(tmp_path / "two.xlsx", trial_rows(1, "M1"), gap))
    assert [d.meta["gap_samples"] for d in trials] == [0, 90]
    ms = trial_rows(2, "M2", units=["ms", "ms", "cm", "", "", "", "", ""])
    for r in ms[len(ms) - N:]:
        r[0], r[1] = (f"{float(c) * 1000:.0f}" for c in r[:2])
    trials = read_rodent_trials(workbook(tmp_path / "two.xlsx", trial_rows(1, "M1"), ms))
    assert nose_seconds(trials[1]) == (4.95, 9.9)
    assert "two.xlsx[Track-Arena 2-Subject 1]: column 'Trial time' in ms converted to s" \
        in trials[1].notes


def test_start_dates_of_each_sheet_order_the_trials(tmp_path):
    # arena 2's sheets carry the dates day-first (30/09 -> 01/10): read per trial, one convention
    books = [workbook(tmp_path / f"{p}.xlsx",
                      trial_rows(1, "M1", start=start, trial=trial),
                      trial_rows(2, "M2", start=start, trial=trial))
             for p, start, trial in (("b", "01/10/2025 10:00:00.000", "Trial     2"),
                                     ("a", "30/09/2025 10:00:00.000", "Trial     1"))]
    got, notes = _nor(books)
    assert got.loc[("M2", "training"), "source"] == "a.xlsx[Track-Arena 2-Subject 1]:Trial 1"
    assert got.loc[("M2", "test"), "source"] == "b.xlsx[Track-Arena 2-Subject 1]:Trial 2"
    assert "b.xlsx[Track-Arena 2-Subject 1]: subject M2 trial Trial 2 taken as the test phase " \
           "(order of start time)" in notes


@pytest.mark.parametrize("case, error, message", [
    ("no animal", FormatError,
     r"two\.xlsx, sheet 'Track-Arena 2-Subject 1': no animal named in the header block "
     r"\(expected one of 'animal', 'animal id', 'mouse id', 'rat id', 'subject'\)"),
    ("given", InputError,
     r"two\.xlsx: file_subjects gives one subject \('M9'\) for a workbook of 2 track sheets"),
    ("same trial", InputError,
     r"subject 'M1': the same trial \(start 10/03/2025 10:05:00\.000\) found in two inputs, "
     r".*two\.xlsx\[Track-Arena 1-Subject 1\] and .*two\.xlsx\[Track-Arena 2-Subject 1\]"),
])
def test_a_sheet_that_cannot_stand_for_its_animal_is_refused(tmp_path, case, error, message):
    second = trial_rows(2, {"no animal": None, "given": "M2", "same trial": "M1"}[case])
    path = workbook(tmp_path / "two.xlsx", trial_rows(1, "M1"), second)
    params = NorParameters(novel_default="L",
                           file_subjects={"two.xlsx": "M9"} if case == "given" else {})
    with pytest.raises(error, match=message):
        collect([path], params)


def test_hidden_track_sheet_is_not_read_and_said(tmp_path):
    path = workbook(tmp_path / "two.xlsx", trial_rows(1, "M1"), trial_rows(2, "M2"),
                    hidden=(2,))
    trials = read_rodent_trials(path)
    assert [d.meta["subject"] for d in trials] == ["M1"] and trials[0].sheet is None
    assert trials[0].notes[0] == ("warning: two.xlsx: hidden track sheet(s) "
                                  "'Track-Arena 2-Subject 1' not read (unhide them to analyse "
                                  "their trials)")


def test_tmaze_reads_every_arena_like_its_single_file(tmp_path, make_study):
    from neurotox.assays.rodent.tmaze import analyse

    study = make_study([("M1", "C", "M"), ("M2", "C", "M")], groups=("C",))
    params = TmazeParameters(zone_arms={"arm A": "A", "arm B": "B", "arm C": "C"})
    m2 = maze_rows(lost=(100, 500))
    m2[m2.index(["mouse ID", "M1"])] = ["mouse ID", "M2"]
    book = workbook(study.folder / "maze.xlsx", maze_rows(), m2)
    got = analyse(study, [book], params).details["tmaze_animals"].set_index("subject")
    singles = [write(study.folder / "m1.csv", maze_rows()), write(study.folder / "m2.csv", m2)]
    want = analyse(study, singles, params).details["tmaze_animals"].set_index("subject")
    cols = ["entries", "excluded", "exclusion_reason"]
    pd.testing.assert_frame_equal(got[cols], want[cols])
    assert got.loc["M1", "entries"] == 9 and not got.loc["M1", "excluded"]
    assert got.loc["M2", "entries"] == 5
    assert got.loc["M2", "exclusion_reason"].startswith("tracking error (44% of samples missing)")


def test_a_third_trial_of_an_animal_names_every_file_in_start_order(tmp_path):
    # stranger52 e22: a retest 24 h later (Trial 2b) given beside training and test
    paths = [write(tmp_path / f"{name}.txt", ev_rows(subject="M1", start=start, trial=trial))
             for name, start, trial in (("retest", "11/03/2025 10:05:00.000", "Trial     2b"),
                                        ("test", TEST, "Trial     2"),
                                        ("training", TRAINING, "Trial     1"))]
    with pytest.raises(InputError) as err:
        collect(paths, NorParameters(novel_default="L"))
    assert str(err.value) == (
        f"{paths[0]}: subject 'M1' has 3 trials, in {paths[2]} (start {TRAINING}), {paths[1]} "
        f"(start {TEST}), {paths[0]} (start 11/03/2025 10:05:00.000); expected a training and "
        "a test trial (a retest? analyse each session's files in its own run)")

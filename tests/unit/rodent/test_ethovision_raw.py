"""EthoVision XT raw-data exports: dialects, cut files, time units and steps, zone flags, losses.

The fixture is modelled on the layout of EthoVision XT's "Export raw data" (header
block with durations, column-name and units rows, 30-Hz samples with times
rounded to the ms); the nose is in the left object zone for a known run of
samples and in the right one for another, so exploration times are known:
300 and 150 samples of 0.033 s (the median step of times rounded to the ms).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from neurotox.assays.rodent.nor import nor_animals
from neurotox.assays.rodent.nor_inputs import collect
from neurotox.assays.rodent.nor_objects import names_over_key
from neurotox.assays.rodent.params import NorParameters
from neurotox.errors import FormatError, InputError
from neurotox.io.rodent import read_rodent

N, HZ, AFTER = 900, 30, 2.0
LEFT, RIGHT = (60, 360), (400, 550)
NAMES = ["Trial time", "Recording time", "X center",
         "Target visits and errors(All of Center-point, Nose-point / floor)",
         "In zone(round object left / Center-point)", "In zone(round object right / Center-point)",
         "In zone(round object left / Nose-point)", "In zone(round object right / Nose-point)"]
UNITS = ["s", "s", "cm", "", "", "", "", ""]


def clock(seconds: float) -> str:
    """A header duration as EthoVision writes it (``+ 00:00:30.000``)."""
    m, s = divmod(seconds, 60)
    return f"+ 00:{int(m):02d}:{s:06.3f}"


def ev_rows(*, subject: str | None = "M1", start: str = "10/03/2025 10:05:00.000",
            trial: str = "Trial     2", n: int = N, units: list[str] | None = None,
            lost: tuple[int, int] | None = None) -> list[list[str]]:
    """Header block, names, units and ``n`` samples; ``lost``: samples with '-' zones."""
    head = [["Experiment", "NOR"], ["Trial name", trial], ["Arena name", "Arena 1"],
            ["Subject name", "Subject 1"], ["Subject ID", "0"], ["Start time", start],
            ["Trial duration", clock(AFTER + n / HZ)], ["Recording after", clock(AFTER)],
            ["Recording duration", clock(n / HZ)], ["User-defined Independent Variable"]]
    head += [["mouse ID", subject]] if subject else []
    head += [[" "]]
    rows = [["Number of header lines:", str(len(head) + 3)], *head, list(NAMES),
            list(units or UNITS)]
    for i in range(n):
        zones = [0, 0, int(LEFT[0] <= i < LEFT[1]), int(RIGHT[0] <= i < RIGHT[1])]
        cells = [str(z) for z in zones]
        if lost and lost[0] <= i < lost[1]:
            cells = ["-"] * 4
        rows.append([f"{AFTER + i / HZ:.3f}", f"{i / HZ:.3f}", f"{-40 + i / 100:.3f}", "0",
                     *cells])
    return rows


def write(path, rows, *, sep=";", encoding="utf-8", decimal_comma=False, tail="",
          quoting=csv.QUOTE_MINIMAL):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n", quoting=quoting)
    for k, r in enumerate(rows):
        if decimal_comma and k > len(rows) - N - 1:
            r = [c.replace(".", ",") for c in r]
        writer.writerow(r)
    path.write_bytes((out.getvalue() + tail).encode(encoding))
    return path


def _cell(text: str) -> object:
    """A workbook cell as EthoVision writes it: numbers as numbers, '-' and labels as text."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def write_xlsx(path, *tracks):
    """A workbook with one track sheet per arena and the trial-control event sheet."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for k, rows in enumerate(tracks, start=1):
        ws = wb.create_sheet(f"Track-Arena {k}-Subject 1")
        for r in rows:
            ws.append([_cell(c) for c in r])
    control = wb.create_sheet("Trial Control-Arena 1")
    control.append(["Number of header lines:", 5])
    control.append(["Experiment", "NOR"])
    control.append([" "])
    control.append(["Trial time", "Recording time", "Event", "Rule"])
    control.append(["s", "s"])
    control.append([2.0, 0, "becomes active", "Start-stop trial"])
    wb.save(path)
    return path


def nose_seconds(data):
    t = data.table
    dt = data.meta["sample_interval_s"]
    return (round(t["nose:round object left"].sum() * dt, 6),
            round(t["nose:round object right"].sum() * dt, 6))


@pytest.mark.parametrize("name, options", [
    ("comma.csv", {"sep": ","}),                      # header cell with a comma, quoted
    ("semi.csv", {"sep": ";"}),
    ("tab.txt", {"sep": "\t"}),
    ("unicode.txt", {"sep": "\t", "encoding": "utf-16"}),   # Excel's "Unicode text" (BOM)
    ("decimal.csv", {"sep": ";", "decimal_comma": True}),
])
def test_text_dialects_read_alike(tmp_path, name, options):
    data = read_rodent(write(tmp_path / name, ev_rows(), **options))
    assert data.fmt == "ethovision-raw"
    assert data.meta["sample_interval_s"] == 0.033
    assert nose_seconds(data) == (9.9, 4.95)
    assert data.table["time_s"].iloc[[0, -1]].tolist() == [2.0, 31.967]
    assert data.meta["subject"] == "M1" and data.meta["trial"] == "Trial 2"


@pytest.mark.parametrize("label", [
    "Number of header lines:",        # EthoVision's txt export: every cell quoted, ';'
    "Number_of_header_lines",         # as R's write.table names it
    "NUMBER OF HEADER LINES:", " Number of header lines: ", "Number.of.header.lines",
])
def test_header_label_is_found_folded_as_the_reader_folds_it(tmp_path, label):
    # the detector compared the raw first line; the reader folds case and separators
    rows = ev_rows()
    rows[0][0] = label
    path = write(tmp_path / "Raw data-NOR-Trial 2.txt", rows, quoting=csv.QUOTE_ALL)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == f'"{label}";"{rows[0][1]}"'
    data = read_rodent(path)
    assert data.fmt == "ethovision-raw"
    assert nose_seconds(data) == (9.9, 4.95)
    xlsx = read_rodent(write_xlsx(tmp_path / "Raw data-NOR-Trial 2.xlsx", rows))
    assert xlsx.fmt == "ethovision-raw" and xlsx.table.equals(data.table)


def test_xlsx_reads_like_text(tmp_path):
    data = read_rodent(write_xlsx(tmp_path / "Raw data-NOR-Trial 2.xlsx", ev_rows()))
    text = read_rodent(write(tmp_path / "t.csv", ev_rows()))
    assert nose_seconds(data) == (9.9, 4.95)
    assert data.table.equals(text.table)


def test_read_rodent_refuses_a_workbook_of_several_trials_naming_them(tmp_path):
    # one trial per call: read_rodent_trials reads them all (test_ethovision_arenas.py)
    path = write_xlsx(tmp_path / "two.xlsx", ev_rows(), ev_rows(subject="M2"))
    with pytest.raises(FormatError, match=r"two\.xlsx: the file holds 2 trials "
                       r"\('Track-Arena 1-Subject 1', 'Track-Arena 2-Subject 1'\); read it "
                       r"with read_rodent_trials"):
        read_rodent(path)


def test_export_cut_at_a_row_is_refused_with_both_times(tmp_path):
    rows = ev_rows()[:-450]
    with pytest.raises(FormatError, match=r"the samples end at 15\.000 s \('Recording time' of "
                       r"the last sample plus one sample\) but the header's Recording duration "
                       r"is 30\.000 s: the export is cut short"):
        read_rodent(write(tmp_path / "cut.csv", rows))


def test_export_cut_mid_line_is_refused_naming_the_line(tmp_path):
    rows = ev_rows()
    path = write(tmp_path / "cut.csv", rows[:-450], tail="16.999;15.000;-38.5")
    with pytest.raises(FormatError, match=rf"cut\.csv, line {len(rows) - 449}: expected 8 cells "
                       r"like the header, found 3 \(truncated file"):
        read_rodent(path)


def test_header_duration_longer_than_the_data_is_refused(tmp_path):
    rows = ev_rows()
    rows[9][1] = "+ 00:10:00.000"           # Recording duration edited
    with pytest.raises(FormatError, match="header's Recording duration is 600.000 s"):
        read_rodent(write(tmp_path / "edited.csv", rows))


def test_time_in_ms_is_converted(tmp_path):
    rows = ev_rows(units=["ms", "ms", *UNITS[2:]])
    first = len(rows) - N
    for r in rows[first:]:
        r[0], r[1] = (f"{float(c) * 1000:.0f}" for c in r[:2])
    data = read_rodent(write(tmp_path / "ms.csv", rows))
    assert nose_seconds(data) == (9.9, 4.95)
    assert data.table["time_s"].iloc[-1] == pytest.approx(31.967)
    assert "ms.csv: column 'Trial time' in ms converted to s" in data.notes


def test_time_in_frames_is_refused_naming_column_and_unit(tmp_path):
    rows = ev_rows(units=["frames", "s", *UNITS[2:]])
    with pytest.raises(FormatError, match=r"row 15: column 'Trial time' is in 'frames' \(units "
                                          r"row\); expected a time in s, ms, min or h"):
        read_rodent(write(tmp_path / "frames.csv", rows))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.__setitem__(slice(500, 500), d[300:400]),     # a block repeated
     r"row 516, column 'Trial time': time 12 s is earlier than the sample before it "
     r"\(18\.633 s\)"),
    (lambda d: d.insert(11, list(d[10])),                        # one frame twice
     r"row 27, column 'Trial time': time 2\.333 s repeats the sample before it "
     r"\(duplicated frames\?\)"),
])
def test_time_must_increase(tmp_path, change, message):
    rows = ev_rows()
    data = rows[len(rows) - N:]
    change(data)
    with pytest.raises(FormatError, match=message):
        read_rodent(write(tmp_path / "t.csv", rows[:len(rows) - N] + data))


def test_zone_flag_other_than_0_1_dash_is_refused(tmp_path):
    rows = ev_rows()
    rows[len(rows) - N + 100][6] = "2"
    with pytest.raises(FormatError, match=r"row 116, column 'In zone\(round object left / "
                                          r"Nose-point\)': expected 0, 1 or '-' \(zone "
                                          r"membership\), found '2'"):
        read_rodent(write(tmp_path / "z.csv", rows))


def test_subject_id_is_not_an_animal(tmp_path):
    data = read_rodent(write(tmp_path / "ID7701_t2.csv", ev_rows(subject=None)))
    assert data.meta["subject"] == "ID7701_t2"
    assert any("taken from the file name" in n for n in data.notes)


def test_lost_samples_and_gaps_are_counted(tmp_path):
    rows = ev_rows(lost=(200, 500))
    gap = rows[:len(rows) - N + 600] + rows[len(rows) - N + 690:]     # 90 samples cut out
    data = read_rodent(write(tmp_path / "g.csv", gap))
    assert data.meta["missing_samples"] == {"center": 300, "nose": 300}
    assert data.meta["gap_samples"] == 90 and data.meta["n_samples"] == N - 90


def _nor(tmp_path, test_rows, params=None):
    train = write(tmp_path / "t1.csv", ev_rows(start="10/03/2025 10:00:00.000",
                                               trial="Trial     1"))
    test = write(tmp_path / "t2.csv", test_rows)
    params = params or NorParameters(novel_default="L")
    data = collect([train, test], params)
    animals = nor_animals(data["exploration"], data["key"], data["flags"], params,
                          data["tracking"]).set_index("phase")
    return animals.loc["test"], data["notes"]


def test_nor_complete_trial_included(tmp_path):
    test, _ = _nor(tmp_path, ev_rows())
    assert (test["time_a_s"], test["time_b_s"]) == pytest.approx((9.9, 4.95))
    assert test["index"] == pytest.approx(1 / 3)
    assert not test["excluded"]


def test_nor_lost_tracking_excludes_as_tracking_error_not_exploration(tmp_path):
    # '-' in samples 200-499: 300 of 900 lost; the nose time left drops to 140 samples
    test, notes = _nor(tmp_path, ev_rows(lost=(200, 500)))
    assert test["time_a_s"] == pytest.approx(140 * 0.033)
    assert test["excluded"]
    assert test["exclusion_reason"] == (
        "tracking error (33% of samples missing): 300 of 900 samples (9.9 s) lost: 300 with "
        "the nose point not found ('-')")
    assert "total test exploration" not in test["exclusion_reason"]
    assert any(n.startswith("warning: t2.csv (subject M1, test): 300 of 900 samples")
               for n in notes)


def test_nor_gap_in_time_excludes_as_tracking_error(tmp_path):
    rows = ev_rows()
    k = len(rows) - N
    test, _ = _nor(tmp_path, rows[:k + 100] + rows[k + 400:])    # samples 100-399 missing
    assert test["exclusion_reason"].startswith(
        "tracking error (33% of samples missing): 300 of 900 samples (9.9 s) lost: 300 absent "
        "from the time column (gaps)")


def test_nor_small_loss_is_said_not_excluded(tmp_path):
    test, notes = _nor(tmp_path, ev_rows(lost=(600, 690)))       # 10 %: below 0.2
    assert not test["excluded"]
    assert "t2.csv (subject M1, test): 90 of 900 samples (3.0 s) lost: 90 with the nose point " \
           "not found ('-'), counted as outside every zone" in notes
    limit = NorParameters(novel_default="L", max_missing_fraction=0.05)
    test, _ = _nor(tmp_path, ev_rows(lost=(600, 690)), limit)
    assert test["exclusion_reason"].startswith("tracking error (10% of samples missing)")


def test_header_line_count_off_by_one_names_the_line(tmp_path):
    rows = ev_rows()
    rows[0][1] = "16"                       # one more than the 15 header lines
    with pytest.raises(FormatError, match=r"line 15: expected the column names \('Trial time' "
                                          r"\.\.\.\) on line 15, as 'Number of header lines: 16' "
                                          r"says; found 's;s;cm;;;;;'"):
        read_rodent(write(tmp_path / "h.csv", rows))


def maze_rows(lost: tuple[int, int] | None = None) -> list[list[str]]:
    """The export with its zones as maze arms: centre point in arm A, B, A, C for 100 samples."""
    rows = ev_rows(lost=lost)
    rows[len(rows) - N - 2][4:] = ["In zone(arm A / Center-point)", "In zone(arm B / Center-point)",
                                   "In zone(arm C / Center-point)", "In zone(arm A / Nose-point)"]
    for i, r in enumerate(rows[len(rows) - N:]):
        if r[4] != "-":
            arm = "ABAC"[(i // 100) % 4] if (i // 100) % 2 == 0 or i % 100 < 90 else ""
            r[4:7] = [str(int(arm == a)) for a in "ABC"]
    return rows


def test_tmaze_lost_tracking_excludes_as_tracking_error_not_min_entries(tmp_path, make_study):
    from neurotox.assays.rodent.params import TmazeParameters
    from neurotox.assays.rodent.tmaze import analyse

    study = make_study([("M1", "C", "M")], groups=("C",))
    params = TmazeParameters(zone_arms={"arm A": "A", "arm B": "B", "arm C": "C"})
    whole = analyse(study, [write(study.folder / "m1.csv", maze_rows())], params)
    animal = whole.details["tmaze_animals"].iloc[0]
    assert (animal["entries"], animal["excluded"]) == (9, False)
    lost = analyse(study, [write(study.folder / "m1.csv", maze_rows(lost=(100, 500)))], params)
    animal = lost.details["tmaze_animals"].iloc[0]
    assert animal["entries"] == 5 and animal["excluded"]
    assert animal["exclusion_reason"] == (
        "tracking error (44% of samples missing): 400 of 900 samples (13.2 s) lost: 400 with "
        "the center point not found ('-')")
    assert any(n.startswith("warning: m1.csv (subject M1): 400 of 900 samples") for n in
               lost.notes)


def _named_objects(left: str, right: str) -> pd.DataFrame:
    return pd.DataFrame({"subject": "M1", "phase": "test", "object": [left, right],
                         "time_s": [12.0, 4.0], "bouts": np.nan, "latency_s": np.nan,
                         "climbing_s": 0.0, "source": "t2.csv:Trial 2"})


def test_zones_named_novel_and_familiar_say_which_is_novel():
    key = pd.DataFrame({"subject": ["M1"], "novel": ["right"], "source": ["key.csv:row 2"]})
    flags = pd.DataFrame(columns=["subject", "phase", "reason", "source"])
    animals = nor_animals(_named_objects("novel object", "familiar object"), key, flags,
                          NorParameters())
    a = animals.iloc[0]
    assert (a["object_a"], a["time_a_s"], a["index"]) == ("novel object", 12.0, 0.5)
    assert names_over_key(animals, key) == [
        "subject M1 test: the zone names say 'novel object' is novel; the key's 'right' "
        "(key.csv:row 2) is not used (a side cannot be checked against names without one)"]
    with pytest.raises(InputError, match=r"subject 'M1' \(t2\.csv:Trial 2\): the object names "
                                         r"say 'novel object left' is novel and the key "
                                         r"\(key\.csv:row 2\) says 'right'"):
        nor_animals(_named_objects("novel object left", "familiar object right"), key, flags,
                    NorParameters())

"""Attacks on input integrity: YAML that says one thing and means another, studies that
contradict themselves, inputs that are not files or are too big, cells that lie.

Every error case runs the CLI and asserts the corpus contract (exit 2, one line naming
the file and the thing, no output folder); the "means what it says" cases assert the
value the study ends up with.
"""

from __future__ import annotations

import io
import os
import signal
import zipfile
from pathlib import Path

import pytest

from tests.robustness import test_rodent_corpus as rodent
from tests.robustness import test_stats_corpus as stats
from tests.robustness import test_study_corpus as study
from tests.robustness.corpus import Case, invoke, materialise, run_case

CHECK = study.CHECK
BASE = study.BASE
STUDY = study.STUDY


def yml(old: str, new: str) -> dict:
    return study.study(old, new)


def with_file(name: str, data: str | bytes) -> dict:
    return {**BASE, name: data}


def in_vivo(name: str, data: str) -> dict:
    """The base study without plate layouts (every subject is an animal) and one file changed."""
    files = {**BASE, name: data}
    files["study.yaml"] = STUDY.replace("plate_layouts: {P1: layout.csv}\n", "")
    return files


def subjects(rows: str) -> dict:
    return with_file("subjects.csv", "subject,group,sex,litter\n" + rows)


def _xlsx(rows: list[list[object]], *, extra: dict[str, object] | None = None) -> bytes:
    """A one-sheet workbook of ``rows`` (openpyxl), with ``extra`` cells by coordinate."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Scores"
    for r in rows:
        ws.append(r)
    for coord, value in (extra or {}).items():
        ws[coord] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _patch_xlsx(data: bytes, part: str, old: bytes, new: bytes) -> bytes:
    """Replace bytes inside one part of a workbook (to plant what openpyxl will not write)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == part:
                assert old in blob, (part, old)
                blob = blob.replace(old, new, 1)
            dst.writestr(info.filename, blob)
    return out.getvalue()


NOR_ROWS = [[c.strip() for c in line.split(",")] for line in rodent.NOR.strip().splitlines()]
NOR_NUM = [NOR_ROWS[0]] + [[r[0], r[1], float(r[2]), float(r[3]), r[4]] for r in NOR_ROWS[1:]]
NOR_XLSX = _xlsx(NOR_NUM)


def nor_xlsx(data: bytes) -> dict:
    return {**rodent.BASE, "nor.xlsx": data}


NOR_X = rodent.nor_args("nor.xlsx")

# -------------------------------------------------------------- YAML means what it says

YAML_ERRORS = [
    Case("yaml-base60-dose", yml("dose: 5,", "dose: 1:40,"), CHECK,
         "key 'groups[2].dose'", "study.yaml"),
    Case("yaml-duplicate-key-in-group", yml("dose: 5,", "dose: 5, dose: 50,"), CHECK,
         "line 7, column 35: duplicate key 'dose' (first given on line 7)", "study.yaml"),
    Case("yaml-duplicate-groups", {**BASE, "study.yaml": STUDY + "groups:\n  - {id: C, label: "
                                   "C, dose: 0, dose_unit: mg/kg, control: true}\n"}, CHECK,
         "duplicate key 'groups' (first given on line 4)", "study.yaml"),
    Case("yaml-duplicate-top-key-differently-quoted",
         {**BASE, "study.yaml": STUDY + "'title': other\n"}, CHECK,
         "duplicate key 'title' (first given on line 2)", "study.yaml"),
    Case("yaml-duplicate-statistics-key",
         {**BASE, "study.yaml": STUDY + "statistics: {alpha: 0.05, alpha: 0.5}\n"}, CHECK,
         "duplicate key 'alpha'", "study.yaml"),
    Case("yaml-duplicate-key-in-protocol",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: p.yaml, "
                                        "input: layout.csv}\n",
          "p.yaml": "name: p\nassay: nor\ntitle: t\nparameters:\n  min_exploration_s: 10\n"
                    "  min_exploration_s: 1\n"},
         CHECK, "line 6, column 3: duplicate key 'min_exploration_s'", "p.yaml"),
    Case("yaml-overflow-dose", yml("dose: 5,", "dose: 1e400,"), CHECK,
         "number 1e400 is too large (overflows to infinity)", "study.yaml"),
    Case("yaml-huge-integer", yml("dose: 5,", "dose: " + "9" * 5000 + ","), CHECK,
         "integer with 5000 digits is too large", "study.yaml"),
    Case("yaml-alias-bomb", {**BASE, "study.yaml": STUDY + "sponsor: &a0 [x, x, x, x, x, x, x, "
                             "x, x, x]\n" + "".join(
                                 f"s{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
                                 for i in range(1, 8))}, CHECK,
         "expands to more than 200000 nodes through its aliases", "study.yaml"),
    Case("yaml-merge-key-is-text", {**BASE, "study.yaml": STUDY + "<<: {sponsor: x}\n"}, CHECK,
         "key '<<': unknown key", "study.yaml"),
]


@pytest.mark.parametrize("case", YAML_ERRORS, ids=[c.id for c in YAML_ERRORS])
def test_yaml_errors(case, tmp_path):
    run_case(case, tmp_path)


@pytest.mark.parametrize(("old", "new", "shown"), [
    ("dose: 5,", "dose: 010,", "group H: High, 10 mg/kg"),            # YAML 1.1: 8
    ("dose: 5,", "dose: 0o17,", "group H: High, 15 mg/kg"),           # explicit octal
    ("dose: 5,", "dose: 1e1,", "group H: High, 10 mg/kg"),            # 1.1: the text '1e1'
    ("label: Low,", "label: no,", "group L: no, 1 mg/kg"),            # 1.1: False
    ("label: Low,", "label: Off,", "group L: Off, 1 mg/kg"),
    ("title: Robustness study", "title: 2026-01-15", "S-1: 2026-01-15"),   # 1.1: a date
    ("study_id: S-1", "study_id: 2026-01-15", "2026-01-15: Robustness study"),
    ("test_item: X", "test_item: yes", "test item: yes;"),
])
def test_yaml_values_mean_what_they_say(tmp_path, old, new, shown):
    """Octal-looking, yes/no, base-60 and date-looking values keep their YAML 1.2 meaning."""
    materialise(yml(old, new), tmp_path)
    r = invoke(CHECK, tmp_path)
    assert r.exit_code == 0, r.output
    assert shown in r.output


@pytest.mark.parametrize(("param", "match"), [
    ("x=[", "--param x, line 1, column 2: invalid YAML"),
    ("min_entries=&a [*a]", "--param min_entries, line 1, column 1: recursive alias"),
    ("min_entries=!!python/object/apply:os.system [true]", "unsafe or unknown YAML tag"),
    ("min_entries=1e999", "--param min_entries, line 1, column 1: number 1e999 is too large"),
    ("=3", "expected KEY=VALUE"),
    ("window", "expected KEY=VALUE"),
    ("min entries=3", "expected KEY=VALUE with a parameter name as KEY"),
    ("min_entries=1:40", "--param, key 'min_entries'"),
])
def test_param_overrides_fail_in_one_line(tmp_path, param, match):
    materialise({**rodent.BASE, "entries.csv": rodent.ENTRIES}, tmp_path)
    r = invoke(rodent.tm_args("entries.csv", "--param", param), tmp_path)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and match in lines[0], r.output
    assert not (tmp_path / "out").exists()


def test_param_given_twice_is_an_error(tmp_path):
    materialise({**rodent.BASE, "entries.csv": rodent.ENTRIES}, tmp_path)
    r = invoke(rodent.tm_args("entries.csv", "--param", "window=3", "--param", "window=4"),
               tmp_path)
    assert r.exit_code == 2 and "--param: parameter 'window' is given twice" in r.output


def test_param_octal_looking_value_is_decimal(tmp_path):
    import json

    materialise({**rodent.BASE, "entries.csv": rodent.ENTRIES}, tmp_path)
    r = invoke(rodent.tm_args("entries.csv", "--param", "min_entries=010"), tmp_path)
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["parameters"]["effective"]["min_entries"] == 10   # YAML 1.1: 8


# -------------------------------------------------------------- the study checked against itself

STUDY_ERRORS = [
    Case("dose-units-differ", yml("dose: 5, dose_unit: mg/kg}", "dose: 5, dose_unit: mg/kg/day}"),
         CHECK, "groups use different dose units: 'mg/kg' (C, L); 'mg/kg/day' (H)",
         "study.yaml"),
    Case("dose-unit-case-differs", yml("dose: 5, dose_unit: mg/kg}", "dose: 5, dose_unit: MG/KG}"),
         CHECK, "groups use different dose units", "study.yaml"),
    Case("control-above-treated", yml("dose: 0, dose_unit", "dose: 2, dose_unit"), CHECK,
         "control group 'C' has dose 2, above the dose 1 of treated group 'L'", "study.yaml"),
    Case("doses-out-of-order", yml("dose: 5,", "dose: 0.5,"), CHECK,
         "group doses are not in one order with the group list (C 0, L 1, H 0.5)", "study.yaml"),
    Case("control-listed-in-between", study.study(
        "  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}\n"
        "  - {id: L, label: Low, dose: 1, dose_unit: mg/kg}\n",
        "  - {id: L, label: Low, dose: 1, dose_unit: mg/kg}\n"
        "  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}\n"), CHECK,
         "group doses are not in one order with the group list (L 1, C 0, H 5)", "study.yaml"),
    Case("subject-ids-differ-in-case", subjects("A1,C,M,L1\nA2,L,F,L2\nA3,H,M,L3\na1,H,F,L4\n"),
         CHECK, "subject 'a1' (row 5) and 'A1' (row 2) differ only in letter case, invisible or "
         "look-alike characters", "subjects.csv"),
    Case("subject-ids-differ-by-zero-width-space",
         subjects("A1,C,M,L1\nA2,L,F,L2\nA3,H,M,L3\nA1\u200b,H,F,L4\n"), CHECK,
         "subject 'A1\\u200b' (row 5) and 'A1' (row 2) differ only", "subjects.csv"),
    # a byte-order mark inside a file is never data: it is removed, the IDs are equal
    Case("subject-ids-differ-by-bom",
         subjects("A1,C,M,L1\nA2,L,F,L2\nA3,H,M,L3\n\ufeffA2,H,F,L4\n"), CHECK,
         "row 5, column 'subject': subject 'A2' appears twice", "subjects.csv"),
    Case("subject-ids-differ-by-cyrillic-letter",
         subjects("A1,C,M,L1\nA2,L,F,L2\nA3,H,M,L3\n\u04101,H,F,L4\n"), CHECK,
         "subject '\u04101' (row 5) and 'A1' (row 2) differ only", "subjects.csv"),
    Case("subject-ids-differ-by-dash", subjects("A-1,C,M,L1\nA2,L,F,L2\nA3,H,M,L3\nA\u20131,H,"
                                                "F,L4\n"), CHECK,
         "subject 'A\u20131' (row 5) and 'A-1' (row 2) differ only", "subjects.csv"),
    Case("subject-ids-differ-in-width", subjects("A1,C,M,L1\nA2,L,F,L2\nA3,H,M,L3\n\uff21\uff13,H,"
                                                 "F,L4\n"), CHECK,
         "and 'A3' (row 4) differ only", "subjects.csv"),
    Case("subject-id-with-invisible-character",
         subjects("A1,C,M,L1\nA2,L,F,L2\nA3\u2060,H,M,L3\n"), CHECK,
         "row 4, column 'subject': subject 'A3\\u2060' holds the invisible character U+2060 "
         "(WORD JOINER)", "subjects.csv"),
    Case("subject-id-with-nbsp", subjects("A1,C,M,L1\nA2,L,F,L2\nA\u00a03,H,M,L3\n"), CHECK,
         "invisible character U+00A0 (NO-BREAK SPACE)", "subjects.csv"),
    Case("exclusion-unknown-subject", in_vivo("exclusions.csv", study.EXCL + "A9,escaped\n"),
         CHECK, "row 3, column 'subject': subject 'A9' is not in the study's subjects file",
         "exclusions.csv"),
    Case("exclusion-subject-wrong-case", in_vivo("exclusions.csv", "subject,reason\na3,dead\n"),
         CHECK, "subject 'a3' is not in the study's subjects file", "exclusions.csv"),
    Case("exclusion-unknown-endpoint",
         with_file("exclusions.csv", "subject,endpoint,reason\nA3,brain_weigth,dropped\n"), CHECK,
         "row 2, column 'endpoint': unknown endpoint 'brain_weigth'", "exclusions.csv"),
    Case("exclusion-misspelt-column",
         with_file("exclusions.csv", "subject,timpoint,reason\nA3,week4,dropped\n"), CHECK,
         "unexpected column(s) 'timpoint'", "exclusions.csv"),
    Case("exclusion-repeated-row",
         with_file("exclusions.csv", "subject,reason\nA3,dead\nA3,dead again\n"), CHECK,
         "row 3: repeats row 2", "exclusions.csv"),
]


@pytest.mark.parametrize("case", STUDY_ERRORS, ids=[c.id for c in STUDY_ERRORS])
def test_study_contradictions(case, tmp_path):
    run_case(case, tmp_path)


def test_micro_sign_and_greek_mu_are_one_unit(tmp_path):
    files = yml("dose: 0, dose_unit: mg/kg", "dose: 0, dose_unit: \u00b5M")
    files["study.yaml"] = files["study.yaml"].replace("dose: 1, dose_unit: mg/kg",
                                                      "dose: 1, dose_unit: \u03bcM")
    files["study.yaml"] = files["study.yaml"].replace("dose: 5, dose_unit: mg/kg",
                                                      "dose: 5, dose_unit: \u00b5M")
    materialise(files, tmp_path)
    r = invoke(CHECK, tmp_path)
    assert r.exit_code == 0, r.output
    assert "group L: Low, 1 \u00b5M" in r.output     # the Greek mu written as the micro sign


def _stats_cell(column: str, value: str) -> dict:
    files = stats.cell(column, value)
    files["study.yaml"] = stats.STUDY + "subjects: subjects.csv\n"
    files["subjects.csv"] = "subject,group,sex\n" + "".join(
        f"{g}{i},{g},M\n" for g in "CH" for i in range(6))
    return files


STATS_ERRORS = [
    Case("stats-unknown-animal", _stats_cell("subject", "C9"), stats.st(),
         "row 4, column 'subject': subject 'C9' is not in the study's subjects file",
         "ept.csv"),
    Case("stats-animal-in-other-group", _stats_cell("subject", "H5"), stats.st(),
         "row 4, column 'group': subject 'H5' has group 'H' in the subjects file, found 'C'",
         "ept.csv"),
    Case("stats-animal-of-other-sex", _stats_cell("sex", "F"), stats.st(),
         "row 4, column 'sex': subject 'C2' has sex 'M' in the subjects file, found 'F'",
         "ept.csv"),
    Case("report-endpoints-unknown-animal", _stats_cell("subject", "C9"), stats.rep(),
         "subject 'C9' is not in the study's subjects file", "ept.csv"),
    Case("exclusion-unknown-timepoint",
         {**_stats_cell("value", "2.02"), "study.yaml": stats.STUDY + "subjects: subjects.csv\n"
          "exclusions: excl.csv\n", "excl.csv": "subject,timepoint,reason\nC2,week9,sick\n",
          # every animal has values (one without would rightly warn first)
          "subjects.csv": "subject,group,sex\n" + "".join(f"{g}{i},{g},M\n" for g in "CH"
                                                          for i in range(5))},
         stats.st(), "row 2: subject 'C2', timepoint 'week9' matches no value", "excl.csv"),
]


@pytest.mark.parametrize("case", STATS_ERRORS, ids=[c.id for c in STATS_ERRORS])
def test_endpoint_table_against_subjects(case, tmp_path):
    run_case(case, tmp_path)


# -------------------------------------------------------------- inputs that are not files

def _fifo(name: str):
    def setup(folder: Path) -> None:
        (folder / name).unlink(missing_ok=True)
        os.mkfifo(folder / name)
    return setup


def _link_to(name: str, target: str):
    def setup(folder: Path) -> None:
        (folder / name).unlink(missing_ok=True)
        (folder / name).symlink_to(target)
    return setup


NOT_FILES = [
    Case("study-is-fifo", BASE, CHECK, "expected a regular file, found a FIFO", "study.yaml",
         setup=_fifo("study.yaml")),
    Case("subjects-is-fifo", BASE, CHECK, "expected a regular file, found a FIFO",
         "subjects.csv", setup=_fifo("subjects.csv")),
    Case("layout-links-out-to-dev-zero", BASE, CHECK, "path 'layout.csv' leaves the study "
         "folder", "study.yaml", setup=_link_to("layout.csv", "/dev/zero")),
    Case("nor-input-is-dev-zero", {**rodent.BASE, "nor.csv": rodent.NOR}, rodent.nor_args(),
         "expected a regular file, found a character device", "nor.csv",
         setup=_link_to("nor.csv", "/dev/zero")),
    Case("stats-table-is-dev-urandom", stats.BASE, stats.st(), "found a character device",
         "ept.csv", setup=_link_to("ept.csv", "/dev/urandom")),
    Case("nor-input-is-fifo", {**rodent.BASE, "nor.csv": rodent.NOR}, rodent.nor_args(),
         "expected a regular file, found a FIFO", "nor.csv", setup=_fifo("nor.csv")),
    Case("stats-table-is-fifo", stats.BASE, stats.st(), "expected a regular file, found a FIFO",
         "ept.csv", setup=_fifo("ept.csv")),
    Case("protocol-is-fifo", {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, "
                              "protocol: p.yaml, input: layout.csv}\n", "p.yaml": "x"},
         CHECK, "expected a regular file, found a FIFO", "p.yaml", setup=_fifo("p.yaml")),
]


@pytest.fixture
def alarm():
    """Fail instead of hanging for good (a FIFO opened for reading blocks)."""
    def on_alarm(signum, frame):
        raise TimeoutError("the command blocked")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("case", NOT_FILES, ids=[c.id for c in NOT_FILES])
def test_inputs_that_are_not_files(case, tmp_path, alarm):
    run_case(case, tmp_path)


def _device(name: str):
    def setup(folder: Path) -> None:
        import stat

        (folder / name).unlink(missing_ok=True)
        os.mknod(folder / name, stat.S_IFCHR | 0o666, os.makedev(1, 5))   # like /dev/zero
    return setup


DEVICES = [
    Case("layout-is-a-device", BASE, CHECK, "expected a regular file, found a character device",
         "layout.csv", setup=_device("layout.csv")),
    Case("exclusions-is-a-device", BASE, CHECK, "found a character device", "exclusions.csv",
         setup=_device("exclusions.csv")),
    Case("study-is-a-device", BASE, CHECK, "found a character device", "study.yaml",
         setup=_device("study.yaml")),
]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="making a device file needs root")
@pytest.mark.parametrize("case", DEVICES, ids=[c.id for c in DEVICES])
def test_device_files_inside_the_study(case, tmp_path, alarm):
    run_case(case, tmp_path)


# -------------------------------------------------------------- too big, sparse, lying cells

CELL_ERRORS = [
    Case("xlsx-stray-far-cell", nor_xlsx(_xlsx(NOR_NUM, extra={"XFD1048576": 1})), NOR_X,
         "sheet 'Scores', cell XFD1048576: cell XFD1048576 lies far outside the table (the "
         "other cells end at E13)", "nor.xlsx"),
    Case("xlsx-stray-far-row", nor_xlsx(_xlsx(NOR_NUM, extra={"B1048000": "x"})), NOR_X,
         "cell B1048000 lies far outside", "nor.xlsx"),
    Case("xlsx-formula-without-value", nor_xlsx(_xlsx(
        [NOR_NUM[0], ["C1", "test", "=1+1", 3.0, "L"], *NOR_NUM[1:]])), NOR_X,
         "sheet 'Scores', cell C2: formula without a saved value", "nor.xlsx"),
    Case("xlsx-number-overflows", nor_xlsx(_patch_xlsx(NOR_XLSX, "xl/worksheets/sheet1.xml",
                                                       b"<v>15</v>", b"<v>1e999</v>")), NOR_X,
         "sheet 'Scores', cell C2: number inf is not finite", "nor.xlsx"),
    Case("xlsx-not-a-number", nor_xlsx(_patch_xlsx(NOR_XLSX, "xl/worksheets/sheet1.xml",
                                                   b"<v>15</v>", b"<v>NaN</v>")), NOR_X,
         "cell C2: cannot read the cell", "nor.xlsx"),
    Case("xlsx-unpacks-too-large", nor_xlsx(_xlsx(NOR_NUM + [["pad", "x" * 30000]] * 60)),
         ("--max-unpacked-size", "1M", *NOR_X), "the workbook unpacks to", "nor.xlsx"),
    Case("csv-larger-than-limit", {**rodent.BASE, "nor.csv": rodent.NOR + "#" * 4096 + "\n"},
         ("--max-file-size", "4K", *rodent.nor_args()), "more than the limit of 4.0 KiB",
         "nor.csv"),
    Case("csv-nul-byte", {**rodent.BASE, "nor.csv": rodent.NOR.replace("C3,test", "C3\x00,test")},
         rodent.nor_args(), "line 7, cell 1: NUL character", "nor.csv"),
    Case("subjects-nul-byte", with_file("subjects.csv", study.SUBJECTS.replace("A2,L", "A2,L\x00")),
         CHECK, "line 3, cell 2: NUL character", "subjects.csv"),
    Case("ept-nul-byte", stats.ept("bw.csv:row 4", "bw.csv:row\x004"), stats.st(),
         "line 4, cell 16: NUL character", "ept.csv"),
    Case("param-overflows", {**rodent.BASE, "nor.csv": rodent.NOR},
         rodent.nor_args("nor.csv", "--param", "min_exploration_s=1e999"),
         "number 1e999 is too large", "--param"),
]


@pytest.mark.parametrize("case", CELL_ERRORS, ids=[c.id for c in CELL_ERRORS])
def test_bounded_and_honest_cells(case, tmp_path):
    run_case(case, tmp_path)


def test_size_limit_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROTOX_MAX_FILE_SIZE", "1K")
    materialise({**rodent.BASE, "nor.csv": rodent.NOR + "#" * 2048 + "\n"}, tmp_path)
    r = invoke(rodent.nor_args(), tmp_path)
    assert r.exit_code == 2
    assert "more than the limit of 1.0 KiB (raise it with --max-file-size" in r.output


def test_gzip_export_unpacking_too_large(tmp_path):
    import gzip

    from tests.robustness import test_zebrafish_corpus as zf

    data = gzip.compress((zf.ZL + "\n" * 3_000_000).encode())
    assert len(data) < 100_000
    materialise({"zl.csv.gz": data, "layout.csv": zf.LAYOUT}, tmp_path)
    r = invoke(("--max-unpacked-size", "1M", "zebrafish", "{dir}/zl.csv.gz", "--layout",
                "{dir}/layout.csv", "-o", "{out}"), tmp_path)
    assert r.exit_code == 2, r.output
    assert "zl.csv.gz: the gzip file unpacks to more than the limit of 1.0 MiB" in r.output


def test_workbook_read_matches_pandas_and_skips_stray_cells_cheaply(tmp_path):
    """The sparse reader gives pandas' table; a far cell costs one cell, not a grid."""
    import pandas as pd

    from neurotox.workbook import read_cells, read_excel

    p = tmp_path / "a.xlsx"
    p.write_bytes(_xlsx([["a", "b", "c"], [1, 2.5, "x"], [None, 3, None], [4, None, "#N/A"]]))
    for kw in ({}, {"dtype": str}, {"header": None}, {"dtype": str, "keep_default_na": False},
               {"skiprows": 1, "header": None}, {"nrows": 1}):
        pd.testing.assert_frame_equal(read_excel(p, **kw), pd.read_excel(p, **kw))
    far = tmp_path / "far.xlsx"
    far.write_bytes(_xlsx([["a"]], extra={"XFD1048576": 1}))
    cells = read_cells(far)["Scores"]
    assert cells == {1: [(1, "a")], 1048576: [(16384, 1)]}


def test_float_image_nan_pixels_are_masked_and_counted(tmp_path):
    import numpy as np
    import tifffile

    from neurotox.errors import FormatError
    from neurotox.io.plates import read_plane, read_plane_masked

    img = np.full((8, 10), 5.0, dtype=np.float32)
    img[2:4, 3:6] = np.nan
    img[7, 9] = np.inf
    img[0, 0] = 1.0
    tifffile.imwrite(tmp_path / "a.tif", img)
    plane, masked = read_plane_masked(tmp_path / "a.tif")
    assert masked == 7
    assert np.isfinite(plane).all()
    assert plane[2, 3] == 1.0 and plane[7, 9] == 1.0        # the lowest finite value
    assert plane[5, 5] == 5.0
    np.testing.assert_array_equal(read_plane(tmp_path / "a.tif"), plane)
    tifffile.imwrite(tmp_path / "b.tif", np.full((4, 4), np.nan, dtype=np.float32))
    with pytest.raises(FormatError, match="no pixel of the image is a finite number"):
        read_plane_masked(tmp_path / "b.tif")


def _sparse(name: str, size: int):
    def setup(folder: Path) -> None:
        with open(folder / name, "r+b") as f:
            f.truncate(size)   # a sparse file: no disk used
    return setup


def _tiff_bomb(folder: Path) -> None:
    """A 16 x 16 TIFF whose header claims 60 000 x 60 000 pixels (7.2 GB unpacked)."""
    import numpy as np
    import tifffile

    path = folder / "plate" / "A01_f1_c1.tif"   # see PLATE_ARGS' --pattern
    path.parent.mkdir()
    tifffile.imwrite(path, np.zeros((16, 16), np.uint16))
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        spots = [(tags[name].valueoffset, tags[name].dtype) for name in ("ImageWidth",
                                                                          "ImageLength")]
    with open(path, "r+b") as f:
        for offset, dtype in spots:
            f.seek(offset)
            f.write((60_000).to_bytes(2 if dtype == 3 else 4, "little"))


def _hdf5_bomb(folder: Path) -> None:
    """A SLEAP-like HDF5 file whose chunked 'tracks' would unpack to 8 GB."""
    import h5py

    with h5py.File(folder / "poses.h5", "w") as f:
        f.create_dataset("tracks", shape=(1, 2, 1, 500_000_000), dtype="f8",
                         chunks=(1, 2, 1, 1_000_000), compression="gzip")
        f["node_names"] = [b"nose"]


def _parquet_bomb(folder: Path) -> None:
    """An EndpointTable in Parquet holding 100 MB of repeated text in a small file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 1_000
    table = pa.table({"study_id": ["S-1"] * n, "source": ["x" * 100_000] * n})
    pq.write_table(table, folder / "ept.parquet", compression="zstd", use_dictionary=False)


def _zf_nul() -> str:
    from tests.robustness import test_zebrafish_corpus as zf

    lines = zf.ZL.splitlines()
    lines[-1] = lines[-1][:5] + "\x00" + lines[-1][5:]
    return "\n".join(lines) + "\n"


def _zf_layout() -> str:
    from tests.robustness import test_zebrafish_corpus as zf

    return zf.LAYOUT


PLATE_ARGS = ("neurite", "{dir}/plate", "--layout", "{dir}/layout.csv", "--pattern",
              "{well}_f{field}_c{channel}.tif", "--nuclei-channel",
              "none", "--neurite-channel", "1", "--pixel-size", "0.65", "--workers", "1",
              "-o", "{out}")

MORE_BOUNDS = [
    Case("csv-sparse-5-gib", {**rodent.BASE, "nor.csv": rodent.NOR}, rodent.nor_args(),
         "file is 5.0 GiB, more than the limit of 4.0 GiB", "nor.csv",
         setup=_sparse("nor.csv", 5 << 30)),
    Case("yaml-sparse-1-gib", BASE, CHECK, "more than the limit of 16.0 MiB", "study.yaml",
         setup=_sparse("study.yaml", 1 << 30)),
    Case("hdf5-datasets-unpack-too-large", rodent.BASE,
         ("nor", "{dir}/poses.h5", "--study", "{dir}/study.yaml", "-o", "{out}"),
         "the HDF5 file unpacks to 7.5 GiB", "poses.h5", setup=_hdf5_bomb),
    Case("tiff-unpacks-too-large", {"layout.csv": "well,group,concentration\nA01,C,0\n"},
         # refused by the file check before analysis: its pixels at 8 bytes each
         ("--quiet", *PLATE_ARGS), "the 60000 x 60000 pixel field (analysed at 8 bytes per "
         "pixel) unpacks to 26.8 GiB", "A01_f1_c1.tif",
         setup=_tiff_bomb),
    Case("parquet-unpacks-too-large", stats.BASE,
         ("--max-unpacked-size", "50M", *stats.st("ept.parquet")), "the table unpacks to",
         "ept.parquet", setup=_parquet_bomb),
    Case("nul-deep-in-a-tracking-export", {"zl.csv": _zf_nul(), "layout.csv": _zf_layout()},
         ("zebrafish", "{dir}/zl.csv", "--layout", "{dir}/layout.csv", "-o", "{out}"),
         "NUL character", "zl.csv"),
    Case("log-file-matched-as-input",
         {**rodent.BASE, "study.yaml": rodent.STUDY + "assays:\n  - {assay: tmaze, protocol: "
          "tmaze-spontaneous, input: 'raw/*.csv'}\n", "raw/entries.csv": rodent.ENTRIES},
         ("--quiet", "--log-file", "{dir}/raw/zz-run.csv", "report", "{dir}/study.yaml", "--format",
          "csv", "-o", "{out}"), "this is the log file (--log-file) of this run, not an input",
         "zz-run.csv"),
]


@pytest.mark.parametrize("case", MORE_BOUNDS, ids=[c.id for c in MORE_BOUNDS])
def test_more_bounds(case, tmp_path):
    run_case(case, tmp_path)


@pytest.mark.parametrize("value", ["1e999", "inf", "nan", "-inf"])
def test_infinite_option_value_is_a_usage_error(tmp_path, value):
    materialise({"layout.csv": "well,group,concentration\nA01,C,0\n", "plate/x.txt": "x"},
                tmp_path)
    i = PLATE_ARGS.index("--pixel-size")      # given once: an option given twice is refused
    args = (*PLATE_ARGS[:i], "--pixel-size", value, *PLATE_ARGS[i + 2:])
    r = invoke(args, tmp_path)
    assert r.exit_code == 2
    assert f"Invalid value for '--pixel-size': expected a finite number, found {value!r}" \
        in r.output
    assert not (tmp_path / "out").exists()

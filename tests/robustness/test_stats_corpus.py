"""Malformed EndpointTables through ``neurotox stats`` and ``neurotox report --endpoints``."""

from __future__ import annotations

import codecs

import pytest

from tests.robustness.corpus import Case, run_case, run_ok

STUDY = """\
study_id: S-1
title: Stats robustness
test_item: X
groups:
  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}
  - {id: H, label: High, dose: 5, dose_unit: mg/kg}
"""
HEAD = ("study_id,assay,category,endpoint,unit,subject,group,dose,dose_unit,sex,timepoint,"
        "value,excluded,exclusion_reason,batch,source")


def _row(i: int, group: str, dose: int, value: float) -> str:
    return (f"S-1,brain_weight,structural,brain_weight,g,{group}{i},{group},{dose},mg/kg,M,NA,"
            f"{value:.3f},False,,NA,bw.csv:row {i + 2}")


ROWS = [_row(i, "C", 0, 2.0 + 0.01 * i) for i in range(5)] + \
       [_row(i, "H", 5, 1.9 + 0.01 * i) for i in range(5)]
EPT = "\n".join([HEAD, *ROWS]) + "\n"
R = ROWS[2]   # subject C2
BASE = {"study.yaml": STUDY, "ept.csv": EPT}


def st(name: str = "ept.csv", *extra: str) -> tuple[str, ...]:
    return ("stats", f"{{dir}}/{name}", "--study", "{dir}/study.yaml", *extra, "-o", "{out}")


def rep(name: str = "ept.csv") -> tuple[str, ...]:
    return ("report", "--study", "{dir}/study.yaml", "--endpoints", f"{{dir}}/{name}",
            "--format", "csv", "-o", "{out}")


def ept(old: str, new: str) -> dict:
    assert old in EPT, old
    return {**BASE, "ept.csv": EPT.replace(old, new, 1)}


def cell(column: str, value: str, row: str = R) -> dict:
    cols = HEAD.split(",")
    cells = row.split(",")
    cells[cols.index(column)] = value
    return ept(row, ",".join(cells))


def drop(column: str) -> dict:
    cols = HEAD.split(",")
    k = cols.index(column)
    lines = [",".join(c for j, c in enumerate(line.split(",")) if j != k)
             for line in EPT.splitlines()]
    return {**BASE, "ept.csv": "\n".join(lines) + "\n"}


CASES = [
    Case("ep-empty-file", {**BASE, "ept.csv": ""}, st(),
         "file is empty (no header line)", "ept.csv"),
    Case("ep-header-only", {**BASE, "ept.csv": HEAD + "\n"}, st(),
         "expected EndpointTable rows below the header, found none", "ept.csv"),
    Case("ep-binary", {**BASE, "ept.csv": bytes(range(256)) * 4}, st(),
         "cannot decode as cp1252 text (byte 129)", "ept.csv"),
    Case("ep-corrupt-parquet", {**BASE, "ept.parquet": b"PAR1" + b"\x00" * 50}, st("ept.parquet"),
         "cannot read as an EndpointTable: Parquet magic bytes not found", "ept.parquet"),
    Case("ep-missing-value-col", drop("value"), st(),
         "missing EndpointTable columns 'value'; found 'assay', 'batch', 'catego", "ept.csv"),
    Case("ep-missing-subject-col", drop("subject"), st(),
         "missing EndpointTable columns 'subject'; found 'assay', 'batch', 'cate", "ept.csv"),
    Case("ep-renamed-column", {**BASE, "ept.csv": EPT.replace(",value,", ",Value ,", 1)}, st(),
         "column 'Value': unknown EndpointTable column 'Value' (did you mean 'value'?); "
         "expected", "ept.csv"),
    Case("ep-extra-header-line", {**BASE, "ept.csv": "# exported 2026-01-01\n" + EPT}, st(),
         "missing EndpointTable columns 'assay', 'batch', 'category', 'dose', 'd", "ept.csv"),
    Case("ep-huge-header-block", {**BASE, "ept.csv": "# comment\n" * 2000 + EPT}, st(),
         "line 2001: expected 1 cells like the header, found 16", "ept.csv"),
    Case("ep-text-value", cell("value", "heavy"), st(),
         "row 4, column 'value': expected a number, found 'heavy'", "ept.csv"),
    Case("ep-decimal-comma", cell("value", '"2,01"'), st(),
         "row 4, column 'value': expected a number, found '2,01'", "ept.csv"),
    Case("ep-na-value", cell("value", "#N/A"), st(),
         "row 4, column 'value': expected a number, found '#N/A'", "ept.csv"),
    Case("ep-dash-value", cell("value", "-"), st(),
         "row 4, column 'value': expected a number, found '-'", "ept.csv"),
    Case("ep-empty-value", cell("value", ""), st(),
         "row 4, column 'value': value nan is not finite and the row is not excl", "ept.csv"),
    Case("ep-inf-value", cell("value", "inf"), st(),
         "row 4, column 'value': value inf is not finite and the row is not excl", "ept.csv"),
    Case("ep-text-dose", cell("dose", "high"), st(),
         "row 4, column 'dose': expected a number, found 'high'", "ept.csv"),
    Case("ep-bad-excluded", cell("excluded", "maybe"), st(),
         "row 4, column 'excluded': expected true/false, found 'maybe'", "ept.csv"),
    Case("ep-excluded-no-reason", cell("excluded", "True"), st(),
         "row 4, column 'exclusion_reason': excluded row has no exclusion_reason", "ept.csv"),
    Case("ep-unknown-endpoint", cell("endpoint", "brain_mass"), st(),
         "row 4, column 'endpoint': unknown endpoint 'brain_mass'; see 'neurotox", "ept.csv"),
    Case("ep-unknown-category", cell("category", "behaviour"), st(),
         "row 4, column 'category': unknown category 'behaviour'; expected one o", "ept.csv"),
    Case("ep-bad-sex", cell("sex", "X"), st(), "row 4, column 'sex': sex 'X' is not M, F or NA",
         "ept.csv"),
    Case("ep-duplicate-key", ept(R, R + "\n" + R), st(),
         "row 5, column 'subject': duplicate key (study_id, assay, endpoint, sub", "ept.csv"),
    Case("ep-empty-subject", cell("subject", ""), st(),
         "row 4, column 'subject': subject is empty", "ept.csv"),
    Case("ep-group-not-in-study", cell("group", "M"), st(),
         "row 4, column 'group': group(s) 'M' in the EndpointTable are not", "ept.csv"),
    Case("ep-dose-mismatch-study", cell("dose", "7"), st(),
         "row 4, column 'dose': group 'C': the study gives 0 mg/kg, found dose 7 (", "ept.csv"),
    Case("ep-study-id-mismatch", cell("study_id", "S-2"), st(),
         "row 4, column 'study_id': expected study 'S-1', found 'S-2'", "ept.csv"),
    Case("ep-short-row", ept(R, ",".join(R.split(",")[:8])), st(),
         "row 4, column 'sex': sex '' is not M, F or NA", "ept.csv"),
    Case("ep-long-row", ept(R, R + ",extra,cells"), st(),
         "line 4: expected 16 cells like the header, found 18", "ept.csv"),
    Case("ep-truncated", {**BASE, "ept.csv": EPT[:-30]}, st(),
         "row 11, column 'value': value nan is not finite and the row is not exc", "ept.csv"),
    Case("ep-force-keeps-previous", cell("value", "heavy"), st("ept.csv", "--force"),
         "row 4, column 'value': expected a number, found 'heavy'", "ept.csv", previous=True),
    # the same table through the report command
    Case("rep-text-value", cell("value", "heavy"), rep(),
         "row 4, column 'value': expected a number, found 'heavy'", "ept.csv"),
    Case("rep-duplicate-key", ept(R, R + "\n" + R), rep(),
         "row 5, column 'subject': duplicate key (study_id, assay, endpoint, sub", "ept.csv"),
    Case("rep-unknown-endpoint", cell("endpoint", "brain_mass"), rep(),
         "row 4, column 'endpoint': unknown endpoint 'brain_mass'; see 'neurotox", "ept.csv"),
    Case("rep-empty-file", {**BASE, "ept.csv": ""}, rep(),
         "file is empty (no header line)", "ept.csv"),
    Case("rep-group-not-in-study", cell("group", "M"), rep(),
         "row 4, column 'group': group(s) 'M' in the EndpointTable are not defined",
         "ept.csv"),
    Case("ep-dose-unit-mismatch", cell("dose_unit", "mg/kg/day"), st(),
         "row 4, column 'dose_unit': group 'C': the study gives 0 mg/kg, found dose_unit "
         "'mg/kg/day'", "ept.csv"),
    # --- hostile inputs (attack24)
    Case("ep-column-named-twice", {**BASE, "ept.csv": EPT.replace(",batch,", ",value,", 1)},
         st(), "line 1: column 'value' appears twice in the header (columns 12 and 15)",
         "ept.csv"),
    Case("ep-header-repeated", ept(R, HEAD + "\n" + R), st(),
         "row 4: this row repeats the header line (two exports joined", "ept.csv"),
    Case("ep-value-1e308", cell("value", "1e308"), st(),
         "row 4, column 'value': value '1e308' is too large to analyse (magnitude above 1e+100",
         "ept.csv"),
    Case("ep-workbook", {**BASE, "ept.csv": b"PK\x03\x04" + b"\x00" * 64}, st(),
         "this is a spreadsheet workbook, not a CSV or Parquet EndpointTable", "ept.csv"),
    Case("rep-dose-mismatch-study", cell("dose", "7"), rep(),
         "row 4, column 'dose': group 'C': the study gives 0 mg/kg, found dose 7 (", "ept.csv"),
    Case("rep-header-only", {**BASE, "ept.csv": HEAD + "\n"}, rep(),
         "expected EndpointTable rows below the header, found none", "ept.csv"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_stats_case(case, tmp_path):
    run_case(case, tmp_path)


def test_stats_accepts_utf8_bom(tmp_path):
    """An EndpointTable saved by Excel with a BOM still reads."""
    run_ok({**BASE, "ept.csv": codecs.BOM_UTF8 + EPT.encode()}, st(), tmp_path)


@pytest.mark.parametrize("data", [
    EPT.encode("utf-16"),
    EPT.replace(",", "\t").replace("\n", "\r\n").encode("utf-16"),
    EPT.replace(",", ";").replace(".", ",").encode("cp1252"),
    "".join(f"{line},,\n" for line in EPT.splitlines()).encode(),
], ids=["utf16", "excel-unicode-text", "european-semicolon-decimal-comma",
        "trailing-empty-columns"])
def test_stats_reads_the_table_as_excel_saves_it(tmp_path, data):
    """The same table saved in other dialects gives the same results as the plain CSV
    (before, UTF-16 and ';' with decimal commas were refused)."""
    import pandas as pd

    (tmp_path / "plain").mkdir()
    run_ok(BASE, st(), tmp_path / "plain")
    run_ok({**BASE, "ept.csv": data}, st(), tmp_path)
    want = pd.read_csv(tmp_path / "plain" / "out" / "results.csv")
    got = pd.read_csv(tmp_path / "out" / "results.csv")
    pd.testing.assert_frame_equal(got, want)
    assert want["p_value"].notna().any()


def test_zero_variance_everywhere_is_no_finding(tmp_path):
    """All values identical: no test, no flag, and the reason in the decisions."""
    import pandas as pd

    rows = [_row(i, g, d, 2.0) for g, d in (("C", 0), ("H", 5)) for i in range(5)]
    run_ok({**BASE, "ept.csv": "\n".join([HEAD, *rows]) + "\n"}, st(), tmp_path)
    res = pd.read_csv(tmp_path / "out" / "results.csv")
    assert res["p_value"].isna().all() and res["flag"].isna().all()
    dec = pd.read_csv(tmp_path / "out" / "decisions.csv")
    assert dec["note"].str.contains("all values are identical").all()

"""xlsx sheets read with python-calamine give openpyxl's values; unsafe sheets stream instead.

The fast path (calamine) and the streaming path (openpyxl) are compared on
synthetic workbooks of every cell type and on the shared real exports; a
workbook calamine would read differently or could not afford (formulas, error
values, a stray far cell, cells out of order) must take the streaming path.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurotox import workbook as excel
from neurotox.errors import InputError
from neurotox.workbook_calamine import _beyond, _greater, _letters, safe_sheet

ROWS = [
    ["name", "count", "dose", "when", "time", "flag", "note"],
    ["a", 1, 2.5, dt.datetime(2024, 3, 1), dt.time(10, 30), True, None],
    ["b", 2, 1e-7, dt.datetime(2024, 3, 1, 12, 15, 30), dt.time(0, 0, 5), False, "x y"],
    [None, None, None, None, None, None, None],
    ["c", -3, 7.0, None, None, None, "ünï €"],
]


def _xlsx(path: Path, rows: list[list[object]], extra: dict[str, object] | None = None,
          sheets: int = 1) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    for i in range(sheets):
        ws = wb.active if i == 0 else wb.create_sheet(f"S{i}")
        for r in rows:
            ws.append(r)
        for coord, value in (extra or {}).items():
            ws[coord] = value
    wb.save(path)
    return path


def _patch(path: Path, old: bytes, new: bytes) -> Path:
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old in blob
                blob = blob.replace(old, new, 1)
            dst.writestr(info.filename, blob)
    return path


@pytest.fixture
def no_streaming(monkeypatch):
    """Make the openpyxl path fail, to prove the calamine path was taken."""
    def fail(*args, **kwargs):
        raise AssertionError("streamed through openpyxl")
    monkeypatch.setattr(excel, "read_cells", fail)


def both(path: Path, **kw) -> tuple[object, object]:
    """(calamine, openpyxl) results of sheet_rows or read_excel."""
    fn = excel.read_excel if kw.pop("frame", False) else excel.sheet_rows
    return fn(path, **kw), fn(path, engine="openpyxl", **kw)


READ_EXCEL_KW = [{}, {"dtype": str}, {"header": None}, {"dtype": str, "keep_default_na": False},
                 {"skiprows": 1, "header": None}, {"sheet_name": None, "dtype": object},
                 {"nrows": 2000}]


@pytest.mark.parametrize("kw", READ_EXCEL_KW, ids=str)
def test_frames_identical_on_every_cell_type(tmp_path, kw):
    p = _xlsx(tmp_path / "a.xlsx", ROWS, extra={"J12": 4})
    fast, slow = both(p, frame=True, **kw)
    if isinstance(fast, dict):
        assert fast.keys() == slow.keys()
        for k in fast:
            pd.testing.assert_frame_equal(fast[k], slow[k])
    else:
        pd.testing.assert_frame_equal(fast, slow)


def test_rows_identical_on_every_cell_type(tmp_path, monkeypatch):
    p = _xlsx(tmp_path / "a.xlsx", [[None], *ROWS], extra={"J12": 4}, sheets=2)
    fast, slow = both(p)
    assert fast == slow
    assert [type(v) for v in fast["Sheet"][2]] == [str, int, float, dt.datetime, dt.time,
                                                    bool] + [type(None)] * 4
    monkeypatch.setenv(excel.ENV_ENGINE, "openpyxl")
    assert excel.sheet_rows(p) == slow


def test_whole_sheets_take_the_calamine_path(tmp_path, no_streaming):
    p = _xlsx(tmp_path / "a.xlsx", ROWS)
    assert excel.sheet_rows(p)["Sheet"][1][:3] == ("a", 1, 2.5)
    assert excel.read_excel(p)["dose"].tolist()[:2] == [2.5, 1e-7]


def test_first_rows_stream(tmp_path, monkeypatch):
    """Sniffing a few rows streams (openpyxl stops early; calamine reads the whole sheet)."""
    p = _xlsx(tmp_path / "a.xlsx", ROWS)
    monkeypatch.setattr("neurotox.workbook_calamine.read_sheets",
                        lambda *a, **k: pytest.fail("calamine used for 2 rows"))
    assert excel.sheet_rows(p, max_rows=2)["Sheet"][0][0] == "name"


@pytest.mark.parametrize(("extra", "patch"), [
    ({"B3": "=1+1"}, None),                                  # formula: saved value?
    (None, True),                                            # error value
    ({"XFD1048576": 1}, None),                               # stray far cell
], ids=["formula", "error-value", "stray-far-cell"])
def test_sheets_calamine_reads_differently_stream(tmp_path, extra, patch):
    p = _xlsx(tmp_path / "a.xlsx", ROWS * 50, extra=extra)
    if patch:
        p = _patch(p, b'<c r="B3" t="n"><v>2</v>', b'<c r="B3" t="e"><v>#N/A</v>')
    with zipfile.ZipFile(p) as z:
        data = z.read("xl/worksheets/sheet1.xml")
    assert not safe_sheet(data, excel.MAX_GRID_CELLS, excel.FILL_FACTOR)


def test_far_column_is_caught_beyond_the_edges(tmp_path):
    """A wide cell in the middle of a long sheet is found by the full scan."""
    p = _xlsx(tmp_path / "a.xlsx", ROWS * 300, extra={"AZ750": "wide"})
    p = _patch(p, b'<dimension ref="A1:AZ1500"/>', b"")      # as EthoVision writes them
    with zipfile.ZipFile(p) as z:
        data = z.read("xl/worksheets/sheet1.xml")
    assert not safe_sheet(data, excel.MAX_GRID_CELLS, excel.FILL_FACTOR)
    assert safe_sheet(data.replace(b'<c r="AZ750"', b'<c r="G750"'), excel.MAX_GRID_CELLS,
                      excel.FILL_FACTOR)
    assert excel.sheet_rows(p)["Sheet"][749][51] == "wide"


def test_stray_far_cell_is_named_not_allocated(tmp_path):
    p = _xlsx(tmp_path / "a.xlsx", ROWS, extra={"XFD1048576": 1})
    with pytest.raises(InputError, match=r"cell XFD1048576 lies far outside the table \(the "
                                         r"other cells end at G5\)"):
        excel.read_excel(p)


def test_cell_above_the_first_streams(tmp_path):
    """calamine needs cells in row order; a cell written out of order streams."""
    p = _xlsx(tmp_path / "a.xlsx", [[None], [None], *ROWS])
    with zipfile.ZipFile(p) as z:
        data = z.read("xl/worksheets/sheet1.xml")
    assert safe_sheet(data, excel.MAX_GRID_CELLS, excel.FILL_FACTOR)
    moved = re.sub(rb'(<row r="5".*?</row>)', rb'\1<row r="1"><c r="B1"><v>1</v></c></row>',
                   data, count=1)
    assert moved != data
    assert not safe_sheet(moved, excel.MAX_GRID_CELLS, excel.FILL_FACTOR)


@pytest.mark.parametrize(("old", "new", "message"), [
    (b"<v>2.5</v>", b"<v>1e999</v>", "sheet 'Sheet', cell C2: number inf is not finite"),
    (b"<v>2.5</v>", b"<v>NaN</v>", "sheet 'Sheet', cell C2: cannot read the cell"),
    (b"<t>x y</t>", b"<t>x\x00y</t>", "sheet 'Sheet', cell G3: text holds a NUL character"),
])
def test_bad_values_are_named_by_both_engines(tmp_path, old, new, message):
    p = _patch(_xlsx(tmp_path / "a.xlsx", ROWS), old, new)
    with pytest.raises(InputError, match=re.escape(message)):
        excel.read_excel(p)
    with pytest.raises(InputError, match="cell C2: |not well-formed"):   # XML refuses a NUL
        excel.read_excel(p, engine="openpyxl")


def test_unknown_engine_is_named(tmp_path, monkeypatch):
    p = _xlsx(tmp_path / "a.xlsx", ROWS)
    monkeypatch.setenv(excel.ENV_ENGINE, "xlrd")
    with pytest.raises(InputError, match="NEUROTOX_EXCEL_ENGINE: expected one of auto, "
                                         "openpyxl, found 'xlrd'"):
        excel.read_excel(p)


@given(st.integers(1, 1_048_576), st.integers(1, 1_048_576))
def test_greater_than_regex_for_rows(n, m):
    pattern = re.compile(_greater(str(n).encode(), ord("0"), ord("9"), 7))
    assert bool(pattern.fullmatch(str(m).encode())) == (m > n)


@given(st.integers(1, 16384), st.integers(1, 16384))
def test_greater_than_regex_for_columns(n, m):
    pattern = re.compile(_greater(_letters(n), ord("A"), ord("Z"), 3))
    assert bool(pattern.fullmatch(_letters(m))) == (m > n)


def test_beyond_finds_cells_right_or_below():
    pattern = _beyond(46, 9040)        # AT9040
    assert pattern.search(b'<c r="AU3">') and pattern.search(b'<c r="A9041">')
    assert not pattern.search(b'<c r="AT9040"><row r="99999">')


# ------------------------------------------------------------------ shared exports

def _shared_xlsx() -> list[Path]:
    from tests.conftest import SHARED_DATA

    return sorted(SHARED_DATA.rglob("*.xlsx")) if SHARED_DATA.is_dir() else []


def _strip(rows: list[tuple]) -> list[tuple]:
    """Cell text stripped, blank text as empty, trailing empties trimmed (module notes)."""
    out = [tuple(None if isinstance(v, str) and not v.strip() else
                 v.strip() if isinstance(v, str) else v for v in r) for r in rows]
    width = max((max((i + 1 for i, v in enumerate(r) if v is not None), default=0)
                 for r in out), default=0)
    out = [r[:width] + (None,) * (width - len(r)) for r in out]
    while out and all(v is None for v in out[-1]):
        out.pop()
    return out


#: Exports above this size take seconds with openpyxl: compared in the slow run only.
LARGE = 400_000


@pytest.mark.shared_data
@pytest.mark.parametrize("path", [pytest.param(p, id=p.name, marks=[pytest.mark.slow]
                                               if p.stat().st_size > LARGE else [])
                                  for p in _shared_xlsx()])
def test_shared_exports_read_the_same_with_both_engines(path, shared_data):
    fast, slow = both(path)
    assert fast.keys() == slow.keys()
    for name in fast:
        assert _strip(fast[name]) == _strip(slow[name]), name
    frames_fast, frames_slow = both(path, frame=True, sheet_name=None, header=None, dtype=str)
    for name in frames_fast:
        a, b = (f.map(lambda v: (v.strip() or None) if isinstance(v, str) else None)
                for f in (frames_fast[name], frames_slow[name]))
        pd.testing.assert_frame_equal(a, b, check_dtype=False)


@pytest.mark.shared_data
@pytest.mark.slow
def test_ethovision_export_reads_the_same_with_both_engines(shared_data, monkeypatch):
    from neurotox.io.rodent import read_rodent

    path = next((shared_data / "rodent" / "anderson_mouse_nor_ethovision_xlsx").glob("*.xlsx"))
    fast = read_rodent(path)
    monkeypatch.setenv(excel.ENV_ENGINE, "openpyxl")
    slow = read_rodent(path)
    pd.testing.assert_frame_equal(fast.table, slow.table)
    # openpyxl keeps header entries whose value is an empty text cell ('LED pattern'); calamine
    # reads such a cell as empty, so the entry is left out
    blank = {k for k, v in slow.meta["header"].items() if not str(v).strip()}
    assert blank == {"LED pattern", "Sof file"}
    assert fast.meta == {**slow.meta, "header": {k: v for k, v in slow.meta["header"].items()
                                                 if k not in blank}}


def test_corrupt_sheet_stream_is_a_format_error(tmp_path):
    """Fuzzing find: a damaged deflate stream raised a raw zlib.error from the scan."""
    src = _xlsx(tmp_path / "ok.xlsx", ROWS * 40)
    with zipfile.ZipFile(src) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(src.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    seen = set()
    for k in range(0, min(info.compress_size, 400), 7):   # many damaged positions
        bad = bytearray(data)
        bad[start + k] ^= 0xFF
        path = tmp_path / "bad.xlsx"
        path.write_bytes(bytes(bad))
        try:
            excel.read_excel(path)
        except InputError as exc:
            seen.add(type(exc).__name__)
    assert seen    # the damage was noticed, always as a neurotox error (others propagate)

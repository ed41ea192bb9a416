"""Encoding, delimiter and truncation checks shared by the text readers."""

import codecs

import pytest

from neurotox.errors import FormatError
from neurotox.io.text import check_row_lengths, guess_delimiter, guess_encoding

TABLE = "animal;dist\nA1;1,5\nA2;2,0\n"


@pytest.mark.parametrize(("raw", "expected"), [
    (codecs.BOM_UTF16_LE + TABLE.encode("utf-16-le"), "utf-16"),
    (TABLE.encode("utf-16-le") * 10, "utf-16-le"),
    (TABLE.encode("utf-16-be") * 10, "utf-16-be"),
    (codecs.BOM_UTF8 + TABLE.encode(), "utf-8-sig"),
    ("Température;é\n".encode(), "utf-8"),
    ("Température;é\n".encode("cp1252"), "cp1252"),
    # a multi-byte character cut by the end of the sniffed sample is still UTF-8
    (("x" * 20 + "é").encode()[:-1], "utf-8"),
])
def test_guess_encoding(raw, expected):
    assert guess_encoding(raw) == expected
    text = raw.decode(expected, errors="replace").lstrip("\ufeff")
    assert text.startswith(("animal;dist", "Température", "xxx"))


def test_guess_delimiter_counts_and_ties():
    assert guess_delimiter("a;b;c,d") == ";"
    assert guess_delimiter("a\tb\tc") == "\t"
    assert guess_delimiter("single column") == ","
    assert guess_delimiter("single column", ("\t", ";", ",")) == "\t"
    assert guess_delimiter("a,b;c") == ","          # tie: first candidate


def test_check_row_lengths_names_the_short_line(tmp_path):
    path = tmp_path / "x.csv"
    check_row_lengths("a,b,c\n1,2,3\n\n4,5,6\n", ",", path)        # blank lines ignored
    with pytest.raises(FormatError, match="expected 3 cells like the header, found 2") as e:
        check_row_lengths("a,b,c\n1,2,3\n4,5\n", ",", path)
    assert "line 3" in str(e.value) and "x.csv" in str(e.value)
    # the header is the first line after a vendor header block
    check_row_lengths("Header lines: 2\nx\na,b,c\n1,2,3\n", ",", path, skiprows=2)
    with pytest.raises(FormatError, match="line 4"):
        check_row_lengths("Header lines: 2\nx\na,b,c\n1,2\n", ",", path, skiprows=2)


@pytest.mark.parametrize(("text", "first"), [
    ("=1+1", "="), ("+A1", "+"), ("-2+3+cmd|' /C calc'!A0", "-"), ("@SUM(A1:A2)", "@"),
    ("\tx", "\t"), ("-fell", "-"), ("=", "="),
    ("-5", None), ("+1.5e3", None), ("-.5", None), ("-", None), ("+", None), ("", None),
    ("G1M01", None), ("day-1", None), ("'=1+1", None)])
def test_formula_start(text, first):
    from neurotox.delimited import formula_start

    assert formula_start(text) == first


def test_csv_safe_and_unescape_round_trip():
    import pandas as pd

    from neurotox.delimited import csv_safe, csv_unescape

    df = pd.DataFrame({"a": ["=1+1", "-fell", "-5", "ok", None], "n": [1, 2, 3, 4, 5],
                       "o": [[1], [2], [3], [4], [5]]})
    safe = csv_safe(df)
    assert safe["a"].tolist() == ["'=1+1", "'-fell", "-5", "ok", None]
    assert df["a"].tolist() == ["=1+1", "-fell", "-5", "ok", None]    # the input is kept
    assert csv_unescape(safe["a"]).tolist() == df["a"].tolist()
    assert csv_safe(df[["n"]]) is not None


@pytest.mark.parametrize(("tail", "warned"), [
    ("193.6\n", None),                                     # a complete file
    ("193.6", None),                         # complete, no line end (R and SimBA write such)
    ("19", "warning: w.csv: the last line (line 7) has no line end and its last value '19' "
           "is shorter than every other in its column: the file looks cut"),
    ("", "warning: w.csv: the last line (line 7) has no line end and its last value ''"),
])
def test_a_file_cut_inside_its_last_value_is_warned_about(tmp_path, tail, warned):
    # stranger34 F9: '193.6' cut to '19' leaves a row as long as the others
    from neurotox.delimited import read_table
    from neurotox.files import NOTE_SINK

    text = "animal,weight\n" + "".join(f"a{k},{180 + k}.5\n" for k in range(5)) + "a9," + tail
    (tmp_path / "w.csv").write_text(text)
    notes: list[str] = []
    token = NOTE_SINK.set(notes.append)
    try:
        table = read_table(tmp_path / "w.csv")
    finally:
        NOTE_SINK.reset(token)
    assert table.data["weight"].iloc[-1] == tail.strip()
    if warned is None:
        assert notes == []
    else:
        assert len(notes) == 1 and notes[0].startswith(warned), notes
    # said with how the file was read (once per file, where the dialect is said)
    assert table.describe().endswith(", the last line without a line end") == \
        (not tail.endswith("\n"))


def _foreign_files(folder):
    """Files that cannot hold a table, each under a table's name, and what they are."""
    import zipfile

    (folder / "empty.csv").write_bytes(b"")
    (folder / "report.xlsx").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    (folder / "plot.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "photo.txt").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    with zipfile.ZipFile(folder / "notes.xlsx", "w") as z:
        z.writestr("notes.txt", "not a workbook")
    return {"empty.csv": "the file is empty (0 bytes)",
            "report.xlsx": "the file is a PDF document, not a table",
            "plot.csv": "the file is a PNG image, not a table",
            "photo.txt": "the file is a JPEG image, not a table",
            "notes.xlsx": "the file is a ZIP archive but not an Excel workbook (no xl/ part)"}


def test_a_file_that_cannot_be_a_table_is_named_for_what_it_is(tmp_path):
    from neurotox.io.text import not_a_table

    for name, what in _foreign_files(tmp_path).items():
        assert not_a_table(tmp_path / name) == what
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    assert not_a_table(tmp_path / "t.csv") is None


@pytest.mark.parametrize("read, expected", [
    ("neurotox.io.rodent.base:detect", "expected a rodent-cognition export or scoring sheet"),
    ("neurotox.io.zebrafish.base:detect_format", "expected a zebrafish tracking export"),
    ("neurotox.io.neurochem.base:detect_format", "expected a plate-reader or multiplex export"),
    ("neurotox.io.battery:read_sheet",
     "expected a CSV/TSV text table or an xlsx/xls workbook"),
])
def test_every_reader_says_what_a_foreign_file_is(tmp_path, read, expected):
    # stranger53: an empty file, a PNG, a PDF or a zip given as an export got a long
    # "not a recognised ... file; expected one of <10 formats>" line
    import importlib

    from neurotox.errors import InputError

    module, name = read.split(":")
    reader = getattr(importlib.import_module(module), name)
    for file, what in _foreign_files(tmp_path).items():
        if file == "notes.xlsx" and ("zebrafish" in module or "neurochem" in module):
            continue      # their sniffer opens workbooks first: "cannot open as an xlsx workbook"
        with pytest.raises(InputError) as err:
            reader(tmp_path / file)
        assert str(err.value) == f"{tmp_path / file}: {what}; {expected}"

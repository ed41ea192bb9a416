"""Malformed zebrafish exports and layouts through ``neurotox zebrafish``.

Base files are tiny exports written by the tests (8 larvae × 4 one-minute bins):
a ZebraLab tracking table, a plain trajectory table and an EthoVision raw export.
"""

from __future__ import annotations

import codecs
import gzip

import pytest

from tests.robustness.corpus import ENCRYPTED_XLSX, Case, run_case, run_ok

WELLS = ("A01", "A02", "A03", "A04", "B01", "B02", "B03", "B04")
ZL_HEAD = "location,animal,start,end,smldist,lardist"


def _zl_rows(cols: int = 12) -> list[str]:
    """Rows of the export; locations numbered row-major on a plate of ``cols`` columns."""
    return [f"c{(ord(w[0]) - 65) * cols + int(w[1:]):02d},{w},{b * 60},{(b + 1) * 60},"
            f"{1 + i * 0.1 + b:.2f},{2 + b * 0.5:.2f}"
            for i, w in enumerate(WELLS) for b in range(4)]


ZL = "\n".join([ZL_HEAD, *_zl_rows()]) + "\n"
LAYOUT = "well,group,concentration\n" + "".join(
    f"{w},{'C' if i < 4 else 'H'},{0 if i < 4 else 5}\n" for i, w in enumerate(WELLS))
TRAJ = "time,x,y,well\n" + "".join(
    f"{t * 0.5:.1f},{t * 0.1 + i:.2f},{1 + i:.2f},{w}\n" for i, w in enumerate(WELLS)
    for t in range(0, 480, 4))
ETHO_HEAD = ('"Number of header lines:";"6"\n"Experiment";"E1"\n"Arena name";"Arena 1"\n'
             '"Subject name";"A01"\n"Trial time";"X center";"Y center"\n"s";"mm";"mm"\n')
ETHO = ETHO_HEAD + "".join(f'"{t:.1f}";"{t * 0.1:.2f}";"1.0"\n' for t in range(0, 240, 2))
SETS = ("--set", "bin_s=60", "--set", "endpoint_bin_s=60", "--set",
        "schedule=[{name: light1, light: true, duration_s: 120}, "
        "{name: dark1, light: false, duration_s: 120}]")


def zf(export: str = "zl.csv", *extra: str, layout: bool = True) -> tuple[str, ...]:
    lay = ("--layout", "{dir}/layout.csv") if layout else ()
    return ("zebrafish", f"{{dir}}/{export}", *lay, *SETS, *extra, "-o", "{out}")


def zl(old: str, new: str, count: int = 1) -> dict:
    assert old in ZL
    return {"zl.csv": ZL.replace(old, new, count), "layout.csv": LAYOUT}


def zl_text(text: str | bytes, name: str = "zl.csv") -> dict:
    return {name: text, "layout.csv": LAYOUT}


def layout(text: str) -> dict:
    return {"zl.csv": ZL, "layout.csv": text}


ROW = _zl_rows()[5]   # c02,A02,60,120,...


def zl_column(name: str, value: str, row_value: str) -> dict:
    """The export with a column ``name`` holding ``value``, ``row_value`` in :data:`ROW`."""
    rows = [f"{r},{row_value if r == ROW else value}" for r in _zl_rows()]
    return zl_text("\n".join([f"{ZL_HEAD},{name}", *rows]) + "\n")


def _xlsx(text: str, path) -> None:
    """Write a comma-separated text as a one-sheet workbook (numbers as numbers)."""
    import openpyxl

    wb = openpyxl.Workbook()
    for n, line in enumerate(text.splitlines()):
        cells = line.split(",")
        wb.active.append(cells if n == 0 else [c if c[:1].isalpha() else float(c)
                                               for c in cells])
    wb.save(path)

CASES = [
    # --- empty and unreadable files
    Case("zl-empty-file", zl_text(""), zf(), "the file is empty (0 bytes)", "zl.csv"),
    Case("zl-header-only", zl_text(ZL_HEAD + "\n"), zf(), "found none", "zl.csv"),
    Case("zl-binary-garbage", zl_text(bytes(range(256)) * 8), zf(),
         "unknown zebrafish export layout", "zl.csv"),
    Case("zl-corrupt-gzip", zl_text(b"\x1f\x8b\x08\x00" + b"\x00" * 20, "zl.csv.gz"),
         zf("zl.csv.gz"), "gzip", "zl.csv.gz"),
    Case("zl-corrupt-xlsx", zl_text(b"PK\x03\x04" + b"\x00" * 100, "zl.xlsx"), zf("zl.xlsx"),
         "cannot open as an xlsx workbook", "zl.xlsx"),
    Case("zl-corrupt-xls", zl_text(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "zl.xls"), zf("zl.xls"),
         "cannot open as an xls", "zl.xls"),
    Case("zl-truncated-mid-row", zl_text(ZL[:len(ZL) // 2].rsplit(",", 1)[0]), zf(),
         "line 17: expected 6 cells like the header, found 1", "zl.csv"),
    Case("zl-huge-header-block", zl_text("Exported by ZebraLab\n" * 5000 + ZL), zf(),
         "unknown zebrafish export layout", "zl.csv"),
    Case("zl-extra-header-line", zl_text("ZebraLab export v3.2\n" + ZL), zf(),
         "unknown zebrafish export layout", "zl.csv"),
    # --- columns
    Case("zl-missing-start", zl("location,animal,start,", "location,animal,"), zf(),
         "unknown zebrafish export layout", "zl.csv"),
    Case("zl-renamed-end", zl(",end,", ",stop,"), zf(), "unknown zebrafish export layout",
         "zl.csv"),
    Case("zl-missing-distance", zl(",smldist,lardist", ",foo,bar"), zf(),
         "unknown zebrafish export layout", "zl.csv"),
    Case("zl-format-given-wrong", zl_text(ZL), zf("zl.csv", "--format", "zebralab-long"),
         "not in the zebralab-long layout", "zl.csv"),
    Case("zl-short-row", zl(ROW, ROW.rsplit(",", 2)[0]), zf(),
         "line 7: expected 6 cells like the header, found 4", "zl.csv"),
    Case("zl-long-row", zl(ROW, ROW + ",9,9,9"), zf(), "Expected 6 fields in line 7, saw 9",
         "zl.csv"),
    # --- cells
    Case("zl-text-in-distance", zl(ROW, ROW.rsplit(",", 1)[0] + ",fast"), zf(),
         "expected a number, found 'fast'", "zl.csv"),
    Case("zl-text-in-start", zl(ROW, ROW.replace(",60,120,", ",one,120,")), zf(),
         "expected a number, found 'one'", "zl.csv"),
    Case("zl-na-start", zl(ROW, ROW.replace(",60,120,", ",#N/A,120,")), zf(),
         "line 7, column 'start': expected a number, found '#N/A'", "zl.csv"),
    Case("zl-empty-start", zl(ROW, ROW.replace(",60,120,", ",,120,")), zf(),
         "line 7, column 'start': expected the period's start time in s, found no number",
         "zl.csv"),
    Case("zl-dash-start", zl(ROW, ROW.replace(",60,120,", ",-,120,")), zf(),
         "line 7, column 'start': expected the period's start time in s, found no number "
         "(an empty cell, '-', 'NA' or 'nan')", "zl.csv"),
    Case("zl-inf-distance", zl(ROW, ROW.rsplit(",", 1)[0] + ",inf"), zf(),
         "line 7, column 'lardist': expected a finite number >= 0, found inf", "zl.csv"),
    Case("zl-negative-distance", zl(ROW, ROW.rsplit(",", 1)[0] + ",-3.5"), zf(),
         "line 7, column 'lardist': expected a finite number >= 0, found -3.5", "zl.csv"),
    # a negative speed-class distance used to be summed (2.10 + -0.5 would pass the
    # >= 0 check of the total); every activity column is a count, duration or distance
    Case("zl-negative-smldist", zl(ROW, ROW.replace(",2.10,", ",-0.5,")), zf(),
         "line 7, column 'smldist': expected a finite number >= 0, found -0.5", "zl.csv"),
    Case("zl-negative-count", zl_column("smlct", "1", "-3"), zf(),
         "line 7, column 'smlct': expected a finite number >= 0, found -3", "zl.csv"),
    Case("zl-negative-after-blank-lines", zl_text(ZL.replace(ZL_HEAD + "\n", ZL_HEAD + "\n\n\n")
                                                  .replace(ROW, ROW.replace(",2.10,", ",-1,"))),
         zf(), "line 9, column 'smldist': expected a finite number >= 0, found -1", "zl.csv"),
    Case("zl-negative-xlsx", {"layout.csv": LAYOUT}, zf("zl.xlsx"),
         "row 7, column 'smldist': expected a finite number >= 0, found -0.5", "zl.xlsx",
         setup=lambda d: _xlsx(ZL.replace(ROW, ROW.replace(",2.10,", ",-0.5,")), d / "zl.xlsx")),
    # a quoted thousands separator in a comma-separated export was read as 2.1 (x1000 off)
    Case("zl-quoted-thousands", zl(ROW, ROW.replace(",2.10,", ',"2,100",')), zf(),
         "line 7, column 'smldist': expected a number, found '2,100'", "zl.csv"),
    Case("zl-negative-start", zl(",0,60,", ",-60,60,"), zf(),
         "larva A01 (plate zl), bin 0, column 'start_s': expected a value >= 0, found -60",
         "zl.csv"),
    Case("zl-end-before-start", zl(ROW, ROW.replace(",60,120,", ",60,30,")), zf(),
         "line 7, column 'end': expected end > start (60 s), found 30", "zl.csv"),
    # stranger33 Z3: a period of no length, a duration longer than its period
    Case("zl-end-equals-start", zl(ROW, ROW.replace(",60,120,", ",60,60,")), zf(),
         "line 7, column 'end': expected end > start (60 s), found 60", "zl.csv"),
    Case("zl-duration-over-period", zl_column("smldur", "20", "300"), zf(),
         "line 7, column 'smldur': expected a duration <= the period's 60 s (end - start), "
         "found 300", "zl.csv"),
    # stranger33 D1: the export's distance unit
    Case("zl-unit-pixel", zl_column("unit", "mm", "pixel"), zf(),
         "line 7, column 'unit': expected a distance unit mm, cm, m, um, \u00b5m, found 'pixel'",
         "zl.csv"),
    # found by bench_fuzz: an alias header beside the name it stands for, a huge location
    Case("zl-alias-twice", zl_text("\n".join(
        [ZL_HEAD.replace("start,", "start,debut,")]
        + [",".join([*c[:3], c[2], *c[3:]]) for c in (r.split(",") for r in _zl_rows())])),
         zf(), "columns 'start', 'debut' all mean 'start'; keep one of them", "zl.csv"),
    Case("zl-location-out-of-range", zl_text("\n".join(
        [ZL_HEAD] + [",".join([c[0] if i != 5 else "c999999999999", "1", *c[2:]])
                     for i, c in enumerate(r.split(",") for r in _zl_rows())])),
         zf(), "line 7, column 'location': expected a location c01 to c384, found "
         "'c999999999999'", "zl.csv"),
    Case("zl-duplicate-bin", zl(ROW, ROW + "\n" + ROW), zf(),
         "larva A02 (plate zl), bin 1, column 'start_s': expected each larva and bin once",
         "zl.csv"),
    # locations numbered on 4 columns (c05 = B01): without names, c05 is A05 of 96 wells
    Case("zl-bad-well-falls-back-to-location",
         zl_text("\n".join([ZL_HEAD, *_zl_rows(4)]).replace(",A02,", ",Z99,", 4) + "\n"),
         zf(),
         "'A05', 'A06', 'A07', 'A08' of plate 'zl' are in the export but not in the layout",
         "layout.csv"),
    Case("zl-location-no-number", zl("c02,A02", "cX,A02x", 4), zf(),
         "line 6, column 'location': expected a location like 'c01', found 'cX'", "zl.csv"),
    # --- layout vs data
    Case("zl-well-not-in-layout", layout(LAYOUT.replace("B04,H,5\n", "")), zf(),
         "well(s) 'B04' of plate 'zl' are in the export but not in the layout", "layout.csv"),
    Case("layout-well-not-in-data", layout(LAYOUT + "C01,H,5\n"), zf(),
         "well(s) 'C01' of plate 'zl' are in the layout but in no export", "layout.csv"),
    Case("layout-duplicate-well", layout(LAYOUT + "A01,H,5\n"), zf(),
         "row 10, column 'well': well 'A01' appears twice", "layout.csv"),
    Case("layout-bad-well", layout(LAYOUT.replace("A01,", "AA1,")), zf(),
         "row 2, column 'well': 'AA1' is not a well name", "layout.csv"),
    Case("layout-no-well-column", layout(LAYOUT.replace("well,", "pos,")), zf(),
         "expected column(s) 'well', found", "layout.csv"),
    Case("layout-text-concentration", layout(LAYOUT.replace("B01,H,5", "B01,H,high")), zf(),
         "row 6, column 'concentration': expected a number, found 'high'", "layout.csv"),
    Case("layout-negative-concentration", layout(LAYOUT.replace("B01,H,5", "B01,H,-5")), zf(),
         "row 6, column 'concentration': expected a finite concentration >= 0", "layout.csv"),
    # stranger29 F18: a dosed larva inside the control group was pooled with it
    Case("layout-group-two-concentrations", layout(LAYOUT.replace("A02,C,0", "A02,C,5")), zf(),
         "row 3, column 'concentration': group 'C' has concentrations 0 and 5", "layout.csv"),
    # stranger29 F19: a dash or question mark in a call column counted as dead
    *[Case(f"layout-call-{i}", layout(LAYOUT.replace("well,group,concentration",
                                                     f"well,group,concentration,{col}")
                                      .replace("\n", ",\n").replace(f",{col},", f",{col}")
                                      .replace("A02,C,0,", f"A02,C,0,{cell}")), zf(),
           f"row 3, column '{col}': expected a call: 1/0, dead/alive, yes/no, x or empty"
           f"{named}, found '{cell}'", "layout.csv")
      for i, (col, cell, named) in enumerate([
          ("mortality", "-", ""), ("mortality", "\u2014", ""), ("mortality", "?", ""),
          ("mortality", "qwerty", ""), ("mortality", "0.5", ""), ("dead_120hpf", "2", ""),
          ("morphology", "?", " or the finding's name"),
          ("morphology", "-", " or the finding's name")])],
    Case("layout-empty", layout(""), zf(), "file is empty (no header line)", "layout.csv"),
    Case("layout-header-only", layout("well,group,concentration\n"), zf(),
         "expected at least one well row below the header, found none", "layout.csv"),
    # a UTF-16 byte-order mark, then noise
    Case("layout-binary", layout(b"\xff\xfe\x00\x01garbage\x00"), zf(),
         "expected column(s) 'well', found", "layout.csv"),
    # --- trajectory table
    Case("traj-text-in-x",{"t.csv": TRAJ.replace("\n0.0,0.00,", "\n0.0,left,", 1),
                            "layout.csv": LAYOUT},
         zf("t.csv"), "invalid value 'left'", "t.csv"),
    Case("traj-negative-time",{"t.csv": TRAJ.replace("\n0.0,", "\n-5.0,", 1),
                                "layout.csv": LAYOUT},
         zf("t.csv"), "larva A01 (plate t), column 'time_s': expected a time >= 0, found -5",
         "t.csv"),
    Case("traj-non-monotonic-time",{"t.csv": TRAJ.replace("\n4.0,", "\n1.0,", 1),
                                     "layout.csv": LAYOUT},
         zf("t.csv"),
         "column 'time_s': expected frame times to increase within each larva, found 1", "t.csv"),
    Case("traj-duplicate-time",{"t.csv": TRAJ.replace("\n2.0,", "\n0.0,", 1),
                                 "layout.csv": LAYOUT},
         zf("t.csv"), "expected frame times to increase within each larva, found 0", "t.csv"),
    # found by bench_fuzz: invalid UTF-8 in the last bytes (past the encoding sniff)
    Case("traj-invalid-utf8-at-end", {"t.csv": TRAJ.encode()[:-4] + b"\xef\xbf\n",
                                      "layout.csv": LAYOUT},
         zf("t.csv"), "column 'well': expected UTF-8 text, found bytes that are not", "t.csv"),
    Case("traj-two-y-columns", {"t.csv": TRAJ.replace("time,x,y,well", "time,x,y,Yá"),
                                "layout.csv": LAYOUT},
         zf("t.csv"), "columns 'y', 'Yá' all mean 'y'; keep one of them", "t.csv"),
    Case("traj-missing-y",{"t.csv": TRAJ.replace("time,x,y,well", "time,x,z,well"),
                            "layout.csv": LAYOUT},
         zf("t.csv"), "unknown zebrafish export layout", "t.csv"),
    Case("traj-bad-well",{"t.csv": TRAJ.replace(",A01\n", ",well1\n"),
                           "layout.csv": LAYOUT},
         zf("t.csv"), "well(s) 'well1' of plate 't' are in the export but not in the layout",
         "layout.csv"),
    # --- EthoVision raw
    Case("etho-header-count-too-big",{"e.txt": ETHO.replace('"6"', '"600"'),
                                       "layout.csv": LAYOUT},
         zf("e.txt"), "expected the EthoVision header block to fit in the first 60 lines", "e.txt"),
    Case("etho-header-count-text",{"e.txt": ETHO.replace('"6"', '"six"'),
                                    "layout.csv": LAYOUT},
         zf("e.txt"), "unknown zebrafish export layout", "e.txt"),
    Case("etho-no-trial-time",{"e.txt": ETHO.replace('"Trial time"', '"Clock"'),
                                "layout.csv": LAYOUT},
         zf("e.txt"), "header block: expected column(s) 'trial_time', found 'clock'", "e.txt"),
    Case("etho-text-in-x",{"e.txt": ETHO.replace('"2.0";"0.20"', '"2.0";"abc"'),
                            "layout.csv": LAYOUT},
         zf("e.txt"), "data row 2, column 'x_center': expected a number, found 'abc'", "e.txt"),
    Case("etho-truncated-header", {"e.txt": ETHO_HEAD[:60], "layout.csv": LAYOUT}, zf("e.txt"),
         "expected the EthoVision header block to fit in the first 3 lines", "e.txt"),
    # --- hostile inputs (attack24); a column named twice ran into a traceback
    Case("zl-column-named-twice", zl_text(ZL.replace("smldist,lardist", "lardist,lardist")),
         zf(), "line 1: column 'lardist' appears twice in the header (columns 5 and 6)",
         "zl.csv"),
    Case("layout-column-named-twice", layout(LAYOUT.replace("group,concentration",
                                                            "group,group")),
         zf(), "line 1: column 'group' appears twice in the header", "layout.csv"),
    Case("zl-distance-1e308", zl(ROW, ROW.rsplit(",", 1)[0] + ",1e308"), zf(),
         "line 7, cell 6: value '1e308' is too large to analyse", "zl.csv"),
    Case("zl-password-protected", zl_text(ENCRYPTED_XLSX, "zl.xlsx"), zf("zl.xlsx"),
         "the workbook is password-protected (encrypted)", "zl.xlsx"),
    # --- previous output kept
    Case("zl-force-keeps-previous", zl(ROW, ROW.rsplit(",", 1)[0] + ",fast"),
         zf("zl.csv", "--force"), "expected a number, found 'fast'", "zl.csv", previous=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_zebrafish_case(case, tmp_path):
    run_case(case, tmp_path)


def _semicolon_comma(text: str) -> str:
    return "\n".join(line.replace(",", ";").replace(".", ",") for line in text.splitlines())


ACCEPTED = [
    ("utf8-bom", codecs.BOM_UTF8 + ZL.encode(), "encoding utf-8-sig"),
    ("utf16-bom", ZL.encode("utf-16"), "encoding utf-16"),
    ("utf16-le-no-bom", ZL.encode("utf-16-le"), "encoding utf-16-le"),
    ("cp1252-french", ZL.replace(",start,end,", ",début,fin,").encode("cp1252"), "encoding cp1252"),
    ("decimal-comma-semicolon", _semicolon_comma(ZL).encode(), "decimal mark ','"),
    ("tab-delimited", ZL.replace(",", "\t").encode(), "delimiter tab"),
    ("crlf-line-ends", ZL.replace("\n", "\r\n").encode(), "delimiter ','"),
    ("gzip", gzip.compress(ZL.encode(), mtime=0), "delimiter ','"),
    ("lone-cr-line-ends", ZL.replace("\n", "\r").encode(), "delimiter ','"),
    ("trailing-empty-columns", "".join(f"{line},,\n" for line in ZL.splitlines()).encode(),
     "delimiter ','"),
]


@pytest.mark.parametrize("name, data, note", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_zebrafish_dialects_parse_and_guess_is_recorded(tmp_path, name, data, note):
    """Encodings, delimiters and decimal marks the format allows parse; the guess is noted."""
    manifest = run_ok({"zl.csv": data, "layout.csv": LAYOUT}, zf(), tmp_path)
    assert any(note in n for n in manifest["notes"]), manifest["notes"]
    assert any("format zebralab-tracking (detected)" in n for n in manifest["notes"])


def test_zebrafish_dash_distance_is_missing_not_error(tmp_path):
    """A ``-`` distance is a lost bin: the run succeeds and the value is missing."""
    manifest = run_ok(zl(ROW, ROW.rsplit(",", 1)[0] + ",-"), zf(), tmp_path)
    assert any("format zebralab-tracking" in n for n in manifest["notes"])


def test_trajectory_guesses_are_recorded(tmp_path):
    """Plain trajectories: the units assumption and the dialect reach the manifest."""
    manifest = run_ok({"t.csv": TRAJ, "layout.csv": LAYOUT}, zf("t.csv"), tmp_path)
    assert any("coordinates taken as mm, time as s" in n for n in manifest["notes"])


def test_ethovision_decimal_comma_utf16(tmp_path):
    """EthoVision raw text in UTF-16 with decimal commas: parsed, guesses noted."""
    data = ETHO.replace('"0.20"', '"0,20"').encode("utf-16")
    lay = "well,group,concentration\nA01,C,0\n"
    manifest = run_ok({"e.txt": data, "layout.csv": lay}, zf("e.txt"), tmp_path)
    notes = " ".join(manifest["notes"])
    assert "encoding utf-16" in notes and "format ethovision-raw" in notes


PMAP = ("plate_id,chemical_id,row_id,col_id,value,units,MO24,MORT\n"
        + "".join(f"zl,X,{w[0]},{int(w[1:])},{0 if i < 4 else 5},uM,0,0\n"
                  for i, w in enumerate(WELLS)))


def pmap(old: str, new: str) -> dict:
    assert old in PMAP, old
    return {"zl.csv": ZL, "layout.csv": LAYOUT, "pmap.csv": PMAP.replace(old, new, 1)}


PMAP_CASES = [
    Case("pmap-missing-plate-col", pmap("plate_id,", "plateau,"),
         zf("zl.csv", "--plate-map", "{dir}/pmap.csv"),
         "expected columns 'plate_id'/'plate' and 'value', found ['chemical_id',", "pmap.csv"),
    Case("pmap-bad-row", pmap("zl,X,A,2,", "zl,X,Q,2,"),
         zf("zl.csv", "--plate-map", "{dir}/pmap.csv"),
         "column 'row_id/col_id': well 'Q2' is outside a 384-well plate", "pmap.csv"),
    Case("pmap-text-call", pmap("uM,0,0\n", "uM,dead,0\n"),
         zf("zl.csv", "--plate-map", "{dir}/pmap.csv"),
         "line 2, column 'mo24': expected a number, found 'dead'", "pmap.csv"),
    Case("pmap-empty", {"zl.csv": ZL, "layout.csv": LAYOUT, "pmap.csv": ""},
         zf("zl.csv", "--plate-map", "{dir}/pmap.csv"),
         "cannot parse as a delimited table: No columns to parse from file", "pmap.csv"),
    Case("pmap-duplicate-well-conflicting", pmap("zl,X,A,2,0,uM,0,0", "zl,X,A,1,0,uM,1,0"),
         zf("zl.csv", "--plate-map", "{dir}/pmap.csv"),
         "well 'A01' of plate 'zl' is listed in data rows 1 and 2 with different 'mo24' (0 vs 1)",
         "pmap.csv"),
]


@pytest.mark.parametrize("case", PMAP_CASES, ids=[c.id for c in PMAP_CASES])
def test_zebrafish_plate_map_case(case, tmp_path):
    run_case(case, tmp_path)


def test_every_larva_excluded_is_a_result_not_a_traceback(tmp_path):
    """Every distance missing: each larva is excluded with its reason and the run ends
    (the SARL table indexed an empty dose list before: IndexError)."""
    rows = [",".join(r.split(",")[:4] + ["-", "-"]) for r in _zl_rows()]
    manifest = run_ok({"zl.csv": "\n".join([ZL_HEAD, *rows]) + "\n", "layout.csv": LAYOUT},
                      zf(), tmp_path)
    reasons = {e["subject"]: e["reason"] for e in manifest["exclusions"]}
    assert len(reasons) == len(WELLS)
    assert set(reasons.values()) == {"tracking error (100% of samples missing)"}
    assert "8 larvae analysed, 8 excluded" in manifest["notes"]


@pytest.mark.parametrize(("col", "cell", "reason"), [
    ("mortality", "1", "mortality: 1"), ("mortality", "Dead", "mortality: Dead"),
    ("mortality", "yes", "mortality: yes"), ("mortality", "x", "mortality: x"),
    ("mortality", "0", ""), ("mortality", "alive", ""), ("mortality", "No", ""),
    ("mortality", "", ""), ("morphology", "pericardial edema", "morphology: pericardial edema"),
    ("morphology", "normal", "")])
def test_layout_call_vocabulary(tmp_path, col, cell, reason):
    """The closed vocabulary of layout call columns: what calls, what does not."""
    import pandas as pd

    lay = LAYOUT.replace("well,group,concentration", f"well,group,concentration,{col}")
    lay = lay.replace("\n", ",\n").replace(f",{col},", f",{col}")
    run_ok({"zl.csv": ZL, "layout.csv": lay.replace("A02,C,0,", f"A02,C,0,{cell}")}, zf(),
           tmp_path)
    larvae = pd.read_csv(tmp_path / "out" / "larvae.csv", keep_default_na=False)
    assert larvae.set_index("well").loc["A02", "exclusion_reason"] == reason

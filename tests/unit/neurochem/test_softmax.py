"""SoftMax Pro text exports (``##BLOCKS=``) in plate and time format.

Fixtures are written here, modelled on the layout SoftMax Pro writes (a ``Plate:``
settings row, a ``Temperature(°C)`` column row, plate rows without row letters,
``~End``); the values are a known ramp so every well can be checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from neurotox.errors import FormatError
from neurotox.io.neurochem import read_export
from neurotox.io.neurochem.base import SATURATED
from neurotox.io.neurochem.plate_table import apply_plate_map, read_plate_map

ROWS = "ABCDEFGH"


def _od(row: int, col: int, k: int = 0) -> float:
    """A known value per well and wavelength: row A col 1 = 1.001, H12 = 8.012 (+10 per k)."""
    return round(10 * k + row + 1 + (col + 1) / 1000, 3)


def _header(name: str = "Plate1", fmt: str = "PlateFormat", read: str = "Endpoint",
            mode: str = "Absorbance", wavelengths: str = "450", kinetic: int = 1) -> str:
    n = len(wavelengths.split())
    scan = ["FALSE"] if mode == "Fluorescence" else []
    cells = ["Plate:", name, "1.3", fmt, read, mode, *scan, "Raw", "FALSE", str(kinetic),
             "", "", "", "", "", str(n), wavelengths, "1", "12", "96", "1", "8", "None"]
    return "\t".join(cells)


def _plate_rows(nwl: int, *, reduced: bool, time: str = "", comma: bool = False) -> list[str]:
    head = f"{'Time' if time else ''}\tTemperature(°C)\t" + "\t\t".join(
        "\t".join(str(c) for c in range(1, 13)) for _ in range(nwl))
    out = [head]
    for r in range(8):
        grids = ["\t".join(f"{_od(r, c, k):.3f}" for c in range(12)) for k in range(nwl)]
        out.append(f"{time if r == 0 else ''}\t{'23.80' if r == 0 else ''}\t"
                   + "\t\t".join(grids))
    if reduced:
        out += ["", "\tTemperature(°C)\t" + "\t".join(str(c) for c in range(1, 13))]
        out += ["\t\t" + "\t".join(f"{_od(r, c, 5):.3f}" for c in range(12)) for r in range(8)]
    return [ln.replace(".", ",") if comma else ln for ln in out]


def _file(tmp_path: Path, blocks: list[list[str]], *, announced: int | None = None,
          name: str = "elisa.txt") -> Path:
    lines = [f"##BLOCKS= {len(blocks) if announced is None else announced}"]
    for b in blocks:
        lines += [*b, "", "~End"]
    lines.append("Original Filename: elisa; Date Last Saved: 5/12/2026 10:00:00 AM")
    p = tmp_path / name
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return p


def test_plate_format_endpoint_one_wavelength(tmp_path):
    p = _file(tmp_path, [[_header(), *_plate_rows(1, reduced=False)]])
    e = read_export(p, analyte="gfap")
    assert e.format == "softmax" and len(e.wells) == 96
    w = e.wells.set_index("well")
    assert w.loc["A01", "signal"] == 1.001 and w.loc["H12", "signal"] == 8.012
    assert w.loc["C05", "signal"] == 3.005 and w.loc["C05", "plate"] == "Plate1"
    assert set(e.wells["type"]) == {"sample"} and e.meta["needs_map"]
    assert any("signal = '450 nm'" in n for n in e.notes)


def test_reduced_grid_is_the_signal_and_wavelengths_side_by_side_are_read(tmp_path):
    p = _file(tmp_path, [[_header(wavelengths="450 570"), *_plate_rows(2, reduced=True)]])
    w = read_export(p, analyte="gfap").wells.set_index("well")
    assert w.loc["B03", "signal"] == _od(1, 2, 5)
    w570 = read_export(p, analyte="gfap", signal="570").wells.set_index("well")
    assert w570.loc["B03", "signal"] == _od(1, 2, 1) and w570.loc["H12", "signal"] == 18.012


def test_two_wavelengths_without_reduced_data_name_the_choice(tmp_path):
    p = _file(tmp_path, [[_header(wavelengths="450 570"), *_plate_rows(2, reduced=False)]])
    with pytest.raises(FormatError, match=r"line 2: plate 'Plate1' has 2 wavelengths "
                                          r"\('450 nm', '570 nm'\) and no reduced data: name "
                                          r"the signal with parameter 'signal'"):
        read_export(p, analyte="gfap")
    w = read_export(p, analyte="gfap", signal="450 nm").wells.set_index("well")
    assert w.loc["D07", "signal"] == 4.007


def test_time_format_endpoint(tmp_path):
    wells = [f"{r}{c}" for r in ROWS for c in range(1, 13)]
    rows = ["Time\tTemperature(°C)\t" + "\t".join(wells)]
    rows += ["\t23.80\t" + "\t".join(f"{_od(i // 12, i % 12, k):.3f}" for i in range(96))
             for k in range(2)]
    p = _file(tmp_path, [[_header(fmt="TimeFormat", wavelengths="450 570"), *rows]])
    w = read_export(p, analyte="gfap", signal="570 nm").wells.set_index("well")
    assert w.loc["A01", "signal"] == 11.001 and w.loc["G11", "signal"] == 17.011


def test_fluorescence_header_and_decimal_commas_and_other_blocks(tmp_path):
    group = ["Group: Standards", "Sample\tWells\tValues", "01\tA1\t1,001"]
    p = _file(tmp_path, [group, [_header(mode="Fluorescence", wavelengths="485"),
                                 *_plate_rows(1, reduced=False, comma=True)]])
    e = read_export(p, analyte="gfap")
    assert e.wells.set_index("well").loc["E09", "signal"] == 5.009
    assert any("decimal commas" in n for n in e.notes)
    assert any("blocks other than plates skipped: 'Group: Standards'" in n for n in e.notes)


def test_kinetic_read_without_reduced_data_is_refused(tmp_path):
    rows = _plate_rows(1, reduced=False, time="00:00:00") + [""] + \
        _plate_rows(1, reduced=False, time="00:00:30")[1:]
    p = _file(tmp_path, [[_header(read="Kinetic", kinetic=2), *rows]])
    with pytest.raises(FormatError, match="plate 'Plate1' is a Kinetic read without reduced "
                                          "data; SoftMax Pro exports are read for Endpoint"):
        read_export(p, analyte="gfap")


def test_kinetic_read_with_reduced_data_reads_the_reduced_grid(tmp_path):
    rows = _plate_rows(1, reduced=False, time="00:00:00") + [""] + \
        _plate_rows(1, reduced=True, time="00:00:30")[1:]
    p = _file(tmp_path, [[_header(read="Kinetic", kinetic=2), *rows]])
    w = read_export(p, analyte="gfap").wells.set_index("well")
    assert w.loc["F02", "signal"] == _od(5, 1, 5)


def test_a_cut_export_is_refused(tmp_path):
    p = _file(tmp_path, [[_header(), *_plate_rows(1, reduced=False)]], announced=2)
    with pytest.raises(FormatError, match=r"announces 2 block\(s\) .* but 1 end with '~End': "
                                          "the file looks cut"):
        read_export(p, analyte="gfap")


def test_plate_map_gives_the_layout(tmp_path):
    p = _file(tmp_path, [[_header(), *_plate_rows(1, reduced=False)]])
    m = tmp_path / "map.csv"
    m.write_text("well,type,sample,expected,dilution\nA1,standard,STD1,2000,\n"
                 "A2,standard,STD1,2000,\nB1,blank,BLK,,\nC1,sample,SPL1,,4\n")
    e = apply_plate_map(read_export(p, analyte="gfap"), read_plate_map(m))
    w = e.wells.set_index("well")
    assert len(e.wells) == 4
    assert w.loc["A02", ["type", "expected", "signal"]].tolist() == ["standard", 2000, 1.002]
    assert w.loc["C01", ["type", "sample", "dilution", "signal"]].tolist() == \
        ["sample", "SPL1", 4, 3.001]


def test_two_plates_and_a_time_format_reduced_line(tmp_path):
    wells = [f"{r}{c}" for r in ROWS for c in range(1, 13)]
    column_row = "Time\tTemperature(°C)\t" + "\t".join(wells)
    rows = [column_row, "\t23.80\t" + "\t".join(f"{_od(i // 12, i % 12):.3f}" for i in range(96)),
            "", column_row, "\t\t" + "\t".join(f"{_od(i // 12, i % 12, 5):.3f}"
                                               for i in range(96))]
    p = _file(tmp_path, [[_header(), *_plate_rows(1, reduced=False)],
                         [_header(name="Plate2", fmt="TimeFormat"), *rows]])
    e = read_export(p, analyte="gfap")
    assert e.meta["plates"] == ["Plate1", "Plate2"] and len(e.wells) == 192
    w = e.wells.set_index(["plate", "well"])["signal"]
    assert w[("Plate1", "H01")] == 8.001 and w[("Plate2", "H01")] == _od(7, 0, 5)


# ------------------------------------------------------------------ markers and damage

def _reduced_file(tmp_path: Path, cells: dict[str, str], *, drop_row: str = "") -> Path:
    """Plate 'Plate1' with 2 wavelengths and a reduced grid; ``cells`` overwrite reduced wells.

    The reduced grid's column row is line 13, row A line 14; ``drop_row`` removes that row's line.
    """
    rows = _plate_rows(2, reduced=True)
    for well, text in cells.items():
        r, c = ROWS.index(well[0]), int(well[1:]) - 1
        line = rows[11 + r].split("\t")
        line[2 + c] = text
        rows[11 + r] = "\t".join(line)
    if drop_row:
        del rows[11 + ROWS.index(drop_row)]
    return _file(tmp_path, [[_header(wavelengths="450 570"), *rows]])


def test_softmax_markers_leave_the_well_without_a_signal_with_a_note(tmp_path):
    p = _reduced_file(tmp_path, {"A04": "#Sat", "B05": "Range?", "C06": "Masked"})
    e = read_export(p, analyte="gfap")
    w = e.wells.set_index("well")
    assert w.loc[["A04", "B05", "C06"], "vendor_flag"].tolist() == ["#Sat", "Range?", "Masked"]
    assert w.loc[["A04", "B05", "C06"], "signal"].isna().all()
    assert w.loc[["A04", "B05", "C06"], "vendor_excluded"].tolist() == [False, False, True]
    assert w.loc["A05", "signal"] == _od(0, 4, 5) and len(e.wells) == 96
    assert "#Sat" in SATURATED
    assert "warning: elisa.txt, plate 'Plate1', read 'reduced': well(s) A04 read '#Sat' " \
           "(saturated: above the reader's range): no number; left out of the curve, and a " \
           "sample with a saturated well is censored at the high-signal end of the range " \
           "(recorded in neurochem_wells)" in e.notes
    assert "warning: elisa.txt, plate 'Plate1', read 'reduced': well(s) B05 read 'Range?' " \
           "(no value: outside the range SoftMax Pro reports): no signal, left out of the " \
           "curve and of their sample's mean (recorded in neurochem_wells)" in e.notes
    assert "elisa.txt, plate 'Plate1', read 'reduced': well(s) C06 read 'Masked' (masked by " \
           "the user in SoftMax Pro): left out of the curve and of their sample's mean, as " \
           "masked (recorded in neurochem_wells)" in e.notes


def test_softmax_other_text_in_a_read_is_an_error_naming_line_and_well(tmp_path):
    p = _reduced_file(tmp_path, {"B05": "Err"})
    with pytest.raises(FormatError, match=r"elisa.txt, line 15, plate 'Plate1', read 'reduced', "
                                          r"well B05: expected a read \(a number\) or one of "
                                          r"SoftMax Pro's markers '#Sat', 'Masked', 'Range\?', "
                                          r"found 'Err'"):
        read_export(p, analyte="gfap")


def test_softmax_empty_cell_is_kept_and_warned_about_once_mapped(tmp_path):
    p = _reduced_file(tmp_path, {"C01": ""})
    e = read_export(p, analyte="gfap")
    assert len(e.wells) == 96 and e.wells.set_index("well")["signal"].isna().sum() == 1
    m = tmp_path / "map.csv"
    m.write_text("well,type,sample,expected,dilution\nC1,sample,SPL1,,4\nC2,sample,SPL1,,4\n"
                 "C3,sample,SPL1,,4\n")
    mapped = apply_plate_map(e, read_plate_map(m))
    w = mapped.wells.set_index("well")
    assert w["signal"].isna().tolist() == [True, False, False]
    assert "warning: elisa.txt, plate 'Plate1': well(s) C01 have an empty read cell (elisa.txt " \
           "line 16, plate 'Plate1', read 'reduced', well C01): no signal, left out of the " \
           "curve and of their sample's mean (recorded in neurochem_wells)" in mapped.notes


def test_a_plate_map_well_missing_from_the_export_is_warned_about(tmp_path):
    p = _file(tmp_path, [[_header(), *_plate_rows(1, reduced=False)]])
    m = tmp_path / "map.csv"
    m.write_text("well,type,sample,expected,dilution\nA1,sample,SPL1,,\nI1,sample,SPL1,,\n")
    e = apply_plate_map(read_export(p, analyte="gfap"), read_plate_map(m))
    assert len(e.wells) == 1
    assert "warning: elisa.txt, plate 'Plate1': 1 well(s) of the plate map are not in the " \
           "export (I01): left out" in e.notes


@pytest.mark.parametrize("row", ["H", "C"])
def test_a_grid_missing_a_row_is_refused_naming_its_lines(tmp_path, row):
    p = _reduced_file(tmp_path, {}, drop_row=row)
    with pytest.raises(FormatError, match=r"elisa.txt, line 13: plate 'Plate1', read "
                                          r"'reduced': expected 8 grid rows \(96 wells in 12 "
                                          r"columns\), found 7 \(lines 13-20\): the grid looks "
                                          r"damaged or cut"):
        read_export(p, analyte="gfap")


def test_mixed_decimal_separators_are_refused_naming_both_cells(tmp_path):
    p = _reduced_file(tmp_path, {"A04": "1,2345"})
    with pytest.raises(FormatError, match=r"elisa.txt, line 14, plate 'Plate1', read 'reduced', "
                                          r"well A04: mixed decimal separators: '1,2345' has a "
                                          r"decimal comma \(a European locale\) but '1.001' "
                                          r"\(line 4, plate 'Plate1', read '450 nm', well A01\) "
                                          r"a decimal point"):
        read_export(p, analyte="gfap")

"""What real exports leave out or mark: no Net MFI, controls without nominal, OVRFLW, zero means.

Fixtures are the small vendor-shaped files of ``tests/data/neurochem`` edited the
way real exports differ (an xPONENT export without its Net MFI DataType or with
an empty one, a Bio-Plex control entered without a concentration, Gen5's
``OVRFLW``/``MISSED`` read markers, background-subtracted replicates of +0.5
and -0.5).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.neurochem import qc
from neurotox.assays.neurochem.concentrations import sample_values
from neurotox.assays.neurochem.params import ImmunoassayParameters
from neurotox.assays.neurochem.quantify import calibrate
from neurotox.errors import FormatError
from neurotox.io.neurochem import read_export
from neurotox.io.neurochem.kinetic import rates, read_kinetic

from .test_quantify import LEVELS, NAMES, TRUE, P, logistic5, plate

DATA = Path(__file__).resolve().parents[2] / "data" / "neurochem"


def _block(text: str, name: str) -> tuple[int, int]:
    """Start and end offsets of a ``DataType:,name`` block (up to the blank line)."""
    start = text.index(f"DataType:,{name}\n")
    return start, text.index("\n\n", start) + 2


def _without(text: str, name: str) -> str:
    start, end = _block(text, name)
    return text[:start] + text[end:]


def _emptied(text: str, name: str) -> str:
    """The block with its analyte cells empty (as xPONENT 4.3 writes with analysis off)."""
    start, end = _block(text, name)
    lines = text[start:end].split("\n")
    out = lines[:2] + [re.sub(r"^(\"[^\"]+\",[^,]+),[^,]*,[^,]*,", r"\1,,,", ln)
                       for ln in lines[2:]]
    return text[:start] + "\n".join(out) + text[end:]


def _write(tmp_path: Path, text: str, name: str = "x.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------------ xPONENT signal block

@pytest.mark.parametrize("edit, why", [
    (_without, "no 'DataType:,Net MFI' block"),
    (_emptied, "block 'Net MFI' is empty (not exported)"),
])
def test_xponent_without_net_mfi_subtracts_the_background_median(tmp_path, edit, why):
    text = (DATA / "xponent_small.csv").read_text()
    e = read_export(_write(tmp_path, edit(text, "Net MFI")))
    w = e.wells.set_index(["analyte", "well"])
    # background wells A01 and B03: Median 11 (IL6) and 12 (IP10)
    assert w.loc[("IL6", "B01"), "signal"] == pytest.approx(6677 - 11)
    assert w.loc[("IP10", "E02"), "signal"] == pytest.approx(5786.26 - 12)
    assert w.loc[("IL6", "A01"), "signal"] == 0
    assert w.loc[("IL6", "B01"), "raw"] == 6677
    # the fixture's lost-decimal standard is repaired with a warning of its own (a deviation)
    warning = [n for n in e.notes if n.startswith("warning:") and "DEVIATION" not in n]
    assert any("raw values changed: 1 expected concentration" in n for n in e.notes)
    assert warning == [f"warning: x.csv: {why}; the curve signal is block 'Median' minus the "
                       "mean Median of the 2 background well(s) 'A01', 'B03' (xPONENT's Net "
                       "MFI)"]


def test_xponent_without_net_mfi_or_background_wells_warns_it_is_not_subtracted(tmp_path):
    text = _without((DATA / "xponent_small.csv").read_text(), "Net MFI")
    text = text.replace(",Background0,", ",R09,").replace(",R09,\n", ",R09,1\n")
    e = read_export(_write(tmp_path, text))
    w = e.wells.set_index(["analyte", "well"])
    assert w.loc[("IL6", "B01"), "signal"] == 6677
    assert any(n.startswith("warning: x.csv: no 'DataType:,Net MFI' block; the curve signal is "
                            "block 'Median', NOT background-subtracted") for n in e.notes)


def test_xponent_with_net_mfi_reads_it_and_says_nothing(tmp_path):
    e = read_export(DATA / "xponent_small.csv")
    assert e.wells.set_index(["analyte", "well"]).loc[("IL6", "B01"), "signal"] == 6667
    assert not any("Net MFI" in n for n in e.notes)


def test_xponent_one_empty_net_mfi_cell_is_a_warning_naming_line_well_analyte(tmp_path):
    """The replicate is left out (the Median is named, not substituted)."""
    text = (DATA / "xponent_small.csv").read_text()
    old = '"3(1,C1)",Standard1,6667,11918.91063,400'
    assert old in text
    e = read_export(_write(tmp_path, text.replace(old, '"3(1,C1)",Standard1,,11918.91063,400')))
    w = e.wells.set_index(["analyte", "well"])
    assert math.isnan(w.loc[("IL6", "C01"), "signal"]) and w.loc[("IL6", "C01"), "raw"] == 6677
    assert w.loc[("IP10", "C01"), "signal"] == pytest.approx(11918.91063)
    assert "warning: x.csv: 1 cell(s) without a value (empty or NaN) in block 'Net MFI': line " \
           "36 well C01 analyte 'IL6' (Median 6677, Count 120): no signal, left out of the " \
           "curve and of their sample's mean (recorded in neurochem_wells); the Median is not " \
           "substituted for xPONENT's Net MFI" in e.notes


def test_xponent_empty_net_mfi_and_no_median_is_refused(tmp_path):
    text = _without(_emptied((DATA / "xponent_small.csv").read_text(), "Net MFI"), "Median")
    with pytest.raises(FormatError, match=r"x\.csv: block 'Net MFI' has no values and there "
                                          r"is no 'DataType:,Median' block"):
        read_export(_write(tmp_path, text))


# ------------------------------------------------------------------ replicates averaging to 0

def test_replicates_averaging_to_a_signal_of_zero_have_no_cv_and_do_not_crash():
    wells = plate(samples=[("Z", (0.5, -0.5), 2.0), ("E", (0.0, 0.0), 2.0),
                           ("A", (1000.0, 2000.0), 1.0)])
    cal = calibrate(wells, P, names=NAMES)
    s = sample_values(wells, cal, P).set_index("sample")
    assert math.isnan(s.loc["Z", "cv"]) and s.loc["Z", "mean_signal"] == 0
    assert s.loc["Z", "flags"] == "replicate CV undefined (mean signal 0, SD 0.707)"
    assert s.loc["Z", ["censoring", "reason"]].tolist() == ["left", ""]
    assert s.loc["Z", "value"] == pytest.approx(cal.reporting_limit * 2)
    assert s.loc["E", "flags"] == ""                   # equal replicates: nothing to flag
    assert s.loc["A", "flags"] == "replicate CV 47%"
    strict = P.model_copy(update={"exclude_high_cv_samples": True})
    t = sample_values(wells, cal, strict).set_index("sample")
    assert t.loc["Z", "reason"] == "replicate CV above 20%"
    assert t.loc["E", "reason"] == ""


# ------------------------------------------------------------------ controls without nominal

@pytest.mark.parametrize("nominal", [np.nan, 0.0])
def test_a_control_without_nominal_concentration_is_not_judged(nominal):
    wells = plate(controls=[("Control1", 100.0, 2.0), ("C0", 500.0, 1.0)])
    wells.loc[wells["level"] == "C0", "expected"] = nominal
    cal = calibrate(wells, P, names=NAMES)
    empty = pd.DataFrame(columns=["analyte", "level", "expected", "low", "high"])
    ctl = qc.control_results(wells, cal, empty, P).set_index("level")
    assert ctl.loc["C0", "range_source"] == qc.NOT_JUDGED
    assert ctl.loc["C0", "passes"] is pd.NA
    assert math.isnan(ctl.loc["C0", "recovery"]) and math.isnan(ctl.loc["C0", "expected"])
    assert ctl.loc["C0", "measured"] == pytest.approx(500.0, rel=1e-4)
    assert bool(ctl.loc["Control1", "passes"]) is True
    assert qc.acceptance(cal, ctl.reset_index(), P) == []
    note = qc.unjudged_note([ctl.reset_index()], "p.xlsx")
    assert note == ["p.xlsx: control level(s) C0 have no nominal concentration and no range in "
                    "the export (1 control result(s), analyte(s) IL6): their recovery is not "
                    "judged (neurochem_controls 'passes' empty) and plate acceptance rests on "
                    "the standards and the judged controls"]


def test_only_judged_controls_count_towards_acceptance():
    wells = plate(controls=[("Control1", 100.0, 2.0), ("C0", 500.0, 1.0)])
    wells.loc[wells["level"] == "Control1", "signal"] *= 1.3        # the judged one fails
    wells.loc[wells["level"] == "C0", "expected"] = np.nan
    cal = calibrate(wells, P, names=NAMES)
    empty = pd.DataFrame(columns=["analyte", "level", "expected", "low", "high"])
    ctl = qc.control_results(wells, cal, empty, P)
    assert qc.acceptance(cal, ctl, P) == ["0 of 1 controls within range (need 67%)"]


def test_a_control_without_nominal_but_with_an_export_range_is_judged_by_the_range():
    wells = plate(controls=[("C0", 500.0, 1.0)])
    wells.loc[wells["level"] == "C0", "expected"] = 0.0
    cal = calibrate(wells, P, names=NAMES)
    rng = pd.DataFrame([{"analyte": "IL6", "level": "C0", "expected": np.nan, "low": 400.0,
                         "high": 450.0}])
    ctl = qc.control_results(wells, cal, rng, P).iloc[0]
    assert (ctl["range_source"], bool(ctl["passes"])) == ("export", False)


# ------------------------------------------------------------------ Gen5 read markers

def _gen5(tmp_path: Path, old: str, new: str) -> Path:
    text = (DATA / "gen5_small.txt").read_text()
    assert old in text
    return _write(tmp_path, text.replace(old, new, 1), "g.txt")


def test_gen5_overflow_well_is_left_out_with_a_warning_and_the_plate_is_read(tmp_path):
    p = _gen5(tmp_path, "0.589\t0.601\tBlank 450", "0.589\tOVRFLW\tBlank 450")
    e = read_export(p, analyte="gfap")
    w = e.wells.set_index("well")
    assert math.isnan(w.loc["A12", "signal"]) and w.loc["A12", "vendor_flag"] == "OVRFLW"
    assert w.loc["A11", "signal"] == pytest.approx(0.589)
    assert w.loc["A01", "signal"] == pytest.approx(2.461)
    assert "warning: g.txt, plate 'Plate 1', 'Blank 450': well(s) A12 read 'OVRFLW' (over the " \
           "reader's range (saturated)): no number; left out of the curve, and a sample with a " \
           "saturated well is censored at the high-signal end of the range (recorded in " \
           "neurochem_wells)" in e.notes


@pytest.mark.parametrize(("marker", "meaning"), [
    ("?????", "no value: Gen5 could not compute it"), ("---", "no value")])
def test_gen5_not_computable_read_is_warned_about_naming_file_plate_well(tmp_path, marker,
                                                                        meaning):
    p = _gen5(tmp_path, "0.589\t0.601\tBlank 450", f"0.589\t{marker}\tBlank 450")
    e = read_export(p, analyte="gfap")
    w = e.wells.set_index("well")
    assert math.isnan(w.loc["A12", "signal"]) and w.loc["A12", "vendor_flag"] == marker
    assert w.loc["A11", "signal"] == pytest.approx(0.589)
    assert f"warning: g.txt, plate 'Plate 1', 'Blank 450': well(s) A12 read '{marker}' " \
           f"({meaning}): no signal, left out of the curve and of their sample's mean " \
           "(recorded in neurochem_wells)" in e.notes


def test_gen5_empty_read_cell_of_a_layout_well_is_warned_about(tmp_path):
    p = _gen5(tmp_path, "0.589\t0.601\tBlank 450", "0.589\t\tBlank 450")
    e = read_export(p, analyte="gfap")
    w = e.wells.set_index("well")
    assert math.isnan(w.loc["A12", "signal"]) and w.loc["A11", "signal"] == 0.589
    assert "warning: g.txt, plate 'Plate 1', 'Blank 450': well(s) A12 of the Layout have an " \
           "empty cell (grid from line 26): no signal, left out of the curve and of their " \
           "sample's mean (recorded in neurochem_wells)" in e.notes


def test_gen5_missed_in_the_uncorrected_read_only_is_noted(tmp_path):
    p = _gen5(tmp_path, "0.64\t0.652\t450", "0.64\tMISSED\t450")
    e = read_export(p, analyte="gfap")
    w = e.wells.set_index("well")
    assert w.loc["A12", "signal"] == pytest.approx(0.601) and math.isnan(w.loc["A12", "raw"])
    assert not any(n.startswith("warning:") for n in e.notes)
    assert any("well(s) A12 read 'MISSED' (not read (the read failed)): the uncorrected read "
               "only" in n for n in e.notes)


def test_gen5_overflow_standard_leaves_that_replicate_out_of_the_fit(tmp_path):
    p = _gen5(tmp_path, "2.461\t2.447", "2.461\tOVRFLW")
    wells = read_export(p, analyte="gfap").wells
    params = ImmunoassayParameters(model="4pl", weighting="none")
    cal = calibrate(wells, params, names={"gfap"})
    top = cal.standards.set_index("level").loc["STD1"]
    assert (top["n"], top["mean_signal"]) == (1, pytest.approx(2.461))
    assert any("A02" in n and "no signal" in n for n in cal.notes)


def _saturate(wells: pd.DataFrame, sample: str, n: int,
              marker: str = "OVRFLW") -> pd.DataFrame:
    """The first ``n`` wells of ``sample`` read ``marker`` (no number), as the vendor exports."""
    hit = wells.index[wells["sample"] == sample][:n]
    return wells.assign(signal=wells["signal"].mask(wells.index.isin(hit)),
                        vendor_flag=wells["vendor_flag"].mask(wells.index.isin(hit), marker))


@pytest.mark.parametrize(("n_saturated", "marker"), [(2, "OVRFLW"), (1, "OVRFLW"),
                                                    (1, "#Sat")])
def test_a_saturated_sample_is_right_censored_at_the_uloq_never_dropped(n_saturated, marker):
    """Gen5's OVRFLW and SoftMax Pro's #Sat are both saturated reads."""
    y20 = float(logistic5(20.0, *TRUE))
    wells = _saturate(plate(samples=[("S", y20, 2.0), ("Q", y20, 2.0)]), "S", n_saturated,
                      marker)
    cal = calibrate(wells, P, names=NAMES)
    s = sample_values(wells, cal, P).set_index("sample")
    assert (s.loc["S", "value"], s.loc["S", "censoring"], s.loc["S", "status"]) == (
        pytest.approx(2 * LEVELS[0]), "right", "above ULOQ")
    assert s.loc["S", "reason"] == ""
    assert s.loc["S", "flags"] == f"vendor {marker}, {n_saturated} of 2 well(s) saturated"
    assert (s.loc["Q", "value"], s.loc["Q", "censoring"]) == (pytest.approx(40.0, rel=1e-4),
                                                              "none")


def test_a_saturated_sample_on_a_falling_curve_is_below_the_reporting_limit():
    """Competitive assays: the highest signal is the lowest concentration."""
    top = float(TRUE[1]) + 3.0
    wells = plate(std_signal=lambda i, rep, x: top - float(logistic5(x, *TRUE)),
                  samples=[("S", 1.0, 4.0)])
    wells = _saturate(wells, "S", 2)
    cal = calibrate(wells, P, names=NAMES)
    assert not cal.rising
    s = sample_values(wells, cal, P).set_index("sample").loc["S"]
    assert (s["value"], s["censoring"], s["status"]) == (
        pytest.approx(4 * cal.reporting_limit), "left", "below LLOQ")


def test_gen5_kinetic_overflow_read_is_left_out_of_the_rate(tmp_path):
    text = (DATA / "gen5_kinetic_small.txt").read_text()
    old = "0:02:30\t25.0\t0.0850\t0.0850\t0.2050"
    assert old in text
    p = _write(tmp_path, text.replace(old, "0:02:30\t25.0\t0.0850\t0.0850\tOVRFLW"), "k.txt")
    k = read_kinetic(p)
    r = rates(k.reads).set_index("well")
    assert r.loc["A03", "n"] == 5
    assert r.loc["A03", "rate_per_min"] == pytest.approx(0.050, abs=2e-4)
    assert any("1 kinetic read(s) of well(s) A03 marked 'OVRFLW'" in n for n in k.notes)



# ------------------------------------------------------------------ plate-map plate names

def test_a_map_plate_that_names_no_export_plate_is_refused_or_warned():
    # stranger39 A6: a map written 'Plate 2' for the export's 'Plate2' left the whole plate
    # unused with only INFO lines; a near miss is now an error, another name a warning
    from neurotox.errors import InputError
    from neurotox.io.neurochem.plate_table import unused_map_plates

    plate_map = pd.DataFrame({"plate": ["Plate1", "Plate 2", "Plate 2", "", "Extra9"],
                              "well": ["A01", "A01", "A02", "B01", "A01"],
                              "source": [f"map.csv row {k}" for k in range(2, 7)]})
    with pytest.raises(InputError, match=re.escape(
            "map.csv row 3: plate 'Plate 2' of the plate map is no plate of the exports "
            "('Plate1', 'Plate2') (did you mean 'Plate2'?); its 2 well(s) would be left out")):
        unused_map_plates(plate_map, {"Plate1", "Plate2"})
    fixed = plate_map.replace({"Plate 2": "Plate2"})
    assert unused_map_plates(fixed, {"Plate1", "Plate2"}) == [
        "warning: map.csv row 6: plate 'Extra9' of the plate map is no plate of the exports "
        "('Plate1', 'Plate2'): its 1 well(s) left unused"]
    assert unused_map_plates(None, {"Plate1"}) == []
    # stranger47 #13: a map of two plates run with one of them: 'che_kinetic_rbc' is no
    # near miss of 'che_kinetic_cortex', which the map maps already: a warning
    two = pd.DataFrame({"plate": ["che_kinetic_cortex", "che_kinetic_rbc"],
                        "well": ["A01", "A01"], "source": ["map.csv row 2", "map.csv row 3"]})
    assert unused_map_plates(two, {"che_kinetic_cortex"}) == [
        "warning: map.csv row 3: plate 'che_kinetic_rbc' of the plate map is no plate of the "
        "exports ('che_kinetic_cortex'): its 1 well(s) left unused"]

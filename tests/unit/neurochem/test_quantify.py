"""Calibration, quantifiable range, LOD, hook, censoring and plate QC on plates of known truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.neurochem import qc
from neurotox.assays.neurochem.concentrations import (
    choose_dilution,
    pool_same_dilution,
    replicate_cv_note,
    sample_values,
    series_warnings,
    well_values,
)
from neurotox.assays.neurochem.params import ImmunoassayParameters
from neurotox.assays.neurochem.quantify import calibrate
from neurotox.io.neurochem.base import wells_frame
from neurotox.stats.curves import Curve, logistic5

TRUE = (3.0, 20000.0, 900.0, -1.1, 0.85)
LEVELS = [10000 / 3 ** i for i in range(8)]          # 10000 … 4.57


def plate(*, std_signal=None, samples=(), blanks=(3.0, 5.0, 4.0), controls=()) -> pd.DataFrame:
    """Wells of one analyte: standards in duplicate from TRUE (or ``std_signal``)."""
    rows, k = [], 0

    def add(kind, sample, level, expected, dil, signal, flag="", excluded=False):
        nonlocal k
        k += 1
        well = f"{'ABCDEFGH'[k % 8]}{k // 8 + 1:02d}"
        rows.append({"plate": "P1", "analyte": "IL6", "well": well,
                     "sample": sample, "type": kind, "level": level, "expected": expected,
                     "dilution": dil, "signal": signal, "raw": np.nan, "replicates": 1,
                     "count": 100.0, "vendor_value": np.nan, "vendor_censoring": "none",
                     "vendor_flag": flag, "vendor_excluded": excluded, "source": f"row {k}"})

    for i, x in enumerate(LEVELS):
        for rep in range(2):
            y = logistic5(x, *TRUE) if std_signal is None else std_signal(i, rep, x)
            add("standard", f"Standard{i + 1}", f"Standard{i + 1}", x, 1.0, float(y))
    for b in blanks:
        add("blank", "Background0", "", np.nan, 1.0, b)
    for name, conc, dil in controls:
        for _ in range(2):
            add("control", name, name, conc, dil, float(logistic5(conc / dil, *TRUE)))
    for name, signal, dil, *flag in samples:
        for s in (signal if isinstance(signal, tuple) else (signal, signal)):
            add("sample", name, "", np.nan, dil, s, *flag)
    return wells_frame(rows)


P = ImmunoassayParameters()
NAMES = {"IL6", "il6"}


def test_noise_free_plate_quantifies_its_samples_exactly():
    y20 = float(logistic5(20.0, *TRUE))
    wells = plate(samples=[("A", y20, 2.0), ("B", float(logistic5(500.0, *TRUE)), 4.0)])
    cal = calibrate(wells, P, names=NAMES)
    assert cal.curve.params == pytest.approx(TRUE, rel=1e-4)
    assert (cal.lloq, cal.uloq) == (pytest.approx(LEVELS[-1]), pytest.approx(LEVELS[0]))
    assert cal.passing == (8, 8)
    assert cal.standards["residual"].abs().max() < 1e-6 * TRUE[1]
    s = sample_values(wells, cal, P).set_index("sample")
    assert s.loc["A", "value"] == pytest.approx(40.0, rel=1e-6)       # 20 × dilution 2
    assert s.loc["B", "value"] == pytest.approx(2000.0, rel=1e-6)
    assert (s["censoring"] == "none").all() and (s["reason"] == "").all()


def test_censoring_below_lloq_above_uloq_and_beyond_the_asymptotes():
    lloq_signal = float(logistic5(LEVELS[-1], *TRUE))
    wells = plate(samples=[("low", float(logistic5(2.0, *TRUE)), 2.0),
                           ("below_asymptote", 1.0, 2.0),
                           ("high", float(logistic5(15000.0, *TRUE)), 2.0),
                           ("beyond_top", 25000.0, 3.0),
                           ("at_lloq", lloq_signal, 2.0)])
    cal = calibrate(wells, P, names=NAMES)
    s = sample_values(wells, cal, P).set_index("sample")
    lloq, uloq = cal.lloq, cal.uloq
    assert s.loc["low", ["censoring", "value", "status"]].tolist() == \
        ["left", pytest.approx(lloq * 2), "below LLOQ"]
    assert s.loc["below_asymptote", ["censoring", "value"]].tolist() == \
        ["left", pytest.approx(lloq * 2)]
    assert math.isnan(s.loc["below_asymptote", "concentration"])       # not computable
    assert s.loc["high", ["censoring", "value"]].tolist() == ["right", pytest.approx(uloq * 2)]
    assert s.loc["beyond_top", ["censoring", "value"]].tolist() == ["right",
                                                                    pytest.approx(uloq * 3)]
    assert s.loc["at_lloq", "censoring"] == "none"
    excl = sample_values(wells, cal, P.model_copy(update={"above_uloq": "exclude"}))
    assert excl.set_index("sample").loc["high", "reason"] == "above the ULOQ (dilute and " \
                                                            "re-assay)"


def test_lloq_moves_up_when_the_lowest_standards_fail_recovery_or_cv():
    def signal(i, rep, x):
        y = float(logistic5(x, *TRUE))
        if i in (6, 7):
            return y * (0.7 if rep else 1.3)    # replicate CV ~ 42 % at the two lowest
        return y

    cal = calibrate(plate(std_signal=signal), P, names=NAMES)
    roles = cal.standards.set_index("level")["role"]
    assert cal.lloq == pytest.approx(LEVELS[5])
    assert roles["Standard6"] == "LLOQ"
    assert roles["Standard8"] == roles["Standard7"] == "anchor (outside range)"
    assert cal.standards.set_index("level").loc["Standard7", "cv"] > 20

    def biased(i, rep, x):                      # lowest standard reads 3 × too high
        return float(logistic5(x, *TRUE)) * (3.0 if i == 7 else 1.0)

    unweighted = P.model_copy(update={"weighting": "none"})
    cal = calibrate(plate(std_signal=biased), unweighted, names=NAMES)
    assert cal.standards.set_index("level").loc["Standard8", "recovery"] > 125
    assert cal.lloq > LEVELS[7]


def test_lod_from_blanks_by_hand():
    blanks = (3.0, 5.0, 4.0, 6.0)
    cal = calibrate(plate(blanks=blanks), P, names=NAMES)
    lod_signal = np.mean(blanks) + 3 * np.std(blanks, ddof=1)
    assert cal.lod_signal == pytest.approx(lod_signal)
    assert cal.lod == pytest.approx(float(Curve.logistic(*TRUE).inverse(lod_signal)), rel=1e-3)


def test_lod_beyond_the_asymptote_is_not_computable():
    cal = calibrate(plate(blanks=(0.0, 0.0)), P, names=NAMES)
    assert math.isnan(cal.lod)
    assert any("LOD not computable" in n for n in cal.notes)


def test_hook_effect_is_flagged_and_the_falling_standards_left_out():
    def signal(i, rep, x):
        y = float(logistic5(x, *TRUE))
        return y * 0.6 if i == 0 else y          # top standard falls (prozone)

    cal = calibrate(plate(std_signal=signal), P, names=NAMES)
    assert cal.hook
    top = cal.standards.set_index("level").loc["Standard1"]
    assert not top["used"] and "hook" in top["exclusion_reason"]
    assert cal.curve.params == pytest.approx(TRUE, rel=1e-3)     # fit unharmed
    assert cal.uloq == pytest.approx(LEVELS[1])


def test_protocol_exclusion_of_a_standard_with_reason():
    params = ImmunoassayParameters.model_validate({"exclude_standards": [
        {"analyte": "il6", "level": "Standard8", "reason": "pipetting error noted in lab book"}]})
    cal = calibrate(plate(), params, names=NAMES)
    row = cal.standards.set_index("level").loc["Standard8"]
    assert not row["used"] and row["exclusion_reason"] == "pipetting error noted in lab book"
    assert "2 standard well(s) left out of the fit (H02, A03): pipetting error noted in lab " \
        "book" in cal.notes[0]
    assert cal.lloq == pytest.approx(LEVELS[6])


def test_vendor_outliers_and_missing_replicates():
    wells = plate(samples=[("A", (800.0, 900.0), 1.0, "---", True),
                           ("B", (np.nan, np.nan), 1.0)])
    cal = calibrate(wells, P, names=NAMES)
    s = sample_values(wells, cal, P).set_index("sample")
    assert s.loc["A", "n"] == 0 and s.loc["A", "reason"].startswith("no signal")
    assert "vendor ---" in s.loc["A", "flags"]
    assert s.loc["B", "reason"].startswith("no signal")


def test_replicate_cv_is_flagged_and_excluded_by_protocol_rule():
    wells = plate(samples=[("A", (1000.0, 2000.0), 1.0)])
    cal = calibrate(wells, P, names=NAMES)
    s = sample_values(wells, cal, P).iloc[0]
    assert s["cv"] == pytest.approx(100 * np.std([1000, 2000], ddof=1) / 1500)
    assert "replicate CV 47%" in s["flags"] and s["reason"] == ""
    strict = P.model_copy(update={"exclude_high_cv_samples": True})
    assert sample_values(wells, cal, strict).iloc[0]["reason"] == "replicate CV above 20%"


def test_controls_and_plate_acceptance():
    wells = plate(controls=[("Control1", 100.0, 2.0), ("Control2", 1000.0, 1.0)])
    wells.loc[wells["level"] == "Control2", "signal"] *= 1.3     # reads far too high
    cal = calibrate(wells, P, names=NAMES)
    ranges = pd.DataFrame(columns=["analyte", "level", "expected", "low", "high"])
    ctl = qc.control_results(wells, cal, ranges, P).set_index("level")
    assert ctl.loc["Control1", "recovery"] == pytest.approx(100, rel=1e-4)
    assert ctl.loc["Control1", ["low", "high", "passes"]].tolist() == [80, 120, True]
    assert not ctl.loc["Control2", "passes"]
    reasons = qc.acceptance(cal, ctl.reset_index(), P)
    assert reasons == ["1 of 2 controls within range (need 67%)"]
    export_range = pd.DataFrame([{"analyte": "IL6", "level": "Control2", "expected": 1000.0,
                                  "low": 500.0, "high": 9000.0}])
    ctl2 = qc.control_results(wells, cal, export_range, P).set_index("level")
    assert ctl2.loc["Control2", ["range_source", "passes"]].tolist() == ["export", True]


def test_a_curve_with_too_few_passing_standards_fails_acceptance():
    rng = np.random.default_rng(3)

    def signal(i, rep, x):
        return float(logistic5(x, *TRUE)) * rng.choice([0.5, 1.6])

    cal = calibrate(plate(std_signal=signal), P, names=NAMES)
    reasons = qc.acceptance(cal, pd.DataFrame(columns=qc.CONTROL_COLUMNS), P)
    assert reasons and ("standard levels pass" in reasons[-1] or "no quantifiable" in reasons[0])


def test_vendor_curve_source():
    params = P.model_copy(update={"curve_source": "vendor"})
    from neurotox.io.neurochem import VendorCurve

    vc = VendorCurve("5pl", dict(zip("ABCDF", TRUE, strict=True)), "logistic")
    cal = calibrate(plate(), params, names=NAMES, vendor=vc)
    assert cal.fit is None and cal.curve.params == TRUE
    assert cal.source == "vendor"
    w = well_values(plate(), cal.curve)
    std = w[w["type"] == "standard"]
    assert np.allclose(std["concentration"], std["expected"], rtol=1e-9)


def test_choose_dilution_and_hook_across_dilutions():
    rows = pd.DataFrame([
        {"dilution": 2.0, "value": 100.0, "censoring": "none", "reason": ""},
        {"dilution": 8.0, "value": 104.0, "censoring": "none", "reason": ""},
        {"dilution": 1.0, "value": 50.0, "censoring": "right", "reason": ""}])
    pick, note = choose_dilution(rows, 1.3)
    assert pick["dilution"] == 2.0 and note == ""
    rows.loc[1, "value"] = 300.0                      # rises with dilution: hook
    pick, note = choose_dilution(rows, 1.3)
    assert pick["dilution"] == 8.0 and "possible hook effect" in note
    only_censored = pd.DataFrame([
        {"dilution": 2.0, "value": 10.0, "censoring": "left", "reason": ""},
        {"dilution": 10.0, "value": 50.0, "censoring": "left", "reason": ""}])
    assert choose_dilution(only_censored, 1.3)[0]["value"] == 10.0


def test_a_rerun_at_the_same_dilution_is_averaged_not_a_hook():
    # a sample re-assayed on a second plate at 1:2 reads 1.5x higher: a replicate
    # across plates (mean 25, warned), never "the highest dilution" of a hook
    rows = pd.DataFrame([
        {"dilution": 2.0, "value": 20.0, "censoring": "none", "reason": "", "where": "p1"},
        {"dilution": 2.0, "value": 30.0, "censoring": "none", "reason": "", "where": "p2"}])
    pooled, notes = pool_same_dilution(rows, 20.0)
    pick, hook = choose_dilution(pooled, 1.3)
    assert pick["value"] == 25.0 and pick["where"] == "p1 + p2" and hook == ""
    assert notes == ["warning: measured on 2 plates at 1:2 (20, 30; CV 28 %); their mean 25 "
                     "reported, the runs disagree (CV above cv_limit 20 %)"]
    rows.loc[1, "value"] = 22.0                       # agreeing runs: a note only
    pooled, notes = pool_same_dilution(rows, 20.0)
    assert choose_dilution(pooled, 1.3)[0]["value"] == 21.0
    assert notes == ["measured on 2 plates at 1:2 (20, 22; CV 7 %); their mean 21 reported"]
    rows.loc[2] = {"dilution": 8.0, "value": 60.0, "censoring": "none", "reason": "",
                   "where": "p3"}                     # a real rise with dilution stays a hook
    pick, hook = choose_dilution(pool_same_dilution(rows, 20.0)[0], 1.3)
    assert pick["value"] == 60.0 and "21 at 1:2 but 60 at 1:8" in hook


def test_lod_above_the_lloq_raises_the_reporting_limit_and_is_flagged():
    # two noisy blanks: LOD signal 60 + 3 × 56.57 = 229.7, above the lowest standard's 145.9
    blanks = (20.0, 100.0)
    lod_signal = 60.0 + 3 * float(np.std(blanks, ddof=1))
    lod = float(Curve.logistic(*TRUE).inverse(lod_signal))
    assert LEVELS[-1] < 6.0 < lod < 8.0
    wells = plate(blanks=blanks, samples=[("between", float(logistic5(6.0, *TRUE)), 2.0),
                                          ("low", float(logistic5(2.0, *TRUE)), 2.0),
                                          ("above", float(logistic5(20.0, *TRUE)), 2.0)])
    cal = calibrate(wells, P, names=NAMES)
    assert cal.lloq == pytest.approx(LEVELS[-1])
    assert cal.lod == pytest.approx(lod, rel=1e-3)
    assert cal.lod_blanks == 2 and cal.reporting_limit == cal.lod
    s = sample_values(wells, cal, P).set_index("sample")
    # between LLOQ and LOD: not quantified, left-censored at LOD × dilution
    assert s.loc["between", ["censoring", "value", "status"]].tolist() == \
        ["left", pytest.approx(2 * cal.lod), "below LOD"]
    assert s.loc["between", "concentration"] == pytest.approx(12.0, rel=1e-4)
    # below the LLOQ: one reporting limit for every left-censored value
    assert s.loc["low", ["censoring", "value", "status"]].tolist() == \
        ["left", pytest.approx(2 * cal.lod), "below LLOQ"]
    assert s.loc["above", ["censoring", "value", "status"]].tolist() == \
        ["none", pytest.approx(40.0, rel=1e-5), "quantified"]
    assert f"plate P1, IL6: LOD {cal.lod:.4g} rests on 2 blank wells (an SD of fewer than 3 " \
           "values is unreliable)" in cal.notes
    assert f"plate P1, IL6: LOD {cal.lod:.4g} lies above the LLOQ {cal.lloq:.4g}; values " \
           "below the LOD are reported as '< LOD' (not quantified)" in cal.notes


def test_lod_below_the_lloq_changes_nothing():
    cal = calibrate(plate(blanks=(3.0, 5.0, 4.0, 6.0)), P, names=NAMES)
    assert cal.lod < cal.lloq and cal.reporting_limit == cal.lloq and cal.lod_blanks == 4
    assert not any("LOD" in n for n in cal.notes)


def test_a_dilution_series_read_as_replicates_is_a_warning():
    """12 wells of 4 two-fold dilutions (x3) taken as one 1:1 sample: CV ~70 %, a warning."""
    series = tuple(float(logistic5(400.0 / 2 ** d, *TRUE)) for d in range(4) for _ in range(3))
    wells = plate(samples=[("S", series, 1.0), ("T", float(logistic5(50.0, *TRUE)), 1.0)])
    cal = calibrate(wells, P, names=NAMES)
    s = sample_values(wells, cal, P)
    warnings = series_warnings(s, P.cv_limit)
    cv = s.set_index("sample").loc["S", "cv"]
    assert cv == pytest.approx(100 * np.std(series, ddof=1) / np.mean(series))
    assert cv > 60
    assert warnings == [
        "warning: plate P1, IL6: 1 sample(s) with 4 or more wells at one dilution and a "
        f"replicate CV above 20%: 'S' (12 wells {s['wells'].iloc[0].split(',')[0]}…"
        f"{s['wells'].iloc[0].split(',')[-1]} at 1:1, CV {cv:.0f}%): the signature of a "
        "dilution series read without its dilution factors, their mean is no concentration "
        "of the sample; give the dilutions (a dilution grid or column, the plate map or the "
        "sample sheet) or check the layout"]
    # true triplicates, or 12 replicates that agree, are no series
    same = plate(samples=[("S", (series[0],) * 12, 1.0)])
    assert series_warnings(sample_values(same, calibrate(same, P, names=NAMES), P),
                           P.cv_limit) == []


def test_flat_standards_give_no_numpy_warning():
    """A reference-wavelength grid read as the signal: standards all equal (no direction)."""
    wells = plate(std_signal=lambda i, rep, x: 0.05, samples=[("S", 0.05, 1.0)])
    cal = calibrate(wells, P, names=NAMES)        # warnings are errors in pytest
    assert cal.rising and not cal.hook
    assert not math.isfinite(cal.lloq)


def test_replicate_cv_above_the_limit_is_counted_per_plate():
    """One note per plate: a warning when the flagged samples are over high_cv_share."""
    agree = [(f"S{i:02d}", (1000.0 + i, 1000.0 + i), 1.0) for i in range(9)]
    wells = plate(samples=[("A", (1000.0, 2000.0), 2.0), *agree,
                           ("Z", 1500.0, 1.0)])              # 11 samples in duplicate
    cal = calibrate(wells, P, names=NAMES)
    s = sample_values(wells, cal, P)
    cv = 100 * np.std([1000, 2000], ddof=1) / 1500            # 47.1 %
    assert s.set_index("sample").loc["A", "cv"] == pytest.approx(cv)
    # 1 of 11 samples with replicates (9 %): a note, not a warning
    assert replicate_cv_note(s, P) == [
        "plate P1, IL6: 1 of 11 quantified samples with replicate wells (9%) have a replicate "
        "CV above 20% (flagged and kept; high_cv_share 10%): 'A' (1:2, CV 47%)"]
    # over the share (1 of 3, 33 %), and with the samples excluded: a warning
    few = plate(samples=[("A", (1000.0, 2000.0), 2.0), ("B", (900.0, 2100.0), 1.0),
                         ("C", (800.0, 800.0), 1.0)])
    strict = P.model_copy(update={"exclude_high_cv_samples": True})
    got = sample_values(few, calibrate(few, strict, names=NAMES), strict)
    assert replicate_cv_note(got, strict) == [
        "warning: plate P1, IL6: 2 of 3 quantified samples with replicate wells (67%) have a "
        "replicate CV above 20% (excluded; high_cv_share 10%): 'A' (1:2, CV 47%); 'B' (1:1, "
        "CV 57%)"]
    assert replicate_cv_note(sample_values(plate(samples=agree), cal, P), P) == []
    # samples below the LLOQ (mostly noise there) are named but not counted in the share:
    # the simulated GM-CSF, all near the LLOQ, warned on every demo run
    low = plate(samples=[("A", (1000.0, 2000.0), 2.0), *agree, ("L1", (1.0, 9.0), 1.0),
                         ("L2", (2.0, 12.0), 1.0)])
    got = sample_values(low, calibrate(low, P, names=NAMES), P)
    assert set(got.loc[got["sample"].isin(["L1", "L2"]), "censoring"]) == {"left"}
    assert replicate_cv_note(got, P) == [
        "plate P1, IL6: 1 of 10 quantified samples with replicate wells (10%) have a replicate "
        "CV above 20%; 2 more, censored at the curve's limits, are not counted in the share "
        "(flagged and kept; high_cv_share 10%): 'A' (1:2, CV 47%); 'L1' (1:1, CV 113%); "
        "'L2' (1:1, CV 101%)"]

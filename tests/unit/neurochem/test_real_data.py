"""Acceptance on real vendor exports (../shared/data/neurochem; skipped when absent).

* xPONENT 3.1 30-plex: every numeric Result reproduced from Net MFI and the
  exported 5PL coefficients; refitting the standards (5PL, 1/y²) reaches
  xPONENT's own weighted sum of squares; censored strings read with their bound.
* Bio-Plex Manager 27-plex (5PL) and 13-plex (4PL): Obs Conc reproduced from
  FI − Bkgd and the printed equation within print rounding; flags carried through.
* Gen5 exports (format only): layouts, signals, curves and kinetic reads parsed.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.neurochem.concentrations import well_values
from neurotox.assays.neurochem.quantify import vendor_curve
from neurotox.io.neurochem import read_export
from neurotox.io.neurochem.base import Source, cell_text, read_workbook
from neurotox.io.neurochem.kinetic import rates, read_kinetic
from neurotox.stats.curves import ABOVE, BELOW, Curve, fit_curve, fit_weights

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def xponent(shared_data):
    return read_export(shared_data / "neurochem" / "xponent_30plex" / "pone.0187901.s001.csv")


def test_xponent_results_reproduced_from_net_mfi_and_coefficients(xponent):
    w = xponent.wells
    numeric = w[(w["vendor_censoring"] == "none") & np.isfinite(w["vendor_value"])]
    assert len(numeric) == 2580
    worst = 0.0
    for analyte, part in numeric.groupby("analyte"):
        curve = vendor_curve(xponent.curves[analyte])
        ours = well_values(part, curve)["concentration"].to_numpy()
        rel = np.abs(ours - part["vendor_value"].to_numpy()) / np.abs(part["vendor_value"])
        worst = max(worst, float(rel.max()))
    assert worst <= 1e-9


def test_xponent_censored_strings_carry_their_bound(xponent):
    w = xponent.wells
    cens = w[w["vendor_censoring"] != "none"]
    assert len(cens) == 240
    assert Counter(cens["vendor_censoring"]) == {"left": 208, "right": 32}
    # the bound is the lowest (highest) standard's concentration, not times the dilution
    std = w[w["type"] == "standard"].groupby("analyte")["expected"]
    lowest, highest = std.min(), std.max()
    left = cens[cens["vendor_censoring"] == "left"]
    assert np.allclose(left["vendor_value"], left["analyte"].map(lowest), rtol=1e-12)
    right = cens[cens["vendor_censoring"] == "right"]
    assert np.allclose(right["vendor_value"], right["analyte"].map(highest), rtol=1e-12)
    # ... and xPONENT printed them exactly where the Net MFI lies beyond an asymptote
    for analyte, part in cens.groupby("analyte"):
        status = vendor_curve(xponent.curves[analyte]).status(part["signal"].to_numpy())
        expected = np.where(part["vendor_censoring"] == "left", BELOW, ABOVE)
        assert (status == expected).all(), analyte
    assert w.loc[w["sample"] == "B_sid_13_CSP"].set_index("analyte").loc[
        "FGF", "vendor_flag"] == "< 0.10528564453125"


def test_xponent_extrapolated_values_above_the_top_standard_carry_no_censoring(xponent):
    w = xponent.wells
    il6 = w[(w["analyte"] == "IL6") & (w["type"] == "sample")]
    top = w.loc[(w["analyte"] == "IL6") & (w["type"] == "standard"), "expected"].max()
    above = il6[il6["vendor_value"] > top * 2]         # × dilution 2
    assert len(above) and (above["vendor_censoring"] == "none").all()
    assert il6["vendor_value"].max() == pytest.approx(90479, rel=1e-4)


def test_xponent_decimal_damage_repaired(xponent):
    std = xponent.wells[xponent.wells["type"] == "standard"]
    for analyte, part in std.groupby("analyte"):
        lv = part.drop_duplicates("level").set_index("level")["expected"]
        series = np.array([lv[f"Standard{i}"] for i in range(1, 17)])
        assert np.allclose(series[1:] / series[:-1], 0.5, rtol=1e-9), analyte
    assert any("FGF Standard5 215625 → 215.625" in n for n in xponent.notes)


def test_xponent_refit_reaches_xponents_sum_of_squares(xponent):
    w = xponent.wells
    ratios = {}
    for analyte, part in w[w["type"] == "standard"].groupby("analyte"):
        x, y = part["expected"].to_numpy(), part["signal"].to_numpy()
        fit = fit_curve(x, y, model="5pl", weighting="1/y^2")
        theirs = vendor_curve(xponent.curves[analyte])
        ss_theirs = float(np.sum(fit_weights(y, "1/y^2") * (y - theirs.predict(x)) ** 2))
        ratios[analyte] = fit.ss / ss_theirs
    assert len(ratios) == 30
    assert max(ratios.values()) <= 1.01, ratios
    assert sum(abs(r - 1) < 1e-5 for r in ratios.values()) == 30    # every analyte


BIOPLEX = ("10JAN07_plate_1.xls", "pnLINCO20070302A.xls")


def _printed_interval(params: dict[str, float], y: float, dil: float) -> tuple[float, float]:
    """Obs Conc range allowed by FI − Bkgd printed to 0.1 and parameters to 6 digits."""
    keys = list(params)
    base = Curve.logistic(*params.values())
    values = [v for v in (base.inverse(y + dy) for dy in (-0.05, 0.0, 0.05)) if np.isfinite(v)]
    x0 = float(base.inverse(y))
    spread = 0.0
    for k in keys:
        step = 0.5 * 10 ** (math.floor(math.log10(abs(params[k]))) - 5) if params[k] else 0.0
        for sign in (-1, 1):
            q = {**params, k: params[k] + sign * step}
            v = float(Curve.logistic(*q.values()).inverse(y))
            if np.isfinite(v) and np.isfinite(x0):
                spread += abs(v - x0) / 2
    if not values:
        return (math.nan, math.nan)
    return ((min(values) - spread) * dil, (max(values) + spread) * dil)


@pytest.mark.parametrize("name", BIOPLEX)
def test_bioplex_obs_conc_reproduced_within_print_rounding(shared_data, name):
    e = read_export(shared_data / "neurochem" / "bioplex_manager" / name)
    w = e.wells
    checked = ok = 0
    for analyte, curve in e.curves.items():
        part = w[(w["analyte"] == analyte) & np.isfinite(w["vendor_value"])
                 & (w["vendor_censoring"] == "none")]
        for r in part.itertuples(index=False):
            lo, hi = _printed_interval(curve.params, r.signal, r.dilution)
            decimals = len(repr(r.vendor_value).split(".")[1]) if "." in repr(r.vendor_value) \
                else 0
            tol = 0.5 * 10.0 ** -max(decimals, 2)
            checked += 1
            ok += bool(lo - tol <= r.vendor_value <= hi + tol)
    assert checked > 500
    assert ok / checked >= 0.99


def test_bioplex_flags_carried_through(shared_data):
    path = shared_data / "neurochem" / "bioplex_manager" / "10JAN07_plate_1.xls"
    e = read_export(path)
    w = e.wells
    assert len(e.curves) == 27 and {c.model for c in e.curves.values()} == {"5pl"}
    # count the markers in the Obs Conc column of every analyte sheet, independently
    raw = Counter()
    for name, df in read_workbook(path, "xls").items():
        if name == "Project Template":
            continue
        obs = [cell_text(c) for c in df.iloc[9:, 9]]
        raw.update("*" if c.startswith("*") else c for c in obs if c and not c[0].isdigit())
    assert (w["vendor_censoring"] == "left").sum() == raw["OOR <"]
    assert (w["vendor_censoring"] == "right").sum() == raw["OOR >"]
    assert w["vendor_flag"].str.startswith("*").sum() == raw["*"]
    assert (w["vendor_flag"].str.contains(r"\*\*\*", regex=True)).sum() >= raw["***"]
    assert w["vendor_excluded"].sum() >= raw["---"]
    il1ra = w[(w["analyte"] == "Hu IL-1ra (25)") & (w["sample"] == "11027-01")].iloc[0]
    assert (il1ra["signal"], il1ra["dilution"], il1ra["vendor_value"]) == (13.5, 4, 73.01)


def test_bioplex_4pl_panel_and_xlsx_twin_agree(shared_data):
    folder = shared_data / "neurochem" / "bioplex_manager"
    xls, xlsx = read_export(folder / "pnLINCO20070302A.xls"), read_export(
        folder / "pnLINCO20070302A.xlsx")
    assert {c.model for c in xls.curves.values()} == {"4pl"} and len(xls.curves) == 13
    assert set(xls.units.values()) == {"pg/ml"}              # from the project template
    cols = ["analyte", "well", "type", "signal", "vendor_value", "vendor_flag"]
    pd.testing.assert_frame_equal(xls.wells[cols], xlsx.wells[cols])


def test_gen5_exports_parse(shared_data):
    folder = shared_data / "neurochem" / "gen5_examples"
    e = read_export(folder / "endpoint_stdcurve_singleplate.txt", analyte="protein")
    w = e.wells
    assert Counter(w["type"]) == {"sample": 72, "standard": 21, "blank": 3}
    assert e.curves["protein"].form == "linear-ax+b"
    spl = w[w["sample"] == "SPL1"]
    assert sorted(spl["dilution"].unique()) == [1, 2, 4, 8]
    f = read_export(folder / "Fluorescamine_Protein_Quantitation_no_results_matrix.txt")
    assert f.wells.set_index("well").loc["A01", ["vendor_censoring", "vendor_value"]].tolist() \
        == ["left", 22.5]
    assert vendor_curve(f.curves[""]).rising
    kin = folder / "Kinetic_Analysis_Mean_Slope_and_Standard_Curve_tab.txt"
    k = read_kinetic(kin)
    assert len(k.reads) == 13 * 96
    # the export shows every 5th of 61 reads; where the kinetics are linear our slope of
    # those 13 reads is Gen5's own "Mean V" (mOD/min) to within 0.5 %
    mean_v = read_export(kin).wells[["well", "signal"]]
    r = rates(k.reads).merge(mean_v, on="well")
    linear = r[r["r2"] > 0.99]
    assert len(linear) >= 40
    assert np.allclose(linear["rate_per_min"] * 1000, linear["signal"], rtol=5e-3)


def test_xponent_edge_case_with_nan_and_not_reported_values(shared_data):
    path = shared_data / "neurochem" / "gen5_examples" / \
        "luminex_xPONENT_NaN_and_not_reported_values.csv"
    e = read_export(path)
    assert e.analytes == ["analyte1", "analyte2", "analyte3"]
    assert (e.wells["type"] == "sample").all() and not e.curves
    assert e.wells["signal"].isna().sum() > 0
    assert any("no standard wells" in n for n in e.notes)


def test_source_sniffing_does_not_read_workbooks_as_text(shared_data):
    src = Source(shared_data / "neurochem" / "bioplex_manager" / "RawAndSummary.xlsx")
    assert src.container == "xlsx" and src.lines == []

import numpy as np
import pandas as pd
import pytest

from neurotox.report.potency import concentration_fits, is_concentration, potency_table
from neurotox.stats.hill import hill

CONC = [0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]


def _plate(top=100.0, bottom=20.0, ec50=3.0, slope=1.5, shape=None):
    rng = np.random.default_rng(3)
    rows = []
    for c in CONC:
        mean = float(hill(np.array([c]), top, bottom, np.log10(ec50), slope)[0])
        if shape is not None:
            mean = shape(c)
        for w in range(4):
            rows.append({"study_id": "IV-1", "assay": "neurite_outgrowth",
                         "endpoint": "neurite_length_per_cell", "unit": "um",
                         "subject": f"c{c}-w{w}", "group": f"C{c}", "dose": c, "dose_unit": "uM",
                         "sex": "NA", "timepoint": "NA", "value": mean + rng.normal(0, 1.0),
                         "excluded": False, "exclusion_reason": ""})
    table = pd.DataFrame(rows)
    results = table.drop_duplicates("group")[["assay", "endpoint", "sex", "timepoint",
                                              "dose_unit", "group", "dose"]]
    results = results.assign(data_type="continuous")
    return table, results


def test_hill_fit_recovers_planted_ec50(spec_factory):
    table, results = _plate()
    fits = concentration_fits(results, table)
    assert list(fits) == [("neurite_outgrowth", "neurite_length_per_cell", "NA", "NA")]
    potency = next(iter(fits.values()))
    assert potency.shown and potency.flat_p < 1e-6
    fit = potency.fit
    assert fit.ec50 == pytest.approx(3.0, rel=0.1)  # the curve's midpoint
    assert fit.ec50_ci[0] < 3.0 < fit.ec50_ci[1]
    # EC50 relative to control: 20 + 80 / (1 + (c / 3) ** 1.5) = 50 at c = 3 * (5 / 3) ** (2 / 3)
    ec50 = 3 * (5 / 3) ** (2 / 3)
    t = potency_table(fits, spec_factory(), 5, "uM")
    assert t.caption == "Table 5. Concentration–response: four-parameter Hill fits"
    assert t.columns[:4] == ("Concentration–response", "EC50 (µM)", "EC50 95% CI", "EC20 (µM)")
    cells = t.rows[0].cells
    assert t.rows[0].labels == ("Neurite length per cell", "neurite outgrowth", "Sexes combined")
    assert cells[0].text == "concentration–response"
    assert float(cells[1].text) == pytest.approx(ec50, rel=0.1)
    assert cells[1].numbers["value"] == pytest.approx(fit.ecx[50.0])
    assert float(cells[7].text) == pytest.approx(3.0, rel=0.1)
    assert cells[8].text == "28"


def _verdict(shape):
    table, results = _plate(shape=shape)
    return next(iter(concentration_fits(results, table).values()))


def test_flat_response_gets_no_curve_and_no_ec50(spec_factory):
    flat = _verdict(lambda c: 100.0)
    assert not flat.shown
    assert flat.verdict.startswith("no concentration–response (flat: F-test p = ")
    cells = potency_table({("a", "neurite_length_per_cell", "NA", "NA"): flat},
                          spec_factory(), 1, "uM").rows[0].cells
    assert cells[0].text == flat.verdict and cells[1].text == "–"


def test_u_shaped_response_gets_no_monotone_curve():
    # down to 30 % of control at 3 µM, back to control from 30 µM (planted U shape)
    u = _verdict(lambda c: 100.0 - 70.0 * np.exp(-np.log10(max(c, 1e-3) / 3.0) ** 2 / 0.1))
    assert not u.shown
    assert u.verdict == ("no monotone concentration–response (the response at 10 returns "
                         "towards control after the largest change at 3)")


def test_ec50_beyond_the_highest_concentration_is_shown_as_greater_than(spec_factory):
    # the response falls by 31 % at 100 µM; 50 % is reached only at 150 µM (planted)
    beyond = _verdict(lambda c: float(hill(np.array([c]), 100.0, 0.0, np.log10(150.0), 2)[0]))
    assert beyond.shown
    cells = potency_table({("a", "neurite_length_per_cell", "NA", "NA"): beyond},
                          spec_factory(), 1, "uM").rows[0].cells
    assert cells[1].text == "> 100" and cells[1].flag == "!"
    assert cells[2].text == "–"  # no interval for an EC50 beyond the tested range
    assert "EC50" in cells[9].text and float(cells[3].text) < 100  # EC20 within range


def test_in_vivo_doses_are_not_fitted():
    table, results = _plate()
    results = results.assign(dose_unit="mg/kg/day")
    assert not is_concentration(results)
    assert concentration_fits(results, table) == {}


def test_concentration_figure_shows_fitted_curve():
    from neurotox.report.context import Context
    from neurotox.report.figures import build_figures
    from neurotox.study import StudySpec

    table, _ = _plate()
    stats = table.groupby("group", sort=False)["value"].agg(["mean", "sem"]).reset_index()
    results = table.drop_duplicates("group").merge(stats, on="group")
    results = results.assign(data_type="continuous", category="structural", flag="",
                             direction="")
    spec = StudySpec.model_validate({
        "study_id": "IV-1", "title": "t", "test_item": "X", "groups": [
            {"id": f"C{c}", "label": f"{c} uM", "dose": c, "dose_unit": "uM",
             "control": c == 0} for c in CONC]})
    fits = concentration_fits(results, table)
    figs = build_figures(Context(spec, table), results.assign(sd=results["sem"]),
                         results.iloc[:0], fits)
    assert [f.key for f in figs] == ["groups-neurite-outgrowth-neurite-length-per-cell-na",
                                     "dose-response-neurite-outgrowth-neurite-length-per-cell-na"]
    ec50 = next(iter(fits.values())).fit.ecx[50.0]
    assert f"four-parameter Hill curve, EC50 = {ec50:.3g} µM" in figs[1].title
    assert figs[1].png.startswith(b"\x89PNG") and b"<svg" in figs[1].svg


def test_numerical_failure_of_a_fit_is_flagged_not_raised(monkeypatch):
    import neurotox.report.potency as potency

    def overflow(conc, response):
        raise OverflowError(34, "Numerical result out of range")

    monkeypatch.setattr(potency, "fit_hill", overflow)
    table, results = _plate()
    p = next(iter(potency.concentration_fits(results, table).values()))
    assert not p.shown and np.isnan(p.fit.ec50)
    assert p.fit.flags[0].startswith("fit failed: ")
    assert p.verdict.startswith("no concentration–response fitted (fit failed: ")


def test_methods_describe_hill_fits_only_when_fitted(report_with_figures):
    assert not any("Hill" in m for m in report_with_figures.methods)
    from neurotox.report import _fit_methods

    table, results = _plate()
    text = _fit_methods(concentration_fits(results, table))
    assert text and text[0].startswith("Concentration-response relationships (1) were")
    assert "(1 of 1 reported)" in text[0]


def test_no_curve_is_fitted_without_a_concentration_effect(monkeypatch):
    import neurotox.report.potency as potency

    def never(conc, response):
        raise AssertionError("fitted although the tests found no concentration effect")

    monkeypatch.setattr(potency, "fit_hill", never)
    table, results = _plate(shape=lambda c: 100.0)
    decisions = pd.DataFrame([{"assay": "neurite_outgrowth", "endpoint": "neurite_length_per_cell",
                               "sex": "NA", "timepoint": "NA", "path": "parametric",
                               "overall_p": 0.6, "trend_p": 0.4}])
    p = next(iter(potency.concentration_fits(results, table, decisions).values()))
    assert not p.shown
    assert p.verdict == ("no concentration–response (no concentration effect: overall test "
                         "p = 0.60, trend test p = 0.40)")
    # an effect found by either test: the curve is fitted and judged
    monkeypatch.undo()
    table, results = _plate()
    found = potency.concentration_fits(results, table, decisions.assign(trend_p=0.001))
    assert next(iter(found.values())).shown


def test_linear_decline_is_shown_with_its_plateau_below_zero_flagged(spec_factory):
    # 100 - 0.9 c (planted): still falling steeply at 100 µM, so the fitted lower plateau
    # lies far below zero (a length cannot be negative); the EC50 within the tested range
    # is right (50 at c = 55.6) and is shown, flagged
    decline = _verdict(lambda c: 100.0 - 0.9 * c)
    assert decline.shown and decline.fit.bottom < 0
    assert decline.fit.ecx[50.0] == pytest.approx(50 / 0.9, rel=0.05)
    cells = potency_table({("a", "neurite_length_per_cell", "NA", "NA"): decline},
                          spec_factory(), 1, "uM").rows[0].cells
    assert "lower plateau below 0" in cells[-1].text
    planted = _verdict(None)        # the planted Hill curve (bottom 20) is not flagged
    assert "lower_plateau_below_0" not in planted.fit.flags


def test_potency_rows_label_timepoints_as_the_other_tables(spec_factory):
    """Like the BMD table, the potency table printed timepoint codes ('light1')."""
    import pandas as pd

    from neurotox.report.context import Context

    flat = _verdict(lambda c: 100.0)
    fits = {("zebrafish_lpr", "zf_lpr_distance", "NA", "light1"): flat}
    larvae = Context(spec_factory(), pd.DataFrame({"sex": ["NA", "NA"]}))
    t = potency_table(fits, spec_factory(), 1, "uM", larvae)
    assert t.rows[0].labels[2] == "Light 1"  # larvae have no sex: no "Sexes combined"
    pooled = Context(spec_factory(), pd.DataFrame({"sex": ["M", "F"]}))
    assert potency_table(fits, spec_factory(), 1, "uM", pooled).rows[0].labels[2] == \
        "Sexes combined, Light 1"


@pytest.mark.parametrize(("kept", "fitted"), [
    ([0.0, 10.0], False),  # stranger30 L6: control and one concentration
    ([0.0, 3.0, 10.0], False),
    ([0.0, 1.0, 3.0, 10.0], True),
])
def test_no_curve_for_fewer_than_three_concentrations(kept, fitted):
    """A Hill table row and a 'no concentration–response' figure for 0 and 10 µM only
    were noise pages: a four-parameter curve needs concentrations to describe."""
    table, results = _plate()
    table, results = table[table["dose"].isin(kept)], results[results["dose"].isin(kept)]
    assert bool(concentration_fits(results, table)) is fitted


def test_a_failed_hill_fit_is_a_run_note_warning(monkeypatch):
    # was a bare log line: counted, but neither in the manifest notes nor refused by
    # --warnings-as-errors (fixz)
    import math

    from neurotox.files import NOTE_SINK
    from neurotox.report import potency

    def overflow(conc, response):
        raise OverflowError("math range error")

    monkeypatch.setattr(potency, "fit_hill", overflow)
    notes = []
    token = NOTE_SINK.set(notes.append)
    try:
        fit = potency._fit([0.1, 1, 10], [100, 80, 20])
    finally:
        NOTE_SINK.reset(token)
    assert math.isnan(fit.ec50) and fit.flags == ("fit failed: math range error",)
    assert notes == ["warning: Hill fit failed (math range error); reported as not fitted"]

import numpy as np
import pandas as pd
import pytest

from neurotox.report.potency import concentration_fits, is_concentration, potency_table
from neurotox.stats.hill import hill

CONC = [0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]


def _plate(top=100.0, bottom=20.0, ec50=3.0, slope=1.5):
    rng = np.random.default_rng(3)
    rows = []
    for c in CONC:
        mean = float(hill(np.array([c]), top, bottom, np.log10(ec50), slope)[0])
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
    fit = next(iter(fits.values()))
    assert fit.ec50 == pytest.approx(3.0, rel=0.1)
    assert fit.ec50_ci[0] < 3.0 < fit.ec50_ci[1]
    t = potency_table(fits, spec_factory(), 5, "uM")
    assert t.caption == "Table 5. Concentration-response: four-parameter Hill fits"
    assert t.columns[:3] == ("EC50 (uM)", "EC50 95% CI", "EC20 (uM)")
    cells = t.rows[0].cells
    assert t.rows[0].labels == ("Neurite length per cell", "neurite outgrowth", "Sexes combined")
    assert float(cells[0].text) == pytest.approx(3.0, rel=0.1)
    assert cells[0].numbers["value"] == pytest.approx(fit.ec50)
    assert cells[6].text == "28"


def test_in_vivo_doses_are_not_fitted():
    table, results = _plate()
    results = results.assign(dose_unit="mg/kg/day")
    assert not is_concentration(results)
    assert concentration_fits(results, table) == {}


def test_concentration_figure_shows_fitted_curve():
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
    figs = build_figures(results, results.iloc[:0], table, spec, fits)
    assert [f.key for f in figs] == ["groups-neurite-outgrowth-neurite-length-per-cell-na",
                                     "dose-response-neurite-outgrowth-neurite-length-per-cell-na"]
    ec50 = next(iter(fits.values())).ec50
    assert f"fitted four-parameter Hill curve, EC50 = {ec50:.3g} uM" in figs[1].title
    assert figs[1].png.startswith(b"\x89PNG") and b"<svg" in figs[1].svg


def test_numerical_failure_of_a_fit_is_flagged_not_raised(monkeypatch):
    import neurotox.report.potency as potency

    def overflow(conc, response):
        raise OverflowError(34, "Numerical result out of range")

    monkeypatch.setattr(potency, "fit_hill", overflow)
    table, results = _plate()
    fit = next(iter(potency.concentration_fits(results, table).values()))
    assert not fit.converged or np.isnan(fit.ec50)
    assert fit.flags[0].startswith("fit failed: ")


def test_methods_describe_hill_fits_only_when_fitted(report_with_figures):
    assert not any("Hill" in m for m in report_with_figures.methods)
    from neurotox.report import _fit_methods

    table, results = _plate()
    text = _fit_methods(concentration_fits(results, table))
    assert text and text[0].startswith("Concentration-response relationships (1) were")

import math

import numpy as np
import pytest

from neurotox.report.bmd import bmd_table, reliability, trend_bmds
from neurotox.report.context import Context
from neurotox.report.figures import build_figures
from neurotox.stats import BmdResult


@pytest.fixture(scope="module")
def fitted():
    """The hand-made study's results and their benchmark doses (fitted once)."""
    from tests.unit.report.conftest import make_results, make_table

    results, _ = make_results(make_table())
    return results, trend_bmds(results, workers=2)


def test_bmd_for_flagged_single_timepoint_endpoints_only(analysis, spec, capfd):
    results, _ = analysis
    bmds = trend_bmds(results)
    # grip strength (continuous) and tremor (incidence) have a flagged trend and one
    # timepoint; motor activity has three timepoints and gait is ordinal: not modelled
    assert sorted(bmds) == [("fob", "grip_strength_forelimb", "F", "NA"),
                            ("fob", "grip_strength_forelimb", "M", "NA"),
                            ("fob", "tremor", "F", "NA"), ("fob", "tremor", "M", "NA")]
    for r in bmds.values():
        assert r.model is not None
        assert 0 < r.bmdl < r.bmd
        assert r.bmd < 100  # within the dose range: the high dose is clearly affected
    assert capfd.readouterr().out == ""  # pybmds' optimiser chatter is kept off stdout
    t = bmd_table(bmds, spec, 7)
    assert t.caption == "Table 7. Benchmark doses of endpoints with a dose-related trend"
    assert t.columns[:4] == ("BMR", "Model", "BMD (mg/kg/day)", "BMDL (mg/kg/day)")
    assert [(r.labels[0], r.labels[2], r.cells[0].text) for r in t.rows] == [
        ("Forelimb grip strength", "Females", "1 SD"), ("Forelimb grip strength", "Males", "1 SD"),
        ("Tremor", "Females", "10% extra risk"), ("Tremor", "Males", "10% extra risk")]
    males = bmds[("fob", "grip_strength_forelimb", "M", "NA")]
    assert t.rows[1].cells[2].numbers["value"] == males.bmd
    assert t.rows[1].cells[2].text == f"{males.bmd:.3g}"


def test_bmd_curve_is_the_recommended_model(fitted):
    """The tabulated curve reaches the benchmark response at the BMD."""
    results, bmds = fitted
    tremor = bmds[("fob", "tremor", "M", "NA")]
    assert tremor.kind == "dichotomous"
    d, p = tremor.curve["dose"].to_numpy(), tremor.curve["response"].to_numpy()
    assert d[0] == 0 and d[-1] == 100  # from the control to the highest dose
    extra_risk = (np.interp(tremor.bmd, d, p) - p[0]) / (1 - p[0])
    assert abs(extra_risk - 0.10) < 0.005
    # the fitted probabilities follow the observed 0/4, 1/4, 4/4 in order
    assert p[0] < 0.1 and np.interp(100, d, p) > 0.8
    grip = bmds[("fob", "grip_strength_forelimb", "M", "NA")]
    rows = results[(results["endpoint"] == "grip_strength_forelimb") & (results["sex"] == "M")]
    fitted = np.interp(rows["dose"], grip.curve["dose"], grip.curve["response"])
    # a model with adequate fit passes within 2 SEM of each group mean
    assert np.all(np.abs(fitted - rows["mean"]) < 2 * rows["sem"] + 1e-9)


def test_bmd_figures_draw_curve_and_markers(fitted, analysis, table, spec):
    _, decisions = analysis
    results, bmds = fitted
    figs = {f.key: f for f in build_figures(Context(spec, table), results, decisions,
                                            bmds=bmds)}
    assert {"bmd-fob-grip-strength-forelimb-m", "bmd-fob-tremor-m"} <= set(figs)
    tremor = figs["bmd-fob-tremor-m"]
    assert "BMD = " in tremor.title and tremor.category == "neurobehavioral"
    assert tremor.png.startswith(b"\x89PNG")


def test_no_flagged_trend_no_bmd(analysis):
    results, _ = analysis
    assert trend_bmds(results.assign(trend_flag="")) == {}


def _bmd(bmd, bmdl, model="Weibull"):
    return BmdResult(kind="dichotomous", bmr=0.1, model=model, bmd=bmd, bmdl=bmdl,
                     bmdu=math.nan, models=None, reason="")


def test_reliability_flags_follow_epa_guidance():
    doses = [0.0, 10.0, 30.0, 100.0]
    assert reliability(_bmd(25.0, 10.0), doses) == ""
    assert reliability(_bmd(75.1, 0.0), doses) == "unreliable: BMDL = 0"
    assert reliability(_bmd(40.0, 1.5), doses) == "unreliable: BMD/BMDL = 27 > 20"
    assert reliability(_bmd(150.0, 90.0), doses) == "BMD above the highest dose (extrapolated)"
    assert reliability(_bmd(0.5, 0.2), doses) == "BMD < 1/10 of the lowest dose (extrapolated)"
    assert reliability(_bmd(math.nan, math.nan, model=None), doses) == ""


def test_bmd_table_flags_an_unreliable_bmd(spec):
    t = bmd_table({("fob", "tremor", "M", "NA"): _bmd(75.1, 0.0)}, spec, 1)
    assert t.columns[5] == "Reliability"
    cell = t.rows[0].cells[5]
    assert cell.text == "unreliable: BMDL = 0" and cell.flag == "!"


def test_bmd_table_labels_timepoints_as_the_other_tables(spec):
    """stranger30 L2: the BMD table said 'plasma_day1' where other tables say 'Plasma, Day 1'."""
    import pandas as pd

    ctx = Context(spec, pd.DataFrame())
    bmds = {("neurochem", "nfl", "M", "plasma_day1"): _bmd(25.0, 10.0),
            ("cipn", "vf_threshold_updown", "F", "day-1"): _bmd(25.0, 10.0)}
    t = bmd_table(bmds, spec, 1, ctx)
    assert [r.labels[2] for r in t.rows] == ["Males, Plasma, Day 1", "Females, Baseline (Day −1)"]


def test_continuous_bmd_is_fitted_to_the_written_means_and_sds():
    # OECD 426 sim, preputial separation body weight (M), as results.csv writes it. pybmds'
    # optimiser is chaotic here: means x (1 + 1e-13) give Polynomial 2 (BMD 20.95) instead
    # of Power; pybmds (25.2) Session.recommend() on the written numbers: Power 28.8602/17.6345
    import pandas as pd

    results = pd.DataFrame({
        "assay": "developmental", "endpoint": "dev_preputial_separation_body_weight",
        "sex": "M", "timepoint": "NA", "data_type": "continuous", "dose_unit": "mg/kg/day",
        "group": ["G1", "G2", "G3", "G4"], "dose": [0.0, 3.0, 10.0, 30.0], "n": [20] * 4,
        "mean": np.array([221.8875, 222.02, 221.285, 244.61]) * (1 + 1e-13),
        "sd": [13.55308156, 11.09909195, 11.91185942, 9.872790892],
        "trend_flag": ["", "", "", "**"]})
    r = trend_bmds(results)[("developmental", "dev_preputial_separation_body_weight", "M", "NA")]
    assert r.model == "Power"
    assert (r.bmd, r.bmdl) == (pytest.approx(28.8602, rel=1e-5), pytest.approx(17.6345, rel=1e-5))


def test_a_bmd_fitted_to_means_with_censored_values_says_so(spec):
    """stranger44 #8: il6 F's BMD was fitted to means holding 4 values at LLOQ/2, unsaid."""
    import pandas as pd

    from neurotox.report.bmd import censored_in_means

    results = pd.DataFrame({"assay": "neurochem", "endpoint": "il6", "sex": "F",
                            "timepoint": "serum_day7", "group": ["G1", "G2", "G3", "G4"],
                            "n_censored": [3, 1, 0, 0]})
    censored = censored_in_means(results)
    assert censored == {("neurochem", "il6", "F", "serum_day7"): 4}
    t = bmd_table({("neurochem", "il6", "F", "serum_day7"): _bmd(4.53, 2.162),
                   ("fob", "tremor", "M", "NA"): _bmd(75.1, 0.0)}, spec, 1,
                  censored=censored)
    assert t.rows[0].cells[5].text == (
        "fitted to means holding 4 censored value(s) at the value the censoring policy gives "
        "them (below a limit) or at the limit (above), not measured values")
    assert t.rows[0].cells[5].flag == "!"
    assert t.rows[1].cells[5].text == "unreliable: BMDL = 0"

"""Time order from the protocol, never from sorting a label as text (R nlme values).

The data are the von Frey-like series of ``test_repeated_time_order`` (3 groups x
5 animals, 4 sessions, one animal misses the last). Only the session labels
change: the CIPN battery's own pre-dose and after-dosing words, and neurotox's
zebrafish light/dark phases, which no label rule can order (which of ``light1``
and ``dark1`` comes first is the protocol's choice).

R 4.2.2, nlme 3.1-162, REML (script in the module notes of the sister test):
    d$t <- perm[d$pos + 1]; d$tp <- factor(d$t); contrasts(d$tp) <- contr.sum(4)
    m <- gls(value ~ group * tp, d, correlation = corAR1(form = ~ t | subject))
    anova(m, type = "marginal")   # p of the interaction: pf(F, 6, 35)
``perm`` is the place in time given to the session recorded at each position.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from tests.unit.stats.test_repeated_time_order import SERIES  # the same series

from neurotox import endpoints, stats
from neurotox.errors import ValidationError
from neurotox.study import Group, StatisticsPlan
from neurotox.timepoints import TimeOrder, time_order, unordered

# perm 0,1,2,3: the true order
TRUE = {"llf": -43.7338893986, "phi": 0.464610053515, "F_group": 6.91239431878,
        "F_inter": 2.28917673887, "p_inter": 0.0572639892333}
# perm 1,0,3,2: acclimation_dark < acclimation_light < dark1 < light1 (text order of
# the zebrafish phases): the interaction becomes "significant" (p 0.049)
PHASES_AS_TEXT = {"llf": -46.7461231367, "phi": 0.17249747466, "F_group": 10.874829722,
                  "F_inter": 2.38360624743, "p_inter": 0.0490389819625}
# perm 3,0,1,2: the pre-dose session sorted last (``Pre`` after ``wk4``, ``pre`` after
# ``post``): what neurotox fitted before
PRE_LAST = {"llf": -46.2409167058, "phi": 0.23724411563, "F_group": 9.86802748143,
            "F_inter": 2.54228259136, "p_inter": 0.0378107651895}

PHASES = ("acclimation_light", "acclimation_dark", "light1", "dark1")


def _frame(labels, ranks=None):
    rows = [{"group": g, "subject": s, "timepoint": labels[k], "value": v}
            for s, (g, values) in SERIES.items() for k, v in enumerate(values)
            if v is not None]
    d = pd.DataFrame(rows).sample(frac=1, random_state=7).reset_index(drop=True)
    if ranks is not None:
        d["time_order"] = d["timepoint"].map(dict(zip(labels, ranks, strict=True)))
    return d


def _check(fit, ref):
    assert fit.llf == pytest.approx(ref["llf"], abs=1e-6)
    assert fit.theta["phi"] == pytest.approx(ref["phi"], abs=1e-6)
    assert fit.interaction["F"] == pytest.approx(ref["F_inter"], rel=1e-6)
    assert fit.interaction["p"] == pytest.approx(ref["p_inter"], abs=1e-7)
    assert fit.main_effect["F"] == pytest.approx(ref["F_group"], rel=1e-6)


@pytest.mark.parametrize("labels", [
    ("Pre", "wk1", "wk2", "wk4"),            # stranger36 F1: Pre was sorted after wk4
    ("BL", "day7", "day14", "day21"),        # CIPN's own baseline word
    ("pre", "day7", "day14", "post"),        # post was before pre
    ("pre dose", "day3", "terminal", "recovery"),   # recovery was before terminal
    ("pre_treatment", "week1", "week2", "final"),
    ("pre-study", "PND4", "PND11", "PND21"),
    ("acclimatisation", "d1", "d8", "d15"),
    ("habituation", "day1", "day8", "post-dose"),
])
def test_ar1_fits_cipn_session_words_in_time_order(labels):
    assert time_order(reversed(labels)) == list(labels)
    assert unordered(labels) == []
    _check(stats.mixed_model(_frame(labels), control="G0", covariance="ar1"), TRUE)


def test_ar1_fits_zebrafish_phases_in_the_protocols_run_order():
    fit = stats.mixed_model(_frame(PHASES, ranks=(0, 2, 4, 6)), control="G0",
                            covariance="ar1")
    _check(fit, TRUE)


def test_zebrafish_phases_without_the_protocol_are_named_as_unordered():
    # the labels alone: text order (what neurotox fitted before), and it says so
    assert unordered(PHASES) == sorted(PHASES)
    _check(stats.mixed_model(_frame(PHASES), control="G0", covariance="ar1"),
           PHASES_AS_TEXT)


def test_the_old_text_order_is_what_r_fits_with_the_pre_dose_session_last():
    # guards the stored R numbers: the wrong order really gives the old F
    fit = stats.mixed_model(_frame(("zz_pre", "a1", "a2", "a3"),
                                   ranks=(3, 0, 1, 2)), control="G0", covariance="ar1")
    _check(fit, PRE_LAST)


GROUPS = [Group(id="G0", label="Control", dose=0, dose_unit="uM", control=True),
          Group(id="G1", label="Low", dose=1, dose_unit="uM"),
          Group(id="G2", label="High", dose=10, dose_unit="uM")]


def _table(ranks):
    # distances per phase: the series + 1 mm (>= 0; a shift leaves F, p, phi, logLik)
    d = _frame(PHASES, ranks)
    return d.assign(study_id="S1", assay="zebrafish_lpr", category="neurodevelopmental",
                    endpoint="distance_phase", unit="mm", sex="NA", value=d["value"] + 1,
                    dose=d["group"].map({g.id: g.dose for g in GROUPS}), dose_unit="uM",
                    source="synthetic", excluded=False, exclusion_reason="", batch="NA")


def test_analyse_orders_tables_and_model_by_the_endpoint_tables_time_order(caplog):
    table = endpoints.validate(_table((0.0, 2.0, 4.0, 6.0)))
    with caplog.at_level(logging.WARNING):
        a = stats.analyse(table, StatisticsPlan(repeated_covariance="ar1"), GROUPS)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert list(dict.fromkeys(a.results["timepoint"])) == list(PHASES)
    assert list(a.decisions["timepoint"]) == [*PHASES, "ALL"]
    # the results carry the place of each timepoint, for the report's tables and figures
    assert list(dict.fromkeys(a.results["time_order"])) == [0.0, 1.0, 2.0, 3.0]
    row = a.decisions.iloc[-1]
    assert row["overall_statistic"] == pytest.approx(TRUE["F_inter"], rel=1e-6)
    assert "acclimation_light < acclimation_dark < light1 < dark1" in row["note"]
    assert "> alpha: per-timepoint comparisons are supplementary" in row["note"]


def test_analyse_warns_naming_labels_it_cannot_order(caplog):
    with caplog.at_level(logging.WARNING):
        a = stats.analyse(endpoints.validate(_table(None)),
                          StatisticsPlan(repeated_covariance="ar1"), GROUPS)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert said == ["timepoints 'acclimation_dark', 'acclimation_light', 'dark1', 'light1' "
                    "of assay 'zebrafish_lpr' (endpoints 'distance_phase') cannot be put in time "
                    "order from their labels: tables and AR(1) models order them by their "
                    "text, not by time; give the EndpointTable column 'time_order' (each "
                    "timepoint's place in the protocol) or number the sessions (day7, week4)"]
    row = a.decisions.iloc[-1]
    assert row["overall_statistic"] == pytest.approx(PHASES_AS_TEXT["F_inter"], rel=1e-6)
    assert "WARNING: the labels 'acclimation_dark', 'acclimation_light', 'dark1', " \
           "'light1' give no time order" in row["note"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.assign(time_order=np.where(t["subject"] == "G0-1", 9.0, t["time_order"])),
     "timepoint has two time_order values in one study"),
    (lambda t: t.assign(time_order=t["time_order"].where(t["timepoint"] != "dark1")),
     "time_order is blank for this timepoint although other timepoints of the same "
     "endpoint have one"),
    (lambda t: t.assign(time_order=t["time_order"].replace(6.0, 4.0)),
     "time_order 4.0 is given to two timepoints of one assay"),
])
def test_endpoint_table_refuses_a_time_order_without_one_place_per_timepoint(change,
                                                                            message):
    with pytest.raises(ValidationError, match=message):
        endpoints.validate(change(_table((0.0, 2.0, 4.0, 6.0))))


def test_time_order_column_is_optional_and_read_blank():
    t = endpoints.validate(_table(None).drop(columns="time_order", errors="ignore"))
    assert t["time_order"].isna().all()
    assert TimeOrder.of(t).order(t["timepoint"]) == sorted(PHASES)   # text: and warned


def _days(ranks):
    t = _table(ranks)
    days = dict(zip(PHASES, ("day-1", "day7", "day14", "day21"), strict=True))
    return t.assign(timepoint=t["timepoint"].map(days), assay="cipn",
                    category="neurobehavioral", endpoint="vf_threshold_updown", unit="g")


@pytest.mark.parametrize(("ranks", "said"), [
    ((0.0, 3.0, 2.0, 1.0), "'day14' (time_order 2) before 'day7' (time_order 3); 'day21' "
                           "(time_order 1) before 'day7' (time_order 3); 'day21' (time_order "
                           "1) before 'day14' (time_order 2)"),
    ((0.0, 1.0, 3.0, 2.0), "'day21' (time_order 2) before 'day14' (time_order 3)"),
    ((5.0, 1.0, 2.0, 3.0), "'day7' (time_order 1) before 'day-1' (time_order 5); 'day14' "
                           "(time_order 2) before 'day-1' (time_order 5); 'day21' (time_order "
                           "3) before 'day-1' (time_order 5)"),
])
def test_analyse_warns_when_time_order_reverses_what_the_labels_say(caplog, ranks, said):
    """stranger39 C2: a time_order against day7 < day21 was followed without a word."""
    with caplog.at_level(logging.WARNING):
        a = stats.analyse(endpoints.validate(_days(ranks)), StatisticsPlan(), GROUPS)
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned == [
        "the EndpointTable column 'time_order' puts timepoints of assay 'cipn' against the "
        f"order their labels say: {said}; tables, figures and AR(1) models follow "
        "time_order: check it gives each timepoint its place in the protocol"]
    # followed all the same: the protocol's order decides
    by_rank = [t for _, t in sorted(zip(ranks, ("day-1", "day7", "day14", "day21"),
                                        strict=True))]
    assert list(dict.fromkeys(a.results["timepoint"])) == by_rank


@pytest.mark.parametrize("ranks", [(0.0, 1.0, 2.0, 3.0), (-7.0, 7.0, 14.0, 21.0)])
def test_time_order_agreeing_with_the_labels_is_not_warned(caplog, ranks):
    with caplog.at_level(logging.WARNING):
        stats.analyse(endpoints.validate(_days(ranks)), StatisticsPlan(), GROUPS)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_phases_ordered_by_words_never_contradict_the_protocol():
    # which of light1 and dark1 comes first is the protocol's choice
    assert TimeOrder(dict(zip(PHASES, (6.0, 4.0, 2.0, 0.0), strict=True))).contradicted(
        PHASES) == []
    assert TimeOrder({"light1": 0.0, "light2": 2.0, "dark1": 1.0, "dark2": 3.0}).contradicted(
        ["light1", "light2", "dark1", "dark2"]) == []
    assert TimeOrder({"light1": 2.0, "light2": 0.0}).contradicted(["light1", "light2"]) == [
        ("light1", "light2")]

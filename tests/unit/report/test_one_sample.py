"""Tests against a reference value (chance, 0) and the sex × group ANOVA in the report.

Reference numbers from R 4.2.2 (``t.test(x, mu = ...)``; type II sums of squares
from nested ``lm`` fits: SS(sex | group), SS(group | sex), SS(sex:group | both),
F against the residual mean square of ``y ~ sex * group``). R is never called here.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from neurotox.report import build_report
from neurotox.report.context import Context
from neurotox.report.one_sample import NO_CHANCE, cross_reference, reference_tables
from neurotox.report.tables import group_text
from neurotox.stats import analyse
from neurotox.study import Group, StudySpec

# NOR discrimination index per group and sex (made-up values)
DI = {("C", "M"): [0.10, 0.25, -0.05, 0.30, 0.18], ("C", "F"): [0.02, -0.10, 0.15, 0.05],
      ("T", "M"): [0.40, 0.35, 0.22, 0.51], ("T", "F"): [0.12, 0.30, 0.08, 0.20, 0.27, 0.15]}

# R: t.test(x, mu = 0) -> (n, mean, sd, t, p)
R_TTEST = {("C", "All"): (9, 0.1, 0.133603892158874, 2.24544356569536, 0.0549566639406147),
           ("C", "Males"): (5, 0.156, 0.137586336530922, 2.53532882177999, 0.0642992648117887),
           ("C", "Females"): (4, 0.03, 0.10295630140987, 0.582771517414359, 0.600959371171011),
           ("T", "All"): (10, 0.26, 0.133832399332565, 6.14344654765311, 0.000170060940019012),
           ("T", "Males"): (4, 0.37, 0.120277457017791, 6.15244134975799, 0.00863958116896972),
           ("T", "Females"): (6, 0.186666666666667, 0.086178110136314, 5.3057334930678,
                              0.00317707876063747)}
# R: type II ANOVA of y ~ sex * group -> (SS, F, p); residual SS 0.188053333333333 on 15 df
R_ANOVA = {"Sex": (0.112153846153846, 8.94590732579955, 0.00913919932015225),
           "Group": (0.156882735042735, 12.5136895152494, 0.00298499026320462),
           "Sex × group": (0.00379282051282054, 0.30253283302064, 0.590395813002158)}
# R: t.test(ALT, mu = 200/9)
ALT = [60.0, 66.7, 58.3, 71.4, 55.0, 62.5, 68.2, 50.0]
R_ALT = (15.5410665745526, 1.10355911711572e-06)


def _spec(groups: list[dict]) -> StudySpec:
    return StudySpec.model_validate({
        "study_id": "S1", "title": "t", "test_item": "X", "groups": groups,
        "assays": [{"assay": "nor", "protocol": "nor-standard", "input": "x.csv"},
                   {"assay": "tmaze", "protocol": "tmaze-spontaneous", "input": "y.csv"}]})


NOR_GROUPS = [{"id": "C", "label": "Control", "dose": 0, "dose_unit": "mg/kg", "control": True},
              {"id": "T", "label": "Treated", "dose": 1, "dose_unit": "mg/kg"}]


def _rows(assay: str, endpoint: str, unit: str, values: dict) -> list[dict]:
    rows = []
    for (g, sex), vals in values.items():
        for i, v in enumerate(vals):
            rows.append({"study_id": "S1", "assay": assay, "category": "neurobehavioral",
                         "endpoint": endpoint, "unit": unit, "subject": f"{g}{sex}{i}",
                         "group": g, "dose": 0.0 if g in ("C", "ALL") else 1.0,
                         "dose_unit": "mg/kg", "sex": sex, "timepoint": "NA", "value": v,
                         "excluded": False, "exclusion_reason": "", "batch": "NA",
                         "source": "hand"})
    return rows


def _nor_table() -> pd.DataFrame:
    rows = _rows("nor", "nor_discrimination_index", "ratio", DI)
    # an excluded animal does not enter the test
    rows.append({**rows[0], "subject": "CMx", "value": 5.0, "excluded": True,
                 "exclusion_reason": "less than 10 s exploration"})
    return pd.DataFrame(rows)


def _cells(table) -> dict[tuple[str, str], dict[str, float]]:
    out = {}
    for r in table.rows:
        out[(r.labels[0], r.labels[1])] = {c: cell.numbers["value"] for c, cell in
                                           zip(table.columns, r.cells, strict=True)}
    return out


def test_discrimination_index_is_tested_against_zero_as_r_does():
    ctx = Context(_spec(NOR_GROUPS), _nor_table())
    tables, untested = reference_tables(ctx, {}, {})
    assert untested == {}
    one, anova = tables
    assert one.title == "Test against 0: NOR discrimination index"
    assert [r.labels for r in one.rows][:3] == [("C Control", "All"), ("C Control", "Males"),
                                                ("C Control", "Females")]
    got = _cells(one)
    for (g, sex), (n, mean, sd, t, p) in R_TTEST.items():
        label = {"C": "C Control", "T": "T Treated"}[g]
        row = got[(label, sex)]
        assert row["n"] == n
        assert row["Mean"] == pytest.approx(mean, rel=1e-12)
        assert row["SD"] == pytest.approx(sd, rel=1e-12)
        assert row["Statistic"] == pytest.approx(t, rel=1e-10)
        assert row["p"] == pytest.approx(p, rel=1e-8)
    # every Shapiro-Wilk p in R is > 0.05: the t-test path everywhere
    assert {r.cells[3].text for r in one.rows} == {"t-test"}
    assert one.rows[3].cells[5].text == "< 0.001**"
    assert anova.title == "Two-way ANOVA, sex × group: NOR discrimination index"
    terms = {r.labels[0]: r for r in anova.rows}
    for term, (ss, f, p) in R_ANOVA.items():
        nums = [c.numbers["value"] for c in terms[term].cells]
        assert nums[0] == 1
        assert nums[1:] == pytest.approx([ss, f, p], rel=1e-9)
    assert terms["Residual"].cells[0].numbers["value"] == 15
    assert terms["Residual"].cells[1].numbers["value"] == pytest.approx(0.188053333333333)


def test_alternation_is_tested_against_the_chance_level_the_assay_recorded():
    spec = _spec([{"id": "ALL", "label": "All rats", "dose": 0, "dose_unit": "none",
                   "control": True}])
    table = pd.DataFrame(_rows("tmaze", "tmaze_alternation_pct", "%", {("ALL", "M"): ALT}))
    ctx = Context(spec, table)
    params = {"tmaze": {"references": {"tmaze_alternation_pct": 100 * 2 / 9}}}
    (one,), untested = reference_tables(ctx, params, {"tmaze": "tmaze"})
    assert one.title == "Test against chance (22.2%): Spontaneous alternation"
    assert one.header["Reference"] == "chance (22.2%)"
    cells = one.rows[0].cells
    assert one.rows[0].labels == ("ALL All rats", "All")  # one sex: no per-sex rows
    assert cells[4].numbers["value"] == pytest.approx(R_ALT[0], rel=1e-10)
    assert cells[5].numbers["value"] == pytest.approx(R_ALT[1], rel=1e-7)
    # arms not set and no run: the chance level is unknown, and the report says why
    tables, untested = reference_tables(
        ctx, {"tmaze": {"references": {"tmaze_alternation_pct": None}}}, {"tmaze": "tmaze"})
    assert tables == [] and untested == {"tmaze_alternation_pct": NO_CHANCE}


def test_one_group_study_says_why_it_has_no_comparison_and_where_the_chance_test_is():
    spec = _spec([{"id": "ALL", "label": "All rats", "dose": 0, "dose_unit": "none",
                   "control": True}])
    table = pd.DataFrame(_rows("tmaze", "tmaze_alternation_pct", "%", {("ALL", "M"): ALT}))
    res = analyse(table, spec.statistics, list(spec.groups))
    assert list(res.decisions["note"]) == ["one group only: no between-group comparison"]
    report = build_report(spec, table, res.results, res.decisions, software={},
                          figures=False, bmd=False,
                          parameters={"tmaze": {"references": {
                              "tmaze_alternation_pct": 100 * 2 / 9}}})
    summary = next(t for t in report.tables if t.kind == "summary")
    one = next(t for t in report.tables if t.kind == "one_sample")
    assert summary.rows[-1].cells[0].text == ("not tested (one group only: no between-group "
                                              "comparison)")
    assert (f"Spontaneous alternation: each group tested against chance (22.2%) in Table "
            f"{one.number}.") in summary.footnotes
    assert not any("too few usable values" in m for m in report.methods)
    noael = next(t for t in report.tables if t.kind == "conclusions")
    assert [c.text for c in noael.rows[0].cells][2:4] == ["not applicable: no treated group",
                                                          "–"]
    assert any(m.startswith("No comparison between groups was made for 1 analysis with one "
                            "group only (Spontaneous alternation)") for m in report.methods)


def test_summary_table_of_a_signed_index_shows_no_percent_of_control():
    spec = _spec(NOR_GROUPS)
    table = _nor_table()
    res = analyse(table, spec.statistics, list(spec.groups))
    assert res.results["percent_of_control"].isna().all()
    report = build_report(spec, table, res.results, res.decisions, software={},
                          figures=False, bmd=False)
    for t in report.tables:
        if t.kind == "summary":
            assert not any("%]" in c.text for r in t.rows for c in r.cells)
            assert ("No [%] for NOR discrimination index: a signed index or difference, whose "
                    "zero is no effect, has no meaningful percent of control.") in t.footnotes
            # every column signed: no "[%] = …" legend for a mark the table never shows
            assert not any("[%] = group mean" in n for n in t.footnotes)
            assert all(math.isnan(c.numbers.get("percent_of_control", math.nan))
                       for r in t.rows for c in r.cells)
    # the tables follow the summaries of their category, numbered in order
    kinds = [t.kind for t in report.tables]
    assert kinds.index("one_sample") > max(i for i, k in enumerate(kinds) if k == "summary")
    assert kinds[kinds.index("one_sample") + 1] == "anova"


def test_cross_reference_names_the_reason_when_no_reference_is_known():
    ctx = Context(_spec(NOR_GROUPS), _nor_table())
    tables, _ = reference_tables(ctx, {}, {})
    from neurotox.report.model import Table
    summary = Table(number=1, title="s", kind="summary", key="s", header={}, row_header=(),
                    columns=(), rows=[], sources=(("tmaze_alternation_pct", "NA"),))
    cross_reference([summary, *tables], {"tmaze_alternation_pct": NO_CHANCE})
    assert summary.footnotes == [f"Spontaneous alternation: not tested against chance "
                                 f"({NO_CHANCE})."]


@pytest.mark.parametrize(("gid", "label", "text"), [
    ("Control", "Control", "Control"), ("uninjured", "Uninjured", "Uninjured"),
    ("G2", "Low dose", "G2 Low dose"), ("C", "1 uM", "C 1 µM")])
def test_group_label_is_printed_once_when_it_repeats_the_id(gid, label, text):
    assert group_text(Group(id=gid, label=label, dose=0, dose_unit="uM")) == text


def test_with_litters_as_the_unit_the_test_is_on_litter_means():
    spec = StudySpec.model_validate({
        "study_id": "S1", "title": "t", "test_item": "X", "groups": NOR_GROUPS[:1],
        "statistics": {"litter_unit": "means"}})
    pups = {"L1": [0.1, 0.3], "L2": [0.5], "L3": [0.4, 0.2], "L4": [0.0]}
    rows = []
    for litter, vals in pups.items():
        for i, v in enumerate(vals):
            rows += [{**r, "subject": f"{litter}p{i}", "batch": litter} for r in
                     _rows("nor", "nor_discrimination_index", "ratio", {("C", "M"): [v]})]
    ctx = Context(spec, pd.DataFrame(rows))
    assert ctx.litters
    (one,), _ = reference_tables(ctx, {}, {})
    got = _cells(one)[("C Control", "All")]
    # R: t.test(c(0.2, 0.5, 0.3, 0.0)), the four litter means
    assert got["n"] == 4
    assert got["SD"] == pytest.approx(0.208166599946613, rel=1e-12)
    assert got["Statistic"] == pytest.approx(2.40192230707631, rel=1e-10)
    assert got["p"] == pytest.approx(0.0957089246340297, rel=1e-8)
    assert "litter means (n = litters)" in one.footnotes[0]


def test_trial_model_follows_the_one_sample_test_and_says_which_group_was_not_modelled():
    """The tmaze_trial_model detail table (one row per timepoint × group) is shown after
    the per-animal test; a group the assay could not model (every choice correct) says so."""
    table = pd.DataFrame(_rows("tmaze", "tmaze_correct_pct", "%",
                               {("C", "M"): [75.0, 83.3, 66.7], ("T", "M"): [100.0, 100.0]}))
    ctx = Context(_spec(NOR_GROUPS), table)
    model = pd.DataFrame([{"timepoint": "NA", "group": "C", "n_trials": 36, "n_subjects": 3,
                           "method": "gee", "log_odds": 1.09861228866811,
                           "se": 0.2095131203515697, "z": 5.243644344681631,
                           "p_value": 1.574355364288601e-07, "p_correct": 0.75}])
    params = {"rew": {"references": {"tmaze_correct_pct": 50.0}}}
    tables, _ = reference_tables(ctx, params, {"rew": "tmaze"},
                                 {"rew/tmaze_trial_model": model, "rew/tmaze_trials": table})
    assert [t.kind for t in tables] == ["one_sample", "trial_model"]
    trial = tables[1]
    assert trial.title == "Trial-level model against chance (50%): Correct choices"
    assert trial.row_header == ("Group",)
    assert [(r.labels, [c.text for c in r.cells]) for r in trial.rows] == [
        (("C Control",), ["3", "36", "0.750", "1.099", "0.210", "5.244", "< 0.001**"]),
        (("T Treated",), ["not modelled", "–", "–", "–", "–", "–", "–"])]
    assert trial.footnotes[-1].startswith("not modelled: fewer than two animals")
    # without the assay's details (a report from an EndpointTable) there is no trial table
    assert [t.kind for t in reference_tables(ctx, params, {"rew": "tmaze"})[0]] == [
        "one_sample"]


def test_a_group_whose_every_value_was_excluded_is_shown_not_tested():
    """stranger30 L11: 5 of 6 EthoVision test trials excluded (< 10 s); the treated group
    (n = 0) was left out of the 'Test against 0' table instead of said."""
    rows = _rows("nor", "nor_discrimination_index", "ratio",
                 {("C", "M"): [0.10, 0.25, -0.05], ("T", "M"): [0.40, 0.35]})
    for r in rows[3:]:
        r.update(excluded=True, exclusion_reason="total test exploration 4.0 s < 10 s")
    ctx = Context(_spec(NOR_GROUPS), pd.DataFrame(rows))
    one = reference_tables(ctx, {}, {})[0][0]
    assert [(r.labels, [c.text for c in r.cells]) for r in one.rows][-1] == (
        ("T Treated", "All"), ["0", "–", "–", "not tested (no included values)", "–", "–"])

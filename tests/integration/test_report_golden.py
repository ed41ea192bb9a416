"""Golden rules of the report on simulated studies with planted truth.

- the neurite plate has one well per treated concentration: no comparison with
  control is possible, and the tables say "not tested (n = 1 per treated group)";
  the mean fragment length has no value at the two highest (no fragment), and
  says so: "n ≤ 1 per treated group (n = 1, 1, 1, 1, 0, 0)";
  the flat nuclei count gets "no concentration–response" and no EC50, the planted
  neurite-length EC50 (1 µM) is recovered;
- the zebrafish LPR study plants hypoactivity in the dark at 10 µM only (a U-shaped
  response): no monotone Hill curve is shown for it;
- the TG 424 study's sciatic-nerve degeneration in males (1/5, 0/5, 0/5, 5/5)
  gets a BMDL of 0 from the recommended model, which is flagged unreliable.
"""

from __future__ import annotations

import pytest

from neurotox.pipeline import analyse, collect_endpoints
from neurotox.report import build_report
from neurotox.simulate import get_simulator
from neurotox.study import load_study


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """kind → report model (no figures drawn, BMD only for the TG 424 study)."""
    cache = {}

    def get(kind: str):
        if kind not in cache:
            folder = tmp_path_factory.mktemp(kind)
            truth = get_simulator(kind).write(folder, 20260101)
            study = load_study(folder / "study.yaml")
            collected = collect_endpoints(study)
            a = analyse(collected.table, study)
            report = build_report(study.spec, collected.table, a.results, a.decisions,
                                  software={"neurotox": "test"}, figures=False,
                                  bmd=kind == "oecd-424", parameters=collected.parameters,
                                  workers=2)
            cache[kind] = (report, truth)
        return cache[kind]
    return get


def _table(report, kind):
    return next(t for t in report.tables if t.kind == kind)


def _row(table, label):
    return next(r for r in table.rows if r.labels[0] == label)


def test_one_well_per_concentration_prints_not_tested(simulated):
    report, _ = simulated("neurite-plate")
    summary = _table(report, "summary")
    untested = _row(summary, "Comparison with control")
    sizes = "n = 1 per treated group"
    fragments = "n ≤ 1 per treated group (n = 1, 1, 1, 1, 0, 0)"  # mean fragment length
    assert {c.text for c in untested.cells} == {f"not tested ({sizes})",
                                                f"not tested ({fragments})"}
    assert not any(c.flag for r in summary.rows for c in r.cells)
    assert any(f"not tested ({sizes})" in f for f in summary.footnotes)
    findings = _table(report, "findings")
    assert {c.text for r in findings.rows for c in r.cells} == {"n.t."}
    assert f"n.t.: {sizes}; {fragments}." in findings.footnotes
    assert not any("No statistically significant difference" in f
                   for t in report.tables for f in t.footnotes)


def test_flat_concentration_response_gets_no_ec50(simulated):
    report, _ = simulated("neurite-plate")
    potency = _table(report, "potency")
    nuclei = _row(potency, "Nuclei count")  # 14 nuclei per field at every concentration
    assert nuclei.cells[0].text.startswith("no concentration–response")
    assert [c.text for c in nuclei.cells[1:8]] == ["–"] * 7
    figure = next(j for j in report.figure_jobs
                  if j.key == "dose-response-neurite-outgrowth-nuclei-count-na")
    assert figure.kwargs["curve"] is None and figure.kwargs["markers"] == []
    assert "no concentration–response" in figure.title and "EC50" not in figure.title


def test_planted_neurite_ec50_is_recovered(simulated):
    report, truth = simulated("neurite-plate")
    row = _row(_table(report, "potency"), "Neurite length per cell")
    assert row.cells[0].text == "concentration–response"
    ec50 = row.cells[1].numbers["value"]
    assert truth["neurite_ec50_uM"] / 2 < ec50 < truth["neurite_ec50_uM"] * 2


def test_u_shaped_zebrafish_response_gets_no_monotone_hill_curve(simulated):
    report, truth = simulated("zebrafish-lpr")
    assert truth["expected_calls"] == {"auc_dark@10": "HYPO", "auc_light@100": "HYPER"}
    potency = _table(report, "potency")
    dark = _row(potency, "AUC, dark phase")
    assert dark.cells[0].text.startswith("no monotone concentration–response (the response "
                                         "at 100 returns towards control after the largest "
                                         "change at 10)")
    assert dark.cells[1].text == "–"
    job = next(j for j in report.figure_jobs if j.key.startswith("dose-response-zebrafish-lpr"
                                                                 "-auc-dark-na"))
    assert job.kwargs["curve"] is None and "no monotone" in job.title
    light = _row(potency, "AUC, light phase")  # hyperactive at the top concentration only
    assert light.cells[0].text == "concentration–response"


def test_bmdl_of_zero_is_never_recommended(simulated):
    # 1/5, 0/5, 0/5, 5/5: pybmds fits Weibull with BMD 75.08 and BMDL 0; pybmds 25.2's
    # Session.recommend() on the same fits picks LogLogistic, BMD 48.57, BMDL 24.00
    report, _ = simulated("oecd-424")
    bmd = _table(report, "bmd")
    row = next(r for r in bmd.rows if r.labels[0] == "Sciatic nerve: axonal degeneration"
               and r.labels[2] == "Males")
    assert row.cells[1].text == "LogLogistic"
    assert row.cells[2].numbers["value"] == pytest.approx(48.571, rel=1e-4)
    assert row.cells[3].numbers["value"] == pytest.approx(23.997, rel=1e-4)
    assert row.cells[6].text == "BMDLs within 3-fold: lowest AIC"
    reliable = [r for r in bmd.rows if r.cells[5].text == "" and r.cells[1].text != "none viable"]
    assert reliable  # the others are not flagged


def test_tg424_pathology_tables_read_as_a_pathologist_writes_them(simulated):
    report, _ = simulated("oecd-424")
    inc = next(t for t in report.tables if t.key == "pathology-incidence")
    labels = [r.labels for r in inc.rows]
    assert labels[:2] == [("All tissues", "Number examined"), ("", "No abnormality detected")]
    assert ("Sciatic nerve", "Number examined") in labels
    assert [g.label for g in inc.column_groups] == ["Males", "Females"]
    examined = _row(inc, "All tissues")
    nad = inc.rows[1]
    axonal = next(r for r in inc.rows if r.labels[1] == "Axonal degeneration")
    assert [c.text for c in examined.cells] == ["5"] * 8
    assert [c.text for c in axonal.cells][3] == "5*↑"  # males, high dose: 5 of 5
    # stranger37 #11: the footnote named Cochran-Armitage but no row showed it
    trend = inc.rows[inc.rows.index(axonal) + 1]
    assert trend.labels == ("", "Trend test")
    # exact Cochran-Armitage p 0.000516 (M) and 0.001677 (F), in the high-dose column
    assert [c.text for c in trend.cells] == ["", "", "", "p < 0.001**",
                                             "", "", "", "p = 0.002**"]
    assert inc.footnotes[-1] == ("Trend test: Cochran-Armitage (exact) across all dose "
                                 "groups, p in the column of the highest dose (row under "
                                 "each finding).")
    assert all(int(n.text) <= int(e.text) for n, e in zip(nad.cells, examined.cells,
                                                          strict=True))
    sev = next(t for t in report.tables if t.key == "pathology-severity")
    assert [r.labels[1] for r in sev.rows[1:6]] == ["Minimal", "Mild", "Moderate", "Marked",
                                                    "Severe"]
    listing = next(t for t in report.tables if t.key == "listing-neuropathology")
    grades = {c.text for r in listing.rows for c in r.cells[1:]}
    assert grades <= {"", "minimal", "mild", "moderate", "marked", "severe",
                      "present, not graded"}
    assert any(r.cells[0].text == "No abnormality detected" for r in listing.rows)


def test_sexes_combined_studies_do_not_say_sexes_were_analysed_separately(simulated):
    report, _ = simulated("zebrafish-lpr")
    text = " ".join(report.methods)
    assert "analysed separately" not in text and "Sexes were" not in text
    assert "Tables and figures show group means ± standard deviation (SD)." in text

"""SARL LPR table on a synthetic Tanguay-lab export: counts, AUC and the per-larva call.

The fixture is written by the test in the lab's database-export layout
(``vd_samplecode, vd_start, vd_timebinid, vd_aname, vd_inadist, vd_smldist,
vd_lardist, vp_locationcode``; 245 bins of 6 s). Each larva moves a constant
0.5, 1 or 1.5 mm per bin, and the treated group holds the control's three
values twice, so its larvae do not differ from the controls; the answers are
counted by hand:

* control H01–H03 = 0.5, 1, 1.5; treated A01–A06 = 0.5, 1, 1.5, 0.5, 1, 1.5 and
  A07 dead (layout); A03 lacks the row of bin 100 (600 s, first dark phase);
* SARL's trapezoid across larvae (plate-then-well order) gives, per bin, the
  sum minus half the first and last larva; light T61–89, T120–149, T180–209 =
  89 bins, dark T90–119, T150–179, T210–239 = 90;
* control: 3 − (0.5 + 1.5) / 2 = 2 per bin → AUC light 178, dark 180;
* treated: count 6 (A03 has a value in 178 of the 179 analysed bins), n_auc 5
  (complete cases A01, A02, A04, A05, A06): 4.5 − (0.5 + 1.5) / 2 = 3.5 per bin
  → light 311.5, dark 315: PercDiff +75 %, and the per-bin totals (3.5 vs 2 in
  every bin) differ completely, so SARL calls HYPER although the larvae move
  as the controls do;
* per larva (``hit_calls``): mean difference 0 %, KS p 1, no call, n 6 vs 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.base import resolve_parameters
from neurotox.assays.zebrafish import analyse
from neurotox.assays.zebrafish.conventions import conventions
from neurotox.assays.zebrafish.sarl import sarl_lpr_statistics
from neurotox.io.zebrafish import read_export, read_plate_layouts

CONTROL = ["H01", "H02", "H03"]
TREATED = [f"A{c:02d}" for c in range(1, 8)]
MOVE = dict(zip(CONTROL + TREATED, [0.5, 1.0, 1.5] * 3 + [1.0], strict=True))
HEADER = ("vd_samplecode\tvd_start\tvd_timebinid\tvd_aname\tvd_inadist\tvd_smldist\t"
          "vd_lardist\tvp_locationcode")


def _export(path):
    lines = [HEADER]
    for b in range(245):
        for well in CONTROL + TREATED:
            if well == "A03" and b == 100:
                continue
            lines.append(f"000000077\t{b * 6}\t1\t{well}-1\t0.25\t{MOVE[well]}\t0\tZEBRABOX1")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("sarl")
    lay = d / "layout.csv"
    lay.write_text("well,concentration,mortality\n"
                   + "".join(f"{w},0,\n" for w in CONTROL)
                   + "".join(f"{w},1,{'dead' if w == 'A07' else ''}\n" for w in TREATED))
    _, params = resolve_parameters("zebrafish-lpr-tanguay")
    ex = read_export(_export(d / "LPR_raw_data.xls"))
    return analyse([ex], params, study_id="S", layouts=read_plate_layouts(lay))


def test_sarl_count_auc_and_call_by_hand(run):
    t = run.details["sarl_lpr_stats"].set_index(["dose", "interval"])
    assert t.loc[(0.0, "Light"), ["count", "n_auc", "org_ss"]].tolist() == [3, 3, 3]
    assert t.loc[(1.0, "Dark"), ["count", "n_auc", "org_ss"]].tolist() == [6, 5, 7]
    assert t.loc[(0.0, "Light"), "AUC"] == pytest.approx(178.0)
    assert t.loc[(0.0, "Dark"), "AUC"] == pytest.approx(180.0)
    assert t.loc[(1.0, "Light"), "AUC"] == pytest.approx(311.5)
    assert t.loc[(1.0, "Dark"), "AUC"] == pytest.approx(315.0)
    assert t.loc[(1.0, "Dark"), "PercDiff"] == pytest.approx(75.0)
    assert t.loc[(1.0, "Dark"), "Pval"] < 1e-30
    assert t.loc[(1.0, "Light"), "activity"] == t.loc[(1.0, "Dark"), "activity"] == "HYPER"
    assert t.loc[(0.0, "Light"), "trans_dist"] == pytest.approx(1.0)   # bin T90, complete cases
    assert t.loc[(1.0, "Light"), "trans_dist"] == pytest.approx(4.5 / 5)


def test_per_larva_call_and_n_agree_across_tables(run):
    calls = run.details["hit_calls"].set_index(["endpoint", "dose"])
    for ep in ("auc_light", "auc_dark"):
        assert calls.loc[(ep, 1.0), "n"] == 6 and calls.loc[(ep, 0.0), "n"] == 3
        assert calls.loc[(ep, 1.0), "percent_difference"] == pytest.approx(0.0)
        assert calls.loc[(ep, 1.0), "call"] == ""
    larvae = run.details["larvae"].set_index("well")
    assert int((~larvae["excluded"] & (larvae["dose"] == 1)).sum()) == 6
    assert larvae.loc["A03", "missing_bins"] == 1 and larvae.loc["A01", "missing_bins"] == 0
    ept = run.endpoints
    dark1 = ept[(ept["endpoint"] == "distance_phase") & (ept["timepoint"] == "dark1")
                & (ept["subject"] == "77-A03")]
    assert dark1["exclusion_reason"].tolist() == ["missing value in the export"]


def test_notes_name_the_larvae_and_the_disagreement(run):
    notes = "\n".join(run.notes)
    assert ("1 included larva(e) lack a value in some bins of the export: 77-A03 "
            "(group C1, 600 s).") in notes
    assert "includes 1 larva(e) with a bin without a value (77-A03)" in notes
    assert ("hit_calls and sarl_lpr_stats disagree for dose 1 Dark: SARL's across-larvae AUC "
            "gives HYPER (AUC +75.0 % vs control, a group total over 5 larvae;") in notes
    assert "the per-larva call gives no call (auc_dark dark3: mean +0.0 %, KS p 1, n 6 vs 3)" \
        in notes


def test_hit_call_convention_says_it_is_not_the_sarl_call(run):
    said = run.conventions[-1]
    assert said.startswith("Hit call (hit_calls), per larva: each group's auc_light and "
                           "auc_dark of the analysed cycle")
    assert "p < 0.01 (hit_p)" in said and "at least 50 % (hit_percent)" in said
    assert "deliberately differs from the SARL (Tanguay lab) call" in said
    _, epr = resolve_parameters("zebrafish-epr")
    assert not any(c.startswith("Hit call") for c in conventions(epr))


def test_count_is_the_most_larvae_with_a_value_in_an_analysed_bin():
    """A larva missing only outside T61–T239 counts; it is still no complete case."""
    rows = []
    for k, v in enumerate([1.0, 2.0, 3.0]):
        d = np.full(245, v)
        if k == 2:
            d[10] = np.nan   # acclimation: outside the analysed bins
        rows += [{"dose": 0.0, "plate": "P", "well": f"A0{k + 1}", "bin": b, "distance": x}
                 for b, x in enumerate(d)]
        rows += [{"dose": 1.0, "plate": "P", "well": f"B0{k + 1}", "bin": b, "distance": 2 * v}
                 for b in range(245)]
    t = sarl_lpr_statistics(pd.DataFrame(rows)).set_index(["dose", "interval"])
    assert t.loc[(0.0, "Dark"), ["count", "n_auc", "org_ss"]].tolist() == [3, 2, 3]
    assert t.loc[(0.0, "Dark"), "AUC"] == pytest.approx(1.5 * 90)   # (1 + 2) / 2 per bin
    assert t.loc[(1.0, "Dark"), "AUC"] == pytest.approx(8.0 * 90)   # 12 − (2 + 6) / 2


def test_disagreement_with_a_group_not_tested_prints_no_nan():
    """A group the per-larva call could not test is named without empty numbers."""
    from neurotox.assays.zebrafish.sarl import sarl_notes

    table = pd.DataFrame({"dose": [0.0, 5.0], "interval": "Dark", "count": [4, 1],
                          "n_auc": [4, 1], "org_ss": [4, 4], "AUC": [30.0, np.nan],
                          "PercDiff": [0.0, np.nan], "Pval": [1.0, np.nan],
                          "activity": ["", ""]})
    hits = pd.DataFrame({"endpoint": "auc_dark", "timepoint": "dark3", "dose": [0.0, 5.0],
                         "n": [4, 1], "percent_difference": [np.nan, np.nan],
                         "p_value": np.nan, "call": ["", "not tested"]})
    bins = pd.DataFrame({"dose": 0.0, "plate": "P", "well": "A01", "bin": range(3),
                         "distance": 1.0})
    assert sarl_notes(table, bins, hits) == [
        "hit_calls and sarl_lpr_stats disagree for dose 5 Dark: SARL's across-larvae AUC "
        "gives no call (1 complete larvae); the per-larva call gives not tested (auc_dark "
        "dark3: n 1 vs 4). hit_calls is the per-larva result; SARL's AUC grows with the "
        "number of larvae (see the hit-call convention)"]

"""Whole screens on the simulated screen (planted truth), in both table formats."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from neurotox.assays.base import resolve_parameters, run_study_assay
from neurotox.assays.zebrafish import analyse_screen, load_inputs
from neurotox.cli.main import cli
from neurotox.errors import InputError
from neurotox.simulate import get_simulator
from neurotox.study import load_study


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screen")
    truth = get_simulator("zebrafish-screen").write(folder, 11)
    return folder, truth


def _run(files, protocol="zebrafish-screen-epa", workers=1, **over):
    _, params = resolve_parameters(protocol, over)
    exports, tables = load_inputs(list(files), params)
    return analyse_screen(exports, params, morphology=tables, workers=workers)


@pytest.fixture(scope="module")
def runs(sim):
    folder, _ = sim
    return {"lmr0": _run([folder / "screen_lmr0.csv.gz"]),
            "lightdark": _run([folder / "screen_lightdark.csv"])}


def test_both_formats_give_the_same_screen(runs):
    a, b = runs["lmr0"], runs["lightdark"]
    key = ["endpoint", "timepoint", "subject"]
    ea = a.endpoints.sort_values(key).reset_index(drop=True)
    eb = b.endpoints.sort_values(key).reset_index(drop=True)
    np.testing.assert_allclose(ea["value"], eb["value"], rtol=0, atol=1e-12)
    assert (ea["excluded"] == eb["excluded"]).all()
    pd.testing.assert_frame_equal(a.details["group_rules"], b.details["group_rules"])
    pd.testing.assert_frame_equal(a.details["activity_statistics"],
                                  b.details["activity_statistics"])


def test_group_rules_recover_the_planted_failures(runs, sim):
    _, truth = sim
    for run in runs.values():
        rules = run.details["group_rules"]
        bad = rules[rules["excluded"]]
        trt = bad[bad["rule"] == "treatment group"]
        assert trt[["chemical", "concentration", "experimental_group"]].values.tolist() == \
            truth["excluded_treatment_groups"]
        assert trt[["n_larvae", "n_usable"]].values.tolist() == [[6, 4]]
        eg = bad[bad["rule"] == "experimental group vehicle"]
        assert eg["experimental_group"].tolist() == truth["excluded_experimental_groups"]
        assert eg[["n_larvae", "n_usable"]].values.tolist() == [[12, 9]]


def test_wllq0_and_group_exclusions_have_reasons(runs, sim):
    _, truth = sim
    larvae = runs["lmr0"].details["larvae"].set_index("subject")
    for s in truth["wllq0_wells"]:
        assert larvae.loc[s, "larva_reason"] == "removed by the lab (wllq = 0)"
    p2 = larvae[larvae["plate"] == "P2"]
    assert len(p2) == 60 and p2["excluded"].all()
    assert (p2["group_reason"] == "experimental group P2: vehicle 9/12 usable (75%), "
            "below 85%").all()
    assert larvae.loc["P1-D09", "group_reason"] == (
        "1021 100 in experimental group P1: 4/6 usable (67%), below 75%")
    assert larvae.loc["P1-B02", "larva_reason"] != "" and not larvae.loc["P1-B03", "excluded"]
    by_rule = runs["lmr0"].details["exclusions_by_rule"].groupby("rule")["n_larvae"].sum()
    assert by_rule["removed by the lab"] == 6
    assert by_rule["experimental group vehicle below the required usable fraction"] == 60


def test_per_larva_totals_equal_an_independent_sum(runs, sim):
    folder, _ = sim
    raw = pd.read_csv(folder / "screen_lmr0.csv.gz")
    vt = [f"vt{k}" for k in range(1, 51)]
    raw["subject"] = raw["apid"] + "-" + raw["rowi"].map(lambda r: chr(64 + r)) + \
        raw["coli"].map(lambda c: f"{c:02d}")
    expected = raw.set_index("subject")[vt].sum(axis=1, min_count=1) * 10
    e = runs["lmr0"].endpoints
    got = e[e["endpoint"] == "total_distance"].set_index("subject")["value"]
    ok = expected.notna()
    np.testing.assert_allclose(got[expected.index[ok]], expected[ok], rtol=1e-12)
    assert got[expected.index[~ok]].isna().all()


def test_hypoactivity_found_against_own_vehicle(runs, sim):
    _, truth = sim
    st = runs["lmr0"].details["activity_statistics"]
    dark = st[(st["chemical"] == "725") & (st["endpoint"] == "auc_dark")].set_index(
        "concentration")
    # tested on P1 and P2; P2 failed the vehicle rule, so only P1's larvae are compared
    assert (dark["experimental_groups"] == "P1, P2").all()
    assert dark.loc[0.0, "n"] == 12 and dark.loc[10.0, "control_n"] == 12
    assert dark.loc[1.0, "n"] == 5 and dark.loc[10.0, "n"] == 6   # P1-B02: wllq = 0
    planted = {c for chem, c in truth["hypoactive_dark"] if chem == "725"}
    for c in (0.1, 1.0, 10.0, 100.0):
        hit = dark.loc[c, "p_value"] < 0.05 and dark.loc[c, "percent_of_control"] < 60
        assert hit == (c in planted), c
    assert "C3" not in set(st["chemical"].dropna()) or st.loc[
        st["chemical"] == "C3", "n"].eq(0).all()


@pytest.fixture(scope="module")
def morph(sim):
    folder, _ = sim
    return _run([folder / "morphology.csv"], "zebrafish-morphology-tanguay")


def test_incidence_equals_the_planted_counts(morph, sim):
    _, truth = sim
    inc = morph.details["incidence"]
    names = {"PE__": "zf_pe", "YSE_": "zf_yse", "AXIS": "zf_axis", "MORT": "zf_mort",
             "MO24": "zf_mo24"}
    for key, counts in truth["incidence_n_affected_by_conc"].items():
        chem, code = key.split("/")
        t = inc[(inc["chemical"] == chem) & (inc["endpoint"] == names[code])]
        got = t.sort_values("concentration")[["n_examined", "n_affected"]].values.tolist()
        assert got == counts, key
    assert any("24 well(s) listed more than once" in n for n in morph.notes)


def test_fisher_trend_and_bmd_on_planted_malformations(morph):
    inc = morph.details["incidence"]
    pe = inc[(inc["chemical"] == "1021") & (inc["endpoint"] == "zf_pe")].set_index(
        "concentration")
    assert pe.loc[100.0, ["n_examined", "n_affected"]].tolist() == [5, 4]
    # 4/5 vs 0/12, one-sided Fisher: C(5,4)C(12,0)/C(17,4) = 5/2380
    assert pe.loc[100.0, "fisher_p"] == pytest.approx(5 / 2380, rel=1e-12)
    assert pe.loc[0.1, "fisher_p"] == 1.0
    assert pe.loc[0.0, "trend_p"] < 0.001
    bmd = morph.details["morphology_bmd"]
    chosen = bmd[bmd["recommended"] & (bmd["chemical"] == "1021")].set_index("endpoint")
    assert 1.0 < chosen.loc["zf_pe", "bmd"] < 100.0
    assert "zf_pe" not in set(bmd.loc[bmd["chemical"] == "725", "endpoint"])


def test_mo24_masks_later_calls_and_dnc_removes_the_well(morph):
    e = morph.endpoints.set_index(["subject", "endpoint"])
    assert e.loc[("P1-D07", "zf_pe"), "exclusion_reason"] == "not examined: MO24 = 1"
    assert e.loc[("P1-D07", "zf_mo24"), "value"] == 1
    assert e.loc[("P1-D07", "zf_tot_mort"), "value"] == 1
    assert e.loc[("P1-A01", "zf_pe"), "exclusion_reason"] == \
        "well marked do-not-count (DNC_)"
    assert e.loc[("P1-D08", "zf_any_malformation"), "value"] == 1


def test_parallel_over_chemicals_gives_the_same_tables(sim, morph):
    folder, _ = sim
    par = _run([folder / "morphology.csv"], "zebrafish-morphology-tanguay", workers=2,
               morphology_bmd="none")
    pd.testing.assert_frame_equal(par.details["incidence"], morph.details["incidence"])


def test_cli_numeric_chemical_and_study_plugin(sim, tmp_path):
    folder, _ = sim
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["zebrafish-screen", str(folder / "screen_lmr0.csv.gz"),
                                 str(folder / "morphology.csv"), "--set", "chemicals=725",
                                 "--set", "morphology_bmd=none", "--workers", "1",
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    larvae = pd.read_csv(out / "larvae.csv", dtype={"chemical": str})
    assert set(larvae.loc[~larvae["vehicle"], "chemical"]) == {"725"}
    assert set(pd.read_csv(out / "incidence.csv", dtype={"chemical": str})["chemical"]) \
        == {"725"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("listed more than once" in n for n in manifest["notes"])
    # the study file's plug-in: locomotion and morphology in one EndpointTable
    study = load_study(folder / "study.yaml")
    res = run_study_assay(study, study.spec.assays[0])
    assert set(res.endpoints["assay"]) == {"zebrafish_lpr", "zebrafish_morphology"}
    lar = res.details["larvae"].set_index("subject")
    assert lar.loc["P1-D10", "larva_reason"].startswith("malformed (AXIS, PE__)")


def test_unknown_chemical_is_named(sim):
    folder, _ = sim
    with pytest.raises(InputError, match="chemical\\(s\\) '999' not in the screen"):
        _run([folder / "morphology.csv"], "zebrafish-morphology-tanguay", chemicals=[999])


def test_report_tables_of_the_screen(morph, runs, sim):
    from neurotox.report.screen import screen_tables
    from neurotox.study import load_study

    folder, _ = sim
    spec = load_study(folder / "study.yaml").spec
    details = {**{f"a/{k}": v for k, v in runs["lmr0"].details.items()},
               **{f"b/{k}": v for k, v in morph.details.items()}}
    tables = {t.title: t for t in screen_tables(details, spec)}
    inc = tables["Developmental morphology incidence, chemical 1021"]
    col = inc.columns.index("ANY_MALFORMATION")
    row = next(r for r in inc.rows if r.labels[0] == "100")
    assert row.cells[col].text == "4/5 (80%)**"
    assert [r.labels[0] for r in inc.rows] == ["vehicle", "0.1", "1", "10", "100"]
    ex = tables["Zebrafish screen: larvae excluded, by rule"]
    assert any("Group rule: experimental group P2 (vehicle): 9/12 usable (75%), required 85%."
               == f for f in ex.footnotes)
    bmd = tables["Zebrafish screen: benchmark concentrations per chemical"]
    assert ("1021", "zf_pe", "") in [r.labels for r in bmd.rows]


def test_lpr_command_reads_lmr0_and_numeric_chemical(sim, tmp_path):
    folder, _ = sim
    out = tmp_path / "lpr"
    r = CliRunner().invoke(cli, ["zebrafish", str(folder / "screen_lmr0.csv.gz"), "--protocol",
                                 "zebrafish-lightdark-epa", "--set", "chemical=725",
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    larvae = pd.read_csv(out / "larvae.csv")
    # 725 on both plates (4 x 12) and the vehicle rows of its plates (2 x 12)
    assert len(larvae) == 72 and set(larvae["dose"]) == {0.0, 0.1, 1.0, 10.0, 100.0}
    assert larvae.set_index("subject").loc["P1-B02", "exclusion_reason"].startswith(
        "removed by the lab (wllq = 0)")

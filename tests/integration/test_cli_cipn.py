"""``neurotox cipn`` and the cipn study: real up-down sessions and the simulated study."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from neurotox import stats
from neurotox.cli.main import cli
from neurotox.pipeline import collect_endpoints
from neurotox.simulate import get_simulator
from neurotox.study import load_study

GROUPS = {"uninjured": "U", "SNI": "SNI", "drug": "DRUG"}


def _real_study(shared_data, folder):
    meta = pd.read_excel(shared_data / "cipn/vf_updown_sessions/metadata_timeline_experiment.xlsx")
    pd.DataFrame({"subject": meta["animal_id"].astype(str),
                  "group": meta["group_name"].map(GROUPS),
                  "sex": meta["sex"].map({"male": "M", "female": "F"})}).to_csv(
        folder / "subjects.csv", index=False)
    (folder / "study.yaml").write_text(
        "study_id: VF-REAL\ntitle: Up-down sessions\ntest_item: drug\nsubjects: subjects.csv\n"
        "groups:\n  - {id: U, label: Uninjured, dose: 0, dose_unit: NA, control: true}\n"
        "  - {id: SNI, label: Nerve injury, dose: 1, dose_unit: NA}\n"
        "  - {id: DRUG, label: Nerve injury + drug, dose: 2, dose_unit: NA}\n"
        "statistics: {pool_sexes: true, log_transform: [vf_threshold_updown]}\n")
    return folder / "study.yaml"


@pytest.mark.shared_data
def test_real_sessions_through_the_cli(shared_data, tmp_path):
    study = _real_study(shared_data, tmp_path)
    xlsx = shared_data / "cipn/vf_updown_sessions/data_timeline_experiment.xlsx"
    r = CliRunner().invoke(cli, ["--quiet", "cipn", str(xlsx), "--study", str(study),
                                 "--protocol", "von-frey-up-down", "--param",
                                 "timepoint_prefix=day", "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    ep = pd.read_csv(out / "endpoints.csv")
    assert len(ep) == 295 and ep["subject"].nunique() == 59
    assert sorted(ep["timepoint"].unique()) == ["day-1", "day14", "day21", "day3", "day7"]
    assert (ep["censoring"] == "left").sum() == 4 and (ep["censoring"] == "right").sum() == 1
    # equal to the tool's legacy-unit thresholds (k rounding aside)
    tool = pd.read_csv(shared_data / "cipn/vf_updown_sessions/"
                       "data_timeline_experiment_tool_thresholds.csv")
    tool["timepoint"] = "day" + tool["Timepoint_SNI_day"].astype(str)
    tool["subject"] = tool["mouse"]
    both = ep.merge(tool, on=["subject", "timepoint"]).dropna(subset=["threshold_50_Log"])
    assert len(both) == 289
    assert ((both["value"] / both["threshold_50_Log"] - 1).abs() < 5e-4).all()
    dec = pd.read_csv(out / "statistics_decisions.csv")
    rm = dec[dec["timepoint"] == "ALL"].iloc[0]
    assert rm["path"] == "repeated_measures" and rm["transform"] == "log"
    assert rm["overall_p"] < 0.001  # nerve injury lowers thresholds over days
    day21 = dec[dec["timepoint"] == "day21"].iloc[0]
    assert day21["path"] == "censored" and day21["pairwise_test"] == "Gehan-Mantel"
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("5 up-down series out of range" in n for n in manifest["notes"])


def test_simulated_study_recovers_the_planted_effects(tmp_path):
    truth = get_simulator("cipn").write(tmp_path, 11)
    study = load_study(tmp_path / "study.yaml")
    table = collect_endpoints(study).table
    a = stats.analyse(table, study.spec.statistics, study.spec.groups)
    r = a.results[~a.results["is_control"]]
    for planted in truth["planted"]:
        hit = r[(r["endpoint"] == planted["endpoint"]) & (r["group"] == "G3")
                & r["timepoint"].isin(planted["timepoints"])]
        assert len(hit) == len(planted["timepoints"])
        assert (hit["flag"] != "").all(), planted
        assert (hit["direction"] == "down").all(), planted
    baseline = r[(r["endpoint"] == "vf_threshold_updown") & (r["timepoint"] == "day-1")]
    assert len(baseline) == 2 and (baseline["flag"] == "").all()  # nothing planted before dosing
    for name in truth["not_planted"]:
        assert (r.loc[r["endpoint"] == name, "flag"] == "").mean() >= 0.75, name
    hg = table[(table["endpoint"] == "hargreaves_latency") & (table["censoring"] == "right")]
    assert len(hg) > 0
    dec = a.decisions.set_index(["endpoint", "timepoint"])
    for tp in hg["timepoint"].unique():
        assert dec.loc[("hargreaves_latency", tp), "path"] == "censored"


#: Mouse up-down sessions (legacy calculator's set): 'oxooxx' ending on filament 5 has
#: Dixon's k = -0.169, so the threshold is 10^(3.61 - 0.169 * 0.4414286) / 10 000 g
#: (0.342 g); with the rat set of cipn-paclitaxel-rat filament 5 is another force.
MOUSE_SESSIONS = "mouse,day,xo_series,last_filament\n" + "".join(
    f"{s},{d},oxooxx,5\n" for s in ("C1", "C2", "C3", "T1", "T2", "T3") for d in (-1, 7))
MOUSE_THRESHOLD = 10 ** (3.61 - 0.169 * 0.4414286) / 1e4


def _entry_study(folder, protocol="von-frey-up-down", extra_entry=""):
    from tests.unit.cipn.conftest import write

    study = write(folder, {"vf.csv": MOUSE_SESSIONS})
    study.write_text(study.read_text() + f"assays:\n- {{assay: cipn, protocol: {protocol}, "
                     f"input: vf.csv}}\n{extra_entry}")
    return study


def test_study_entry_protocol_is_used(tmp_path, invoke):
    """F4: without --protocol the entry's protocol (mouse set) is used, not the rat default."""
    study = _entry_study(tmp_path)
    r = invoke("-q", "cipn", "--study", study, "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    ep = pd.read_csv(tmp_path / "out" / "endpoints.csv")
    assert len(ep) == 12 and set(ep["endpoint"]) == {"vf_threshold_updown"}
    assert ep["value"].to_numpy() == pytest.approx(MOUSE_THRESHOLD, rel=1e-3)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["parameters"]["protocol"] == "von-frey-up-down"
    assert manifest["parameters"]["effective"]["filaments"][4]["force_g"] == 0.407
    assert "protocol 'von-frey-up-down' and parameters from the study's 'cipn' entry" \
        in manifest["notes"]
    # the same protocol named on the command line agrees with the entry
    r = invoke("-q", "cipn", "--study", study, "--protocol", "von-frey-up-down",
               "-o", tmp_path / "out2")
    assert r.exit_code == 0, r.output


def test_protocol_contradicting_the_study_entry_is_an_error(tmp_path, invoke):
    study = _entry_study(tmp_path)
    r = invoke("cipn", "--study", study, "--protocol", "cipn-paclitaxel-rat",
               "-o", tmp_path / "out")
    assert r.exit_code == 2
    assert r.output.strip() == (
        f"Error: {study}, key 'assays.cipn.protocol': --protocol 'cipn-paclitaxel-rat' "
        "contradicts the study's 'cipn' entry, which names protocol 'von-frey-up-down'; drop "
        "--protocol or change the study's entry")
    assert not (tmp_path / "out").exists()


def test_several_entries_need_protocol_to_choose(tmp_path, invoke):
    study = _entry_study(tmp_path, extra_entry="- {assay: cipn, id: rat, protocol: "
                         "cipn-paclitaxel-rat, input: vf.csv}\n")
    r = invoke("cipn", "--study", study, "-o", tmp_path / "out")
    assert r.exit_code == 2
    assert ("the study has 2 entries for this command: 'cipn' (von-frey-up-down), 'rat' "
            "(cipn-paclitaxel-rat); give --protocol naming one entry's protocol") in r.output
    r = invoke("-q", "cipn", "--study", study, "--protocol", "von-frey-up-down",
               "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    ep = pd.read_csv(tmp_path / "out" / "endpoints.csv")
    assert ep["value"].to_numpy() == pytest.approx(MOUSE_THRESHOLD, rel=1e-3)


#: Hargreaves latencies (s), a wide sheet as labs keep it: the baseline column is `BL`.
WIDE_BL = ("subject,test,BL,Day 7\nC1,hargreaves,10.0,16.0\nC2,hargreaves,8.0,5.0\n"
           "C3,hargreaves,9.0,9.5\nT1,hargreaves,12.0,6.0\nT2,hargreaves,11.0,6.5\n"
           "T3,hargreaves,10.5,5.0\n")


def test_a_baseline_column_named_bl_is_the_protocols_day_minus_1(tmp_path, invoke):
    """stranger39 B1: BL was not the protocol's day-1 (no covariate, no %MPE, rc 0)."""
    from tests.unit.cipn.conftest import write

    study = write(tmp_path, {"w.csv": WIDE_BL})
    r = invoke("cipn", tmp_path / "w.csv", "--study", study, "--protocol",
               "cipn-paclitaxel-rat", "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "w.csv: session 'BL' is the protocol's baseline session 'day-1' written another " \
           "way, labelled 'day-1'" in r.output and "WARNING" not in r.output
    ep = pd.read_csv(tmp_path / "out" / "endpoints.csv")
    assert set(ep["timepoint"]) == {"day-1", "day7"}
    mpe = ep[(ep["endpoint"] == "hargreaves_mpe") & (ep["subject"] == "C1")]
    assert mpe["value"].item() == pytest.approx(60.0)   # 100 (16 - 10) / (20 - 10)
    # a sheet with BL and day-1: two baseline sessions, exit 2 naming both columns
    (tmp_path / "w.csv").write_text(WIDE_BL.replace("BL,", "BL,day-1,").replace(
        "hargreaves,", "hargreaves,9.9,"))
    r = invoke("cipn", tmp_path / "w.csv", "--study", study, "--protocol",
               "cipn-paclitaxel-rat", "-o", tmp_path / "out2")
    assert r.exit_code == 2
    assert r.output.strip().splitlines()[-1] == (
        f"Error: {tmp_path / 'w.csv'}, row 1, columns 'BL', 'day-1': sessions 'BL' and "
        "'day-1' are each the protocol's baseline session 'day-1' (a baseline spelling, or "
        "'day-1' written another way): keep one, or name another session in the protocol "
        "parameter 'baseline'")

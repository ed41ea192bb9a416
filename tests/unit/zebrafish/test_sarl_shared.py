"""SARL (Tanguay lab) LPR reanalysis of the CV arm, against the lab's published table.

Data: ../shared/data/zebrafish/tanguay_sarl_viewpoint/sarl_8day_CV (skipped when
absent). The lab's ``5dpf_Behavior_Light_Dark_AUCmethod_Stats_Summary_LPR`` gives
count 22 / 158, AUC dark 18085.61 / 155551.181, light 2421.874 / 24004.743,
PercDiff 760.083 / 891.164 and HYPER for both intervals of 1 uM.

Why the numbers of larvae differ between the tables of one run (all from the
data and the lab's own tables and R code):

* 168 larvae of 1 uM are in the export; 9 are dead or malformed in the plate
  map: 159 included (``larvae``);
* 18103-C03, 18104-A11 and 18104-C11 each lack one 6-s bin (1188, 1320, 546 s):
  an endpoint whose window holds that bin is excluded for them, so auc_light
  light3 and auc_dark dark3 have n 158 (``endpoints``, ``hit_calls``);
* SARL's ``count`` is the most larvae with a value in any analysed bin (the three
  count), its AUC uses complete cases only (they do not): 159 and 156;
* 18103-F04 is in the export with every bin and no call, but absent from the
  lab's own LPR and LSR tables (``GUI files``): with it excluded, count 158 and
  every AUC equal the lab's.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.shared_data

CV = "zebrafish/tanguay_sarl_viewpoint/sarl_8day_CV"
EXPORT = "LPR_raw_data  05-10-2019 122000.xls"
PLATE_MAP = "Single_Tab_File  05-10-2019 121959.xls"
LAB = "LPR/5dpf_Behavior_Light_Dark_AUCmethod_Stats_Summary_LPR_Single_Tab_File  " \
      "05-10-2019 121959_2019MAY10.csv"
PARTIAL = "18103-C03, 18104-A11, 18104-C11"


@pytest.fixture(scope="module")
def cv(shared_data):
    return shared_data / CV


@pytest.fixture(scope="module")
def runs(cv, tmp_path_factory):
    """The stranger's command, and the same with 18103-F04 excluded by a layout."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    tmp = tmp_path_factory.mktemp("sarl")
    pm = pd.read_csv(cv / PLATE_MAP, sep="\t", dtype=str, keep_default_na=False)
    lay = pd.DataFrame({"plate": pm["plate_id"].str.lstrip("0"),
                        "well": pm["row_id"] + pm["col_id"].str.zfill(2),
                        "concentration": pm["value"].replace("", "0")})
    lay["exclude"] = ""
    lay.loc[(lay["plate"] == "18103") & (lay["well"] == "F04"), "exclude"] = \
        "absent from the lab's LPR tables"
    lay.to_csv(tmp / "layout.csv", index=False)
    out = {}
    for name, extra in (("default", []), ("lab", ["--layout", tmp / "layout.csv"])):
        args = ["zebrafish", cv / EXPORT, "--plate-map", cv / PLATE_MAP, *extra,
                "--study-id", "SARL-CV", "-o", tmp / name]
        res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        out[name] = tmp / name
    return out


def _table(folder, stem):
    return pd.read_csv(folder / f"{stem}.csv", keep_default_na=False, na_values=[""])


def test_lab_table_reproduced_with_f04_excluded(cv, runs):
    ours = _table(runs["lab"], "sarl_lpr_stats").set_index(["dose", "interval"])
    lab = pd.read_csv(cv / LAB)
    assert len(lab) == 4
    for r in lab.itertuples():
        o = ours.loc[(float(r.conc), r.interval)]
        assert o["count"] == r.count
        assert round(o["AUC"], 3) == pytest.approx(r.AUC, abs=1e-9)
        assert round(o["PercDiff"], 3) == pytest.approx(r.PercDiff, abs=1e-9)
        assert round(o["Pval"], 3) == r.Pval
        assert (o["activity"] if isinstance(o["activity"], str) else "") == \
            (r.activity if isinstance(r.activity, str) else "")
    assert ours.loc[(1.0, "Dark"), "AUC"] == pytest.approx(155551.181, abs=5e-4)
    assert ours.loc[(1.0, "Light"), "AUC"] == pytest.approx(24004.743, abs=5e-4)
    assert ours.loc[(1.0, "Dark"), "n_auc"] == 155
    larvae = _table(runs["lab"], "larvae").set_index("subject")
    assert larvae.loc["18103-F04", "exclusion_reason"] == \
        "exclude: absent from the lab's LPR tables"


def test_default_run_counts_f04_and_says_why_n_differs(runs):
    folder = runs["default"]
    ours = _table(folder, "sarl_lpr_stats").set_index(["dose", "interval"])
    assert ours.loc[(0.0, "Dark"), ["count", "n_auc", "org_ss"]].tolist() == [22, 22, 24]
    assert ours.loc[(1.0, "Dark"), ["count", "n_auc", "org_ss"]].tolist() == [159, 156, 168]
    assert ours.loc[(0.0, "Light"), "AUC"] == pytest.approx(2421.874, abs=5e-4)
    larvae = _table(folder, "larvae")
    treated = larvae[larvae["dose"] == 1]
    assert int((~treated["excluded"]).sum()) == 159
    partial = treated[treated["missing_bins"] > 0]
    assert ", ".join(partial["subject"]) == PARTIAL and set(partial["missing_bins"]) == {1}
    calls = _table(folder, "hit_calls").set_index(["endpoint", "dose"])
    assert calls.loc[("auc_light", 1.0), "n"] == calls.loc[("auc_dark", 1.0), "n"] == 158
    ept = pd.read_parquet(folder / "endpoints.parquet")
    miss = ept[(ept["endpoint"].isin(["auc_light", "auc_dark"]))
               & (ept["exclusion_reason"] == "missing value in the export")]
    assert sorted(zip(miss["endpoint"], miss["subject"], strict=True)) == [
        ("auc_dark", "18104-A11"), ("auc_light", "18103-C03")]
    notes = "\n".join(json.loads((folder / "manifest.json").read_text())["notes"])
    assert ("3 included larva(e) lack a value in some bins of the export: 18103-C03 (group C1, "
            "1188 s); 18104-A11 (group C1, 1320 s); 18104-C11 (group C1, 546 s).") in notes
    assert f"includes 3 larva(e) with a bin without a value ({PARTIAL})" in notes


def test_hit_calls_differ_from_the_lab_call_and_say_so(runs):
    folder = runs["default"]
    calls = _table(folder, "hit_calls").set_index(["endpoint", "dose"])
    assert calls.loc[("auc_dark", 1.0), "percent_difference"] == pytest.approx(20.13, abs=0.01)
    assert calls.loc[("auc_light", 1.0), "percent_difference"] == pytest.approx(152.17, abs=0.01)
    assert calls.loc[("auc_dark", 1.0), "p_value"] == pytest.approx(0.361, abs=1e-3)
    assert calls.loc[("auc_light", 1.0), "p_value"] == pytest.approx(0.258, abs=1e-3)
    assert not calls["significant"].any()
    manifest = json.loads((folder / "manifest.json").read_text())
    notes = "\n".join(manifest["notes"])
    for interval, pct in (("Dark", "+762.8"), ("Light", "+892.7")):
        assert (f"hit_calls and sarl_lpr_stats disagree for dose 1 {interval}: SARL's "
                f"across-larvae AUC gives HYPER (AUC {pct} % vs control, a group total over "
                "156 larvae;") in notes
    said = manifest["parameters"]["conventions"]
    assert any("deliberately differs from the SARL (Tanguay lab) call" in c for c in said)

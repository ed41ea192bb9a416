"""Acceptance on the shared real data sets (skipped when ../shared/data is absent).

The expected numbers are the authors' own outputs (Dory NOR reference CSVs) or
were counted independently of neurotox (awk over the raw CSV for the T-maze
subset; PROVENANCE.md for the EthoVision zone times and the SimBA sequence).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neurotox.assays.rodent import landmarks
from neurotox.assays.rodent import pose as geo
from neurotox.assays.rodent.common import one_sample_results
from neurotox.assays.rodent.nor import nor_animals, nor_endpoints
from neurotox.assays.rodent.nor_inputs import assign_phases, collect, exploration_from_zone_samples
from neurotox.assays.rodent.params import NorParameters, TmazeParameters
from neurotox.assays.rodent.tmaze import alternation_table, discrete_table, trial_table
from neurotox.io.rodent import read_rodent
from neurotox.study import load_study

from .conftest import write_study


@pytest.fixture(scope="module")
def rodent(shared_data):
    return shared_data / "rodent"


# ------------------------------------------------------------------ Dory NOR (SimBA)

@pytest.fixture(scope="module")
def dory(rodent):
    d = rodent / "dory_rat_nor_simba"
    params = NorParameters(video_include="NOR")
    data = collect([d / "data_summary.csv", d / "ratID_key.csv", d / "videos_to_exclude.csv"],
                   params)
    animals = nor_animals(data["exploration"], data["key"], data["flags"], params)
    return d, params, animals


@pytest.mark.parametrize("phase,ref,a,b", [
    ("training", "reference_Dory_NOR_1.csv", "novel", "familiar"),  # P1: novel=Left, fam=Right
    ("test", "reference_Dory_NOR_2.csv", "novel", "familiar")])
def test_dory_per_animal_di_exact(dory, phase, ref, a, b):
    d, _, animals = dory
    expected = pd.read_csv(d / ref).set_index("RatID")
    got = animals[(animals["phase"] == phase) & ~animals["excluded"]].set_index("subject")
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    np.testing.assert_allclose(got["index"], expected["DI"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got["time_a_s"], expected[a])
    np.testing.assert_array_equal(got["time_b_s"], expected[b])
    np.testing.assert_allclose(got["total_s"], expected["exploration"], atol=1e-9)


def test_dory_exclusions(dory):
    _, _, animals = dory
    test = animals[animals["phase"] == "test"].set_index("subject")
    reasons = test.loc[test["excluded"], "exclusion_reason"].to_dict()
    assert reasons == {
        "rat01": "total test exploration 5.167 s < 10 s",
        "rat14": "technical flag: Rat sitting on object for very extended time",
        "rat18": "technical flag: Object toppled",
        "rat31": "total test exploration 4.125 s < 10 s"}
    assert (~test["excluded"]).sum() == 28
    training = animals[animals["phase"] == "training"]
    assert (~training["excluded"]).sum() == 27


def test_dory_group_means_and_one_sample_p(dory, tmp_path):
    d, params, animals = dory
    key = pd.read_csv(d / "ratID_key.csv")
    study = load_study(write_study(tmp_path, list(zip(key["RatID"], key["Treatment"], key["Sex"],
                                                      strict=True)),
                                   groups=("Control", "ASO")))
    table = nor_endpoints(animals, study, params)
    res = one_sample_results(table, endpoint="nor_discrimination_index", reference=0.0,
                             normality_alpha=0.05)
    ref = pd.read_csv(d / "reference_Dory_NOR_2.csv")
    by_st = res[res["sex"] != "all"].set_index(["sex", "group"])
    # abs 1e-10: an EndpointTable holds values to 10 significant digits (DI ~0.05)
    for (sex, group), di in ref.groupby(["Sex", "Treatment"])["DI"]:  # the authors' 'st' cells
        assert by_st.loc[(sex, group), "n"] == len(di)
        assert by_st.loc[(sex, group), "mean"] == pytest.approx(di.mean(), abs=1e-10)
        assert by_st.loc[(sex, group), "sd"] == pytest.approx(di.std(), abs=1e-10)
    res = res[res["sex"] == "all"].set_index("group")
    for group, mean, p in (("Control", 0.088, 0.33), ("ASO", 0.150, 0.063)):
        di = ref.loc[ref["Treatment"] == group, "DI"]
        assert res.loc[group, "n"] == len(di) == 14
        assert res.loc[group, "mean"] == pytest.approx(di.mean(), abs=1e-10)
        assert res.loc[group, "mean"] == pytest.approx(mean, abs=5e-4)
        assert res.loc[group, "p_ttest"] == pytest.approx(stats.ttest_1samp(di, 0).pvalue,
                                                          rel=1e-9)
        assert res.loc[group, "p_ttest"] == pytest.approx(p, abs=5e-3)
        assert res.loc[group, "test"] == "t-test"


# ------------------------------------------------------------------ Allen T-maze

@pytest.fixture(scope="module")
def allen(rodent):
    t = read_rodent(rodent / "allen_mouse_tmaze_rewarded_alternation" / "tmaze.csv").table
    p = TmazeParameters(mode="discrete", paradigm="rewarded")
    return discrete_table(trial_table(t, p), p).set_index(["subject", "condition"])


@pytest.mark.parametrize("subject,condition,correct,trials,right", [
    ("Mn4656", "CNO", 21, 30, 10),     # counted with awk over the raw CSV
    ("Mn7735", "Saline", 29, 50, 38),  # the mouse with the persistent right-turn bias
    ("Mn4672", "CNO", 29, 30, 16),
    ("Mn7712", "Saline", 37, 50, 20)])
def test_allen_percent_correct_hand_checked(allen, subject, condition, correct, trials, right):
    row = allen.loc[(subject, condition)]
    assert (row["correct"], row["trials"]) == (correct, trials)
    assert row["correct_pct"] == pytest.approx(100 * correct / trials)
    assert row["side_bias_pct"] == pytest.approx(100 * right / trials)


def test_allen_condition_means(allen):
    means = allen.groupby(level="condition")["correct_pct"].mean()
    assert means["Saline"] == pytest.approx(69.142857, abs=1e-5)
    assert means["CNO"] == pytest.approx(81.428571, abs=1e-5)
    wide = allen["correct_pct"].unstack()
    assert stats.ttest_rel(wide["CNO"], wide["Saline"]).pvalue == pytest.approx(0.025, abs=1e-3)
    assert len(allen) == 21 and allen["trials"].sum() == 1120


# ------------------------------------------------------------------ EthoVision NOR

@pytest.fixture(scope="module")
def ethovision(rodent):
    ev = rodent / "anderson_mouse_nor_ethovision_xlsx"
    return [read_rodent(ev / f"Raw_data-NORT_D3_20251003-Trial_{k}_(1).xlsx") for k in (1, 2)]


def test_ethovision_zone_times(ethovision):
    d = ethovision[1]
    assert (d.meta["subject"], d.meta["trial"]) == ("ID7687", "Trial 2")
    dt = d.meta["sample_interval_s"]
    assert dt == pytest.approx(0.033, abs=1e-6)
    t = d.table
    assert t["nose:round object left"].sum() * dt == pytest.approx(11.09, abs=0.01)
    assert t["nose:round object right"].sum() * dt == pytest.approx(15.05, abs=0.01)
    assert t["center:round object left"].sum() * dt == pytest.approx(3.99, abs=0.01)
    assert t["center:round object right"].sum() * dt == pytest.approx(8.25, abs=0.01)


def _animals(ethovision, params):
    parts = [(d, exploration_from_zone_samples(d, params)) for d in ethovision]
    explo = assign_phases(parts, [])
    key = pd.DataFrame({"subject": ["ID7687"], "novel": ["L"], "source": "assumed"})
    flags = pd.DataFrame(columns=["subject", "phase", "reason", "source"])
    return nor_animals(explo, key, flags, params).set_index("phase")


def test_ethovision_nor_phases(ethovision):
    # The novel side is not recorded in these exports: 'left' is assumed for the test.
    a = _animals(ethovision, NorParameters(exclude_climbing=False))
    assert a.loc["training", "time_a_s"] == pytest.approx(1.45, abs=0.01)
    assert a.loc["training", "time_b_s"] == pytest.approx(3.56, abs=0.01)
    assert a.loc["test", "time_a_s"] == pytest.approx(11.09, abs=0.01)
    assert a.loc["test", "time_b_s"] == pytest.approx(15.05, abs=0.01)
    t = ethovision[1].table
    first = t["time_s"][t["nose:round object left"] > 0].iloc[0] - t["time_s"].iloc[0]
    assert a.loc["test", "latency_a_s"] == pytest.approx(first)
    assert a.loc["test", "excluded"] is np.False_ or not a.loc["test", "excluded"]


def test_ethovision_climbing_samples_not_exploration(ethovision):
    a = _animals(ethovision, NorParameters())
    t, dt = ethovision[1].table, ethovision[1].meta["sample_interval_s"]
    for obj, col in (("left", "time_a_s"), ("right", "time_b_s")):
        nose = t[f"nose:round object {obj}"] > 0
        centre = t[f"center:round object {obj}"] > 0
        assert a.loc["test", col] == pytest.approx((nose & ~centre).sum() * dt)
    assert a.loc["test", "time_a_s"] < 11.0


# ------------------------------------------------------------------ DeepLabCut pairs

@pytest.mark.parametrize("folder,stem", [
    ("allen_mouse_openfield_dlc",
     "mn4673-01102019-1951_trial_57DLC_resnet50_OpenFieldDez1shuffle1_75000"),
    ("allen_mouse_openfield_dlc",
     "mn4673-02102019-1807_trial_64DLC_resnet50_OpenFieldDez1shuffle1_75000"),
    ("allen_mouse_openfield_dlc",
     "mn4673-02102019-1807_trial_65DLC_resnet50_OpenFieldDez1shuffle1_75000"),
    ("deeplabcut_openfield_example_labels", "CollectedData_Pranav")])
def test_dlc_csv_h5_pairs_identical(rodent, folder, stem):
    a = read_rodent(rodent / folder / f"{stem}.csv").poses
    b = read_rodent(rodent / folder / f"{stem}.h5").poses
    np.testing.assert_array_equal(a.position, b.position)
    np.testing.assert_array_equal(a.confidence, b.confidence)
    assert a.keypoints == b.keypoints and a.frame_labels == b.frame_labels
    if folder.startswith("allen"):
        assert a.position.shape[0] in (375, 405, 410)
        low = np.mean(a.score("tail") < 0.6)
        assert 0.33 <= low <= 0.51  # PROVENANCE: 34-51 % (rounded)
        clean = geo.clean_track(a.point("tail"), a.score("tail"), min_score=0.6, max_gap=0)
        assert np.isnan(clean[:, 0]).mean() == pytest.approx(low)
    else:
        assert a.keypoints == ["snout", "leftear", "rightear", "tailbase"]
        assert np.isnan(a.confidence).all() and a.position.shape[0] == 116


def test_dlcanalyzer_zones_from_tracked_corners(rodent):
    d = rodent / "ethz_dlcanalyzer_epm_dlc"
    poses = read_rodent(d / "EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv").poses
    zones = read_rodent(d / "EPM_zoneinfo.csv").meta["zones"]
    assert sorted(zones) == ["arena", "center", "closed.bottom", "closed.top", "open.left",
                             "open.right"]
    corners = {p: np.nanmedian(poses.point(p), axis=0) for z in zones.values() for p in z}
    shapes = {z: geo.Shape(name=z, kind="polygon", vertices=tuple(map(tuple, (corners[p]
                                                                           for p in pts))))
              for z, pts in zones.items()}
    body = poses.point("bodycentre")
    inside = {z: geo.edge_distance(body, s) <= 0 for z, s in shapes.items()}
    parts = sum(inside[z].astype(int) for z in zones if z != "arena")
    assert parts.max() <= 1                              # arms and centre do not overlap
    np.testing.assert_array_equal(parts == 1, inside["arena"])  # and tile the arena
    seq = geo.zone_sequence({z: inside[z] for z in zones if z != "arena"}, min_frames=5)
    assert len(seq) >= 2 and set(seq["arm"]) <= set(zones)


def test_real_maze_corners_do_not_move(rodent):
    # 38.5 s of the ETHZ EPM video: the 12 corners stay within 0.62 of their
    # threshold (br: 3.45 px from its usual place in one 2-s window, threshold 5.6 px)
    d = rodent / "ethz_dlcanalyzer_epm_dlc"
    poses = read_rodent(d / "EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv").poses
    corners = sorted({p for z in read_rodent(d / "EPM_zoneinfo.csv").meta["zones"].values()
                      for p in z})
    assert len(corners) == 12
    for px_per_cm in (1.0, 20.0):
        assert landmarks.track_moves(poses, corners, 0, fps=25, px_per_cm=px_per_cm,
                                     min_likelihood=0.6) == []
    static = landmarks.static_keypoints(poses, 0, "bodycentre", fps=25, min_likelihood=0.6,
                                        skip=set())
    assert set(static) <= set(corners) and len(static) == 10   # ctr, cbr: jitter 1.4-1.6 px


@pytest.mark.parametrize("trial", ["01102019-1951_trial_57", "02102019-1807_trial_64",
                                   "02102019-1807_trial_65"])
def test_real_open_field_tracks_only_the_mouse(rodent, trial):
    poses = read_rodent(rodent / "allen_mouse_openfield_dlc" /
                        f"mn4673-{trial}DLC_resnet50_OpenFieldDez1shuffle1_75000.csv").poses
    assert landmarks.static_keypoints(poses, 0, "tail", fps=30, min_likelihood=0.6,
                                      skip=set()) == []


# ------------------------------------------------------------------ SimBA alternation

def test_simba_sequence_recomputed(rodent):
    d = read_rodent(rodent / "simba_spontaneous_alternation_examples" /
                    "spontaneous_alternation_arm_entry_sequence.csv")
    row = alternation_table(d.table, TmazeParameters()).iloc[0]
    assert (row["entries"], row["alternations"], row["windows"]) == (31, 16, 29)
    assert row["alternation_pct"] == pytest.approx(55.172, abs=1e-3)
    assert (row["same_arm_returns"], row["alternate_arm_returns"]) == (2, 11)
    assert row["chance_pct"] == pytest.approx(100 * 2 / 9)


def test_dory_object_location_counts(rodent):
    """Same files, NPR (object location) videos: PROVENANCE counts n=31 / n=29, rat16 < 10 s."""
    d = rodent / "dory_rat_nor_simba"
    params = NorParameters(video_include="NPR")
    data = collect([d / "data_summary.csv", d / "ratID_key.csv", d / "videos_to_exclude.csv"],
                   params)
    a = nor_animals(data["exploration"], data["key"], data["flags"], params)
    kept = a[~a["excluded"]].groupby("phase").size()
    assert (kept["training"], kept["test"]) == (31, 29)
    low = a[a["exclusion_reason"].str.startswith("total test exploration")]
    assert low["subject"].tolist() == ["rat16"]


def test_ymaze_novel_arm_preference(rodent):
    """Two-trial Y-maze (C9orf72): PROVENANCE NPRtime means per genotype x age."""
    from neurotox.assays.rodent.tmaze import novel_arm_table

    d = rodent / "sboya_c9orf72_ymaze_novel_arm"
    bins = read_rodent(d / "C9ORF-BEHAV_Y-Maze_processed_data.csv").table
    per = novel_arm_table(bins, TmazeParameters(mode="novel_arm"))
    geno = pd.read_csv(d / "C9orf72GR400-genotype.csv").set_index("animal_name")["genotype"]
    per["genotype"] = per["subject"].map(geno.str.split(":").str[1])
    got = per.groupby(["genotype", "condition"])["time_ratio"].agg(["mean", "count"])
    for (g, age, mean, n) in (("Het", "age12.5wk", 0.624, 20), ("Het", "age64.5wk", 0.451, 20),
                              ("WT", "age12.5wk", 0.577, 21), ("WT", "age64.5wk", 0.617, 21)):
        assert got.loc[(g, age), "count"] == n
        assert got.loc[(g, age), "mean"] == pytest.approx(mean, abs=5e-4)


def test_dory_sex_by_treatment_anova(dory, tmp_path):
    from neurotox.assays.rodent.nor import sex_by_group

    d, params, animals = dory
    key = pd.read_csv(d / "ratID_key.csv")
    study = load_study(write_study(tmp_path, list(zip(key["RatID"], key["Treatment"], key["Sex"],
                                                      strict=True)),
                                   groups=("Control", "ASO")))
    res = sex_by_group(nor_endpoints(animals, study, params)).set_index("term")
    assert res.loc["residual", "df"] == 24  # 28 rats, 4 cells
    assert res.loc["group", "p_value"] == pytest.approx(0.7533, abs=1e-4)
    assert res.loc["sex", "p_value"] == pytest.approx(0.1238, abs=1e-4)

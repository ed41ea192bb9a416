"""Stimulus protocols: per-stimulus endpoints recover what the simulator planted.

The ``zebrafish-startle`` simulator writes a ZebraLab export with 0.1-s regular
periods and stimulus rows (8 vibrations and 8 light flashes), and plants for
every larva and presentation whether it responded, the latency and the response
distance (habituating by a factor per presentation, per group). Group G4 is all
dead: its calls say "not tested".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError as PydanticError

from neurotox.assays.base import resolve_parameters, run_study_assay
from neurotox.assays.zebrafish import ZebrafishParameters, analyse, load_exports
from neurotox.assays.zebrafish.stimuli import Stimulus, guess_type
from neurotox.errors import InputError
from neurotox.protocols import load_protocol
from neurotox.simulate import get_simulator
from neurotox.study import load_study


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("startle")
    truth = get_simulator("zebrafish-startle").write(folder, 11)
    study = load_study(folder / "study.yaml")
    return folder, truth, study, run_study_assay(study, study.spec.assays[0])


def _planted(truth: dict) -> pd.DataFrame:
    rows = [{"well": w, "stimulus": key.split("#")[0], "repeat": int(key.split("#")[1]),
             "responded": hit, "distance": amp, "latency_s": lat}
            for w, per in truth["presentations"].items() for key, (hit, amp, lat) in per.items()]
    return pd.DataFrame(rows)


def _values(result, endpoint: str, stimulus: str) -> pd.Series:
    e = result.endpoints
    sub = e[(e["endpoint"] == endpoint) & (e["timepoint"] == stimulus)]
    return sub.set_index(sub["subject"].str.split("-").str[-1])["value"]


def test_every_presentation_is_recovered_exactly(sim):
    _, truth, _, result = sim
    got = result.details["stimulus_responses"].merge(_planted(truth),
                                                     on=["well", "stimulus", "repeat"],
                                                     suffixes=("", "_planted"))
    assert len(got) == 32 * 16
    np.testing.assert_allclose(got["distance"], got["distance_planted"], atol=1e-9)
    assert (got["responded"].astype(bool) == got["responded_planted"]).all()
    hit = got["responded_planted"]
    np.testing.assert_allclose(got.loc[hit, "latency_s"],
                               got.loc[hit, "latency_s_planted"].astype(float), atol=1e-9)
    assert got.loc[~hit, "latency_s"].isna().all()


def test_per_larva_endpoints_match_the_planted_presentations(sim):
    _, truth, _, result = sim
    planted = _planted(truth)
    for stim in ("vibration", "light_flash"):
        p = planted[planted["stimulus"] == stim].sort_values(["well", "repeat"])
        d = p.pivot(index="well", columns="repeat", values="distance")
        rate = p.groupby("well")["responded"].mean() * 100
        slope = d.apply(lambda r: np.polyfit(np.arange(1, 9), r.to_numpy(), 1)[0], axis=1)
        ratio = (d[[6, 7, 8]].mean(axis=1) / d[[1, 2, 3]].mean(axis=1)).replace(np.inf, np.nan)
        for name, want in (("stimulus_response_rate", rate),
                           ("stimulus_distance", d.mean(axis=1)),
                           ("stimulus_habituation_slope", slope),
                           ("stimulus_habituation_ratio", ratio)):
            got = _values(result, name, stim)
            np.testing.assert_allclose(got[want.index], want, atol=1e-9, err_msg=name)
        lat = p[p["responded"]].groupby("well")["latency_s"].median()
        np.testing.assert_allclose(_values(result, "stimulus_latency", stim)[lat.index], lat,
                                   atol=1e-9)


def test_group_probability_latency_and_habituation_near_the_planted_values(sim):
    _, truth, _, result = sim
    for g, planted in truth["groups"].items():
        if g == truth["not_tested_group"]:
            continue
        e = result.endpoints
        sub = e[(e["group"] == g) & ~e["excluded"]]
        rate = sub[sub["endpoint"] == "stimulus_response_rate"]["value"].mean() / 100
        trials = 8 * 16   # 8 larvae × 16 presentations
        se = np.sqrt(planted["response_probability"] * (1 - planted["response_probability"])
                     / trials)
        assert abs(rate - planted["response_probability"]) < 4 * se, g
        lat = sub[sub["endpoint"] == "stimulus_latency"]["value"]
        assert np.allclose(lat, planted["latency_s"]), g
        resp = result.details["stimulus_responses"]
        hits = resp[(resp["group"] == g) & (resp["responded"] == 1)]
        mean_d = hits.groupby("repeat")["distance"].mean()   # responses only
        fitted = np.exp(np.polyfit(mean_d.index, np.log(mean_d.to_numpy()), 1)[0])
        assert abs(fitted - planted["habituation_factor"]) < 0.005, g


def test_a_group_without_larvae_is_not_tested(sim):
    _, truth, _, result = sim
    calls = result.details["stimulus_hit_calls"]
    g4 = calls[calls["group"] == truth["not_tested_group"]]
    assert len(g4) == 4 and (g4["call"] == "not tested").all() and (g4["n"] == 0).all()
    called = {(r.endpoint, r.timepoint, r.group): r.call for r in calls.itertuples() if r.call}
    # vibration: 36 % vs 95 % responding (KS p < 0.01, -62 %); the light-flash difference
    # (-44 %) stays below the 50 % of the Tanguay rule; G2 (no habituation) is no hit
    assert {k: v for k, v in called.items() if v != "not tested"} == {
        ("stimulus_distance", "vibration", "G3"): "HYPO",
        ("stimulus_response_rate", "vibration", "G3"): "HYPO"}


def test_export_rows_and_bins_give_the_same_window_distances(sim):
    folder, _, study, result = sim
    _, params = resolve_parameters("zebrafish-vibration-habituation", {
        **study.spec.assays[0].parameters, "response_window_s": None})
    exports = load_exports([folder / "zebralab_stimulus_P1.xls"], params)
    rows = analyse(exports, params, layouts=study.layouts,
                   groups={g.id: {"dose": g.dose, "dose_unit": g.dose_unit,
                                  "control": g.control} for g in study.groups.values()})
    a = rows.details["stimulus_responses"]
    b = result.details["stimulus_responses"]
    np.testing.assert_allclose(a["distance"], b["distance"], atol=1e-9)
    assert a["latency_s"].isna().all()   # one integration period per stimulus: no latency
    assert any("latency needs finer bins" in n for n in rows.notes)


def test_conventions_are_said_in_the_notes(sim):
    _, _, _, result = sim
    assert any(n.startswith("convention: Stimulus responses: a larva responded when it moved "
                            "more than 1 mm") for n in result.notes)
    assert len(result.conventions) == 4


def test_stimulus_schedule_validation():
    with pytest.raises(PydanticError, match="give onsets_s or start_s/every_s/count"):
        Stimulus(name="tap", type="tap", onsets_s=(1.0,), start_s=0, every_s=1, count=2)
    with pytest.raises(PydanticError, match="needs start_s, every_s and count"):
        Stimulus(name="tap", type="tap", start_s=0, every_s=1)
    with pytest.raises(PydanticError, match="increasing times"):
        Stimulus(name="tap", type="tap", onsets_s=(5.0, 1.0))
    np.testing.assert_allclose(Stimulus(name="v", type="vibration", start_s=10, every_s=20,
                                        count=3).scheduled(), [10, 30, 50])
    assert [guess_type(n) for n in ("Top light", "Vibration", "Sound", "Dark flash", "X")] == \
        ["light_flash", "vibration", "sound", "dark_flash", "other"]


def test_protocol_defaults_are_the_same_from_a_template_or_from_scratch():
    """A protocol written from scratch gets the default template's conventions."""
    scratch = ZebrafishParameters()
    for name in ("zebrafish-lpr-tanguay", "zebrafish-light-vibration-zebralab",
                 "zebrafish-vibration-habituation", "zebrafish-epr"):
        proto = load_protocol(name)
        _, params = resolve_parameters(name)
        for key in ("exclude_no_movement", "count_inactive_distance", "max_empty_fraction",
                    "max_missing_fraction"):
            assert getattr(params, key) == getattr(scratch, key), (name, key)
        assert proto.parameters.get("exclude_no_movement", False) is False


def test_stimulus_without_schedule_or_rows_is_an_error(tmp_path):
    get_simulator("zebrafish-lpr").write(tmp_path, 1)
    _, params = resolve_parameters("zebrafish-lpr-tanguay", {
        "stimuli": [{"name": "tap", "type": "tap"}], "exclude_no_movement": True})
    study = load_study(tmp_path / "study.yaml")
    with pytest.raises(InputError, match="stimulus 'tap' has no schedule"):
        analyse(load_exports([tmp_path / "zebralab_P1.xls"], params), params,
                layouts=study.layouts)


def test_stimulus_names_are_unique(tmp_path):
    get_simulator("zebrafish-lpr").write(tmp_path, 1)
    stim = {"name": "tap", "type": "tap", "onsets_s": [30.0]}
    _, params = resolve_parameters("zebrafish-lpr-tanguay", {"stimuli": [stim, stim]})
    study = load_study(tmp_path / "study.yaml")
    with pytest.raises(InputError, match=r"stimulus name\(s\) \['tap'\] appear twice"):
        analyse(load_exports([tmp_path / "zebralab_P1.xls"], params), params,
                layouts=study.layouts)


def test_protocol_times_on_an_export_without_stimulus_rows(tmp_path):
    """60-s bins, one 60-s window per tap from the schedule: distance = that bin's."""
    get_simulator("zebrafish-lpr").write(tmp_path, 1)
    _, params = resolve_parameters("zebrafish-lpr-tanguay", {
        "stimuli": [{"name": "tap", "type": "tap", "duration_s": 60, "onsets_s": [60, 120]}],
        "sarl_statistics": False})
    study = load_study(tmp_path / "study.yaml")
    r = analyse(load_exports([tmp_path / "zebralab_P1.xls"], params), params,
                layouts=study.layouts)
    resp = r.details["stimulus_responses"]
    bins = r.details["bins"].set_index(["subject", "bin"])["distance"]
    for rep, b in ((1, 1), (2, 2)):
        got = resp[resp["repeat"] == rep].set_index("subject")["distance"]
        np.testing.assert_allclose(got, bins.xs(b, level="bin")[got.index])
    assert resp["latency_s"].isna().all()
    assert any("stimulus onsets from the protocol's schedule: 2 × tap" in n for n in r.notes)
    assert any("latency not reported: the 60-s bins are wider" in n for n in r.notes)

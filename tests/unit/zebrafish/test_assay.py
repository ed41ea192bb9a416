"""The assay end to end on simulated data with planted truth; exclusions; parameters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.base import resolve_parameters, run_study_assay
from neurotox.assays.zebrafish import ZebrafishParameters, analyse
from neurotox.errors import InputError
from neurotox.io.zebrafish import Export
from neurotox.simulate import get_simulator
from neurotox.study import load_study


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zf")
    truth = get_simulator("zebrafish-lpr").write(folder, 7)
    study = load_study(folder / "study.yaml")
    return truth, run_study_assay(study, study.spec.assays[0])


def test_simulated_calls_match_planted_truth(sim):
    truth, result = sim
    calls = result.details["hit_calls"]
    got = {f"{r.endpoint}@{r.dose:g}": r.call for r in calls.itertuples() if r.call}
    assert got == truth["expected_calls"]


def test_simulated_exclusions_have_reasons(sim):
    truth, result = sim
    larvae = result.details["larvae"]
    ex = larvae[larvae["excluded"]].set_index("well")["exclusion_reason"]
    assert sorted(ex.index) == sorted(truth["excluded_wells"])
    assert ex["B02"] == "mortality: dead"
    assert ex["D11"] == "morphology: pericardial edema"
    assert ex["A12"].startswith("empty well (tracker: empty 100% of the time)")
    ept = result.endpoints
    assert (ept.loc[ept["excluded"], "exclusion_reason"] != "").all()
    assert set(ept["group"]) == {"G1", "G2", "G3", "G4"}
    assert set(ept.loc[ept["group"] == "G3", "dose"]) == {10.0}


def _light(seconds: float) -> list[dict]:
    """A one-phase schedule as long as a tiny test export (the default lasts 1440 s)."""
    return [{"name": "light1", "light": True, "duration_s": seconds}]


def test_group_viability_excludes_whole_group():
    v = np.ones(10)
    wells = [f"A{c:02d}" for c in range(1, 11)]
    rows = [pd.DataFrame({"plate": "P", "well": w, "animal": w, "bin": np.arange(10),
                          "start_s": np.arange(10) * 6.0, "end_s": np.arange(1, 11) * 6.0,
                          "distance": v}) for w in wells]
    ex = Export("t", "bins", pd.concat(rows, ignore_index=True), Path("t.xls"))
    lay = pd.DataFrame({"well": wells, "concentration": [0.0] * 5 + [5.0] * 5,
                        "blank": False, "mortality": [""] * 5 + ["dead", "dead", "", "", ""]})
    r = analyse([ex], ZebrafishParameters(viability_min=0.7, schedule=_light(60)),
                layouts={"P": lay})
    larvae = r.details["larvae"].set_index("well")
    assert larvae.loc["A08", "exclusion_reason"] == "group C5 viability 60% below 70%"
    assert larvae.loc["A06", "exclusion_reason"] == ("mortality: dead; group C5 viability "
                                                     "60% below 70%")
    assert larvae.loc["A01", "exclusion_reason"] == ""
    r = analyse([ex], ZebrafishParameters(viability_min=0.5, schedule=_light(60)),
                layouts={"P": lay})
    assert r.details["larvae"].set_index("well").loc["A08", "exclusion_reason"] == ""


def test_no_movement_and_missing_bins():
    d = {"A01": np.zeros(10), "A02": np.r_[np.ones(7), [np.nan] * 3], "A03": np.ones(10)}
    rows = [pd.DataFrame({"plate": "P", "well": w, "animal": w, "bin": np.arange(10),
                          "start_s": np.arange(10) * 6.0, "end_s": np.arange(1, 11) * 6.0,
                          "distance": v}) for w, v in d.items()]
    ex = Export("t", "bins", pd.concat(rows, ignore_index=True), Path("t.xls"))
    lay = pd.DataFrame({"well": list(d), "concentration": 0.0, "blank": False})
    r = analyse([ex], ZebrafishParameters(viability_min=0, schedule=_light(60)), layouts={"P": lay})
    assert r.details["larvae"].set_index("well").loc["A01", "exclusion_reason"] == ""  # default
    r = analyse([ex], ZebrafishParameters(viability_min=0, exclude_no_movement=True,
                                            schedule=_light(60)),
                layouts={"P": lay})
    reasons = r.details["larvae"].set_index("well")["exclusion_reason"]
    assert reasons["A01"] == "no movement over the whole recording"
    assert reasons["A02"] == "tracking error (30% of samples missing)"
    assert reasons["A03"] == ""


def test_protocols_load_and_typos_are_errors():
    for name in ("zebrafish-lpr-tanguay", "zebrafish-lightdark-epa", "zebrafish-epr"):
        proto, params = resolve_parameters(name)
        assert proto.assay == "zebrafish_lpr"
    _, p = resolve_parameters("zebrafish-lightdark-epa")
    assert [ph.name for ph in p.schedule] == ["acclimation", "light1", "dark1"]
    assert p.viability_min == 0.75 and p.viability_min_control == 0.85
    with pytest.raises(InputError, match="bin_sec"):
        resolve_parameters("zebrafish-lpr-tanguay", {"bin_sec": 6})


def test_missing_layout_is_a_clear_error():
    ex = Export("t", "bins", pd.DataFrame({"plate": ["P"], "well": ["A01"], "animal": ["A01"],
                                           "bin": [0], "start_s": [0.0], "end_s": [6.0],
                                           "distance": [1.0]}), Path("t.xls"))
    with pytest.raises(InputError, match="no plate layout: give --layout"):
        analyse([ex], ZebrafishParameters(schedule=_light(6)))


def test_truth_file_is_json(tmp_path):
    truth = get_simulator("zebrafish-lpr").write(tmp_path, 1)
    json.dumps(truth)
    assert (tmp_path / "zebralab_P1.xls").read_bytes()[:8] == b"location"


def _tracking_export(tmp_path):
    header = ["location", "animal", "an", "start", "end", "inact", "inadur", "inadist",
              "smlct", "smldur", "smldist", "larct", "lardur", "lardist", "emptyct",
              "emptydur"]
    lines = ["\t".join(header)]
    for k, well in enumerate(["A01", "A02"]):
        for b in range(4):  # two 60-s bins of light, two of dark
            lines.append("\t".join(map(str, [f"c{k + 1:02d}", well, 1, 60 * b, 60 * b + 60, 1,
                                             40.0, 0.1, 3, 15.0, 2.0, 1, 5.0, 8.0, 0, 0.0])))
    p = tmp_path / "plate.xls"
    p.write_text("\n".join(lines))
    return p


def test_activity_durations_and_bouts_from_zebralab(tmp_path):
    from neurotox.io.zebrafish import read_export

    ex = read_export(_tracking_export(tmp_path))
    lay = pd.DataFrame({"well": ["A01", "A02"], "concentration": [0.0, 1.0], "blank": False})
    params = ZebrafishParameters(schedule=[{"name": "light1", "light": True, "duration_s": 120},
                                           {"name": "dark1", "light": False,
                                            "duration_s": 120}])
    r = analyse([ex], params, layouts={"plate": lay})
    e = r.endpoints.set_index(["subject", "endpoint", "timepoint"])["value"]
    assert e[("plate-A01", "activity_duration", "light1")] == 40.0  # 2 x (15 + 5) s
    assert e[("plate-A01", "inactivity_duration", "dark1")] == 80.0
    assert e[("plate-A01", "movement_bouts", "dark1")] == 8.0
    assert e[("plate-A01", "distance_phase", "light1")] == 20.0  # 2 x (2 + 8) mm
    assert e[("plate-A01", "mean_velocity", "light1")] == pytest.approx(20 / 120)


def test_chemical_selection_keeps_own_plate_controls():
    rows, info = [], []
    for plate, wells in {"P1": [("A01", "X", 1.0), ("A02", "DMSO", 0.0), ("A03", "Y", 1.0)],
                         "P2": [("A01", "Y", 1.0), ("A02", "DMSO", 0.0)]}.items():
        for w, chem, c in wells:
            rows.append(pd.DataFrame({"plate": plate, "well": w, "animal": w, "bin": [0, 1],
                                      "start_s": [0.0, 6.0], "end_s": [6.0, 12.0],
                                      "distance": [1.0, 2.0]}))
            info.append({"plate": plate, "well": w, "concentration": c, "chemical": chem})
    ex = Export("t", "bins", pd.concat(rows, ignore_index=True), Path("t.xlsx"),
                wells=pd.DataFrame(info))
    r = analyse([ex], ZebrafishParameters(chemical="X", viability_min=0, schedule=_light(12)))
    assert sorted(r.details["larvae"]["subject"]) == ["P1-A01", "P1-A02"]
    with pytest.raises(InputError, match="chemical 'Z' is not in the exports"):
        analyse([ex], ZebrafishParameters(chemical="Z", schedule=_light(12)))


def test_epa_removals_become_documented_exclusions(tmp_path):
    import openpyxl

    from neurotox.io.zebrafish import read_export

    p = tmp_path / "epa.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Removed due to developmental issues", "Removed due to tracking issues/errors",
               "Plate #", "Link plates tested together", "Well", "Chemical",
               "Concentration (μM)", "0-2", "2-4", "4-6", "6-8"])
    for k in range(8):
        dev = "X" if k == 5 else None
        trk = "X" if k == 6 else None
        vals = [None] * 4 if dev else [1.0, 2.0, 0.5, 3.0]
        ws.append([dev, trk, "OP-1", "A", f"A{k + 1:02d}", "C", 0 if k < 4 else 10, *vals])
    wb.save(p)
    _, params = resolve_parameters("zebrafish-lightdark-epa", {
        "schedule": [{"name": "light1", "light": True, "duration_s": 240},
                     {"name": "dark1", "light": False, "duration_s": 240}],
        "viability_min": 0.5, "viability_min_control": 0.5})
    r = analyse([read_export(p)], params, study_id="EPA")
    reasons = r.details["larvae"].set_index("well")["exclusion_reason"]
    assert reasons["A06"].startswith("Removed due to developmental issues")
    assert reasons["A07"] == "Removed due to tracking issues/errors"
    assert (reasons.drop(["A06", "A07"]) == "").all()
    e = r.endpoints.set_index(["subject", "endpoint", "timepoint"])
    assert e.loc[("OP-1-A01", "distance_phase", "light1"), "value"] == 30.0  # cm -> mm
    assert e.loc[("OP-1-A07", "total_distance", "NA"), "excluded"]


def test_study_layout_concentration_must_be_the_group_dose(tmp_path):
    """stranger29 F27: with a study the dose is the group's; a layout saying otherwise fails."""
    get_simulator("zebrafish-lpr").write(tmp_path, 7)
    lay = tmp_path / "plate_layout.csv"
    lay.write_text(lay.read_text().replace(",G2,1.0,", ",G2,2.0,"))
    study = load_study(tmp_path / "study.yaml")
    with pytest.raises(InputError, match=r"plate_layout\.csv, row 5, column 'concentration': "
                                         r"group 'G2' has dose 1 uM in the study, found "
                                         r"concentration 2"):
        run_study_assay(study, study.spec.assays[0])

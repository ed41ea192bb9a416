import numpy as np
import pandas as pd
import pytest
from tests.unit.battery.conftest import run_one, value, write_study

from neurotox.assays.battery.ancova import ancova
from neurotox.errors import InputError

BW = {"assay": "brain_weight", "protocol": "brain-weight-standard", "input": "weights.csv"}


def test_ancova_recovers_planted_group_shift():
    rng = np.random.default_rng(1)
    x = rng.normal(300, 30, 40)
    groups = np.repeat(["G1", "G2", "G3", "G4"], 10)
    shift = pd.Series(groups).map({"G1": 0, "G2": 0, "G3": 0, "G4": -0.12}).to_numpy()
    y = 2.0 + 0.001 * (x - 300) + shift + rng.normal(0, 1e-4, 40)
    table, info = ancova(y, x, groups, ["G1", "G2", "G3", "G4"])
    assert info["slope"] == pytest.approx(0.001, rel=0.02)
    g4 = table.set_index("group").loc["G4"]
    assert g4["difference"] == pytest.approx(-0.12, abs=1e-3)
    assert g4["p_dunnett"] < 1e-6
    assert table.set_index("group").loc["G2", "p_value"] > 0.01


def test_ancova_adjusts_for_body_weight():
    # brain weight follows body weight only; G2 animals are heavier
    x = np.r_[np.linspace(250, 300, 8), np.linspace(300, 350, 8)]
    y = 1.5 + 0.002 * x + np.tile([0.001, -0.001], 8)
    table, info = ancova(y, x, ["G1"] * 8 + ["G2"] * 8, ["G1", "G2"])
    assert abs(table.loc[1, "difference"]) < 0.002 and table.loc[1, "p_value"] > 0.05
    raw = y[8:].mean() - y[:8].mean()
    assert raw == pytest.approx(0.1, abs=0.002)


def test_weights_relative_and_morphometry(tmp_path):
    text = ("Animal,Body weight,Brain weight,cortex_thickness,comments\n"
            "A1,300,2.1,2.5,\nA2,250,1.9,2.4,\nB1,280,2.0,,damaged section\nB2,240,,2.3,\n")
    res = run_one(write_study(tmp_path, assays=[BW], files={"weights.csv": text}))
    t = res.endpoints
    assert value(t, "brain_weight_relative", "A1")["value"] == pytest.approx(0.7)
    assert value(t, "brain_weight", "B2")["exclusion_reason"] == "brain weight not recorded"
    assert value(t, "morph_cortex_thickness", "B1")["excluded"]
    assert value(t, "morph_cortex_thickness", "A2")["value"] == 2.4
    assert set(t["category"]) == {"structural"}
    assert any("too few animals" in n for n in res.notes)


def test_unknown_column(tmp_path):
    text = "subject,body_weight,brain_weight,liver_weight\nA1,300,2.1,10\n"
    with pytest.raises(InputError, match="unknown column 'liver_weight'"):
        run_one(write_study(tmp_path, assays=[BW], files={"weights.csv": text}))

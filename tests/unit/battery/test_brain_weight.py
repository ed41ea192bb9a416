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


WEIGHTS = "subject,body_weight,brain_weight\nA1,300,2.1\nA2,250,1.9\nB1,280,2.0\nB2,{bw},{brain}\n"


@pytest.mark.parametrize("species, bw, brain, where, message", [
    # zero and negative weights are refused whatever the species (0 g used to enter ANCOVA)
    (None, "0", "2.0", "row 5, column 'body_weight'", r"expected a number > 0, found '0'"),
    ("rat", "240", "0", "row 5, column 'brain_weight'", r"expected a number > 0, found '0'"),
    (None, "240", "-2", "row 5, column 'brain_weight'", r"expected a number > 0"),
    # absurd magnitudes against the species' plausible range
    ("rat", "240", "99999", "row 5, column 'brain_weight'",
     r"brain weight 99999 g is outside the plausible range 0.1-3.5 g \(species 'rat'\)$"),
    # a unit slip is named: the brain in mg, the body in kg
    ("rat", "240", "2010", "row 5, column 'brain_weight'",
     r"brain weight 2010 g is outside the plausible range 0.1-3.5 g \(species 'rat'\); "
     r"written in mg\? \(2010 mg = 2.01 g\)$"),
    ("rat", "0.24", "2.0", "row 5, column 'body_weight'",
     r"body weight 0.24 g is outside the plausible range 2-1500 g \(species 'rat'\); "
     r"written in kg\? \(0.24 kg = 240 g\)$"),
    ("Rattus norvegicus", "240", "1e-300", "row 5, column 'brain_weight'",
     r"brain weight 1e-300 g is outside the plausible range 0.1-3.5 g"),
    # rat weights in a study of mice: the first animal is refused
    ("mouse", "240", "0.45", "row 2, column 'body_weight'",
     r"body weight 300 g is outside the plausible range 0.5-150 g \(species 'mouse'\)"),
    (None, "240", "1e-300", "row 5, column 'brain_weight'",
     r"brain weight 1e-300 g is outside the plausible range 0.01-1000 g \(any laboratory "
     r"animal\)"),
    # a comma in a number of a comma file is not a decimal comma
    (None, '"1,150"', "2.0", "row 5, column 'body_weight'", r"found '1,150' \(a comma"),
])
def test_implausible_weights_are_errors(tmp_path, species, bw, brain, where, message):
    extra = {} if species is None else {"species": species}
    study = write_study(tmp_path, assays=[BW],
                        files={"weights.csv": WEIGHTS.format(bw=bw, brain=brain)}, **extra)
    with pytest.raises(InputError, match=message) as err:
        run_one(study)
    assert err.value.path.endswith("weights.csv")
    assert err.value.where == where


def test_plausible_range_parameter_and_note(tmp_path):
    spec = {**BW, "parameters": {"body_weight_range_g": [100, 400]}}
    res = run_one(write_study(tmp_path, assays=[spec], species="rat",
                              files={"weights.csv": WEIGHTS.format(bw=240, brain=1.8)}))
    assert "plausible weights: body 100-400 g (parameter 'body_weight_range_g'), brain " \
           "0.1-3.5 g (species 'rat')" in res.notes
    assert value(res.endpoints, "brain_weight_relative", "B2")["value"] == \
        pytest.approx(100 * 1.8 / 240)


@pytest.mark.parametrize("bw, brain, reason", [
    ("", "1.8", "body weight not recorded"),
    ("240", "", "brain weight not recorded"),
    ("", "", "brain and body weight not recorded"),
])
def test_relative_weight_exclusion_names_what_is_missing(tmp_path, bw, brain, reason):
    res = run_one(write_study(tmp_path, assays=[BW],
                              files={"weights.csv": WEIGHTS.format(bw=bw, brain=brain)}))
    row = value(res.endpoints, "brain_weight_relative", "B2")
    assert row["excluded"] and row["exclusion_reason"] == reason


def test_weight_sheet_group_contradicting_the_subjects_file(tmp_path):
    text = "subject,group,sex,body_weight,brain_weight\nA1,G1,M,300,2.1\nB1,G1,M,280,2.0\n"
    with pytest.raises(InputError, match=r"weights.csv, row 3, column 'group': subject 'B1': "
                                         r"the sheet gives group 'G1', the subjects file says "
                                         r"'G2' \(High\)"):
        run_one(write_study(tmp_path, assays=[BW], files={"weights.csv": text}))


@pytest.mark.parametrize("body, brain, bw_a1, brain_a1", [
    ("Body weight (kg)", "Brain weight (g)", "0.3005", "2.10"),
    ("BW (kg)", "Brain weight [mg]", "0.3005", "2100"),
    ("body_weight_kg", "brain_weight_g", "0.3005", "2.10"),
    ("Body weight (g)", "Brain weight (g)", "300.5", "2.10"),
])
def test_weight_headers_with_their_unit_are_read_in_grams(tmp_path, body, brain, bw_a1,
                                                         brain_a1):
    text = (f"subject,{body},{brain}\nA1,{bw_a1},{brain_a1}\n"
            + ("B1,0.28,2.0\n" if "kg" in body else "B1,280,2.0\n").replace(
                ",2.0", ",2000" if "mg" in brain else ",2.0"))
    t = run_one(write_study(tmp_path, assays=[BW], files={"weights.csv": text})).endpoints
    assert value(t, "terminal_body_weight", "A1")["value"] == pytest.approx(300.5)
    assert value(t, "brain_weight", "A1")["value"] == pytest.approx(2.1)
    assert value(t, "brain_weight", "B1")["value"] == pytest.approx(2.0)
    assert value(t, "brain_weight_relative", "A1")["value"] == pytest.approx(100 * 2.1 / 300.5)


def test_a_weight_in_kg_is_noted_with_its_header_and_factor(tmp_path):
    from neurotox.files import NOTE_SINK

    notes: list[str] = []
    text = "subject,BW (kg),Brain weight [mg]\nA1,0.3005,2100\nB1,0.28,2000\n"
    token = NOTE_SINK.set(notes.append)
    try:
        t = run_one(write_study(tmp_path, assays=[BW], files={"weights.csv": text})).endpoints
    finally:
        NOTE_SINK.reset(token)
    assert value(t, "terminal_body_weight", "B1")["value"] == pytest.approx(280.0)
    assert value(t, "brain_weight", "B1")["value"] == pytest.approx(2.0)
    assert "weights.csv: column 'BW (kg)' converted to g (× 1000)" in notes
    assert "weights.csv: column 'Brain weight [mg]' converted to g (× 0.001)" in notes


@pytest.mark.parametrize("header, message", [
    # an unknown unit in brackets was left as a column of its own: 'expected organ weight
    # column(s) 'body_weight''; now named, as the CIPN readers name it
    ("Body weight (lb)", ", row 1: column 'Body weight (lb)': unit 'lb' is not one neurotox "
                         "reads for body weight; expected mg, g or kg"),
    # a second body weight was ignored without a word
    ("body_weight,BW (kg)", ": columns 'BW (kg)' and 'body_weight' both give 'body_weight'; "
                            "keep one"),
    # two headers with units: the first one's header is named (was 'body_weight')
    ("Body weight (g),BW (kg)", ": columns 'BW (kg)' and 'Body weight (g)' both give "
                                "'body_weight'; keep one")])
def test_a_weight_header_unit_that_cannot_be_read_is_refused(tmp_path, header, message):
    cells = ",300" if "," in header else ""
    text = f"subject,{header},brain_weight\nA1,0.3005{cells},2.1\nB1,0.28{cells},2.0\n"
    path = write_study(tmp_path, assays=[BW], files={"weights.csv": text})
    with pytest.raises(InputError) as err:
        run_one(path)
    assert str(err.value) == f"{path.parent / 'weights.csv'}{message}"

"""Ellman cholinesterase activity from kinetic reads, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from neurotox.assays.neurochem.cholinesterase import activity_u_per_ml, analyse, endpoint_for
from neurotox.assays.neurochem.params import CholinesteraseParameters
from neurotox.errors import InputError
from neurotox.study import load_study

PARAMS = CholinesteraseParameters(path_length_cm=0.6, well_volume_ul=200, sample_volume_ul=10)
# blank, then two wells each of R01..R04 cortex and R01 RBC; ΔA/min planted per well
SLOPES = {"A1": 0.002, "A2": 0.002, "B1": 0.052, "B2": 0.052, "C1": 0.062, "C2": 0.062,
          "D1": 0.032, "D2": 0.032, "E1": 0.022, "E2": 0.022, "F1": 0.027, "F2": 0.027}
MAP = {"A1": ("blank", "BLK", ""), "A2": ("blank", "BLK", ""), "B1": ("sample", "R01-ctx", 20),
       "B2": ("sample", "R01-ctx", 20), "C1": ("sample", "R02-ctx", 20),
       "C2": ("sample", "R02-ctx", 20), "D1": ("sample", "R03-ctx", 20),
       "D2": ("sample", "R03-ctx", 20), "E1": ("sample", "R04-ctx", 20),
       "E2": ("sample", "R04-ctx", 20), "F1": ("sample", "R01-rbc", 50),
       "F2": ("sample", "R01-rbc", 50)}


@pytest.fixture
def study(tmp_path):
    (tmp_path / "study.yaml").write_text(
        "study_id: CHE1\ntitle: t\ntest_item: OP\nsubjects: subjects.csv\ngroups:\n"
        "  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}\n"
        "  - {id: H, label: High, dose: 5, dose_unit: mg/kg}\n")
    (tmp_path / "subjects.csv").write_text("subject,group,sex\nR01,C,M\nR02,C,M\nR03,H,M\n"
                                           "R04,H,M\n")
    times = np.arange(0, 181, 30)
    lines = ["time_s," + ",".join(SLOPES)]
    lines += [f"{t}," + ",".join(f"{0.1 + s * t / 60:.5f}" for s in SLOPES.values())
              for t in times]
    (tmp_path / "kinetic.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "map.csv").write_text("well,type,sample,dilution\n" + "".join(
        f"{w},{t},{s},{d}\n" for w, (t, s, d) in MAP.items()))
    (tmp_path / "samples.csv").write_text(
        "sample,subject,matrix,timepoint,tissue_mg,homogenate_ml\n"
        + "".join(f"R0{i}-ctx,R0{i},cortex,week4,100,1.0\n" for i in range(1, 5))
        + "R01-rbc,R01,rbc,week4,,\n")
    return load_study(tmp_path / "study.yaml")


def test_activity_formula_by_hand():
    # 0.05 ΔA/min / (14150 M-1 cm-1 × 0.6 cm) × (200/10) × 20 × 1000 = 2.3557 U/mL
    assert activity_u_per_ml(0.05, PARAMS, 20) == pytest.approx(0.05 / 8490 * 20 * 20 * 1000)


def test_study_values_by_hand(study):
    files = [study.folder / f for f in ("kinetic.csv", "map.csv", "samples.csv")]
    res = analyse(study, files, PARAMS)
    t = res.endpoints.set_index(["endpoint", "subject"])
    per_g = {s: r / 8490 * 20 * 20 * 1000 * (1.0 / 0.1)
             for s, r in {"R01": 0.05, "R02": 0.06, "R03": 0.03, "R04": 0.02}.items()}
    for s, v in per_g.items():
        assert t.loc[("brain_che_activity", s), "value"] == pytest.approx(v, rel=1e-3)
        assert t.loc[("brain_che_activity", s), "timepoint"] == "cortex_week4"
        assert t.loc[("brain_che_activity", s), "unit"] == "U/g tissue"
    assert t.loc[("rbc_che_activity", "R01"), "value"] == pytest.approx(
        0.025 / 8490 * 20 * 50 * 1000, rel=1e-3)
    control = (per_g["R01"] + per_g["R02"]) / 2
    assert t.loc[("brain_che_percent_control", "R03"), "value"] == pytest.approx(
        100 * per_g["R03"] / control, rel=1e-3)
    assert t.loc[("brain_che_percent_control", "R01"), "value"] == pytest.approx(
        100 * per_g["R01"] / control, rel=1e-3)
    wells = res.details["cholinesterase_wells"]
    assert set(wells["well"]) == {f"{w[0]}{int(w[1:]):02d}" for w in SLOPES}


def test_protein_normalisation_needs_protein(study):
    files = [study.folder / f for f in ("kinetic.csv", "map.csv", "samples.csv")]
    res = analyse(study, files, PARAMS.model_copy(update={"normalisation": "protein"}))
    row = res.endpoints.set_index(["endpoint", "subject"]).loc[
        ("brain_che_activity_per_protein", "R01")]
    assert row["excluded"] and row["exclusion_reason"] == \
        "protein concentration missing in the sample sheet"


def test_two_samples_of_one_subject_name_the_sample_sheet(study):
    # a re-assayed sample (or a typo) mapped two samples to R01 cortex: the message named
    # no file and an EndpointTable row the user never wrote (stranger's trial F5)
    sheet = study.folder / "samples.csv"
    sheet.write_text(sheet.read_text().replace("R02-ctx,R02,", "R02-ctx,R01,"))
    files = [study.folder / f for f in ("kinetic.csv", "map.csv", "samples.csv")]
    with pytest.raises(InputError, match=r"samples\.csv: samples 'R01-ctx', 'R02-ctx' all map "
                                         r"to subject 'R01' \(brain_che_activity, time point "
                                         r"'cortex_week4'\); give each subject one sample"):
        analyse(study, files, PARAMS)


def test_kinetic_table_without_a_plate_map(study):
    with pytest.raises(InputError, match="give a plate map"):
        analyse(study, [study.folder / "kinetic.csv", study.folder / "samples.csv"], PARAMS)


@pytest.mark.parametrize("matrix, norm, endpoint", [
    ("rbc", "tissue", "rbc_che_activity"), ("erythrocytes", "tissue", "rbc_che_activity"),
    ("plasma", "tissue", "plasma_che_activity"), ("whole_blood", "none", "blood_che_activity"),
    ("hippocampus", "tissue", "brain_che_activity"),
    ("cortex", "protein", "brain_che_activity_per_protein")])
def test_endpoint_for_matrix(matrix, norm, endpoint):
    assert endpoint_for(matrix, norm) == endpoint


def _files(study):
    return [study.folder / f for f in ("kinetic.csv", "map.csv", "samples.csv")]


def _per_g(rate):
    return rate / 8490 * 20 * 20 * 1000 * (1.0 / 0.1)


def test_well_missing_from_the_map_is_noted_and_the_other_replicate_used(study):
    m = study.folder / "map.csv"
    m.write_text(m.read_text().replace("C1,sample,R02-ctx,20\n", ""))
    res = analyse(study, _files(study), PARAMS)
    assert "kinetic.csv, plate kinetic: 1 read well(s) not in the layout or plate map, left " \
           "out: 'C01'" in res.notes
    t = res.endpoints.set_index(["endpoint", "subject"])
    assert t.loc[("brain_che_activity", "R02"), "value"] == pytest.approx(_per_g(0.06), rel=1e-3)


@pytest.mark.parametrize("bad", ["NaN", "***", ""])
def test_a_read_that_is_not_a_number_is_noted_with_its_well_and_time(study, bad):
    k = study.folder / "kinetic.csv"
    lines = k.read_text().splitlines()
    cells = lines[3].split(",")                   # the 60 s read of B1
    cells[3] = bad
    lines[3] = ",".join(cells)
    k.write_text("\n".join(lines) + "\n")
    res = analyse(study, _files(study), PARAMS)
    assert "kinetic.csv, plate kinetic, well B01: 1 of 7 read(s) not a number (NaN, ***) at " \
           "60 s; left out of the well's rate" in res.notes
    t = res.endpoints.set_index(["endpoint", "subject"])      # linear reads: rate unchanged
    assert t.loc[("brain_che_activity", "R01"), "value"] == pytest.approx(_per_g(0.05), rel=1e-3)


def _minutes_in(study, header: str) -> None:
    k = study.folder / "kinetic.csv"           # 30-s reads written in minutes
    lines = k.read_text().splitlines()
    lines = [header + lines[0][len("time_s"):]] + [
        f"{float(ln.split(',')[0]) / 60:g}," + ln.split(",", 1)[1] for ln in lines[1:]]
    k.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("header", ["time", "Time"])
def test_a_bare_time_column_in_minutes_is_refused_naming_it(study, header):
    # 1-min reads written 0, 1, 2 … under 'time' gave every activity 60x (stranger47 #3)
    _minutes_in(study, header)
    with pytest.raises(InputError, match=rf"kinetic.csv: column '{header}' names no time unit "
                       r"and its reads are 0.5 apart \(median\): minutes\? \(Ellman reads are "
                       r"10 s – 2 min apart; read as seconds every rate would be 60× too high\); "
                       r"name it 'time \(min\)' or 'time \(s\)'"):
        analyse(study, _files(study), PARAMS)


def test_a_bare_time_column_of_seconds_is_read_and_noted(study):
    k = study.folder / "kinetic.csv"
    k.write_text(k.read_text().replace("time_s,", "time,", 1))
    res = analyse(study, _files(study), PARAMS)
    assert "kinetic.csv: kinetic table, column 'time' names no time unit; its reads 30 apart " \
           "(median) taken as seconds (as minutes they would be beyond the 10 s – 2 min of " \
           "Ellman reads)" in res.notes
    t = res.endpoints.set_index(["endpoint", "subject"])
    assert t.loc[("brain_che_activity", "R01"), "value"] == pytest.approx(_per_g(0.05), rel=1e-3)


def test_unit_slips_are_warnings_naming_file_and_column(study):
    _minutes_in(study, "time_s")               # minutes in a column that says seconds
    s = study.folder / "samples.csv"
    s.write_text(s.read_text().replace("R03-ctx,R03,cortex,week4,100,", "R03-ctx,R03,cortex,"
                                       "week4,0.1,"))
    notes = analyse(study, _files(study), PARAMS).notes
    assert "warning: kinetic.csv, column 'time_s': reads are 0.5 s apart (median), under 3 s, " \
           "which no plate reader does: minutes in a column read as seconds? Name it 'time " \
           "(min)' (rates would be 60× too high)" in notes
    assert "warning: sample sheet samples.csv row 4, column 'tissue_mg': 0.1 mg for sample " \
           "'R03-ctx' is under 1 mg: a weight in g? (read as mg; per-g values would be 1000× " \
           "too high)" in notes


def test_replicate_rates_averaging_to_zero_have_no_cv(study):
    k = study.folder / "kinetic.csv"
    lines = k.read_text().splitlines()
    head = lines[0].split(",")
    e1, e2 = head.index("E1"), head.index("E2")
    for n, t in enumerate(range(0, 181, 30), start=1):   # R04: 0.000 and 0.004 ΔA/min
        cells = lines[n].split(",")
        cells[e1], cells[e2] = "0.1", f"{0.1 + 0.004 * t / 60:.5f}"
        lines[n] = ",".join(cells)
    k.write_text("\n".join(lines) + "\n")
    res = analyse(study, _files(study), PARAMS)
    smp = res.details["cholinesterase_samples"].set_index("sample")
    assert smp.loc["R04-ctx", "rate"] == 0 and np.isnan(smp.loc["R04-ctx", "cv"])
    assert smp.loc["R04-ctx", "sd"] == pytest.approx(0.004 / np.sqrt(2), rel=1e-6)
    assert "plate kinetic, sample R04-ctx: replicate CV undefined (mean rate 0, SD 0.00283)" \
        in res.notes


def _kinetic(path, slopes: dict[str, float]) -> None:
    path.parent.mkdir(exist_ok=True)
    lines = ["time_s," + ",".join(slopes)]
    lines += [f"{t}," + ",".join(f"{0.1 + s * t / 60:.5f}" for s in slopes.values())
              for t in np.arange(0, 181, 30)]
    path.write_text("\n".join(lines) + "\n")


def _same_named_plates(study) -> list:
    """a/kinetic.csv: cortex R01-R04; b/kinetic.csv: RBC R01 with its own, higher blank."""
    d = study.folder
    _kinetic(d / "a" / "kinetic.csv", {w: SLOPES[w] for w in SLOPES if w[0] in "ABCDE"})
    _kinetic(d / "b" / "kinetic.csv", {"A1": 0.012, "A2": 0.012, "F1": 0.037, "F2": 0.037})
    return [d / "a" / "kinetic.csv", d / "b" / "kinetic.csv", d / "map.csv", d / "samples.csv"]


def test_same_named_kinetic_files_stay_two_plates(study):
    # stranger53 D2: both files were plate 'kinetic', the blanks of both plates averaged
    # into one blank rate and the wells of both read as one plate; each plate keeps its
    # own blank now and the source tells the files apart
    res = analyse(study, _same_named_plates(study), PARAMS)
    t = res.endpoints.set_index(["endpoint", "subject"])
    for s, rate in {"R01": 0.05, "R02": 0.06, "R03": 0.03, "R04": 0.02}.items():
        row = t.loc[("brain_che_activity", s)]
        assert row["value"] == pytest.approx(_per_g(rate), rel=1e-3)
        assert row["source"].startswith("a/kinetic.csv plate kinetic sample ")
    rbc = t.loc[("rbc_che_activity", "R01")]
    assert rbc["value"] == pytest.approx(0.025 / 8490 * 20 * 50 * 1000, rel=1e-3)
    assert rbc["source"].startswith("b/kinetic.csv plate b/kinetic sample R01-rbc ")
    wells = res.details["cholinesterase_wells"]
    assert sorted(set(zip(wells["plate"], wells["source"], strict=True))) == [
        ("b/kinetic", "b/kinetic.csv"), ("kinetic", "a/kinetic.csv")]


def test_a_plate_map_naming_a_shared_plate_id_is_refused(study):
    files = _same_named_plates(study)
    m = study.folder / "map.csv"
    m.write_text("plate," + m.read_text().replace("\n", "\nkinetic,").removesuffix("kinetic,"))
    with pytest.raises(InputError, match=r"b/kinetic\.csv: plate 'kinetic' is given by 2 files, "
                                         r"'a/kinetic\.csv', 'b/kinetic\.csv', and the plate "
                                         r"map names it \(map\.csv row 2\): it cannot tell "
                                         r"which file it describes"):
        analyse(study, files, PARAMS)

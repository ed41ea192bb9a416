"""``neurotox neurochem`` and neurochemistry in study reports, end to end on small fixtures."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "neurochem"
STUDY = """\
study_id: NC-2
title: Neurochemistry end to end
test_item: X
groups:
  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}
  - {id: H, label: High, dose: 5, dose_unit: mg/kg}
subjects: subjects.csv
"""


@pytest.fixture
def study(tmp_path):
    for name in ("xponent_small.csv", "plate_table_small.csv", "gen5_kinetic_small.txt"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "study.yaml").write_text(STUDY)
    (tmp_path / "subjects.csv").write_text("subject,group,sex\nR01,C,M\nR02,C,M\nR03,H,M\n")
    (tmp_path / "serum.csv").write_text("sample,subject,matrix,timepoint\nR01,R01,serum,day7\n"
                                        "R02,R02,serum,day7\nR03,R03,serum,day7\n")
    (tmp_path / "ctx.csv").write_text(
        "sample,subject,matrix,protein_mg_ml,tissue_mg,homogenate_ml\n"
        "R01-CTX,R01,cortex,2.0,100,1\nR02-CTX,R02,cortex,2.5,100,1\n"
        "SPL1,R01,cortex,,100,1\nSPL2,R02,cortex,,100,1\nSPL3,R03,cortex,,100,1\n")
    return tmp_path


def test_multiplex_export_to_censored_endpoints(invoke, study):
    out = study / "out"
    r = invoke("neurochem", study / "xponent_small.csv", study / "serum.csv", "--study",
               study / "study.yaml", "--param", "min_standard_levels=5", "-o", out)
    assert r.exit_code == 0, r.output
    assert "3 subjects, 6 endpoint values (4 censored, 0 excluded)" in r.output
    ep = pd.read_csv(out / "endpoints.csv", keep_default_na=False).set_index(
        ["endpoint", "subject"])
    assert ep.loc[("il6", "R01"), "value"] == pytest.approx(60.0, rel=1e-6)   # 30 × 1:2
    assert ep.loc[("il6", "R01"), ["censoring", "timepoint", "unit"]].tolist() == \
        ["none", "serum_day7", "pg/mL"]
    assert ep.loc[("il6", "R02"), ["censoring", "value"]].tolist() == ["left", 3.90625 * 2]
    assert ep.loc[("il6", "R03"), ["censoring", "value"]].tolist() == ["right", 1000.0]
    assert ep.loc[("cxcl10", "R03"), ["censoring", "value"]].tolist() == ["left", 7.8125]
    assert ep.loc[("cxcl10", "R01"), "value"] == pytest.approx(800.0, rel=1e-6)
    curves = pd.read_csv(out / "neurochem_curves.csv")
    assert curves["accepted"].all() and (curves["controls_passing"] == 1).all()
    assert sorted(p.name for p in (out / "figures").glob("*.png")) == [
        "standard-curve-fixture-plate-il6.png", "standard-curve-fixture-plate-ip10.png"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("15625 → 15.625" in n for n in manifest["notes"])
    assert invoke("verify", out).exit_code == 0


def test_failing_plate_excludes_its_values_with_the_reason(invoke, study):
    r = invoke("neurochem", study / "xponent_small.csv", study / "serum.csv", "--study",
               study / "study.yaml", "--no-figures", "-o", study / "out")
    assert r.exit_code == 0, r.output
    ep = pd.read_csv(study / "out" / "endpoints.csv", keep_default_na=False)
    assert ep["excluded"].all()
    assert ep["exclusion_reason"].str.contains("rejected for IL6: 5 of 5 standard levels pass "
                                               r"\(need 75% and at least 6\)").any()


def test_elisa_plate_table_normalised_per_mg_protein(invoke, study):
    r = invoke("neurochem", study / "plate_table_small.csv", study / "ctx.csv", "--study",
               study / "study.yaml", "--protocol", "elisa-4pl", "--param", "analyte=gfap",
               "--param", "min_standard_levels=4", "--no-figures", "-o", study / "out")
    assert r.exit_code == 0, r.output
    ep = pd.read_csv(study / "out" / "endpoints.csv", keep_default_na=False).set_index("subject")
    assert set(ep["endpoint"]) == {"gfap_per_protein"}
    assert ep.loc["R01", ["unit", "censoring"]].tolist() == ["pg/mg protein", "none"]
    samples = pd.read_csv(study / "out" / "neurochem_samples.csv").set_index("sample")
    assert ep.loc["R01", "value"] == pytest.approx(samples.loc["R01-CTX", "value"] / 2.0)
    lloq = pd.read_csv(study / "out" / "neurochem_curves.csv")["lloq"].iloc[0]
    assert ep.loc["R02", ["censoring", "value"]].tolist() == ["left",
                                                              pytest.approx(lloq * 10 / 2.5)]


def test_plate_table_in_ng_per_ml_gives_the_same_values_as_in_pg_per_ml(invoke, study):
    """A stated unit (a ``unit`` column) converts; it is not taken as pg/mL (1000x low)."""
    lines = (study / "plate_table_small.csv").read_text().splitlines()
    cols = lines[0].split(",")
    k = cols.index("expected")
    ng = [lines[0] + ",unit"]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[k]:
            cells[k] = f"{float(cells[k]) / 1000:g}"
        ng.append(",".join(cells) + ",ng/mL")
    (study / "ng.csv").write_text("\n".join(ng) + "\n")
    values = []
    for table in ("plate_table_small.csv", "ng.csv"):
        out = study / f"out-{table}"
        r = invoke("-q", "neurochem", study / table, study / "ctx.csv", "--study",
                   study / "study.yaml", "--protocol", "elisa-4pl", "--param", "analyte=gfap",
                   "--param", "min_standard_levels=4", "--no-figures", "-o", out)
        assert r.exit_code == 0, r.output
        ep = pd.read_csv(out / "endpoints.csv").set_index("subject").sort_index()
        values.append(ep["value"].to_numpy())
    assert values[1] == pytest.approx(values[0], rel=1e-6)
    assert values[0][0] > 100       # pg/mg protein, not ng: the R01 value of the plain table


@pytest.mark.parametrize("written", ["{} 1:10", "{}_x10", "{} (1/10)", "{} 10x"])
def test_a_dilution_written_only_in_the_sample_id_is_read_and_noted(invoke, study, written):
    """'R01-CTX 1:10' and no dilution column: 1:10, not 1:1 (values 10x low; stranger47 #5)."""
    lines = (study / "plate_table_small.csv").read_text().splitlines()
    named = [lines[0]]
    for line in lines[1:]:
        well, kind, sample, expected, dilution, od = line.split(",")
        if kind == "sample":
            sample, dilution = written.format(sample), ""
        named.append(",".join((well, kind, sample, expected, dilution, od)))
    (study / "named.csv").write_text("\n".join(named) + "\n")
    values = []
    for table in ("plate_table_small.csv", "named.csv"):
        out = study / f"out-{table}"
        r = invoke("-q", "neurochem", study / table, study / "ctx.csv", "--study",
                   study / "study.yaml", "--protocol", "elisa-4pl", "--param", "analyte=gfap",
                   "--param", "min_standard_levels=4", "--no-figures", "-o", out)
        assert r.exit_code == 0, r.output
        ep = pd.read_csv(out / "endpoints.csv").set_index("subject").sort_index()
        values.append(ep["value"].to_numpy())
    assert values[1] == pytest.approx(values[0], rel=1e-9)
    notes = json.loads((study / "out-named.csv" / "manifest.json").read_text())["notes"]
    first = written.format("R01-CTX")
    assert (f"named.csv: no dilution column or value; the dilution written in 2 sample ID(s) "
            f"is read: {first!r} 1:10, {written.format('R02-CTX')!r} 1:10 (a sample-sheet "
            "dilution overrides)") in notes


def test_sample_sheet_notes_unmeasured_rows_and_samples_without_matrix(invoke, study):
    """F14: no silent assumptions: a sheet row no export measured, a sample with no matrix."""
    (study / "nomatrix.csv").write_text("sample,subject,protein_mg_ml\nR01-CTX,R01,2.0\n"
                                        "R02-CTX,R02,2.5\nR99-CTX,R03,2.0\n")
    r = invoke("-q", "neurochem", study / "plate_table_small.csv", study / "nomatrix.csv",
               "--study", study / "study.yaml", "--protocol", "elisa-4pl", "--param",
               "analyte=gfap", "--param", "min_standard_levels=4", "--no-figures",
               "-o", study / "out")
    assert r.exit_code == 0, r.output
    notes = json.loads((study / "out" / "manifest.json").read_text())["notes"]
    assert "sample sheet nomatrix.csv: 1 sample(s) listed but measured in no export: " \
        "'R99-CTX'" in notes
    assert "2 sample(s) have no matrix (the sample sheet nomatrix.csv) and are taken as body " \
        "fluids, per mL and not normalised per protein: 'R01-CTX', 'R02-CTX'" in notes
    ep = pd.read_csv(study / "out" / "endpoints.csv", keep_default_na=False)
    assert set(ep["endpoint"]) == {"gfap"} and set(ep["unit"]) == {"pg/mL"}
    (study / "typo.csv").write_text((study / "ctx.csv").read_text().replace("matrix",
                                                                            "matirx", 1))
    r = invoke("neurochem", study / "plate_table_small.csv", study / "typo.csv", "--study",
               study / "study.yaml", "--protocol", "elisa-4pl", "-o", study / "out2")
    assert r.exit_code == 2 and not (study / "out2").exists()
    assert r.output.startswith(f"Error: {study / 'typo.csv'}, column 'matirx': sample sheet: "
                               "unknown column 'matirx' (did you mean 'matrix'?)")


def test_cholinesterase_from_gen5_kinetic_reads(invoke, study):
    r = invoke("neurochem", study / "gen5_kinetic_small.txt", study / "ctx.csv", "--study",
               study / "study.yaml", "--protocol", "cholinesterase-ellman", "-o", study / "out")
    assert r.exit_code == 0, r.output
    ep = pd.read_csv(study / "out" / "endpoints.csv", keep_default_na=False).set_index(
        ["endpoint", "subject"])
    # SPL1: (0.051 - 0.002) ΔA/min / (14150 × 1 cm) × 200/10 µL × 1:20 × 1000 × 1 mL / 0.1 g
    assert ep.loc[("brain_che_activity", "R01"), "value"] == pytest.approx(
        0.049 / 14150 * 20 * 20 * 1000 * 10, rel=5e-3)
    assert ep.loc[("brain_che_percent_control", "R03"), "value"] == pytest.approx(
        100 * 0.008 * 50 / ((0.049 + 0.0235) / 2 * 20), rel=1e-2)


def test_plate_grid_of_another_reader_with_a_plate_map(invoke, study):
    for name in ("plate_grid_small.txt", "plate_map_expected.csv"):
        shutil.copy(DATA / name, study / name)
    (study / "subjects.csv").write_text("subject,group,sex\n" + "".join(
        f"R{i:02d},{'C' if i <= 20 else 'H'},F\n" for i in range(1, 41)))
    r = invoke("--quiet", "neurochem", study / "plate_grid_small.txt",
               study / "plate_map_expected.csv", "--study", study / "study.yaml",
               "--protocol", "elisa-4pl", "--param", "analyte=gfap", "--param",
               "samples={matrix: csf}", "--no-figures", "-o", study / "out")
    assert r.exit_code == 0, r.output
    ep = pd.read_csv(study / "out" / "endpoints.csv").set_index("subject")
    # planted in the fixture: R01 300 pg/mL, +40 pg/mL per sample, 2 % read noise
    assert ep.loc["R01", "value"] == pytest.approx(300, rel=0.05)
    assert ep.loc["R40", "value"] == pytest.approx(300 + 40 * 39, rel=0.05)
    assert set(ep["timepoint"]) == {"csf"}
    r = invoke("neurochem", study / "plate_grid_small.txt", "--study", study / "study.yaml",
               "--protocol", "elisa-4pl", "--param", "analyte=gfap", "-o", study / "out2")
    assert r.exit_code == 2 and "give a plate map" in r.output


def test_param_that_is_not_yaml_is_a_usage_error(invoke, study):
    r = invoke("neurochem", study / "xponent_small.csv", "--study", study / "study.yaml",
               "--param", 'samples={pattern: "\\d"}', "-o", study / "out")
    assert r.exit_code == 2
    assert "--param samples" in r.output and "invalid YAML" in r.output
    assert not (study / "out").exists()


def _add_neurochem_assay(study):
    """The study's neurochemistry assay entry: the xPONENT fixture and its sample sheet."""
    with open(study / "study.yaml", "a") as f:
        f.write("assays:\n  - assay: neurochem\n    protocol: multiplex-cytokines\n"
                "    input: [xponent_small.csv, serum.csv]\n"
                "    parameters: {min_standard_levels: 5}\n")


def test_study_report_has_qc_table_curves_and_censoring_method(invoke, study):
    _add_neurochem_assay(study)
    out = study / "rep"
    r = invoke("--quiet", "report", study / "study.yaml", "-o", out, "--format", "html,csv")
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Neurochemistry assay QC" in html
    assert html.count("Standard curve of ") >= 2
    assert "left-censored" in html and "substitution policy" in html
    assert (out / "figures" / "standard-curve-fixture-plate-il6.svg").is_file()
    assert (out / "details" / "neurochem" / "neurochem_curves.csv").is_file()


def test_a_repaired_standard_is_a_warning_and_a_deviation_with_its_count(invoke, study):
    # xponent_small.csv: IL6 Standard4 printed 15625 in a 2-fold series (15.625)
    _add_neurochem_assay(study)
    out = study / "rep"
    r = invoke("report", study / "study.yaml", "-o", out, "--format", "html,csv")
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "WARNING" in said and "raw values changed: 1 expected concentration(s)" in said
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["deviations"] == [
        "NC-2: neurochem: xponent_small.csv: raw values changed: 1 expected concentration(s) of "
        "standards whose decimal point or thousands separator was lost, repaired from the "
        "constant-fold dilution series: IL6 Standard4 15625 → 15.625"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "raw values changed: 1 expected concentration(s)" in html
    strict = invoke("--warnings-as-errors", "report", study / "study.yaml", "-o", study / "r2")
    assert strict.exit_code == 2 and not (study / "r2").exists()
    assert "an error under --warnings-as-errors" in strict.output


@pytest.mark.parametrize("param, match", [
    ("analytes={IL6: cxcl10}", r"analytes 'IL6' and 'IP10' of the export both map to 'cxcl10' "
                               r"\(CXCL10 \(IP-10\)\), 'IL6' through parameter 'analytes'"),
    ("ignore_analytes=[IL66]", r"parameter 'ignore_analytes': expected each name of "
                               r"'ignore_analytes' to be an analyte of the exports, found 'IL66' "
                               r"\(did you mean 'IL6'\?\); the exports' analytes: 'IL6', 'IP10'"),
    # stranger39 G: a key written in another case gets the export's spelling as a hint
    ("analytes={il6: il6}", r"parameter 'analytes': expected each name of 'analytes' to be an "
                            r"analyte of the exports, found 'il6' \(did you mean 'IL6'\?\)"),
    # stranger39 G: every analyte ignored is said so, not "no sample maps to a subject"
    ("ignore_analytes=[IL6, IP10]", r"^Error: parameter 'ignore_analytes': every analyte of "
                                    r"the exports \('IL6', 'IP10'\) is left out by the "
                                    r"parameter 'ignore_analytes': nothing to analyse; ignore "
                                    r"fewer$"),
])
def test_analyte_parameters_that_would_swap_or_miss_an_analyte(invoke, study, param, match):
    r = invoke("neurochem", study / "xponent_small.csv", study / "serum.csv", "--study",
               study / "study.yaml", "--param", param, "-o", study / "out")
    assert r.exit_code == 2, r.output
    assert re.search(match, " ".join(r.output.split())), r.output


def test_unit_parameter_beside_the_exports_units_warns_and_the_export_wins(invoke, study):
    out = study / "out"
    r = invoke("neurochem", study / "xponent_small.csv", study / "serum.csv", "--study",
               study / "study.yaml", "--param", "min_standard_levels=5", "--param",
               "unit=ng/mL", "--param", "ignore_analytes=[IP10]", "--no-figures", "-o", out)
    assert r.exit_code == 0, r.output
    notes = json.loads((out / "manifest.json").read_text())["notes"]
    assert "warning: xponent_small.csv: parameter 'unit' 'ng/mL' ignored for analyte(s) " \
           "'IL6': the export states their unit ('pg/mL'), and the export's unit wins" in notes
    ep = pd.read_csv(out / "endpoints.csv").set_index(["endpoint", "subject"])
    assert ep.loc[("il6", "R01"), "value"] == pytest.approx(60.0, rel=1e-6)   # pg/mL, not ×1000
    assert set(ep.index.get_level_values("endpoint")) == {"il6"}


def test_replicates_averaging_to_zero_and_controls_without_nominal_end_to_end(invoke, study):
    """Net MFI +0.5/-0.5 replicates used to exit 3; a control without nominal rejected plates."""
    p = study / "xponent_small.csv"
    text = p.read_text()
    text = text.replace('"16(1,H2)",R02,0.5,1.5', '"16(1,H2)",R02,-0.5,1.5', 1)
    # no Control Expected / Range blocks (a control entered without its concentration)
    for block in ("Control Expected Concentration", "Control Range - Low",
                  "Control Range - High"):
        start = text.index(f"DataType:,{block}\n")
        text = text[:start] + text[text.index("\n\n", start) + 2:]
    p.write_text(text)
    out = study / "out"
    r = invoke("neurochem", p, study / "serum.csv", "--study", study / "study.yaml",
               "--param", "min_standard_levels=5", "-o", out)
    assert r.exit_code == 0, r.output
    assert "3 subjects, 6 endpoint values (4 censored, 0 excluded)" in r.output
    samples = pd.read_csv(out / "neurochem_samples.csv", keep_default_na=False)
    r02 = samples[(samples["sample"] == "R02") & (samples["analyte"] == "IL6")].iloc[0]
    assert (r02["mean_signal"], r02["cv"], r02["censoring"]) == (0.0, "", "left")
    assert "replicate CV undefined (mean signal 0, SD 0.707)" in r02["flags"]
    curves = pd.read_csv(out / "neurochem_curves.csv")
    assert curves["accepted"].all()
    assert (curves[["controls", "controls_not_judged"]] == [0, 1]).all().all()
    controls = pd.read_csv(out / "neurochem_controls.csv", keep_default_na=False)
    assert (controls["range_source"] == "no nominal concentration (not judged)").all()
    assert (controls["passes"] == "").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("control level(s) Control1 have no nominal concentration" in n
               for n in manifest["notes"])

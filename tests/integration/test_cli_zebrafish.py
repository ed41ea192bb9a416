"""``neurotox zebrafish`` end to end on a simulated plate with planted truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from neurotox import endpoints
from neurotox.io.output import verify


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from neurotox.simulate import get_simulator

    folder = tmp_path_factory.mktemp("zfplate")
    truth = get_simulator("zebrafish-lpr").write(folder, 11)
    return folder, truth


def test_cli_runs_and_writes_tables(invoke, plate, tmp_path):
    folder, truth = plate
    out = tmp_path / "out"
    res = invoke("zebrafish", folder / "zebralab_P1.xls", "--layout",
                 folder / "plate_layout.csv", "--study-id", "SIM-ZF-001", "-o", out)
    assert res.exit_code == 0, res.output
    assert "48 larvae" in res.output
    for stem in ("endpoints", "bins", "larvae", "hit_calls"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.parquet").is_file()
    ept = endpoints.read(out / "endpoints.csv")
    assert set(ept["study_id"]) == {"SIM-ZF-001"}
    calls = pd.read_csv(out / "hit_calls.csv")
    got = {f"{r.endpoint}@{r.dose:g}": r.call for r in calls.itertuples()
           if isinstance(r.call, str)}
    assert got == truth["expected_calls"]
    manifest = json.loads((out / "manifest.json").read_text())
    excluded = {e["subject"].split("-")[-1] for e in manifest["exclusions"]}
    assert excluded == set(truth["excluded_wells"])
    assert any("format zebralab-tracking (detected)" in n for n in manifest["notes"])
    assert manifest["parameters"]["protocol"] == "zebrafish-lpr-tanguay"
    assert verify(out) == []


@pytest.mark.slow
def test_cli_bmdrc_option(invoke, plate, tmp_path):
    folder, _ = plate
    out = tmp_path / "out"
    res = invoke("zebrafish", folder / "zebralab_P1.xls", "--layout",
                 folder / "plate_layout.csv", "--set", "bmdrc=true", "--set",
                 "bmdrc_cycle_length=3", "--set", "bmdrc_cycle_cooldown=0", "-o", out)
    assert res.exit_code == 0, res.output
    d = pd.read_csv(out / "bmdrc_dichotomized.csv")
    assert {"AUC1", "MOV4", "ANY_AUC"} <= set(d["endpoint"])
    bmd = pd.read_csv(out / "bmdrc_bmd.csv")
    assert bmd.groupby("endpoint")["recommended"].sum().le(1).all()


@pytest.mark.parametrize("args, message", [
    (["--set", "bin_sec=6"], "bin_sec"),
    (["--protocol", "no-such-protocol"], "unknown protocol 'no-such-protocol'"),
    (["--format", "zebralab-long"], "not in the zebralab-long layout"),
])
def test_cli_user_errors_exit_2(invoke, plate, tmp_path, args, message):
    folder, _ = plate
    res = invoke("zebrafish", folder / "zebralab_P1.xls", "--layout",
                 folder / "plate_layout.csv", *args, "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert message in res.output
    assert not (tmp_path / "o").exists()


def test_cli_unknown_export_layout(invoke, tmp_path):
    p = tmp_path / "scores.csv"
    p.write_text("subject,score\nS1,3\n")
    res = invoke("zebrafish", p, "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert "unknown zebrafish export layout. Expected one of:" in res.output
    assert "Found: text, first row: 'score', 'subject'" in res.output


def _two_plates(folder, tmp_path):
    """Two simulated plates (P1; P2 of another seed) with one layout file; P2's groups reversed.

    (A byte copy of P1 as P2 would be refused: a copy of an input is not a second plate.)
    """
    import shutil

    from neurotox.simulate import get_simulator

    d = tmp_path / "two"
    d.mkdir()
    (tmp_path / "seed12").mkdir()
    get_simulator("zebrafish-lpr").write(tmp_path / "seed12", 12)
    shutil.copy(folder / "zebralab_P1.xls", d / "zebralab_P1.xls")
    shutil.copy(tmp_path / "seed12" / "zebralab_P1.xls", d / "zebralab_P2.xls")
    one = pd.read_csv(folder / "plate_layout.csv", dtype=str, keep_default_na=False)
    swap = {"G1": "G4", "G4": "G1", "G2": "G3", "G3": "G2"}
    dose = {"G1": "0.0", "G2": "1.0", "G3": "10.0", "G4": "100.0"}
    two = one.assign(group=one["group"].map(swap))
    two = two.assign(concentration=two["group"].map(dose))
    pd.concat([one.assign(plate="P1"), two.assign(plate="P2")])[
        ["plate", *one.columns]].to_csv(d / "layout.csv", index=False)
    study = (folder / "study.yaml").read_text().replace("P1: plate_layout.csv", "ALL: layout.csv")
    study = study.replace("input: zebralab_P1.xls", "input: [zebralab_P1.xls, zebralab_P2.xls]")
    study = study.replace("layout: P1", "layout: ALL").replace(
        "    transition_window_s: 60\n", "    transition_window_s: 60\n    plate_ids: "
        "{zebralab_P1.xls: P1, zebralab_P2.xls: P2}\n")
    (d / "study.yaml").write_text(study)
    return d, one.set_index("well")["group"]


def test_study_layout_with_plate_column_as_from_the_cli(invoke, plate, tmp_path):
    """F12: a layout naming its plates is read from a study as from --layout."""
    from neurotox.pipeline import collect_endpoints
    from neurotox.study import load_study

    d, p1_groups = _two_plates(plate[0], tmp_path)
    r = invoke("check", d / "study.yaml")
    assert r.exit_code == 0, r.output
    assert "plate ALL: 2 plates ('P1', 'P2'), 96 wells used" in r.output
    table = collect_endpoints(load_study(d / "study.yaml")).table
    larva = table.drop_duplicates("subject").set_index("subject")["group"]
    assert len(larva) == 96
    assert larva["P1-A01"] == p1_groups["A01"] == "G1" and larva["P2-A01"] == "G4"
    swap = {"G1": "G4", "G4": "G1", "G2": "G3", "G3": "G2"}
    for well, group in p1_groups.items():
        assert (larva[f"P1-{well}"], larva[f"P2-{well}"]) == (group, swap[group])
    # the same file through --layout gives the same values
    r = invoke("-q", "zebrafish", d / "zebralab_P1.xls", d / "zebralab_P2.xls", "--layout",
               d / "layout.csv", "--plate-id", "zebralab_P1.xls=P1", "--plate-id",
               "zebralab_P2.xls=P2", "--param", "exclude_no_movement=true", "--param",
               "transition_window_s=60", "-o", tmp_path / "cli")
    assert r.exit_code == 0, r.output
    cli = pd.read_parquet(tmp_path / "cli" / "endpoints.parquet")
    both = table.merge(cli, on=["subject", "endpoint", "timepoint"], suffixes=("", "_cli"))
    assert len(both) == len(table) == len(cli)
    assert (both["group"] == both["group_cli"]).all()
    assert ((both["value"] - both["value_cli"]).abs().fillna(0) < 1e-12).all()


def test_multi_plate_layout_for_a_one_plate_entry_names_the_plates(tmp_path, invoke):
    (tmp_path / "images").mkdir()
    (tmp_path / "layout.csv").write_text("plate,well,group\nP1,A01,C\nP2,A01,H\n")
    (tmp_path / "study.yaml").write_text(
        "study_id: S\ntitle: t\ntest_item: x\ngroups:\n"
        "  - {id: C, label: C, dose: 0, dose_unit: uM, control: true}\n"
        "  - {id: H, label: H, dose: 1, dose_unit: uM}\n"
        "plate_layouts: {L: layout.csv}\n"
        "assays:\n  - {assay: neurite_outgrowth, protocol: neurite-outgrowth-shsy5y, "
        "input: images, layout: L}\n")
    r = invoke("check", "--no-assays", tmp_path / "study.yaml")
    assert r.exit_code == 2
    assert r.output.strip() == (
        f"Error: {tmp_path / 'layout.csv'}, column 'plate': layout 'L' names 2 plates ('P1', "
        "'P2') in its 'plate' column, but a neurite_outgrowth entry ('neurite_outgrowth') "
        "reads one plate per layout: give each plate its own file in plate_layouts and name "
        "it in the entry's 'layout'")


def test_layout_concentration_unit_is_the_dose_unit(invoke, plate, tmp_path):
    # a 'conc (nM)' header is read by the shared layout reader; the zebrafish run labelled
    # such doses with the parameter's default unit (uM) without a word (review)
    folder, _ = plate
    text = (folder / "plate_layout.csv").read_text()
    header, rest = text.split("\n", 1)
    assert "concentration" in header
    (tmp_path / "nm.csv").write_text(header.replace("concentration", "conc (nM)") + "\n" + rest)
    out = tmp_path / "out"
    res = invoke("zebrafish", folder / "zebralab_P1.xls", "--layout", tmp_path / "nm.csv",
                 "--study-id", "S", "-o", out)
    assert res.exit_code == 0, res.output
    assert set(endpoints.read(out / "endpoints.csv")["dose_unit"]) == {"nM"}


def test_layout_dose_column_is_named_when_no_well_has_a_dose(invoke, plate, tmp_path):
    """stranger52 L6: a layout 'dose' column (not read) was not named in the error."""
    folder, _ = plate
    text = (folder / "plate_layout.csv").read_text()
    header, rest = text.split("\n", 1)
    (tmp_path / "dose.csv").write_text(header.replace("concentration", "dose") + "\n" + rest)
    res = invoke("zebrafish", folder / "zebralab_P1.xls", "--layout", tmp_path / "dose.csv",
                 "--study-id", "S", "-o", tmp_path / "out")
    assert res.exit_code == 2, res.output
    cols = sorted(header.replace("concentration", "dose").split(","))
    assert (f"; layout 'dose.csv' has columns {', '.join(map(repr, cols))}, none "
            "'concentration' ('dose' is not read: rename it 'concentration')") in res.output

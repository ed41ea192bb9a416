"""``neurotox neurite`` end to end on a simulated plate."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from neurotox.endpoints import read as read_endpoints


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    out = tmp_path_factory.mktemp("sim") / "plate"
    res = CliRunner().invoke(cli, ["simulate", "neurite-plate", "-o", str(out), "--seed", "4"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def result(sim, tmp_path_factory):
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    out = tmp_path_factory.mktemp("run") / "out"
    res = CliRunner().invoke(cli, ["--quiet", "neurite", str(sim / "images"), "--layout",
                                   str(sim / "layout.csv"), "--protocol",
                                   "neurite-outgrowth-shsy5y", "--study", str(sim / "study.yaml"),
                                   "--workers", "1", "--overlays", "all", "-o", str(out)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def test_outputs_written(result):
    for stem in ("endpoints", "cells", "fields", "wells", "concentration_response",
                 "selectivity"):
        assert (result / f"{stem}.csv").is_file()
        assert (result / f"{stem}.parquet").is_file()
    assert len(list((result / "overlays").glob("*.png"))) == 8
    assert (result / "heatmaps" / "SIM01_neurite_length_per_cell_um.png").is_file()
    manifest = json.loads((result / "manifest.json").read_text())
    assert any("pixel size 0.65" in n for n in manifest["notes"])
    assert manifest["parameters"]["effective"]["nucleus_diameter_um"] == 10.0
    fields = pd.read_csv(result / "fields.csv")     # each field's calibration (stranger41 F4)
    assert set(zip(fields["pixel_size_um"], fields["pixel_size_source"], strict=True)) == \
        {(0.65, "metadata")}


def test_endpoint_table_and_truth(result, sim):
    table = read_endpoints(result / "endpoints.csv")
    assert set(table["study_id"]) == {"SIM-NEURITE-001"}
    assert set(table["group"]) == {f"G{i}" for i in range(1, 8)}
    truth = json.loads((sim / "truth.json").read_text())
    fields = pd.read_csv(result / "fields.csv")
    for r in fields.itertuples():
        t = truth["fields"][f"{r.well}/s1"]
        assert abs(r.nuclei_count - t["nuclei_count"]) <= 0.05 * t["nuclei_count"]
    sel = pd.read_csv(result / "selectivity.csv")
    assert sel["call"].iloc[0] == "specific"


def test_nuclei_only_fields_give_nuclei_counts_only(sim, result, tmp_path):
    """--neurite-channel none: nuclei counted as in the two-channel run, no neurite measure."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    out = tmp_path / "nuclei"
    res = CliRunner().invoke(cli, ["neurite", str(sim / "images"), "--layout",
                                   str(sim / "layout.csv"), "--study", str(sim / "study.yaml"),
                                   "--neurite-channel", "none", "--workers", "1",
                                   "--pixel-size", "0.65",
                                   "--overlays", "none", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "neurites = none (nuclei-only fields" in res.output
    truth = json.loads((sim / "truth.json").read_text())
    fields = pd.read_csv(out / "fields.csv").set_index("well")
    for well, r in fields.iterrows():
        t = truth["fields"][f"{well}/s1"]
        assert abs(r["nuclei_count"] - t["nuclei_count"]) <= 0.05 * t["nuclei_count"]
        assert pd.isna(r["total_neurite_length_um"])
        assert pd.isna(r["neurite_file"]) and r["nuclei_file"].endswith("_w1.tif")
        assert (r["pixel_size_um"], r["pixel_size_source"]) == (0.65, "option")
    table = read_endpoints(out / "endpoints.csv")
    assert set(table["endpoint"]) == {"nuclei_count"}        # no neurite endpoint, not zeros
    wells = pd.read_csv(out / "wells.csv")
    assert wells["neurite_length_per_cell_um"].isna().all()
    assert wells["nuclei_count_pct"].notna().all()
    sel = pd.read_csv(out / "selectivity.csv")
    assert set(sel["call"]) == {"not evaluable"}
    assert "no neurite channel" in sel["reason"].iloc[0]
    # the viability fit is the two-channel run's: same counts, same curve
    fits = pd.read_csv(out / "concentration_response.csv")
    both = pd.read_csv(result / "concentration_response.csv")
    assert fits["endpoint"].tolist() == ["nuclei_count"]
    pd.testing.assert_series_equal(fits.iloc[0], both[both["endpoint"] == "nuclei_count"].iloc[0],
                                   check_names=False)
    assert sorted(p.name for p in (out / "heatmaps").iterdir()) == ["SIM01_nuclei_count.png"]


def test_plate_names_without_a_layout_keep_their_wells(sim, result, tmp_path):
    """Measure only on ImageXpress names: each well its own replicate (they were all merged)."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    out = tmp_path / "measured"
    res = CliRunner().invoke(cli, ["neurite", str(sim / "images"), "--workers", "1",
                                   "--overlays", "none", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "8 fields, 8 wells" in res.output
    wells = pd.read_csv(out / "wells.csv").set_index("well")
    grouped = pd.read_csv(result / "wells.csv").set_index("well")
    assert set(wells["group"]) == {"all"}
    pd.testing.assert_series_equal(wells["total_neurite_length_um"].sort_index(),
                                   grouped["total_neurite_length_um"].sort_index())


def test_layout_header_gives_the_concentration_unit(sim, result, tmp_path):
    """'Concentration (nM)' in the layout: the doses are nM (they were dropped unread)."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    layout = (sim / "layout.csv").read_text().replace("concentration", "Concentration (nM)", 1)
    (tmp_path / "layout.csv").write_text(layout)
    out = tmp_path / "nm"
    res = CliRunner().invoke(cli, ["neurite", str(sim / "images"), "--layout",
                                   str(tmp_path / "layout.csv"), "--workers", "1",
                                   "--overlays", "none", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "concentration unit nM from the layout's column header" in res.output
    table = read_endpoints(out / "endpoints.csv")
    assert set(table.loc[~table["dose"].eq(0), "dose_unit"]) == {"nM"}
    fits = pd.read_csv(out / "concentration_response.csv").set_index("endpoint")
    same = pd.read_csv(result / "concentration_response.csv").set_index("endpoint")
    assert fits.loc["neurite_length_per_cell", "ec50"] == pytest.approx(
        same.loc["neurite_length_per_cell", "ec50"], rel=1e-6)


def test_verify_passes(result, invoke):
    assert invoke("verify", str(result)).exit_code == 0


def test_missing_pixel_size_exit_2(tmp_path, invoke):
    import numpy as np
    import tifffile

    img = tmp_path / "img"
    img.mkdir()
    rng = np.random.default_rng(0)
    for ch in (1, 2):   # some signal: a blank plane would be reported first
        data = rng.normal(100, 5, (16, 16)) + 400 * (rng.random((16, 16)) > 0.9)
        tifffile.imwrite(img / f"P_B02_s1_w{ch}.tif", data.astype(np.uint16))
    (tmp_path / "layout.csv").write_text("well,concentration\nB02,0\n")
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    res = CliRunner().invoke(cli, ["neurite", str(img), "--layout", str(tmp_path / "layout.csv"),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "pixel size not found in the image metadata; give --pixel-size" in res.output
    assert "Traceback" not in res.output


def test_bad_parameter_exit_2(sim, tmp_path):
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    res = CliRunner().invoke(cli, ["neurite", str(sim / "images"), "--layout",
                                   str(sim / "layout.csv"), "--set", "ridge_hihg=5",
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "ridge_hihg" in res.output


def test_protocol_other_than_the_study_entry_is_an_error(tmp_path, invoke):
    """F4 (neurite): --study runs the entry's protocol, never silently another."""
    (tmp_path / "images").mkdir()
    study = tmp_path / "study.yaml"
    study.write_text("study_id: S\ntitle: t\ntest_item: x\ngroups:\n"
                     "  - {id: C, label: C, dose: 0, dose_unit: uM, control: true}\n"
                     "assays:\n  - {assay: neurite_outgrowth, protocol: "
                     "neurite-outgrowth-drg-axons, input: images}\n")
    r = invoke("neurite", tmp_path / "images", "--study", study, "--protocol",
               "neurite-outgrowth-shsy5y", "-o", tmp_path / "o")
    assert r.exit_code == 2
    assert r.output.strip() == (
        f"Error: {study}, key 'assays.neurite_outgrowth.protocol': --protocol "
        "'neurite-outgrowth-shsy5y' is not the protocol of the study's neurite_outgrowth entry "
        "'neurite_outgrowth' (neurite-outgrowth-drg-axons); give --protocol "
        "neurite-outgrowth-drg-axons or leave it out (the entry's protocol and parameters are "
        "used)")
    r = invoke("neurite", tmp_path / "images", "--study", study, "-o", tmp_path / "o")
    assert r.exit_code == 2 and "no image files" in r.output   # the entry's protocol


def test_the_study_entry_parameters_are_run_as_report_runs_them(sim, tmp_path, invoke):
    # `neurite --study` skipped the entry's parameters, so its overlays showed another
    # analysis than the report's (stranger41 F8): they are read, and --param overrides them
    import shutil

    copy = tmp_path / "s"
    shutil.copytree(sim, copy)
    study = copy / "study.yaml"
    study.write_text(study.read_text().replace(
        "  layout: SIM01", "  layout: SIM01\n  parameters: {min_cells_per_field: 3, "
        "pixel_size_um: 0.65, ridge_hihg: 14}"))
    r = invoke("neurite", copy / "images", "--study", study, "-o", tmp_path / "bad")
    assert r.exit_code == 2
    assert "key 'assays.neurite_outgrowth.parameters.ridge_hihg'" in r.output
    study.write_text(study.read_text().replace(", ridge_hihg: 14", ", ridge_high: 14"))
    out = tmp_path / "out"
    r = invoke("neurite", copy / "images", "--study", study, "--param", "ridge_low=2.5",
               "--workers", "1", "--overlays", "none", "-o", out)
    assert r.exit_code == 0, r.output
    effective = json.loads((out / "manifest.json").read_text())["parameters"]["effective"]
    assert (effective["min_cells_per_field"], effective["ridge_high"],
            effective["ridge_low"]) == (3, 14.0, 2.5)
    assert set(pd.read_csv(out / "fields.csv")["pixel_size_source"]) == {"study"}


def test_the_study_entry_gives_the_layout(sim, result, tmp_path, invoke):
    # '--study' without '--layout' said "no plate layout" although the study's neurite entry
    # names one (stranger's re-trial F9): it is used, as --layout would be
    out = tmp_path / "out"
    res = invoke("neurite", sim / "images", "--study", sim / "study.yaml", "--workers", "1",
                 "--overlays", "none", "-o", out)
    assert res.exit_code == 0, res.output
    assert "plate layout 'SIM01' of the study's neurite entry" in res.output
    ours, theirs = (pd.read_csv(p / "endpoints.csv") for p in (out, result))
    pd.testing.assert_frame_equal(ours.drop(columns="source"), theirs.drop(columns="source"))


def _crashes_in_b03(task):
    """A field analysis with a bug in well B03 (a stand-in for any unforeseen error)."""
    from neurotox.assays.neurite import fields

    if task.source.well == "B03":
        raise ZeroDivisionError("float division by zero")
    return fields.real_process_field(task)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_crash_in_a_field_worker_is_one_line_naming_the_field(sim, tmp_path, invoke,
                                                                monkeypatch, capfd, workers):
    """fixAC 4: one ERROR line naming the field, its file and the exception; exit 3 (a bug)."""
    from neurotox.assays.neurite import fields

    monkeypatch.setattr(fields, "real_process_field", fields.process_field, raising=False)
    monkeypatch.setattr(fields, "process_field", _crashes_in_b03)
    res = invoke("neurite", sim / "images", "--study", sim / "study.yaml", "--workers", workers,
                 "--overlays", "none", "-o", tmp_path / "out")
    assert res.exit_code == 3
    assert res.output.strip().splitlines()[-1] == (
        "Error: internal error in field SIM01/B03/s1 (SIM01_B03_s1_w2.tif) (ZeroDivisionError: "
        "float division by zero); an unfinished output is not kept; this is a neurotox bug: "
        "please report it with the traceback that -v or --log-file shows")
    assert "Traceback" not in res.output + capfd.readouterr().err   # the workers' too
    assert not (tmp_path / "out").exists()
    # with -v the traceback is logged, the worker's frames included
    res = invoke("-v", "neurite", sim / "images", "--study", sim / "study.yaml", "--workers",
                 workers, "--overlays", "none", "-o", tmp_path / "out")
    assert res.exit_code == 3
    assert "in _crashes_in_b03" in res.output
    assert "in task: field SIM01/B03/s1 (SIM01_B03_s1_w2.tif)" in res.output

"""A simulated startle study reported end to end: conventions in notes, manifest and methods."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def startle(tmp_path_factory):
    from neurotox.simulate import get_simulator

    folder = tmp_path_factory.mktemp("startle")
    truth = get_simulator("zebrafish-startle").write(folder, 5)
    return folder, truth


def test_report_states_the_conventions(invoke, startle, tmp_path):
    folder, _ = startle
    out = tmp_path / "rep"
    res = invoke("report", folder / "study.yaml", "--format", "html,csv", "--no-bmd", "-o", out)
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    said = manifest["parameters"]["conventions"]["zebrafish_lpr"]
    assert said[1].startswith("Exclusions: larvae that never moved are kept")
    assert any(n.endswith(said[2]) and "convention: " in n for n in manifest["notes"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Conventions of assay zebrafish_lpr: Distance moved = small + large movement" in html
    assert "response_threshold_mm" in html
    results = pd.read_csv(out / "csv" / "results.csv")
    assert {"stimulus_response_rate", "stimulus_latency",
            "stimulus_habituation_ratio"} <= set(results["endpoint"])


def test_cli_with_plate_id_and_stimulus_tables(invoke, startle, tmp_path):
    folder, _ = startle
    out = tmp_path / "cli"
    res = invoke("zebrafish", folder / "zebralab_stimulus_P1.xls", "--layout",
                 folder / "plate_layout.csv", "--protocol", "zebrafish-vibration-habituation",
                 "--set", "schedule=[{name: stimulation, light: false, duration_s: 85}]",
                 "--set", "stimuli=[{name: vibration, type: vibration, start_s: 5, every_s: 10,"
                          " count: 8}, {name: flash, type: light_flash, export_name: Top light,"
                          " start_s: 10, every_s: 10, count: 8}]",
                 "--plate-id", "zebralab_stimulus_P1.xls=PL01", "-o", out)
    assert res.exit_code == 0, res.output
    for stem in ("stimulus_responses", "stimulus_by_repeat", "stimulus_hit_calls"):
        assert (out / f"{stem}.csv").is_file()
    resp = pd.read_csv(out / "stimulus_responses.csv")
    assert set(resp["plate"]) == {"PL01"} and set(resp["stimulus"]) == {"vibration", "flash"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["parameters"]["conventions"]) == 4

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

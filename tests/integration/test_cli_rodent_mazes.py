"""A simulated hand-scored Y-maze sheet run end to end: planted values, conventions said."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def sheet_study(tmp_path_factory):
    from neurotox.simulate import get_simulator

    folder = tmp_path_factory.mktemp("ymaze")
    truth = get_simulator("ymaze-sheet").write(folder, 11)
    return folder, truth


def test_tmaze_reads_the_sheet_as_written(sheet_study, tmp_path, invoke):
    folder, truth = sheet_study
    out = tmp_path / "out"
    res = invoke("tmaze", "--study", folder / "study.yaml", "-o", out)
    assert res.exit_code == 0, res.output
    per = pd.read_csv(out / "tmaze_animals.csv").set_index("subject")
    for subject, pct in truth["alternation_pct"].items():
        assert per.loc[subject, "alternation_pct"] == pytest.approx(pct, abs=1e-6)
        assert per.loc[subject, "reentries"] == truth["reentries"][subject]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["conventions"][0].startswith("Arm re-entries: every entry")
    assert any("header in row 4 (3 banner row(s) above it skipped)" in n
               for n in manifest["notes"])
    assert any("note: entry at 3 min unclear" in n for n in manifest["notes"])
    stats = pd.read_csv(out / "statistics.csv")
    high = stats[(stats["endpoint"] == "tmaze_alternation_pct") & (stats["group"] == "G3")]
    assert (high["p_value"] < 0.05).all()   # alternation at chance at the high dose


def test_report_methods_state_the_reentry_rule(sheet_study, tmp_path, invoke):
    folder, _ = sheet_study
    out = tmp_path / "rep"
    res = invoke("report", folder / "study.yaml", "--format", "html", "--no-bmd", "-o", out)
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Conventions of assay tmaze: Arm re-entries: every entry counts" in html
    assert "(reentries: counted)" in html and "(min_entries)" in html

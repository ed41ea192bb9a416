"""``neurotox demo``: every simulator's study reported in all four formats, one manifest."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from neurotox.cli.main import cli
from neurotox.simulate import list_simulators

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    r = CliRunner().invoke(cli, ["--quiet", "demo", "-o", str(out), "--force"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return out


def test_demo_reports_every_simulated_kind_in_all_formats(demo_dir):
    kinds = [s.kind for s in list_simulators()]
    assert kinds
    for kind in kinds:
        assert (demo_dir / "studies" / kind / "study.yaml").is_file()
        assert (demo_dir / "studies" / kind / "truth.json").is_file()
        rep = demo_dir / "reports" / kind
        for rel in ("report.xlsx", "report.docx", "report.html", "csv/results.csv",
                    "csv/decisions.csv"):
            assert (rep / rel).stat().st_size > 0, f"{kind}: {rel}"
        assert list((rep / "figures").glob("*.png")) and list((rep / "figures").glob("*.svg"))
    assert [p.name for p in demo_dir.rglob("manifest.json")] == ["manifest.json"]


def test_demo_covers_continuous_incidence_and_repeated_measures(demo_dir):
    results = pd.concat(pd.read_csv(p, keep_default_na=False)
                        for p in demo_dir.glob("reports/*/csv/results.csv"))
    decisions = pd.concat(pd.read_csv(p, keep_default_na=False)
                          for p in demo_dir.glob("reports/*/csv/decisions.csv"))
    assert {"continuous", "incidence"} <= set(results["data_type"])
    assert "repeated_measures" in set(decisions["path"])


def test_demo_output_verifies(demo_dir):
    r = CliRunner().invoke(cli, ["verify", str(demo_dir)])
    assert r.exit_code == 0, r.output
    manifest = json.loads((demo_dir / "manifest.json").read_text())
    outputs = {o["path"] for o in manifest["outputs"]}
    assert any(p.endswith("report.docx") for p in outputs)

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
    # one manifest for the whole demo, and one per report folder
    manifests = sorted(p.relative_to(demo_dir).as_posix() for p in demo_dir.rglob("manifest.json"))
    assert manifests == ["manifest.json", *(f"reports/{k}/manifest.json" for k in sorted(kinds))]
    index = (demo_dir / "index.html").read_text(encoding="utf-8")
    for kind in kinds:
        assert f'href="reports/{kind}/report.html"' in index


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


def test_every_demo_report_folder_verifies_on_its_own(demo_dir, tmp_path):
    import shutil

    folders = sorted((demo_dir / "reports").iterdir())
    assert len(folders) == len(list_simulators())
    for folder in folders:
        r = CliRunner().invoke(cli, ["verify", str(folder)])
        assert r.exit_code == 0, (folder.name, r.output)
        manifest = json.loads((folder / "manifest.json").read_text())
        listed = {o["path"] for o in manifest["outputs"]}
        assert {"report.docx", "report.html", "run.json", "run.log"} <= listed, folder.name
        run = json.loads((folder / "run.json").read_text())
        assert run["run_id"] in (folder / "run.log").read_text()
    # tampering with (a copy of) one report is caught by that folder's manifest
    copy = shutil.copytree(folders[0], tmp_path / folders[0].name)
    victim = copy / "csv" / "results.csv"
    victim.write_text(victim.read_text() + "tampered\n")
    r = CliRunner().invoke(cli, ["verify", str(copy)])
    assert r.exit_code == 1 and "csv/results.csv: changed" in r.output


def test_demo_html_reports_load_in_chromium(demo_dir, tmp_path):
    import re
    import shutil
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed")
    for page in sorted(demo_dir.glob("reports/*/report.html")):
        proc = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=180, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln] == []
        html = page.read_text(encoding="utf-8")
        n_tables = len(re.findall(r'<li><a href="#[^"]+">Table \d+\.', html))
        n_figures = len(re.findall(r'<li><a href="#[^"]+">Figure \d+\.', html))
        n_glp = html.count('id="qa"')  # the QA statement of a GLP study holds a table too
        assert proc.stdout.count('<table class="data"') == n_tables + n_glp > 0, page
        assert proc.stdout.count("data:image/png;base64,") == n_figures, page


def _flag_for(p, alpha=0.05):
    if p is None:
        return ""
    return "**" if p <= 0.01 else "*" if p <= alpha else ""


def test_every_xlsx_flag_agrees_with_its_p_value(demo_dir):
    from openpyxl import load_workbook

    checked = 0
    for path in sorted(demo_dir.glob("reports/*/report.xlsx")):
        wb = load_workbook(path, read_only=True)
        for ws in wb.worksheets[1:]:
            rows = list(ws.iter_rows(values_only=True))
            head = next((i for i, r in enumerate(rows) if r and r[0] == "Group"), None)
            if head is None:
                continue
            cols = [j for j, h in enumerate(rows[head])
                    if isinstance(h, str) and h.endswith(" | p")
                    and str(rows[head][j + 1]).endswith(" | flag")]
            for r in rows[head + 1:]:
                if not r or r[0] is None:
                    break
                for j in cols:
                    assert (r[j + 1] or "").rstrip("↑↓") == _flag_for(r[j]), (path, ws.title, r)
                    checked += 1
    assert checked > 100


def test_csv_flags_agree_with_p_values(demo_dir):
    for path in demo_dir.glob("reports/*/csv/results.csv"):
        res = pd.read_csv(path, keep_default_na=False, na_values=[""])
        for p, flag in zip(res["p_value"], res["flag"].fillna(""), strict=True):
            assert flag == _flag_for(None if p != p else p), path


def test_demo_docx_reports_hold_every_table_and_figure(demo_dir):
    import re

    from docx import Document

    for path in sorted(demo_dir.glob("reports/*/report.docx")):
        doc = Document(str(path))
        # captions are level-3 headings (the contents list them again, as links)
        heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 3"]
        captions = [t for t in heads if re.match(r"Table \d+\. ", t)]
        figures = [t for t in heads if re.match(r"Figure \d+\. ", t)]
        html = (path.parent / "report.html").read_text(encoding="utf-8")
        assert len(captions) == len(re.findall(r'<p class="caption">Table \d+\.', html)) > 0
        assert len(doc.tables) >= len(captions)
        assert len(doc.inline_shapes) == len(figures) == html.count("<figure ")

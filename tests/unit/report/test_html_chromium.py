"""The HTML report in headless Chromium: no console errors, all tables and figures, not blank.

Skipped when Chromium is not installed (CI installs Debian's ``chromium``).
"""

import base64
import io
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from neurotox.report.render import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def _chromium(tmp_path, html_file, *extra):
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr", "--v=0", *extra, html_file.as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


@pytest.fixture
def page(tmp_path, report_with_figures):
    report = report_with_figures
    path = tmp_path / "report.html"
    path.write_bytes(render_html(report))
    return report, path


def test_console_capture_works(tmp_path):
    # negative control: a page that logs an error must be caught by the check below
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('boom')</script>"
                   "</body></html>")
    proc = _chromium(tmp_path, bad, "--dump-dom")
    assert any("boom" in m for m in _console_messages(proc.stderr)), proc.stderr[-2000:]


def test_html_loads_without_console_errors_with_all_tables_and_figures(tmp_path, page):
    report, path = page
    proc = _chromium(tmp_path, path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _console_messages(proc.stderr) == []
    dom = proc.stdout
    # every report table and the QA statement's table (a GLP study)
    assert dom.count('<table class="data"') == len(report.tables) + 1 == 14
    for t in report.tables:
        assert f'id="{t.key}"' in dom
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', dom)
    assert len(images) == len(report.figures) == 8
    for data in images:
        with Image.open(io.BytesIO(base64.b64decode(data))) as im:
            assert im.size[0] > 200 and im.size[1] > 150


def test_html_screenshot_is_not_blank(tmp_path, page):
    _, path = page
    shot = tmp_path / "shot.png"
    proc = _chromium(tmp_path, path, f"--screenshot={shot}", "--window-size=1200,1600")
    assert shot.is_file(), proc.stderr[-2000:]
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("L"), dtype=float)
    assert pixels.shape == (1600, 1200)
    dark = (pixels < 128).mean()
    assert 0.005 < dark < 0.5  # text and table lines on a white page
    assert pixels.std() > 10


def test_figures_fit_the_page_width(tmp_path, page):
    # the 300 dpi PNGs were shown at their pixel size (about 1900 px wide): the DRG
    # report's time courses ran off a 1200 px window and hid the last timepoints
    _, path = page
    probe = tmp_path / "probe.html"
    script = ("<script>window.addEventListener('load',()=>{const w=[...document.images].map("
              "i=>Math.round(i.getBoundingClientRect().right));document.body.setAttribute("
              "'data-right',Math.max(...w));document.body.setAttribute('data-page',"
              "document.documentElement.clientWidth)});</script>")
    probe.write_text(path.read_text(encoding="utf-8").replace("</body>", script + "</body>"),
                     encoding="utf-8")
    proc = _chromium(tmp_path, probe, "--dump-dom", "--window-size=800,1200")
    right = re.search(r'data-right="(\d+)"', proc.stdout)
    width = re.search(r'data-page="(\d+)"', proc.stdout)
    assert right and width, proc.stdout[-500:]
    assert 0 < int(right.group(1)) <= int(width.group(1))

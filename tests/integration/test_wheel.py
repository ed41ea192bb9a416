"""The built wheel (not the editable install) ships the protocol templates."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                        "-w", str(out), str(REPO)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend available): {r.stderr[-300:]}")
    return next(out.glob("neurotox-*.whl"))


def test_wheel_contains_protocols_and_registry(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    protos = sorted(Path(REPO / "protocols").glob("*.yaml"))
    for p in protos:
        assert f"neurotox/protocols/{p.name}" in names
    assert any(n.startswith("neurotox/registry/") and n.endswith(".yaml") for n in names)


def test_installed_wheel_lists_protocols_from_elsewhere(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([sys.executable, "-c", "import neurotox; print(neurotox.__file__)"],
                       cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert r.stdout.strip().startswith(str(target))
    r = subprocess.run([sys.executable, "-m", "neurotox", "protocols", "list"], cwd=elsewhere,
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for p in sorted(Path(REPO / "protocols").glob("*.yaml")):
        assert p.stem in r.stdout

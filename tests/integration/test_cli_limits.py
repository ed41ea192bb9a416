"""Limits of the machine met by a whole command: one line saying which and what to do."""

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import neurotox

ENV = {**os.environ, "PYTHONPATH": str(Path(neurotox.__file__).parents[1])}


@pytest.fixture(scope="module")
def tmaze(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim") / "tmaze"
    subprocess.run([sys.executable, "-m", "neurotox", "-q", "simulate", "tmaze", "-o",
                    str(folder)], env=ENV, check=True, timeout=600)
    return folder / "study.yaml"


def _report(study, out, limit, *options):
    def few_files():
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    return subprocess.run([sys.executable, "-m", "neurotox", "-q", "report", str(study),
                           "--format", "csv,html", "--no-bmd", *options, "-o", str(out)],
                          env=ENV, capture_output=True, text=True, preexec_fn=few_files,
                          timeout=600, check=False)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs a pool of 2 worker processes")
@pytest.mark.parametrize("limit", [12, 14, 16, 18])
def test_too_few_file_descriptors_is_one_line(tmaze, tmp_path, limit):
    # stranger46 F3: "Error: Too many open files" naming nothing, or a worker's raw
    # traceback (imagecodecs DelayedImportError in its initializer) and then "a worker
    # process died (out of memory? killed?)"
    done = _report(tmaze, tmp_path / "out", limit, "--workers", "2")
    if done.returncode == 0:
        pytest.skip(f"{limit} open files were enough on this machine")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: Too many open files")
    assert lines[0].endswith(
        f"; this process may have at most {limit} files open at once (ulimit -n), too few "
        "for neurotox: raise the limit ('ulimit -n 1024') or, for a command with --workers, "
        "give --workers 1")
    assert list(tmp_path.iterdir()) == []


def test_one_worker_needs_few_file_descriptors(tmaze, tmp_path):
    done = _report(tmaze, tmp_path / "out", 16, "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "report.html").is_file()

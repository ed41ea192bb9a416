import json

import pandas as pd
import pytest

from neurotox.errors import OutputExistsError
from neurotox.io.output import MANIFEST, OutputDir, RunRecord, sha256_file, verify


def write_run(target, *, force=False, value=1, inputs=()):
    rec = RunRecord(command=["neurotox", "test"], parameters={"value": value})
    rec.add_inputs(inputs)
    with OutputDir(target, force=force, record=rec) as od:
        od.write_table(pd.DataFrame({"a": [value, 2]}), "tables/t")
        od.write_text("notes.txt", f"value {value}\n")
    return target


def test_manifest_lists_hashes_of_inputs_and_outputs(tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text("x\n1\n")
    out = write_run(tmp_path / "out", inputs=[inp])
    doc = json.loads((out / MANIFEST).read_text())
    assert doc["command"] == ["neurotox", "test"]
    assert doc["parameters"] == {"value": 1}
    # inputs are recorded relative to the output folder, never as machine paths
    assert doc["inputs"] == [{"path": "../in.csv", "sha256": sha256_file(inp), "bytes": 4}]
    assert "working_directory" not in doc
    paths = [o["path"] for o in doc["outputs"]]
    assert paths == ["notes.txt", "tables/t.csv", "tables/t.parquet"]
    assert doc["software"]["pandas"] == pd.__version__
    assert doc["started_utc"] <= doc["finished_utc"]
    assert verify(out) == []


def test_existing_output_refused_without_force(tmp_path):
    out = write_run(tmp_path / "out")
    before = (out / "notes.txt").read_text()
    with pytest.raises(OutputExistsError, match=r"out: output already exists; use --force"):
        write_run(out, value=2)
    assert (out / "notes.txt").read_text() == before


def test_force_replaces_only_after_success(tmp_path):
    out = write_run(tmp_path / "out")
    with pytest.raises(RuntimeError):
        with OutputDir(out, force=True) as od:
            od.write_text("notes.txt", "half written")
            raise RuntimeError("analysis failed")
    assert (out / "notes.txt").read_text() == "value 1\n"
    assert not list(tmp_path.glob(".out.neurotox-*"))
    write_run(out, force=True, value=3)
    assert (out / "notes.txt").read_text() == "value 3\n"
    assert verify(out) == []


def test_failed_first_run_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        with OutputDir(tmp_path / "out") as od:
            od.write_text("a.txt", "x")
            raise ValueError("bad input")
    assert list(tmp_path.iterdir()) == []


def test_stale_staging_of_killed_run_is_cleaned(tmp_path):
    import socket
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".out.neurotox-tmp-{dead}"
    stale.mkdir()
    (stale / "partial.csv").write_text("x")
    (stale / ".neurotox-staging").write_text(f"{socket.gethostname()} {dead}\n")
    # a folder with a staging-like name that neurotox did not make is left alone
    foreign = tmp_path / ".out.neurotox-tmp-1"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("user data")
    write_run(tmp_path / "out")
    assert not stale.exists()
    assert (foreign / "mine.txt").read_text() == "user data"


@pytest.mark.parametrize("tamper", ["change", "delete", "add", "manifest"])
def test_verify_detects_tampering(tmp_path, tamper):
    out = write_run(tmp_path / "out")
    if tamper == "change":
        p = out / "tables" / "t.csv"
        data = bytearray(p.read_bytes())
        data[0] ^= 1
        p.write_bytes(bytes(data))
        expected = ["tables/t.csv: changed (SHA-256 differs)"]
    elif tamper == "delete":
        (out / "notes.txt").unlink()
        expected = ["notes.txt: missing"]
    elif tamper == "add":
        (out / "extra.txt").write_text("x")
        expected = ["extra.txt: extra file not in the manifest"]
    else:
        doc = json.loads((out / MANIFEST).read_text())
        doc["parameters"]["value"] = 99
        (out / MANIFEST).write_text(json.dumps(doc))
        expected = ["manifest.json: edited after it was written (self-hash differs)"]
    assert verify(out) == expected


def test_output_paths_cannot_escape(tmp_path):
    with OutputDir(tmp_path / "out") as od:
        with pytest.raises(ValueError, match="must be relative"):
            od.path("../x.txt")

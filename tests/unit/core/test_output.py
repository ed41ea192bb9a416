import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from neurotox.errors import OutputExistsError
from neurotox.files import keyed_note
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


def test_leftover_of_a_killed_run_holding_an_input_is_kept(tmp_path):
    """A replaced output moved aside (``.out.neurotox-old-PID``) by a run killed before it
    was deleted is removed by the next run, unless this run reads a file in it."""
    leftover = tmp_path / ".out.neurotox-old-1"
    write_run(leftover)
    held = leftover / "notes.txt"
    rec = RunRecord()
    rec.add_inputs([held])
    with OutputDir(tmp_path / "out", record=rec, inputs=[held]) as od:
        od.write_text("a.txt", "x")
    assert held.read_text() == "value 1\n"
    write_run(tmp_path / "out", force=True)
    assert not leftover.exists()


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


@pytest.mark.parametrize(("target", "inp", "expected"), [
    ("in", "in/study.yaml", "it holds the input"),
    ("in/study.yaml", "in/study.yaml", "it is the input"),
    (".", "in/study.yaml", "it holds the input"),
    ("in/out", "in/study.yaml", None),                # beside the study file: no input folder
    ("in/deep/out", "in/study.yaml", None),
    ("plate/out", "plate", "it lies inside the input folder"),
    ("plate/a/b", "plate", "it lies inside the input folder"),
    ("plate", "plate/a.tif", "it holds the input"),
    ("out", "in/study.yaml", None),
    ("in2", "in/study.yaml", None),                   # a name prefix is not a parent
    ("plate2", "plate", None),
])
def test_input_conflicts(tmp_path, monkeypatch, target, inp, expected):
    from neurotox.io.output import input_conflict

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "study.yaml").write_text("x")
    (tmp_path / "plate").mkdir()
    (tmp_path / "plate" / "a.tif").write_text("x")
    got = input_conflict(Path(target), [Path(inp)])
    assert (got is None) if expected is None else (expected in got)


def test_first_run_and_force_rerun_beside_an_input_file_agree(tmp_path, monkeypatch):
    """stranger26 F15 / stranger27 F2: an output created beside study.yaml (or a layout)
    could never be replaced, and without --force the refusal hid that it existed."""
    from neurotox.io.output import OutputExistsError, check_target

    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.yaml").write_text("x")
    inputs = [Path("study.yaml")]
    check_target(Path("out"), force=False, inputs=inputs)        # first run: allowed
    write_run(tmp_path / "out")
    with pytest.raises(OutputExistsError, match=r"^out: output already exists; use --force"):
        check_target(Path("out"), force=False, inputs=inputs)
    check_target(Path("out"), force=True, inputs=inputs)         # re-run: replaceable
    with OutputDir(Path("out"), force=True, inputs=inputs) as od:
        od.write_text("new.txt", "second run")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.json",
                                                                   "new.txt"]
    assert (tmp_path / "study.yaml").read_text() == "x"


def test_an_input_read_during_the_run_protects_its_folder(tmp_path, monkeypatch):
    """Inputs a study names are known only once it is read: before the earlier output
    is replaced, every file the run read is checked again, and nothing is deleted."""
    from neurotox.io.output import OutputExistsError

    monkeypatch.chdir(tmp_path)
    write_run(tmp_path / "old")
    held = tmp_path / "old" / "notes.txt"
    before = {p: p.read_bytes() for p in (tmp_path / "old").rglob("*") if p.is_file()}
    with pytest.raises(OutputExistsError, match="it holds the input .*notes.txt"):
        with OutputDir(Path("old"), force=True) as od:
            od.record.add_inputs([held])          # a file the run read, named by the study
            od.write_text("t.csv", "a\n")
    assert {p: p.read_bytes() for p in (tmp_path / "old").rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["old"]       # no staging folder left
    plate = tmp_path / "plate"
    plate.mkdir()
    (plate / "a.tif").write_text("x")
    with pytest.raises(OutputExistsError, match="it lies inside the input folder"):
        with OutputDir(plate / "results") as od:
            od.record.add_inputs([plate])         # a plate folder named by the study
            od.write_text("t.csv", "a\n")
    assert sorted(p.name for p in plate.iterdir()) == ["a.tif"]


def test_input_reached_through_a_link_is_protected(tmp_path, monkeypatch):
    from neurotox.io.output import input_conflict

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "data")
    assert "holds the input" in input_conflict(Path("data"), [Path("link/x.csv")])


@pytest.mark.parametrize("name", ["r" * 250, "é" * 127, "日本" * 42, "out"])
def test_staging_names_fit_the_name_limit(tmp_path, name):
    with OutputDir(tmp_path / name) as od:
        assert len(os.fsencode(od.staging.name)) <= 255
        od.write_text("a.txt", "x")
    assert verify(tmp_path / name) == []
    write_run(tmp_path / name, force=True)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_current_user_without_a_name(monkeypatch):
    import getpass

    from neurotox.io.output import current_user

    def no_name():
        raise KeyError("getpwuid(): uid not found: 54321")
    monkeypatch.setattr(getpass, "getuser", no_name)
    assert current_user() == f"uid {os.getuid()}"


def test_the_input_folder_as_output_is_refused_before_force_is_offered(tmp_path, monkeypatch):
    """--force could not help: the message says why, not 'already exists'."""
    from neurotox.io.output import OutputExistsError, check_target

    monkeypatch.chdir(tmp_path)
    (tmp_path / "plate").mkdir()
    (tmp_path / "plate" / "a.tif").write_text("x")
    for force in (False, True):
        with pytest.raises(OutputExistsError, match="it is the input 'plate'"):
            check_target(Path("plate"), force=force, inputs=[Path("plate")])


def test_log_lines_are_stamped_in_utc_whatever_the_time_zone(tmp_path, monkeypatch):
    # a pipeline gathering logs from hosts in several zones (or a GLP archive read later)
    # orders them by the stamp: UTC, ISO 8601, as the manifest and run ID
    import logging
    import time

    from neurotox.files import LogFileHandler

    monkeypatch.setenv("TZ", "Etc/GMT+12")
    time.tzset()
    try:
        handler = LogFileHandler(tmp_path / "run.log", encoding="utf-8")
        record = logging.LogRecord("neurotox.test", logging.INFO, __file__, 1, "hello", None,
                                   None)
        record.created, record.msecs = 1764926753.85, 850.0     # 2025-12-05 09:25:53.850 UTC
        handler.emit(record)
        handler.close()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    line = (tmp_path / "run.log").read_text()
    assert line == "2025-12-05T09:25:53.850Z INFO neurotox.test: hello\n"


def test_signals_wait_until_the_renames_are_done_with_other_threads_running():
    """A SIGTERM arriving between the two renames of a --force replacement is raised once
    both are done, with other threads running (stranger34 F11 saw no output left)."""
    import os
    import signal
    import threading

    from neurotox.io.output import _signals_deferred

    class Stop(Exception):
        pass

    def stop(signum, frame):
        raise Stop

    previous = signal.signal(signal.SIGTERM, stop)
    idle = threading.Event()
    other = threading.Thread(target=idle.wait, daemon=True)    # a pool's thread
    other.start()
    done = []
    try:
        with pytest.raises(Stop):
            with _signals_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                for k in range(200_000):      # bytecodes on which a handler would run
                    done.append(k) if k == 199_999 else None
                done.append("renamed")
        assert done == [199_999, "renamed"]
        assert signal.getsignal(signal.SIGTERM) is stop
    finally:
        idle.set()
        signal.signal(signal.SIGTERM, previous)


def test_a_keyed_warning_stays_a_warning_under_its_key():
    # a note starting "warning: " is logged as a WARNING (an error under
    # --warnings-as-errors); prefixed "key: warning: ..." it would be an INFO line.
    # One rule for an assay entry (pipeline), a file (CIPN) and an analyte (neurochem)
    assert keyed_note("tmaze", "warning: 1 of 30 ...") == "warning: tmaze: 1 of 30 ..."
    assert keyed_note("tmaze", "convention: x") == "tmaze: convention: x"
    assert keyed_note("vf.csv", "warning: 2 series") == "warning: vf.csv: 2 series"


@pytest.mark.parametrize("raised, filename, filename2, reason", [
    # a writer naming no file (pandas, lxml under ulimit -f): the folder the user gave
    (lambda od: OSError(27, "File too large"), "{out}", None,
     "File too large (writing the output folder; nothing written)"),
    # a file of the hidden staging folder: the same file in the output folder
    (lambda od: OSError(28, "No space left on device", str(od.staging / "csv" / "t.csv.part")),
     "{out}/csv/t.csv", None, "No space left on device"),
    (lambda od: OSError(13, "Permission denied", str(od.staging), None,
                        str(od.staging / "a.txt")),
     "{out}", "{out}/a.txt", "Permission denied"),
    # a file elsewhere (an input) as it is
    (lambda od: FileNotFoundError(2, "No such file or directory", "/nonexistent/x.csv"),
     "/nonexistent/x.csv", None, "No such file or directory"),
])
def test_write_errors_name_the_output_folder_given_not_the_staging(tmp_path, monkeypatch,
                                                                    raised, filename, filename2,
                                                                    reason):
    """stranger50: 'Error: .ulf20.neurotox-tmp-18448: File too large' named a hidden folder."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OSError) as err, OutputDir("out") as od:
        raise raised(od)
    assert err.value.filename == filename.format(out="out")
    assert err.value.filename2 == (filename2 and filename2.format(out="out"))
    assert err.value.strerror == reason
    assert os.listdir(tmp_path) == []


def _dead_pid() -> str:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def _notes(out: Path) -> str:
    return (out / "notes.txt").read_text()


@pytest.mark.parametrize("given", ["out/../out", "out/tables/..", "./out/./../out",
                                   "out/tables/../../out"])
def test_force_through_the_target_itself_replaces_it(tmp_path, monkeypatch, given):
    """stranger53 L4/L9: a path through the folder being moved aside (``out/../out``,
    ``out/tables/..``) stopped leading anywhere after the first rename; the earlier
    output ended hidden in ``.out.neurotox-old-PID`` (and the next run deleted it), or
    the staging folder was made inside the target and --force was refused."""
    monkeypatch.chdir(tmp_path)
    write_run(Path("out"))
    write_run(Path(given), force=True, value=7)
    assert _notes(tmp_path / "out") == "value 7\n"
    assert verify(tmp_path / "out") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]          # nothing hidden left
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.json",
                                                                   "notes.txt", "tables"]


def test_new_output_spelled_through_itself_is_created_once(tmp_path, monkeypatch):
    """stranger53 L7: ``-o new/../new`` made an empty ``new``, then refused it as existing."""
    monkeypatch.chdir(tmp_path)
    write_run(Path("new/../new"), value=4)
    assert _notes(tmp_path / "new") == "value 4\n"
    assert verify(tmp_path / "new") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_an_earlier_output_moved_aside_is_restored_when_the_target_is_gone(tmp_path, caplog):
    """stranger53 L4b: the only copy of the earlier output, left in ``.out.neurotox-old-PID``
    by a run that failed between its renames, was deleted as a leftover by the next run."""
    dead = _dead_pid()
    write_run(tmp_path / f".out.neurotox-old-{dead}", value=1)
    caplog.set_level("INFO", logger="neurotox")
    with pytest.raises(OutputExistsError, match=r"out: output already exists; use --force"):
        write_run(tmp_path / "out", value=2)
    assert f"restored .out.neurotox-old-{dead}, the earlier output a failed run had moved " \
           f"aside, to {tmp_path / 'out'}" in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert _notes(tmp_path / "out") == "value 1\n"
    assert verify(tmp_path / "out") == []


def test_an_earlier_output_moved_aside_by_a_running_run_is_left_alone(tmp_path):
    aside = tmp_path / f".out.neurotox-old-{os.getpid()}"      # this process: still running
    write_run(aside, value=1)
    write_run(tmp_path / "out", value=2)
    assert _notes(aside) == "value 1\n"
    assert _notes(tmp_path / "out") == "value 2\n"


def test_replaced_output_that_cannot_be_deleted_is_a_warning(tmp_path, monkeypatch, caplog):
    """stranger53 R7: the new output was in place, deleting the old one failed (Permission
    denied), and the run exited 2; a later run must not put that old output back."""
    import neurotox.io.output as output

    out = write_run(tmp_path / "out", value=1)

    def denied(folder):
        raise PermissionError(13, "Permission denied", str(folder / "notes.txt"))
    monkeypatch.setattr(output, "_remove_replaced", denied)
    caplog.set_level("INFO", logger="neurotox")
    write_run(out, force=True, value=2)                       # no exception: the run succeeded
    left = tmp_path / f".out.neurotox-replaced-{os.getpid()}"
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "the output was written, but the earlier output it replaced could not be deleted "
        f"(Permission denied): it is left as {left}; delete it by hand"]
    assert _notes(out) == "value 2\n" and verify(out) == []
    assert _notes(left) == "value 1\n"
    monkeypatch.undo()
    import shutil
    shutil.rmtree(out)                           # the user removes the new output by hand
    write_run(out, value=3)                      # the replaced one is not put back: removed
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert _notes(out) == "value 3\n"


def test_force_refuses_an_edited_manifest_listing_a_user_file(tmp_path):
    """stranger53 M5: a file added by hand and listed in a hand-edited manifest was deleted
    by --force, although verify calls that manifest edited (self-hash differs)."""
    import hashlib

    out = write_run(tmp_path / "out")
    (out / "my_analysis.txt").write_text("years of work\n")
    doc = json.loads((out / MANIFEST).read_text())
    doc["outputs"].append({"path": "my_analysis.txt", "bytes": 14, "sha256": hashlib.sha256(
        b"years of work\n").hexdigest()})
    (out / MANIFEST).write_text(json.dumps(doc))
    assert verify(out) == ["manifest.json: edited after it was written (self-hash differs)"]
    with pytest.raises(OutputExistsError, match=r"^" + re.escape(
            f"{out}: --force refused: the folder is not an intact neurotox output: its "
            "manifest.json was edited after it was written (self-hash differs), so its list "
            "of files cannot be trusted; move it away or remove it yourself") + "$"):
        write_run(out, force=True, value=2)
    assert (out / "my_analysis.txt").read_text() == "years of work\n"
    assert _notes(out) == "value 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]

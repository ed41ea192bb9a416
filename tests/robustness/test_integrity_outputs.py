"""Attacks on what neurotox writes: --force over inputs, the log file, tampered outputs,
failing disks, signals, and machines without a home folder.

Cases needing root (a tiny or read-only tmpfs, another user ID) skip when not root.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurotox.io.output import MANIFEST, OutputDir, RunRecord, load_key, verify, verify_folder
from tests.robustness import test_rodent_corpus as rodent
from tests.robustness import test_stats_corpus as stats
from tests.robustness.corpus import (
    OLD_FILE,
    invoke,
    materialise,
    mount_tmpfs,
    needs_root,
    previous_output,
)

TMAZE = {**rodent.BASE, "entries.csv": rodent.ENTRIES,
         "study.yaml": rodent.STUDY + "assays:\n  - {assay: tmaze, protocol: tmaze-spontaneous, "
                                      "input: entries.csv}\n"}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes (links as their target text)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(folder))] = os.readlink(p).encode()
        elif p.is_file():
            out[str(p.relative_to(folder))] = p.read_bytes()
    return out


def one_line_error(result) -> str:
    text = result.output.strip()
    assert result.exit_code == 2, f"exit {result.exit_code}: {text}\n{result.exception!r}"
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), text
    assert "Traceback" not in text
    return lines[0]


def study_case(tmp_path: Path) -> Path:
    """A T-maze study in ``tmp_path/in``; returns that folder."""
    folder = tmp_path / "in"
    materialise(TMAZE, folder)
    return folder


# -------------------------------------------------------------- never destroy what is not ours

REPORT = ("--quiet", "report", "{dir}/study.yaml", "--format", "csv", "--no-bmd")


@pytest.mark.parametrize(("target", "prepare", "match"), [
    ("{dir}", None, "refusing to use this output folder: it holds the input"),
    ("{case}", None, "it holds the input"),
    ("{case}/other", "foreign", "is not the output of an earlier neurotox run"),
    ("{case}/old", "previous+extra", "notes.txt (file) was not written by the earlier run"),
    ("{case}/old", "previous+folder", "keep (folder) was not written by the earlier run"),
    ("{case}/old", "fake-manifest", "is not the output of an earlier neurotox run"),
    ("{case}/old", "previous+edited", "{case}/old/" + OLD_FILE + " (file) was changed after "
     "the earlier run wrote it (its SHA-256 or size is not the one in manifest.json); move "
     "it away or remove it yourself"),
    ("{case}/old", "previous+same-size", "{case}/old/" + OLD_FILE + " (file) was changed "
     "after the earlier run wrote it"),
    ("{case}/link", "symlink-to-inputs", "it holds the input"),
    # stranger53 M5: a user file listed by a hand-edited manifest (self-hash now wrong)
    ("{case}/old", "previous+listed", "the folder is not an intact neurotox output: its "
     "manifest.json was edited after it was written (self-hash differs)"),
])
def test_force_never_replaces_inputs_or_foreign_folders(tmp_path, target, prepare, match):
    folder = study_case(tmp_path)
    t = Path(target.replace("{dir}", str(folder)).replace("{case}", str(tmp_path)))
    if prepare and prepare.startswith("previous"):
        previous_output(t)
        if prepare.endswith("extra"):
            (t / "notes.txt").write_text("my own notes\n")
        if prepare.endswith("folder"):
            (t / "keep").mkdir()
        if prepare.endswith("edited"):       # stranger39 F3: a table curated by hand
            with open(t / OLD_FILE, "a") as f:
                f.write("x\n")
        if prepare.endswith("listed"):
            (t / "my_analysis.txt").write_text("my own analysis\n")
            doc = json.loads((t / MANIFEST).read_text())
            doc["outputs"].append({"path": "my_analysis.txt", "bytes": 16, "sha256":
                                   hashlib.sha256(b"my own analysis\n").hexdigest()})
            (t / MANIFEST).write_text(json.dumps(doc))
        if prepare.endswith("same-size"):
            text = (t / OLD_FILE).read_text()
            (t / OLD_FILE).write_text(text[:-2] + ("0" if text[-2] != "0" else "1") + text[-1])
    elif prepare == "foreign":
        t.mkdir()
        (t / "thesis.docx").write_text("years of work")
    elif prepare == "fake-manifest":
        t.mkdir()
        (t / MANIFEST).write_text('{"format": "something else"}')
        (t / "data.csv").write_text("a\n1\n")
    elif prepare == "symlink-to-inputs":
        t.symlink_to(folder, target_is_directory=True)
    before = snapshot(tmp_path)
    r = invoke((*REPORT, "-o", str(t), "--force"), tmp_path, inputs=folder)
    line = one_line_error(r)
    assert match.replace("{case}", str(tmp_path)) in line, line
    assert snapshot(tmp_path) == before, "something was changed or deleted"


def test_force_with_dot_and_a_parent_of_the_working_folder(tmp_path, monkeypatch):
    folder = study_case(tmp_path)
    work = tmp_path / "work"
    previous_output(work)
    monkeypatch.chdir(work)
    before = snapshot(tmp_path)
    for target in (".", str(tmp_path), "./"):
        r = invoke((*REPORT, "-o", target, "--force"), tmp_path, inputs=folder)
        assert "refusing to write the output over the current folder" in one_line_error(r)
    assert snapshot(tmp_path) == before


def test_force_on_a_previous_output_holding_the_input_table(tmp_path):
    """stats reading endpoints.csv of an earlier run may not replace that run's folder."""
    materialise(stats.BASE, tmp_path / "in")
    out = tmp_path / "out"
    with OutputDir(out, record=RunRecord(command=["earlier"])) as od:
        od.write_text("endpoints.csv", stats.EPT)
    before = snapshot(tmp_path)
    r = invoke(("stats", "{out}/endpoints.csv", "--study", "{dir}/study.yaml", "-o", "{out}",
                "--force"), tmp_path, inputs=tmp_path / "in")
    assert "it holds the input" in one_line_error(r)
    assert snapshot(tmp_path) == before


def test_force_replaces_an_earlier_output_beside_the_inputs(tmp_path):
    folder = study_case(tmp_path)
    previous_output(tmp_path / "out")
    r = invoke((*REPORT, "-o", "{out}", "--force"), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    assert verify(tmp_path / "out") == []
    assert not (tmp_path / "out" / "previous-run.txt").exists()


def test_force_through_the_output_itself_replaces_it_end_to_end(tmp_path, monkeypatch):
    """stranger53 L4: ``-o realout/../realout --force`` moved the earlier output aside, then
    neither the new folder nor the old one could be renamed back (``realout/..`` was gone):
    exit 2, nothing at realout, and the next run deleted the hidden earlier output."""
    folder = study_case(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = invoke((*REPORT, "-o", "realout"), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    first = json.loads((tmp_path / "realout" / MANIFEST).read_text())["started_utc"]
    r = invoke((*REPORT, "-o", "realout/../realout", "--force"), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    assert verify(tmp_path / "realout") == []
    assert json.loads((tmp_path / "realout" / MANIFEST).read_text())["started_utc"] > first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "realout"]


def test_force_replaces_an_earlier_output_in_the_study_folder(tmp_path):
    """stranger27 F2 / stranger26 F15: the first run creates ``out`` beside study.yaml;
    the re-run without --force says it exists, with --force replaces it."""
    folder = study_case(tmp_path)
    r = invoke((*REPORT, "-o", "{dir}/out"), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    r = invoke((*REPORT, "-o", "{dir}/out"), tmp_path, inputs=folder)
    assert one_line_error(r) == (f"Error: {folder}/out: output already exists; use --force "
                                 "to replace it")
    inputs = {k: v for k, v in snapshot(folder).items() if not k.startswith("out")}
    r = invoke((*REPORT, "-o", "{dir}/out", "--force"), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    assert verify(folder / "out") == []
    assert {k: v for k, v in snapshot(folder).items() if not k.startswith("out")} == inputs


def test_force_never_replaces_an_earlier_output_holding_a_file_the_study_reads(tmp_path):
    """The study's entries come from an earlier output: only the loaded study names that
    file, so the check before replacing catches it (nothing deleted, no staging left)."""
    folder = study_case(tmp_path)
    with OutputDir(folder / "old", record=RunRecord(command=["earlier"])) as od:
        od.write_text("entries.csv", rodent.ENTRIES)
    study = folder / "study.yaml"
    study.write_text(study.read_text().replace("input: entries.csv", "input: old/entries.csv"))
    before = snapshot(tmp_path)
    r = invoke((*REPORT, "-o", "{dir}/old", "--force"), tmp_path, inputs=folder)
    assert one_line_error(r) == (f"Error: {folder}/old: refusing to use this output folder: it "
                                 f"holds the input '{folder}/old/entries.csv'; give a folder "
                                 "outside the inputs")
    assert snapshot(tmp_path) == before


def _pattern_study(tmp_path: Path) -> Path:
    """The T-maze study reading its entries by the recursive pattern ``entries/**/*.csv``."""
    folder = tmp_path / "in"
    materialise({**TMAZE, "entries/day1.csv": rodent.ENTRIES}, folder)
    (folder / "entries.csv").unlink()
    study = folder / "study.yaml"
    study.write_text(study.read_text().replace("input: entries.csv",
                                               "input: 'entries/**/*.csv'"))
    return folder


@pytest.mark.parametrize("sub", ["entries/run1", "entries/a/b", "entries/.hidden"])
def test_output_where_an_input_pattern_would_read_it_is_refused(tmp_path, sub):
    """stranger53 G1/G2: an output inside the folder a study pattern scans is refused at
    the first run (every later run would read its tables as inputs); nothing is written."""
    folder = _pattern_study(tmp_path)
    before = snapshot(tmp_path)
    r = invoke(("tmaze", "--study", "{dir}/study.yaml", "-o", f"{{dir}}/{sub}"), tmp_path,
               inputs=folder)
    assert one_line_error(r) == (
        f"Error: {folder}/{sub}: refusing to use this output folder: the input pattern "
        f"'entries/**/*.csv' ({folder}/study.yaml, key 'assays.tmaze.input[0]') would match "
        "the files written into it, and the next run would read them as inputs; give a "
        "folder outside the inputs")
    assert snapshot(tmp_path) == before


def test_output_beside_what_an_input_pattern_reads_is_allowed(tmp_path):
    """``entries/*.csv`` reads no folder below ``entries``; ``results`` is outside the pattern."""
    folder = _pattern_study(tmp_path)
    study = folder / "study.yaml"
    study.write_text(study.read_text().replace("entries/**/*.csv", "entries/*.csv"))
    for out in ("entries/run1", "results"):
        r = invoke(("--quiet", "tmaze", "--study", "{dir}/study.yaml", "-o", f"{{dir}}/{out}"),
                   tmp_path, inputs=folder)
        assert r.exit_code == 0, r.output
        assert verify(folder / out) == []


def test_input_pattern_skips_an_earlier_output(tmp_path):
    """Files inside a neurotox output folder (its manifest.json) are results, never matched
    by a study pattern: the run reads only the real export and says what it skipped."""
    folder = _pattern_study(tmp_path)
    with OutputDir(folder / "entries" / "old", record=RunRecord(command=["earlier"])) as od:
        od.write_text("entries.csv", rodent.ENTRIES)      # same bytes: read, it would be a twin
        od.write_text("endpoints.csv", "not an export\n")
    r = invoke(("tmaze", "--study", "{dir}/study.yaml", "-o", str(tmp_path / "out")), tmp_path,
               inputs=folder)
    assert r.exit_code == 0, r.output
    note = ("input pattern 'entries/**/*.csv' of study.yaml: skipped the files in the "
            "neurotox output folder(s) 'entries/old' (results of an earlier run, not inputs)")
    assert f"INFO: {note}" in r.output
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert note in manifest["notes"]
    assert sorted(i["path"] for i in manifest["inputs"]
                  if i["path"].endswith(".csv")) == ["../in/entries/day1.csv", "../in/subjects.csv"]


def test_output_inside_an_input_folder_is_refused(tmp_path):
    """A plate folder is read whole: the output may not be written inside it."""
    plate = tmp_path / "plate"
    plate.mkdir()
    (tmp_path / "layout.csv").write_text("well,group,concentration\nA01,C,0\n")
    before = snapshot(tmp_path)
    r = invoke(("neurite", str(plate), "--layout", str(tmp_path / "layout.csv"),
                "-o", str(plate / "results")), tmp_path)
    assert "it lies inside the input folder" in one_line_error(r)
    assert snapshot(tmp_path) == before


def test_output_inside_an_earlier_output_is_refused(tmp_path):
    """A simulated study is itself a neurotox output: a report written inside it would
    make its manifest fail verification, so it goes elsewhere."""
    r = invoke(("simulate", "oecd-424", "-o", str(tmp_path / "study")), tmp_path)
    assert r.exit_code == 0
    before = snapshot(tmp_path)
    r = invoke(("report", str(tmp_path / "study" / "study.yaml"), "--format", "csv",
                "-o", str(tmp_path / "study" / "report")), tmp_path)
    assert "refusing to write inside the neurotox output" in one_line_error(r)
    assert snapshot(tmp_path) == before
    assert verify(tmp_path / "study") == []
    # the same through a symbolic link to a folder inside an output (with and without --force)
    r = invoke(("report", str(tmp_path / "study" / "study.yaml"), "--format", "csv",
                "-o", str(tmp_path / "rep")), tmp_path)
    assert r.exit_code == 0, r.output
    (tmp_path / "link").symlink_to(tmp_path / "rep" / "csv")
    before = snapshot(tmp_path)
    for force in ((), ("--force",)):
        r = invoke(("report", str(tmp_path / "study" / "study.yaml"), "--format", "csv",
                    "-o", str(tmp_path / "link" / "again"), *force), tmp_path)
        assert "refusing to write inside the neurotox output" in one_line_error(r)
    assert snapshot(tmp_path) == before
    assert verify(tmp_path / "rep") == []


@pytest.mark.parametrize(("log", "match"), [
    ("{dir}/study.yaml", "is also given as"),
    ("{dir}/subjects.csv", "exists and is not a neurotox log; refusing to append to it"),
    ("{dir}/entries.csv", "exists and is not a neurotox log"),
    ("{case}/nowhere/run.log", "does not exist"),
    ("{dir}/study.yaml/run.log", "/study.yaml' is a file, not a folder"),
    ("{out}/run.log", "lies inside the folder"),
    ("{dir}", "is a directory"),
])
def test_log_file_is_never_an_input(tmp_path, log, match):
    folder = study_case(tmp_path)
    previous_output(tmp_path / "out")
    log = log.replace("{case}", str(tmp_path))
    before = snapshot(tmp_path)
    r = invoke(("--log-file", log, *REPORT[1:], "-o", "{out}", "--force"), tmp_path,
               inputs=folder)
    if match == "is a directory":   # click's own check: a usage error (several lines)
        assert r.exit_code == 2 and match in r.output
    else:
        assert match in one_line_error(r)
    assert snapshot(tmp_path) == before


def test_log_file_fifo_refused_at_once(tmp_path):
    folder = study_case(tmp_path)
    os.mkfifo(tmp_path / "log.fifo")
    r = invoke(("--log-file", str(tmp_path / "log.fifo"), "check", "{dir}/study.yaml"),
               tmp_path, inputs=folder)
    assert "is a FIFO (named pipe), not a log file" in one_line_error(r)


def test_log_file_appends_to_its_own_log(tmp_path):
    folder = study_case(tmp_path)
    log = tmp_path / "run.log"
    for _ in range(2):
        r = invoke(("--log-file", str(log), "check", "{dir}/study.yaml"), tmp_path,
                   inputs=folder)
        assert r.exit_code == 0, r.output
    assert "study is valid" in r.output


def test_signing_key_inside_the_output_is_refused(tmp_path):
    folder = study_case(tmp_path)
    previous_output(tmp_path / "out")
    key = tmp_path / "out" / "key"
    key.write_bytes(os.urandom(32))
    r = invoke((*REPORT, "-o", "{out}", "--force", "--sign-key", str(key)), tmp_path,
               inputs=folder)
    assert "lies inside the output folder" in one_line_error(r)
    assert key.exists()


def test_a_signed_output_is_never_replaced(tmp_path):
    # a signed report is final: --force (with or without the key) does not replace it
    folder = study_case(tmp_path)
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    r = invoke((*REPORT, "-o", "{out}", "--sign-key", str(key)), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    before = snapshot(tmp_path)
    for sign in ((), ("--sign-key", str(key))):
        r = invoke((*REPORT, "-o", "{out}", "--force", *sign), tmp_path, inputs=folder)
        assert one_line_error(r).endswith(
            "--force refused: the folder is a signed output (key "
            f"{load_key(key).key_id}): a signed report is never replaced; write the new run "
            "(an amendment) to a new folder; move it away or remove it yourself")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("key", ["study.yaml", "subjects.csv", "entries.csv"])
def test_signing_key_that_is_an_input_is_refused(tmp_path, key):
    """stranger29 F15: an input as the key let anyone holding the data re-sign a manifest.

    study.yaml is on the command line; subjects.csv and entries.csv are named only
    by the study (caught once the study is read, before the output is written).
    """
    folder = study_case(tmp_path)
    before = snapshot(tmp_path)
    r = invoke((*REPORT, "-o", "{out}", "--sign-key", str(folder / key)), tmp_path,
               inputs=folder)
    # a key the study names is found once the study is read, after the mode-644 warning
    assert r.exit_code == 2 and "Traceback" not in r.output
    line = r.output.strip().splitlines()[-1]
    assert line.startswith(f"Error: {folder / key}: the signing key is also an input of this "
                           "run ("), line
    assert line.endswith("); a key must be a secret file of its own, not data that travels "
                         "with the study (anyone holding the data could sign with it)"), line
    assert snapshot(tmp_path) == before and not (tmp_path / "out").exists()


def test_signing_key_inside_an_input_folder_is_refused(tmp_path):
    from neurotox.io.output import check_key

    plate = tmp_path / "plate"
    plate.mkdir()
    (plate / "key").write_bytes(os.urandom(32))
    with pytest.raises(Exception, match=r"the signing key lies inside the input folder "
                                        rf"'{plate}'; a key must be a secret file"):
        check_key(load_key(plate / "key"), [plate])
    check_key(load_key(plate / "key"), [tmp_path / "elsewhere.csv"])   # no conflict


def test_a_signing_key_others_can_read_is_a_warning(tmp_path):
    """stranger29 F15: a mode-644 key was accepted silently (the docs recommend 600)."""
    folder = study_case(tmp_path)
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    r = invoke(("--warnings-as-errors", *REPORT, "-o", "{out}", "--sign-key", str(key)),
               tmp_path, inputs=folder)
    assert one_line_error(r) == (f"Error: the signing key {str(key)!r} can be read by its group "
                                 "or others (mode 0644); anyone who can read it can sign; make "
                                 "it private (chmod 600) (a warning, an error under "
                                 "--warnings-as-errors)")
    assert not (tmp_path / "out").exists()
    r = invoke((*REPORT, "-o", "{out}", "--sign-key", str(key)), tmp_path, inputs=folder)
    assert r.exit_code == 0 and "WARNING: the signing key" in r.output
    notes = json.loads((tmp_path / "out" / MANIFEST).read_text())["notes"]
    assert sum("can be read by its group or others (mode 0644)" in n for n in notes) == 1
    key.chmod(0o600)     # (a signed output is final: the next run goes to a new folder)
    r = invoke((*REPORT, "-o", str(tmp_path / "out2"), "--sign-key", str(key)), tmp_path,
               inputs=folder)
    assert r.exit_code == 0 and "signing key" not in r.output


def test_log_file_inside_another_neurotox_output_is_refused(tmp_path):
    """stranger29 F16: a log written into an earlier output broke that output's verify."""
    folder = study_case(tmp_path)
    previous_output(tmp_path / "earlier")
    (tmp_path / "earlier" / "sub").mkdir()
    before = snapshot(tmp_path)
    for log in ("earlier/run.log", "earlier/sub/run.log"):
        r = invoke(("--log-file", str(tmp_path / log), "check", "{dir}/study.yaml"), tmp_path,
                   inputs=folder)
        assert one_line_error(r) == (f"Error: --log-file: {tmp_path / log} lies inside the "
                                     f"neurotox output {str(tmp_path / 'earlier')!r} (its "
                                     "manifest would no longer verify); write the log "
                                     "elsewhere")
    assert snapshot(tmp_path) == before
    assert verify(tmp_path / "earlier") == ["sub/: extra folder not in the manifest"]


def test_output_below_a_file_says_it_is_a_file(tmp_path):
    """stranger29 F23: '-o afile/sub' said 'afile: File exists'."""
    folder = study_case(tmp_path)
    (tmp_path / "afile").write_text("x\n")
    for target in ("afile/sub", "afile/sub/deeper"):
        r = invoke((*REPORT, "-o", str(tmp_path / target)), tmp_path, inputs=folder)
        assert one_line_error(r) == (f"Error: {tmp_path / target}: cannot create the output "
                                     f"folder: {str(tmp_path / 'afile')!r} is a file, not a "
                                     "folder")
    assert (tmp_path / "afile").read_text() == "x\n"


# -------------------------------------------------------------- tamper evidence that holds

@pytest.fixture
def output(tmp_path) -> Path:
    out = tmp_path / "out"
    with OutputDir(out, record=RunRecord(command=["t"])) as od:
        od.write_text("a.csv", "x\n1\n")
        od.write_text("sub/b.csv", "y\n2\n")
        od.write_json("sub/manifest.json", {"nested": True})
    return out


def _rehash(out: Path) -> None:
    """What a forger does: recompute every hash and the self-hash of the manifest."""
    from neurotox.io.output import _canonical  # the manifest's own canonical form

    doc = json.loads((out / MANIFEST).read_text())
    for o in doc["outputs"]:
        o["sha256"] = hashlib.sha256((out / o["path"]).read_bytes()).hexdigest()
        o["bytes"] = (out / o["path"]).stat().st_size
    doc.pop("manifest_sha256")
    doc["manifest_sha256"] = hashlib.sha256(_canonical(doc)).hexdigest()
    (out / MANIFEST).write_text(json.dumps(doc))


@pytest.mark.parametrize(("tamper", "expected"), [
    ("nested-manifest", ["sub/manifest.json: changed (SHA-256 differs)"]),
    ("symlink-to-copy", ["a.csv: symbolic link to '../copy.csv', not a file written by "
                         "neurotox (not followed)"]),
    ("symlinked-folder", ["sub: symbolic link to '../elsewhere', not a file written by "
                          "neurotox (not followed)", "sub/b.csv: missing",
                          "sub/manifest.json: missing"]),
    ("empty-folder", ["extra/: extra folder not in the manifest"]),
    # a report written into the folder: one line for it, not one per file
    ("full-folder", ["extra/: extra folder not in the manifest (4 entries inside)"]),
    ("fifo", ["pipe: a FIFO (named pipe), not a regular file"]),
    ("dangling-link", ["gone: symbolic link to '/nonexistent/x', not a file written by "
                       "neurotox (not followed)"]),
])
def test_verify_sees_every_path(output, tamper, expected):
    elsewhere = output.parent / "elsewhere"
    if tamper == "nested-manifest":
        (output / "sub" / "manifest.json").write_text('{"nested": false}\n')
    elif tamper == "symlink-to-copy":
        shutil.copy(output / "a.csv", output.parent / "copy.csv")
        (output / "a.csv").unlink()
        (output / "a.csv").symlink_to("../copy.csv")
    elif tamper == "symlinked-folder":
        shutil.copytree(output / "sub", elsewhere)
        shutil.rmtree(output / "sub")
        (output / "sub").symlink_to("../elsewhere", target_is_directory=True)
    elif tamper == "empty-folder":
        (output / "extra").mkdir()
    elif tamper == "full-folder":
        (output / "extra" / "figures").mkdir(parents=True)
        for name in ("report.html", "figures/a.png", "figures/a.svg"):
            (output / "extra" / name).write_text("x")
    elif tamper == "fifo":
        os.mkfifo(output / "pipe")
    elif tamper == "dangling-link":
        (output / "gone").symlink_to("/nonexistent/x")
    assert verify(output) == expected


def test_rehashed_manifest_is_caught_by_the_key(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("a long random secret, 32+ bytes!\n")
    r = invoke(("--quiet", "simulate", "tmaze", "-o", "{out}", "--sign-key", str(key_file)),
               tmp_path)
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    key = load_key(key_file)
    assert verify_folder(out, key=key).problems == []
    r = invoke(("verify", "{out}", "--key", str(key_file)), tmp_path)
    assert r.exit_code == 0 and f"signature valid (key {key.key_id})" in r.output
    # an edit with every hash recomputed: intact without the key, caught with it
    (out / "subjects.csv").write_text((out / "subjects.csv").read_text() + "X9,G1,M\n")
    _rehash(out)
    assert verify(out) == []
    r = invoke(("verify", "{out}", "--key", str(key_file)), tmp_path)
    assert r.exit_code == 1
    assert r.output.strip() == ("manifest.json: signature does not match the key (manifest "
                                "rewritten, or signed with another key)")
    # removing the signature does not help
    doc = json.loads((out / MANIFEST).read_text())
    doc.pop("signature")
    (out / MANIFEST).write_text(json.dumps(doc))
    _rehash(out)
    assert verify_folder(out, key=key).problems == [
        "manifest.json: not signed, but a key was given (unsigned or signature removed)"]


def test_signing_key_from_the_environment(tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_bytes(os.urandom(32))
    monkeypatch.setenv("NEUROTOX_SIGN_KEY_FILE", str(key_file))
    r = invoke(("--quiet", "simulate", "tmaze", "-o", "{out}"), tmp_path)
    assert r.exit_code == 0, r.output
    assert "signature" in json.loads((tmp_path / "out" / MANIFEST).read_text())
    r = invoke(("verify", "{out}"), tmp_path)
    assert r.exit_code == 0 and "signature valid" in r.output


@pytest.mark.parametrize(("key", "match"), [(b"short", "needs at least 16 bytes, found 5"),
                                            (b"", "found 0")])
def test_weak_signing_key_refused(tmp_path, key, match):
    (tmp_path / "key").write_bytes(key)
    r = invoke(("simulate", "tmaze", "-o", "{out}", "--sign-key", str(tmp_path / "key")),
               tmp_path)
    assert match in one_line_error(r)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("manifest", "match"), [
    ("[" * 100_000 + "]" * 100_000, "JSON nests too deeply"),
    ('{"a": ' * 50_000 + "1" + "}" * 50_000, "JSON nests too deeply"),
    ('{"format": "neurotox-manifest/2", "manifest_sha256": "' + "0" * 64 + '", "outputs": {}}',
     "key 'outputs': expected a list"),
    ('{"format": "neurotox-manifest/2", "manifest_sha256": "' + "0" * 64 + '", "outputs": '
     '[{"path": 3, "sha256": "x"}]}', "key 'outputs[0].path': expected a file path"),
    ('{"format": "neurotox-manifest/2", "manifest_sha256": "' + "0" * 64 + '", "outputs": '
     '[{"path": "../../etc/passwd", "sha256": "' + "a" * 64 + '"}]}',
     "expected a relative path inside the folder, found '../../etc/passwd'"),
    ('{"format": "neurotox-manifest/2", "manifest_sha256": "' + "0" * 64 + '", "outputs": '
     '[{"path": "/etc/passwd", "sha256": "' + "a" * 64 + '"}]}', "found '/etc/passwd'"),
    ('{"format": "neurotox-manifest/2", "manifest_sha256": "' + "0" * 64 + '", "outputs": '
     '[{"path": "a", "sha256": "' + "a" * 64 + '", "bytes": "many"}]}',
     "key 'outputs[0].bytes': expected a size in bytes"),
    ('{"format": "neurotox-manifest/2", "manifest_sha256": "' + "0" * 64 + '", "outputs": '
     '[{"path": "a", "sha256": "' + "a" * 64 + '"}, {"path": "a", "sha256": "' + "a" * 64
     + '"}]}', "each path once, found 'a' twice"),
    ('{"format": "other/1"}', "key 'format': expected 'neurotox-manifest/2'"),
    # stranger29 F23: a future format was verified as if this version understood it
    ('{"format": "neurotox-manifest/99", "manifest_sha256": "' + "0" * 64 + '", "outputs": []}',
     "key 'format': expected 'neurotox-manifest/1' or 'neurotox-manifest/2' (the formats this "
     "neurotox reads), found 'neurotox-manifest/99'; verify it with the neurotox version that "
     "wrote it"),
    ('"just text"', "expected a JSON object"),
    ("\udcff\udcfe", "manifest is not readable JSON"),
    ('{"format": "neurotox-manifest/2", "manifest_sha256": 5}',
     "key 'manifest_sha256': expected a SHA-256 hex digest"),
    ('{"format": "neurotox-manifest/2", "manifest_sha256": "' + "0" * 64 + '", "outputs": [], '
     '"signature": [1]}', "key 'signature': expected algorithm, key_id and value"),
])
def test_malformed_manifest_is_one_line(tmp_path, manifest, match):
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_bytes(manifest.encode("utf-8", "surrogateescape"))
    r = invoke(("verify", "{out}"), tmp_path)
    assert match in one_line_error(r)


def test_manifest_with_a_key_given_twice(output, tmp_path):
    text = (output / MANIFEST).read_text()
    (output / MANIFEST).write_text(text.replace('"outputs": [', '"outputs": [], "outputs": [', 1))
    assert "duplicate key 'outputs' in a JSON object" in one_line_error(
        invoke(("verify", "{out}"), tmp_path))


def test_verify_names_odd_files_on_one_line(output):
    (output / "two\nlines").write_text("x")
    assert verify(output) == ["'two\\nlines': extra file not in the manifest"]


def test_closed_output_pipe_is_quiet(tmp_path, monkeypatch):
    """``neurotox endpoints list | head``: no error line, no traceback, exit 141."""
    import click

    def closed(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(click, "echo", closed)
    r = invoke(("endpoints", "list"), tmp_path)
    assert r.exit_code == 141
    assert r.output == ""


def test_manifest_that_is_a_fifo_or_link(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / MANIFEST)
    assert "expected a regular file, found a FIFO" in one_line_error(
        invoke(("verify", "{out}"), tmp_path))
    (out / MANIFEST).unlink()
    (out / MANIFEST).symlink_to("/etc/hostname")
    assert "found a symbolic link" in one_line_error(invoke(("verify", "{out}"), tmp_path))


def test_manifest_records_no_machine_paths(tmp_path):
    folder = study_case(tmp_path)
    r = invoke((*REPORT, "-o", "{out}"), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "out" / MANIFEST).read_text())
    paths = [i["path"] for i in doc["inputs"]]
    assert sorted(paths) == ["../in/entries.csv", "../in/study.yaml", "../in/subjects.csv"]
    assert doc["parameters"]["study"] == "../in/study.yaml"
    assert "working_directory" not in doc
    text = json.dumps({k: v for k, v in doc.items() if k != "command"})
    assert str(tmp_path) not in text


# -------------------------------------------------------------- every failure one line

def test_output_name_longer_than_staging_allows(tmp_path):
    """A 250-character name fits the file system; its staging folder must fit too."""
    name = "r" * 250
    r = invoke(("--quiet", "simulate", "tmaze", "-o", str(tmp_path / name)), tmp_path)
    assert r.exit_code == 0, r.output
    assert verify(tmp_path / name) == []
    r = invoke(("--quiet", "simulate", "tmaze", "-o", str(tmp_path / name), "--force"), tmp_path)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("out", ["n" * 256, "a/" + "n" * 300 + "/b"])
def test_output_name_too_long(tmp_path, monkeypatch, out):
    """stranger39 F4: a 256-byte -o name failed only at the final rename, after the run."""
    import neurotox.pipeline

    folder = study_case(tmp_path)
    monkeypatch.setattr(neurotox.pipeline, "prepare", lambda *a, **k: pytest.fail("ran"))
    r = invoke((*REPORT, "-o", str(tmp_path / out)), tmp_path, inputs=folder)
    long = out.split("/")[1] if "/" in out else out
    assert one_line_error(r) == (
        f"Error: {tmp_path / out}: cannot create the output folder: the name {'n' * 40}… is "
        f"{len(long)} bytes long, more than the 255 the file system allows; give a shorter "
        "name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_output_under_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    line = one_line_error(invoke(("simulate", "tmaze", "-o", str(tmp_path / "f" / "out")),
                                 tmp_path))
    assert line.endswith(f"{str(tmp_path / 'f')!r} is a file, not a folder"), line


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "localhost:8786", "tcp://:1",
                                     "tcp://256.1.1.1:80", "tcp://127.0.0.1:99999"])
def test_unreachable_scheduler_is_one_line(tmp_path, address):
    (tmp_path / "plate").mkdir()
    (tmp_path / "layout.csv").write_text("well,group,concentration\nA01,C,0\n")
    r = invoke(("neurite", str(tmp_path / "plate"), "--layout", str(tmp_path / "layout.csv"),
                "--scheduler", address, "-o", "{out}"), tmp_path)
    assert "--scheduler" in one_line_error(r)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"])
def test_a_port_that_is_no_dask_scheduler_is_refused(tmp_path, reply):
    # the dashboard's web server (8787 for 8786) waits for a request; another service
    # answers at once: a Dask client waited forever, or read the answer as a huge message
    # length and the run failed as "out of memory"
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    held = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if reply:
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    try:
        (tmp_path / "plate").mkdir()
        (tmp_path / "layout.csv").write_text("well,group,concentration\nA01,C,0\n")
        r = invoke(("neurite", str(tmp_path / "plate"), "--layout",
                    str(tmp_path / "layout.csv"), "--scheduler", f"tcp://127.0.0.1:{port}",
                    "-o", "{out}"), tmp_path)
        assert one_line_error(r) == (
            f"Error: --scheduler: tcp://127.0.0.1:{port} accepts connections but is not a Dask "
            "scheduler (no answer to a scheduler's handshake within 5 s; the dashboard port "
            "8787 instead of 8786?)")
        assert not (tmp_path / "out").exists()
    finally:
        server.close()
        for conn in held:
            conn.close()


@needs_root
def test_disk_full_is_one_line_and_leaves_nothing(tmp_path):
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "size=8k")
    try:
        r = invoke(("--quiet", "simulate", "tmaze", "-o", str(disk / "out")), tmp_path)
        line = one_line_error(r)
        # the output folder given is named (a pipeline running many studies at once), with
        # the file being written when the writer says it; never the hidden staging folder
        assert line.startswith(f"Error: {disk}/out"), line
        assert ".neurotox-tmp-" not in line and ": No space left on device" in line, line
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@needs_root
def test_disk_full_under_force_names_the_file(tmp_path):
    """stranger39 F2: a full disk under --force said 'No space left on device', no file."""
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "size=64k")
    try:
        previous_output(disk / "out")
        with contextlib.suppress(OSError), open(disk / "filler", "wb") as f:
            while True:                          # the rest of the disk
                f.write(b"x" * 1024)
                f.flush()
        before = snapshot(disk)
        r = invoke(("--quiet", "simulate", "tmaze", "-o", str(disk / "out"), "--force"),
                   tmp_path)
        line = one_line_error(r)
        assert line.startswith(f"Error: {disk}/out"), line
        assert ".neurotox-tmp-" not in line and ": No space left on device" in line, line
        assert snapshot(disk) == before        # the earlier output intact, nothing left
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@needs_root
def test_read_only_output_is_one_line(tmp_path):
    disk = tmp_path / "ro"
    mount_tmpfs(disk, "size=1m,ro")
    try:
        r = invoke(("simulate", "tmaze", "-o", str(disk / "out")), tmp_path)
        assert "Read-only file system" in one_line_error(r)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def _drop() -> None:
    os.setgroups([])
    os.setgid(54321)
    os.setuid(54321)


def _as_user(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run Python ``code`` as user/group 54321 (no name, no home) with ``env`` only.

    The interpreter and packages of this environment are used; when the interpreter
    itself is not readable by other users (installed under /root), the system's
    Python of the same version runs them instead, or the test is skipped.
    """
    import site

    import neurotox

    path = [*site.getsitepackages(), str(Path(neurotox.__file__).resolve().parents[1])]
    env = {**env, "PYTHONPATH": os.pathsep.join(path)}
    python = _interpreter_for_others(frozenset(env.items()))
    if python is None:
        pytest.skip("no Python interpreter readable by another user")
    return subprocess.run([python, "-c", code], env=env, cwd=cwd, preexec_fn=_drop,
                          capture_output=True, text=True, timeout=600)


@functools.cache
def _interpreter_for_others(env: frozenset) -> str | None:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for python in (sys.executable, shutil.which(version, path="/usr/bin:/usr/local/bin")):
        if not python:
            continue
        try:   # can that user run it?
            probe = subprocess.run([python, "-c", "import os"], env=dict(env), cwd="/",
                                   preexec_fn=_drop, capture_output=True, timeout=600)
        except PermissionError:
            continue
        if probe.returncode == 0:
            return python
    return None


@pytest.fixture
def open_tmp():
    """A temporary folder every user can enter (pytest's own are private to root)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="neurotox-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@needs_root
def test_permission_denied_is_one_line(open_tmp):
    locked = open_tmp / "locked"
    locked.mkdir(mode=0o555)
    res = _as_user("from neurotox.cli.main import cli; cli(['simulate', 'tmaze', '-o', "
                   f"'{locked}/out'])", {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
                   open_tmp)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0] == f"Error: {locked}/out: Permission denied"


@needs_root
def test_runs_as_an_arbitrary_user_without_home(open_tmp):
    """Read-only install, no writable home, a UID with no name: import, analyse, write."""
    work = open_tmp / "work"
    work.mkdir()
    work.chmod(0o777)
    code = ("from neurotox.cli.main import cli\n"
            "from neurotox.imaging import skeleton\n"
            "for args in (['simulate', 'tmaze', '-o', 'sim'], ['report', 'sim/study.yaml', "
            "'--format', 'csv', '--no-bmd', '-o', 'rep']):\n"
            "    assert not cli(['--quiet', *args], standalone_mode=False), args\n")
    res = _as_user(code, {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}, work)
    assert res.returncode == 0, res.stderr[-2000:]
    manifest = json.loads((work / "rep" / MANIFEST).read_text())
    assert manifest["user"] == "uid 54321"
    assert verify(work / "rep") == []


def _staging_of(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if ".neurotox-tmp-" in p.name]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_removes_staging(tmp_path, sig):
    """What a batch scheduler sends: the run stops, the staging folder goes, nothing is left."""
    proc = subprocess.Popen([sys.executable, "-m", "neurotox", "--quiet", "simulate", "all",
                             "-o", str(tmp_path / "out")], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _staging_of(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the run ended before it could be signalled")
    proc.send_signal(sig)
    err = proc.communicate(timeout=120)[1]
    if proc.returncode == 0:
        # the run had committed its output and was exiting when the signal came (a
        # starved poller sees the staging folder late): then the output is complete
        assert verify(tmp_path / "out") == [], err
        assert [p.name for p in tmp_path.iterdir()] == ["out"]
        return
    # Ctrl-C: click's "Aborted!" (1), or Python's own report of SIGINT (-2) when the
    # interrupt lands while the interpreter exits
    assert proc.returncode in ((1, -2) if sig == signal.SIGINT else (128 + sig,)), err
    assert "Traceback" not in err
    if sig != signal.SIGINT:
        assert err.strip() == (f"Error: terminated by {sig.name}; no unfinished output is "
                               "left behind")
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------- byte-identical simulations

def test_simulate_is_byte_identical_at_any_time(tmp_path):
    """The same seed gives the same bytes, a few seconds later too (zip and document dates)."""
    for name in ("a", "b"):
        if name == "b":
            time.sleep(2.1)   # zip timestamps have a resolution of 2 s
        r = invoke(("--quiet", "simulate", "nor", "-o", str(tmp_path / name)), tmp_path)
        assert r.exit_code == 0, r.output
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    a.pop(MANIFEST), b.pop(MANIFEST)
    assert any(name.endswith(".xlsx") for name in a)
    assert a == b


CHANGED = ("changed while the run read it (size, modification time or file identity differs "
           "from when the run opened it, or the file is gone); run again")


@pytest.mark.parametrize("how", ["edited", "replaced, same size and time", "removed"])
def test_input_changed_during_the_run_is_an_error(tmp_path, how):
    """An input that changes after the run met it (before reading it) fails the run.

    The file is recorded only after it was read and changed (as ``report`` records
    the study's data files after the assays): the manifest must not name the new bytes.
    """
    from neurotox.errors import InputError

    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    with pytest.raises(InputError) as info:
        with OutputDir(tmp_path / "out", inputs=[src]) as od:
            od.write_text("t.csv", src.read_text())
            if how == "removed":
                src.unlink()
            elif how == "edited":
                src.write_text("a\n2\n")          # another process edits the input
            else:                                  # an atomic replace keeping size and mtime
                st = src.stat()
                (tmp_path / "new.tmp").write_text("a\n2\n")
                os.utime(tmp_path / "new.tmp", ns=(st.st_atime_ns, st.st_mtime_ns))
                os.replace(tmp_path / "new.tmp", src)
            od.record.add_inputs([src])            # recorded after the read and the change
    assert str(info.value) == f"{src}: {CHANGED}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if how == "removed" else ["in.csv"])


def test_input_touched_but_unchanged_is_an_error_too(tmp_path):
    """Size and modification time are part of the check (a rewrite of the same bytes)."""
    from neurotox.errors import InputError

    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    with pytest.raises(InputError, match="changed while the run read it"):
        with OutputDir(tmp_path / "out", inputs=[src]) as od:
            od.write_text("t.csv", src.read_text())
            st = src.stat()
            os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
            od.record.add_inputs([src])


def _swap(path: Path) -> None:
    """Replace ``path`` atomically by a file of the same size with one byte changed."""
    data = bytearray(path.read_bytes())
    k = data.rindex(b"1")
    data[k:k + 1] = b"2"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(bytes(data))
    os.replace(tmp, path)


@pytest.mark.parametrize(("args", "hook"), [
    ((*REPORT, "-o", "{out}"), "neurotox.pipeline.prepare"),
    (("--quiet", "tmaze", "--study", "{dir}/study.yaml", "-o", "{out}"),
     "neurotox.assays.base.analyse_files"),
])
def test_input_replaced_after_it_was_read_fails_the_command(tmp_path, monkeypatch, args, hook):
    """stranger39 F1: a data file replaced (same size) right after the assay read it (before
    ``report`` records its inputs): exit 2 naming it, nothing written, no staging left."""
    folder = study_case(tmp_path)
    module, name = hook.rsplit(".", 1)
    import importlib

    original = getattr(importlib.import_module(module), name)

    def swapped(*a, **k):   # the assay has read the file: an editor or LIMS replaces it
        result = original(*a, **k)
        _swap(folder / "entries.csv")
        return result

    monkeypatch.setattr(f"{module}.{name}", swapped)
    r = invoke(args, tmp_path, inputs=folder)
    assert one_line_error(r) == f"Error: {folder / 'entries.csv'}: {CHANGED}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
    assert sorted(p.name for p in folder.iterdir()) == ["entries.csv", "study.yaml",
                                                        "subjects.csv"]


def test_input_read_unchanged_names_the_bytes_read(tmp_path, monkeypatch):
    """Without a change the manifest's input hashes are those of the files (and run.json's)."""
    folder = study_case(tmp_path)
    r = invoke((*REPORT, "-o", "{out}"), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "out" / MANIFEST).read_text())
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    want = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert {Path(i["path"]).name: i["sha256"] for i in doc["inputs"]} == want
    assert {Path(i["path"]).name: i["sha256"] for i in run["inputs"]} == want


def test_non_utf8_names_in_the_manifest(tmp_path):
    """File names that are not UTF-8 (lone surrogates in Python) cannot break the manifest."""
    name = os.fsdecode(b"\xff\xfe")
    r = invoke(("--quiet", "simulate", "tmaze", "-o", str(tmp_path / name)), tmp_path)
    assert r.exit_code == 0, r.output
    assert verify(tmp_path / name) == []
    odd = tmp_path / os.fsdecode(b"in\xfa.csv")
    odd.write_text("a\n1\n")
    with OutputDir(tmp_path / "out", record=RunRecord(command=["t", str(odd)])) as od:
        od.record.add_inputs([odd])
        od.write_text(os.fsdecode(b"t\xfa.csv"), "x\n")
    doc = json.loads((tmp_path / "out" / MANIFEST).read_bytes().decode("utf-8"))
    assert doc["inputs"][0]["path"] == "../in\\xfa.csv"
    assert [o["path"] for o in doc["outputs"]] == ["t\\xfa.csv"]
    assert verify(tmp_path / "out") == []
    (tmp_path / "out" / os.fsdecode(b"x\xfa")).write_text("planted")
    assert verify(tmp_path / "out") == ["x\\xfa: extra file not in the manifest"]


def test_a_report_from_and_to_non_utf8_paths(tmp_path):
    """stranger34 F5: a study folder or output named with a Latin-1 byte (an old Samba share)
    crashed the report writing run.json, the docx title page and the xlsx."""
    study = tmp_path / os.fsdecode(b"bad\xe9name")
    materialise(TMAZE, study)
    out = tmp_path / os.fsdecode(b"o\xe9ut")
    r = invoke(("--quiet", "report", str(study / "study.yaml"), "--format",
                "csv,html,docx,xlsx", "--no-bmd", "-o", str(out)), tmp_path)
    assert r.exit_code == 0, r.output
    assert verify(out) == []
    run = json.loads((out / "run.json").read_bytes().decode("utf-8"))
    assert any(i["path"].endswith("bad\\xe9name/study.yaml") for i in run["inputs"]), run["inputs"]


def test_a_format_1_manifest_still_verifies(output, tmp_path):
    doc = json.loads((output / MANIFEST).read_text())
    doc["format"] = "neurotox-manifest/1"
    (output / MANIFEST).write_text(json.dumps(doc))
    _rehash(output)
    assert verify(output) == []


def test_file_size_limit_while_a_workbook_is_written_is_one_line_not_a_bug(tmp_path):
    """stranger46 F2: under ``ulimit -f`` openpyxl's lxml writer raised SerialisationError
    IO_EFBIG: exit 3 'this is a neurotox bug' and a traceback printed after it."""
    import resource

    r = invoke(("--quiet", "simulate", "nor", "-o", str(tmp_path / "sim")), tmp_path)
    assert r.exit_code == 0, r.output
    limit = 20 * 1024

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "neurotox", "-q", "report",
                           str(tmp_path / "sim" / "study.yaml"), "-o", str(tmp_path / "out"),
                           "--format", "csv,xlsx", "--no-bmd"], capture_output=True, text=True,
                          preexec_fn=small_files, check=False, timeout=600)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    # stranger50: the output folder given is named, not the hidden staging folder
    assert lines == [f"Error: {tmp_path}/out: File too large (writing the output folder; "
                     "nothing written)"], done.stderr
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if "neurotox-tmp" in p.name] == []

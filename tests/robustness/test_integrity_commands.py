"""The integrity attacks of issue 14, against every command that writes an output folder.

The older corpus attacks ``check``, ``nor``, ``tmaze``, ``stats`` and ``report``; the
commands added later (``cipn``, ``neurochem``, ``zebrafish`` with a stimulus
protocol, ``zebrafish-screen``, ``neurite``, ``hcd``) get the same classes here:
``-o`` that is, holds or lies inside the inputs (with ``--force``), ``-o .``, a log
file that is an input, FIFOs as inputs, duplicate keys in the study and protocol
YAML, broken overrides, an unreachable scheduler, full or size-limited disks, a
stray far cell in a workbook. Every case: exit 2, one ``Error:`` line naming the
thing, inputs byte-for-byte untouched, no output and no staging folder left.
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from neurotox.io.output import verify
from tests.robustness import test_cipn_corpus as cipn
from tests.robustness import test_neurite_corpus as neurite
from tests.robustness import test_neurochem_corpus as nc
from tests.robustness import test_zebrafish_screen_corpus as screen
from tests.robustness import test_zebrafish_stimulus_corpus as stim
from tests.robustness.corpus import (
    invoke,
    materialise,
    mount_tmpfs,
    needs_root,
    previous_output,
)


@dataclass(frozen=True)
class Command:
    """A command's corpus base: files, arguments (``{dir}``, ``{out}``), its inputs."""

    name: str
    files: dict
    args: tuple[str, ...]
    inputs: tuple[str, ...]          # files of ``files`` the command reads
    study: str | None = None         # the study YAML, if the command reads one
    override: str | None = None      # the option taking KEY=VALUE overrides
    protocol: str | None = None      # a protocol template the command may be given


COMMANDS = [
    Command("cipn", {**cipn.BASE, "vf.csv": cipn.VF}, cipn.VF_ARGS,
            ("vf.csv", "study.yaml", "subjects.csv"), "study.yaml", "--param",
            "von-frey-up-down"),
    Command("neurochem", {**nc.BASE, "xp.csv": nc.XP, "samples.csv": nc.XP_SHEET},
            nc.args("xp.csv", "samples.csv"), ("xp.csv", "samples.csv", "study.yaml"),
            "study.yaml", "--param", "multiplex-cytokines"),
    Command("zebrafish-stimulus", stim.files(), stim.run(), ("s.csv", "layout.csv"),
            None, "--param", "zebrafish-light-vibration-zebralab"),
    Command("zebrafish-screen", {"s.csv": screen.LMR0, "m.csv": screen.MORPH},
            screen.zs("s.csv", "m.csv"), ("s.csv", "m.csv"), None, "--param",
            "zebrafish-screen-epa"),
    Command("neurite", neurite.plate(), neurite.nt(), ("layout.csv", "img/P1_A01_s1_w1.tif"),
            None, "--param"),
]
IDS = [c.name for c in COMMANDS]


def snapshot(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` with the hash of its bytes (inputs must not change)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


def argv(cmd: Command, out: str = "{out}", *extra: str) -> tuple[str, ...]:
    """The command's arguments with ``-o out`` and ``extra`` before ``-o``."""
    args = [a for a in cmd.args if a != "--quiet"]
    i = args.index("-o")
    return ("--quiet", *args[:i], *extra, "-o", out, *args[i + 2:])


def refused(cmd: Command, tmp_path: Path, args: tuple[str, ...], match: str, *,
            cwd: Path | None = None, prepare=None) -> str:
    """Run ``args`` on the command's base files: one line with ``match``, nothing changed."""
    folder = tmp_path / "in"
    folder.mkdir()
    materialise(cmd.files, folder)
    if prepare:
        prepare(folder)
    before = snapshot(folder)
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd(tmp_path) if callable(cwd) else cwd)
    try:
        result = invoke(args, tmp_path, inputs=folder)
    finally:
        os.chdir(old)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert match in lines[0], lines[0]
    assert snapshot(folder) == before, "an input changed"
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.rglob("*") if ".neurotox-" in p.name], "staging left"
    return lines[0]


# -------------------------------------------------------------- never destroy what is not ours

TARGETS = {
    "output-is-the-input-folder": ("{dir}", "it holds the input"),
    "output-is-the-parent-of-the-inputs": ("{dir}/..", "it holds the input"),
}


@pytest.mark.parametrize("target", list(TARGETS), ids=list(TARGETS))
@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_force_never_replaces_the_inputs(cmd, target, tmp_path):
    out, match = TARGETS[target]
    refused(cmd, tmp_path, (*argv(cmd, out), "--force"), match)


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_force_replaces_an_earlier_output_beside_the_input_files(cmd, tmp_path):
    """The folder holding input files is no input folder: an output there is created and
    replaced alike (stranger26 F15, stranger27 F2); the inputs stay byte for byte."""
    folder = tmp_path / "in"
    folder.mkdir()
    materialise(cmd.files, folder)
    previous_output(folder / "results")
    before = {k: v for k, v in snapshot(folder).items() if not k.startswith("results")}
    r = invoke((*argv(cmd, "{dir}/results"), "--force"), tmp_path, inputs=folder)
    assert r.exit_code == 0, r.output
    assert verify(folder / "results") == []
    assert {k: v for k, v in snapshot(folder).items() if not k.startswith("results")} == before


@pytest.mark.parametrize("prepare", [None, lambda folder: previous_output(
    folder / "img" / "results")], ids=["new", "earlier-output"])
def test_output_inside_the_plate_folder_is_refused_with_force_too(tmp_path, prepare):
    """A plate folder is an input folder: nothing is written or replaced inside it."""
    cmd = next(c for c in COMMANDS if c.name == "neurite")
    line = refused(cmd, tmp_path, (*argv(cmd, "{dir}/img/results"), "--force"),
                   "it lies inside the input folder", prepare=prepare)
    assert line == (f"Error: {tmp_path}/in/img/results: refusing to use this output folder: "
                    f"it lies inside the input folder '{tmp_path}/in/img'; give a folder "
                    "outside the inputs")


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_output_dot_is_refused(cmd, tmp_path):
    refused(cmd, tmp_path, (*argv(cmd, "."), "--force"), "over the current folder",
            cwd=lambda t: t / "in")


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_log_file_is_never_an_input(cmd, tmp_path):
    refused(cmd, tmp_path, ("--log-file", f"{{dir}}/{cmd.inputs[0]}", *argv(cmd)), "--log-file")


@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_log_folder_missing(cmd, tmp_path):
    refused(cmd, tmp_path, ("--log-file", "{dir}/../no/such/folder/run.log", *argv(cmd)),
            "does not exist")


# -------------------------------------------------------------- inputs that are not files

CMD_INPUTS = [(c, name) for c in COMMANDS for name in c.inputs]


@pytest.mark.parametrize(("cmd", "name"), CMD_INPUTS,
                         ids=[f"{c.name}-{n.replace('/', '-')}" for c, n in CMD_INPUTS])
def test_fifo_input_is_refused_at_once(cmd, name, tmp_path):
    """Opening a FIFO for reading blocks for good: refused before anything reads it."""
    def fifo(folder: Path) -> None:
        (folder / name).unlink()
        os.mkfifo(folder / name)
    line = refused(cmd, tmp_path, argv(cmd), "found a FIFO (named pipe)", prepare=fifo)
    assert f"{Path(name).name}: expected " in line


# -------------------------------------------------------------- YAML that means what it says

STUDY_CMDS = [c for c in COMMANDS if c.study]
PROTO_CMDS = [c for c in COMMANDS if c.protocol]


@pytest.mark.parametrize("cmd", STUDY_CMDS, ids=[c.name for c in STUDY_CMDS])
def test_duplicate_key_in_the_study(cmd, tmp_path):
    def dup(folder: Path) -> None:
        p = folder / cmd.study
        p.write_text(p.read_text() + "title: again\n")
    refused(cmd, tmp_path, argv(cmd), "duplicate key 'title' (first given on line 2)",
            prepare=dup)


@pytest.mark.parametrize("cmd", STUDY_CMDS, ids=[c.name for c in STUDY_CMDS])
def test_base60_dose_in_the_study(cmd, tmp_path):
    def base60(folder: Path) -> None:
        p = folder / cmd.study
        text = p.read_text()
        p.write_text(text.replace("dose: 2,", "dose: 1:40,").replace("dose: 5,", "dose: 1:40,"))
        assert p.read_text() != text
    refused(cmd, tmp_path, argv(cmd), "key 'groups[1].dose'", prepare=base60)


@pytest.mark.parametrize("cmd", PROTO_CMDS, ids=[c.name for c in PROTO_CMDS])
def test_duplicate_key_in_a_protocol_file(cmd, tmp_path):
    from neurotox.protocols import load_protocol

    text = load_protocol(cmd.protocol).path.read_text(encoding="utf-8")
    args = list(argv(cmd))
    if "--protocol" in args:
        args[args.index("--protocol") + 1] = "{dir}/p.yaml"
    else:
        args[args.index("-o"):args.index("-o")] = ["--protocol", "{dir}/p.yaml"]
    refused(cmd, tmp_path, tuple(args), "p.yaml, line", prepare=lambda folder: (
        folder / "p.yaml").write_text(text + "title: again\n", encoding="utf-8"))


@pytest.mark.parametrize("value", ["x=[", "y={a: 1, a: 2}", "x=1e999"])
@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_broken_override_is_one_line(cmd, value, tmp_path):
    refused(cmd, tmp_path, argv(cmd, "{out}", cmd.override, value), cmd.override)


# -------------------------------------------------------------- every failure one line, exit 2

SCHEDULED = [c for c in COMMANDS if c.name in ("zebrafish-screen", "neurite")]


@pytest.mark.parametrize("cmd", SCHEDULED, ids=[c.name for c in SCHEDULED])
def test_unreachable_scheduler_is_one_line(cmd, tmp_path):
    """Failed for zebrafish-screen: a 30 s wait, then a message not naming the option."""
    refused(cmd, tmp_path, argv(cmd, "{out}", "--scheduler", "tcp://127.0.0.1:9"),
            "--scheduler: cannot reach the scheduler tcp://127.0.0.1:9")


@needs_root
@pytest.mark.parametrize("cmd", COMMANDS, ids=IDS)
def test_disk_full_is_one_line(cmd, tmp_path):
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "size=8k")
    try:
        refused(cmd, tmp_path, argv(cmd, str(disk / "out")), "No space left on device")
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@needs_root
def test_log_file_on_a_full_disk_fails_the_run(tmp_path):
    """Before: the log stayed empty, a traceback-free exit 0 hid the lost lines."""
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "size=4k")
    try:
        (disk / "pad").write_bytes(b"\0" * 4096)
        cmd = COMMANDS[0]
        refused(cmd, tmp_path, ("--log-file", str(disk / "run.log"), *argv(cmd)),
                f"{disk / 'run.log'}: No space left on device")
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def _small_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))


def test_file_size_limit_is_one_line(tmp_path):
    """RLIMIT_FSIZE (a batch system's quota): the report's run.log used to print a
    '--- Logging error ---' traceback and the run went on."""
    from tests.robustness import test_report_corpus as rep

    folder = tmp_path / "in"
    folder.mkdir()
    materialise(rep.BASE, folder)
    res = subprocess.run([sys.executable, "-m", "neurotox", "--quiet", "report",
                          str(folder / "study.yaml"), "--format", "csv", "--no-bmd", "-o",
                          str(tmp_path / "out")], capture_output=True, text=True,
                         preexec_fn=_small_files, timeout=600)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    # named as the user gave it, not the hidden staging folder (stranger50)
    assert lines[0].startswith(f"Error: {tmp_path / 'out'}"), res.stderr
    assert "neurotox-tmp" not in lines[0], res.stderr
    assert "File too large" in lines[0], res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


# -------------------------------------------------------------- workbooks that lie

def _xlsx_from_csv(text: str, extra: dict[str, object]) -> bytes:
    import csv

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in csv.reader(io.StringIO(text)):
        ws.append([_number(c) for c in row])
    for coord, value in extra.items():
        ws[coord] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _number(cell: str) -> object:
    try:
        return float(cell)
    except ValueError:
        return cell


@pytest.mark.parametrize(("extra", "match"), [
    ({"XFD1048576": 1}, "cell XFD1048576: cell XFD1048576 lies far outside the table"),
    ({"F30": "=1+1"}, "cell F30: formula without a saved value"),
])
def test_neurochem_plate_workbook_goes_through_the_safe_reader(tmp_path, extra, match):
    """Before: pandas materialised the 17-billion-cell grid (the process was killed)."""
    cmd = Command("neurochem", {**nc.BASE, "t.xlsx": _xlsx_from_csv(nc.TABLE, extra)},
                  nc.args("t.xlsx", protocol="elisa-4pl", extra=("--param", "analyte=gfap")),
                  ("t.xlsx",))
    refused(cmd, tmp_path, argv(cmd), match)


def test_neurochem_plate_workbook_reads_like_the_csv(tmp_path):
    import pandas as pd

    tables = []
    for name, data in (("t.csv", nc.TABLE), ("t.xlsx", _xlsx_from_csv(nc.TABLE, {}))):
        folder = tmp_path / name
        materialise({**nc.BASE, name: data, "samples.csv": nc.SAMPLES,
                     "subjects.csv": nc.SUBJ + "R04,H,M\n"}, folder)
        r = invoke(("--quiet", *nc.args(name, "samples.csv", protocol="elisa-4pl",
                                        extra=("--param", "analyte=gfap"))), folder)
        assert r.exit_code == 0, r.output
        assert verify(folder / "out") == []
        samples = pd.read_csv(folder / "out" / "neurochem_samples.csv")
        tables.append(samples.drop(columns=[c for c in samples if c in ("file", "source")]))
    assert list(tables[0]["sample"]) == ["R01-CTX", "R02-CTX"]
    assert tables[0]["concentration"].notna().all()
    pd.testing.assert_frame_equal(tables[0], tables[1])

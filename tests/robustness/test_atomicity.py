"""A run killed with SIGKILL at a random point leaves no output or the previous one intact."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from neurotox.io.output import verify

WRITER = r"""
import sys, time
from neurotox.io.output import OutputDir, RunRecord
target, tag = sys.argv[1], sys.argv[2]
with OutputDir(target, force=True, record=RunRecord(command=["writer", tag])) as od:
    print("started", flush=True)
    for i in range(40):
        od.write_text(f"part{i:02d}.txt", f"{tag} {i}\n" * 2000)
        time.sleep(0.005)
"""


def run_writer(target: Path, tag: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(target), tag],
                            stdout=subprocess.PIPE, text=True)


def complete(target: Path, tag: str) -> int:
    with run_writer(target, tag) as proc:
        proc.stdout.read()
        return proc.wait()


def test_kill_during_run_twenty_times(tmp_path):
    target = tmp_path / "out"
    assert complete(target, "first") == 0
    assert verify(target) == []
    rng = random.Random(7)
    for k in range(20):
        with run_writer(target, f"run{k}") as proc:
            proc.stdout.readline()  # wait until the run is writing
            time.sleep(rng.uniform(0, 0.3))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        # Either the previous complete folder, or (killed between the two renames of a
        # --force swap) no folder at all; never a partial one.
        if target.exists():
            assert verify(target) == [], f"iteration {k}"
            texts = {p.read_text().split()[0] for p in target.glob("part*.txt")}
            assert len(texts) == 1
        else:
            assert complete(target, "rebuild") == 0
    # the next successful run removes the staging folders the killed runs left behind
    assert complete(target, "last") == 0
    assert verify(target) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_run_killed_at_its_last_rename_leaves_nothing_behind_for_long(tmp_path):
    """stranger34 F6: killed between removing its staging marker and the final rename, a
    run leaves a complete hidden copy that no later run removed."""
    from neurotox.io.output import OutputDir, RunRecord

    def leftover(pid: int) -> Path:
        done = tmp_path / f"done{pid}"
        with OutputDir(done, record=RunRecord(command=["writer", "killed"])) as od:
            od.write_text("part.txt", "x\n")
        left = tmp_path / f".out.neurotox-tmp-{pid}"
        done.rename(left)                 # complete, manifest written, no marker
        return left

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            gone, kept = leftover(dead.pid), leftover(alive.pid)
            assert complete(tmp_path / "out", "next") == 0
            assert not gone.exists()          # its process is dead: removed
            assert kept.exists()              # a run still going: left alone
        finally:
            alive.kill()

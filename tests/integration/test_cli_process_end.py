"""How a command ends once its output is complete: signals, lost standard output.

A complete output is the run's result. A SIGTERM after it is in place, or a
standard output that cannot take the last line, must not turn the run into a
failure: a scheduler's retry would then be refused ("output already exists").
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import neurotox
from neurotox.io.output import verify

SRC = str(Path(neurotox.__file__).parents[1])
ENV = {**os.environ, "PYTHONPATH": SRC}


def _python(code: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True,
                          text=True, timeout=600, check=False, **kw)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=lambda s: s.name)
def test_a_signal_after_the_command_ended_exits_0_with_one_note(tmp_path, sig):
    # stranger46 F5: the process took 1.2-1.5 s to exit after `wrote … to OUT`; a SIGTERM
    # then killed it (exit 143, no line) although its output was complete. The signal is
    # sent from an exit handler: after the command, while the process ends.
    out = tmp_path / "sim"
    code = (f"import atexit, os, sys\n"
            f"atexit.register(lambda: os.kill(os.getpid(), {int(sig)}))\n"
            f"sys.argv = ['neurotox', '-q', 'simulate', 'tmaze', '-o', {str(out)!r}]\n"
            "from neurotox.cli.main import cli\n"
            "cli(prog_name='neurotox')\n")
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote tmaze to {out}\n"
    assert done.stderr.splitlines() == [
        f"WARNING: output complete; stopped by {sig.name} after it was written: "
        f"output folder {out}"]
    assert verify(out) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_once_the_output_is_in_place_lets_the_command_finish(invoke, tmp_path,
                                                                      monkeypatch, sig):
    # SIGTERM (or Ctrl-C: it gave 'Aborted!', exit 1) between the rename that completes
    # the output and the command's end: the command prints its last line, exits 0, and
    # says the signal came
    from neurotox.io import output

    committed = output.output_committed

    def then_terminated(what: str) -> None:
        committed(what)
        signal.raise_signal(sig)

    monkeypatch.setattr(output, "output_committed", then_terminated)
    out = tmp_path / "sim"
    r = invoke("-q", "simulate", "tmaze", "-o", out)
    assert r.exit_code == 0, r.output
    assert r.stdout == f"wrote tmaze to {out}\n"
    assert r.stderr.splitlines() == [
        f"WARNING: output complete; stopped by {sig.name} after it was written: "
        f"output folder {out}"]
    assert verify(out) == []


def test_ctrl_c_before_the_output_is_complete_still_aborts(invoke, tmp_path, monkeypatch):
    from neurotox.io import output

    def interrupted(*args, **kw):
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(output, "build_manifest", interrupted)
    r = invoke("-q", "simulate", "tmaze", "-o", tmp_path / "sim")
    assert r.exit_code == 1
    assert r.stderr.splitlines() == ["", "Aborted!"]
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # given back


def test_sigterm_before_the_output_is_complete_still_stops_the_run(invoke, tmp_path,
                                                                   monkeypatch):
    from neurotox.io import output

    def terminated(*args, **kw):
        signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(output, "build_manifest", terminated)
    r = invoke("-q", "simulate", "tmaze", "-o", tmp_path / "sim")
    assert r.exit_code == 143
    assert r.stderr.splitlines() == [
        "Error: terminated by SIGTERM; no unfinished output is left behind"]
    assert list(tmp_path.iterdir()) == []


def test_a_pipe_closed_before_the_last_line_is_one_note_and_exit_0(tmp_path):
    # stranger46 F1: `neurotox simulate … | true` exited 141 with a complete output,
    # where `> /dev/full` exits 0 with a note
    out = tmp_path / "sim"
    proc = subprocess.Popen([sys.executable, "-m", "neurotox", "-q", "simulate", "tmaze",
                             "-o", str(out)], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()                      # the reader is gone before the last line
    err = proc.stderr.read()
    assert proc.wait(timeout=600) == 0, err
    assert err.splitlines() == [
        "WARNING: standard output: Broken pipe; its last lines were not printed, but the "
        f"command completed: output folder {out}"]
    assert verify(out) == []
    # what a listing prints is its product: a closed pipe stops it, exit 141, no line
    proc = subprocess.Popen([sys.executable, "-m", "neurotox", "endpoints", "list"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    err = proc.stderr.read()
    assert (proc.wait(timeout=600), err) == (141, "")


def test_a_closed_standard_output_is_one_note(tmp_path):
    # `neurotox simulate … >&-` printed nothing at all and exited 0
    out = tmp_path / "sim"
    done = subprocess.run([sys.executable, "-m", "neurotox", "-q", "simulate", "tmaze",
                           "-o", str(out)], env=ENV, stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: os.close(1), timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "WARNING: standard output: closed; its last lines were not printed, but the command "
        f"completed: output folder {out}"]
    assert verify(out) == []

"""Helpers for the malformed-input corpus: build a case folder, run the CLI, check the outcome.

Every error case asserts: exit status 2, exactly one line of output starting ``Error: ``
that names the file and matches the case's pattern, and no output folder written (or,
with ``previous=True``, an earlier output folder left byte-for-byte untouched).

A case's files are written to ``<case folder>/in`` (``{dir}``) and its output goes to
``<case folder>/out`` (``{out}``), beside the inputs' folder, as ``--force`` requires.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from neurotox.cli.main import cli
from neurotox.io.output import OutputDir, RunRecord, verify

#: Cases that mount a small file system or switch user IDs.
needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="needs root (mount, other user IDs)")


def mount_tmpfs(path: Path, options: str) -> None:
    """Mount a tmpfs (e.g. ``size=8k``, ``ro``) at the new folder ``path``; skip if refused."""
    path.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                         capture_output=True)
    if res.returncode:
        pytest.skip(f"cannot mount a tmpfs: {res.stderr.decode().strip()}")


OLD_FILE = "previous-run.txt"
OLD_TEXT = "output of an earlier complete run\n"


@dataclass(frozen=True)
class Case:
    """One malformed-input case.

    ``files`` maps relative path → text or bytes; ``args`` are CLI arguments in which
    ``{dir}`` is replaced by the case folder and ``{out}`` by an output folder that must
    not be created; ``match`` must occur in the one-line message; ``names`` is the file
    the message must name (relative to ``{dir}``). With ``previous``, the output of an
    earlier run exists before the run (the args then usually hold ``--force``) and
    must be left untouched. ``setup`` receives ``{dir}`` after the files are written.
    """

    id: str
    files: dict[str, str | bytes]
    args: tuple[str, ...]
    match: str
    names: str
    setup: Callable[[Path], None] | None = field(default=None, compare=False)
    previous: bool = False


def materialise(files: dict[str, str | bytes], folder: Path) -> None:
    """Write ``files`` (relative path → text or bytes) under ``folder``."""
    for rel, content in files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


def invoke(args: tuple[str, ...] | list[str], folder: Path, *,
           inputs: Path | None = None) -> Result:
    """Run the CLI with ``{dir}`` → ``inputs`` (default ``folder``), ``{out}`` → ``folder/out``."""
    out = folder / "out"
    argv = [a.replace("{dir}", str(inputs or folder)).replace("{out}", str(out))
            for a in args]
    return CliRunner().invoke(cli, argv)


def previous_output(out: Path) -> None:
    """The output folder of an earlier complete run (manifest included) at ``out``."""
    with OutputDir(out, record=RunRecord(command=["neurotox", "earlier run"])) as od:
        od.write_text(OLD_FILE, OLD_TEXT)


def run_case(case: Case, folder: Path) -> None:
    """Materialise ``case`` under ``folder/in``, run it and assert the contract."""
    inputs = folder / "in"
    inputs.mkdir()
    materialise(case.files, inputs)
    if case.setup:
        case.setup(inputs)
    out = folder / "out"
    if case.previous:
        previous_output(out)
        before = {p: p.read_bytes() for p in out.rglob("*")}
    result = invoke(case.args, folder, inputs=inputs)
    text = result.output.strip()
    assert result.exit_code == 2, f"exit {result.exit_code}: {text}\n{result.exception!r}"
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("Error: "), text
    assert str(inputs / case.names) in lines[0] or case.names in lines[0], text
    assert case.match in lines[0], text
    if case.previous:
        assert {p: p.read_bytes() for p in out.rglob("*")} == before, "previous output changed"
        assert verify(out) == []
    else:
        assert not out.exists(), "an output folder was written"
    assert not [p for p in folder.rglob("*") if ".neurotox-" in p.name], "staging left behind"


def run_ok(files: dict[str, str | bytes], args: tuple[str, ...], folder: Path) -> dict:
    """Materialise ``files``, run ``args`` expecting success; return the manifest."""
    materialise(files, folder)
    result = invoke(args, folder)
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}\n" \
                                  f"{result.exception!r}"
    return json.loads((folder / "out" / "manifest.json").read_text(encoding="utf-8"))


#: What a password-protected xlsx looks like from outside: an OLE2 compound file
#: whose directory names an ``EncryptedPackage`` stream (a real one, made with
#: msoffcrypto-tool, holds these bytes; the rest is the encrypted zip).
ENCRYPTED_XLSX = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1016
                  + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 1024)
#: An OLE2 file without that stream: an old-format .xls (damaged here).
OLD_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048


def xlsx_bytes(*sheets: tuple[str, list[list[object]]]) -> bytes:
    """A workbook with the given (name, rows) sheets, as bytes."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_rows(text: str) -> list[list[object]]:
    """The rows of a small CSV text, numbers as numbers (for :func:`xlsx_bytes`)."""
    def cell(c: str) -> object:
        try:
            return int(c)
        except ValueError:
            try:
                return float(c)
            except ValueError:
                return c
    return [[cell(c) for c in line.split(",")] for line in text.splitlines()]

"""Helpers for the malformed-input corpus: build a case folder, run the CLI, check the outcome.

Every case asserts: exit status 2, exactly one line of output starting ``Error: `` that
names the file and matches the case's pattern, and no output folder written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from neurotox.cli.main import cli


@dataclass(frozen=True)
class Case:
    """One malformed-input case.

    ``files`` maps relative path → text or bytes; ``args`` are CLI arguments in which
    ``{dir}`` is replaced by the case folder and ``{out}`` by an output folder that must
    not be created; ``match`` must occur in the one-line message; ``names`` is the file
    the message must name (relative to the case folder).
    """

    id: str
    files: dict[str, str | bytes]
    args: tuple[str, ...]
    match: str
    names: str
    setup: Callable[[Path], None] | None = field(default=None, compare=False)


def run_case(case: Case, folder: Path) -> None:
    """Materialise ``case`` under ``folder``, run it and assert the contract."""
    for rel, content in case.files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    if case.setup:
        case.setup(folder)
    out = folder / "out"
    args = [a.replace("{dir}", str(folder)).replace("{out}", str(out)) for a in case.args]
    result = CliRunner().invoke(cli, args)
    text = result.output.strip()
    assert result.exit_code == 2, f"exit {result.exit_code}: {text}\n{result.exception!r}"
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("Error: "), text
    assert str(folder / case.names) in lines[0] or case.names in lines[0], text
    assert case.match in lines[0], text
    assert not out.exists(), "an output folder was written"

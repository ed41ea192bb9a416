"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from neurotox.io.output import OutputDir


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``-o/--output`` and ``--force/--no-force`` to a command."""
    f = click.option("--force/--no-force", default=False,
                     help="Replace an existing output folder.")(f)
    return click.option("-o", "--output", "output", required=True,
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Output folder (must not exist unless --force).")(f)


def open_output(output: Path, force: bool, **parameters: Any) -> OutputDir:
    """Open an atomic output folder with a RunRecord of the command line."""
    from neurotox.io.output import OutputDir, RunRecord

    record = RunRecord(command=["neurotox", *sys.argv[1:]],
                       parameters={k: _jsonable(v) for k, v in parameters.items()})
    return OutputDir(output, force=force, record=record)


def _jsonable(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    return v

"""``neurotox verify DIR``: re-check an output folder against its manifest."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.io.output import verify as verify_folder


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
def verify(folder: Path) -> None:
    """Recompute the SHA-256 of every output in FOLDER and compare with manifest.json.

    Exit status 0 when intact, 1 naming each changed, missing or extra file.
    """
    problems = verify_folder(folder)
    for line in problems:
        click.echo(line)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"{folder}: intact")

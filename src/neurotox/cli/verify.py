"""``neurotox verify DIR``: re-check an output folder against its manifest."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import signing_key
from neurotox.io.output import ENV_SIGN_KEY, verify_folder


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--key", "key_file", default=None, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help=f"Check the manifest's signature with this key file (env {ENV_SIGN_KEY}).")
def verify(folder: Path, key_file: Path | None) -> None:
    """Compare every path in FOLDER with manifest.json and recompute every SHA-256.

    Exit status 0 when intact, 1 naming each changed, missing or extra file,
    extra folder, symbolic link or special file, an edited manifest or (with a
    key) a signature that does not match.
    """
    result = verify_folder(folder, key=signing_key(key_file))
    for line in result.problems:
        click.echo(line)
    if result.problems:
        raise click.exceptions.Exit(1)
    click.echo(f"{folder}: intact; {result.signature}")

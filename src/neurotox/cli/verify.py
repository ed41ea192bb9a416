"""``neurotox verify DIR``: re-check an output folder against its manifest."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import signing_key


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--key", "key_file", default=None, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Check the manifest's signature with this key file (env "
                   "NEUROTOX_SIGN_KEY_FILE).")
def verify(folder: Path, key_file: Path | None) -> None:
    """Compare every path in FOLDER with manifest.json and recompute every SHA-256.

    Exit status 0 when intact, 1 naming each changed, missing or extra file,
    extra folder, symbolic link or special file, an edited manifest or (with a
    key) a signature that does not match.
    """
    from neurotox.io.output import verify_folder

    result = verify_folder(folder, key=signing_key(key_file))
    for line in result.problems:
        click.echo(line)
    if result.problems:
        raise click.exceptions.Exit(1)
    click.echo(f"{folder}: intact; {result.signature}")

"""``neurotox verify DIR``: re-check an output folder against its manifest."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import signing_key
from neurotox.errors import shown


def _folder(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    """FOLDER as a path; an empty argument (an unset ``$OUT``) is not the current folder."""
    if not value:
        raise click.BadParameter("no folder given (an empty argument: an unset variable?)",
                                 ctx=ctx, param=param)
    return Path(value)


@click.command()
@click.argument("folder", type=click.Path(), callback=_folder)
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
    click.echo(f"{shown(folder)}: intact; {result.signature}")

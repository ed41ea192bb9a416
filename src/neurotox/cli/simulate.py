"""``neurotox simulate KIND -o DIR``: write an example study with known truth."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import open_output, output_options
from neurotox.errors import shown


@click.command()
@click.argument("kind")
@click.option("--seed", type=int, default=20260101, show_default=True,
              help="Random seed (the same seed gives identical files).")
@output_options
def simulate(kind: str, seed: int, output: Path, force: bool) -> None:
    """Write a complete simulated study folder of KIND (``all`` for every kind).

    The folder holds study.yaml, subjects/layouts and raw files in instrument
    formats, plus truth.json with the planted values.
    """
    from neurotox.pipeline import freeze_zip_files
    from neurotox.simulate import get_simulator, list_simulators

    sims = list_simulators() if kind == "all" else [get_simulator(kind)]
    with open_output(output, force, kind=kind, seed=seed) as od:
        for sim in sims:
            folder = od.path(sim.kind if kind == "all" else ".")
            folder.mkdir(parents=True, exist_ok=True)
            truth = sim.write(folder, seed)
            freeze_zip_files(folder)   # the same seed gives the same bytes, at any time
            od.write_json((Path(sim.kind) if kind == "all" else Path()) / "truth.json", truth)
    click.echo(f"wrote {', '.join(s.kind for s in sims)} to {shown(output)}")

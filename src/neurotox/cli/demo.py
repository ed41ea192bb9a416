"""``neurotox demo``: simulate every example study and report each, in one output."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import open_output, output_options


@click.command()
@click.option("--seed", type=int, default=20260101, show_default=True,
              help="Random seed of the simulations.")
@output_options
def demo(seed: int, output: Path, force: bool) -> None:
    """Simulate every registered study kind and write its full report.

    DIR/studies/<kind>/ holds the simulated study, DIR/reports/<kind>/ its report
    in every format; one manifest.json covers all of it.
    """
    from neurotox.pipeline import run_demo

    with open_output(output, force, seed=seed) as od:
        kinds = run_demo(od, seed=seed)
    click.echo(f"demo: simulated and reported {', '.join(kinds)} in {output}")

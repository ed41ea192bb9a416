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
    in every format (with a PDF when LibreOffice is installed) and its own
    manifest.json; DIR/manifest.json covers all of it.
    """
    from neurotox.pipeline import run_demo
    from neurotox.report.render.pdf import available

    formats = ["xlsx", "docx", *(["pdf"] if available() else []), "html", "csv"]
    with open_output(output, force, seed=seed, formats=formats) as od:
        if "pdf" not in formats:
            od.record.note("demo: no PDF written (LibreOffice is not installed)")
        kinds = run_demo(od, seed=seed, formats=formats)
    click.echo(f"demo: simulated and reported {', '.join(kinds)} in {output}")

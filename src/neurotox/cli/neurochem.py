"""``neurotox neurochem``: multiplex/ELISA exports or Ellman reads to censored endpoints.

Loads the study, resolves the protocol (template, then the study's entry for the
protocol's assay, then ``--param``), runs the ``neurochem`` or ``cholinesterase``
assay and writes the EndpointTable, the detail tables (curves, standards,
controls, samples, wells), one standard-curve figure per analyte and plate, and
the comparisons with control into an atomic output folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from neurotox.cli.options import InputPath, distinct_files, output_options, param_option
from neurotox.cli.rodent import _protocol_help, _run
from neurotox.errors import shown


def _curve_figures(od: Any, result: Any) -> None:
    from neurotox.report import render_figures
    from neurotox.report.neurochem import curve_figures

    for fig in render_figures(curve_figures(result.details)):
        od.write_bytes(f"figures/{fig.key}.png", fig.png)
        od.write_bytes(f"figures/{fig.key}.svg", fig.svg)


@click.command()
@click.argument("inputs", nargs=-1, type=InputPath(dir_okay=False), callback=distinct_files)
@click.option("--study", "study_file", required=True,
              type=InputPath(dir_okay=False),
              help="Study YAML (groups, subjects).")
@click.option("--protocol", default=None,
              help=_protocol_help("multiplex-cytokines, elisa-4pl, cholinesterase-ellman or a "
                                  "protocol YAML.", "multiplex-cytokines"))
@param_option("analyte=gfap")
@click.option("--figures/--no-figures", default=True, show_default=True,
              help="Draw a standard-curve figure per analyte and plate.")
@output_options
def neurochem(inputs: tuple[Path, ...], study_file: Path, protocol: str | None,
              params: tuple[str, ...], figures: bool, output: Path, force: bool) -> None:
    """Cytokines, GFAP, NfL (xPONENT, Bio-Plex, Gen5, plain plate table) or cholinesterase.

    INPUT files are plate exports (format detected) plus, optionally, a sample
    sheet (sample, subject, matrix, timepoint, dilution, protein, tissue weight);
    for cholinesterase, kinetic reads and a plate map. The study's ``neurochem``
    or ``cholinesterase`` entry gives the protocol and parameters and, without
    INPUT, the files.
    """
    proto, result = _run(("neurochem", "cholinesterase"), "multiplex-cytokines", inputs,
                         study_file, protocol, params, output, force,
                         extra=_curve_figures if figures else None)
    assay = proto.assay
    ep = result.endpoints
    censored = int((ep["censoring"] != "none").sum())
    click.echo(f"{assay}: {ep['subject'].nunique()} subjects, {len(ep)} endpoint values "
               f"({censored} censored, {int(ep['excluded'].sum())} excluded); "
               f"wrote {shown(output)}")

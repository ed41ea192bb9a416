"""``neurotox cipn``: peripheral neuropathy panel sheets to endpoints and statistics."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import output_options
from neurotox.cli.rodent import _INPUTS, _PARAM, _STUDY, _protocol_help, _run, _summary
from neurotox.errors import shown


@click.command()
@_INPUTS
@_STUDY
@click.option("--protocol", default=None,
              help=_protocol_help("von-frey-up-down, hot-plate, nerve-conduction, "
                                  "cipn-paclitaxel-rat or a protocol YAML file.",
                                  "cipn-paclitaxel-rat"))
@_PARAM
@output_options
def cipn(inputs: tuple[Path, ...], study_file: Path, protocol: str | None, params: tuple[str, ...],
         output: Path, force: bool) -> None:
    """Peripheral neuropathy: von Frey, thermal/cold tests, nerve conduction, IENFD.

    INPUT files are long tables (subject, timepoint, test, trial, value or
    series + filament ...) or wide lab sheets (one row per animal, one column
    per session; the test from the protocol or --param test=...). The study's
    ``cipn`` entry gives the protocol and parameters and, without INPUT, the
    files. Writes the EndpointTable, detail tables and the comparisons with
    control per timepoint plus the group × time mixed model (statistics.csv,
    statistics_decisions.csv).
    """
    _, result = _run(("cipn",), "cipn-paclitaxel-rat", inputs, study_file, protocol, params,
                     output, force)
    click.echo(f"cipn: {_summary(result)}; wrote {shown(output)}")

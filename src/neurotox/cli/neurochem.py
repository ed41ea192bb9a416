"""``neurotox neurochem``: multiplex/ELISA exports or Ellman reads to censored endpoints.

Loads the study, resolves the protocol (template, then the study's entry for the
protocol's assay, then ``--param``), runs the ``neurochem`` or ``cholinesterase``
assay and writes the EndpointTable, the detail tables (curves, standards,
controls, samples, wells), one standard-curve figure per analyte and plate, and
the comparisons with control into an atomic output folder.
"""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import open_output, output_options
from neurotox.cli.rodent import _group_statistics, _inputs, _overrides, _write


@click.command()
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, dir_okay=False,
                                                    path_type=Path))
@click.option("--study", "study_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Study YAML (groups, subjects).")
@click.option("--protocol", default="multiplex-cytokines", show_default=True,
              help="multiplex-cytokines, elisa-4pl, cholinesterase-ellman or a protocol YAML.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Override a protocol parameter (YAML value, e.g. analyte=gfap); "
                   "repeatable.")
@click.option("--figures/--no-figures", default=True, show_default=True,
              help="Draw a standard-curve figure per analyte and plate.")
@output_options
def neurochem(inputs: tuple[Path, ...], study_file: Path, protocol: str,
              params: tuple[str, ...], figures: bool, output: Path, force: bool) -> None:
    """Cytokines, GFAP, NfL (xPONENT, Bio-Plex, Gen5, plain plate table) or cholinesterase.

    INPUT files are plate exports (format detected) plus, optionally, a sample
    sheet (sample, subject, matrix, timepoint, dilution, protein, tissue weight);
    for cholinesterase, kinetic reads and a plate map. Without INPUT the study's
    entry for the protocol's assay is used.
    """
    from neurotox.assays.base import resolve_parameters
    from neurotox.study import load_study

    study = load_study(study_file)
    proto, _ = resolve_parameters(protocol)
    assay = proto.assay
    if assay not in ("neurochem", "cholinesterase"):
        raise click.BadParameter(f"protocol {proto.name!r} is for assay {assay!r}, not a "
                                 "neurochemistry assay", param_hint="--protocol")
    _, values = resolve_parameters(protocol, _overrides(study, assay, params), source=study.path)
    files = _inputs(study, assay, inputs)
    module = _module(assay)
    with open_output(output, force, assay=assay, study=study_file, protocol=proto.name,
                     inputs=files) as od:
        od.record.parameters["effective"] = values.model_dump(mode="json")
        od.record.add_inputs([*study.input_files(), *files])
        result = module.analyse(study, files, values)
        _write(od, result)
        if figures and "neurochem_curves" in result.details:
            from neurotox.report.neurochem import curve_figures

            for fig in curve_figures(result.details):
                od.write_bytes(f"figures/{fig.key}.png", fig.png)
                od.write_bytes(f"figures/{fig.key}.svg", fig.svg)
        _group_statistics(od, study, result)
    ep = result.endpoints
    censored = int((ep["censoring"] != "none").sum())
    click.echo(f"{assay}: {ep['subject'].nunique()} subjects, {len(ep)} endpoint values "
               f"({censored} censored, {int(ep['excluded'].sum())} excluded); wrote {output}")


def _module(assay: str):
    if assay == "cholinesterase":
        import neurotox.assays.neurochem.cholinesterase as module
    else:
        import neurotox.assays.neurochem.immunoassay as module
    return module

"""``neurotox zebrafish-screen FILE... --protocol NAME -o OUT``: a whole screen in one run."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import (
    PARAM_OPTION,
    InputPath,
    distinct_files,
    open_output,
    output_options,
    overrides,
    param_option,
)
from neurotox.cli.zebrafish import _write


@click.command()
@click.argument("files", nargs=-1, required=True, callback=distinct_files,
                type=InputPath(dir_okay=False))
@click.option("--protocol", default="zebrafish-screen-epa", show_default=True,
              help="Protocol template name or YAML file (zebrafish-screen-epa, "
              "zebrafish-morphology-tanguay).")
@click.option("--format", "fmt", default=None,
              help="Export format of the locomotion files (default: detected per file).")
@param_option("chemicals=[725]", dest="sets")
@click.option("--study-id", default="NA", show_default=True, help="Study number.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes over chemicals (default: one per core).")
@click.option("--scheduler", help="Dask scheduler address tcp://HOST:PORT (runs the chemicals "
              "on the cluster instead of local processes).")
@output_options
def zebrafish_screen(files: tuple[Path, ...], protocol: str, fmt: str | None,
                     sets: tuple[str, ...], study_id: str, workers: int | None,
                     scheduler: str | None, output: Path, force: bool) -> None:
    """Zebrafish screen of many chemicals from FILES (locomotion and/or morphology).

    FILES are EPA lmr0 tables (csv/csv.gz), EPA light/dark tables (xlsx/csv),
    Tanguay/bmdrc tables and morphology tables (Tanguay 22-endpoint, EPA PFAS,
    bmdrc); the design (chemical, concentration, plate, well, vehicle,
    experimental group) is read from them. Writes the EndpointTable, the larvae,
    group-rule, exclusion, incidence, statistics and BMD tables and manifest.json.
    """
    from neurotox.assays.base import resolve_parameters
    from neurotox.assays.zebrafish.screen import analyse_screen, load_inputs

    over = overrides(sets)
    if fmt is not None:
        over["format"] = fmt
    proto, params = resolve_parameters(protocol, command_line=over,
                                       command_line_source=PARAM_OPTION)
    exports, tables = load_inputs(list(files), params)
    with open_output(output, force, inputs=[*files, proto.path], protocol=proto.name,
                     files=list(files),
                     workers=workers, scheduler=scheduler,
                     parameters=params.model_dump(mode="json")) as od:
        od.record.add_inputs(list(files))
        result = analyse_screen(exports, params, morphology=tables, study_id=study_id,
                                workers=workers, scheduler=scheduler)
        od.record.parameters["conventions"] = result.conventions
        _write(od, result)
    larvae = result.details["larvae"]
    n_chem = larvae.loc[~larvae["vehicle"], "chemical"].nunique()
    click.echo(f"{len(larvae)} larvae, {n_chem} chemical(s), {len(result.endpoints)} endpoint "
               f"values written to {output}")


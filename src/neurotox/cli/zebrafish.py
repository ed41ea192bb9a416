"""``neurotox zebrafish EXPORT... --layout plate.csv --protocol NAME -o OUT``."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import open_output, output_options


def _overrides(items: tuple[str, ...]) -> dict:
    import yaml

    out = {}
    for item in items:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, found {item!r}", param_hint="--set")
        key, value = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


@click.command()
@click.argument("exports", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Plate layout CSV: well, group and/or concentration "
              "[, plate, mortality/morphology calls]. Optional when the export carries "
              "concentrations.")
@click.option("--plate-map", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Tanguay plate map / morphology table (dead, malformed).")
@click.option("--protocol", default="zebrafish-lpr-tanguay", show_default=True,
              help="Protocol template name or YAML file.")
@click.option("--format", "fmt", default=None,
              help="Export format (default: detected per file).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a protocol parameter (YAML value), e.g. --set bmdrc=true.")
@click.option("--study-id", default="NA", show_default=True, help="Study number.")
@output_options
def zebrafish(exports: tuple[Path, ...], layout: Path | None, plate_map: Path | None,
              protocol: str, fmt: str | None, sets: tuple[str, ...], study_id: str,
              output: Path, force: bool) -> None:
    """Zebrafish locomotion (LPR light/dark, EPR) from tracking EXPORTS.

    Writes the EndpointTable (endpoints.csv/.parquet), per-bin and per-larva
    detail tables, the hit-call table and manifest.json.
    """
    from neurotox.assays.base import resolve_parameters
    from neurotox.assays.zebrafish import analyse, load_exports
    from neurotox.io.zebrafish import read_plate_layouts, read_plate_map

    overrides = _overrides(sets)
    if fmt is not None:
        overrides["format"] = fmt
    proto, params = resolve_parameters(protocol, overrides, source="--set")
    layouts = read_plate_layouts(layout) if layout else None
    pmap = read_plate_map(plate_map) if plate_map else None
    with open_output(output, force, protocol=proto.name, exports=list(exports),
                     layout=layout, plate_map=plate_map,
                     parameters=params.model_dump(mode="json")) as od:
        od.record.add_inputs([*exports, *(p for p in (layout, plate_map) if p)])
        for note in pmap.attrs.get("notes", []) if pmap is not None else []:
            od.record.note(note)
        result = analyse(load_exports(list(exports), params), params, study_id=study_id,
                         layouts=layouts, plate_map=pmap)
        _write(od, result)
    n = result.endpoints["subject"].nunique()
    click.echo(f"{n} larvae, {len(result.endpoints)} endpoint values written to {output}")


def _write(od, result) -> None:
    for note in result.notes:
        od.record.note(note)
    od.write_table(result.endpoints, "endpoints")
    for name, table in result.details.items():
        od.write_table(table, name)
    larvae = result.details.get("larvae")
    if larvae is not None:
        for row in larvae[larvae["excluded"]].itertuples():
            od.record.exclusions.append({"subject": row.subject, "reason": row.exclusion_reason,
                                         "rule": "zebrafish exclusion rules"})

"""``neurotox zebrafish EXPORT... --layout plate.csv --protocol NAME -o OUT``."""

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


def _plate_ids(items: tuple[str, ...], exports: tuple[Path, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, plate = item.rpartition("=")
        if not sep:
            if len(exports) != 1:
                raise click.BadParameter(f"with {len(exports)} exports give FILE=ID, found "
                                         f"{item!r}", param_hint="--plate-id")
            name = exports[0].name
        name, plate = Path(name.strip()).name, plate.strip()
        if name not in {p.name for p in exports} or not plate:
            raise click.BadParameter(f"expected FILE=ID with FILE one of the exports "
                                     f"({', '.join(sorted(p.name for p in exports))}), "
                                     f"found {item!r}", param_hint="--plate-id")
        if name in out and out[name] != plate:
            raise click.BadParameter(f"two plate IDs for {name}: {out[name]!r} and {plate!r}",
                                     param_hint="--plate-id")
        out[name] = plate
    return out


@click.command()
@click.argument("exports", nargs=-1, required=True, callback=distinct_files,
                type=InputPath(dir_okay=False))
@click.option("--layout", type=InputPath(dir_okay=False),
              default=None, help="Plate layout (CSV or xlsx): well, group and/or concentration "
              "[, plate, mortality/morphology calls]. Optional when the export carries "
              "concentrations.")
@click.option("--plate-map", type=InputPath(dir_okay=False),
              default=None, help="Tanguay plate map / morphology table (dead, malformed).")
@click.option("--protocol", default="zebrafish-lpr-tanguay", show_default=True,
              help="Protocol template name or YAML file.")
@click.option("--format", "fmt", default=None,
              help="Export format (default: detected per file).")
@param_option("bmdrc=true", dest="sets")
@click.option("--plate-id", "plate_ids", multiple=True, metavar="[FILE=]ID",
              help="Plate ID of an export (FILE=ID, or just ID with one export), "
              "instead of the one read from the file or its name.")
@click.option("--study-id", default="NA", show_default=True, help="Study number.")
@output_options
def zebrafish(exports: tuple[Path, ...], layout: Path | None, plate_map: Path | None,
              protocol: str, fmt: str | None, sets: tuple[str, ...],
              plate_ids: tuple[str, ...], study_id: str, output: Path, force: bool) -> None:
    """Zebrafish locomotion (LPR light/dark, EPR) from tracking EXPORTS.

    Writes the EndpointTable (endpoints.csv/.parquet), per-bin and per-larva
    detail tables, the hit-call table and manifest.json.
    """
    from neurotox.assays.base import resolve_parameters
    from neurotox.assays.zebrafish import analyse, load_exports
    from neurotox.io.zebrafish import read_plate_layouts, read_plate_map

    over = overrides(sets)
    if fmt is not None:
        over["format"] = fmt
    if plate_ids:
        over["plate_ids"] = {**over.get("plate_ids", {}), **_plate_ids(plate_ids, exports)}
    proto, params = resolve_parameters(protocol, command_line=over,
                                       command_line_source=PARAM_OPTION)
    layouts = read_plate_layouts(layout) if layout else None
    pmap = read_plate_map(plate_map) if plate_map else None
    with open_output(output, force, inputs=[*exports, layout, plate_map, proto.path],
                     protocol=proto.name, exports=list(exports),
                     layout=layout, plate_map=plate_map,
                     parameters=params.model_dump(mode="json")) as od:
        od.record.add_inputs([*exports, *(p for p in (layout, plate_map) if p)])
        for note in pmap.attrs.get("notes", []) if pmap is not None else []:
            od.record.note(note)
        if layouts:
            from neurotox.delimited import dialect_note

            for note in dialect_note(layout.name, next(iter(layouts.values())).attrs.get(
                    "dialect", "")):
                od.record.note(note)
        result = analyse(load_exports(list(exports), params), params, study_id=study_id,
                         layouts=layouts, plate_map=pmap)
        od.record.parameters["conventions"] = result.conventions
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

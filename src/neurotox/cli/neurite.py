"""``neurotox neurite PLATE_DIR --layout layout.csv --protocol ... -o OUT``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from neurotox.cli.options import (
    PARAM_OPTION,
    PIXEL_SIZE,
    InputPath,
    check_scheduler,
    open_output,
    output_options,
    overrides,
    param_option,
)
from neurotox.errors import shown

#: Well metrics drawn as plate heatmaps, with the words and unit of each map's title.
HEATMAPS = {"neurite_length_per_cell_um": "neurite length per cell (µm)",
            "nuclei_count": "nuclei per field (count)",
            "cell_body_count": "cell bodies per field (count)",
            "neurite_bearing_cells_pct": "neurite-bearing cells (%)",
            "neurite_length_per_cell_pct": "neurite length per cell (% of vehicle control)"}

def _overrides(pairs: tuple[str, ...], **options: Any) -> dict[str, Any]:
    out = overrides(pairs)
    out.update({k: v for k, v in options.items() if v is not None})
    for key in ("nuclei_channel", "neurite_channel"):
        if str(out.get(key, "")).lower() == "none":
            out[key] = None
    return out


def _study_entries(study: Any, plate_dir: Path) -> list[Any]:
    """The study's neurite entries; with several, those whose input is the plate folder."""
    entries = [a for a in study.spec.assays if a.assay == "neurite_outgrowth"]
    if len(entries) > 1:
        here = plate_dir.resolve()
        entries = [a for a in entries if any(p.resolve() == here
                                             for p in study.assay_inputs(a))]
    return entries


def _study_layout(study: Any, entries: list[Any], params: Any):
    """The plate layout of the study's neurite entry, as ``report`` takes it (None: none)."""
    from neurotox.assays.neurite.plugin import study_layout
    from neurotox.errors import InputError

    if len(entries) > 1 or (not entries and len([
            a for a in study.spec.assays if a.assay == "neurite_outgrowth"]) > 1):
        raise InputError("the study has several neurite entries and none (or several) "
                         "reads this plate folder; give --layout", path=study.path,
                         where="key 'assays'")
    if not entries or not study.layouts:
        return None
    lay = study_layout(study, entries[0], params)
    if lay is not None:
        plate = next(k for k, v in study.layouts.items() if v is lay)
        logging.getLogger(__name__).info("plate layout %r of the study's neurite entry: %s",
                                         plate, lay.attrs["path"])
    return lay


def _groups_and_id(study: Any, study_id: str | None, plate_dir: Path):
    if study is None:
        from neurotox.errors import InputError
        from neurotox.files import folder_name

        sid = study_id or folder_name(plate_dir)    # '.' and './' name the current folder
        if not sid.strip():
            raise InputError("the study number defaults to the plate folder's name, and this "
                             "folder has none; give --study-id", path=plate_dir)
        return None, sid
    from neurotox.assays.neurite.layout import GroupInfo

    groups = {g.id: GroupInfo(g.id, g.dose, g.dose_unit, g.control) for g in study.spec.groups}
    return groups, study_id or study.study_id


@click.command()
@click.argument("plate_dir", type=InputPath(file_okay=False))
@click.option("--layout", type=InputPath(dir_okay=False),
              help="Plate layout (CSV or xlsx): well, group and/or concentration (not needed when "
              "--pattern has {group}; without either, each image is measured alone).")
@click.option("--protocol", default="neurite-outgrowth-shsy5y", show_default=True,
              help="Protocol template name or YAML file.")
@click.option("--study", "study_path", type=InputPath(dir_okay=False),
              help="Study YAML: study number and groups (doses, control).")
@click.option("--study-id", help="Study number when no --study is given (default: folder name).")
@click.option("--pattern", multiple=True, help='File-name pattern, e.g. '
              '"{well}_f{field}_c{channel}.tif"; repeat it for names in several forms.')
@click.option("--pixel-size", type=PIXEL_SIZE, help="µm per pixel (default: image metadata).")
@click.option("--nuclei-channel", help="Nuclear channel number/name, 'none' for single-channel "
              "images (default: protocol).")
@click.option("--neurite-channel", help="Neurite channel number/name, 'none' for nuclei-only "
              "fields (nuclei counts only; default: protocol).")
@click.option("--control", "control_group", metavar="GROUP",
              help="Vehicle-control group (default: concentration 0, or a group named "
              "DMSO, vehicle, control, ...; with --study: the study's control).")
@param_option("min_cells_per_field=5", dest="sets")
@click.option("--overlays", type=click.Choice(["all", "flagged", "none"]), default="flagged",
              show_default=True, help="Which fields get an overlay PNG.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the protocol's workers, else one per core).")
@click.option("--scheduler", help="Dask scheduler address tcp://HOST:PORT (runs the fields "
              "on the cluster instead of local processes).")
@output_options
@click.pass_context
def neurite(ctx: click.Context, plate_dir: Path, layout: Path | None, protocol: str,
            study_path: Path | None, study_id: str | None, pattern: tuple[str, ...],
            pixel_size: float | None, nuclei_channel: str | None, neurite_channel: str | None,
            control_group: str | None, sets: tuple[str, ...], overlays: str,
            workers: int | None, scheduler: str | None, output: Path, force: bool) -> None:
    """Analyse neurite outgrowth in the plate images of PLATE_DIR.

    Writes the EndpointTable, detail tables per cell/field/well (csv + parquet),
    concentration-response fits and the selectivity call, overlays and plate
    heatmaps, and manifest.json.
    """
    from neurotox.assays.base import resolve_parameters
    from neurotox.assays.neurite.conventions import neurite_conventions
    from neurotox.assays.neurite.plate import analyse_plate
    from neurotox.delimited import dialect_note
    from neurotox.study import read_layout

    check_scheduler(scheduler)
    if control_group is not None and study_path is not None:
        raise click.UsageError("--control and --study together: the study file's groups name "
                               "the control; drop --control")
    over = _overrides(sets, pattern=pattern or None, pixel_size_um=pixel_size,
                      nuclei_channel=nuclei_channel, neurite_channel=neurite_channel,
                      control_group=control_group)
    study, entries = None, []
    given = ctx.get_parameter_source("protocol") is not click.core.ParameterSource.DEFAULT
    if study_path is not None:
        from neurotox.assays.base import study_protocol
        from neurotox.study import load_study

        study = load_study(study_path)
        entries = _study_entries(study, plate_dir)
        if len(entries) == 1 and not given:   # the entry's protocol, as `report` runs it
            protocol = study_protocol(study, entries[0])
    entry = entries[0] if len(entries) == 1 else None
    proto, params = resolve_parameters(
        protocol, dict(entry.parameters) if entry else {},
        source=study.path if study else None, command_line=over,
        command_line_source=PARAM_OPTION,
        overrides_key=f"assays.{entry.key}.parameters." if entry else "parameters.")
    if study is not None:   # the study's neurite entry must not name another protocol
        from neurotox.assays.base import check_entry_protocol

        check_entry_protocol(study, "neurite_outgrowth", proto, given=given)
    groups, sid = _groups_and_id(study, study_id, plate_dir)
    lay = None if layout is None else read_layout(layout, group_ids=set(groups) if groups
                                                   else None)
    if lay is None and study is not None:
        lay = _study_layout(study, entries, params)
        layout = None if lay is None else Path(lay.attrs["path"])
    quiet = bool((ctx.find_root().obj or {}).get("quiet"))
    with open_output(output, force, inputs=[plate_dir, layout, study_path, proto.path],
                     protocol=proto.name, plate_dir=plate_dir, layout=layout,
                     overlays=overlays, workers=workers, scheduler=scheduler) as od:
        od.record.parameters["effective"] = params.model_dump(mode="json")
        if entry is not None:
            od.record.note(f"protocol {proto.name!r} and parameters from the study's "
                           f"{entry.key!r} entry")
        for note in [] if lay is None else dialect_note(Path(lay.attrs["path"]).name,
                                                        lay.attrs.get("dialect", "")):
            od.record.note(note)
        given_by = "option" if "pixel_size_um" in over else "study" if entry is not None \
            and "pixel_size_um" in entry.parameters else "protocol"
        run = analyse_plate(plate_dir, lay, params, study_id=sid, groups=groups,
                            workers=workers, scheduler=scheduler, overlays=overlays,
                            progress=not quiet, overlay_writer=od.write_bytes,
                            pixel_size_given_by=given_by)
        _write(od, run)
        conventions = neurite_conventions(params)
        od.record.parameters["conventions"] = conventions
        for text in conventions:
            od.record.note(f"convention: {text}")
    n_ex = len(run.exclusions)
    skipped = f"; {run.unmatched} image file(s) matched no naming pattern (listed in the " \
        "manifest notes)" if run.unmatched else ""
    click.echo(f"{len(run.details['fields'])} fields, {len(run.details['wells'])} wells, "
               f"{n_ex} field(s) excluded{skipped}; wrote {shown(output)}")


def _write(od: Any, run: Any) -> None:
    from neurotox.endpoints import exclusion_records
    from neurotox.imaging.overlay import plate_heatmap_png

    od.record.add_inputs(run.inputs)
    for msg in run.notes:
        od.record.note(msg)
    od.record.exclusions.extend(run.exclusions)                     # fields, by QC
    od.record.exclusions.extend(exclusion_records(run.endpoints))   # wells without a value
    od.write_table(run.endpoints, "endpoints")
    for name, df in run.details.items():
        od.write_table(df, name)
    for rel, png in run.overlays.items():
        od.write_bytes(rel, png)
    from neurotox.study import WELL_NAME

    wells = run.details["wells"]
    wells = wells[wells["well"].astype(str).str.match(WELL_NAME)]   # not images as replicates
    for (plate, tp), grp in wells.groupby(["plate", "timepoint"]):
        suffix = "" if tp == "NA" else f"_t{tp}"
        for metric in HEATMAPS:
            if metric in grp.columns and grp[metric].notna().any():
                values = dict(zip(grp["well"], grp[metric].astype(float), strict=True))
                when = "" if tp == "NA" else f", timepoint {tp}"
                what = HEATMAPS[metric]
                od.write_bytes(f"heatmaps/{plate}{suffix}_{metric}.png",
                               plate_heatmap_png(values, title=f"Plate {plate}{when}: {what}"))

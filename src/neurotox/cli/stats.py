"""``neurotox stats ENDPOINTS --study STUDY -o DIR``: group comparisons of an EndpointTable."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import InputPath, open_output, output_options
from neurotox.errors import shown


@click.command()
@click.argument("endpoint_table", type=InputPath(exists=False, dir_okay=False))
@click.option("--study", "study_file", type=InputPath(exists=False, dir_okay=False),
              help="Study YAML: groups, doses and the statistical plan.")
@click.option("--control", help="Without --study: the control group (default: the group with "
              "the lowest dose).")
@output_options
def stats(endpoint_table: Path, study_file: Path | None, control: str | None, output: Path,
          force: bool) -> None:
    """Analyse ENDPOINT_TABLE (csv or parquet) with the study's statistical plan.

    Writes results.csv/.parquet (one row per endpoint x sex x timepoint x group),
    decisions.csv/.parquet (the decision-tree path taken and why) and manifest.json.
    The study's manual exclusions file (key ``exclusions``) is applied first and
    recorded in the manifest with the assays' own exclusions. Without --study the
    groups are the table's and the plan is the default one.
    """
    if study_file is None:
        _without_study(endpoint_table, control, output, force)
        return
    if control is not None:
        raise click.UsageError("--control is for tables analysed without --study; the study "
                               "file names its control group")
    from neurotox.pipeline import load_amending_study, prepare, record_analysis
    from neurotox.stats import analyse

    study = load_amending_study(study_file)[0]  # the report it amends checked, as 'report' does
    plan = study.spec.statistics
    with open_output(output, force, inputs=[endpoint_table, study_file],
                     endpoint_table=endpoint_table, study=study_file,
                     statistics=plan.model_dump(mode="json")) as od:
        # the study's manual exclusions file applies here as in 'neurotox report'
        table = prepare(study, endpoint_table, od.record).table
        analysis = analyse(table, plan, study.spec.groups)
        record_analysis(od.record, analysis)
        od.record.add_inputs([endpoint_table, *study.input_files()])
        od.write_table(analysis.results, "results")
        od.write_table(analysis.decisions, "decisions")
    _summary(analysis, output)


def _without_study(endpoint_table: Path, control: str | None, output: Path,
                   force: bool) -> None:
    from neurotox import endpoints
    from neurotox.delimited import dialect_note
    from neurotox.errors import InputError
    from neurotox.pipeline import record_analysis
    from neurotox.stats import analyse
    from neurotox.stats.analysis import groups_from_table
    from neurotox.study import StatisticsPlan, check_table_ids

    table = endpoints.read(endpoint_table)
    check_table_ids(table, path=endpoint_table,
                    columns=("subject", "group", "timepoint", "endpoint"))
    names = sorted(set(table["group"]))
    if len(names) == 1:
        why = (" (a neurite run without a layout or {group} measures every image as group "
               "'all')" if set(table["assay"]) == {"neurite_outgrowth"} else
               "; tests against chance or 0 are in 'neurotox report'")
        raise InputError(f"the table has one group ({names[0]!r}): nothing to compare with a "
                         f"control{why}", path=endpoint_table, where="column 'group'")
    groups = groups_from_table(table, control, path=str(endpoint_table))
    zero = [g.id for g in groups if g.dose == groups[0].dose]
    if control is None and groups[0].dose_unit == "none":
        raise click.UsageError(f"name the control group with --control: the table gives no "
                               f"doses (groups: {', '.join(map(repr, zero))})")
    if control is None and len(zero) > 1:
        raise click.UsageError(f"name the control group with --control: groups "
                               f"{', '.join(map(repr, zero))} share the lowest dose "
                               f"({groups[0].dose:g} {groups[0].dose_unit})")
    plan = StatisticsPlan()
    with open_output(output, force, inputs=[endpoint_table], endpoint_table=endpoint_table,
                     control=next(g.id for g in groups if g.control),
                     statistics=plan.model_dump(mode="json")) as od:
        od.record.exclusions.extend(endpoints.exclusion_records(table))
        for note in [*dialect_note(endpoint_table.name, table.attrs.get("dialect", "")),
                     *table.attrs.get("notes", [])]:
            od.record.note(note)
        analysis = analyse(table, plan, groups)
        record_analysis(od.record, analysis)
        od.write_table(analysis.results, "results")
        od.write_table(analysis.decisions, "decisions")
    _summary(analysis, output)


def _summary(analysis, output: Path) -> None:
    n_sig = int((analysis.results["flag"] != "").sum())
    click.echo(f"{len(analysis.decisions)} analyses, {len(analysis.results)} group rows, "
               f"{n_sig} significant vs control; wrote {shown(output)}")

"""``neurotox stats ENDPOINTS --study STUDY -o DIR``: group comparisons of an EndpointTable."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import open_output, output_options


@click.command()
@click.argument("endpoint_table", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--study", "study_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Study YAML: groups, doses and the statistical plan.")
@output_options
def stats(endpoint_table: Path, study_file: Path, output: Path, force: bool) -> None:
    """Analyse ENDPOINT_TABLE (csv or parquet) with the study's statistical plan.

    Writes results.csv/.parquet (one row per endpoint x sex x timepoint x group),
    decisions.csv/.parquet (the decision-tree path taken and why) and manifest.json.
    The study's manual exclusions file (key ``exclusions``) is applied first and
    recorded in the manifest with the assays' own exclusions.
    """
    from neurotox.pipeline import prepare
    from neurotox.stats import analyse
    from neurotox.study import load_study

    study = load_study(study_file)
    plan = study.spec.statistics
    with open_output(output, force, inputs=[endpoint_table, study_file],
                     endpoint_table=endpoint_table, study=study_file,
                     statistics=plan.model_dump(mode="json")) as od:
        # the study's manual exclusions file applies here as in 'neurotox report'
        table = prepare(study, endpoint_table, od.record).table
        analysis = analyse(table, plan, study.spec.groups)
        od.record.add_inputs([endpoint_table, *study.input_files()])
        od.write_table(analysis.results, "results")
        od.write_table(analysis.decisions, "decisions")
    n_sig = int((analysis.results["flag"] != "").sum())
    click.echo(f"{len(analysis.decisions)} analyses, {len(analysis.results)} group rows, "
               f"{n_sig} significant vs control; wrote {output}")

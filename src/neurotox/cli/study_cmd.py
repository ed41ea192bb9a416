"""``neurotox check STUDY.yaml``: validate a study file and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import InputPath


@click.command()
@click.argument("study_file", type=InputPath(exists=False))
@click.option("--assays/--no-assays", "run_assays", default=True, show_default=True,
              help="Also read and analyse every assay's raw data, as 'report' will "
              "(catches bad columns and values before a report run).")
def check(study_file: Path, run_assays: bool) -> None:
    """Validate STUDY_FILE (and the subjects, layouts, inputs and protocols it names).

    With --assays (the default) every assay's raw files are read and analysed as
    'neurotox report' would, and the study's exclusions file is applied to the
    values, without writing anything. Exit status 0 when valid;
    2 with a one-line message naming the file and the key, row or column otherwise.
    """
    from neurotox.assays.base import study_assay_parameters
    from neurotox.files import log_note
    from neurotox.pipeline import load_amending_study
    from neurotox.report.front import amendment_text
    from neurotox.study import left_to_complete

    study, amended = load_amending_study(study_file)
    spec = study.spec
    # everything is checked before anything is printed
    assays = [(a, study.assay_inputs(a), study_assay_parameters(study, a)[0])
              for a in spec.assays]
    values = _run_assays(study) if run_assays and spec.assays else None
    click.echo(f"{spec.study_id}: {spec.title}")
    click.echo(f"test item: {spec.test_item}; GLP: {'yes' if spec.glp else 'no'}")
    for g in spec.groups:
        n = (study.subjects["group"] == g.id).sum() if len(study.subjects) else 0
        ctrl = " (control)" if g.control else ""
        click.echo(f"  group {g.id}: {g.label}, {g.dose:g} {g.dose_unit}{ctrl}, {n} subjects")
    for plate, layout in study.layouts.items():
        plates = layout.attrs.get("plates")
        what = (f"{len(plates)} plates ({', '.join(map(repr, plates))})" if plates else
                f"{layout.attrs['n_wells']}-well layout")
        click.echo(f"  plate {plate}: {what}, {(~layout['blank']).sum()} wells used, "
                   f"{layout['blank'].sum()} blank")
    for a, files, proto in assays:
        click.echo(f"  assay {a.key}: protocol {proto.name}, {len(files)} input file(s)"
                   + (f", {values[a.key]} values" if values else ""))
    if spec.report.amends is not None:
        click.echo(f"  {amendment_text(spec, amended.run_id)}")
    for note in study.notes:   # a warning on standard error (counted; refused under
        if note.startswith("warning: "):   # --warnings-as-errors)
            log_note(note)
        else:
            click.echo(f"  note: {note}")
    missing = left_to_complete(spec)
    if missing:
        click.echo(f"  GLP report: left to complete before signing: {', '.join(missing)} "
                   "(a signed report, --sign-key, is refused until they are given; an "
                   "unsigned draft is written)")
    click.echo("study is valid" + (" and every assay reads and analyses" if values else ""))


def _run_assays(study) -> dict[str, int]:
    """Values per assay entry; each assay run and validated, then the exclusions applied.

    The study's manual exclusions file is matched against all the values as
    'report' and 'stats' will match it: a row that excludes nothing is an error.
    """
    from neurotox import endpoints
    from neurotox.assays.base import run_study_assay
    from neurotox.files import keyed_note
    from neurotox.io.output import RunRecord
    from neurotox.pipeline import historical_controls, study_exclusions

    out, tables, record = {}, [], RunRecord()
    for a in study.spec.assays:
        result = run_study_assay(study, a)
        for note in result.notes:   # subjects without data ... (an error under
            if note.startswith("warning: "):  # --warnings-as-errors)
                record.note(keyed_note(a.key, note))
        endpoints.check_design(result.endpoints, study_id=study.study_id,
                               groups={g.id: (g.dose, g.dose_unit) for g in study.spec.groups})
        out[a.key] = len(result.endpoints)
        tables.append(result.endpoints)
    table = endpoints.concat(tables)
    study_exclusions(study, table)
    historical_controls(study, table, record)   # the database opens, its strata match
    return out

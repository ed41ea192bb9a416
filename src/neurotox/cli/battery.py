"""``neurotox guidelines``: list guideline templates and check a study against one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from neurotox.cli.options import InputPath


@click.group()
def guidelines() -> None:
    """Guideline templates (OECD TG 424/426, EPA 870.6200/6300, OECD GD 377)."""


@guidelines.command("list")
def guidelines_list() -> None:
    """List guideline templates with their citation and number of requirements."""
    from neurotox.guidelines import templates

    for name, params in templates().items():
        click.echo(f"{name:24} {params.guideline:22} {len(params.requirements)} requirements")


@guidelines.command("check")
@click.argument("study_file", type=InputPath(dir_okay=False))
@click.option("--guideline", "guideline", default=None,
              help="Template name or citation to check against (default: the study's "
                   "'guideline' key).")
@click.option("--strict/--no-strict", default=False,
              help="Exit with status 1 when there are deviations.")
def guidelines_check(study_file: Path, guideline: str | None, strict: bool) -> None:
    """Run the study's assays and list its deviations from the guideline."""
    from neurotox.guidelines import check_study, find_guideline, templates
    from neurotox.io.output import RunRecord
    from neurotox.pipeline import collect_endpoints
    from neurotox.study import load_study

    study = load_study(study_file)
    text = guideline or study.spec.guideline
    if not text:
        raise click.UsageError("the study has no 'guideline' key; give --guideline")
    if find_guideline(text) is None:
        raise click.BadParameter(f"{text!r} is not a guideline template; known: "
                                 f"{', '.join(templates())}", param_hint="--guideline")
    study = dataclasses.replace(study, spec=study.spec.model_copy(update={"guideline": text}))
    collected = collect_endpoints(study)
    record = RunRecord()      # subjects without data ... (an error under --warnings-as-errors)
    for note in collected.notes:
        if note.startswith("warning: "):
            record.note(note)
    deviations = check_study(study, collected.table, collected.notes)
    for d in deviations:
        click.echo(f"DEVIATION: {d}")
    if not deviations:
        click.echo(f"no deviations from {find_guideline(text)[1].guideline}")
    if deviations and strict:
        raise click.exceptions.Exit(1)

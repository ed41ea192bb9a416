"""``neurotox check STUDY.yaml``: validate a study file and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.study import load_study


@click.command()
@click.argument("study_file", type=click.Path(path_type=Path))
def check(study_file: Path) -> None:
    """Validate STUDY_FILE (and the subjects, layouts and inputs it names).

    Exit status 0 when valid; 2 with a one-line message naming the file and the
    key, row or column otherwise.
    """
    study = load_study(study_file)
    spec = study.spec
    click.echo(f"{spec.study_id}: {spec.title}")
    click.echo(f"test item: {spec.test_item}; GLP: {'yes' if spec.glp else 'no'}")
    for g in spec.groups:
        n = (study.subjects["group"] == g.id).sum() if len(study.subjects) else 0
        ctrl = " (control)" if g.control else ""
        click.echo(f"  group {g.id}: {g.label}, {g.dose:g} {g.dose_unit}{ctrl}, {n} subjects")
    for plate, layout in study.layouts.items():
        click.echo(f"  plate {plate}: {layout.attrs['n_wells']}-well layout, "
                   f"{(~layout['blank']).sum()} wells used, {layout['blank'].sum()} blank")
    for a in spec.assays:
        files = study.assay_inputs(a)
        click.echo(f"  assay {a.key}: protocol {a.protocol}, {len(files)} input file(s)")
    click.echo("study is valid")

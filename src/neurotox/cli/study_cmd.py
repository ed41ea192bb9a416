"""``neurotox check STUDY.yaml``: validate a study file and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.study import load_study


@click.command()
@click.argument("study_file", type=click.Path(path_type=Path))
def check(study_file: Path) -> None:
    """Validate STUDY_FILE (and the subjects, layouts, inputs and protocols it names).

    Exit status 0 when valid; 2 with a one-line message naming the file and the
    key, row or column otherwise.
    """
    import neurotox.assays  # noqa: F401  (registers every assay)
    from neurotox.assays.base import study_assay_parameters

    study = load_study(study_file)
    spec = study.spec
    # everything is checked before anything is printed
    assays = [(a, study.assay_inputs(a), study_assay_parameters(study, a)[0])
              for a in spec.assays]
    click.echo(f"{spec.study_id}: {spec.title}")
    click.echo(f"test item: {spec.test_item}; GLP: {'yes' if spec.glp else 'no'}")
    for g in spec.groups:
        n = (study.subjects["group"] == g.id).sum() if len(study.subjects) else 0
        ctrl = " (control)" if g.control else ""
        click.echo(f"  group {g.id}: {g.label}, {g.dose:g} {g.dose_unit}{ctrl}, {n} subjects")
    for plate, layout in study.layouts.items():
        click.echo(f"  plate {plate}: {layout.attrs['n_wells']}-well layout, "
                   f"{(~layout['blank']).sum()} wells used, {layout['blank'].sum()} blank")
    for a, files, proto in assays:
        click.echo(f"  assay {a.key}: protocol {proto.name}, {len(files)} input file(s)")
    click.echo("study is valid")

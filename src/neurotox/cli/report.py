"""``neurotox report``: study (or EndpointTable + study) to GLP-style report files."""

from __future__ import annotations

from pathlib import Path

import click

from neurotox.cli.options import InputPath, open_output, output_options
from neurotox.errors import shown

#: Report formats (kept here so that ``neurotox --help`` does not import matplotlib).
FORMATS = ("xlsx", "docx", "pdf", "html", "csv")
DEFAULT_FORMATS = ("xlsx", "docx", "html", "csv")


@click.command()
@click.argument("study_file", required=False,
                type=InputPath(dir_okay=False))
@click.option("--study", "study_opt", type=InputPath(dir_okay=False),
              help="Study file (alternative to the STUDY_FILE argument).")
@click.option("--endpoints", "endpoints_file",
              type=InputPath(dir_okay=False),
              help="Report this EndpointTable (csv/parquet) instead of running the assays.")
@click.option("--format", "formats", default=",".join(DEFAULT_FORMATS), show_default=True,
              help="Comma-separated formats: " + ", ".join(FORMATS) + " (pdf: the Word "
              "report converted by LibreOffice, which must be installed).")
@click.option("--paper", type=click.Choice(["a4", "letter"], case_sensitive=False),
              default=None, help="Paper size of docx/pdf/xlsx printing [default: the study "
              "file's report.paper, else a4].")
@click.option("--bmd/--no-bmd", default=True, show_default=True,
              help="Benchmark doses (pybmds) for in-vivo endpoints with a significant trend.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes for statistics, benchmark-dose fits and figures [default: one "
              "per core].")
@output_options
def report(study_file: Path | None, study_opt: Path | None, endpoints_file: Path | None,
           formats: str, paper: str | None, bmd: bool, workers: int | None, output: Path,
           force: bool) -> None:
    """Analyse a study and write summary tables, listings, figures and methods.

    Runs every assay of STUDY_FILE, applies its exclusions, runs its statistical
    plan and writes report.xlsx, report.docx (and report.pdf), report.html, csv/
    and figures/, with run.json, run.log and manifest.json. With --endpoints,
    reports an EndpointTable produced elsewhere (e.g. by neurotox neurite
    --study); the study file is still needed for the groups, doses and plan.
    """
    if study_file and study_opt and study_file != study_opt:
        raise click.UsageError("give the study once: STUDY_FILE or --study")
    study = study_file or study_opt
    if study is None:
        raise click.UsageError("missing the study file (STUDY_FILE or --study)")
    from neurotox.pipeline import report_study
    from neurotox.report import parse_formats

    fmts = parse_formats(formats)
    if "pdf" in fmts:
        from neurotox.report.render.pdf import available

        if not available():
            raise click.BadParameter("'pdf' needs LibreOffice (soffice) on the PATH, e.g. "
                                     "'apt-get install libreoffice-writer-nogui'; leave pdf "
                                     "out or install it", param_hint="'--format'")
    with open_output(output, force, inputs=[study, endpoints_file], study=study,
                     endpoints=endpoints_file, formats=fmts, bmd=bmd, paper=paper) as od:
        rep = report_study(od, study, formats=fmts, endpoints_file=endpoints_file, bmd=bmd,
                           paper=paper.lower() if paper else None, workers=workers)
    wrote = (f"{len(rep.tables)} tables and {len(rep.figures)} figures" if rep.tables else
             "the endpoint values, statistical results and decisions")
    click.echo(f"wrote {wrote} ({', '.join(fmts)}) to {shown(output)}")

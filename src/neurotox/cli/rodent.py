"""``neurotox nor`` and ``neurotox tmaze``: rodent cognition from raw files to endpoints.

Each command loads the study, resolves the protocol parameters (template, then the
study's assay entry, then ``--param`` overrides), calls the assay's ``analyse``
and writes the EndpointTable, per-animal detail tables, the one-sample results and
the comparisons with control (``statistics.csv``, the stats engine's decision tree)
into an atomic output folder whose manifest lists every exclusion.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from neurotox.cli.options import (
    InputPath,
    distinct_files,
    open_output,
    output_options,
    overrides,
    param_option,
)
from neurotox.errors import shown

if TYPE_CHECKING:
    from neurotox.assays.base import AssayResult
    from neurotox.protocols import Protocol


def _inputs(study: Any, entry: Any, assay: str, inputs: tuple[Path, ...]) -> list[Path]:
    if inputs:
        return list(inputs)
    if entry is None:
        raise click.UsageError(f"no INPUT given and the study has no '{assay}' assay entry")
    return study.assay_inputs(entry)


def _group_statistics(od: Any, study: Any, result: AssayResult) -> None:
    """Comparisons with control (decision tree per endpoint x sex x timepoint)."""
    from neurotox.pipeline import record_analysis
    from neurotox.stats.analysis import analyse

    if len(study.groups) < 2 or result.endpoints.empty:
        od.record.note("one group only: no comparisons with control")
        return
    analysis = analyse(result.endpoints, study.spec.statistics, study.spec.groups)
    record_analysis(od.record, analysis)   # its exclusions and warnings, as report and stats
    od.write_table(analysis.results, "statistics")
    od.write_table(analysis.decisions, "statistics_decisions")


def _write(od: Any, result: AssayResult) -> None:
    od.write_table(result.endpoints, "endpoints")
    for name, table in result.details.items():
        od.write_table(table.astype({c: str for c in table.columns
                                     if table[c].dtype == object}), name)
    ex = result.endpoints[result.endpoints["excluded"]]
    od.record.exclusions.extend(
        {"subject": r.subject, "endpoint": r.endpoint, "timepoint": r.timepoint,
         "reason": r.exclusion_reason} for r in ex.itertuples(index=False))
    od.record.exclusions.extend({"rule": "no data", **m} for m in result.missing)
    for note in result.notes:
        od.record.note(note)
    if result.conventions:
        od.record.parameters["conventions"] = result.conventions


def _run(assays: tuple[str, ...], default: str, inputs: tuple[Path, ...], study_file: Path,
         protocol: str | None, params: tuple[str, ...], output: Path, force: bool,
         extra: Callable[[Any, AssayResult], None] | None = None
         ) -> tuple[Protocol, AssayResult]:
    """Run the assay of the study's entry (or of ``protocol``) into an output folder.

    The protocol is the study entry's (``--protocol`` must agree with it, or pick
    one of several entries), else ``protocol``, else ``default``; the entry's
    parameters and, without INPUT, its files are used. ``extra(od, result)`` adds
    files.
    """
    from neurotox.assays.base import analyse_files, command_entry, resolve_parameters
    from neurotox.study import load_study

    study = load_study(study_file)
    chosen, entry = command_entry(study, assays, protocol, default)
    proto, values = resolve_parameters(
        chosen.path or chosen.name, dict(entry.parameters) if entry else {},
        source=study.path, command_line=overrides(params),
        overrides_key=f"assays.{entry.key}.parameters." if entry else "parameters.")
    files = _inputs(study, entry, proto.assay, inputs)
    with open_output(output, force, inputs=[study_file, *files, proto.path], assay=proto.assay,
                     study=study_file, protocol=proto.name) as od:
        od.record.parameters["effective"] = values.model_dump(mode="json")
        if entry is not None:
            od.record.note(f"protocol {proto.name!r} and parameters from the study's "
                           f"{entry.key!r} entry")
        od.record.add_inputs([*study.input_files(), *files])
        result = analyse_files(study, proto.assay, files, values, entry)
        _write(od, result)
        if extra is not None:
            extra(od, result)
        _group_statistics(od, study, result)
    return proto, result


def _summary(result: AssayResult) -> str:
    ep = result.endpoints
    whole = sum("timepoint" not in m for m in result.missing)
    gaps = len(result.missing) - whole
    missing = (f", {whole} subject(s) of the study without data" if whole else "") + \
        (f", {gaps} session(s) without data" if gaps else "") + \
        (" (see the warning)" if result.missing else "")
    return (f"{ep['subject'].nunique()} animals, {len(ep)} endpoint values, "
            f"{int(ep['excluded'].sum())} excluded{missing}")


_INPUTS = click.argument("inputs", nargs=-1, type=InputPath(dir_okay=False),
                         callback=distinct_files)
_STUDY = click.option("--study", "study_file", required=True,
                      type=InputPath(dir_okay=False),
                      help="Study YAML (groups, subjects).")
_PARAM = param_option()


def _protocol_help(text: str, default: str) -> str:
    return (f"{text} Default: the protocol of the study's entry for the assay, else "
            f"{default}; a different --protocol is an error.")


@click.command()
@_INPUTS
@_STUDY
@click.option("--protocol", default=None,
              help=_protocol_help("Protocol template name or YAML file.", "nor-standard"))
@_PARAM
@output_options
def nor(inputs: tuple[Path, ...], study_file: Path, protocol: str | None,
        params: tuple[str, ...], output: Path, force: bool) -> None:
    """Novel object recognition from scoring sheets, SimBA/ANY-maze/EthoVision files or poses.

    INPUT files are detected by content (exploration data, novel-object key,
    exclusion list); without INPUT the study's ``nor`` assay entry is used.
    """
    _, result = _run(("nor",), "nor-standard", inputs, study_file, protocol, params, output,
                     force)
    click.echo(f"nor: {_summary(result)}; wrote {shown(output)}")


@click.command()
@_INPUTS
@_STUDY
@click.option("--protocol", default=None,
              help=_protocol_help("tmaze-spontaneous, tmaze-rewarded or a protocol YAML file.",
                                  "tmaze-spontaneous"))
@_PARAM
@output_options
def tmaze(inputs: tuple[Path, ...], study_file: Path, protocol: str | None,
          params: tuple[str, ...], output: Path, force: bool) -> None:
    """T-/Y-maze alternation from arm-entry sequences, trial tables or pose tracks."""
    _, result = _run(("tmaze",), "tmaze-spontaneous", inputs, study_file, protocol, params,
                     output, force)
    click.echo(f"tmaze: {_summary(result)}; wrote {shown(output)}")

"""Orchestration: study → assays → EndpointTable → statistics → report files.

:func:`collect_endpoints` runs every assay listed in a study and concatenates
their EndpointTables; :func:`apply_exclusions` applies the study's manual
exclusions file; :func:`report_study` runs the whole chain into an
:class:`~neurotox.io.output.OutputDir`, recording inputs, parameters, notes,
exclusions and guideline deviations in its manifest.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from neurotox import endpoints
from neurotox.delimited import dialect_note
from neurotox.errors import InputError
from neurotox.files import keyed_note
from neurotox.io.output import (
    MANIFEST,
    Manifest,
    OutputDir,
    RunRecord,
    build_manifest,
    read_manifest,
    software_versions,
)
from neurotox.study import Study, check_signable, left_to_complete, load_study, read_exclusions

if TYPE_CHECKING:
    from neurotox.parallel import TaskPool
    from neurotox.report import MethodsBlock, Report, RunStamp
    from neurotox.report.historical import HistoricalRanges

log = logging.getLogger(__name__)


@dataclass
class Collected:
    """EndpointTable of a study with what the assays reported about themselves.

    Attributes
    ----------
    table
        Concatenated, validated EndpointTable of every assay.
    details
        Assay detail tables, keyed ``"<assay key>/<name>"``.
    notes
        Decisions the assays took on their own.
    inputs
        Raw files read.
    parameters
        Effective parameters per assay key.
    conventions
        Result-changing rules per assay key (run notes, manifest, methods).
    missing
        Subjects of the study with no value in an assay entry (``assay``, as in the
        EndpointTable; ``entry``: the entry key when it is not the assay's name;
        ``subject``, ``group``, ``sex``, ``reason``).
    protocols
        The protocol each assay key used (:func:`neurotox.protocols.protocol_record`).
    entry_inputs, entry_notes
        Raw files read and notes, per assay key (the report's materials and methods).

    """

    table: pd.DataFrame
    details: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    conventions: dict[str, list[str]] = field(default_factory=dict)
    missing: list[dict[str, str]] = field(default_factory=list)
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    entry_inputs: dict[str, list[Path]] = field(default_factory=dict)
    entry_notes: dict[str, list[str]] = field(default_factory=dict)


def collect_endpoints(study: Study) -> Collected:
    """Run each assay of the study (with its protocol and overrides) and concatenate."""
    from neurotox.assays.base import run_study_assay

    if not study.spec.assays:
        raise InputError("the study lists no assays; give 'assays' or use --endpoints",
                         path=study.path, where="key 'assays'")
    out = Collected(table=endpoints.empty())
    tables = []
    for spec in study.spec.assays:
        log.info("running assay %s (protocol %s)", spec.key, spec.protocol)
        result = run_study_assay(study, spec)
        tables.append(result.endpoints)
        out.details.update({f"{spec.key}/{k}": v for k, v in result.details.items()})
        out.notes += [keyed_note(spec.key, n) for n in result.notes]
        entry = {"entry": spec.key} if spec.key != spec.assay else {}
        out.missing += [{"assay": spec.assay, **entry, **m} for m in result.missing]
        out.inputs += list(result.inputs)
        out.parameters[spec.key] = result.parameters
        out.protocols[spec.key] = result.protocol
        out.entry_inputs[spec.key] = list(result.inputs)
        out.entry_notes[spec.key] = list(result.notes)
        if result.conventions:
            out.conventions[spec.key] = list(result.conventions)
    out.table = endpoints.concat(tables)
    return out


def protocol_parameters(study: Study) -> dict[str, Any]:
    """Parameters each assay entry would record, by entry key, without running the assays.

    For a report from an EndpointTable (``--endpoints``): bin lengths for the
    timepoint labels and the reference values (chance levels) of one-sample tests
    come from the study's protocols.
    """
    from neurotox.assays.base import entry_parameters

    return {spec.key: entry_parameters(study, spec) for spec in study.spec.assays}


def apply_exclusions(table: pd.DataFrame, exclusions: pd.DataFrame, *,
                     path: str | Path | None = None,
                     known: set[str] | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Mark the rows named in a manual exclusions file as excluded, with the reason.

    Parameters
    ----------
    table
        EndpointTable.
    exclusions
        ``subject``, ``reason``, ``endpoint`` and ``timepoint`` (empty = every
        endpoint or timepoint of the subject), as returned by
        :func:`neurotox.study.read_exclusions`.
    path
        The exclusions file, named in errors.
    known
        The study's subjects (None: none known).

    Returns
    -------
    table, records
        The table with those rows excluded (an existing reason is kept and the
        manual one appended) and one manifest record per exclusions row.

    Raises
    ------
    InputError
        A subject (or subject × endpoint × timepoint) that matches no value: an
        exclusion that excludes nothing is a mistake in the file, not a no-op;
        except a row without endpoint for an animal of ``known`` (the study's)
        that has no value at all (it died or was lost before the assay), or none
        at the row's timepoint while other animals have values there (a missed
        session): recorded with 0 values, it accounts for the animal or session.

    """
    table = table.copy()
    records = []
    for i, row in enumerate(exclusions.itertuples(index=False)):
        mask = table["subject"] == row.subject
        what = f"subject {row.subject!r}"
        for column in ("endpoint", "timepoint"):
            value = getattr(row, column, "")
            if value:
                mask &= table[column] == value
                what += f", {column} {value!r}"
        derived = _derived_rows(table, row) if mask.any() else None
        if not mask.any():
            tp = getattr(row, "timepoint", "")
            gap = not getattr(row, "endpoint", "") and (not tp or (table["timepoint"] == tp).any())
            if gap and known is not None and row.subject in known:
                # an animal of the study with no data (died, lost), or none at a session
                # the others attended: the row accounts for it
                records.append({"rule": "manual exclusions file", "subject": row.subject,
                                "endpoint": "all", **({"timepoint": tp} if tp else {}),
                                "reason": row.reason, "values": 0})
                continue
            raise InputError(f"{what} matches no value of the EndpointTable", path=path,
                             where=f"row {i + 2}")
        reason = f"manual exclusion: {row.reason}"
        _exclude(table, mask, reason)
        records.append({"rule": "manual exclusions file", "subject": row.subject,
                        "endpoint": row.endpoint or "all", "reason": row.reason,
                        "values": int(mask.sum())}
                       | ({"timepoint": row.timepoint} if getattr(row, "timepoint", "")
                          else {}))
        if derived is not None and derived.any():
            names = sorted(table.loc[derived, "endpoint"].unique())
            _exclude(table, derived, f"{reason} (computed from {row.endpoint})")
            records.append({**records[-1], "endpoint": ", ".join(names),
                            "reason": f"{row.reason} (computed from {row.endpoint})",
                            "values": int(derived.sum())})
    return endpoints.validate(table), records


def _exclude(table: pd.DataFrame, mask: pd.Series, reason: str) -> None:
    old = table.loc[mask, "exclusion_reason"]
    table.loc[mask, "exclusion_reason"] = old.where(old == "", old + "; ").fillna("") + reason
    table.loc[mask, "excluded"] = True


def _derived_rows(table: pd.DataFrame, row: Any) -> pd.Series | None:
    """Rows of the endpoints computed from an excluded endpoint (same subject and timepoints).

    Excluding a brain weight excludes the relative brain weight computed from it
    (:func:`neurotox.endpoints.derived_endpoints`); rows already excluded by the
    file stay as they are.
    """
    if not getattr(row, "endpoint", ""):
        return None
    derived = endpoints.derived_endpoints(row.endpoint)
    if not derived:
        return None
    parent = table[(table["subject"] == row.subject) & (table["endpoint"] == row.endpoint)]
    mask = (table["subject"] == row.subject) & table["endpoint"].isin(derived) \
        & table["timepoint"].isin(set(parent["timepoint"])) & ~table["excluded"]
    if getattr(row, "timepoint", ""):
        mask &= table["timepoint"] == row.timepoint
    return mask


def study_exclusions(study: Study, table: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """The study's manual exclusions file (if any) applied to ``table``.

    The one place ``report``, ``stats`` and ``check`` apply it, so that a row
    ``check`` passes is a row the report can apply.
    """
    if not study.spec.exclusions:
        return table, []
    path = study.resolve(study.spec.exclusions, "exclusions")
    return apply_exclusions(table, read_exclusions(path), path=path,
                            known=study.known_subjects())


def left_out_lines(records: list[dict]) -> list[str]:
    """One line per stratum whose test left out values kept in its summary statistics."""
    return [f"{r['assay']}, {r['endpoint']}, sex {r['sex']}, timepoint {r['timepoint']}: "
            f"{r['values']} value(s) ({', '.join(r['subjects'])}) left out of the test — "
            f"{r['reason']}" for r in records]


def exclusion_lines(table: pd.DataFrame) -> list[str]:
    """One line per excluded subject × reason, naming assay, endpoints and values.

    A reason that excludes the same endpoints of every subject of an assay (an
    endpoint its protocol cannot measure) is one line for all of them, before
    the per-subject lines.
    """
    exc = table[table["excluded"]]
    lines, whole = [], set()
    for (assay, reason), part in exc.groupby(["assay", "exclusion_reason"], sort=True):
        n_subjects = table.loc[table["assay"] == assay, "subject"].nunique()
        per_subject = part.groupby("subject")["endpoint"].agg(frozenset)
        if n_subjects > 1 and len(per_subject) == n_subjects and per_subject.nunique() == 1:
            whole.add((assay, reason))
            eps = ", ".join(sorted(per_subject.iloc[0]))
            lines.append(f"{assay}, all {n_subjects} subjects: {len(part)} value(s) of {eps} "
                         f"excluded — {reason}")
    for (assay, subject, reason), part in exc.groupby(["assay", "subject", "exclusion_reason"],
                                                      sort=True):
        if (assay, reason) in whole:
            continue
        eps = ", ".join(sorted(part["endpoint"].unique()))
        lines.append(f"{assay}, subject {subject} (group {part['group'].iloc[0]}, sex "
                     f"{part['sex'].iloc[0]}): {len(part)} value(s) of {eps} excluded — "
                     f"{reason}")
    return lines


def policy_lines(records: Iterable[dict]) -> list[str]:
    """One report line per subject × reason whose values the censoring policy left out."""
    per: dict[tuple, list[dict]] = {}
    for r in records:
        per.setdefault((r["assay"], r["subject"], r["group"], r["reason"]), []).append(r)
    return [f"{assay}, subject {subject} (group {group}): {len(part)} value(s) of "
            f"{', '.join(sorted({r['endpoint'] for r in part}))} excluded — {reason}"
            for (assay, subject, group, reason), part in sorted(per.items())]


def missing_lines(missing: Iterable[dict[str, str]]) -> list[str]:
    """One report line per subject (or session of a subject) an assay has no value for.

    The assay is named as in the EndpointTable (and so in :func:`exclusion_lines`),
    with its entry key when a study splits it into entries (``motor_activity
    (entry motor_wk4)``).
    """
    return [f"{m['assay']}{' (entry ' + m['entry'] + ')' if 'entry' in m else ''}, subject "
            f"{m['subject']} (group {m['group']}, sex {m['sex']}): no "
            f"value{' at ' + m['timepoint'] if 'timepoint' in m else ''} — {m['reason']}"
            for m in missing]


def _assay_cohorts(study: Study, assay: str) -> tuple[str, ...]:
    """Cohorts the study's entries of ``assay`` measure together (empty: every animal)."""
    entries = [s for s in study.spec.assays if s.assay == assay]
    if not entries or any(not s.cohorts for s in entries):
        return ()
    return tuple(sorted({c for s in entries for c in s.cohorts}))


def table_coverage(study: Study, table: pd.DataFrame,
                   path: str | Path) -> tuple[list[dict[str, str]], list[str]]:
    """Subjects of the study without a value in an EndpointTable read from ``path``.

    Per assay of the table, against the study's subjects (of the cohorts of the
    study's entries for that assay; every subject when an entry names none).
    Returns the missing records and one ``warning:`` note per assay.
    """
    from neurotox.assays.accounting import unaccounted_subjects

    missing, notes = [], []
    for assay, part in table.groupby("assay", sort=True):
        cohorts = _assay_cohorts(study, str(assay))
        records, note = unaccounted_subjects(study, part, [Path(path)], cohorts=cohorts)
        missing += [{"assay": str(assay), **r} for r in records]
        notes += [keyed_note(str(assay), note)] if note else []
    return missing, notes


def table_cohorts(study: Study, table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``outside_cohorts`` (:mod:`neurotox.assays.accounting`) on a table read from a file."""
    from neurotox.assays.accounting import outside_cohorts

    notes, parts = [], []
    for assay, part in table.groupby("assay", sort=False):
        cohorts = _assay_cohorts(study, str(assay))
        part, note = outside_cohorts(study, part, cohorts)
        parts.append(part)
        notes += [keyed_note(str(assay), note)] if note else []
    return (pd.concat(parts).loc[table.index] if notes else table), notes


def analyse(table: pd.DataFrame, study: Study, pool: TaskPool | None = None) -> Any:
    """Run the study's statistical plan on the table (``neurotox.stats.analyse``)."""
    from neurotox.stats import analyse as stats_analyse

    return stats_analyse(table, study.spec.statistics, list(study.spec.groups), pool=pool)


def guideline_deviations(study: Study, table: pd.DataFrame,
                         notes: Iterable[str] = ()) -> list[str]:
    """Guideline deviations from ``neurotox.guidelines.check_study`` (empty if absent)."""
    try:
        guidelines = importlib.import_module("neurotox.guidelines")
    except ModuleNotFoundError as exc:
        if exc.name != "neurotox.guidelines":
            raise
        return []
    return list(guidelines.check_study(study, table, notes))


def prepare(study: Study, endpoints_file: str | Path | None,
            record: RunRecord) -> Collected:
    """EndpointTable of a study (from its assays or a file) with exclusions applied."""
    if endpoints_file is None:
        collected = collect_endpoints(study)
    else:
        collected = Collected(table=endpoints.read(endpoints_file),
                              inputs=[Path(endpoints_file)])
        # study id, group, dose and unit of every row, naming the first bad row
        endpoints.check_design(collected.table, study_id=study.study_id, path=endpoints_file,
                               groups={g.id: (g.dose, g.dose_unit) for g in study.spec.groups})
        # animals, their groups and sexes against the subjects file
        study.check_table_subjects(collected.table, path=endpoints_file)
        collected.missing, collected.notes = table_coverage(study, collected.table,
                                                            endpoints_file)
        collected.table, more = table_cohorts(study, collected.table)
        collected.notes += more
    read_as = [] if endpoints_file is None else \
        [*dialect_note(Path(endpoints_file).name, collected.table.attrs.get("dialect", "")),
         *collected.table.attrs.get("notes", [])]
    for note in [*study.notes, *collected.notes, *read_as]:
        record.note(note)
    collected.table, records = study_exclusions(study, collected.table)
    record.exclusions.extend(records)
    record.exclusions.extend(endpoints.exclusion_records(collected.table))
    record.exclusions.extend({"rule": "no data", **m} for m in collected.missing)
    return collected


class Progress:
    """One console line per stage of a report (INFO level: hidden by ``-q``)."""

    def __init__(self, name: str):
        self.name = name
        self.t0 = self.last = time.perf_counter()

    def __call__(self, stage: str, detail: str = "") -> None:
        """Log that ``stage`` is done (with what it did and how long it took)."""
        now = time.perf_counter()
        log.info("%s: %s%s (%.1f s)", self.name, stage, f": {detail}" if detail else "",
                 now - self.last)
        self.last = now


def historical_controls(study: Study, table: pd.DataFrame, record: RunRecord,
                        inputs: Iterable[str | Path] = ()) -> HistoricalRanges | None:
    """Ranges from the study's ``historical_controls`` database; query and row hash recorded.

    ``inputs`` are the study's data files: stored entries with the same data (or
    the same study number) are this study and are left out of its own range.
    """
    spec = study.spec.historical_controls
    if spec is None:
        return None
    from neurotox.hcd.compare import for_study
    from neurotox.hcd.identity import file_hashes
    from neurotox.report.historical import HistoricalRanges

    s = study.spec
    own = {"species": s.species or "", "strain": s.strain or "", "route": s.route or "",
           "vehicle": s.vehicle or "", "guideline": s.guideline or "",
           "facility": s.test_facility or ""}
    hist = for_study(spec, study.path, sorted(table["endpoint"].unique()),
                     study_id=study.study_id, inputs=file_hashes(inputs),
                     controls=_control_values(study, table), own=own,
                     units=table.drop_duplicates("endpoint").set_index("endpoint")["unit"]
                     .to_dict())
    record.parameters.setdefault("historical_controls", {})[study.study_id] = hist.manifest()
    record.note(f"historical controls: {hist.describe()}")
    for text in hist.warnings():
        record.note(f"warning: {text}")
    for text in hist.unit_notes:
        record.note(text)
    if hist.unmatched:
        record.note(hist.unmatched)
    copies = hist.copies_warning()
    if copies:
        record.note(copies)
    return HistoricalRanges(hist.ranges, hist.describe(), min_studies=hist.min_studies,
                            studies=tuple(st.describe() for st in hist.studies))


def _control_values(study: Study, table: pd.DataFrame) -> pd.DataFrame:
    """The values that identify the study's control animals (hcd identity rules)."""
    from neurotox.hcd.identity import control_values

    reg = endpoints.registry()
    controls = {g.id for g in study.spec.groups if g.control}
    part = table[table["group"].isin(controls) & ~table["excluded"].astype(bool)]
    types = part["endpoint"].map(lambda e: reg[e].data_type.value if e in reg else "")
    return control_values(part, part["subject"].unique(), types)


def materials_of(study: Study, collected: Collected, stamp: RunStamp, base: Path,
                 endpoints_file: str | Path | None = None) -> list[MethodsBlock]:
    """The report's materials and methods of the analysis, from what the run recorded.

    ``base`` is the folder ``run.json`` names inputs relative to (the output's
    staging folder); the SHA-256 printed are the ones ``run.json`` lists. Files
    are named relative to the study file's folder (the same text wherever the
    study is kept), or as ``run.json`` names them when outside it.
    """
    from neurotox.report.materials import EntryRecord, materials_section
    from neurotox.report.trace import input_name

    listed = dict(stamp.inputs)
    folder = study.folder.resolve()
    shown: dict[str, str] = {}

    def names(paths: Iterable[str | Path]) -> list[str]:
        out = []
        for p in paths:
            rp = Path(p).resolve()
            key = input_name(rp, base)
            name = rp.relative_to(folder).as_posix() if rp.is_relative_to(folder) else key
            if key in listed:
                shown[name] = listed[key]
            out.append(name)
        return out

    entries = [] if endpoints_file is not None else [
        EntryRecord(spec.key, spec.assay, collected.protocols.get(spec.key, {}),
                    names(collected.entry_inputs.get(spec.key, [])),
                    collected.conventions.get(spec.key, []),
                    collected.entry_notes.get(spec.key, []))
        for spec in study.spec.assays]
    return materials_section(entries, study_files=names(study.input_files()),
                             endpoints_file=None if endpoints_file is None
                             else names([endpoints_file])[0],
                             inputs=list(shown.items()), software=stamp.software)


def censoring_text(study: Study) -> str:
    """How censored values (below/above a limit of quantification) enter the statistics."""
    from neurotox.stats.censored import POLICY_TEXT, TEST_NAMES

    plan = study.spec.statistics.censored
    test = TEST_NAMES[plan.rho]
    return (f"for the statistics, values below the LLOQ are {POLICY_TEXT[plan.policy]} "
            f"(substitution policy '{plan.policy}'), and a stratum with more than "
            f"{plan.rank_test_above:.0%} censored values (in all or in any one group, or more "
            "than half of a group), or any right-censored value, is "
            f"compared with the censoring-aware {test} rank test (statistical plan key "
            "'censored').")


def report_study(od: OutputDir, study_file: str | Path, *, formats: Iterable[str],
                 endpoints_file: str | Path | None = None, prefix: str = "",
                 record_inputs: bool = True, bmd: bool = True, paper: str | None = None,
                 workers: int | None = None, record: RunRecord | None = None) -> Report:
    """Run a study end to end and write its report into ``od`` (under ``prefix``).

    Parameters
    ----------
    od
        Open output folder; its record receives notes, exclusions and deviations.
    study_file
        The study YAML.
    formats
        Report formats (see :data:`neurotox.report.FORMATS`).
    endpoints_file
        Use this EndpointTable instead of running the study's assays.
    prefix
        Folder inside the output for this study's files.
    record_inputs
        Hash the study files and raw data as manifest inputs (off when they are
        themselves outputs of the same run, as in ``neurotox demo``).
    bmd
        Derive benchmark doses (pybmds) for endpoints with a significant trend.
    paper
        ``a4`` or ``letter`` (default: the study file's ``report.paper``).
    workers
        Processes for figures and benchmark-dose fits (default: one per core).
    record
        Run record to fill (default: ``od.record``).

    Notes
    -----
    Besides the report files, the folder gets ``run.json`` (run ID, command,
    input hashes; its SHA-256 is printed in the report) and ``run.log``.

    """
    from threadpoolctl import threadpool_limits

    from neurotox.parallel import TaskPool
    from neurotox.report import (
        FIGURE_FORMATS,
        build_report,
        needs_figures,
        needs_tables,
        prepare_worker,
        write_report,
    )
    from neurotox.report.figures import FigureQueue
    from neurotox.report.neurochem import add_neurochem_sections
    from neurotox.report.screen import add_screen_tables
    from neurotox.report.trace import run_log, write_run_record

    record = record or od.record
    formats = list(formats)
    # Parallel work runs in processes; BLAS threads inside them only compete for the
    # cores (the matrices of these models are small). Results are the same.
    pool = TaskPool(workers, initializer=prepare_worker if needs_tables(formats) else None)
    with run_log(od, prefix), pool, threadpool_limits(1, user_api="blas"):
        step = Progress(f"report {Path(study_file).resolve().parent.name}")
        study, amended = load_amending_study(study_file)
        step.name = f"report {study.study_id}"
        if od.key is not None:   # a signed report is final: nothing may be left to complete
            check_signable(study.spec, study_file)
        from neurotox.stats import load_all

        load_all()  # statsmodels, scipy: inherited by the pool's processes

        pool.start()  # its processes load matplotlib and pybmds while the assays run
        collected = prepare(study, endpoints_file, record)
        step("assays", f"{len(collected.table)} values, {collected.table['endpoint'].nunique()} "
             "endpoints")
        inputs = study.input_files() + list(collected.inputs)
        if record_inputs:
            record.add_inputs(inputs)
        record.parameters.setdefault("assays", {}).update(
            {f"{prefix}:{k}" if prefix else k: v for k, v in collected.parameters.items()})
        record.parameters.setdefault("statistics", {})[prefix or study.study_id] = \
            study.spec.statistics.model_dump(mode="json")
        if collected.conventions:
            record.parameters.setdefault("conventions", {}).update(
                {f"{prefix}:{k}" if prefix else k: v for k, v in collected.conventions.items()})
        if collected.protocols:
            record.parameters.setdefault("protocols", {}).update(
                {f"{prefix}:{k}" if prefix else k: v for k, v in collected.protocols.items()})
        analysis = analyse(collected.table, study, pool)
        step("statistics", f"{len(analysis.decisions)} analyses")
        record_analysis(record, analysis, study.study_id if prefix else "")
        deviations = guideline_deviations(study, collected.table, collected.notes)
        record.deviations.extend(f"{study.study_id}: {d}" for d in deviations)
        historical = historical_controls(study, collected.table, record, collected.inputs)
        glp_notes(study, deviations, record)
        software = software_versions()
        amendment = record_amendment(study, amended, record)
        stamp = write_run_record(od, prefix, record, study_id=study.study_id, inputs=inputs,
                                 software=software, report_date=study.spec.dates.report,
                                 key=od.key, amendment=amendment)
        log.info("run ID %s", stamp.run_id)
        # benchmark-dose fits and figures run in the pool while the tables are built
        # and the formats without figures are written
        queue = FigureQueue(pool) if needs_figures(formats) else None
        report = build_report(study.spec, collected.table, analysis.results,
                              analysis.decisions, software=software, deviations=deviations,
                              exclusions=exclusion_lines(collected.table)
                              + policy_lines(analysis.exclusions)
                              + missing_lines(collected.missing)
                              + left_out_lines(analysis.left_out), bmd=bmd,
                              figures=False, stamp=stamp,
                              parameters=collected.parameters if endpoints_file is None
                              else protocol_parameters(study),
                              paper=paper, workers=workers, tables=needs_tables(formats),
                              historical=historical, pool=pool, figure_queue=queue,
                              details=collected.details,
                              materials=materials_of(study, collected, stamp,
                                                     od.staging.resolve(), endpoints_file))
        add_neurochem_sections(report, collected.details, study.spec, censoring_text(study))
        if report.tables:
            add_screen_tables(report, collected.details, study.spec)
            step("tables and fits", f"{len(report.tables)} tables")
        for msg in report.appendix:
            log.info("software message (methods appendix): %s", msg)
        written = write_report(od, report, [f for f in formats if f not in FIGURE_FORMATS],
                               prefix=prefix)
        shown = [f for f in formats if f in FIGURE_FORMATS]
        if queue is not None:  # laid out while the pool draws, each figure waited for
            report.figures = queue.pending(report.figure_jobs)
        written += write_report(od, report, shown, prefix=prefix)
        if queue is not None:
            report.figures = queue.figures(report.figure_jobs)
            step("figures", f"{len(report.figures)} figures, laid out in {', '.join(shown)} "
                 "while drawn")
        for key, df in sorted(collected.details.items()):
            od.write_table(df, f"{prefix}/details/{key}" if prefix else f"details/{key}",
                           formats=("csv",))
        step("writing", f"{len(written)} files ({', '.join(formats)})")
    return report


def record_analysis(record: RunRecord, analysis: Any, key: str = "") -> None:
    """What the statistics left out (records) and warned of (notes), into ``record``.

    The censoring policy's and the ANCOVA's exclusion records, and the run
    warnings read from the decisions (dropped log transforms, unequal slopes),
    prefixed with ``key`` (a study ID) when given; for ``report`` and ``stats``.
    """
    from neurotox.stats.analysis import analysis_warnings

    record.exclusions.extend(analysis.exclusions)
    record.exclusions.extend(analysis.left_out)
    for warning in analysis_warnings(analysis.decisions):
        record.note(keyed_note(key, warning) if key else warning)


def glp_notes(study: Study, deviations: list[str], record: RunRecord) -> None:
    """Run notes of a GLP report: the keys left to complete, deviations beside "none"."""
    from neurotox.report.front import no_exceptions

    if study.spec.glp and deviations and no_exceptions(study.spec):
        record.note(f"report.glp_exceptions says none, but the report lists {len(deviations)} "
                    "guideline deviation(s): the statement of compliance reads 'with the "
                    "deviations listed under Guideline deviations'")
    incomplete = left_to_complete(study.spec)
    if incomplete:
        record.note(f"GLP report: left to complete before signing (study-file keys): "
                    f"{', '.join(incomplete)}")


#: A run ID as neurotox writes it (:func:`neurotox.logs.new_run_id`).
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")


@dataclass(frozen=True)
class AmendedRun:
    """The report that ``report.amends.run`` names, as :func:`amended_run` found it.

    ``folder`` is None when the study file gave a run ID (taken as written);
    ``signed`` whether that folder's manifest carries a signature (None without a folder).
    """

    run_id: str
    folder: Path | None = None
    signed: bool | None = None


def amended_run(study: Study) -> AmendedRun | None:
    """The report that ``report.amends.run`` names, checked (None when the study amends none).

    A run ID is taken as written. A folder (relative to the study file) must be
    a neurotox report folder of the same study: its ``manifest.json`` (read by
    :func:`~neurotox.io.output.read_manifest`, any format version) lists its
    ``run.json`` with that file's hash; the record gives the run ID. Another
    study number, or an amendment number not above the one of the report
    amended, is an error.

    Raises
    ------
    InputError
        Naming the key ``report.amends.run`` (or ``.number``) and what was found.

    """
    amends, path = study.spec.report.amends, study.path
    if amends is None:
        return None
    if RUN_ID.fullmatch(amends.run):
        return AmendedRun(amends.run)
    folder, where = study.folder / amends.run, "key 'report.amends.run'"
    if not folder.is_dir():
        raise InputError(f"{amends.run!r} is neither a run ID (such as "
                         "20261205T164753Z-1a2b3c4d) nor a report folder", path=path,
                         where=where)
    manifest, run = _amended_record(folder, amends.run, path)
    if run.get("study_id") != study.study_id:
        raise InputError(f"folder {amends.run!r} holds the report of study "
                         f"{run.get('study_id')}, not of study {study.study_id}; an "
                         "amendment amends a report of its own study", path=path, where=where)
    before = (run.get("parameters", {}).get("amends") or {}).get("number", 0)
    if amends.number <= before:
        raise InputError(f"amendment {amends.number} does not follow the report it amends, "
                         f"which is amendment {before}; number it {before + 1} or higher",
                         path=path, where="key 'report.amends.number'")
    return AmendedRun(run["run_id"], folder, signed=manifest.signature is not None)


def _amended_record(folder: Path, name: str, path: Path) -> tuple[Manifest, dict[str, Any]]:
    """The manifest and the ``run.json`` of the report folder ``name`` (``report.amends.run``)."""
    import hashlib
    import json

    from neurotox.report.trace import RUN_RECORD

    where = "key 'report.amends.run'"
    record = folder / RUN_RECORD
    if not (record.is_file() and (folder / MANIFEST).is_file()):
        raise InputError(f"folder {name!r} is not a neurotox report folder (no "
                         f"{RUN_RECORD} and {MANIFEST})", path=path, where=where)
    try:
        manifest = read_manifest(folder / MANIFEST, any_version=True)
    except InputError as exc:
        raise InputError(f"folder {name!r}: {MANIFEST} is not a neurotox manifest "
                         f"({exc.detail if exc.where is None else f'{exc.where}: {exc.detail}'})",
                         path=path, where=where) from None
    data = record.read_bytes()
    listed = manifest.outputs.get(RUN_RECORD, ("", None))[0]
    if listed != hashlib.sha256(data).hexdigest():
        raise InputError(f"{RUN_RECORD} of folder {name!r} is not the one its {MANIFEST} "
                         "lists; check the folder with: neurotox verify", path=path,
                         where=where)
    try:
        run = json.loads(data)
    except ValueError as exc:
        run = exc
    if not isinstance(run, dict) or not isinstance(run.get("run_id"), str):
        raise InputError(f"folder {name!r}: {RUN_RECORD} is not a neurotox run record",
                         path=path, where=where)
    return manifest, run


def amendment_notes(study: Study, amended: AmendedRun | None) -> list[str]:
    """A warning when the report folder ``report.amends.run`` names was never signed.

    An amendment amends a final report; a draft is corrected by running it again.
    A run given by its ID alone cannot be looked at, so it is not warned about.
    """
    if amended is None or amended.signed is not False:
        return []
    return [f"warning: {study.path.name}, key 'report.amends.run': the report in "
            f"{study.spec.report.amends.run!r} was not signed (a draft, not a final report); "
            "an amendment amends a signed final report, a draft is simply run again"]


def load_amending_study(study_file: str | Path) -> tuple[Study, AmendedRun | None]:
    """:func:`~neurotox.study.load_study`, and the report it amends checked (:func:`amended_run`).

    A warning about an amended draft is added to the study's notes (the run's notes).
    """
    study = load_study(study_file)
    amended = amended_run(study)
    study.notes += amendment_notes(study, amended)
    return study, amended


def record_amendment(study: Study, amended: AmendedRun | None, record: RunRecord) -> str:
    """Record ``report.amends`` in the run's parameters (run.json, manifest); its report line.

    The parameters name the amended run's ID, its folder (absolute) when the
    study file gave one, the amendment number and the reason. ``amended`` is
    :func:`amended_run` of the study: None exactly when it amends no report.
    """
    from neurotox.report.front import amendment_text

    if amended is None:
        return ""
    amends = study.spec.report.amends
    record.parameters["amends"] = {
        "study_id": study.study_id, "run_id": amended.run_id,
        "folder": None if amended.folder is None else str(amended.folder.resolve()),
        "number": amends.number, "reason": amends.reason}
    return amendment_text(study.spec, amended.run_id)


def run_demo(od: OutputDir, *, seed: int,
             formats: Iterable[str] = ("xlsx", "docx", "html", "csv")) -> list[str]:
    """Simulate every registered study kind into ``studies/<kind>`` and report it.

    Returns
    -------
    list of str
        The kinds simulated and reported.

    Raises
    ------
    InputError
        No simulator is registered.

    """
    from neurotox.simulate import list_simulators

    sims = list_simulators()
    if not sims:
        raise InputError("no study simulator is registered; nothing to demonstrate")
    formats = list(formats)
    entries: list[tuple[str, str, Report]] = []
    for sim in sims:
        folder = od.path(f"studies/{sim.kind}/study.yaml").parent
        log.info("simulating %s", sim.kind)
        truth = sim.write(folder, seed)
        freeze_zip_files(folder)
        od.write_json(f"studies/{sim.kind}/truth.json", truth)
        report = report_folder(od, folder / "study.yaml", f"reports/{sim.kind}",
                               formats=formats, parameters={"seed": seed, "kind": sim.kind},
                               record_inputs=False)
        entries.append((sim.kind, sim.description, report))
    od.write_text("index.html", demo_index(entries, formats))
    return [s.kind for s in sims]


def report_folder(od: OutputDir, study_file: str | Path, prefix: str, *,
                  formats: Iterable[str], parameters: dict[str, Any] | None = None,
                  **options: Any) -> Report:
    """Report a study into ``prefix``, a folder of ``od`` that verifies on its own.

    The folder gets its own run record (run.json, run.log) and its own
    manifest.json; its notes, exclusions and deviations are also added to
    ``od``'s record. ``options`` are passed to :func:`report_study`.
    """
    sub = RunRecord(command=od.record.command, parameters=dict(parameters or {}))
    report = report_study(od, study_file, formats=formats, prefix=prefix, record=sub,
                          **options)
    _merge_record(od.record, sub)
    od.write_text(f"{prefix}/manifest.json", _manifest_text(sub, od.path(prefix)))
    return report


def _merge_record(into: RunRecord, sub: RunRecord) -> None:
    for key in ("assays", "statistics", "conventions", "protocols"):
        into.parameters.setdefault(key, {}).update(sub.parameters.get(key, {}))
    into.notes.extend(n for n in sub.notes if n not in into.notes)
    into.exclusions.extend(sub.exclusions)
    into.deviations.extend(sub.deviations)


def _manifest_text(record: RunRecord, folder: Path) -> str:
    import json

    return json.dumps(build_manifest(record, folder), indent=2, ensure_ascii=False) + "\n"


def freeze_zip_files(folder: Path) -> None:
    """Give every zip-based file below ``folder`` (xlsx, docx) fixed dates, in place.

    Writers stamp the time of writing into a workbook's zip entries and document
    properties; simulated studies must be byte-identical for the same seed.
    """
    from neurotox.report.render._zip import freeze_zip

    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                magic = f.read(4)
            if magic == b"PK\x03\x04":
                p.write_bytes(freeze_zip(p.read_bytes()))


def demo_index(entries: list[tuple[str, str, Report]], formats: list[str]) -> str:
    """A small HTML page linking every demo study's report files."""
    from neurotox.report.render.html import esc

    items = []
    for kind, description, report in entries:
        links = " · ".join(
            f'<a href="reports/{esc(kind)}/{name}">{esc(name)}</a>'
            for name in (f"report.{f}" for f in formats if f != "csv"))
        if "csv" in formats:
            links += f' · <a href="reports/{esc(kind)}/csv/results.csv">csv/results.csv</a>'
        items.append(f"<li><b>{esc(kind)}</b>: {esc(description)} — {len(report.tables)} "
                     f"tables, {len(report.figures)} figures<br>{links} · "
                     f'<a href="studies/{esc(kind)}/study.yaml">study.yaml</a></li>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>neurotox demo</title></head><body><h1>neurotox demo</h1>"
            "<p>Simulated studies (studies/) and their reports (reports/).</p><ul>"
            + "".join(items) + "</ul></body></html>\n")

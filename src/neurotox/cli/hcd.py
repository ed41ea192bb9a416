"""``neurotox hcd``: the historical control database.

Sub-commands: add, import-send, list, ranges, export, remove, exclude, include.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from neurotox.cli.options import AGE_WEEKS, WINDOW_YEARS, InputPath
from neurotox.errors import shown
from neurotox.files import output_committed

log = logging.getLogger(__name__)

STUDY_OPTIONS = ("facility", "supplier", "route", "vehicle", "start_date", "end_date")


def db_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--db URL``: database URL or SQLite file (default: NEUROTOX_HCD_URL or the XDG file)."""
    return click.option("--db", default=None, metavar="URL",
                        help="Database URL (postgresql+psycopg://user:pw@host/db) or SQLite "
                             "file. Default: $NEUROTOX_HCD_URL, else "
                             "~/.local/share/neurotox/hcd.sqlite.")(f)


def replace_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--replace/--no-replace`` and ``--reason``: replace the earlier entries of the study."""
    f = click.option("--reason", default=None,
                     help="Why the earlier entries are replaced (with --replace; kept in the "
                          "audit trail).")(f)
    return click.option("--replace/--no-replace", default=False, show_default=True,
                        help="Remove the entries of the same study (same source, study number "
                             "or data files) and add this one in their place.")(f)


def _replace_reason(replace: bool, reason: str | None) -> str | None:
    if reason is not None and not replace:
        raise click.UsageError("--reason is given without --replace; give both to replace "
                               "the earlier entries of this study")
    if replace and not (reason or "").strip():
        raise click.UsageError("--replace needs --reason TEXT (kept in the audit trail)")
    return reason.strip() if replace and reason else None


def _add(db: str | None, batch: Any, source: Path, replace: str | None = None, *,
         said: Callable[[], None] | None = None) -> None:
    """Add ``batch`` (read from ``source``) to the database; print what was stored.

    ``said`` logs what the batch's reading found, once the database is known to
    be usable and before anything is stored (a warning may refuse the run).
    """
    from neurotox.hcd import db as hdb
    from neurotox.hcd import store

    engine = hdb.connect(db, inputs=(source,))
    url = hdb.display_url(hdb.resolve_url(db))
    try:
        if said is not None:
            said()
        added = store.add(engine, batch, replace=replace)
        # stored for good: from here a SIGTERM lets the command finish (exit 0)
        output_committed(f"study {added.study_id} (id {added.id}) added to {url}")
    finally:
        engine.dispose()
    for m in added.replaced:
        click.echo(f"replaced {m.describe()}: removed, reason recorded in the audit trail")
    click.echo(f"added study {added.study_id} (id {added.id}) to "
               f"{url}: {added.animals} animal(s), "
               f"{added.animals_included} included in ranges, {added.results} value(s)")
    if added.excluded is not None:
        e = added.excluded
        log.warning("study %s (id %d) stays left out of ranges: the entry it replaces was "
                    "excluded by the laboratory (%r, by %s, %s); 'neurotox hcd include %d "
                    "--reason TEXT' takes it back in", e.study_id, e.id, e.reason, e.by,
                    e.at_utc, e.id)
    if batch.excluded:
        animals = sum(line.startswith("animal ") for line in batch.excluded)
        values = sum(int(line.split(" ", 1)[0]) for line in batch.excluded
                     if line.split(" ", 1)[0].isdigit())
        click.echo(f"left out of ranges: {animals} animal(s)"
                   + (f" and {values} further value(s)" if values else "") + ":")
        for line in batch.excluded:
            click.echo(f"  {line}")


@click.group()
def hcd() -> None:
    """Historical control database: add studies, list them, compute ranges."""


@hcd.command("add")
@click.argument("report_dir", type=InputPath(exists=False))
@db_option
@click.option("--all-groups/--controls-only", default=False, show_default=True,
              help="Also store treated animals (never included in ranges).")
@click.option("--age-weeks", type=AGE_WEEKS, default=None,
              help="Age of the animals at the start of the study, in weeks.")
@click.option("--apparatus", default="", help="Apparatus used for every value of the run.")
@click.option("--session-length", default="", help="Session length, e.g. '60 min'.")
@click.option("--facility", default="", help="Test facility.")
@click.option("--supplier", default="", help="Animal supplier.")
@click.option("--route", default="", help="Route of administration.")
@click.option("--vehicle", default="", help="Vehicle of the control group.")
@click.option("--start-date", default="", help="Study start date (YYYY-MM-DD).")
@click.option("--end-date", default="", help="Study end date (YYYY-MM-DD).")
@click.option("--key", "key_file", default=None, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Check the manifest's signature with this key file (env "
                   "NEUROTOX_SIGN_KEY_FILE), as 'neurotox verify --key'.")
@replace_options
def add(report_dir: Path, db: str | None, all_groups: bool, age_weeks: float | None,
        apparatus: str, session_length: str, key_file: Path | None, replace: bool,
        reason: str | None, **study: str) -> None:
    """Add the control animals of a finished run (a 'neurotox report' folder).

    The folder is verified against its manifest first, as 'neurotox verify'
    does (with --key or NEUROTOX_SIGN_KEY_FILE, its signature too); its
    EndpointTable (csv/endpoints.csv) and study file give the animals and
    values. A study already in the database (same study number or data files)
    is refused unless --replace is given.
    """
    from neurotox.cli.options import signing_key
    from neurotox.hcd.run import run_batch

    why = _replace_reason(replace, reason)
    _check_dates(study)
    batch = run_batch(report_dir, all_groups=all_groups, age_weeks=age_weeks, study=study,
                      apparatus=apparatus, session_length=session_length,
                      key=signing_key(key_file))
    _add(db, batch, report_dir, why)


def _check_dates(study: dict[str, str]) -> None:
    import datetime as dt

    from neurotox.hcd.store import future_date_problem

    for key in ("start_date", "end_date"):
        if study.get(key):
            try:
                dt.date.fromisoformat(study[key])
            except ValueError:
                raise click.BadParameter(f"expected YYYY-MM-DD, found {study[key]!r}",
                                         param_hint=f"--{key.replace('_', '-')}") from None
    future = future_date_problem(study.get("start_date", ""), "start date")
    if future:
        raise click.BadParameter(future, param_hint="--start-date")
    if study.get("start_date") and study.get("end_date") and \
            study["end_date"] < study["start_date"]:
        raise click.BadParameter(f"the end date {study['end_date']} is before the start date "
                                 f"{study['start_date']}",
                                 param_hint="--start-date/--end-date")


@hcd.command("import-send")
@click.argument("folder", type=InputPath(exists=False))
@db_option
@click.option("--include-recovery/--main-only", default=False, show_default=True,
              help="Include recovery-group control animals in ranges (TK and satellite "
                   "animals never are).")
@click.option("--negative-control", "negative_controls", multiple=True, metavar="TCNTRL",
              help="A control type (tx TCNTRL value, e.g. 'Control') to take as a negative "
                   "control besides the recognised ones (vehicle, negative, untreated, sham, "
                   "placebo ...). Positive controls never are. Repeatable.")
@replace_options
def import_send(folder: Path, db: str | None, include_recovery: bool,
                negative_controls: tuple[str, ...], replace: bool, reason: str | None) -> None:
    """Add the control animals of a SEND study folder (dm, tx, ts and bw/om/lb .xpt files).

    Only negative (vehicle, untreated, sham ...) control sets enter ranges;
    positive controls and control types not recognised are stored, not used.
    A study already in the database (same study number or .xpt files) is refused
    unless --replace is given.
    """
    from neurotox.files import WARNINGS_AS_ERRORS, warn_or_refuse
    from neurotox.hcd.send import (
        control_findings,
        missing_domains,
        send_batch,
        study_controls,
    )
    from neurotox.io.send import read_send

    why = _replace_reason(replace, reason)
    study = read_send(folder)
    controls = study_controls(study, negative_controls)
    batch = send_batch(study, controls, include_recovery=include_recovery)
    found = [(warned, f"{folder.name}: {text}") for warned, text in
             control_findings(study, controls, negative_controls) + missing_domains(batch)
             + batch.notes]
    if WARNINGS_AS_ERRORS.get():        # refused before the database is touched
        for text in (text for warned, text in found if warned):
            warn_or_refuse(text)

    def said() -> None:
        for warned, text in found:
            (log.warning if warned else log.info)(text)
    _add(db, batch, folder, why, said=said)


@hcd.command("list")
@db_option
@click.option("--audit", is_flag=True, help="List the audit trail (adds and removals) instead.")
def list_cmd(db: str | None, audit: bool) -> None:
    """List the studies in the database (or its audit trail)."""
    from neurotox.hcd import db as hdb
    from neurotox.hcd import store

    engine = hdb.connect(db, create=False, readonly=True)
    try:
        df = store.audit_log(engine) if audit else store.list_studies(engine)
    finally:
        engine.dispose()
    if df.empty:
        click.echo("no entries" if audit else "no studies")
        return
    if not audit:
        df["source_hash"] = df["source_hash"].str[:12]
        df["excluded"] = df["excluded"].map({True: "yes", False: "no"})
    click.echo(df.to_string(index=False))
    if not audit and df["same_as"].astype(bool).any():
        copies = df[df["same_as"].astype(bool)]
        click.echo("same_as: a later copy of the study stored under that id (an older neurotox "
                   "accepted it); ranges leave id "
                   f"{', '.join(map(str, copies['id']))} out. Remove the copy that should go "
                   "('neurotox hcd remove ID --reason TEXT') or add the study again with "
                   "--replace --reason TEXT")


@hcd.command("export")
@db_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write: .csv or .parquet.")
@click.option("--force/--no-force", default=False,
              help="Replace an existing file that 'hcd export' wrote before.")
def export(db: str | None, output: Path, force: bool) -> None:
    """Export every stored value with its animal and study fields (csv or parquet)."""
    from neurotox.hcd import db as hdb
    from neurotox.hcd import store, table_file

    table_file.check_target(output, force=force, protected=_database(db))
    engine = hdb.connect(db, create=False, readonly=True)
    try:
        df = store.fetch(engine)
    finally:
        engine.dispose()
    table_file.check_replaceable(output, command="hcd export", columns=list(df.columns),
                                 earlier=store.EARLIER_EXPORT_HEADERS)
    table_file.write(df, output, command="hcd export")
    click.echo(f"wrote {len(df)} value(s) of {df['study_pk'].nunique()} stud(ies) to "
               f"{shown(output)}")


def _database(db: str | None) -> list[Path]:
    """The SQLite database file of ``--db`` (never written over), if it is one."""
    from neurotox.hcd import db as hdb

    database = hdb.sqlite_path(db)
    return [Path(database)] if database else []


@hcd.command("remove")
@click.argument("study")
@db_option
@click.option("--reason", required=True, help="Why the study is removed (kept in the audit).")
def remove(study: str, db: str | None, reason: str) -> None:
    """Remove STUDY (its id, study number or source-hash prefix), keeping an audit record."""
    from neurotox.hcd import db as hdb
    from neurotox.hcd import store

    engine = hdb.connect(db, create=False)
    try:
        done = store.remove(engine, study, reason)
        output_committed(f"study {done['study_id']} (id {done['id']}) removed")
    finally:
        engine.dispose()
    click.echo(f"removed study {done['study_id']} (id {done['id']}): {done['animals']} "
               f"animal(s), {done['results']} value(s); reason recorded in the audit trail")


def _set_excluded(study: str, db: str | None, reason: str, *, excluded: bool) -> None:
    from neurotox.hcd import db as hdb
    from neurotox.hcd.store import set_excluded

    engine = hdb.connect(db, create=False)
    try:
        done = set_excluded(engine, study, reason, excluded=excluded)
        output_committed(f"study {done.study_id} (id {done.id}) "
                         + ("excluded" if excluded else "included"))
    finally:
        engine.dispose()
    click.echo(f"{'left' if excluded else 'took'} study {done.study_id} (id {done.id}) "
               f"{'out of' if excluded else 'back into'} ranges; its values stay stored; "
               "reason recorded in the audit trail")


@hcd.command("exclude")
@click.argument("study")
@db_option
@click.option("--reason", required=True,
              help="Why the study is left out of ranges (kept with it and in the audit).")
def exclude(study: str, db: str | None, reason: str) -> None:
    """Leave STUDY (id, study number or source-hash prefix) out of ranges, keeping its values.

    'hcd ranges' and reports leave it out and name it with the reason;
    'hcd include' takes it back in.
    """
    _set_excluded(study, db, reason, excluded=True)


@hcd.command("include")
@click.argument("study")
@db_option
@click.option("--reason", required=True,
              help="Why the study is taken back into ranges (kept in the audit).")
def include(study: str, db: str | None, reason: str) -> None:
    """Take STUDY, left out by 'hcd exclude', back into ranges."""
    _set_excluded(study, db, reason, excluded=False)


@hcd.command("ranges")
@db_option
@click.option("--endpoint", "endpoints", multiple=True, help="Only this endpoint (repeatable).")
@click.option("--strain", default=None, help="Stratum: strain.")
@click.option("--species", default=None, help="Stratum: species.")
@click.option("--vehicle", default=None, help="Stratum: vehicle.")
@click.option("--route", default=None, help="Stratum: route.")
@click.option("--guideline", default=None, help="Stratum: guideline (SEND: study type).")
@click.option("--facility", default=None, help="Stratum: test facility.")
@click.option("--apparatus", default=None, help="Stratum: apparatus.")
@click.option("--session-length", default=None, help="Stratum: session length.")
@click.option("--age-weeks", nargs=2, type=AGE_WEEKS, default=None, metavar="LOW HIGH",
              help="Stratum: age band in weeks.")
@click.option("--window-years", type=WINDOW_YEARS, default=None,
              help="Only studies started within this many years (before --until or today).")
@click.option("--until", default=None, help="End of the window (YYYY-MM-DD).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the ranges to this .csv or .parquet file instead of the screen.")
@click.option("--force/--no-force", default=False,
              help="Replace an existing file that 'hcd ranges' wrote before.")
def ranges_cmd(db: str | None, endpoints: tuple[str, ...], output: Path | None, force: bool,
               **strata: Any) -> None:
    """Historical control ranges per endpoint x sex x timepoint within the strata given."""
    from neurotox.files import warn_or_refuse
    from neurotox.hcd import db as hdb
    from neurotox.hcd import store, table_file
    from neurotox.hcd.exclusion import shared_vehicle_entries
    from neurotox.hcd.ranges import (
        query_from_options,
        ranges,
        select_rows,
        unrecorded,
        why_none,
    )

    query = query_from_options(strata, cli=True)
    if output is not None:
        table_file.check_target(output, force=force, protected=_database(db))
    engine = hdb.connect(db, create=False, readonly=True)
    try:
        store.check_endpoints(engine, endpoints)
        data = store.range_data(engine, endpoints=endpoints or None)
        rows, copies = data.rows, data.copies
        selected = select_rows(rows, query)
        with engine.connect() as conn:
            shared = shared_vehicle_entries(conn, sorted(set(selected["study_pk"])))
    finally:
        engine.dispose()
    if copies:
        from neurotox.hcd.identity import duplicates_message

        warn_or_refuse(duplicates_message(copies))
    for entry in shared:
        warn_or_refuse(entry.describe())
    _say_excluded(data.excluded, data.excluded_rows, query)
    table = ranges(selected)
    for left in unrecorded(rows, query):
        warn_or_refuse(left.describe(f"--{left.stratum.replace('_', '-')}"))
    if table.empty:
        warn_or_refuse(f"no stored control value matches: {why_none(rows, query)}")
    if output is not None:
        table_file.check_replaceable(output, command="hcd ranges", columns=list(table.columns))
        table_file.write(table, output, command="hcd ranges")
        click.echo(f"wrote {len(table)} range(s) ({query.describe()}) to {shown(output)}")
    else:
        click.echo(f"{len(table)} range(s); {query.describe()}")
        if len(table):
            click.echo(table.dropna(axis=1, how="all").to_string(index=False))


def _say_excluded(excluded: list[Any], rows: Any, query: Any) -> None:
    """Log the studies left out by 'hcd exclude' that the strata would have used."""
    from neurotox.hcd.ranges import select_rows

    within = set(select_rows(rows, query)["study_pk"])
    named = [e.describe() for e in excluded if e.id in within]
    if named:
        log.info("left out of ranges by 'hcd exclude': %s", "; ".join(named))

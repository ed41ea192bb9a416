"""Writing to and reading from the historical control database.

Every change runs in one transaction: a study is added with all its animals,
results and its audit row, or not at all (an error, a crash or a killed process
leaves the database as it was). A study already in the database — the same
source, the same study number or the same data files
(:mod:`neurotox.hcd.identity`) — is refused, also when two imports run at once
(the adding transactions are serialised), unless the earlier entries are replaced
on request. Removing a study needs a reason, which the audit table keeps with who
removed it, when, and what was removed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from neurotox.errors import InputError, did_you_mean
from neurotox.hcd import schema
from neurotox.hcd.db import now_utc, who
from neurotox.hcd.exclusion import Excluded, excluded_studies
from neurotox.hcd.identity import (
    Duplicate,
    Match,
    control_values,
    data_hashes,
    duplicates,
    matches,
    study_key,
)

log = logging.getLogger(__name__)

ROLES = ("main", "recovery", "tk", "satellite")
#: Study fields a batch may set (besides study_id, source and provenance).
STUDY_FIELDS = ("title", "facility", "guideline", "species", "strain", "supplier", "route",
                "vehicle", "start_date", "end_date")
ANIMAL_COLUMNS = ("subject", "sex", "age_days", "role", "group_id", "control_type", "vehicle",
                  "included", "exclusion_reason")
RESULT_COLUMNS = ("subject", "endpoint", "category", "data_type", "timepoint", "study_day",
                  "value", "unit", "censoring", "method", "apparatus", "session_length",
                  "software_version", "included", "exclusion_reason")


@dataclass
class Batch:
    """One study ready to be added: its design, control animals and their values.

    Attributes
    ----------
    study_id
        The study number (one study per number in the database).
    source_kind, source_path, source_hash
        ``send`` or ``neurotox-run``, where it came from, and the hash of that
        source (unique in the database).
    study
        Values of :data:`STUDY_FIELDS`.
    animals
        One row per animal, columns :data:`ANIMAL_COLUMNS`.
    results
        One row per value, columns :data:`RESULT_COLUMNS`.
    software_version
        Version of the software that produced the values (neurotox for a run).
    excluded
        One line per animal or value left out of ranges, with the rule.
    inputs
        ``path → sha256`` of the data files the values were read from (see
        :mod:`neurotox.hcd.identity`).
    verified
        What was checked of the source before it was read (a run folder: its
        manifest and signature); kept in the audit row.
    notes
        What the reader worked out and how, one ``(is a warning, text)`` each (a
        SEND study: each control set's vehicle, fields taken from the animals).

    """

    study_id: str
    source_kind: str
    source_path: str
    source_hash: str
    study: dict[str, str]
    animals: pd.DataFrame
    results: pd.DataFrame
    software_version: str = ""
    excluded: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    verified: str = ""
    notes: list[tuple[bool, str]] = field(default_factory=list)

    def control_values(self) -> pd.DataFrame:
        """Values of the animals included in ranges that identify them (identity rules)."""
        included = self.animals.loc[self.animals["included"].astype(bool), "subject"]
        return control_values(self.results, included)

    def check(self) -> None:
        """Programming-error checks on the columns and roles (the readers guarantee them)."""
        missing = [c for c in ANIMAL_COLUMNS if c not in self.animals.columns]
        missing += [c for c in RESULT_COLUMNS if c not in self.results.columns]
        if missing:
            raise ValueError(f"batch lacks columns {missing}")
        bad = set(self.animals["role"]) - set(ROLES)
        if bad:
            raise ValueError(f"unknown animal roles {sorted(bad)}")
        orphan = set(self.results["subject"]) - set(self.animals["subject"])
        if orphan:
            raise ValueError(f"results for animals not in the batch: {sorted(orphan)[:3]}")


@dataclass(frozen=True)
class Added:
    """What :func:`add` wrote."""

    id: int
    study_id: str
    animals: int
    animals_included: int
    results: int
    replaced: tuple[Match, ...] = ()
    #: The laboratory's exclusion carried over from a replaced entry (``hcd exclude``), if any.
    excluded: Excluded | None = None


def _records(df: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    out = df.loc[:, list(columns)].astype(object)
    out = out.where(pd.notna(out), None)
    return out.to_dict("records")


def add(engine: sa.Engine, batch: Batch, *, replace: str | None = None) -> Added:
    """Add one study in one transaction.

    Parameters
    ----------
    engine
        The database.
    batch
        The study.
    replace
        The reason for replacing: the stored entries of the same study (same
        source, study number or data files) are removed first, in the same
        transaction, each with an audit row. Without it such entries refuse the
        study.

    Raises
    ------
    InputError
        The same study is in the database already (naming the earlier entries),
        or ``replace`` is given but blank.

    """
    batch.check()
    _check_dates(batch)
    _check_ages(batch)
    if replace is not None and not replace.strip():
        raise InputError("a reason is required to replace a study", where="option '--reason'")
    try:
        with engine.begin() as conn:
            return _add(conn, batch, replace)
    except sa.exc.IntegrityError:
        # a concurrent import of the same source committed first
        with engine.connect() as conn:
            found = matches(conn, study_id=batch.study_id, source_hash=batch.source_hash)
        if not found:
            raise
        raise _duplicate(batch, found) from None


def future_date_problem(text: str, what: str) -> str | None:
    """Why the ISO date ``text`` cannot be a past study's ``what`` ("start date"), or None.

    The rule of :func:`neurotox.study.future_date` (after tomorrow, UTC): no historical
    control can have started then.
    """
    from neurotox.study import future_date

    return future_date(text, f"the study's {what}")


def _check_dates(batch: Batch) -> None:
    """Refuse a study that starts in the future or ends before it starts, naming the fields.

    An end date in the future (a study still running) is a warning.
    """
    import datetime as dt

    from neurotox.files import warn_or_refuse

    future = future_date_problem(batch.study.get("start_date", ""), "start date")
    if future:
        raise InputError(future, path=batch.source_path, where="field 'start_date'")
    future = future_date_problem(batch.study.get("end_date", ""), "end date")
    if future:
        warn_or_refuse(f"{batch.source_path}: {future}: is the study still running?")
    try:
        start, end = (dt.date.fromisoformat(str(batch.study.get(k) or ""))
                      for k in ("start_date", "end_date"))
    except ValueError:          # one not given (or not ISO): nothing to compare
        return
    if end < start:
        raise InputError(f"the study's end date {end} is before its start date {start}",
                         path=batch.source_path, where="fields 'start_date', 'end_date'")


def _check_ages(batch: Batch) -> None:
    """Refuse an animal whose age is no age at the start of a study (NaN: not recorded).

    The same rule as every age option (:func:`neurotox.study.age_weeks_problem`),
    for every source: infinity or 1e300 days would be stored for good.
    """
    from neurotox.study import MAX_AGE_WEEKS, age_weeks_problem

    days = pd.to_numeric(batch.animals["age_days"], errors="coerce").astype(float)
    bad = days.notna() & ~days.between(0, MAX_AGE_WEEKS * 7)
    if bad.any():
        subject, age = batch.animals.loc[bad, "subject"].iloc[0], days[bad].iloc[0]
        raise InputError(f"animal {subject}: age {age:g} days: {age_weeks_problem(age / 7)}"
                         + (f" (and {int(bad.sum()) - 1} more animal(s))" if bad.sum() > 1
                            else ""), path=batch.source_path, where="field 'age_days'")


def _duplicate(batch: Batch, found: list[Match]) -> InputError:
    first = found[0]
    entries = "; ".join(m.describe() for m in found)
    return InputError(f"study {batch.study_id!r} is in the historical control database already "
                      f"as {entries}; to add this one instead, give --replace --reason TEXT, "
                      f"or remove it first ('neurotox hcd remove {first.id} --reason TEXT')",
                      path=batch.source_path)


def _serialise(conn: sa.Connection) -> None:
    """Queue adding transactions (SQLite: BEGIN IMMEDIATE already holds the write lock)."""
    from neurotox.hcd.db import PG_ADD_LOCK_KEY

    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_ADD_LOCK_KEY})


def _add(conn: sa.Connection, batch: Batch, replace: str | None) -> Added:
    _serialise(conn)
    found = matches(conn, study_id=batch.study_id, source_hash=batch.source_hash,
                    inputs=batch.inputs, controls=batch.control_values())
    if found and replace is None:
        raise _duplicate(batch, found)
    carried = _carried_exclusion(conn, [m.id for m in found])
    for m in found:
        _remove(conn, m.id, f"replaced by {batch.source_path}: {replace.strip()}")
    values = {k: str(batch.study.get(k) or "") for k in STUDY_FIELDS}
    if carried is not None:
        values |= {"excluded": True, "exclusion_reason": carried.reason,
                   "excluded_utc": carried.at_utc, "excluded_by": carried.by}
    study_pk = conn.execute(schema.study.insert().values(
        **_fresh_id(conn), study_id=batch.study_id, source_kind=batch.source_kind,
        source_path=batch.source_path, source_hash=batch.source_hash,
        software_version=batch.software_version, added_utc=now_utc(), added_by=who(),
        **values).returning(schema.study.c.id)).scalar_one()
    files = [{"study": study_pk, "path": p, "sha256": h}
             for p, h in sorted(data_hashes(batch.inputs).items())]
    if files:
        conn.execute(schema.study_input.insert(), files)
    animals = _records(batch.animals, ANIMAL_COLUMNS)
    for a in animals:
        a["study"] = study_pk
    if animals:
        conn.execute(schema.animal.insert(), animals)
    ids = dict(conn.execute(sa.select(schema.animal.c.subject, schema.animal.c.id).where(
        schema.animal.c.study == study_pk)).all())
    n_results = _insert_results(conn, batch.results, ids)
    n_included = int(batch.animals["included"].sum())
    conn.execute(schema.audit.insert().values(
        at_utc=now_utc(), who=who(), action="add", study_id=batch.study_id,
        source_hash=batch.source_hash, reason=replace.strip() if found else "",
        detail=json.dumps({"id": study_pk, "source": batch.source_path,
                           "animals": len(animals), "animals_included": n_included,
                           "results": n_results, "data_files": len(files),
                           **({"verified": batch.verified} if batch.verified else {}),
                           **({"replaces": [m.id for m in found]} if found else {}),
                           **({"excluded": _exclusion_detail(carried)} if carried else {})},
                          sort_keys=True)))
    return Added(study_pk, batch.study_id, len(animals), n_included, n_results, tuple(found),
                 None if carried is None else Excluded(study_pk, batch.study_id, carried.reason,
                                                       carried.at_utc, carried.by))


def _carried_exclusion(conn: sa.Connection, ids: list[int]) -> Excluded | None:
    """The laboratory's exclusion of the first excluded entry among ``ids`` (being replaced).

    A re-analysis or re-import of a study is not a decision to take it back into
    ranges: the replacement keeps the exclusion (reason, when, who) of the entry it
    replaces (the lowest id, when several replaced entries were excluded) until
    ``hcd include`` takes it back in.
    """
    return next(iter(excluded_studies(conn, ids)), None) if ids else None


def _exclusion_detail(e: Excluded) -> dict[str, object]:
    """The audit detail of an exclusion carried over: from which id, why, when, who."""
    return {"from_id": e.id, "reason": e.reason, "excluded_utc": e.at_utc,
            "excluded_by": e.by}


def _fresh_id(conn: sa.Connection) -> dict[str, int]:
    """On SQLite, an id never used before (SQLite would reuse the highest id once removed).

    The audit trail and report manifests name studies by id, so an id stays with one
    entry for the life of the database. PostgreSQL's sequence never reuses one.
    """
    if conn.dialect.name != "sqlite":
        return {}
    used = [int(json.loads(d).get("id", 0)) for d in conn.execute(
        sa.select(schema.audit.c.detail).where(schema.audit.c.action.in_(("add", "remove"))))
        .scalars()]
    highest = conn.execute(sa.select(sa.func.max(schema.study.c.id))).scalar() or 0
    return {"id": max([highest, *used]) + 1}


def _insert_results(conn: sa.Connection, results: pd.DataFrame, ids: dict[str, int]) -> int:
    rows = _records(results, RESULT_COLUMNS)
    for r in rows:
        r["animal"] = ids[r.pop("subject")]
    for start in range(0, len(rows), 5000):
        conn.execute(schema.result.insert(), rows[start:start + 5000])
    return len(rows)


# ----------------------------------------------------------------- remove

#: Fewest hex digits of a source hash that name a study (``hcd list`` shows 12).
MIN_HASH_PREFIX = 8


def find_study(conn: sa.Connection, key: str) -> sa.Row:
    """The one study named by ``key``: its database id, study number or source-hash prefix.

    Study numbers compare as the identity rules compare them (without regard to
    case and surrounding spaces, :func:`neurotox.hcd.identity.study_key`); a
    source-hash prefix needs :data:`MIN_HASH_PREFIX` hex digits.

    Raises
    ------
    InputError
        No study, or several (naming them, so that the id can be given).

    """
    s = schema.study
    text = key.strip()
    hexdigits = bool(text) and all(c in "0123456789abcdef" for c in text.lower())
    numbered = {pk for pk, sid in conn.execute(sa.select(s.c.id, s.c.study_id))
                if study_key(sid) == study_key(text)}
    cond = [s.c.id.in_(sorted(numbered))]
    if text.isdigit():
        cond.append(s.c.id == int(text))
    if len(text) >= MIN_HASH_PREFIX and hexdigits:
        cond.append(s.c.source_hash.startswith(text.lower()))
    rows = conn.execute(sa.select(s).where(sa.or_(*cond)).order_by(s.c.id)).all()
    if not rows:
        short = (f"; a source-hash prefix needs at least {MIN_HASH_PREFIX} hex digits, found "
                 f"{len(text)}" if hexdigits and not text.isdigit() else "")
        raise InputError(f"no study {key!r} in the historical control database{short}; see "
                         "'neurotox hcd list'", where="argument 'STUDY'")
    by_id = [r for r in rows if text.isdigit() and r.id == int(text)]
    if len(rows) > 1 and not by_id:
        listing = ", ".join(f"id {r.id} ({r.study_id}, {r.source_hash[:12]})" for r in rows)
        raise InputError(f"{key!r} names {len(rows)} studies: {listing}; give the id",
                         where="argument 'STUDY'")
    return by_id[0] if by_id else rows[0]


def remove(engine: sa.Engine, key: str, reason: str) -> dict[str, Any]:
    """Delete one study with its animals and results; keep who, when and why in ``audit``.

    Raises
    ------
    InputError
        No reason given, or ``key`` names no study or several.

    """
    if not reason.strip():
        raise InputError("a reason is required to remove a study", where="option '--reason'")
    with engine.begin() as conn:
        row = find_study(conn, key)
        detail = _remove(conn, row.id, reason.strip())
    return {"study_id": row.study_id, **detail}


def _remove(conn: sa.Connection, pk: int, reason: str) -> dict[str, Any]:
    """Delete study ``pk`` with its animals, values and data files; write its audit row."""
    row = conn.execute(sa.select(schema.study).where(schema.study.c.id == pk)).one()
    animal_ids = sa.select(schema.animal.c.id).where(schema.animal.c.study == pk)
    n_res = conn.execute(schema.result.delete().where(
        schema.result.c.animal.in_(animal_ids))).rowcount
    n_ani = conn.execute(schema.animal.delete().where(schema.animal.c.study == pk)).rowcount
    conn.execute(schema.study_input.delete().where(schema.study_input.c.study == pk))
    conn.execute(schema.study.delete().where(schema.study.c.id == pk))
    detail = {"id": pk, "source": row.source_path, "animals": n_ani, "results": n_res,
              "added_utc": row.added_utc, "added_by": row.added_by}
    if row.excluded:
        detail["excluded"] = {"reason": row.exclusion_reason, "excluded_utc": row.excluded_utc,
                              "excluded_by": row.excluded_by}
    conn.execute(schema.audit.insert().values(
        at_utc=now_utc(), who=who(), action="remove", study_id=row.study_id,
        source_hash=row.source_hash, reason=reason, detail=json.dumps(detail, sort_keys=True)))
    return detail


# ----------------------------------------------------------------- read

def list_studies(engine: sa.Engine) -> pd.DataFrame:
    """One row per study: design, source, numbers of animals (included) and values.

    ``same_as`` is the id of the earlier entry of the same study for a copy that
    an older neurotox stored (:func:`neurotox.hcd.identity.duplicates`; ranges
    leave it out), else empty. ``age_weeks`` is the age of the included animals at
    the start (``8`` or ``8–9.43``; empty when not recorded); ``excluded`` with
    ``exclusion_reason``, ``excluded_utc`` and ``excluded_by`` says whether the
    laboratory left the study out of ranges (``hcd exclude``), why, when and who.
    """
    s, a, r = schema.study, schema.animal, schema.result
    n_animals = sa.select(sa.func.count()).where(a.c.study == s.c.id).scalar_subquery()
    n_incl = sa.select(sa.func.count()).where(a.c.study == s.c.id,
                                              a.c.included.is_(True)).scalar_subquery()
    n_res = (sa.select(sa.func.count()).select_from(r.join(a, r.c.animal == a.c.id))
             .where(a.c.study == s.c.id).scalar_subquery())
    ages = [sa.select(f(a.c.age_days)).where(a.c.study == s.c.id, a.c.included.is_(True))
            .scalar_subquery().label(name)
            for f, name in ((sa.func.min, "_age_min"), (sa.func.max, "_age_max"))]
    q = sa.select(s.c.id, s.c.study_id, s.c.facility, s.c.species, s.c.strain, s.c.guideline,
                  s.c.vehicle, s.c.start_date, *ages, s.c.source_kind, s.c.source_hash,
                  n_animals.label("animals"), n_incl.label("animals_included"),
                  n_res.label("results"), s.c.added_utc, s.c.added_by, s.c.excluded,
                  s.c.exclusion_reason, s.c.excluded_utc, s.c.excluded_by).order_by(s.c.id)
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(),
                          columns=[c.name for c in q.selected_columns])
        same = {d.copy: d.kept for d in duplicates(conn)}
    df["same_as"] = [str(same[pk]) if pk in same else "" for pk in df["id"]]
    df.insert(df.columns.get_loc("_age_min"), "age_weeks",
              [_weeks(lo, hi) for lo, hi in zip(df["_age_min"], df["_age_max"], strict=True)])
    df["excluded"] = df["excluded"].astype(bool)
    return df.drop(columns=["_age_min", "_age_max"])


def _weeks(low: float | None, high: float | None) -> str:
    """An age span in days as weeks: ``8``, ``8–9.43``, or empty when not recorded."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    lo, hi = f"{float(low) / 7:.3g}", f"{float(high) / 7:.3g}"
    return lo if lo == hi else f"{lo}–{hi}"


def audit_log(engine: sa.Engine) -> pd.DataFrame:
    """Every audit row, oldest first."""
    q = sa.select(schema.audit).order_by(schema.audit.c.id)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).mappings().all(),
                            columns=[c.name for c in schema.audit.columns])


def check_endpoints(engine: sa.Engine, names: Iterable[str]) -> None:
    """InputError naming the first of ``names`` that the database holds no value of."""
    names = list(names)
    if not names:
        return
    with engine.connect() as conn:
        known = set(conn.execute(sa.select(schema.result.c.endpoint).distinct()).scalars())
    for name in names:
        if name not in known:
            raise InputError(f"no value of endpoint {name!r} in the database"
                             + did_you_mean(name, sorted(known)),
                             where="option '--endpoint'")


#: Columns of :func:`fetch` (study, animal and result fields of every value).
FETCH_COLUMNS = (
    "study_pk", "study_id", "source_hash", "facility", "guideline", "species", "strain",
    "supplier", "route", "vehicle", "start_date", "study_excluded", "study_exclusion_reason",
    "study_excluded_utc", "study_excluded_by", "subject", "sex", "age_days", "role",
    "group_id", "control_type", "animal_included", "animal_exclusion_reason", "endpoint",
    "category", "data_type", "timepoint", "study_day", "value", "unit", "censoring", "method",
    "apparatus", "session_length", "software_version", "included", "exclusion_reason")

#: Headers an earlier ``hcd export`` wrote (before the study's exclusion columns): its
#: CSV files may be replaced with ``--force`` too.
EARLIER_EXPORT_HEADERS = (tuple(c for c in FETCH_COLUMNS if not c.startswith("study_excl")),)


def fetch(engine: sa.Engine, *, endpoints: Iterable[str] | None = None,
          included_only: bool = False) -> pd.DataFrame:
    """Every value with its animal and study fields (:data:`FETCH_COLUMNS`), in a stable order.

    ``vehicle`` is the animal's (its control set's) when recorded, else the study's.
    ``study_excluded`` (with ``study_exclusion_reason``, ``study_excluded_utc`` and
    ``study_excluded_by``) says whether the laboratory left the whole study out of
    ranges (``hcd exclude``); ``included`` and ``exclusion_reason`` are the value's
    own (and ``animal_included`` the animal's), as stored.

    Parameters
    ----------
    engine
        The database.
    endpoints
        Only these endpoints (all when None).
    included_only
        Only values of included animals that are themselves included.

    """
    s, a, r = schema.study, schema.animal, schema.result
    vehicle = sa.case((a.c.vehicle != "", a.c.vehicle), else_=s.c.vehicle).label("vehicle")
    cols = [s.c.id.label("study_pk"), s.c.study_id, s.c.source_hash, s.c.facility,
            s.c.guideline, s.c.species, s.c.strain, s.c.supplier, s.c.route, vehicle,
            s.c.start_date, s.c.excluded.label("study_excluded"),
            s.c.exclusion_reason.label("study_exclusion_reason"),
            s.c.excluded_utc.label("study_excluded_utc"),
            s.c.excluded_by.label("study_excluded_by"), a.c.subject, a.c.sex, a.c.age_days,
            a.c.role, a.c.group_id,
            a.c.control_type, a.c.included.label("animal_included"),
            a.c.exclusion_reason.label("animal_exclusion_reason"), r.c.endpoint, r.c.category,
            r.c.data_type, r.c.timepoint, r.c.study_day, r.c.value, r.c.unit, r.c.censoring,
            r.c.method, r.c.apparatus, r.c.session_length, r.c.software_version, r.c.included,
            r.c.exclusion_reason]
    q = sa.select(*cols).select_from(r.join(a, r.c.animal == a.c.id).join(s, a.c.study == s.c.id))
    if endpoints is not None:
        q = q.where(r.c.endpoint.in_(sorted(set(endpoints))))
    if included_only:
        q = q.where(a.c.included.is_(True), r.c.included.is_(True))
    q = q.order_by(s.c.id, a.c.subject, r.c.endpoint, r.c.timepoint)
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=list(FETCH_COLUMNS))
    for c in ("value", "age_days", "study_day"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in ("study_excluded", "animal_included", "included"):
        df[c] = df[c].astype(bool)
    return df


@dataclass(frozen=True)
class RangeData:
    """The values ranges are computed from, and the stored studies left out of them.

    ``rows`` are :func:`fetch` rows (included values of included animals) less
    those of ``copies`` (later copies of a study an older neurotox stored twice)
    and of ``excluded`` (studies the laboratory left out, ``hcd exclude``), whose
    values are ``excluded_rows`` (so that a caller can say which fell within its
    strata).
    """

    rows: pd.DataFrame
    copies: list[Duplicate]
    excluded: list[Excluded]
    excluded_rows: pd.DataFrame


def range_data(engine: sa.Engine, *, endpoints: Iterable[str] | None = None) -> RangeData:
    """:class:`RangeData` of ``endpoints`` (all when None): one study counts once, if at all."""
    with engine.connect() as conn:
        found = duplicates(conn)
        out = excluded_studies(conn)
    rows = fetch(engine, endpoints=endpoints, included_only=True)
    rows = rows[~rows["study_pk"].isin([d.copy for d in found])]
    gone = rows["study_pk"].isin([e.id for e in out])
    return RangeData(rows[~gone].reset_index(drop=True), found, out,
                     rows[gone].reset_index(drop=True))


def range_rows(engine: sa.Engine, *, endpoints: Iterable[str] | None = None
               ) -> tuple[pd.DataFrame, list[Duplicate]]:
    """The included values ranges are computed from, and the stored copies left out.

    :func:`fetch` with ``included_only``, less the values of the later copies of
    a study stored twice by an older neurotox (:func:`neurotox.hcd.identity.duplicates`):
    one study counts once; and less those of studies the laboratory left out
    (:func:`range_data` says which). The caller warns with
    :func:`neurotox.hcd.identity.duplicates_message`.
    """
    data = range_data(engine, endpoints=endpoints)
    return data.rows, data.copies


def set_excluded(engine: sa.Engine, key: str, reason: str, *, excluded: bool) -> Excluded:
    """Leave study ``key`` out of ranges (``excluded``) or take it back in; audit it.

    Parameters
    ----------
    engine
        The database.
    key
        The study's id, study number or source-hash prefix
        (:func:`neurotox.hcd.store.find_study`).
    reason
        Why (required; kept with the study while excluded, and in the audit trail).
    excluded
        True to leave the study out, False to take it back in.

    Raises
    ------
    InputError
        No reason, no such study (or several), or the study is already out
        (``excluded``) or already in.

    """
    action = "exclude" if excluded else "include"
    if not reason.strip():
        raise InputError(f"a reason is required to {action} a study", where="option '--reason'")
    s = schema.study
    with engine.begin() as conn:
        row = find_study(conn, key)
        if bool(row.excluded) == excluded:
            state = (f"already left out of ranges ({row.exclusion_reason!r}, by "
                     f"{row.excluded_by}, {row.excluded_utc})" if excluded
                     else "not left out of ranges")
            raise InputError(f"study {row.study_id} (id {row.id}) is {state}",
                             where="argument 'STUDY'")
        at, by = now_utc(), who()
        conn.execute(s.update().where(s.c.id == row.id).values(
            excluded=excluded, exclusion_reason=reason.strip() if excluded else "",
            excluded_utc=at if excluded else "", excluded_by=by if excluded else ""))
        conn.execute(schema.audit.insert().values(
            at_utc=at, who=by, action=action, study_id=row.study_id,
            source_hash=row.source_hash, reason=reason.strip(),
            detail=json.dumps({"id": row.id, "source": row.source_path}, sort_keys=True)))
    return Excluded(row.id, row.study_id, reason.strip(), at, by)

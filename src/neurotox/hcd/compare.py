"""Historical control ranges for one study's report: query, ranges, counts and provenance.

:func:`for_study` opens the database a study file names under
``historical_controls``, selects the included control values within the study's
strata and window for the endpoints of its EndpointTable, and returns the
ranges with what a report footnote and the run manifest must say about them:
the database (password hidden), strata and window, numbers of studies and
animals, and the SHA-256 of the rows used.

The footnote and the manifest name the stored studies behind the ranges
(:mod:`neurotox.hcd.sources`: study number, dates, facility, strain, vehicle,
route, animals), and a run note says which study characteristics the strata do
not match (a warning when there are no strata at all).

The study being reported is left out of its own historical controls: entries with
its study number or its data files (:mod:`neurotox.hcd.identity`, as for ``hcd
add``) would otherwise put the concurrent controls into the range they are
compared with. The footnote says how many studies and animals were left out.
Studies the laboratory left out (``hcd exclude``) that the strata would have used
are named in the footnote with the reason, who and when, and in the manifest
(``excluded_by_laboratory``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from neurotox.errors import InputError
from neurotox.hcd import db, store
from neurotox.hcd.exclusion import Excluded, SharedVehicle, shared_vehicle_entries
from neurotox.hcd.identity import Duplicate, Match, duplicates_message, matches
from neurotox.hcd.ranges import (
    KEY,
    NEEDED,
    Query,
    Unrecorded,
    ranges,
    rows_hash,
    select_rows,
    unrecorded,
    why_none,
)
from neurotox.hcd.sources import SourceStudy, not_matched, sources, start_span, unmatched_message
from neurotox.study import HistoricalControls
from neurotox.vocab import normalise_unit


@dataclass(frozen=True)
class LeftOut:
    """Entries of the reported study itself, left out of its historical controls.

    Attributes
    ----------
    entries
        The stored studies that are the reported study (and why).
    n_studies, n_animals
        How many of them, and of their animals, fell within the strata and window
        (and so would have entered the range).
    within
        Database ids of those entries.

    """

    entries: tuple[Match, ...] = ()
    n_studies: int = 0
    n_animals: int = 0
    within: tuple[int, ...] = ()

    def describe(self) -> str:
        """``; left out: …`` for the footnote, or nothing."""
        if not self.n_studies:         # not in the strata: nothing to leave out
            return ""
        ids = ", ".join(str(m.id) for m in self.entries)
        return (f"; left out as the study being reported (same study number, data files or "
                f"control animals): "
                f"{self.n_studies} stud{'y' if self.n_studies == 1 else 'ies'}, "
                f"{self.n_animals} control animal(s) (database id {ids})")


@dataclass(frozen=True)
class Historical:
    """Ranges for a report and their provenance.

    ``database`` is the URL (password hidden) the run manifest records;
    ``database_name`` the name the report prints (:func:`neurotox.hcd.db.report_name`:
    a SQLite file's name, never the folder it lies in on the analyst's machine).
    """

    ranges: pd.DataFrame
    database: str
    database_name: str
    query: Query
    n_studies: int
    n_animals: int
    n_values: int
    rows_sha256: str
    left_out: LeftOut = field(default_factory=LeftOut)
    studies: tuple[SourceStudy, ...] = ()
    min_studies: int = 3
    unmatched: str | None = None
    unrecorded: tuple[Unrecorded, ...] = ()
    why_none: str = ""
    unit_notes: tuple[str, ...] = ()
    copies: tuple[Duplicate, ...] = ()
    excluded: tuple[Excluded, ...] = ()
    shared_vehicle: tuple[SharedVehicle, ...] = ()

    def describe(self) -> str:
        """One sentence for the report footnote: database, strata, studies, window and counts."""
        free = not_matched(self.query)
        strata = self.query.describe() + (f" (not matched: {', '.join(free)})" if free else "")
        ids = ", ".join(s.study_id for s in self.studies)
        span = start_span(self.studies)
        named = f" ({'; '.join(p for p in (ids, span) if p)})" if ids else ""
        return (f"database {self.database_name}; {strata}; {self.n_studies} "
                f"stud{'y' if self.n_studies == 1 else 'ies'}{named}, {self.n_animals} control "
                f"animal(s), {self.n_values} value(s){self.left_out.describe()}"
                + "".join(f"; left out by {u.stratum} for want of {NEEDED[u.stratum]}: "
                          f"{u.counts()}" for u in self.unrecorded)
                + (f"; left out as later copies of stored studies: database id "
                   f"{', '.join(str(d.copy) for d in self.copies)}" if self.copies else "")
                + (f"; left out by the laboratory ('hcd exclude'): "
                   f"{'; '.join(e.describe() for e in self.excluded)}" if self.excluded
                   else ""))

    def copies_warning(self) -> str | None:
        """``warning: …`` naming the stored copies left out (an older neurotox stored them)."""
        return f"warning: {duplicates_message(list(self.copies))}" if self.copies else None

    def warnings(self) -> list[str]:
        """What the run must warn about (messages without the ``warning:`` prefix).

        No range at all, studies a stratum or the window left out for want of the
        field it needs (:func:`neurotox.hcd.ranges.unrecorded`), and
        stored entries of this study under another study number, and SEND entries
        stored before schema version 3 that pool control sets under the study's
        vehicle (:func:`neurotox.hcd.exclusion.shared_vehicle_entries`).
        """
        out = []
        if not self.n_studies:
            out.append(f"historical controls: no stored control value matches "
                       f"({self.query.describe()}): {self.why_none}; the report has no "
                       "historical control rows")
        out += [f"historical controls: {u.describe(u.stratum)}" for u in self.unrecorded]
        for m in self.left_out.entries:
            if m.id in self.left_out.within and "same study number" not in m.reasons:
                out.append(f"historical controls: database {m.describe()} is this study "
                           f"under another study number; left out of its historical controls "
                           f"(a study is never part of its own historical controls)")
        out += [e.describe() for e in self.shared_vehicle]
        return out

    def manifest(self) -> dict[str, Any]:
        """What the run manifest records: the query and the hash of the rows used."""
        out = {"database": self.database, "database_name": self.database_name,
               "query": self.query.strata(),
               "description": self.query.describe(), "n_studies": self.n_studies,
               "n_animals": self.n_animals, "n_values": self.n_values,
               "rows_sha256": self.rows_sha256, "min_studies": self.min_studies,
               "not_matched": not_matched(self.query),
               "studies": [s.manifest() for s in self.studies]}
        if self.unrecorded:
            out["left_out_for_want_of_a_field"] = [
                {"stratum": u.stratum, "study_ids": list(u.study_ids), "n_studies": u.n_studies,
                 "n_animals": u.n_animals} for u in self.unrecorded]
        if self.copies:
            out["copies_left_out"] = [{"id": d.copy, "study_id": d.copy_study_id,
                                       "same_as": d.kept, "why": list(d.reasons)}
                                      for d in self.copies]
        if self.excluded:
            out["excluded_by_laboratory"] = [e.manifest() for e in self.excluded]
        if self.left_out.entries:
            out["left_out"] = {
                "entries": [{"id": m.id, "study_id": m.study_id, "source": m.source_path,
                             "why": list(m.reasons)} for m in self.left_out.entries],
                "n_studies": self.left_out.n_studies, "n_animals": self.left_out.n_animals}
        return out


def database_url(spec: HistoricalControls, study_file: Path) -> str:
    """The database URL; a relative SQLite path is taken relative to the study file."""
    if "://" in spec.database:
        return spec.database
    path = Path(spec.database).expanduser()
    return db.resolve_url(str(path if path.is_absolute() else
                              (study_file.parent / path).resolve()))


def for_study(spec: HistoricalControls, study_file: Path, endpoints: list[str], *,
              study_id: str = "", inputs: Mapping[str, str] | None = None,
              controls: pd.DataFrame | None = None,
              own: Mapping[str, str] | None = None,
              units: Mapping[str, str] | None = None) -> Historical:
    """Historical control ranges of ``endpoints`` for the study in ``study_file``.

    Parameters
    ----------
    spec
        The study file's ``historical_controls``.
    study_file
        The study file (a relative SQLite path is taken relative to it).
    endpoints
        Endpoints of the report.
    study_id, inputs, controls
        Study number, ``path → sha256`` of the data files and control values
        (:func:`neurotox.hcd.identity.control_values`) of the study being
        reported: stored entries of the same study are left out.
    own
        The reported study's species, strain, route, vehicle, guideline and
        facility (stratum names; empty when unknown), compared with the
        historical studies on what the strata do not match.
    units
        Unit of each endpoint in the reported study: values held in another unit
        are converted where exact (:func:`in_units`), else left out with a warning.

    Raises
    ------
    InputError
        The database cannot be opened (naming the study file's key).

    """
    url = database_url(spec, study_file)
    query = Query.from_study(spec)
    if query.window_years is not None and query.until is None:     # record the window used
        query = query.model_copy(update={"until": query.window()[1]})
    try:
        engine = db.connect(url, create=False, readonly=True)
    except InputError as exc:
        raise InputError(exc.detail, path=study_file,
                         where="key 'historical_controls.database'") from None
    try:
        with engine.connect() as conn:
            same = matches(conn, study_id=study_id, inputs=inputs, controls=controls) \
                if study_id or inputs or controls is not None else []
        data = store.range_data(engine, endpoints=endpoints)
        fetched, copies = data.rows, data.copies
        rows, unit_notes = in_units(select_rows(fetched, query), units or {})
        mine = rows["study_pk"].isin([m.id for m in same])
        within = tuple(sorted(int(i) for i in rows.loc[mine, "study_pk"].unique()))
        left_out = LeftOut(tuple(same), len(within), _n_animals(rows[mine]), within)
        rows = rows[~mine].reset_index(drop=True)
        out = set(select_rows(data.excluded_rows, query)["study_pk"])
        with engine.connect() as conn:
            studies = sources(conn, rows)
            shared = shared_vehicle_entries(conn, sorted(set(rows["study_pk"])))
    finally:
        engine.dispose()
    return Historical(ranges=with_studies(ranges(rows), rows), database=db.display_url(url),
                      database_name=db.report_name(url), query=query,
                      n_studies=int(rows["study_pk"].nunique()), n_animals=_n_animals(rows),
                      n_values=len(rows), rows_sha256=rows_hash(rows), left_out=left_out,
                      studies=studies, min_studies=spec.min_studies,
                      unmatched=unmatched_message(query, studies, own or {}, rows),
                      unrecorded=tuple(unrecorded(fetched[~fetched["study_pk"].isin(
                          [m.id for m in same])], query)),
                      why_none="" if len(rows) else why_none(fetched, query),
                      unit_notes=tuple(unit_notes), copies=tuple(copies),
                      excluded=tuple(e for e in data.excluded if e.id in out),
                      shared_vehicle=tuple(shared))


def with_studies(table: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``table`` (the ranges of ``rows``) with a column ``studies``: who each range rests on.

    Each cell is a tuple of (study number, control animals in the range), in
    database-id order, so that a report can name the studies behind a range
    built from only some of the historical studies.
    """
    per: dict[tuple, list[tuple[int, str, int]]] = {}
    if len(rows):
        counts = rows.groupby([*KEY, "study_pk", "study_id"], sort=True).size()
        for (*key, pk, sid), n in counts.items():
            per.setdefault(tuple(key), []).append((int(pk), str(sid), int(n)))
    out = table.copy()
    out["studies"] = [tuple((sid, n) for _, sid, n in sorted(per.get(key, [])))
                      for key in out[KEY].itertuples(index=False, name=None)]
    return out


#: Units whose conversion is exact and known: unit → factor to the base unit of its kind.
EXACT_UNITS = {"kg": ("mass", 1e3), "g": ("mass", 1.0), "mg": ("mass", 1e-3),
               "ug": ("mass", 1e-6), "µg": ("mass", 1e-6)}


def in_units(rows: pd.DataFrame, units: Mapping[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """``rows`` in the reported study's unit of each endpoint, and what was done.

    A value in another unit is converted where the conversion is exact and known
    (:data:`EXACT_UNITS`: kg, g, mg, µg) and left out otherwise; one line per
    endpoint and unit says which, with the studies and values.
    """
    if rows.empty or not units:
        return rows, []
    want = rows["endpoint"].map(units).map(normalise_unit, na_action="ignore")
    other = want.notna() & (rows["unit"].map(normalise_unit) != want)
    if not other.any():
        return rows, []
    rows = rows.copy()
    notes, drop = [], pd.Series(False, index=rows.index)
    for (endpoint, unit), part in rows[other].groupby(["endpoint", "unit"], sort=True):
        target = units[endpoint]
        a, b = EXACT_UNITS.get(normalise_unit(unit)), EXACT_UNITS.get(normalise_unit(target))
        ids = ", ".join(sorted(set(part["study_id"])))
        what = f"{endpoint} in {unit!r} ({ids}; {len(part)} value(s))"
        if a and b and a[0] == b[0]:
            rows.loc[part.index, "value"] = part["value"] * (a[1] / b[1])
            rows.loc[part.index, "unit"] = target
            notes.append(f"historical controls: {what} converted to {target!r}, the unit of "
                         "this study")
        else:
            drop[part.index] = True
            notes.append(f"warning: historical controls: {what} left out: this study gives "
                         f"{endpoint} in {target!r} and no exact conversion is known")
    return rows[~drop].reset_index(drop=True), notes


def _n_animals(rows: pd.DataFrame) -> int:
    return int(rows[["study_pk", "subject"]].drop_duplicates().shape[0])

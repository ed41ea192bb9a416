"""Historical control ranges for one study's report: query, ranges, counts and provenance.

:func:`for_study` opens the database a study file names under
``historical_controls``, selects the included control values within the study's
strata and window for the endpoints of its EndpointTable, and returns the
ranges with what a report footnote and the run manifest must say about them:
the database (password hidden), strata and window, numbers of studies and
animals, and the SHA-256 of the rows used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from neurotox.errors import InputError
from neurotox.hcd import db, store
from neurotox.hcd.ranges import Query, ranges, rows_hash, select_rows
from neurotox.study import HistoricalControls


@dataclass(frozen=True)
class Historical:
    """Ranges for a report and their provenance."""

    ranges: pd.DataFrame
    database: str
    query: Query
    n_studies: int
    n_animals: int
    n_values: int
    rows_sha256: str

    def describe(self) -> str:
        """One sentence for the report footnote: database, strata, window and counts."""
        return (f"database {self.database}; {self.query.describe()}; {self.n_studies} "
                f"stud{'y' if self.n_studies == 1 else 'ies'}, {self.n_animals} control "
                f"animal(s), {self.n_values} value(s)")

    def manifest(self) -> dict[str, Any]:
        """What the run manifest records: the query and the hash of the rows used."""
        return {"database": self.database, "query": self.query.strata(),
                "description": self.query.describe(), "n_studies": self.n_studies,
                "n_animals": self.n_animals, "n_values": self.n_values,
                "rows_sha256": self.rows_sha256}


def database_url(spec: HistoricalControls, study_file: Path) -> str:
    """The database URL; a relative SQLite path is taken relative to the study file."""
    if "://" in spec.database:
        return spec.database
    path = Path(spec.database).expanduser()
    return db.resolve_url(str(path if path.is_absolute() else
                              (study_file.parent / path).resolve()))


def for_study(spec: HistoricalControls, study_file: Path,
              endpoints: list[str]) -> Historical:
    """Historical control ranges of ``endpoints`` for the study in ``study_file``.

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
        engine = db.connect(url, create=False)
    except InputError as exc:
        raise InputError(exc.detail, path=study_file,
                         where="key 'historical_controls.database'") from None
    try:
        rows = select_rows(store.fetch(engine, endpoints=endpoints, included_only=True), query)
    finally:
        engine.dispose()
    return Historical(ranges=ranges(rows), database=db.display_url(url), query=query,
                      n_studies=int(rows["study_pk"].nunique()),
                      n_animals=int(rows[["study_pk", "subject"]].drop_duplicates().shape[0]),
                      n_values=len(rows), rows_sha256=rows_hash(rows))

"""Historical control ranges per endpoint × sex × timepoint, within named strata.

A :class:`Query` names the strata (strain, species, route, vehicle, age band,
apparatus, session length, guideline) and the time window (studies started
within ``window_years`` before ``until``). :func:`select_rows` returns the
included values of included animals that match; :func:`ranges` summarises them.

For each endpoint × sex × timepoint × unit, over individual animals: number of
studies and animals, mean, SD (n − 1), minimum, maximum and the 5th and 95th
percentiles (linear interpolation between order statistics, as
``numpy.percentile`` and ``pandas.Series.quantile`` by default), and the range
of the study means. Censored values (``<x``/``>x`` results) are counted
(``n_censored``) but not summarised. For incidence endpoints (one 0/1 value per
animal): animals affected of animals examined, and the range (min–max) of the
study incidences in percent.

Text strata match without regard to case, spaces and punctuation
(``Sprague-Dawley`` = ``SPRAGUE DAWLEY``), but numbers keep their value: a
decimal point between digits is not punctuation (``1.0% methylcellulose`` =
``1% methylcellulose`` ≠ ``10% methylcellulose``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from neurotox.study import HistoricalControls, HistoricalStrata

#: Text strata and the column of :func:`neurotox.hcd.store.fetch` each one matches.
TEXT_STRATA = {"species": "species", "strain": "strain", "route": "route",
               "vehicle": "vehicle", "guideline": "guideline", "facility": "facility",
               "apparatus": "apparatus", "session_length": "session_length"}
KEY = ["endpoint", "sex", "timepoint", "unit"]


class Query(HistoricalStrata):
    """Which historical controls to use: strata and time window.

    The strata are those of :class:`~neurotox.study.HistoricalStrata`.

    Attributes
    ----------
    window_years
        Only studies that started within this many years before ``until``;
        studies without a start date are left out when given.
    until
        End of the window (ISO date); today (UTC, whatever the time zone) when not given.

    """

    window_years: float | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)
    until: dt.date | None = None

    @classmethod
    def from_study(cls, spec: HistoricalControls) -> Query:
        """The query of a study file's ``historical_controls`` key."""
        return cls(**spec.strata.model_dump(), window_years=spec.window_years,
                   until=spec.until)

    def strata(self) -> dict[str, Any]:
        """The strata and window that are set, for footnotes and manifests."""
        return {k: (list(v) if isinstance(v, tuple) else str(v) if isinstance(v, dt.date)
                    else v) for k, v in self.model_dump().items() if v is not None}

    def describe(self) -> str:
        """``strain Sprague-Dawley, age 8–12 weeks, studies 2021-12-01 to 2026-12-01``."""
        parts = [f"{k.replace('_', ' ')} {getattr(self, k)}" for k in TEXT_STRATA
                 if getattr(self, k) is not None]
        if self.age_weeks is not None:
            parts.append(f"age {self.age_weeks[0]:g}–{self.age_weeks[1]:g} weeks")
        if self.window_years is not None:
            start, end = self.window()
            parts.append(f"studies started {start.isoformat()} to {end.isoformat()}")
        return ", ".join(parts) or "no strata"

    def window(self) -> tuple[dt.date, dt.date]:
        """First and last start date of the window."""
        end = self.until or dt.datetime.now(dt.UTC).date()   # the run's UTC date, as its ID
        years = float(self.window_years or 0)
        whole = int(years)
        try:
            start = end.replace(year=end.year - whole)
        except ValueError:                      # 29 February
            start = end.replace(year=end.year - whole, day=28)
        return start - dt.timedelta(days=round((years - whole) * 365.25)), end


#: A number with a decimal point (``1.0``, ``0.5``, ``.5``): its value is kept.
_DECIMAL = re.compile(r"(?<![0-9])([0-9]*)\.([0-9]+)")


def _decimal(match: re.Match[str]) -> str:
    whole = (match.group(1) or "0").lstrip("0") or "0"
    frac = match.group(2).rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def _norm(text: object) -> str:
    """A text stratum as compared: case, spaces and punctuation folded, numbers kept.

    A decimal point between digits is kept, and numbers compare by value
    (``1.0%`` = ``1%``, ``0.50`` = ``.5``), so ``1.0% methylcellulose`` never
    matches ``10% methylcellulose``; punctuation between two numbers keeps them
    apart (``1-5`` ≠ ``15``).
    """
    text = _DECIMAL.sub(_decimal, str(text).casefold())
    text = re.sub(r"(?<=[0-9])[^0-9a-z.]+(?=[0-9])", "|", text)     # 1-5 is not 15
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", "", text)            # other points go
    return re.sub(r"[^0-9a-z.|]+", "", text)


def select_rows(rows: pd.DataFrame, query: Query) -> pd.DataFrame:
    """The included values of included animals that match the query's strata and window."""
    keep = rows["animal_included"] & rows["included"]
    for name, col in TEXT_STRATA.items():
        want = getattr(query, name)
        if want is not None:
            keep &= rows[col].map(_norm) == _norm(want)
    if query.age_weeks is not None:
        lo, hi = query.age_weeks
        keep &= rows["age_days"].between(lo * 7, hi * 7)
    if query.window_years is not None:
        start, end = query.window()
        dates = pd.to_datetime(rows["start_date"], errors="coerce", format="%Y-%m-%d")
        keep &= dates.notna() & (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))
    return rows[keep].reset_index(drop=True)


#: What each stratum needs of a stored study or animal, as a warning names it.
NEEDED = {"window_years": "a start date", "age_weeks": "a recorded age",
          **{k: f"a recorded {k.replace('_', ' ')}" for k in TEXT_STRATA}}
#: Where that field comes from, for the warning's repair.
FIELD_SOURCES = {
    "window_years": "the study file's 'dates.experimental_start', SEND STSTDTC, or 'hcd add "
                    "--start-date'",
    "age_weeks": "the study file's subjects, SEND dm AGE, or 'hcd add --age-weeks'"}


@dataclass(frozen=True)
class Unrecorded:
    """Studies and animals in the other strata one stratum leaves out for want of its field.

    ``stratum`` is the :class:`Query` field (``window_years``, ``age_weeks``,
    ``strain`` …); ``study_ids`` the study numbers left out (sorted);
    ``n_studies`` counts them by database entry, ``n_animals`` their animals.
    """

    stratum: str
    study_ids: tuple[str, ...]
    n_studies: int
    n_animals: int

    def counts(self) -> str:
        """``1 study (S3), 4 control animal(s)``."""
        n = self.n_studies
        return (f"{n} stud{'y' if n == 1 else 'ies'} ({', '.join(self.study_ids)}), "
                f"{self.n_animals} control animal(s)")

    def describe(self, option: str) -> str:
        """``--age-weeks leaves out 1 study (S3), 4 control animal(s), within the other …``."""
        source = FIELD_SOURCES.get(self.stratum, "'hcd list' shows the study's fields")
        return (f"{option} leaves out {self.counts()} within the other strata for want of "
                f"{NEEDED[self.stratum]} ({source})")


def _missing(rows: pd.DataFrame, stratum: str) -> pd.Series:
    """Rows without the field ``stratum`` needs."""
    if stratum == "window_years":
        return pd.to_datetime(rows["start_date"], errors="coerce", format="%Y-%m-%d").isna()
    if stratum == "age_weeks":
        return rows["age_days"].isna()
    return rows[TEXT_STRATA[stratum]].fillna("").astype(str).str.strip().eq("")


def unrecorded(rows: pd.DataFrame, query: Query) -> list[Unrecorded]:
    """For each stratum set, the studies and animals it leaves out for want of its field.

    Only those the other strata would keep: a study out for another reason is
    not this stratum's doing. Strata in :data:`NEEDED` order.
    """
    out = []
    for stratum in NEEDED:
        if getattr(query, stratum) is None:
            continue
        within = select_rows(rows, query.model_copy(update={stratum: None}))
        lost = within[_missing(within, stratum).to_numpy()]
        if len(lost):
            ids = tuple(sorted(set(lost["study_id"].astype(str))))
            out.append(Unrecorded(stratum, ids, int(lost["study_pk"].nunique()),
                                  int(lost[["study_pk", "subject"]].drop_duplicates().shape[0])))
    return out


def _held(values: pd.Series) -> str:
    found = sorted({str(v) if str(v).strip() else "not recorded" for v in values})
    return ", ".join(repr(v) for v in found)


def why_none(rows: pd.DataFrame, query: Query) -> str:
    """Why no value matches the query: each stratum no stored study matches, and what is held.

    ``rows`` are the included values before selection (:func:`neurotox.hcd.store.fetch`).
    """
    if rows.empty:
        return "the database holds no included control value of these endpoints"
    rows = rows[rows["animal_included"] & rows["included"]]
    out = []
    for name, col in TEXT_STRATA.items():
        want = getattr(query, name)
        if want is not None and not (rows[col].map(_norm) == _norm(want)).any():
            out.append(f"{name.replace('_', ' ')} {want!r} matches no stored study (the "
                       f"database holds {_held(rows[col])})")
    if query.age_weeks is not None:
        ages = rows["age_days"].dropna() / 7
        lo, hi = query.age_weeks
        if not ages.between(lo, hi).any():
            held = (f"{ages.min():.3g}–{ages.max():.3g} weeks" if len(ages)
                    else "no recorded age")
            out.append(f"age {lo:g}–{hi:g} weeks matches no stored animal (the database "
                       f"holds {held})")
    if query.window_years is not None:
        start, end = query.window()
        dates = pd.to_datetime(rows["start_date"], errors="coerce", format="%Y-%m-%d")
        if not dates.between(pd.Timestamp(start), pd.Timestamp(end)).any():
            held = (f"{dates.min().date()} to {dates.max().date()}" if dates.notna().any()
                    else "none")
            n = rows.loc[dates.isna(), "study_pk"].nunique()
            out.append(f"no stored study started {start} to {end} (start dates held: {held}"
                       + (f"; {n} stud{'y' if n == 1 else 'ies'} without one" if n else "")
                       + ")")
    return "; ".join(out) or "no stored study matches these strata together"


def _continuous(part: pd.DataFrame) -> dict[str, float]:
    vals = part.loc[part["censoring"] == "", "value"].to_numpy(dtype=float)
    study_means = part[part["censoring"] == ""].groupby("study_pk")["value"].mean()
    if not len(vals):
        return {"n_censored": float((part["censoring"] != "").sum())}
    return {"mean": float(np.mean(vals)),
            "sd": float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan,
            "min": float(np.min(vals)), "max": float(np.max(vals)),
            "p5": float(np.percentile(vals, 5)), "p95": float(np.percentile(vals, 95)),
            "study_mean_min": float(study_means.min()),
            "study_mean_max": float(study_means.max()),
            "n_censored": float((part["censoring"] != "").sum())}


def _incidence(part: pd.DataFrame) -> dict[str, float]:
    affected = part["value"] > 0
    per_study = affected.groupby(part["study_pk"]).mean() * 100
    return {"n_affected": float(affected.sum()),
            "incidence_pct": float(affected.mean() * 100),
            "study_incidence_min": float(per_study.min()),
            "study_incidence_max": float(per_study.max())}


RANGE_COLUMNS = ["endpoint", "sex", "timepoint", "unit", "data_type", "n_studies", "n_animals",
                 "mean", "sd", "min", "max", "p5", "p95", "study_mean_min", "study_mean_max",
                 "n_censored", "n_affected", "incidence_pct", "study_incidence_min",
                 "study_incidence_max"]


def ranges(rows: pd.DataFrame) -> pd.DataFrame:
    """Historical control ranges of selected rows, one row per endpoint × sex × timepoint × unit.

    Columns :data:`RANGE_COLUMNS`; continuous statistics are NaN for incidence
    endpoints and the other way round. Rows are by endpoint and sex, then
    timepoints in time order (:func:`neurotox.timepoints.time_order`: ``day-3``
    before ``day2`` before ``day10``), not in text order.
    """
    out = []
    for key, part in _in_time_order(rows).groupby(KEY, sort=False):
        data_type = str(part["data_type"].iloc[0])
        rec: dict[str, Any] = dict(zip(KEY, key, strict=True))
        rec.update(data_type=data_type, n_studies=int(part["study_pk"].nunique()),
                   n_animals=int(len(part)))
        rec.update(_incidence(part) if data_type == "incidence" else _continuous(part))
        out.append(rec)
    return pd.DataFrame(out, columns=RANGE_COLUMNS)


def _in_time_order(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` sorted by endpoint, sex, timepoint in time order and unit (stable)."""
    from neurotox.timepoints import time_order

    place = {t: i for i, t in enumerate(time_order(rows["timepoint"]))}
    order = rows.assign(_t=rows["timepoint"].map(place))
    order = order.sort_values(["endpoint", "sex", "_t", "unit"], kind="mergesort")
    return order.drop(columns="_t")


def rows_hash(rows: pd.DataFrame) -> str:
    """SHA-256 of the rows a range was computed from (study source, animal, key, value)."""
    cols = ["source_hash", "subject", "endpoint", "sex", "timepoint", "unit", "value",
            "censoring"]
    part = rows[cols].sort_values(cols[:6], kind="mergesort")
    text = part.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def query_from_options(options: dict[str, Any], *, where: str = "options",
                       cli: bool = False) -> Query:
    """A :class:`Query` from CLI options or a study-file mapping (None values dropped).

    With ``cli``, an error names the command-line option (``option '--until'``).

    Raises
    ------
    InputError
        An unknown stratum or a bad value, naming it.

    """
    from pydantic import ValidationError as PydanticError

    from neurotox.errors import InputError

    try:
        return Query(**{k: v for k, v in options.items() if v is not None})
    except PydanticError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")   # pydantic's prefix
        if str(err["type"]).startswith("date"):   # pydantic: 'Input should be a valid date …'
            why = msg.split(", ", 1)[1] if ", " in msg else ""
            msg = f"expected a date YYYY-MM-DD, found {err.get('input')!r}" + \
                (f" ({why})" if why else "")
        if cli:
            raise InputError(msg, where=f"option '--{loc.replace('_', '-')}'") from None
        raise InputError(f"{loc}: {msg}", where=where) from None

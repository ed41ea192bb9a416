"""Mechanical threshold by the up-down method (Dixon 1980; Chaplan et al. 1994) and SUDO.

A von Frey series is a string of responses, ``X`` (withdrawal) or ``O`` (none),
to filaments applied in turn: after ``X`` the next filament is one step weaker,
after ``O`` one step stronger. The 50 % threshold is
``10**(Xf + k·δ) / 10 000`` g, with ``Xf`` the log unit of the last filament
applied and δ the mean step between filaments in log units.

``k`` is computed, not looked up: it is the maximum-likelihood estimate of the
mean μ of a normal tolerance distribution with σ = δ, given the series with the
stimulus levels reconstructed backwards from the last filament (after ``X`` one
step down, after ``O`` one step up), expressed in steps from the last level.
Every series with at least one ``X`` and one ``O`` has one; Dixon's published
table (248 patterns) is reproduced to its 3 decimals (tested), and series the
table lacks (7 responses, long runs) get the same estimate. Series of one kind
only (all ``X`` or all ``O``) have no finite estimate and are out of range.

References
----------
.. [1] Dixon WJ (1980). Efficient analysis of experimental observations. Annu Rev
   Pharmacol Toxicol 20:441-462.
.. [2] Chaplan SR, Bach FW, Pogrel JW, Chung JM, Yaksh TL (1994). Quantitative
   assessment of tactile allodynia in the rat paw. J Neurosci Methods 53:55-63.
.. [3] Bonin RP, Bories C, De Koninck Y (2014). A simplified up-down method (SUDO) for
   measuring mechanical nociception in rodents using von Frey filaments. Mol Pain
   10:26.

"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import optimize, special

#: Characters accepted in a response series (case-insensitive; spaces ignored).
SERIES_CHARS = "XO"
#: Other notations of the two responses: 1/0 and +/- (also the minus sign and en dash),
#: 1 and + a withdrawal (X), 0 and - none (O), as binary scoring sheets write them.
_NOTATIONS = str.maketrans({"1": "X", "+": "X", "0": "O", "-": "O", "\u2212": "O",
                            "\u2013": "O"})
#: A cell holding only a dash: "not done" on a lab sheet, never a one-response series.
_DASHES = ("-", "\u2212", "\u2013")

#: The two ways a sheet names its filaments: by number (1 = weakest) or by marking.
NUMBER, MARKING = "number", "marking"


class Filament(BaseModel):
    """One von Frey filament of a set.

    Attributes
    ----------
    marking
        The number printed on the filament (evaluator size, or nominal grams).
    force_g
        Calibrated bending force in grams.
    log_units
        Log unit used by the up-down formula: ``log10(10 000 × force in g)``
        (Chaplan 1994); given explicitly because calculators in use carry their
        own rounded values.
    grams
        Nominal grams printed on the filament when the marking is another number
        (an evaluator size: 4.08 is the "1 g" filament); None when the marking is
        the grams.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    marking: str = Field(min_length=1)
    force_g: float = Field(gt=0, allow_inf_nan=False)
    log_units: float = Field(allow_inf_nan=False)
    grams: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _default_log(cls, data: object) -> object:
        if isinstance(data, dict) and "log_units" not in data and "force_g" in data:
            force = data["force_g"]
            if isinstance(force, int | float) and force > 0:
                data = {**data, "log_units": round(math.log10(10000 * force), 2)}
        if isinstance(data, dict) and "marking" in data:
            data = {**data, "marking": str(data["marking"])}
        return data


class FilamentSet(BaseModel):
    """An ordered set of filaments, weakest first; filament numbers count from 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filaments: tuple[Filament, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _increasing(self) -> FilamentSet:
        logs = [f.log_units for f in self.filaments]
        if any(b <= a for a, b in zip(logs, logs[1:], strict=False)):
            raise ValueError("filament log units must increase from the first filament "
                             f"to the last, found {logs}")
        labels = [m for f in self.filaments
                  for m in (f.marking, *(() if f.grams is None else (f"{f.grams:g}",)))]
        for i, a in enumerate(labels):
            if any(_same_marking(a, b) for b in labels[i + 1:]):
                raise ValueError(f"filament marking or grams {a!r} names two filaments")
        return self

    @property
    def delta(self) -> float:
        """Mean step between filaments in log units (δ)."""
        logs = [f.log_units for f in self.filaments]
        return (logs[-1] - logs[0]) / (len(logs) - 1)

    def readings(self, filament: str) -> dict[str, int]:
        """Every way to read a filament cell: ``{"number": i, "marking": j}`` (0-based).

        A whole number 1..n can be a filament number; a number equal to a filament's
        marking or nominal grams (``0.4``) can be that marking; a number written
        with its unit (``0.4 g``) is grams only. In the mouse set ``2`` is both
        filament 2 (0.023 g) and the 2 g filament: only the other cells of its
        column can tell (:func:`neurotox.assays.cipn.filaments.column_reading`).
        """
        text = str(filament).strip()
        out: dict[str, int] = {}
        unit = re.fullmatch(r"(.+?)\s*g", text, re.I)
        if unit:
            i = self._by_label(unit.group(1), grams_only=True)
            return {} if i is None else {MARKING: i}
        if re.fullmatch(r"\d+", text) and 1 <= int(text) <= len(self.filaments):
            out[NUMBER] = int(text) - 1
        i = self._by_label(text, grams_only=False)
        if i is not None:
            out[MARKING] = i
        return out

    def _by_label(self, text: str, *, grams_only: bool) -> int | None:
        for i, f in enumerate(self.filaments):
            labels = [] if grams_only and f.grams is not None else [f.marking]
            labels += [] if f.grams is None else [f"{f.grams:g}"]
            if any(_same_marking(m, text) for m in labels):
                return i
        return None

    def index(self, filament: str, read_as: str | None = None) -> int:
        """0-based position of a filament given by number (1..n) or by marking.

        Parameters
        ----------
        filament
            The cell as written (``5``, ``0.4``, ``0.4 g``).
        read_as
            ``number`` or ``marking`` (decided for the whole column); None: the
            cell must have one reading only.

        Raises
        ------
        ValueError
            The filament is not in the set, is not of the kind ``read_as`` names,
            or (``read_as`` None) can be read both ways.

        """
        text = str(filament).strip()
        found = self.readings(text)
        if read_as is not None and read_as in found:
            return found[read_as]
        if read_as is None and len(found) == 1:
            return next(iter(found.values()))
        if read_as is None and len(found) == 2:
            raise ValueError(f"filament {text!r} is ambiguous: {self.both(text)}")
        markings = ", ".join(f.marking + ("" if f.grams is None else f" ({f.grams:g} g)")
                             for f in self.filaments)
        kind = {None: "", NUMBER: " as a filament number", MARKING: " as a marking"}[read_as]
        raise ValueError(f"filament {text!r} is not in the set{kind} (numbers "
                         f"1-{len(self.filaments)} or markings {markings})")

    def both(self, filament: str) -> str:
        """The two readings of an ambiguous cell, in words (for messages)."""
        found = self.readings(filament)
        n, m = (self.filaments[found[k]] for k in (NUMBER, MARKING))
        return (f"filament number {filament} ({n.force_g:g} g) or the filament marked "
                f"{filament} ({m.force_g:g} g)")


def _same_marking(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip().lower() == b.strip().lower()


def parse_series(text: str) -> str:
    """Normalise a response series to upper-case ``X``/``O`` (spaces and commas dropped).

    ``1`` and ``+`` are read as ``X`` (withdrawal), ``0``, ``-``, ``\u2212`` and
    ``\u2013`` as ``O`` (no response): one rule for every character, whatever notation
    the sheet uses (:func:`notation_notes` names it in the run notes).

    Raises
    ------
    ValueError
        Empty, or a character other than X/O/1/0/+/- (the message names it and its
        position).

    """
    clean = re.sub(r"[\s,;]+", "", str(text)).upper()
    if not clean:
        raise ValueError("empty response series")
    for i, ch in enumerate(clean, start=1):
        if ch.translate(_NOTATIONS) not in SERIES_CHARS:
            raise ValueError(f"response series {text!r}: character {ch!r} at position {i} "
                             "is not X or 1 or + (response), nor O or 0 or - (no response)")
    return clean.translate(_NOTATIONS)


def notation_notes(series: Iterable[str], rows: Iterable[object]) -> list[str]:
    """Run notes naming the series written in 0/1 or +/- rather than X/O, one per notation.

    A warning when every bare 0/1 run starts with 1: the signature of leading
    0s dropped by a spreadsheet that stored the series as numbers.

    Parameters
    ----------
    series
        Response series as the sheet writes them.
    rows
        Their spreadsheet rows, to name the first series of each notation.

    """
    found: dict[str, list] = {}
    for text, row in zip(series, rows, strict=True):
        chars = set(re.sub(r"[\s,;]+", "", str(text)))
        kind = "+/-" if chars & set("+-\u2212\u2013") else "0/1" if chars & set("01") else ""
        if kind:
            found.setdefault(kind, []).append((text, row))
    meaning = {"0/1": "1 = withdrawal X, 0 = no response O",
               "+/-": "+ = withdrawal X, - = no response O"}
    notes = [f"{len(hits)} response series written with {kind} read as X/O ({meaning[kind]}), "
             f"first {hits[0][0]!r} (row {hits[0][1]})"
             for kind, hits in ((k, found[k]) for k in meaning if k in found)]
    bare = [t.strip() for t, _ in found.get("0/1", []) if re.fullmatch(r"\s*[01]{2,}\s*", str(t))]
    if bare and all(t.startswith("1") for t in bare):
        notes.append(f"warning: every one of the {len(bare)} response series written as a "
                     "bare run of 0/1 digits starts with 1: a spreadsheet that stored them as "
                     "numbers drops leading 0s (010011 becomes 10011, another threshold); "
                     "thresholds computed as written; check the sheet, or write the series "
                     "as text, with X/O or with separators (0,1,0,0,1,1)")
    return notes


def levels(series: str) -> np.ndarray:
    """Stimulus levels in steps, the last one 0, reconstructed backwards from the series."""
    steps = np.where(np.array(list(series[:-1])) == "X", -1, 1)
    return np.concatenate([-np.cumsum(steps[::-1])[::-1], [0]]).astype(float)


def k_value(series: str) -> float:
    """Dixon's k: the ML estimate of the 50 % level in steps from the last stimulus.

    Parameters
    ----------
    series
        Responses, ``X``/``O`` (as :func:`parse_series` returns).

    Returns
    -------
    float
        k (NaN when the series holds only one kind of response: no finite estimate).

    Notes
    -----
    With σ = δ = 1 step, P(X at level x) = Φ(x − μ). The log-likelihood is strictly
    concave in μ, so its root of the score equation is unique; it lies within one
    step plus a few σ of the observed levels.

    """
    x = levels(series)
    resp = np.array(list(series)) == "X"
    if resp.all() or not resp.any():
        return math.nan

    def score(mu: float) -> float:
        z = x - mu
        # d/dmu of log Phi(z) = -phi/Phi (responses); of log(1-Phi(z)) = +phi/(1-Phi)
        up = np.exp(_log_mills(z[~resp]))
        down = np.exp(_log_mills(-z[resp]))
        return float(up.sum() - down.sum())

    lo, hi = x.min() - 10.0, x.max() + 10.0
    return float(optimize.brentq(score, lo, hi, xtol=1e-12))


def _log_mills(z: np.ndarray) -> np.ndarray:
    """log(φ(z) / (1 − Φ(z))) (inverse Mills ratio), stable for large z."""
    return -0.5 * z**2 - 0.5 * math.log(2 * math.pi) - special.log_ndtr(-z)


@dataclass(frozen=True)
class Threshold:
    """A 50 % threshold and how it was obtained.

    Attributes
    ----------
    grams
        Threshold in g (for out-of-range series: the limit, see ``censoring``).
    k
        Dixon's k (NaN out of range).
    censoring
        ``none``, ``left`` (below the weakest filament) or ``right`` (above the
        strongest).
    note
        Why a value is out of range, empty otherwise.

    """

    grams: float
    k: float
    censoring: str = "none"
    note: str = ""


def updown_threshold(series: str, last_filament: str, filaments: FilamentSet, *,
                     read_as: str | None = None) -> Threshold:
    """50 % withdrawal threshold of one up-down session (Chaplan 1994).

    Parameters
    ----------
    series
        Response series (X/O).
    last_filament
        Number (1..n) or marking of the last filament applied.
    filaments
        The filament set (log units and δ).
    read_as
        How the column names its filaments (``number`` or ``marking``); None: the
        cell must have one reading only (see :meth:`FilamentSet.index`).

    Returns
    -------
    Threshold
        ``10**(Xf + k·δ) / 10 000`` g. A series of responses only is left-censored
        at the weakest filament's force, one without any response right-censored at
        the strongest's (the caller's out-of-range policy decides what to keep).

    """
    if str(series).strip() in _DASHES:
        raise ValueError(f"response series {series!r}: a lone dash is no series (a session "
                         "not done? leave the cell empty)")
    s = parse_series(series)
    i = filaments.index(last_filament, read_as)
    k = k_value(s)
    if math.isnan(k):
        first, last = filaments.filaments[0], filaments.filaments[-1]
        if s[0] == "X":
            return Threshold(first.force_g, k, "left",
                             f"all {len(s)} responses X: below the weakest filament")
        return Threshold(last.force_g, k, "right",
                         f"all {len(s)} responses O: above the strongest filament")
    xf = filaments.filaments[i].log_units
    return Threshold(10 ** (xf + k * filaments.delta) / 10000, k)


def sudo_threshold(last_filament: str, response: str, filaments: FilamentSet, *,
                   offset: float = 0.5, read_as: str | None = None) -> Threshold:
    """Simplified up-down (SUDO, Bonin 2014): five stimuli, final filament ± 0.5.

    Parameters
    ----------
    last_filament
        The fifth (last) filament applied.
    response
        Response to that fifth stimulus: ``X`` (withdrawal → filament − offset) or
        ``O`` (→ filament + offset).
    filaments
        The filament set; the filament position is converted to force by
        log-linear interpolation between neighbouring filaments (extrapolated by
        half a step past the ends).
    offset
        Adjustment in filament steps (0.5 in Bonin 2014).
    read_as
        ``number`` or ``marking``, as :func:`updown_threshold`.

    """
    r = parse_series(response)
    if len(r) != 1:
        raise ValueError(f"SUDO needs the response to the last stimulus (X or O), found "
                         f"{response!r}")
    pos = filaments.index(last_filament, read_as) + (-offset if r == "X" else offset)
    logs = np.log10([f.force_g for f in filaments.filaments])
    idx = np.arange(len(logs), dtype=float)
    grid = np.concatenate([[idx[0] - 1], idx, [idx[-1] + 1]])
    ext = np.concatenate([[2 * logs[0] - logs[1]], logs, [2 * logs[-1] - logs[-2]]])
    return Threshold(float(10 ** np.interp(pos, grid, ext)), math.nan)

"""Labels people read: unit symbols, timepoint names and p-values.

The EndpointTable stores units and timepoints as codes that survive any file
format (``um``, ``degC``, ``pretest_bin01``); tables and figures show them as a
scientist writes them (``µm``, ``°C``, ``Pre-test 0–10 min``). Bin lengths come
from the effective assay parameters (the protocol after the study's
overrides), so that a bin label says which minutes it covers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from neurotox.report.model import fmt
from neurotox.timepoints import is_pre_dose as named_pre_dose
from neurotox.timepoints import session_and_part, session_of

#: Unit codes → symbols. Codes not listed are shown as they are.
UNIT_SYMBOLS = {
    "um": "µm", "um2": "µm²", "um^2": "µm²", "uM": "µM", "nM": "nM", "mM": "mM",
    "ug/mL": "µg/mL", "ug/ml": "µg/mL", "ug/kg": "µg/kg", "ug/kg/day": "µg/kg/day",
    "degC": "°C", "deg C": "°C", "mm2": "mm²", "mm^2": "mm²", "pct": "%",
    "percent": "%", "us": "µs", "uL": "µL", "ul": "µL", "uV": "µV", "uA": "µA",
    "mm*bin": "mm × bin", "count/cell": "per cell",
}

#: Assay names whose code is no word a reader knows; others are shown with spaces
#: for underscores (``motor_activity`` → "motor activity").
ASSAY_LABELS = {"nor": "novel object recognition", "tmaze": "T-/Y-maze"}

#: Units that are data types rather than units: not shown after a label.
NO_UNIT = {"", "NA", "incidence", "grade", "score", "index", "ratio", "count"}

_SESSION = (
    (re.compile(r"^pre-?test$", re.I), lambda m: "Pre-test"),
    (re.compile(r"^post-?test$", re.I), lambda m: "Post-test"),
    (re.compile(r"^acclimation$", re.I), lambda m: "Acclimation"),
    (re.compile(r"^bl$", re.I), lambda m: "Baseline"),
    (re.compile(r"^(week|day|session|cycle|block|trial|occasion|hour)0*(\d+)$", re.I),
     lambda m: f"{m.group(1).capitalize()} {m.group(2)}"),
    (re.compile(r"^(week|day|hour|w|d|h)\s*[-−]\s*0*(\d+)$", re.I),
     lambda m: f"{_UNITS[m.group(1).lower()]} −{m.group(2)}"),
    (re.compile(r"^[-−]\s*0*(\d+)$"), lambda m: f"−{m.group(1)}"),  # a numeric time: -1
    (re.compile(r"^(PND|GD|LD|DPF|HPF)0*(\d+)$", re.I),
     lambda m: f"{m.group(1).upper()} {m.group(2)}"),
    (re.compile(r"^(light|dark)0*(\d+)$", re.I),
     lambda m: f"{m.group(1).capitalize()} {m.group(2)}"),
    (re.compile(r"^(light|dark)$", re.I), lambda m: m.group(1).capitalize()),
    (re.compile(r"^w0*(\d+)$", re.I), lambda m: f"Week {m.group(1)}"),
    (re.compile(r"^d0*(\d+)$", re.I), lambda m: f"Day {m.group(1)}"),
)
_BIN = re.compile(r"^bin0*(\d+)$", re.I)
_UNITS = {"w": "Week", "d": "Day", "h": "Hour", "week": "Week", "day": "Day", "hour": "Hour"}

#: Sessions numbered before the first day of dosing: ``day-1``, ``week-2``, ``d-7``, ``-1``.
_NEGATIVE = re.compile(r"^(week|day|hour|w|d|h)?\s*[-−]\s*0*\d+$", re.I)


def unit_symbol(unit: object) -> str:
    """Symbol of a unit code (``um`` → ``µm``, ``degC`` → ``°C``); others unchanged."""
    text = "" if unit is None or (isinstance(unit, float) and math.isnan(unit)) else str(unit)
    return UNIT_SYMBOLS.get(text, text)


def assay_label(assay: str) -> str:
    """An assay as named in a table title: ``tmaze`` → "T-/Y-maze"."""
    return ASSAY_LABELS.get(assay, assay.replace("_", " "))


def with_unit(label: str, unit: object) -> str:
    """``Label (unit)`` with the unit symbol, or the label alone for unit-less data."""
    sym = unit_symbol(unit)
    return label if sym in NO_UNIT else f"{label} ({sym})"


def dose_label(dose: float, unit: str) -> str:
    """A dose with its unit symbol, e.g. ``10 mg/kg/day``, ``0.3 µM``; ``""`` for no dose.

    Groups without a dose (image groups, a layout without concentrations) carry
    dose 0 with unit ``none`` in the EndpointTable: that is no dose of 0.
    """
    if str(unit) == "none":
        return ""
    return f"{dose:g} {unit_symbol(unit)}"


def p_text(p: float | None) -> str:
    """A p-value as written in a report: ``p < 0.001``, ``p = 0.012``; ``""`` if missing."""
    if p is None or not math.isfinite(p):
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {fmt(p, 3)}"


def p_value(p: float | None) -> str:
    """A p-value in a table column headed "p": ``< 0.001`` or ``0.012``."""
    text = p_text(p)
    return text[2:].replace("= ", "") if text else ""


def is_pre_dose(code: object) -> bool:
    """True for a timepoint of a session before dosing.

    Sessions named so (:func:`neurotox.timepoints.is_pre_dose`: ``pretest``,
    ``pretest_bin03``, ``baseline``, ``BL``, ``Pre``, ``pre-dose``,
    ``acclimation`` ...; not a zebrafish phase such as ``acclimation_dark``, in
    which the larvae are exposed) and negative days or weeks (``day-1``,
    ``week-2``: day 1 or 0 is the first of dosing). A protocol's ``baseline``
    session of another name is known to :meth:`TimepointLabels.pre_dose`.
    """
    text = "" if code is None or (isinstance(code, float) and math.isnan(code)) else str(code)
    return named_pre_dose(text) or bool(_NEGATIVE.match(session_of(text)))


def session_label(code: str) -> str:
    """``pretest`` → ``Pre-test``, ``week4`` → ``Week 4``, ``PND21`` → ``PND 21``."""
    if code in ("", "NA"):
        return ""
    for pattern, make in _SESSION:
        m = pattern.match(code)
        if m:
            return make(m)
    if ">" in code:  # zebrafish transitions: light1>dark1
        a, b = code.split(">", 1)
        return f"{session_label(a)} → {session_label(b).lower()}"
    head, _, tail = code.rpartition("_")
    if head and _TIME.match(tail):
        return f"{_matrix_label(head)}, {session_label(tail)}"  # serum_day7 → Serum, Day 7
    text = code.replace("_", " ")
    # a word is capitalised ("baseline"); a code ("a", "t01", "3b") keeps its case
    return text.capitalize() if re.fullmatch(r"[a-z]{2,}( \w+)*", text) else text


#: A time after a sample matrix in a timepoint code (``serum_day7``, ``csf_pnd21``).
_TIME = re.compile(r"^(week|day|hour|w|d|h|pnd|gd|ld|dpf|hpf)\s*[-−]?\s*\d+$", re.I)

#: Sample matrices written as abbreviations in timepoint codes (``rbc_day7``).
_ABBREVIATIONS = {"rbc": "RBC", "csf": "CSF", "wbc": "WBC", "drg": "DRG"}


def _matrix_label(head: str) -> str:
    """``serum`` → ``Serum``, ``rbc`` → ``RBC``, ``spinal_cord`` → ``Spinal cord``."""
    words = [_ABBREVIATIONS.get(w.lower(), w) for w in head.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if words and words[0].islower() else text


@dataclass(frozen=True)
class TimepointLabels:
    """Turns timepoint codes into labels, using each assay's bin length and baseline.

    A session before dosing that is not named so (the protocol's ``baseline``
    parameter, a negative day) is labelled ``Baseline (Day −1)``.

    Attributes
    ----------
    bin_minutes
        Assay → minutes per bin (from the effective assay parameters).
    first_bin
        Assay → number of the first bin (motor activity counts from 1,
        zebrafish bins from 0).
    baselines
        Assay → timepoint codes of its baseline sessions (the ``baseline``
        parameter of its entries).

    """

    bin_minutes: Mapping[str, float] = field(default_factory=dict)
    first_bin: Mapping[str, int] = field(default_factory=dict)
    baselines: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Mapping[str, Any]],
                        assay_of: Mapping[str, str]) -> TimepointLabels:
        """Bin lengths and baselines from effective assay parameters keyed by entry key.

        ``interval_minutes`` (motor activity, bins numbered from 1) or
        ``endpoint_bin_s`` / ``bin_s`` (zebrafish, bins numbered from 0);
        ``baseline`` (the timepoint of the session before dosing).
        """
        minutes: dict[str, float] = {}
        first: dict[str, int] = {}
        baselines: dict[str, frozenset[str]] = {}
        for key, params in parameters.items():
            assay = assay_of.get(key.split(":")[-1], key.split(":")[-1])
            if not isinstance(params, Mapping):
                continue
            if params.get("baseline"):
                baselines[assay] = baselines.get(assay, frozenset()) | {str(params["baseline"])}
            if params.get("interval_minutes"):
                minutes[assay], first[assay] = float(params["interval_minutes"]), 1
            elif params.get("endpoint_bin_s") or params.get("bin_s"):
                seconds = params.get("endpoint_bin_s") or params.get("bin_s")
                minutes[assay], first[assay] = float(seconds) / 60.0, 0
        return cls(minutes, first, baselines)

    def pre_dose(self, timepoint: object, assay: str = "") -> bool:
        """True for a session before dosing: :func:`is_pre_dose`, or the assay's baseline."""
        code = str(timepoint)
        declared = self.baselines.get(assay, frozenset())
        return is_pre_dose(code) or bool({code, session_of(code)} & declared)

    def _session(self, session: str, assay: str) -> str:
        """Label of a session; ``Baseline (Day −1)`` before dosing when not so named."""
        text = session_label(session)
        if text and self.pre_dose(session, assay) and not named_pre_dose(session):
            return f"Baseline ({text})"
        return text

    def label(self, timepoint: object, assay: str = "") -> str:
        """Label of one timepoint code; ``""`` for ``NA``.

        Examples: ``pretest_bin01`` with 10-min bins → ``Pre-test 0–10 min``;
        ``week4`` → ``Week 4``; ``bin003`` with 1-min bins from 0 → ``3–4 min``.
        """
        code = str(timepoint)
        if code in ("", "NA", "nan"):
            return ""
        session, part = session_and_part(code)
        if part:
            return f"{self._session(session, assay)} {self._part(part, assay)}".strip()
        if _BIN.match(code):
            return self._part(code, assay)
        return self._session(code, assay)

    def split(self, timepoint: object, assay: str = "") -> tuple[str, str]:
        """(session, within-session) labels of a timepoint code.

        ``pretest_bin01`` → ``("Pre-test", "0–10 min")``; a timepoint without bins
        is its own session: ``week4`` → ``("Week 4", "")``.
        """
        code = str(timepoint)
        session, part = session_and_part(code)
        if part:
            return self._session(session, assay), self._part(part, assay)
        if _BIN.match(code):
            return "", self._part(code, assay)
        return self.label(code, assay), ""

    def _part(self, part: str, assay: str) -> str:
        m = _BIN.match(part)
        if m is None:
            return session_label(part)
        k = int(m.group(1))
        step = self.bin_minutes.get(assay)
        if step is None:
            return f"Bin {k}"
        start = (k - self.first_bin.get(assay, 1)) * step
        return f"{start:g}–{start + step:g} min"


def sex_label(sex: str) -> str:
    """``Males``, ``Females`` or ``Sexes combined`` (other codes as they are)."""
    from neurotox.vocab import Sex

    return Sex(sex).label if sex in ("M", "F", "NA") else sex

"""Which SEND trial sets are concurrent negative controls, and why the others are not.

A historical control range describes animals that received no active
substance: vehicle, untreated, sham or placebo controls. SEND marks the control
trial sets with the trial-set parameter ``TCNTRL`` (control type), a free-text
value whose examples in the implementation guide include ``Vehicle Control``,
``Negative Control`` and ``Positive Control``; a positive control set received
a reference substance chosen to produce an effect, so its animals must never
enter a historical control range.

Rules, in this order, for each set with a ``TCNTRL`` value:

* a positive word negated (``Non-positive Control``, ``Vehicle (active-free)``,
  ``not active``: :data:`_NEGATED`) says negative, not positive;
* **mixed** when the value holds a word of :data:`POSITIVE_WORDS` and a
  negative one (``Reference Vehicle``, ``Vehicle + positive control``): never
  guessed, a warning, unless the user named it (``--negative-control``);
* **positive** when a word of the value is one of :data:`POSITIVE_WORDS`
  (``Positive Control``, ``Reference Item Control``, ``Active comparator``);
* **negative** when a word is one of :data:`NEGATIVE_WORDS` (``Vehicle Control``,
  ``Negative Control``, ``Untreated Cntrl``, ``Sham Control``, ``Water control``)
  or the value is one the user named (``--negative-control``);
* **unknown** otherwise (``Control``, ``Group 1``): never guessed, a warning.

A negative control set is still not used when another parameter contradicts it:
a dose above 0 (``TRTDOS``), or a set or group label (``SET``, ``GRPLBL``) that
says positive or reference or gives a dose above 0 or a dose level (``Male, Low,
20 mg/kg``: :func:`named_dose`). An animal of a control set whose arm is a
treated set's (``dm.ARMCD``) or whose arm name gives a dose (``dm.ARM``) is not
used either (a dosed animal put in the control set by mistake:
:func:`arm_problem`). Sets without
``TCNTRL`` are not control sets; one with dose 0 is named (its animals might be
controls whose ``TCNTRL`` is missing).

References
----------
CDISC SEND Implementation Guide 3.0/3.1, Trial Sets (TX) parameters; NCI
Thesaurus C49647 "Control Type". PHUSE ``sendigR`` (``getControlSubj``) sorts
``TCNTRL`` values into negative and positive controls in the same spirit.

"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

#: A word of these in ``TCNTRL`` makes the set a positive (reference-substance) control.
POSITIVE_WORDS = frozenset({"positive", "pos", "reference", "comparator", "active"})
#: A word of these (and none of :data:`POSITIVE_WORDS`) makes it a negative control.
NEGATIVE_WORDS = frozenset({"vehicle", "veh", "negative", "neg", "untreated", "nontreated",
                            "non-treated", "placebo", "sham", "naive", "saline", "water",
                            "air", "diluent", "solvent", "carrier"})
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")


class ControlKind(enum.Enum):
    """What a ``TCNTRL`` value says about a trial set."""

    NEGATIVE = "negative or vehicle control"
    POSITIVE = "positive control"
    UNKNOWN = "not a recognised control type"
    MIXED = "names both a negative and a positive control"


def _words(text: str) -> set[str]:
    low = text.lower().replace("ï", "i")
    words = set(_WORD.findall(low))
    return words | {w for part in words for w in part.split("-")}


def _key(text: str) -> str:
    return " ".join(text.lower().split())


#: A positive word negated (``Non-positive``, ``active-free``, ``not active``): says negative.
_NEGATED = re.compile(r"\b(?:non|not|no)[\s-]*(?:positive|pos|active|reference)\b"
                      r"|\b(?:positive|active|reference)[\s-]*free\b")


def _kind_of_one(value: str) -> ControlKind:
    low = value.lower().replace("ï", "i")
    negated = bool(_NEGATED.search(low))
    words = _words(_NEGATED.sub(" ", low))
    positive = bool(words & POSITIVE_WORDS)
    negative = negated or bool(words & NEGATIVE_WORDS) or {"no", "treatment"} <= words
    if positive and negative:
        return ControlKind.MIXED
    return (ControlKind.POSITIVE if positive else ControlKind.NEGATIVE if negative
            else ControlKind.UNKNOWN)


def control_kind(value: str, negative_controls: Iterable[str] = ()) -> ControlKind:
    """Kind of a ``TCNTRL`` value (``negative_controls``: extra values taken as negative).

    Distinct records of one set come joined by `` / ``: any positive one makes
    the set positive. A value that names both kinds (``Reference Vehicle``) is
    :attr:`ControlKind.MIXED` unless the user named it.
    """
    kinds = {_kind_of_one(part) for part in value.split(" / ")}
    if ControlKind.POSITIVE in kinds:
        return ControlKind.POSITIVE
    if _key(value) in {_key(v) for v in negative_controls}:
        return ControlKind.NEGATIVE
    for kind in (ControlKind.MIXED, ControlKind.NEGATIVE):
        if kind in kinds:
            return kind
    return ControlKind.UNKNOWN


def dose(params: dict[str, str]) -> float | None:
    """A trial set's dose (``TRTDOS``), None when absent or not a number."""
    try:
        return float(params.get("TRTDOS", ""))
    except ValueError:
        return None


@dataclass(frozen=True)
class ControlSet:
    """A trial set with a control type: its kind and, when not used, why not.

    ``problem`` is ``''`` when the set's animals may enter ranges; else the
    reason they do not, naming the set and the parameter. ``warn``: the cause
    is a value neurotox does not know or a contradiction the user should check
    (a positive control is left out by rule, without a warning). ``named``: a
    negative control only because the user named its control type.
    """

    setcd: str
    label: str
    control_type: str
    kind: ControlKind
    problem: str
    warn: bool
    named: bool = False


def classify(setcd: str, label: str, params: dict[str, str],
             negative_controls: Iterable[str] = ()) -> ControlSet:
    """Decide whether the set with parameters ``params`` is a concurrent negative control."""
    value = params["TCNTRL"]
    kind = control_kind(value, negative_controls)
    where = f"set {setcd}, TCNTRL {value!r}"
    if kind is ControlKind.POSITIVE:
        return ControlSet(setcd, label, value, kind, f"positive control ({where}): not a "
                          "negative or vehicle control", warn=False)
    if kind is ControlKind.UNKNOWN:
        return ControlSet(setcd, label, value, kind, f"control type not recognised ({where}): "
                          "not known to be a negative or vehicle control", warn=True)
    if kind is ControlKind.MIXED:
        return ControlSet(setcd, label, value, kind, f"control type names both a negative and "
                          f"a positive control ({where}): not known to be a negative or vehicle "
                          "control", warn=True)
    given = dose(params)
    if given is not None and given > 0:
        unit = params.get("TRTDOSU", "")
        return ControlSet(setcd, label, value, kind, f"dose {given:g} {unit} (TRTDOS) in a "
                          f"negative control set ({where})".replace("  ", " "), warn=True)
    names = f"{label} {params.get('GRPLBL', '')}"
    if _words(names) & POSITIVE_WORDS:
        return ControlSet(setcd, label, value, kind, f"set named {names.strip()!r} (SET/GRPLBL) "
                          f"though a negative control ({where})", warn=True)
    named = named_dose(names)
    if named:
        return ControlSet(setcd, label, value, kind, f"set named {names.strip()!r} (SET/GRPLBL) "
                          f"gives a dose ({named!r}) though a negative control ({where}"
                          f"{', TRTDOS 0' if given == 0 else ''})", warn=True)
    return ControlSet(setcd, label, value, kind, "", warn=False,
                      named=control_kind(value) is not ControlKind.NEGATIVE)


#: A dose above 0 in a set name: a number with a unit of substance per body weight, animal,
#: area or day (not a dose volume such as ``10 mL/kg``, not a vehicle's ``0.5%``), or ppm.
_NAMED_DOSE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:(?:mg|g|ug|µg|μg|mcg|ng)\s*/\s*"
                         r"(?:kg|animal|m2|m²|day)(?:\s*/\s*day)?|ppm)\b", re.IGNORECASE)
#: A dose level in a set name: alone or after a sex code (``M-Low``), not ``high-fat``.
_NAMED_LEVEL = re.compile(r"(?:^|[^a-z-])(?:[mf]-)?(low|mid|middle|medium|intermediate|high)"
                          r"(?![a-z-])")


def named_dose(names: str) -> str:
    """The dose (``20 mg/kg``) or dose level (``Low``) a set's name gives, ``''`` if none.

    A dose of 0 (``Vehicle, 0 mg/kg``) is none.
    """
    for m in _NAMED_DOSE.finditer(names):
        if float(m.group(1)) > 0:
            return " ".join(m.group(0).split())
    level = _NAMED_LEVEL.search(names.lower())
    return level.group(1).capitalize() if level else ""


def arm_problem(setcd: str, params: dict[str, str], armcd: str, arm: str,
                treated_arms: dict[str, list[str]]) -> str:
    """Why an animal's arm says it is no control of its set, or ``''``.

    A dosed animal put in a control set by mistake (``dm.SETCD``) keeps the arm of
    its dose group: its arm code (``dm.ARMCD``) is that of a set without a control
    type (``treated_arms``: arm code → such sets) and not its own set's
    (``tx`` ``ARMCD``), or its arm name (``dm.ARM``) gives a dose
    (:func:`named_dose`). Other arm codes (a recovery arm ``1R`` of set 1) are not
    contradictions.
    """
    own, have = params.get("ARMCD", "").strip(), str(armcd or "").strip()
    arm = str(arm or "").strip()
    treated = treated_arms.get(have, []) if have.casefold() != own.casefold() else []
    if treated:
        return (f"its arm (dm ARMCD {have!r}, ARM {arm!r}) is that of treated set(s) "
                f"{', '.join(treated)}, not of its control set {setcd}"
                + (f" (tx ARMCD {own!r})" if own else ""))
    named = named_dose(arm)
    if named:
        return (f"its arm name (dm ARM {arm!r}) gives a dose ({named!r}) though in control set "
                f"{setcd}")
    return ""


def animal_findings(animals: pd.DataFrame) -> list[tuple[bool, str]]:
    """One warning per kind of animal problem (``flag``): count and first animals.

    ``animals`` has columns ``subject``, ``flag`` (the kind, ``''`` for none) and
    ``animal_problem`` (the animal's own words).
    """
    out = []
    for kind, part in animals[animals["flag"] != ""].groupby("flag", sort=True):
        shown = "; ".join(f"{r.subject}: {r.animal_problem}"
                          for r in part.head(3).itertuples(index=False))
        more = f"; and {len(part) - 3} more" if len(part) > 3 else ""
        out.append((True, f"{len(part)} control animal(s) stored but not used in ranges — "
                    f"{kind} ({shown}{more})"))
    return out


def findings(sets: dict[str, ControlSet], dose_zero: dict[str, str],
             counts: pd.Series) -> list[tuple[bool, str]]:
    """One line per control set not used and per dose-0 set without ``TCNTRL``.

    ``dose_zero`` maps such a set code to its label; ``counts`` the animals per
    set code (``dm.SETCD``). Each line: (whether it is a warning, text).
    """
    out = []
    for s in sets.values():
        if s.problem:
            n = int(counts.get(s.setcd, 0))
            out.append((s.warn, f"{n} animal(s) stored but not used in ranges — {s.problem}"))
        elif s.named:
            n = int(counts.get(s.setcd, 0))
            out.append((False, f"{n} animal(s) of set {s.setcd} taken as negative controls: "
                        f"control type {s.control_type!r} named by --negative-control"))
    for setcd, label in dose_zero.items():
        n = int(counts.get(setcd, 0))
        out.append((True, f"set {setcd} ({label!r}) has dose 0 (TRTDOS) but no control type "
                    f"(TCNTRL): its {n} animal(s) are not imported; if they are controls, "
                    "tx.xpt lacks their TCNTRL"))
    return out


def named_findings(values: Iterable[str], sets: dict[str, ControlSet]) -> list[tuple[bool, str]]:
    """A warning for each ``--negative-control`` value that takes no set as a negative control.

    A value matching no set's control type (``TCNTRL``, compared without regard
    to case and spaces) has no effect, mistyped or meant for another study; one
    naming a positive control does not make it a negative one.
    """
    from neurotox.errors import did_you_mean, quoted

    types = sorted({t for s in sets.values() for t in s.control_type.split(" / ")})
    out = []
    for value in dict.fromkeys(values):
        hit = [s for s in sets.values()
               if _key(value) in {_key(t) for t in s.control_type.split(" / ")}]
        if not hit:
            out.append((True, f"--negative-control {value!r} matches no control type of this "
                        f"study (tx TCNTRL: {quoted(types)}); it has no effect"
                        + did_you_mean(value, types)))
        elif all(s.kind is ControlKind.POSITIVE for s in hit):
            out.append((True, f"--negative-control {value!r} names a positive control (set "
                        f"{', '.join(s.setcd for s in hit)}); positive controls never enter "
                        "ranges"))
    return out


# ------------------------------------------------------------------ vehicle of a set

#: Vehicles a set or group name may give, as one word: word → vehicle stored.
NAMED_VEHICLES = {"water": "Water", "saline": "Saline", "methylcellulose": "Methylcellulose",
                  "methocel": "Methocel", "carboxymethylcellulose": "Carboxymethylcellulose",
                  "cmc": "CMC", "dmso": "DMSO", "peg": "PEG", "air": "Air"}


def set_vehicle(s: ControlSet, params: dict[str, str], study_vehicle: str) -> tuple[str, str]:
    """The vehicle of one control set and where it came from (for a note).

    Rules, in this order: the set's own ``TRTV`` (TX may carry a trial-summary
    parameter per set, as the SEND IG allows for ones that vary by set); else one
    vehicle word of :data:`NAMED_VEHICLES` in the set or group name (``SET``,
    ``GRPLBL``, ``TCNTRL``) that the study's vehicle (``ts.TRTV``) does not hold
    (``Control Water`` in a study whose ``TRTV`` is ``Saline``); else the study's.
    """
    own = params.get("TRTV", "").strip()
    if own:
        return own, "its TRTV (tx)"
    text = f"{s.label} {params.get('GRPLBL', '')} {s.control_type}"
    named = sorted({NAMED_VEHICLES[w] for w in _words(text) if w in NAMED_VEHICLES})
    held = _words(study_vehicle)
    named = [v for v in named if v.lower() not in held]
    if len(named) == 1:
        return named[0], f"its name {s.label!r} (tx SET/GRPLBL), not the study's TRTV " \
                         f"{study_vehicle!r}"
    return study_vehicle, "the study's TRTV (ts): tx gives no vehicle for the set"


def vehicle_notes(sets: dict[str, ControlSet], params: dict[str, dict[str, str]],
                  study_vehicle: str) -> tuple[dict[str, str], list[str]]:
    """Vehicle of each control set (set code → vehicle) and one note per source of them."""
    vehicles, sources = {}, {}
    for code, s in sets.items():
        vehicles[code], why = set_vehicle(s, params.get(code, {}), study_vehicle)
        sources.setdefault((vehicles[code], why), []).append(code)
    notes = [f"vehicle {v!r} for control set(s) {', '.join(codes)}: from {why}"
             for (v, why), codes in sources.items()]
    return vehicles, notes



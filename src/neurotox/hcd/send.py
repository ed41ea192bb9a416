"""SEND study → control animals and their values for the historical control database.

Rules (each animal or value left out is listed with its rule):

* **Control sets** are the trial sets of ``tx`` with a ``TCNTRL`` (control type)
  parameter; their animals (``dm.SETCD``) are the control animals. Other animals
  are not imported. Only negative (vehicle, untreated, sham ...) control sets
  enter ranges: positive controls, control types not recognised and sets whose
  dose or name contradicts a negative control are stored but not included
  (:mod:`neurotox.hcd.send_controls`); at least one set must be a negative control.
* **Role** of a control animal: ``tk`` when its set's ``TKDESC`` is ``TK`` or the set
  or arm name says TK/toxicokinetic; ``satellite`` when set or arm name says
  satellite; ``recovery`` when set or arm name says recovery; else ``main``.
* **Included** in ranges: main animals with a sex (``dm.SEX`` ``M`` or ``F``; one
  without is stored with sex ``NA``, not included, with a warning); recovery animals only with
  ``include_recovery`` (their necropsy is weeks later, so the default keeps them
  out of terminal ranges); TK and satellite animals never (they are bled or
  kept for other purposes). An animal whose disposition date (``RFENDTC``) is
  more than :data:`UNSCHEDULED_DAYS` days before the median of its role (an
  unscheduled death or early sacrifice) is not included.
* **Vehicle** of a control animal: its set's (``tx`` ``TRTV`` of the set, else a
  vehicle its set name gives, e.g. ``Control Water``), else the study's ``ts.TRTV``
  (:func:`neurotox.hcd.send_controls.set_vehicle`); a note says which.
* **Values**: ``bw`` terminal body weight (``TERMBW``) → ``terminal_body_weight``
  and body weights by day → ``body_weight`` at ``dayN``; ``om`` brain weight →
  ``brain_weight``, its ratio to body weight in % → ``brain_weight_relative``,
  other organs → ``organ_weight_<organ>`` and the ratios
  ``organ_to_body_weight_<organ>`` / ``organ_to_brain_weight_<organ>``; ``lb`` →
  ``lb_<test>_<specimen>`` at ``dayN``. Terminal (necropsy) values have timepoint
  ``NA``, like neurotox's own brain-weight endpoints. Standard numeric results
  (``--STRESN``) are used; ``<x``/``>x`` character results are stored censored,
  and so are ``LO``/``HI`` (``<LLOQ``, ``BLQ`` ...: at ``--LLOQ``/``--ULOQ`` when
  given, else at an unknown limit, without a value);
  ``NOT DONE`` and qualitative results (``NEG``, ``1+``) are not imported;
  records flagged ``--EXCLFL = Y`` are stored but not included, with their reason.
  A second record with the same animal, test and day is not imported.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.errors import InputError
from neurotox.files import folder_name
from neurotox.hcd.send_controls import (
    ControlSet,
    animal_findings,
    arm_problem,
    classify,
    dose,
    findings,
    named_findings,
    vehicle_notes,
)
from neurotox.hcd.store import Batch
from neurotox.io.send import SendStudy

#: Disposition more than this many days before its role's median → unscheduled.
UNSCHEDULED_DAYS = 7
AGE_UNITS = {"DAYS": 1.0, "DAY": 1.0, "WEEKS": 7.0, "WEEK": 7.0, "MONTHS": 30.4375,
             "MONTH": 30.4375, "YEARS": 365.25, "YEAR": 365.25}
SEX = {"M": "M", "F": "F"}
#: Why an animal without sex (``dm.SEX`` blank, ``U``, ``UNDIFFERENTIATED``) is not used:
#: ranges are per sex, and a range pooling both sexes would describe neither.
NO_SEX = "no sex in dm (SEX blank or not M/F): ranges are per sex"
_CENSORED = re.compile(r"^\s*([<>])\s*=?\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*$")
#: Character results below a limit they do not state (spaces removed, upper case).
_BELOW = frozenset({"LO", "LOW", "<LLOQ", "<LOQ", "<LOD", "BLQ", "BQL", "<LLQ", "BLOQ"})
#: Character results above a limit they do not state.
_ABOVE = frozenset({"HI", "HIGH", ">ULOQ", ">ULQ", "AQL", "ALQ"})


@dataclass(frozen=True)
class SetInfo:
    """A trial set: its parameters (``TXPARMCD`` → ``TXVAL``) and its name."""

    setcd: str
    label: str
    params: dict[str, str]


def trial_sets(tx: pd.DataFrame) -> dict[str, SetInfo]:
    """Trial sets of ``tx`` by ``SETCD``: first non-empty value of each parameter."""
    out = {}
    for setcd, part in tx.groupby("SETCD", sort=True):
        params: dict[str, str] = {}
        for code, val in zip(part["TXPARMCD"], part["TXVAL"], strict=True):
            if val and code.upper() not in params:
                params[code.upper()] = val
        label = next((s for s in part.get("SET", pd.Series(dtype=str)) if s), "")
        out[str(setcd)] = SetInfo(str(setcd), label, params)
    return out


def ts_params(ts: pd.DataFrame) -> dict[str, str]:
    """Trial summary parameters: first value of each ``TSPARMCD``."""
    out: dict[str, str] = {}
    for code, val in zip(ts["TSPARMCD"], ts["TSVAL"], strict=True):
        if val and code.upper() not in out:
            out[code.upper()] = val
    return out


def role_of(info: SetInfo, arm: str) -> str:
    """``main``, ``recovery``, ``tk`` or ``satellite`` from the set and arm names."""
    names = f"{info.label} {arm} {info.params.get('GRPLBL', '')}".lower()
    tkdesc = info.params.get("TKDESC", "").upper()
    if tkdesc == "TK" or (not tkdesc and re.search(r"(?<!non-)(?<!non )\btk\b|toxicokinetic",
                                                   names)):
        return "tk"
    if "satellite" in names:
        return "satellite"
    if "recovery" in names:
        return "recovery"
    return "main"


def _age_days(value: float, unit: str) -> float:
    factor = AGE_UNITS.get(unit.strip().upper())
    if factor is None or not np.isfinite(value) or value < 1e-6:
        return float("nan")
    return value * factor


def _age_text_days(text: str, unit: str) -> float:
    """Midpoint of an age text such as ``9-10`` or ``56-56 Days`` in days."""
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]
    words = re.findall(r"[A-Za-z]+", text)
    return _age_days(float(np.mean(nums)) if nums else float("nan"),
                     words[0] if words else unit)


def _date(text: str) -> pd.Timestamp | None:
    ts = pd.to_datetime(text[:10], errors="coerce", format="%Y-%m-%d") if text else None
    return None if ts is None or pd.isna(ts) else ts


def study_fields(ts: dict[str, str]) -> dict[str, str]:
    """The study row's design fields from the trial summary."""
    start = ts.get("STSTDTC") or ts.get("EXPSTDTC", "")
    return {"title": ts.get("STITLE", ""), "facility": ts.get("TSTFNAM", ""),
            "guideline": ts.get("SSTYP", "").lower(), "species": ts.get("SPECIES", "").lower(),
            "strain": ts.get("STRAIN", ""), "supplier": ts.get("SPLRNAM", ""),
            "route": ts.get("ROUTE", "").lower(), "vehicle": ts.get("TRTV", ""),
            "start_date": start[:10], "end_date": ts.get("EXPENDTC", "")[:10]}


#: Trial-summary fields SEND may give per trial set (tx) or per animal (dm) instead of in ts.
PER_ANIMAL = {"strain": "STRAIN", "species": "SPECIES"}


def animal_fields(study: SendStudy, controls: StudyControls) -> tuple[dict[str, str],
                                                                      list[tuple[bool, str]]]:
    """Strain and species that ``ts`` lacks, from the control animals (dm) or their sets (tx).

    The SEND IG lets ``STRAIN`` (and ``SPECIES``) stand in ts for the study, in tx
    per trial set or in dm per animal. When ts has none, each control animal's
    dm value is used, else its set's tx value: one value for all of them is
    the study's (a note says where from); several cannot be stored (the
    database holds one per study), so the field stays empty with a warning.
    Returns the fields found and (whether it is a warning, text) lines.
    """
    ts = ts_params(study.domains["ts"])
    dm = study.domains["dm"]
    animals = dm[dm["SETCD"].isin(controls.controls)]
    found: dict[str, str] = {}
    lines: list[tuple[bool, str]] = []
    for name, code in PER_ANIMAL.items():
        if ts.get(code):
            continue
        own = animals[code] if code in animals.columns else pd.Series("", index=animals.index)
        sets = animals["SETCD"].map(lambda k, c=code: controls.sets[k].params.get(c, ""))
        values = own.fillna("").astype(str).str.strip().where(lambda v: v != "",
                                                                sets.str.strip())
        given = values[values != ""]
        if given.empty:
            continue
        where = "dm " + code if own.fillna("").astype(str).str.strip().ne("").any() \
            else "tx " + code
        counts = given.value_counts().sort_index()
        blank = len(values) - len(given)
        lacking = f"; {blank} control animal(s) give none" if blank else ""
        if len(counts) == 1:
            value = str(counts.index[0])
            found[name] = value.lower() if name == "species" else value
            lines.append((bool(blank), f"{name} {value!r} from {where} of the {len(given)} "
                          f"control animal(s): ts.xpt has no {code}{lacking}"))
        else:
            held = ", ".join(f"{v!r} ({n})" for v, n in counts.items())
            lines.append((True, f"control animals differ in {name} ({where}: {held}) and ts.xpt "
                          f"has no {code}: stored without a {name} (the database holds one per "
                          f"study), so a --{name} stratum leaves the study out{lacking}"))
    return found, lines


@dataclass(frozen=True)
class StudyControls:
    """A SEND study's trial sets and the verdict on each control set, worked out once.

    ``sets``: every trial set of ``tx`` by ``SETCD``; ``controls``: the sets with a
    control type (``TCNTRL``), each with its kind and whether it is used
    (:func:`neurotox.hcd.send_controls.classify`).
    """

    sets: dict[str, SetInfo]
    controls: dict[str, ControlSet]


def study_controls(study: SendStudy, negative_controls: Iterable[str] = ()) -> StudyControls:
    """The trial sets and the control sets of ``study``, checked to hold a negative control.

    ``negative_controls``: ``TCNTRL`` values to take as negative controls besides
    those :func:`neurotox.hcd.send_controls.control_kind` recognises.
    """
    tx = study.domains["tx"]
    sets = trial_sets(tx)
    every = _all_control_types(tx)
    out = {k: classify(k, s.label, {**s.params, "TCNTRL": every[k]}, negative_controls)
           for k, s in sets.items() if s.params.get("TCNTRL")}
    if not out:
        zero = sorted(_dose_zero(sets))
        hint = f"; set(s) {', '.join(zero)} have dose 0 (TRTDOS)" if zero else ""
        raise InputError("no trial set has a control type (TXPARMCD 'TCNTRL'); cannot tell "
                         f"control animals{hint}", path=study.files["tx"])
    if all(s.problem for s in out.values()):
        found = "; ".join([s.problem for s in out.values()]
                          + [text for _, text in named_findings(negative_controls, out)])
        raise InputError(f"no trial set is a negative or vehicle control: {found}; nothing to "
                         "use as historical controls (--negative-control VALUE takes a control "
                         "type as a negative control)", path=study.files["tx"],
                         where="TXPARMCD 'TCNTRL'")
    return StudyControls(sets, out)


def _all_control_types(tx: pd.DataFrame) -> dict[str, str]:
    """Each set's ``TCNTRL`` values, distinct ones joined by `` / ``.

    A set given both a vehicle and a positive control type is judged on both.
    """
    rows = tx[tx["TXPARMCD"].str.upper().eq("TCNTRL") & tx["TXVAL"].ne("")]
    out: dict[str, str] = {}
    for setcd, vals in rows.groupby("SETCD", sort=False)["TXVAL"]:
        out[str(setcd)] = " / ".join(dict.fromkeys(vals))
    return out


def _dose_zero(sets: dict[str, SetInfo]) -> dict[str, str]:
    """Sets without ``TCNTRL`` whose dose (``TRTDOS``) is 0, by set code → label."""
    return {k: s.label for k, s in sets.items()
            if dose(s.params) == 0 and not s.params.get("TCNTRL")}


def control_findings(study: SendStudy, controls: StudyControls,
                     negative_controls: Iterable[str] = ()) -> list[tuple[bool, str]]:
    """Control sets not used in ranges and dose-0 sets without a control type, one line each.

    Each line is (whether it is a warning, text); see
    :func:`neurotox.hcd.send_controls.findings`; ``negative_controls`` (the
    ``--negative-control`` values) that take no set as a negative control warn
    (:func:`neurotox.hcd.send_controls.named_findings`).
    """
    counts = study.domains["dm"]["SETCD"].value_counts()
    return (findings(controls.controls, _dose_zero(controls.sets), counts)
            + named_findings(negative_controls, controls.controls))


def control_vehicles(study: SendStudy, controls: StudyControls) -> tuple[dict[str, str],
                                                                          list[str]]:
    """Vehicle of each control set and one note per source (``set_vehicle`` rules)."""
    params = {k: controls.sets[k].params for k in controls.controls}
    return vehicle_notes(controls.controls, params,
                         ts_params(study.domains["ts"]).get("TRTV", ""))


def control_animals(study: SendStudy, controls: StudyControls, *, include_recovery: bool,
                    vehicles: dict[str, str]) -> pd.DataFrame:
    """The control animals with role, age, control type, vehicle and inclusion (with reason).

    ``vehicles``: control set → vehicle (:func:`control_vehicles`).
    """
    sets, verdicts = controls.sets, controls.controls
    dm = study.domains["dm"]
    unknown = sorted(set(dm["SETCD"]) - set(sets))
    if unknown:
        raise InputError(f"dm.xpt names trial set(s) {unknown} that tx.xpt does not define",
                         path=study.files["dm"], where="column 'SETCD'")
    ts = ts_params(study.domains["ts"])
    treated: dict[str, list[str]] = {}
    for code, info in sets.items():
        if not info.params.get("TCNTRL") and info.params.get("ARMCD", "").strip():
            treated.setdefault(info.params["ARMCD"].strip(), []).append(code)
    rows = []
    for r in dm[dm["SETCD"].isin(verdicts)].itertuples(index=False):
        info = sets[r.SETCD]
        age = _age_days(getattr(r, "AGE", float("nan")), getattr(r, "AGEU", ""))
        if not np.isfinite(age):
            age = _age_text_days(getattr(r, "AGETXT", ""), getattr(r, "AGEU", ""))
        if not np.isfinite(age):
            age = _age_text_days(ts.get("AGETXT", ""), ts.get("AGEU", ""))
        arm = "" if verdicts[r.SETCD].problem else arm_problem(
            r.SETCD, info.params, getattr(r, "ARMCD", ""), getattr(r, "ARM", ""), treated)
        sex = SEX.get(str(r.SEX).strip().upper(), "NA")
        flags = [(kind, text) for kind, text in (
            (NO_SEX, f"no sex (dm SEX {str(r.SEX).strip()!r})" if sex == "NA" else ""),
            ("their arm is a treated group's (dm ARMCD/ARM)", arm)) if text]
        rows.append({"subject": r.USUBJID, "sex": sex,
                     "animal_problem": "; ".join(text for _, text in flags),
                     "flag": flags[0][0] if flags else "",
                     "age_days": age, "role": role_of(info, getattr(r, "ARM", "")),
                     "group_id": r.ARMCD or r.SETCD, "control_type": info.params["TCNTRL"],
                     "vehicle": vehicles[r.SETCD],
                     "end": _date(getattr(r, "RFENDTC", "")), "set": r.SETCD,
                     "set_problem": verdicts[r.SETCD].problem})
    animals = pd.DataFrame(rows)
    if animals.empty:
        raise InputError("the control trial sets hold no animals in dm.xpt",
                         path=study.files["dm"])
    return _include(animals, include_recovery)


def _include(animals: pd.DataFrame, include_recovery: bool) -> pd.DataFrame:
    reasons = []
    for r in animals.itertuples(index=False):
        if r.role in ("tk", "satellite"):
            why = f"{'TK' if r.role == 'tk' else 'satellite'} animal (set {r.set})"
        elif r.role == "recovery" and not include_recovery:
            why = f"recovery animal (set {r.set}); --include-recovery to include"
        else:
            why = ""
        reasons.append("; ".join(w for w in (r.set_problem, r.animal_problem, why) if w))
    animals["exclusion_reason"] = reasons
    ends = pd.to_datetime(animals["end"])
    for role, part in animals.groupby("role"):
        median = pd.to_datetime(part["end"]).dropna().median()
        if pd.isna(median):
            continue
        early = (ends[part.index] < median - pd.Timedelta(days=UNSCHEDULED_DAYS)).fillna(False)
        for i in part.index[early.to_numpy()]:
            when = ends[i].date().isoformat()
            reason = (f"unscheduled death or early sacrifice (disposition {when}; {role} "
                      f"animals {median.date().isoformat()})")
            old = animals.at[i, "exclusion_reason"]
            animals.at[i, "exclusion_reason"] = f"{old}; {reason}" if old else reason
    animals["included"] = animals["exclusion_reason"] == ""
    return animals.drop(columns=["end", "set", "set_problem"])


# ------------------------------------------------------------------ values

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def _timepoint(df: pd.DataFrame, prefix: str) -> pd.Series:
    day = df["VISITDY"] if "VISITDY" in df.columns else pd.Series(np.nan, index=df.index)
    day = day.fillna(df[f"{prefix}DY"]) if f"{prefix}DY" in df.columns else day
    return day.map(lambda d: f"day{int(d)}" if np.isfinite(d) else "NA")


def _bw(df: pd.DataFrame) -> pd.DataFrame:
    term = df["BWTESTCD"].str.upper() == "TERMBW"
    out = pd.DataFrame({"endpoint": np.where(term, "terminal_body_weight", "body_weight"),
                        "category": np.where(term, "structural", "body_weight")},
                       index=df.index)
    out["timepoint"] = _timepoint(df, "BW").where(~term, "NA")
    return out


def _om(df: pd.DataFrame) -> pd.DataFrame:
    test = df["OMTESTCD"].str.upper()
    organ = df["OMSPEC"].map(_slug)
    base = test.map({"WEIGHT": "organ_weight", "OWBW": "organ_to_body_weight",
                     "OWBR": "organ_to_brain_weight"}).fillna("om_" + test.str.lower())
    name = base + "_" + organ
    # brain weight and its ratio to body weight are neurotox's own battery endpoints
    # (brain_weight_relative = 100 x brain / terminal body weight, SEND's OWBW in %)
    name = name.where(~((test == "WEIGHT") & (organ == "brain")), "brain_weight")
    percent = df.get("OMSTRESU", pd.Series("", index=df.index)).fillna("").str.strip() == "%"
    name = name.where(~((test == "OWBW") & (organ == "brain") & percent),
                      "brain_weight_relative")
    cat = np.where(name.isin(["brain_weight", "brain_weight_relative"]), "structural",
                   "organ_weight")
    return pd.DataFrame({"endpoint": name, "category": cat, "timepoint": "NA"}, index=df.index)


def _lb(df: pd.DataFrame) -> pd.DataFrame:
    name = "lb_" + df["LBTESTCD"].str.lower().map(_slug) + "_" + df["LBSPEC"].map(_slug)
    return pd.DataFrame({"endpoint": name, "category": "clinical_pathology",
                         "timepoint": _timepoint(df, "LB")}, index=df.index)


DOMAIN_MAP = {"bw": _bw, "om": _om, "lb": _lb}


def _values(df: pd.DataFrame, prefix: str) -> tuple[pd.Series, pd.Series]:
    """Numeric value and censoring (``''``, ``left``, ``right``) of each record.

    ``<x``/``>x`` give the limit; a result below or above a limit that it does not
    state (``LO``, ``<LLOQ``, ``HI`` ...: :data:`_BELOW`, :data:`_ABOVE`) is censored
    at the record's ``--LLOQ``/``--ULOQ`` when given, else at an unknown limit
    (no value): it counts as censored, never as a number.
    """
    value = df[f"{prefix}STRESN"].astype(float)
    cens = pd.Series("", index=df.index)
    text = df.get(f"{prefix}STRESC", pd.Series("", index=df.index))
    for i in value.index[value.isna()]:
        m = _CENSORED.match(str(text[i]))
        word = re.sub(r"\s+", "", str(text[i])).upper()
        if m:
            value[i] = float(m.group(2))
            cens[i] = "left" if m.group(1) == "<" else "right"
        elif word in _BELOW or word in _ABOVE:
            side, limit = ("left", "LLOQ") if word in _BELOW else ("right", "ULOQ")
            cens[i] = side
            value[i] = pd.to_numeric(df[f"{prefix}{limit}"][i], errors="coerce") \
                if f"{prefix}{limit}" in df.columns else np.nan
    return value, cens


def domain_results(study: SendStudy, domain: str, subjects: set[str],
                   skipped: Counter) -> pd.DataFrame:
    """Values of one findings domain for ``subjects``; skipped records counted by reason."""
    df = study.domains[domain]
    df = df[df["USUBJID"].isin(subjects)]
    p = domain.upper()
    names = DOMAIN_MAP[domain](df)
    value, cens = _values(df, p)
    stat = df.get(f"{p}STAT", pd.Series("", index=df.index)).str.upper()
    excl = df.get(f"{p}EXCLFL", pd.Series("", index=df.index)).str.upper() == "Y"
    reason = df.get(f"{p}REASEX", pd.Series("", index=df.index))
    out = pd.DataFrame({
        "subject": df["USUBJID"], **{c: names[c] for c in names.columns},
        "data_type": "continuous",
        "study_day": df.get(f"{p}DY", pd.Series(np.nan, index=df.index)).astype(float),
        "value": value, "unit": df[f"{p}STRESU"], "censoring": cens,
        "method": f"SEND {p}" + (" " + df["LBMETHOD"] if "LBMETHOD" in df.columns
                                 else ""),
        "apparatus": "", "session_length": "", "software_version": "",
        "included": ~excl,
        "exclusion_reason": np.where(excl, "flagged in SEND (" + p + "EXCLFL): " + reason, "")})
    out["method"] = out["method"].str.strip()
    censored = out["censoring"] != ""
    not_done = out["value"].isna() & (stat == "NOT DONE") & ~censored
    skipped.update({f"{domain}: not done": int(not_done.sum()),
                    f"{domain}: no numeric result (qualitative)":
                        int((out["value"].isna() & ~not_done & ~censored).sum())})
    out = out[out["value"].notna() | censored]
    dup = out.duplicated(["subject", "endpoint", "timepoint"])
    skipped[f"{domain}: second record of the same animal, test and day"] += int(dup.sum())
    return out[~dup]


#: Share of included control animals without a domain's records from which the import warns
#: (fewer: a note; a few animals not weighed at necropsy are usual).
MISSING_DOMAIN_WARN = 0.25


def missing_domains(batch: Batch) -> list[tuple[bool, str]]:
    """Included control animals with no record of a domain the other included animals have.

    SAS XPORT files hold no record count, so a ``bw.xpt`` cut at a record
    boundary reads as a shorter file; the animals it lost show as included
    controls without a body weight while their peers have one. One line per
    domain (``SEND BW`` ...) naming the count and the first animals, with
    whether it is a warning (at least :data:`MISSING_DOMAIN_WARN` of them).
    """
    included = set(batch.animals.loc[batch.animals["included"], "subject"])
    out = []
    for method, part in batch.results.groupby("method", sort=True):
        lacking = sorted(included - set(part["subject"]))
        if lacking and len(lacking) < len(included):
            shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more"
                                             if len(lacking) > 5 else "")
            out.append((len(lacking) >= MISSING_DOMAIN_WARN * len(included),
                        f"{len(lacking)} of {len(included)} included control animals have no "
                        f"{method} record ({shown}): a file cut short, or animals not "
                        "examined? Their ranges count fewer animals"))
    return out


def send_batch(study: SendStudy, controls: StudyControls | None = None, *,
               include_recovery: bool = False) -> Batch:
    """The control animals and their values of a SEND study, ready for :func:`store.add`.

    ``controls``: the study's control sets from :func:`study_controls` (worked out
    here, with the recognised control types only, when not given).
    """
    ts = ts_params(study.domains["ts"])
    controls = controls if controls is not None else study_controls(study)
    vehicles, vehicle_notes = control_vehicles(study, controls)
    animals = control_animals(study, controls, include_recovery=include_recovery,
                              vehicles=vehicles)
    flagged = animal_findings(animals)
    animals = animals.drop(columns=["animal_problem", "flag"])
    subjects = set(animals["subject"])
    skipped: Counter = Counter()
    parts = [domain_results(study, d, subjects, skipped) for d in ("bw", "om", "lb")
             if study.has(d)]
    results = pd.concat(parts, ignore_index=True)
    study_id = study.domains["dm"]["STUDYID"].iloc[0] or ts.get("SPREFID", "") or \
        folder_name(study.folder)          # '.' names the current folder
    excluded = [f"animal {r.subject} ({r.sex}, {r.control_type}): {r.exclusion_reason}"
                for r in animals[~animals["included"]].itertuples(index=False)]
    excluded += [f"{n} value(s) not imported — {what}" for what, n in sorted(skipped.items())
                 if n]
    n_flag = int((~results["included"]).sum())
    if n_flag:
        excluded.append(f"{n_flag} value(s) stored but not included — flagged in SEND "
                        "(--EXCLFL)")
    from_animals, field_notes = animal_fields(study, controls)
    return Batch(study_id=study_id, source_kind="send",
                 source_path=str(Path(study.folder).resolve()),
                 source_hash=study.source_hash, study={**study_fields(ts), **from_animals},
                 animals=animals, results=results, excluded=excluded,
                 notes=flagged + [(False, note) for note in vehicle_notes] + field_notes,
                 inputs={str(Path(study.files[d]).resolve()): h
                         for d, h in sorted(study.file_sha256.items())})

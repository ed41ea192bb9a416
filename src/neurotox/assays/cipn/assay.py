"""The ``cipn`` assay: peripheral neuropathy panel sheets → EndpointTable rows.

One run reads one or more sheets (:func:`neurotox.io.cipn.read_cipn`), each
holding any of the tests of :data:`neurotox.io.cipn.TEST_COLUMNS`, and emits per
animal × timepoint: up-down and SUDO thresholds, electronic von Frey forces,
thermal and cold latencies (right-censored at the cut-off) with %MPE, acetone
scores, nerve conduction velocities and amplitudes, and IENFD. Protocol
parameters (:class:`CipnParameters`) hold the filament set, cut-offs, baseline
session and the out-of-range policy; every choice that changes a number is
written to the run notes, and the rules in effect for the tests read are said
as conventions (:func:`neurotox.assays.cipn.conventions.cipn_conventions`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.assays.base import AssayPlugin, AssayResult, refuse_repeats, register
from neurotox.assays.battery.common import Recorder, subjects_of
from neurotox.assays.cipn import nerve, thermal
from neurotox.assays.cipn.baseline import (
    censored_baseline_note,
    check_repeats,
    check_session_columns,
    match_baseline,
    missing_baseline,
    session_labels,
)
from neurotox.assays.cipn.conventions import cipn_conventions
from neurotox.assays.cipn.filaments import column_reading
from neurotox.assays.cipn.params import (  # noqa: F401 (re-exported: the assay's model)
    LATENCY_TESTS,
    RAT_FILAMENTS,
    CipnParameters,
    TemperatureCorrection,
)
from neurotox.assays.cipn.updown import notation_notes, sudo_threshold, updown_threshold
from neurotox.errors import FormatError, InputError
from neurotox.files import keyed_note
from neurotox.io.battery import check_subjects, data_sheets, header_of, where
from neurotox.io.cipn import fail_first, read_cipn
from neurotox.study import AssaySpec, Study

ASSAY = "cipn"

class _Emitter:
    """Rows of one input file, by endpoint, plus detail tables and notes."""

    def __init__(self, params: CipnParameters, name: str, censored_policy: str):
        self.params, self.name = params, name
        #: The study's statistics.censored.policy (named in notes on censored values).
        self.censored_policy = censored_policy
        self.rows: list[pd.DataFrame] = []
        self.details: dict[str, list[pd.DataFrame]] = {}
        self.notes: list[str] = []
        #: Latency test → (sessions, cut-off), for %MPE against the run's baselines.
        self.latencies: dict[str, tuple[pd.DataFrame, float]] = {}

    def emit(self, endpoint: str, frame: pd.DataFrame) -> None:
        """Add per animal × timepoint values (``value, rows`` [+ reason, censoring])."""
        out = pd.DataFrame({"subject": frame["subject"].to_numpy(), "endpoint": endpoint,
                            "value": frame["value"].to_numpy(float),
                            "timepoint": frame["timepoint"].to_numpy(),
                            "where": frame["rows"].to_numpy(),
                            "reason": frame.get("reason", pd.Series("", index=frame.index))
                            .fillna("").to_numpy(),
                            "censoring": frame.get("censoring", pd.Series(
                                "none", index=frame.index)).to_numpy()})
        out.loc[(out["reason"] == "") & ~np.isfinite(out["value"]), "reason"] = "no value"
        self.rows.append(out)

    def note(self, text: str) -> None:
        """Add a note about this file (nothing when ``text`` is empty)."""
        if text:
            self.notes.append(keyed_note(self.name, text))

    def detail(self, name: str, frame: pd.DataFrame) -> None:
        """Keep a detail table (concatenated over files)."""
        self.details.setdefault(name, []).append(frame.assign(file=self.name))


def _updown(df: pd.DataFrame, em: _Emitter) -> None:
    p = em.params
    fs = p.filament_set
    read_as, how = column_reading(df, fs, p.filament_labels)
    if how:
        em.notes.append(f"{em.name}: {how}")
    out = []
    for i in range(len(df)):
        if not df["series"].iloc[i].strip():
            out.append((np.nan, np.nan, "none", "no response series recorded", ""))
            continue
        try:
            th = updown_threshold(df["series"].iloc[i], df["filament"].iloc[i], fs,
                                  read_as=read_as)
        except ValueError as exc:
            col = "filament" if "filament" in str(exc) and "series" not in str(exc) else "series"
            raise InputError(str(exc), path=df.attrs.get("path"),
                             where=where(df, i, header_of(df, col))) \
                from None
        reason, cens = "", th.censoring
        if cens != "none" and p.out_of_range == "exclude":
            reason, cens = th.note, "none"
        elif cens != "none" and p.out_of_range == "limit":
            cens = "none"
        out.append((th.grams, th.k, cens, reason, th.note))
    for said in notation_notes(df["series"], df["row"]):
        em.note(said)
    res = pd.DataFrame(out, columns=["value", "k", "censoring", "reason", "note"],
                       index=df.index)
    frame = pd.concat([df[["subject", "timepoint", "series", "filament", "row"]], res], axis=1)
    frame["rows"] = "row " + frame["row"].astype(str)
    frame["filament_read_as"] = read_as or ""
    n_out = int((res["note"] != "").sum())
    if n_out:
        advice = "" if em.censored_policy == "rank" else \
            "; 'rank' is recommended for up-down thresholds"
        kept = ("; kept as censored values, which group statistics handle by the study's "
                f"statistics.censored.policy ({em.censored_policy!r}{advice})"
                if p.out_of_range == "censor" else "")
        em.notes.append(f"{em.name}: {n_out} up-down series out of range (all X or all O): "
                        f"policy {p.out_of_range!r}{kept}")
    em.emit("vf_threshold_updown", frame)
    em.detail("vf_updown_sessions", frame.drop(columns=["rows"]))


def _sudo(df: pd.DataFrame, em: _Emitter) -> None:
    fs = em.params.filament_set
    read_as, how = column_reading(df, fs, em.params.filament_labels)
    if how:
        em.notes.append(f"{em.name}: {how}")
    for said in notation_notes(df["response"], df["row"]):
        em.note(said)
    vals = []
    for i in range(len(df)):
        try:
            vals.append(sudo_threshold(df["filament"].iloc[i], df["response"].iloc[i], fs,
                                       offset=em.params.sudo_offset,
                                       read_as=read_as).grams)
        except ValueError as exc:
            col = "filament" if "filament" in str(exc) else "response"
            raise InputError(str(exc), path=df.attrs.get("path"),
                             where=where(df, i, header_of(df, col))) \
                from None
    frame = df.assign(value=vals, rows="row " + df["row"].astype(str))
    em.emit("vf_threshold_sudo", frame)


def _latency(df: pd.DataFrame, test: str, em: _Emitter) -> None:
    p = em.params
    count, cutoff = test == "cold_plate" and p.cold_plate_measure == "count", p.cutoff_s.get(test)
    if cutoff is None and not count:
        raise InputError(f"the protocol gives no cut-off for {test} (parameter 'cutoff_s')",
                         path=df.attrs.get("path"))
    df, marks = thermal.cutoff_marks(df, None if count else cutoff, test)
    em.note(marks)
    if count:
        return _counts(df, em)
    thermal.check_latencies(df, cutoff, test)
    sessions = thermal.session_latencies(df, cutoff)
    em.note(thermal.short_sessions(sessions, test))
    em.emit(f"{test}_latency", sessions)
    em.detail(f"{test}_sessions", sessions)
    n_c = int((sessions["censoring"] == "right").sum())
    em.notes.append(f"{em.name}: {test} cut-off {cutoff:g} s; {n_c} of {len(sessions)} "
                    "sessions reached it (right-censored)")
    if test != "cold_plate" and p.baseline is not None:
        em.latencies[test] = (sessions, cutoff)    # %MPE once every file's baseline is read


def _counts(df: pd.DataFrame, em: _Emitter) -> None:
    v = df["value"].to_numpy(float)
    fail_first(df, ~((v >= 0) & (v == np.round(v))), "value",
               "cold plate count must be a whole number >= 0")
    em.emit("cold_plate_count", thermal.trial_means(df, "none"))


def _evf(df: pd.DataFrame, em: _Emitter) -> None:
    fail_first(df, ~(df["value"].to_numpy(float) > 0), "value",
               "electronic von Frey force must be > 0 g")
    means = thermal.trial_means(df, em.params.evf_trim)
    em.note(thermal.short_sessions(means, "electronic von Frey"))
    n_trim = int(means["n_trimmed"].sum())
    if n_trim:
        em.notes.append(f"{em.name}: electronic von Frey: {n_trim} trials trimmed (lowest "
                        "and highest of sessions with >= 4 trials)")
    em.emit("evf_threshold", means)


def _ncv(df: pd.DataFrame, test: str, em: _Emitter) -> None:
    corr = em.params.ncv_temperature_correction
    rows = nerve.velocities(df, test, None if corr is None else corr.model_dump())
    speed, amp = nerve.NCV_ENDPOINTS[test]
    rows = rows.assign(value=rows["velocity"])
    em.emit(speed, thermal.trial_means(rows, "none"))
    if "amplitude" in rows.columns and rows["amplitude"].notna().any():
        em.note(nerve.amplitude_check(rows, test))
        em.emit(amp, thermal.trial_means(rows.assign(value=rows["amplitude"]), "none"))
    em.detail(f"{test}_recordings", rows)
    if corr is not None:
        em.notes.append(f"{em.name}: {test} corrected to {corr.reference_c:g} °C "
                        f"({corr.per_degree:g} m/s per °C)")


def _acetone(df: pd.DataFrame, em: _Emitter) -> None:
    scores = thermal.acetone_scores(df, em.params.acetone_aggregate)
    if em.params.acetone_aggregate == "sum":
        scores, warning = thermal.incomplete_sums(scores)
        em.note(warning)
    else:
        em.note(thermal.short_sessions(scores, "acetone", "applications"))
    em.emit("acetone_score", scores)


def _dispatch(df: pd.DataFrame, test: str, em: _Emitter) -> None:
    if test == "von_frey_updown":
        _updown(df, em)
    elif test == "von_frey_sudo":
        _sudo(df, em)
    elif test == "electronic_von_frey":
        _evf(df, em)
    elif test in LATENCY_TESTS:
        _latency(df, test, em)
    elif test == "acetone":
        _acetone(df, em)
    elif test in nerve.NCV_ENDPOINTS:
        _ncv(df, test, em)
    else:  # ienfd
        em.emit("ienfd", nerve.fibre_density(df))


def _mpe(em: _Emitter, others: list[pd.DataFrame], baseline: str) -> None:
    """%MPE of ``em``'s latency sessions against each animal's baseline in any file of the run.

    ``others``: the baseline sessions of the other files, with a ``test`` column
    (never of an animal this file has a baseline for: a session read twice is refused).
    """
    for test, (sessions, cutoff) in em.latencies.items():
        elsewhere = [o[o["test"] == test].drop(columns="test") for o in others]
        mpe = thermal.percent_mpe(pd.concat([sessions, *elsewhere], ignore_index=True),
                                  baseline, cutoff)
        if not mpe.empty:
            em.emit(f"{test}_mpe", mpe)


def _baseline_rows(rows: pd.DataFrame, base: pd.DataFrame, baseline: str,
                   name: str) -> pd.DataFrame:
    """``<endpoint>_baseline`` at every later timepoint: the animal's baseline value.

    ``base``: the run's baseline values (``subject, endpoint, value, file, where``),
    from this file or another one (named in the value's source).
    """
    from neurotox.endpoints import registry

    reg = registry()
    have = rows[rows["endpoint"].map(lambda e: f"{e}_baseline" in reg)]
    post = have[have["timepoint"] != baseline]
    key = pd.MultiIndex.from_arrays([post["subject"], post["endpoint"]])
    found = base.set_index(["subject", "endpoint"]).reindex(key)
    origin = np.where(found["file"].to_numpy() == name, "",
                      " (" + found["file"].astype(str) + " " + found["where"].astype(str) + ")")
    bound = np.where(found["censoring"].fillna("none").to_numpy() == "none", "",
                     "; censored, its bound used")
    out = post.assign(endpoint=post["endpoint"] + "_baseline", value=found["value"].to_numpy(),
                      censoring="none", where=f"baseline {baseline}" + origin + bound)
    out = out[np.isfinite(out["value"].to_numpy(float))]
    return out.assign(reason="")


def _run_baselines(emitted: list[tuple[Path, _Emitter]], baseline: str) -> pd.DataFrame:
    """The run's usable baseline values, any file: ``subject, endpoint, value, file, where``."""
    cols = ["subject", "endpoint", "value", "file", "where", "censoring"]
    frames = [pd.concat(em.rows, ignore_index=True).assign(file=path.name)
              for path, em in emitted if em.rows]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=[*cols, "timepoint", "reason"])
    ok = (rows["timepoint"] == baseline) & (rows["reason"] == "")
    return rows.loc[ok, cols]


def _cross_file_baselines(emitted: list[tuple[Path, _Emitter]], baseline: str) -> None:
    """%MPE of every file's latency tests against the animals' baselines in any file."""
    held = {path: [s[s["timepoint"] == baseline].assign(test=t)
                   for t, (s, _) in em.latencies.items()] for path, em in emitted}
    for path, em in emitted:
        _mpe(em, [f for p, frames in held.items() if p != path for f in frames], baseline)


def _sheets(path: Path, params: CipnParameters) -> tuple[list[tuple[Path, pd.DataFrame]],
                                                          list[str]]:
    """Every CIPN sheet of ``path`` as ``(label, table)``, and the notes.

    A workbook's sessions may be kept on several worksheets (day -1 and day 7 on
    one, days 14 and 21 on the next): without the ``sheet`` parameter every
    worksheet holding a CIPN table is read, each labelled ``book.xlsx, sheet
    'name'`` (a label for messages and sources, not a file); a later worksheet
    that is no CIPN table (notes, a calculator) is named in a note as not read.
    """
    names = data_sheets(path) if params.sheet is None else []
    if len(names) < 2:
        df, notes = _read(path, params)
        return [(path, df)], notes
    parts, notes = [], []
    for i, name in enumerate(names):
        label = path.with_name(f"{path.name}, sheet {name!r}")
        try:
            df, said = _read(path, params, sheet=name, label=label)
        except FormatError as exc:
            if i == 0:
                raise
            notes.append(f"{path.name}: sheet {name!r} not read (no CIPN table: {exc.detail})")
            continue
        parts.append((label, df))
        notes += said
    return parts, notes


def _read(path: Path, params: CipnParameters, *, sheet: str | None = None,
          label: Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    name = (label or path).name
    df = read_cipn(path, test=params.test, sheet=sheet or params.sheet)
    read = [n.replace(path.name, name, 1) for n in df.attrs.get("unit_notes", [])]
    written = df["timepoint"].copy()
    df["timepoint"], respelt = session_labels(df["timepoint"], params.timepoint_prefix)
    check_session_columns(df, params.timepoint_prefix)
    check_repeats(df, written)
    heads = {tp: head for head, tp, _ in df.attrs.get("session_columns", [])}  # wide sheet
    notes = [f"{name}: sessions "
             f"{', '.join(f'{heads.get(a, a)!r} as {b!r}' for a, b in respelt.items())}"
             f" (timepoint_prefix {params.timepoint_prefix!r})"] if respelt else []
    how = match_baseline(df, params.baseline, name)
    return df, read + notes + ([how] if how else [])


def analyse(study: Study, files: list[Path], params: CipnParameters) -> AssayResult:
    """Analyse CIPN sheets of a study (the ``neurotox cipn`` command and the study runner)."""
    subjects = subjects_of(study, AssaySpec(assay=ASSAY, protocol=ASSAY,
                                            input=tuple(str(f) for f in files)))
    records = Recorder(study, subjects, ASSAY, "")
    details: dict[str, list[pd.DataFrame]] = {}
    notes: list[str] = []
    tests: set[str] = set()
    parts = []
    for path in files:
        sheets, said = _sheets(path, params)
        parts += sheets
        notes += said
    found = any(params.baseline in set(df["timepoint"]) for _, df in parts)
    notes += missing_baseline(parts, params.baseline, params.baseline_covariate)
    refuse_repeats(parts, ["subject", "test", "timepoint"], "measurement")
    emitted = []
    for path, df in parts:
        check_subjects(df, subjects.index)
        em = _Emitter(params, path.name, study.spec.statistics.censored.policy)
        for test, part in df.groupby("test", sort=False):
            part = part.reset_index(drop=True)
            part.attrs = df.attrs
            _dispatch(part, str(test), em)
        emitted.append((path, em))
        tests.update(df["test"].astype(str))
    if params.baseline is not None:     # the baseline belongs to the animal, not the sheet
        _cross_file_baselines(emitted, params.baseline)
        base = _run_baselines(emitted, params.baseline)
        if params.baseline_covariate:
            notes += censored_baseline_note(base, params.baseline)
    for path, em in emitted:
        rows = pd.concat(em.rows, ignore_index=True)
        if params.baseline_covariate and params.baseline is not None:
            rows = pd.concat([rows, _baseline_rows(rows, base, params.baseline, path.name)],
                             ignore_index=True)
        records.source = path.name
        records.add_frame(rows)
        for k, v in em.details.items():
            details.setdefault(k, []).extend(v)
        notes += em.notes
    if params.baseline_covariate and params.baseline is None:
        notes.append("baseline_covariate is set but no 'baseline' timepoint: no covariate")
    conventions = cipn_conventions(params, tests, baseline_found=found)
    table = records.table()
    return AssayResult(endpoints=table,
                       details={k: pd.concat(v, ignore_index=True) for k, v in details.items()},
                       notes=notes + [f"convention: {c}" for c in conventions],
                       inputs=list(files), conventions=conventions)


def run(study: Study, spec: AssaySpec, params: CipnParameters) -> AssayResult:
    """Study runner: the entry's input files through :func:`analyse`."""
    return analyse(study, study.assay_inputs(spec), params)


register(AssayPlugin(ASSAY, CipnParameters, run,
                     "Peripheral neuropathy panel: von Frey up-down/SUDO/electronic, hot plate, "
                     "tail flick, Hargreaves, cold plate, acetone, nerve conduction, IENFD."))

"""Readers of tabular rodent-cognition files.

* SimBA "machine predictions: aggregates" (``VIDEO,CLASSIFIER,MEASUREMENT,VALUE``)
* SimBA "ROI analysis: aggregates" (``VIDEO,ANIMAL,BODY-PART,SHAPE,...,MEASUREMENT,VALUE``)
* novel-object keys (``subject``/``RatID`` + ``NovelSide``/``novel_side``/``novel_object``)
* technical exclusion lists (``VIDEO,REASON`` or ``subject,phase,reason``)
* NOR scoring sheets (csv/xlsx: subject, phase, one time column per object)
* ANY-maze result sheets (``Animal`` + ``<object> : time ...`` columns)
* discrete T-maze trial tables (subject, sample, choice ...)
* arm-entry sequences (SimBA ``ARM_ENTRY_SEQUENCE`` or subject, arm ...)
* per-video object layouts (``video, object, x, y, radius`` in pixels)
* zone statistics per time bin, LIMS long format (two-trial Y-maze novel arm)
* DLCAnalyzer zone definitions (``*_zoneinfo.csv``)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, quoted
from neurotox.io.clock import clock_seconds
from neurotox.io.rodent.base import (
    ENTRY_COLUMNS,
    EXPLORATION_COLUMNS,
    FLAG_COLUMNS,
    IGNORE_PHASE,
    KEY_COLUMNS,
    SUBJECT_ALIASES,
    TRIAL_COLUMNS,
    Reader,
    RodentData,
    column_key,
    find_column,
    frame,
    header_cells,
    is_excel,
    phase_hint,
    phase_of,
    raw_rows,
    read_sheet,
    register_reader,
    side_of,
    sniff_lines,
    to_float,
    yaml_key,
)
from neurotox.io.rodent.samples import header_seconds_per
from neurotox.sidetables import merge_repeats

#: Default pattern of video names: ``<anything>_<phase>_<subject>`` (``Dory_NOR_P2_rat01``).
VIDEO_REGEX = r"(?:^|_)(?P<phase>P\d+|T\d+|training|train|test|sample|choice)_(?P<subject>[^_]+)$"



def parse_video(name: str, *, video_regex: str | None = None,
                phase_map: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(subject, phase) from a video name, or None when the name does not match."""
    m = re.search(video_regex or VIDEO_REGEX, name, flags=re.IGNORECASE)
    if m is None:
        return None
    phase = phase_of(m.group("phase"), phase_map)
    return (m.group("subject"), phase) if phase and phase != IGNORE_PHASE else None


# ------------------------------------------------------------ SimBA aggregates

_SIMBA_AGG = ["video", "classifier", "measurement", "value"]
_SIMBA_MEASURES = {"total event duration (s)": "time_s", "event count": "bouts",
                   "first occurrence (s)": "latency_s"}


#: Rows searched for the header of a long table (a title block above it is skipped).
_HEADER_SEARCH_ROWS = 20


def header_at(path: Path, need: set[str]) -> int | None:
    """Rows above the first row holding every ``need`` cell (any order, any case), or None.

    Long tables (SimBA aggregates, LIMS zone bins) are found the same way in a
    text file and in a workbook's table sheet, below a title block.
    """
    for i, row in enumerate(raw_rows(path, max_rows=_HEADER_SEARCH_ROWS)):
        if need <= {str(c).strip().lower() for c in row if c is not None}:
            return i
    return None


def read_long(path: Path, need: set[str]) -> tuple[pd.DataFrame, list[str]]:
    """A long table read below its title block (columns lower-cased), and the note on it."""
    skip = header_at(path, need) or 0
    df = read_sheet(path, skiprows=skip)
    df.columns = [c.lower() for c in df.columns]
    return df, [f"{path.name}: header in row {skip + 1} ({skip} title row(s) above it "
                "skipped)"] if skip else []


def _match_simba_aggregates(path: Path) -> bool:
    return header_at(path, set(_SIMBA_AGG)) is not None


def _video_filter(videos: pd.Series, include: str | None, regex: str | None,
                  phase_map: dict[str, str] | None, path: Path | None = None
                  ) -> tuple[dict[str, tuple[str, str]], list]:
    """Videos mapped to (subject, phase), and those skipped; with ``path``, one per trial.

    Two videos giving one subject's trial (a second session's videos in the same
    file, ``Lab_NOR_P2_rat01`` and ``Lab_NOR24h_P2_rat01``) are an error naming
    the file and both videos: their times would be pooled into one trial.
    """
    parsed, skipped = {}, []
    for v in sorted(set(videos)):
        hit = parse_video(v, video_regex=regex, phase_map=phase_map)
        if hit is None or (include and not re.search(include, v)):
            skipped.append(v)
        else:
            parsed[v] = hit
    if path is not None:
        seen: dict[tuple[str, str], str] = {}
        for v in (v for v in pd.unique(videos) if v in parsed):   # in file order
            hit = parsed[v]
            if seen.setdefault(hit, v) != v:
                raise FormatError(f"videos {seen[hit]!r} and {v!r} both give subject "
                                  f"{hit[0]!r}, {hit[1]} (two sessions in one file?): keep "
                                  "one with --param video_include=<pattern> or name the "
                                  "subject and phase with video_regex", path=path,
                                  where=f"row {videos.index[videos == v][0] + 2}, "
                                        "column 'VIDEO'")
    return parsed, skipped


def read_simba_aggregates(path: Path, *, video_regex: str | None = None,
                          video_include: str | None = None,
                          phase_map: dict[str, str] | None = None, **_: Any) -> RodentData:
    """Read SimBA classifier aggregates: one row per video × classifier × measurement.

    Each classifier is one object (``Left``/``Right``); ``Total event duration (s)``
    is its exploration time, ``Event count`` its bouts. Columns in any order, csv or
    workbook, below a title block (:func:`read_long`). Videos are mapped to
    subject and phase with ``video_regex`` (named groups ``subject`` and ``phase``);
    videos not matching it or ``video_include`` are skipped and listed in notes.
    """
    df, title = read_long(path, set(_SIMBA_AGG))
    df["value_num"] = to_float(df["value"], path=path, column="VALUE", nonnegative=True)
    _check_durations(df, path)
    df, notes = _one_row_per_measure(df, ["video", "classifier", "measurement"], path)
    notes = title + notes
    parsed, skipped = _video_filter(df["video"], video_include, video_regex, phase_map, path)
    rows = []
    for (video, clf), part in df[df["video"].isin(list(parsed))].groupby(
            ["video", "classifier"], sort=True):
        measures = dict(zip(part["measurement"].str.lower(), part["value_num"], strict=True))
        if "total event duration (s)" not in measures:
            raise FormatError(f"video {video!r}, classifier {clf!r}: no 'Total event "
                              f"duration (s)' row; found {quoted(part['measurement'])}",
                              path=path)
        subject, phase = parsed[video]
        rec = {"subject": subject, "phase": phase, "object": clf, "bouts": np.nan,
               "latency_s": np.nan, "source": f"{path.name}:{video}:{clf}"}
        rec.update({_SIMBA_MEASURES[k]: v for k, v in measures.items() if k in _SIMBA_MEASURES})
        rows.append(rec)
    notes += [f"{path.name}: {len(skipped)} video(s) skipped (name does not match the video "
              f"pattern/filter): {', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}"
              ] if skipped else []
    return RodentData("exploration", path, "simba-aggregates",
                      table=frame(rows, EXPLORATION_COLUMNS), notes=notes)


def _check_durations(df: pd.DataFrame, path: Path) -> None:
    """Refuse an event duration longer than its video, naming the file row.

    The limit is the video's own ``Video length (s)`` row, else
    :data:`MAX_EXPLORATION_S`. When most durations are longer and all fit once
    divided by 1000, the message says they are probably ms under the (s) label.
    """
    m = df["measurement"].str.lower()
    dur = df[m == "total event duration (s)"]
    length = df[m == "video length (s)"].groupby("video")["value_num"].max()
    limit = dur["video"].map(length).fillna(MAX_EXPLORATION_S)
    over = dur["value_num"] > limit * (1 + 1e-6)
    if not over.any():
        return
    i = over.index[over.to_numpy()][0]
    v, lim, video = dur.at[i, "value_num"], limit[i], dur.at[i, "video"]
    what = (f"the video's {lim:g} s (its 'Video length (s)' row)" if video in length
            else f"{lim:g} s of exploration in one trial")
    nonzero = dur["value_num"] > 0
    as_ms = (dur["value_num"] / 1000 <= limit).all() and over[nonzero].mean() > 0.5
    hint = (f"; {int(over.sum())} of {int(nonzero.sum())} durations are longer than their "
            "video and all fit it divided by 1000: durations in ms under the '(s)' label?"
            if as_ms else "")
    raise FormatError(f"video {video!r}, classifier {dur.at[i, 'classifier']!r}: event "
                      f"duration {v:g} s is longer than {what}{hint}", path=path,
                      where=f"row {i + 2}, column 'VALUE'")


def _one_row_per_measure(df: pd.DataFrame, keys: list[str], path: Path
                         ) -> tuple[pd.DataFrame, list[str]]:
    """A SimBA summary with each measure once: identical repeats merged, others refused.

    SimBA appends to ``data_summary.csv`` when an analysis is re-run: the same
    video × classifier × measurement twice. Taking either row would be a guess.
    """
    rows = df.assign(source=[f"{path.name}:row {i + 2}" for i in df.index],
                     value=df["value_num"])
    rows, notes = merge_repeats(rows, [k for k in keys if k in rows], what="SimBA measurement",
                                compare=["value"], files=[path])
    return rows.drop(columns="source"), notes


# ------------------------------------------------------------ SimBA ROI aggregates

_SIMBA_ROI_MEASURES = {"total roi time (s)": "time_s", "total_time": "time_s",
                       "roi entries (counts)": "bouts", "entry_counts": "bouts",
                       "first roi entry time (s)": "latency_s", "first_entry_time": "latency_s"}


def _match_simba_roi(path: Path) -> bool:
    cells = header_cells(path)
    return cells[:1] == ["video"] and {"shape", "measurement", "value"} <= set(cells) \
        and "classifier" not in cells


def _one_body_part(df: pd.DataFrame, body_part: str | None, path: Path
                   ) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one body part when the aggregates hold several (``exploration_point``)."""
    if "body-part" not in df or df["body-part"].nunique() < 2:
        return df, []
    key = df["body-part"].str.lower().str.replace("centre", "center").str.replace(
        r"[\s_-]+", "", regex=True)
    want = (body_part or "").lower().replace("centre", "center").replace("_", "")
    found = sorted(df["body-part"].unique())
    if not want or not (key == want).any():
        raise FormatError(f"the ROI aggregates hold {len(found)} body parts ({quoted(found)}) "
                          f"and none is the exploration point {body_part!r}: name one with "
                          "--param exploration_point=...", path=path, where="column 'BODY-PART'")
    chosen = df.loc[key == want, "body-part"].iloc[0]
    return df[key == want], [f"{path.name}: ROI times of body part {chosen!r} "
                             f"(exploration_point; the file also holds "
                             f"{quoted([b for b in found if b != chosen])})"]


def read_simba_roi(path: Path, *, video_regex: str | None = None,
                   video_include: str | None = None,
                   phase_map: dict[str, str] | None = None, body_part: str | None = None,
                   **_: Any) -> RodentData:
    """Read SimBA "ROI analysis: aggregates" (non-transposed, one row per measurement).

    Columns ``VIDEO, ANIMAL, [BODY-PART,] SHAPE, [SHAPE TYPE,] MEASUREMENT, VALUE``.
    Each ROI shape is one object: ``TOTAL ROI TIME (S)`` is the time the chosen body
    part spent in it, ``ROI ENTRIES (COUNTS)`` the bouts and ``FIRST ROI ENTRY TIME
    (S)`` the latency (``None`` = never entered). Videos are mapped to subject and
    phase as for the classifier aggregates. A file of several body parts is read
    for ``body_part`` (the NOR ``exploration_point``) only.
    """
    df = read_sheet(path)
    df.columns = [c.lower() for c in df.columns]
    if "animal" in df and df["animal"].nunique() > 1:
        raise FormatError(f"expected one animal per video, found {quoted(df['animal'])}",
                          path=path)
    df["value_num"] = to_float(df["value"].replace("None", ""), path=path, column="VALUE",
                               nonnegative=True)
    df, chosen = _one_body_part(df, body_part, path)
    df, notes = _one_row_per_measure(
        df, ["video", "animal", "body-part", "shape", "measurement"], path)
    notes = chosen + notes
    parsed, skipped = _video_filter(df["video"], video_include, video_regex, phase_map, path)
    rows = []
    for (video, shape), part in df[df["video"].isin(list(parsed))].groupby(
            ["video", "shape"], sort=True):
        measures = {_SIMBA_ROI_MEASURES[m]: v for m, v in zip(
            part["measurement"].str.lower(), part["value_num"], strict=True)
            if m in _SIMBA_ROI_MEASURES}
        if "time_s" not in measures:
            raise FormatError(f"video {video!r}, shape {shape!r}: no 'TOTAL ROI TIME (S)' row; "
                              f"found {quoted(part['measurement'])}", path=path)
        subject, phase = parsed[video]
        rows.append({"subject": subject, "phase": phase, "object": shape, "bouts": np.nan,
                     "latency_s": np.nan, **measures, "source": f"{path.name}:{video}:{shape}"})
    notes += [f"{path.name}: {len(skipped)} video(s) skipped (name does not match the video "
              "pattern/filter)"] if skipped else []
    return RodentData("exploration", path, "simba-roi-aggregates",
                      table=frame(rows, EXPLORATION_COLUMNS), notes=notes)


# ------------------------------------------------------------------ key / flags

_NOVEL_ALIASES = ("novelside", "novel_side", "novel_object", "novel", "novel_position")


def _match_key(path: Path) -> bool:
    """A novel-object column, and neither a phase column nor object times (a scoring sheet)."""
    cells = header_cells(path) if not is_excel(path) else []
    norm = {column_key(c) for c in cells}
    sheet = bool(norm & {*_PHASE_COLUMNS, "left", "right"}) or sum(
        bool(_TIME_COL.match(c)) for c in cells) >= 2
    return bool(norm & {"novelside", "novel_side", "novel_object", "novel_position"}) \
        and not sheet


def read_key(path: Path, **_: Any) -> RodentData:
    """Read a novel-object key: subject and which side/object is novel in the test."""
    df = read_sheet(path)
    subj = find_column(df, SUBJECT_ALIASES, path=path)
    nov = find_column(df, _NOVEL_ALIASES, path=path)
    empty = df[subj] == ""
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise FormatError("subject is empty", path=path, where=f"row {i + 2}, column {subj!r}")
    rows = [{"subject": s, "novel": n, "source": f"{path.name}:row {i + 2}"}
            for i, (s, n) in enumerate(zip(df[subj], df[nov], strict=True))]
    table, notes = one_key_per_subject(frame(rows, KEY_COLUMNS), files=[path])
    return RodentData("key", path, "novel-object-key", table=table, notes=notes)


def one_key_per_subject(key: pd.DataFrame, *, files: Iterable[Path] = ()
                        ) -> tuple[pd.DataFrame, list[str]]:
    """A novel-object key with one row per subject (:func:`~neurotox.sidetables.merge_repeats`).

    Two rows of one subject naming the same side (``L``/``left``) are merged
    with a note; naming different sides or objects, they are an error naming
    both rows: the discrimination index would change sign.
    """
    same = key.assign(novel=[side_of(n) or str(n).strip().lower() for n in key["novel"]])
    kept, notes = merge_repeats(same, ["subject"], what="novel-object key", files=files)
    return key.loc[kept.index], notes


def _match_flags(path: Path) -> bool:
    cells = header_cells(path)
    return cells[:2] == ["video", "reason"] or (
        {"subject", "phase", "reason"} <= set(cells) and len(cells) <= 4)


def read_flags(path: Path, *, video_regex: str | None = None, video_include: str | None = None,
               phase_map: dict[str, str] | None = None, **_: Any) -> RodentData:
    """Read technical exclusions (``VIDEO,REASON`` or ``subject,phase,reason``)."""
    df = read_sheet(path)
    df.columns = [c.lower() for c in df.columns]
    need = ["video", "reason"] if "video" in df.columns else ["subject", "phase", "reason"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise FormatError(f"expected column(s) {quoted(missing)}, found {quoted(df.columns)}",
                          path=path)
    rows, notes = [], []
    if "video" in df.columns:
        parsed, skipped = _video_filter(df["video"], video_include, video_regex, phase_map)
        for i, (v, reason) in enumerate(zip(df["video"], df["reason"], strict=True)):
            if v in parsed:
                rows.append({"subject": parsed[v][0], "phase": parsed[v][1], "reason": reason,
                             "source": f"{path.name}:row {i + 2}"})
        if skipped:
            notes.append(f"{path.name}: {len(skipped)} flagged video(s) not of this assay")
    else:
        for i, r in enumerate(df.itertuples(index=False)):
            phase = phase_of(r.phase, phase_map)
            if phase is None:
                raise FormatError(f"phase {r.phase!r} is not training or test; "
                                  f"{phase_hint(r.phase)}", path=path,
                                  where=f"row {i + 2}, column 'phase'")
            if phase == IGNORE_PHASE:   # a stage left out (or another retention test's)
                continue
            rows.append({"subject": r.subject, "phase": phase, "reason": r.reason,
                         "source": f"{path.name}:row {i + 2}"})
    table, merged = merge_repeats(frame(rows, FLAG_COLUMNS), ["subject", "phase", "reason"],
                                  what="technical exclusion", files=[path])
    return RodentData("flags", path, "exclusion-list", table=table, notes=notes + merged)


# ------------------------------------------------------------ NOR scoring sheet

_TIME_COL = re.compile(r"^(?P<obj>left|right|novel|familiar|object[ _]?[a-z0-9]+)"
                       r"(?:[ _]object)?(?:[ _]?(?:time|exploration))?(?:[ _]?\(?s\)?)?$",
                       re.IGNORECASE)
#: Phase column names of a scoring sheet (training/test rows), as :func:`column_key` gives.
_PHASE_COLUMNS = ("phase", "stage", "trial", "session")
_LATENCY_ALIASES = ("latency_novel", "latency_novel_s", "latency_to_novel", "latency")
_FLAG_ALIASES = ("flag", "technical_flag", "exclude", "exclusion", "exclusion_reason", "comment")


def _time_columns(df: pd.DataFrame) -> dict[str, str]:
    out = {}
    for c in df.columns:
        m = _TIME_COL.match(c.strip())
        if m:
            out[c] = m.group("obj").replace("_", " ").strip()
    return out


def _sheet_columns(path: Path) -> list[str]:
    """Header cells of a CSV or of a workbook's table sheet (first row only)."""
    if not is_excel(path):
        return header_cells(path)
    from neurotox.workbook import sheet_rows, table_sheets

    name = (table_sheets(path) or [None])[0]
    rows = sheet_rows(path, max_rows=1, sheets=[name])[name] if name is not None else []
    first = rows[0] if rows else ()
    return [str(c).strip() for c in first if c is not None]


def _match_scoring(path: Path) -> bool:
    """Two object-time columns and a subject or a phase column (the reader names the other)."""
    cols = _sheet_columns(path)
    keys = {column_key(c) for c in cols}
    has_time = sum(bool(_TIME_COL.match(c)) for c in cols) >= 2
    return has_time and bool(keys & {*_PHASE_COLUMNS, *SUBJECT_ALIASES})


def read_scoring_sheet(path: Path, *, phase_map: dict[str, str] | None = None,
                       **_: Any) -> RodentData:
    """Read a hand-scored NOR sheet (csv/xlsx).

    Columns: a subject column (:data:`~neurotox.io.rodent.base.SUBJECT_ALIASES`), a
    phase column (``phase``, ``stage``, ``trial`` or ``session``: training/test or
    T1/T2 ...), one exploration-time column per object (``left``, ``right`` or
    ``novel``, ``familiar``, ``object_a`` ..., with or without ``object``; seconds),
    optionally ``novel_side``,
    ``latency_novel`` and a technical ``flag`` (non-empty = excluded, the text is
    the reason). Returns exploration; key and flags are in ``meta``.
    """
    df = read_sheet(path)
    subj = find_column(df, SUBJECT_ALIASES, path=path)
    pcol = find_column(df, _PHASE_COLUMNS, path=path)
    tcols = _time_columns(df)
    lat = find_column(df, _LATENCY_ALIASES, path=path, required=False)
    flag = find_column(df, _FLAG_ALIASES, path=path, required=False)
    nov = find_column(df, _NOVEL_ALIASES, path=path, required=False)
    times = {c: to_float(df[c], path=path, column=c, nonnegative=True) for c in tcols}
    latency = to_float(df[lat], path=path, column=lat, nonnegative=True) if lat else None
    _check_scoring_rows(df, subj, pcol, nov, list(tcols.values()), path, phase_map)
    rows, keys, flags, ignored = [], [], [], {}
    for i in range(len(df)):
        phase = phase_of(df[pcol].iloc[i], phase_map)
        if phase is None:
            raise FormatError(f"phase {df[pcol].iloc[i]!r} is not training or test "
                              f"(or an alias such as T1/T2, sample/choice); "
                              f"{phase_hint(df[pcol].iloc[i])}", path=path,
                              where=f"row {i + 2}, column {pcol!r}")
        if phase == IGNORE_PHASE:
            ignored.setdefault(df[pcol].iloc[i], []).append(i)
            continue
        s, src = df[subj].iloc[i], f"{path.name}:row {i + 2}"
        for c, obj in tcols.items():
            is_novel = obj.lower() == "novel" or (
                nov and phase == "test" and obj.lower() in _novel_labels(df[nov].iloc[i]))
            rows.append({"subject": s, "phase": phase, "object": obj, "time_s": times[c].iloc[i],
                         "bouts": np.nan,
                         "latency_s": latency.iloc[i] if latency is not None and is_novel
                         else np.nan, "source": f"{src}, column {c!r}"})
        if nov and df[nov].iloc[i]:
            keys.append({"subject": s, "novel": df[nov].iloc[i], "source": src})
        if flag and df[flag].iloc[i] and df[flag].iloc[i].lower() not in {"0", "no", "false"}:
            flags.append({"subject": s, "phase": phase, "reason": df[flag].iloc[i],
                          "source": src})
    meta = {"key": frame(keys, KEY_COLUMNS).drop_duplicates(["subject", "novel"]),
            "flags": frame(flags, FLAG_COLUMNS)}
    return RodentData("exploration", path, "nor-scoring-sheet",
                      table=frame(rows, EXPLORATION_COLUMNS), meta=meta,
                      notes=ignored_note(path, pcol, ignored))


def _first_row(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0]) + 2


def _check_scoring_rows(df: pd.DataFrame, subj: str, pcol: str, nov: str | None,
                        objects: list[str], path: Path,
                        phase_map: dict[str, str] | None) -> None:
    """Subjects present, one row per subject and phase, novel side names an object."""
    empty = df[subj] == ""
    if empty.any():
        raise FormatError("subject is empty", path=path,
                          where=f"row {_first_row(empty)}, column {subj!r}")
    phases = df[pcol].map(lambda v: phase_of(v, phase_map))
    dup = pd.DataFrame({"s": df[subj], "p": phases}).duplicated() \
        & phases.notna() & (phases != IGNORE_PHASE)
    if dup.any():
        i = _first_row(dup) - 2
        first = int(np.flatnonzero((df[subj] == df[subj].iloc[i])
                                   & (phases == phases.iloc[i]))[0])
        raise FormatError(_second_row(df, subj, pcol, phases.iloc[i], first, i),
                          path=path, where=f"row {i + 2}, column {subj!r}")
    if nov:
        allowed = {o.lower() for o in objects} | {"l", "r", "left", "right", ""}
        bad = ~df[nov].str.lower().isin(allowed) & df[nov].map(side_of).isna()
        if bad.any():
            i = _first_row(bad)
            raise FormatError(f"expected the novel object as L/R or one of "
                              f"{quoted(objects)}, found {df[nov].iloc[i - 2]!r}", path=path,
                              where=f"row {i}, column {nov!r}")


def _novel_labels(value: str) -> set[str]:
    v = str(value).strip().lower()
    return {v, {"l": "left", "r": "right"}.get(v, v)}


# ------------------------------------------------------------ ANY-maze results

_ANYMAZE_COL = re.compile(r"^(?P<obj>.+?)\s*:\s*(?P<what>.+)$")


def _match_anymaze(path: Path) -> bool:
    cols = _sheet_columns(path)
    lower = [c.lower() for c in cols]
    return "animal" in lower and any(_ANYMAZE_COL.match(c) and "time" in c.lower()
                                     for c in cols)


#: No object is explored for an hour in one trial: more is a unit error (ms read as s).
MAX_EXPLORATION_S = 3600.0


def _anymaze_values(df: pd.DataFrame, kind: str, column: str, scale: float, path: Path
                    ) -> tuple[pd.Series, bool]:
    """Numbers of one measure column; times and latencies may be clocks (``0:00:16.7``).

    A clock cell is read by :func:`neurotox.io.clock.clock_seconds` (``H:MM:SS.s``,
    ``MM:SS.s``; Excel time cells arrive as ``00:00:16.700000``) and is seconds
    whatever the header's unit; a number is scaled by the header's unit. Returns
    the values and whether any cell was a clock.
    """
    if kind not in ("time_s", "latency_s"):
        return to_float(df[column], path=path, column=column), False
    clocks = df[column].map(lambda v: clock_seconds(v, mm_ss=True)).astype(float)
    numbers = to_float(df[column].where(clocks.isna(), ""), path=path, column=column)
    return clocks.fillna(numbers * scale), bool(clocks.notna().any())


def _anymaze_measures(cols: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for c in cols:
        m = _ANYMAZE_COL.match(c)
        if not m:
            continue
        what = m.group("what").lower()
        kind = ("latency_s" if "latency" in what else "bouts" if "entries" in what
                or "number" in what or "episodes" in what else
                "time_s" if "time" in what or "duration" in what else None)
        if kind:
            out.setdefault(m.group("obj").strip(), {})[kind] = c
    return out


def _second_row(df: pd.DataFrame, animal: str, pcol: str, phase: str, first: int, i: int
                ) -> str:
    """The error of a second row of one animal and phase, saying how to leave a stage out."""
    a, b = df[pcol].iloc[first], df[pcol].iloc[i]
    leave = yaml_key(a if b.strip().lower() == phase else b)
    how = (f"leave one stage out with --param \"phase_map={{{leave}: ignore}}\"" if a != b else
           "keep one row per animal and phase")
    if phase == "test" and a != b:
        how += (f"; two tests (e.g. two delays) are analysed together, each its own "
                f"timepoint, when phase_map names both: --param \"phase_map={{{yaml_key(a)}: "
                f"test, {yaml_key(b)}: test}}\"")
    who = "animal" if animal.lower() == "animal" else "subject"
    return (f"{who} {df[animal].iloc[i]!r} has a second {phase} row ({pcol} {b!r}; the first "
            f"is row {first + 2}, {a!r}): {how}")


def ignored_note(path: Path, column: str, ignored: dict[str, list[int]]) -> list[str]:
    """The note on rows left out by ``phase_map`` (``ignore``), by label."""
    return [f"{path.name}: {len(rows)} row(s) with {column} {label!r} left out (phase_map: "
            f"ignore), rows {', '.join(str(r + 2) for r in rows[:5])}"
            f"{' ...' if len(rows) > 5 else ''}" for label, rows in sorted(ignored.items())]


def read_anymaze(path: Path, *, phase_map: dict[str, str] | None = None,
                 **_: Any) -> RodentData:
    """Read an ANY-maze results sheet (one row per test).

    Columns ``Animal``, a phase column (``Stage``, ``Trial``, ``Phase`` or
    ``Test`` holding training/test aliases) and per-object columns
    ``<object> : <measure>`` where the measure contains ``time`` (exploration
    time, s), ``latency`` or ``entries``/``episodes`` (bouts). Times may be
    numbers (unit from the header) or clocks (``0:00:16.7``). A stage that
    ``phase_map`` maps to ``ignore`` (a Habituation stage) is left out, noted.
    """
    df = read_sheet(path)
    animal = find_column(df, ("animal",), path=path)
    pcol = find_column(df, ("stage", "phase", "trial", "test"), path=path)
    measures = _anymaze_measures(list(df.columns))
    scale = {c: header_seconds_per(c, path) for cols in measures.values()
             for kind, c in cols.items() if kind in ("time_s", "latency_s")}
    read = {c: _anymaze_values(df, kind, c, scale.get(c, 1.0), path)
            for cols in measures.values() for kind, c in cols.items()}
    values = {c: v for c, (v, _) in read.items()}
    rows, seen, ignored = [], {}, {}
    for i in range(len(df)):
        phase = phase_of(df[pcol].iloc[i], phase_map)
        if phase is None:
            raise FormatError(f"{pcol} {df[pcol].iloc[i]!r} is not training or test; "
                              f"{phase_hint(df[pcol].iloc[i])}",
                              path=path, where=f"row {i + 2}, column {pcol!r}")
        if phase == IGNORE_PHASE:
            ignored.setdefault(df[pcol].iloc[i], []).append(i)
            continue
        first = seen.setdefault((df[animal].iloc[i], phase), i)
        if first != i:
            raise FormatError(_second_row(df, animal, pcol, phase, first, i), path=path,
                              where=f"row {i + 2}, column {pcol!r}")
        for obj, cols in sorted(measures.items()):
            if "time_s" not in cols:
                continue
            rec = {"subject": df[animal].iloc[i], "phase": phase, "object": obj,
                   "bouts": np.nan, "latency_s": np.nan,
                   "source": f"{path.name}:row {i + 2}, column {cols['time_s']!r}"}
            for kind, c in cols.items():
                rec[kind] = values[c].iloc[i]
            if rec["time_s"] > MAX_EXPLORATION_S:
                raise FormatError(f"{rec['time_s']:g} s of exploration of one object in one "
                                  f"trial (more than {MAX_EXPLORATION_S:g} s): a time unit "
                                  "error? write the unit in the header, e.g. "
                                  f"'{obj} : time (ms)'", path=path,
                                  where=f"row {i + 2}, column {cols['time_s']!r}")
            rows.append(rec)
    converted = [f"{c!r} ({'ms' if f < 1 else 'min'})" for c, f in scale.items() if f != 1.0]
    notes = [f"{path.name}: times converted to s from the unit in the header of "
             f"{', '.join(converted)}"] if converted else []
    notes += ignored_note(path, pcol, ignored)
    clocked = sorted(c for c, (_, clock) in read.items() if clock)
    if clocked:
        notes.append(f"{path.name}: times written as clocks (h:mm:ss) read as seconds in "
                     f"{quoted(clocked)}")
    return RodentData("exploration", path, "anymaze-results",
                      table=frame(rows, EXPLORATION_COLUMNS), notes=notes)


# ------------------------------------------------------------ T-maze trials

_TRIAL_ALIASES = ("trial", "trialno", "trial_no", "trial_number")
_CONDITION_ALIASES = ("condition", "injection", "treatment_condition", "drug", "session_type")
_SESSION_ALIASES = ("session", "date", "day", "block")


def _condition(values: pd.Series) -> pd.Series:
    """Condition labels; empty, 'nan', 'NA' and 'none' (no condition) become 'NA'."""
    return values.where(~values.str.lower().isin(["", "nan", "na", "none", "-"]), "NA")


_SAMPLE_ALIASES = ("sample", "sample_arm", "forced_arm")
_CHOICE_ALIASES = ("choice", "choice_arm")


def _trials_header(path: Path) -> tuple[int | None, list[str]]:
    """Rows above a trial table's header (None if none), and the cells of the row nearest one.

    The header is the first row with a sample and a choice column (names compared
    as :func:`column_key` folds them: ``Sample arm``); below the first row it must
    name the subject too (title rows above the table). The cells returned are
    those of the first row holding a subject and a sample or choice column (a
    table whose other arm column is named otherwise), else of the first row.
    """
    rows = [[str(c).strip() for c in r if c is not None and str(c).strip()]
            for r in raw_rows(path, max_rows=_HEADER_SEARCH_ROWS)]
    near = None
    for i, cells in enumerate(rows):
        keys = {column_key(c) for c in cells}
        named = bool(keys & set(SUBJECT_ALIASES))
        arms = (bool(keys & set(_SAMPLE_ALIASES)), bool(keys & set(_CHOICE_ALIASES)))
        if all(arms) and (named or i == 0):
            return i, cells
        if named and any(arms) and near is None:
            near = cells
    return None, near if near is not None else (rows[0] if rows else [])


def _match_trials(path: Path) -> bool:
    return _trials_header(path)[0] is not None


def trials_near_miss(path: Path) -> str | None:
    """What a table with a subject and one arm column of a trial table lacks, or None."""
    skip, cells = _trials_header(path)
    if skip is not None:
        return None
    keys = {column_key(c) for c in cells}
    if not keys & set(SUBJECT_ALIASES):
        return None
    for have, need, what in ((_SAMPLE_ALIASES, _CHOICE_ALIASES, "choice"),
                             (_CHOICE_ALIASES, _SAMPLE_ALIASES, "sample")):
        if keys & set(have) and not keys & set(need):
            return (f"a T-maze trial table needs a {what} column named one of "
                    f"{quoted(need)}; found {quoted(sorted(cells))}")
    return None


def _session(df: pd.DataFrame, path: Path) -> pd.Series:
    cols = [c for a in _SESSION_ALIASES
            if (c := find_column(df, (a,), path=path, required=False))]
    if not cols:
        return pd.Series("NA", index=df.index)
    return df[cols].astype(str).agg("/".join, axis=1)


def read_trials(path: Path, **_: Any) -> RodentData:
    """Read a discrete-trial T-maze table (one row per trial).

    Required: a subject column, ``sample`` and ``choice`` arms (``L``/``R``; empty,
    ``-`` or ``NA`` = no choice). Optional: trial number, condition (e.g.
    ``injection``), session columns (date/block, joined), ``latency`` (s).
    """
    skip = _trials_header(path)[0] or 0
    df = read_sheet(path, skiprows=skip)
    subj = find_column(df, SUBJECT_ALIASES, path=path)
    sample = find_column(df, _SAMPLE_ALIASES, path=path)
    choice = find_column(df, _CHOICE_ALIASES, path=path)
    trial = find_column(df, _TRIAL_ALIASES, path=path, required=False)
    cond = find_column(df, _CONDITION_ALIASES, path=path, required=False)
    lat = find_column(df, ("latency", "latency_s", "choice_latency"), path=path,
                      required=False)
    out = pd.DataFrame({
        "subject": df[subj],
        "condition": _condition(df[cond]) if cond else "NA",
        "session": _session(df, path),
        "trial": df[trial] if trial else (df.groupby(subj).cumcount() + 1).astype(str),
        "sample": df[sample].str.upper().replace({"": "NA", "-": "NA"}),
        "choice": df[choice].str.upper().replace({"": "NA", "-": "NA"}),
        "latency_s": to_float(df[lat], path=path, column=lat, nonnegative=True)
        if lat else np.nan,
        "source": [f"{path.name}:row {i + 2}" for i in df.index],
    })
    empty = out["subject"] == ""
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise FormatError("subject is empty", path=path,
                          where=f"row {df.index[i] + 2}, column {subj!r}")
    dup = out.duplicated(["subject", "condition", "session", "trial"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise FormatError(f"trial {out['trial'].iloc[i]!r} of subject "
                          f"{out['subject'].iloc[i]!r} appears more than once", path=path,
                          where=f"row {df.index[i] + 2}, column {trial or 'trial'!r}")
    notes = [f"{path.name}: header in row {skip + 1} ({skip} title row(s) above it "
             "skipped)"] if skip else []
    return RodentData("trials", path, "tmaze-trials", table=out[list(TRIAL_COLUMNS)],
                      notes=notes)


# ------------------------------------------------------------ arm-entry sequences

def _match_entries(path: Path) -> bool:
    cells = header_cells(path)
    return "arm_entry_sequence" in cells or ("arm" in cells and (
        "enter_s" in cells or "order" in cells or "entry" in cells))


def read_entries(path: Path, *, subject: str | None = None, **_: Any) -> RodentData:
    """Read arm-entry sequences.

    Either SimBA's per-video file (``ARM_ENTRY_SEQUENCE, ENTRY FRAME, EXIT FRAME,
    ENTER TIME (s), EXIT TIME (s)``; the subject is ``subject`` or the file stem)
    or a long table ``subject, arm`` with optional ``condition``, ``order``,
    ``enter_s``, ``exit_s``. Entries are ordered by ``order`` or entry time.
    """
    df = read_sheet(path)
    lower = {c.lower(): c for c in df.columns}
    if "arm_entry_sequence" in lower:
        out = pd.DataFrame({
            "subject": subject or path.stem, "condition": "NA",
            "arm": df[lower["arm_entry_sequence"]],
            "enter_s": to_float(df[lower["enter time (s)"]], path=path,
                                column="ENTER TIME (s)", nonnegative=True)
            if "enter time (s)" in lower else np.nan,
            "exit_s": to_float(df[lower["exit time (s)"]], path=path, column="EXIT TIME (s)",
                               nonnegative=True)
            if "exit time (s)" in lower else np.nan})
    else:
        subj = find_column(df, SUBJECT_ALIASES, path=path)
        cond = find_column(df, _CONDITION_ALIASES, path=path, required=False)
        out = pd.DataFrame({
            "subject": df[subj], "condition": _condition(df[cond]) if cond else "NA",
            "arm": df[lower["arm"]],
            "enter_s": to_float(df[lower["enter_s"]], path=path, column="enter_s",
                                nonnegative=True) if "enter_s" in lower else np.nan,
            "exit_s": to_float(df[lower["exit_s"]], path=path, column="exit_s",
                               nonnegative=True) if "exit_s" in lower else np.nan})
        if "order" in lower:
            out["_o"] = to_float(df[lower["order"]], path=path, column="order")
            out = out.sort_values(["subject", "condition", "_o"], kind="stable")
    out["source"] = [f"{path.name}:row {i + 2}" for i in out.index]
    _check_entries(out, path)
    out = out.reset_index(drop=True)
    out["order"] = out.groupby(["subject", "condition"]).cumcount() + 1
    if (out["arm"] == "").any():
        i = int(np.flatnonzero((out["arm"] == "").to_numpy())[0])
        raise FormatError("arm is empty", path=path, where=f"row {i + 2}")
    return RodentData("entries", path, "arm-entry-sequence", table=out[list(ENTRY_COLUMNS)])


def _check_entries(out: pd.DataFrame, path: Path) -> None:
    """Exit not before entry; order numbers unique; entries in order and not overlapping.

    An entry may start at the previous exit (touching intervals), not before it.
    """
    def fail(mask: pd.Series, message: str) -> None:
        if mask.any():
            raise FormatError(message, path=path,
                              where=out.loc[mask, "source"].iloc[0].split(":", 1)[1])

    fail(out["exit_s"] < out["enter_s"], "exit time before entry time")
    if "_o" in out:
        fail(out.duplicated(["subject", "condition", "_o"]),
             "entry order number repeats for this subject")
    earlier = out.groupby(["subject", "condition"])["enter_s"].diff() < 0
    fail(earlier, "entry time earlier than the previous entry of this subject")
    # in two arms at once: an entry before the previous one's exit (touching is not)
    prev = out.groupby(["subject", "condition"])[["arm", "exit_s", "source"]].shift()
    overlap = out["enter_s"] < prev["exit_s"]
    if overlap.any():
        i = int(np.flatnonzero(overlap.to_numpy())[0])
        row, before = out.iloc[i], prev.iloc[i]
        raise FormatError(
            f"subject {row['subject']!r} enters arm {row['arm']!r} at {row['enter_s']:g} s, "
            f"before leaving arm {before['arm']!r} ({before['source'].split(':', 1)[1]}, exit "
            f"{before['exit_s']:g} s): arm entries overlap in time", path=path,
            where=row["source"].split(":", 1)[1])


# ------------------------------------------------------------ per-video object layouts

OBJECT_COLUMNS = ("video", "object", "kind", "x", "y", "radius", "vertices", "px_per_cm",
                  "source")


def _match_objects(path: Path) -> bool:
    cells = set(header_cells(path))
    return {"video", "object", "x", "y"} <= cells or {"video", "object", "vertices"} <= cells


def _vertices(text: str, path: Path, row: int) -> tuple[tuple[float, float], ...] | None:
    if not text:
        return None
    try:
        pts = tuple(tuple(float(v) for v in p.split()) for p in text.split(";") if p.strip())
    except ValueError:
        pts = ()
    if len(pts) < 3 or any(len(p) != 2 for p in pts):
        raise FormatError(f"expected vertices as 'x y; x y; x y ...' (3 or more), found "
                          f"{text!r}", path=path, where=f"row {row}, column 'vertices'")
    return pts


def read_objects(path: Path, **_: Any) -> RodentData:
    """Read per-video object layouts in pixels.

    Columns ``video`` (video or pose-file stem), ``object`` (label, e.g. ``left``),
    and either ``x``, ``y``, ``radius`` (circle) or ``vertices`` (``"x y; x y; ..."``,
    polygon); optional ``px_per_cm`` (calibration of that video).
    """
    df = read_sheet(path)
    df.columns = [c.lower() for c in df.columns]
    num = {c: to_float(df[c], path=path, column=c) if c in df else pd.Series(np.nan, df.index)
           for c in ("x", "y", "radius", "px_per_cm")}
    rows = []
    for i in range(len(df)):
        verts = _vertices(df["vertices"].iloc[i] if "vertices" in df else "", path, i + 2)
        rec = {"video": df["video"].iloc[i], "object": df["object"].iloc[i],
               "kind": "polygon" if verts else "circle", "vertices": verts,
               **{c: num[c].iloc[i] for c in num}, "source": f"{path.name}:row {i + 2}"}
        if verts is None and not np.isfinite([rec["x"], rec["y"], rec["radius"]]).all():
            raise FormatError("a circle needs x, y and radius", path=path, where=f"row {i + 2}")
        rows.append(rec)
    table, notes = merge_repeats(frame(rows, OBJECT_COLUMNS), ["video", "object"],
                                 what="object layout", files=[path])
    return RodentData("objects", path, "object-layout", table=table, notes=notes)


# ------------------------------------------------------------ zone statistics per bin (LIMS)

ZONE_BIN_COLUMNS = ("subject", "timepoint", "phase", "bin", "zone", "measure", "value", "source")
_PARAMETER = re.compile(r"^(?P<zone>.+?)(?: (?P<measure>Duration|Frequency|Latency to First))?"
                        r"/time:(?P<bin>\d+)/phase:(?P<phase>[^/]+)$", re.IGNORECASE)


_ZONE_BIN_HEADER = {"animal_name", "parameter", "data"}


def _match_zone_bins(path: Path) -> bool:
    return header_at(path, _ZONE_BIN_HEADER) is not None


def read_zone_bins(path: Path, **_: Any) -> RodentData:
    """Read harmonised zone statistics per time bin (EthoVision via a LIMS, long format).

    Columns ``animal_name``, ``parameter`` (``<zone> <Duration|Frequency|Latency to
    First>/time:<bin>/phase:<phase>``, e.g. ``Novel arm Duration/time:1/phase:Novel``)
    and ``data``; ``mean_experimental_age`` (weeks), when present, becomes the
    timepoint ``age<weeks>wk``. Zone names are lower-cased (exports mix ``arm``/``Arm``).
    Every value is a time, count or distance: a negative one is an error naming its row.
    """
    df, title = read_long(path, _ZONE_BIN_HEADER)
    parts = df["parameter"].str.extract(_PARAMETER)
    bad = parts["zone"].isna()
    if bad.any():
        i = bad.index[bad.to_numpy()][0]
        raise FormatError(f"expected a parameter like '<zone> Duration/time:1/phase:<phase>', "
                          f"found {df.at[i, 'parameter']!r}", path=path,
                          where=f"row {i + 2}, column 'parameter'")
    age = df["mean_experimental_age"] if "mean_experimental_age" in df else None
    out = pd.DataFrame({
        "subject": df["animal_name"],
        "timepoint": ("age" + age + "wk") if age is not None else "NA",
        "phase": parts["phase"].str.lower(), "bin": parts["bin"].astype(int),
        "zone": parts["zone"].str.strip().str.lower(),
        "measure": parts["measure"].fillna("value").str.lower(),
        "value": to_float(df["data"], path=path, column="data", nonnegative=True),
        "source": [f"{path.name}:row {i + 2}" for i in df.index]})
    # an export run twice into one file: the bins would be added up (40 s read as 80 s)
    out, notes = merge_repeats(out[list(ZONE_BIN_COLUMNS)],
                               ["subject", "timepoint", "phase", "bin", "zone", "measure"],
                               what="zone statistic", compare=["value"], files=[path])
    return RodentData("zone_bins", path, "lims-zone-bins", table=out, notes=title + notes)


# ------------------------------------------------------------ DLCAnalyzer zones

def _match_zoneinfo(path: Path) -> bool:
    lines = sniff_lines(path, 2)
    return bool(lines) and lines[0].count(";") >= 1 and "pointname" not in lines[0].lower() \
        and path.stem.lower().endswith("zoneinfo")


def read_zoneinfo(path: Path, **_: Any) -> RodentData:
    """Read DLCAnalyzer zone definitions: one column per zone, rows = polygon corner points."""
    df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    zones = {str(c).strip(): [p.strip() for p in df[c] if p.strip()] for c in df.columns}
    short = sorted(z for z, pts in zones.items() if len(pts) < 3)
    if short:
        raise FormatError(f"zone(s) {quoted(short)} have fewer than 3 corner points", path=path)
    return RodentData("zones", path, "dlcanalyzer-zoneinfo", meta={"zones": zones})


for _r in (
    Reader("simba-aggregates", "exploration",
           "SimBA aggregates csv/xlsx (VIDEO,CLASSIFIER,MEASUREMENT,VALUE)",
           _match_simba_aggregates, read_simba_aggregates),
    Reader("simba-roi-aggregates", "exploration",
           "SimBA ROI aggregates csv (VIDEO,ANIMAL,SHAPE,MEASUREMENT,VALUE)",
           _match_simba_roi, read_simba_roi),
    Reader("exclusion-list", "flags", "exclusion list csv (VIDEO,REASON or subject,phase,reason)",
           _match_flags, read_flags),
    Reader("novel-object-key", "key", "novel-object key csv (subject + NovelSide/novel_object)",
           _match_key, read_key),
    Reader("tmaze-trials", "trials", "T-maze trial table (subject, sample, choice)",
           _match_trials, read_trials, near_miss=trials_near_miss),
    Reader("arm-entry-sequence", "entries",
           "arm-entry sequence (SimBA ARM_ENTRY_SEQUENCE or subject, arm, order)",
           _match_entries, read_entries),
    Reader("object-layout", "objects",
           "object layout csv (video, object, x, y, radius or vertices; pixels)",
           _match_objects, read_objects),
    Reader("lims-zone-bins", "zone_bins",
           "zone statistics per bin, long format csv/xlsx (animal_name, parameter, data)",
           _match_zone_bins, read_zone_bins),
    Reader("dlcanalyzer-zoneinfo", "zones", "DLCAnalyzer *_zoneinfo.csv (zones over landmarks)",
           _match_zoneinfo, read_zoneinfo),
    Reader("anymaze-results", "exploration",
           "ANY-maze results sheet (Animal, '<object> : time ...' columns)",
           _match_anymaze, read_anymaze),
    Reader("nor-scoring-sheet", "exploration",
           "NOR scoring sheet csv/xlsx (subject, phase, left/right or novel/familiar times)",
           _match_scoring, read_scoring_sheet),
):
    register_reader(_r)

"""Stimuli of a zebrafish protocol (vibration/tap, light or dark flash, sound) and their onsets.

A protocol lists its stimuli; each has a name (the timepoint of its endpoints),
a type and, optionally, a schedule (``onsets_s``, or ``start_s`` + ``every_s``
+ ``count``). Onsets come from the export's stimulus rows where it has them
(ZebraLab ``zebralab-stimulus``), checked against the protocol's schedule, or
from the schedule alone (:func:`presentations`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from neurotox.errors import InputError, quoted
from neurotox.io.zebrafish.base import norm

StimulusType = Literal["vibration", "tap", "light_flash", "dark_flash", "sound", "other"]

#: Words of instrument stimulus names → stimulus type (ZebraLab ``stimuli_name``).
TYPE_WORDS = (("vibration", "vibration"), ("tap", "tap"), ("dark", "dark_flash"),
              ("light", "light_flash"), ("flash", "light_flash"), ("sound", "sound"),
              ("audio", "sound"), ("acoustic", "sound"), ("tone", "sound"))

#: Largest difference (s) between a scheduled onset and the export's stimulus row.
ONSET_TOLERANCE_S = 0.5


class Stimulus(BaseModel):
    """One stimulus of a protocol and its schedule (closed: typos are errors).

    Attributes
    ----------
    name
        Identifier; the timepoint of this stimulus's endpoints (``vibration``).
    type
        ``vibration``, ``tap``, ``light_flash``, ``dark_flash``, ``sound`` or ``other``.
    duration_s
        Length of one presentation.
    onsets_s
        Onset of every presentation (s from the start of the recording), or
    start_s, every_s, count
        a regular train: ``count`` presentations every ``every_s`` from ``start_s``.
    export_name
        The stimulus name in the export (ZebraLab ``stimuli_name``, e.g. ``Top light``);
        default: any export name containing a word of the type.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    type: StimulusType
    duration_s: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    onsets_s: tuple[float, ...] | None = None
    start_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    every_s: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    count: int | None = Field(default=None, ge=1)
    export_name: str | None = None

    @model_validator(mode="after")
    def _one_schedule(self) -> Stimulus:
        train = (self.start_s, self.every_s, self.count)
        if self.onsets_s is not None and any(v is not None for v in train):
            raise ValueError("give onsets_s or start_s/every_s/count, not both")
        if any(v is not None for v in train) and any(v is None for v in train):
            raise ValueError("a regular train needs start_s, every_s and count")
        if self.onsets_s is not None and (any(not np.isfinite(t) or t < 0
                                              for t in self.onsets_s)
                                          or list(self.onsets_s) != sorted(self.onsets_s)):
            raise ValueError("onsets_s must be increasing times >= 0")
        return self

    def scheduled(self) -> np.ndarray | None:
        """Scheduled onsets (s), or None when the protocol leaves them to the export."""
        if self.onsets_s is not None:
            return np.asarray(self.onsets_s, dtype=float)
        if self.count is not None:
            return self.start_s + self.every_s * np.arange(self.count)
        return None

    def matches(self, export_name: str) -> bool:
        """Whether a stimulus name of the export is this stimulus."""
        if self.export_name is not None:
            return norm(export_name) == norm(self.export_name)
        return guess_type(export_name) == self.type


def guess_type(export_name: str) -> str:
    """Stimulus type from an instrument's stimulus name (``Top light`` → ``light_flash``)."""
    n = norm(export_name)
    return next((t for word, t in TYPE_WORDS if word in n), "other")


def from_export_names(names: list[str]) -> tuple[Stimulus, ...]:
    """Stimuli named after the export's stimulus names (when the protocol lists none)."""
    return tuple(Stimulus(name=_ident(n), type=guess_type(n), export_name=n)
                 for n in sorted(set(names)))


def _ident(name: str) -> str:
    n = norm(name)
    return n if n[:1].isalpha() else f"stimulus_{n}"


def presentations(stimuli: tuple[Stimulus, ...], events: pd.DataFrame | None, *,
                  source: str, notes: list[str]) -> pd.DataFrame:
    """One row per larva-independent presentation: stimulus, repeat, onset_s, duration_s.

    With export events (``source`` = ``export``), onsets are the median over larvae
    of each stimulus row's start and the rows themselves are kept (``events``
    column names them); with ``protocol`` the schedule is used.

    Raises
    ------
    InputError
        An export stimulus the protocol does not list, a stimulus without a
        schedule and without export rows, or export rows that do not match the
        protocol's schedule (count, or an onset more than 0.5 s off).

    """
    if source == "export" and events is not None:
        _check_all_claimed(stimuli, events)
    rows = []
    for stim in stimuli:
        own = _own_events(stim, events) if source == "export" else None
        sched = stim.scheduled()
        if own is None or own.empty:
            if sched is None:
                raise InputError(f"stimulus {stim.name!r} has no schedule (onsets_s or "
                                 "start_s/every_s/count) and the export has no rows for it")
            onsets, durations = sched, np.full(len(sched), stim.duration_s)
        else:
            onsets, durations = _export_onsets(stim, own, sched, larvae=events)
        rows += [{"stimulus": stim.name, "type": stim.type, "repeat": k + 1,
                  "onset_s": float(t), "duration_s": float(d)}
                 for k, (t, d) in enumerate(zip(onsets, durations, strict=True))]
    out = pd.DataFrame(rows, columns=["stimulus", "type", "repeat", "onset_s", "duration_s"])
    per = out.groupby("stimulus", sort=False)["repeat"].size()
    notes.append("stimulus onsets from the " + ("export's stimulus rows" if source == "export"
                                                 else "protocol's schedule") + ": "
                 + ", ".join(f"{n} × {s}" for s, n in per.items()))
    return out


def _own_events(stim: Stimulus, events: pd.DataFrame | None) -> pd.DataFrame | None:
    if events is None:
        return None
    mask = events["stimulus"].astype(str).map(stim.matches)
    return events[mask.to_numpy()]


def _check_all_claimed(stimuli: tuple[Stimulus, ...], events: pd.DataFrame) -> None:
    names = sorted(set(events["stimulus"].astype(str)))
    for n in names:
        owners = [s.name for s in stimuli if s.matches(n)]
        if len(owners) != 1:
            what = "matches none" if not owners else f"matches {quoted(owners)}"
            rows = events[events["stimulus"].astype(str) == n]
            raise InputError(f"export stimulus {n!r} {what} of the protocol's stimuli "
                             f"({quoted(s.name for s in stimuli)}); correct the name in the "
                             "export or set each stimulus's export_name", path=_files(rows),
                             where=_row_text(rows.iloc[0], f"{len(rows)} row(s)"))


def _export_onsets(stim: Stimulus, own: pd.DataFrame, sched: np.ndarray | None, *,
                   larvae: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Onsets and durations of ``stim`` from its export rows (``own``), checked per larva.

    Every larva with stimulus rows in the export (``larvae``) must have as many
    rows of ``stim`` as most larvae, each within ``ONSET_TOLERANCE_S`` of the
    larvae's median onset, and the median within it of the schedule.
    """
    own = own.sort_values(["plate", "animal", "start_s"], kind="stable")
    own = own.assign(repeat=own.groupby(["plate", "animal"]).cumcount().to_numpy())
    every = pd.MultiIndex.from_frame(larvae[["plate", "animal"]].drop_duplicates())
    counts = own.groupby(["plate", "animal"]).size().reindex(every, fill_value=0)
    usual = int(counts.value_counts().idxmax())     # the number most larvae have
    typical = own[own.groupby(["plate", "animal"])["repeat"].transform("size") == usual]
    per = typical.groupby("repeat")
    onsets = per["start_s"].median().to_numpy(float)
    durations = (per["end_s"].median() - per["start_s"].median()).to_numpy(float)
    path = _files(own)
    if counts.nunique() != 1:
        _odd_count(stim, own, counts, usual, onsets, path)
    if sched is not None:
        if len(sched) != len(onsets):
            raise InputError(f"stimulus {stim.name!r}: the protocol schedules {len(sched)} "
                             f"presentations, the export has {len(onsets)}", path=path)
        off = np.abs(sched - onsets)
        if (off > ONSET_TOLERANCE_S).any():
            k = int(np.argmax(off > ONSET_TOLERANCE_S))
            raise InputError(f"stimulus {stim.name!r} presentation {k + 1}: scheduled at "
                             f"{sched[k]:g} s, the export's row starts at {onsets[k]:g} s "
                             f"(more than {ONSET_TOLERANCE_S:g} s apart)", path=path)
    _off_larva(stim, own, onsets, path)
    return onsets, durations


def _odd_count(stim: Stimulus, own: pd.DataFrame, counts: pd.Series, usual: int,
               onsets: np.ndarray, path: str | None) -> None:
    """Refuse the first larva whose number of rows of ``stim`` differs from most larvae's."""
    (plate, animal), n = next((k, v) for k, v in counts.items() if v != usual)
    rows = own[(own["plate"] == plate) & (own["animal"] == animal)]
    starts = rows["start_s"].to_numpy(float)
    m = min(n, usual)
    k = next((j for j in range(m) if abs(starts[j] - onsets[j]) > ONSET_TOLERANCE_S), m)
    what = (f"no row for presentation {k + 1} (at {onsets[k]:g} s in the other larvae)"
            if n < usual else f"an extra row at {starts[k]:g} s")
    others = int((counts == usual).sum())
    raise InputError(f"stimulus {stim.name!r}: larva {animal} has {n} presentation rows, "
                     f"{others} other larvae {usual}: {what}", path=path,
                     where=_row_text(rows.iloc[min(k, n - 1)], f"larva {animal}") if n
                     else f"larva {animal} (plate {plate})")


def _off_larva(stim: Stimulus, own: pd.DataFrame, onsets: np.ndarray, path: str | None) -> None:
    """Refuse a larva's row that starts away from the other larvae's (median) onset."""
    off = np.abs(own["start_s"].to_numpy(float) - onsets[own["repeat"].to_numpy(int)])
    bad = np.flatnonzero(off > ONSET_TOLERANCE_S)
    if bad.size:
        r = own.iloc[int(bad[0])]
        raise InputError(f"stimulus {stim.name!r} presentation {int(r['repeat']) + 1} of larva "
                         f"{r['animal']}: the row starts at {r['start_s']:g} s, the larvae's "
                         f"median onset is {onsets[int(r['repeat'])]:g} s (more than "
                         f"{ONSET_TOLERANCE_S:g} s apart)", path=path,
                         where=_row_text(r, f"larva {r['animal']}"))


def _row_text(r: pd.Series, fallback: str) -> str:
    """Where an export row is (``line 17``, ``row 17``), or ``fallback`` when not known."""
    where = str(r.get("row", "") or "")
    return f"{where} (plate {r['plate']}, well {r['well']})" if where else fallback


def _files(events: pd.DataFrame) -> str | None:
    """The export file(s) the rows come from, for error messages."""
    if "source" not in events.columns or events.empty:
        return None
    return ", ".join(sorted(set(events["source"].astype(str))))

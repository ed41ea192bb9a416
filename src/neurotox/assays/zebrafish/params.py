"""Zebrafish locomotion parameters: the light schedule and the closed settings model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from neurotox.assays.base import MAX_MISSING_FRACTION
from neurotox.assays.zebrafish.metrics import PhaseWindow, phase_windows
from neurotox.assays.zebrafish.stimuli import Stimulus

ASSAY = "zebrafish_lpr"


def chemical_text(value: object) -> object:
    """Chemical IDs as text: ``--set chemical=725`` (YAML int 725) means ``"725"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


class Phase(BaseModel):
    """One phase of the light schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    light: bool
    duration_s: float = Field(gt=0, allow_inf_nan=False)


def _tanguay_schedule() -> tuple[Phase, ...]:
    return tuple(Phase(name=f"{'light' if i % 2 == 0 else 'dark'}{i // 2 + 1}",
                       light=i % 2 == 0, duration_s=180.0) for i in range(8))


class ZebrafishParameters(BaseModel):
    """Parameters of the zebrafish locomotion analysis (closed: typos are errors).

    Attributes
    ----------
    mode
        ``lpr`` (larval light/dark locomotion) or ``epr`` (embryonic photomotor
        response from frame-level motion indices).
    format
        Export format name; None to auto-detect each file.
    bin_s
        Bin width (s) for trajectories and for tables with bin numbers only.
    schedule, schedule_start_s
        Consecutive light/dark phases and the time the first one starts.
    analysed_cycle
        Light→dark cycle (1-based, every light phase followed by a dark one, an
        acclimation pair included) for AUC endpoints and the hit call; None = last.
    transition_window_s
        Window after (and before) a transition for startle and freeze responses,
        and the width the transition response's bins may have: exports whose bins
        do not make a whole number of windows leave the three out (a warning).
    plate_format
        Wells of the plate (6, 12, 24, 48, 96, 384) for exports that number their
        larvae (ZebraLab locations ``c01`` …, EthoVision ``Arena N``), numbered
        row-major; None = inferred from the highest number and the layout's wells.
    stimuli
        Stimuli of the protocol (vibration/tap, light or dark flash, sound) with their
        schedule (:class:`~neurotox.assays.zebrafish.stimuli.Stimulus`); empty = those of
        the export's stimulus rows, if any.
    stimulus_times
        Onsets from the export's stimulus rows (``export``), the protocol's schedule
        (``protocol``) or the export when it has stimulus rows (``auto``).
    response_window_s
        Response window after each onset; None = the stimulus rows as exported
        (else the stimulus duration, measured from the bins).
    response_threshold_mm
        A larva responded when it moved more than this in the response window.
    latency_resolution_s
        Latency is reported only from bins at most this wide.
    habituation_block
        Presentations averaged at each end for the last/first habituation ratio.
    plate_ids
        Plate ID per export file name, overriding the ID read from the file.
    count_inactive_distance
        Add ZebraLab's inactive-class distance (``inadist``) to the distance.
    exclude_no_movement
        Exclude larvae that never moved (dead or not tracked). Off by default: a larva
        that does not move may be the finding (protocols that exclude say so).
    max_empty_fraction
        Exclude a larva when the tracker reports the well empty for more than this
        fraction of the recording (``emptydur``).
    max_missing_fraction
        Exclude a larva when more than this fraction of bins (or frames) is missing.
    max_step_mm
        Trajectory steps longer than this are tracking jumps and are not counted.
    mm_per_unit
        Scale of trajectory coordinates (mm per exported unit, e.g. per pixel).
    viability_min
        Minimum fraction of viable (not dead, not malformed) larvae per group; a
        group below it is excluded (Tanguay 70 %; EPA 75 % / 85 % for controls).
    viability_min_control
        Same for the control group (None = ``viability_min``).
    hit_p, hit_percent
        Tanguay call: significant at p < ``hit_p`` and |percent difference| ≥
        ``hit_percent``.
    epr_duration_s, epr_windows, frame_rate, epr_scale
        EPR recording length, window (first, last second) per response, frames
        per second (None = frames / duration), and the factor applied to the mean
        motion index per second (5000 reproduces the Tanguay SARL HMAT tables).
    morphology_calls
        Which plate-map calls exclude a larva: ``all`` or ``24hpf`` (only calls
        scored at 24 hpf, e.g. ``MO24``; for the EPR).
    bmdrc, bmdrc_cycle_length, bmdrc_cycle_cooldown, bmdrc_starting_cycle
        Also run bmdrc's LPR dichotomisation (per-cycle AUC_k and MOV_k, abnormal
        outside the control IQR fences of the plate).
    concentration_unit
        Unit of the plate-map concentrations.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["lpr", "epr"] = "lpr"
    format: str | None = None
    bin_s: float = Field(default=6.0, gt=0)
    schedule: tuple[Phase, ...] = Field(default_factory=_tanguay_schedule, min_length=1)
    schedule_start_s: float = Field(default=0.0, ge=0)
    analysed_cycle: int | None = Field(default=None, ge=1)
    transition_window_s: float = Field(default=6.0, gt=0)
    plate_format: Literal[6, 12, 24, 48, 96, 384] | None = None
    stimuli: tuple[Stimulus, ...] = ()
    stimulus_times: Literal["auto", "export", "protocol"] = "auto"
    response_window_s: float | None = Field(default=None, gt=0)
    response_threshold_mm: float = Field(default=1.0, ge=0)
    latency_resolution_s: float = Field(default=0.1, gt=0)
    habituation_block: int = Field(default=3, ge=1)
    plate_ids: dict[str, str] = Field(default_factory=dict)
    count_inactive_distance: bool = False
    exclude_no_movement: bool = False
    max_empty_fraction: float = Field(default=0.5, gt=0, le=1)
    max_missing_fraction: float = Field(default=MAX_MISSING_FRACTION, ge=0, le=1)
    max_step_mm: float | None = Field(default=None, gt=0)
    mm_per_unit: float = Field(default=1.0, gt=0)
    viability_min: float = Field(default=0.7, ge=0, le=1)
    viability_min_control: float | None = Field(default=None, ge=0, le=1)
    hit_p: float = Field(default=0.01, gt=0, lt=1)
    hit_percent: float = Field(default=50.0, ge=0)
    epr_duration_s: float = Field(default=50.0, gt=0)
    epr_windows: dict[str, tuple[float, float]] = Field(default_factory=lambda: {
        "background": (21, 29), "excitation": (31, 39), "refractory": (41, 48)})
    frame_rate: float | None = Field(default=None, gt=0)
    epr_scale: float = Field(default=1.0, gt=0)
    morphology_calls: Literal["all", "24hpf"] = "all"
    bmdrc: bool = False
    bmdrc_cycle_length: int = Field(default=20, ge=1)
    bmdrc_cycle_cooldown: int = Field(default=10, ge=0)
    bmdrc_starting_cycle: Literal["light", "dark"] = "light"
    concentration_unit: str = "uM"
    chemical: str | None = None
    bmd_endpoints: tuple[str, ...] = ()
    endpoint_bin_s: float | None = Field(default=None, gt=0)
    sarl_statistics: bool = False

    @field_validator("chemical", mode="before")
    @classmethod
    def _chemical_text(cls, v: object) -> object:
        return chemical_text(v)

    def phase_windows(self) -> list[PhaseWindow]:
        """The light schedule's phases in absolute time (s); the last one's end ends it."""
        return phase_windows([(p.name, p.light, p.duration_s) for p in self.schedule],
                             self.schedule_start_s)

"""Parameter models of the rodent assays: NOR and its pose settings, T-maze and its arms."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from neurotox.assays.base import MAX_MISSING_FRACTION
from neurotox.assays.rodent import pose as geo


class PoseSettings(BaseModel):
    """How exploration is derived from pose tracks (DeepLabCut/SLEAP).

    ``objects`` (cm) apply to every video; a per-video object-layout file among the
    inputs (pixels) overrides them for the videos it names. ``individual`` names
    the animal of a multi-animal file (name or 0-based position; required when
    the file has several). A trial with more than ``max_missing_fraction`` of its
    frames without the nose or the head below ``min_likelihood`` (or empty) is
    excluded for tracking, not by the exploration rules.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    px_per_cm: float = Field(gt=0)
    fps: float = Field(gt=0)
    objects: tuple[geo.Shape, ...] = Field(default=(), max_length=2)
    nose: str = "nose"
    head: tuple[str, ...] = Field(default=("left_ear", "right_ear"), min_length=1)
    body: str = "body_centre"
    individual: int | str | None = None
    distance_cm: float = Field(default=2.0, gt=0)
    max_angle_deg: float = Field(default=45.0, gt=0, le=180)
    min_likelihood: float = Field(default=0.6, ge=0, le=1)
    max_gap_frames: int = Field(default=5, ge=0)
    max_missing_fraction: float = Field(default=0.5, ge=0, le=1)


class NorParameters(BaseModel):
    """Closed parameter model of the NOR assay (protocol ``nor-standard``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_test_exploration_s: float = Field(default=10.0, ge=0)
    threshold_inclusive: bool = False
    min_training_exploration_s: float | None = Field(default=None, ge=0)
    max_training_bias: float | None = Field(default=None, gt=0, le=1)
    min_bout_s: float = Field(default=0.0, ge=0)
    exclude_climbing: bool = True
    max_climbing_s: float | None = Field(default=10.0, ge=0)
    exploration_point: str = "nose"
    max_missing_fraction: float = Field(default=MAX_MISSING_FRACTION, ge=0, le=1)
    object_zone_pattern: str = "object"
    video_regex: str | None = None
    video_include: str | None = None
    phase_map: dict[str, Literal["training", "test", "ignore"]] = Field(default_factory=dict)
    novel_default: str | None = None
    timepoint: str = "NA"
    normality_alpha: float = Field(default=0.05, gt=0, lt=0.5)
    file_subjects: dict[str, str] = Field(default_factory=dict)
    pose: PoseSettings | None = None


class ArmSettings(BaseModel):
    """Arms and keypoints for entries from pose tracks.

    Arms are either fixed shapes in cm (``arms``) or zones of a DLCAnalyzer-style
    zone file given as an input (``arm_zones`` names them), whose corners are maze
    landmarks tracked as keypoints (median position over the video).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    px_per_cm: float = Field(gt=0)
    fps: float = Field(gt=0)
    arms: tuple[geo.Shape, ...] = ()
    arm_zones: tuple[str, ...] = ()
    body: str = "body_centre"
    keypoints: tuple[str, ...] = Field(min_length=1)
    individual: int | str | None = None
    min_fraction: float = Field(default=0.75, gt=0, le=1)
    min_entry_s: float = Field(default=0.0, ge=0)
    min_likelihood: float = Field(default=0.6, ge=0, le=1)
    max_gap_frames: int = Field(default=5, ge=0)

    @model_validator(mode="after")
    def _arms_given(self) -> ArmSettings:
        if len(self.arms) + len(self.arm_zones) < 2:
            raise ValueError("give at least 2 'arms' (shapes in cm) or 2 'arm_zones' "
                             "(zone names of a zone file)")
        return self


class TmazeParameters(BaseModel):
    """Closed parameter model of the T-maze assay.

    Defaults equal the templates' values (``tmaze-spontaneous`` for the sequence
    rules, ``tmaze-rewarded`` for ``min_trials``), so that a protocol written from
    scratch scores like the template. ``window: null`` scores windows of as many
    entries as the maze has arms. The maze has ``arms`` (names) if given, else
    ``n_arms`` (3: a T- or Y-maze) arms named as in the data; ``n_arms: null``
    takes the arms seen in the data. ``bin_s`` (novel arm) is the length of a
    zone-statistics bin: a zone duration longer than it is an error. ``trial_s``
    (zone-sample exports) is the trial length: a recording ending earlier is
    excluded with a warning.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["continuous", "discrete", "novel_arm"] = "continuous"
    paradigm: Literal["spontaneous", "forced", "rewarded"] = "spontaneous"
    arms: tuple[str, ...] | None = None
    n_arms: int | None = Field(default=3, ge=2)
    window: int | None = Field(default=3, ge=2)
    reentries: Literal["counted", "collapsed"] = "counted"
    min_entries: int = Field(default=8, ge=3)
    correct_rule: Literal["alternate", "same"] = "alternate"
    min_trials: int = Field(default=5, ge=1)
    max_choice_latency_s: float | None = Field(default=None, gt=0)
    chance_pct: float = Field(default=50.0, gt=0, lt=100)
    test_phase: str = "novel"
    test_bins: int | None = Field(default=2, ge=1)
    bin_s: float | None = Field(default=60.0, gt=0)
    trial_s: float | None = Field(default=None, gt=0)
    novel_zone: str = "novel arm"
    familiar_zone: str = "familiar arm"
    timepoint: str = "NA"
    normality_alpha: float = Field(default=0.05, gt=0, lt=0.5)
    zone_arms: dict[str, str] = Field(default_factory=dict)
    centre_zones: str = r"^(?:cent(?:er|re)|arena)$"
    zone_point: str = "center"
    no_zone_samples: Literal["exit", "continue"] = "exit"
    max_missing_fraction: float = Field(default=MAX_MISSING_FRACTION, ge=0, le=1)
    min_entry_s: float = Field(default=0.0, ge=0)
    file_subjects: dict[str, str] = Field(default_factory=dict)
    pose: ArmSettings | None = None



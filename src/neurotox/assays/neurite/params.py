"""Neurite-outgrowth parameters: the protocol's settings model and the endpoint names."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from neurotox.imaging import FieldSettings
from neurotox.io.plates import PIXEL_SIZE_RANGE

ASSAY = "neurite_outgrowth"
#: Well-level metrics reported as endpoints (endpoint name → column of the well table).
WELL_ENDPOINTS = {
    "neurite_length_per_cell": "neurite_length_per_cell_um",
    "mean_neurite_length_per_cell": "mean_neurite_length_per_cell_um",
    "nuclei_count": "nuclei_count",
    "neurite_bearing_cells_pct": "neurite_bearing_cells_pct",
    "branch_points_per_cell": "branch_points_per_cell",
    "neurites_per_cell": "neurites_per_cell",
    "unattached_neurite_length": "unattached_neurite_length_um",
    "total_neurite_length": "total_neurite_length_um",
    "neurite_fragments": "fragments_per_field",
    "mean_fragment_length": "mean_fragment_length_um",
}
#: Concentration-response fits: endpoint label → normalised well column.
CR_ENDPOINTS = {"neurite_length_per_cell": "neurite_length_per_cell_pct",
                "nuclei_count": "nuclei_count_pct"}
QC_RULES = ("empty", "cell_count", "saturation", "nuclei_saturation", "focus",
            "fine_structure", "debris", "grey_levels")


class NeuriteParameters(BaseModel):
    """Parameters of the neurite-outgrowth assay (protocol template + overrides).

    Image-analysis settings are in µm; QC rules flag fields with the measured
    value, and only the rules in ``exclude_on`` exclude them (the others are
    reported only). Focus is judged against the plate's median only when the
    plate has ``min_fields_for_focus`` fields with a measurable focus; fine structure
    (``min_fine_structure``) is judged on each field alone. ``workers`` is the number
    of local worker processes (None: one per core); it changes the speed,
    never the results. ``fragments_are_degeneration: false`` says that the
    unattached pieces are whole neurites broken only where they cross the
    cells among them (co-cultures), not fragments of degenerating axons: their
    count then grows with the amount of neurite, so the ``neurite_fragments``
    rows keep their values but are excluded from statistics, with the reason.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Literal["neurodevelopmental", "structural"] = "neurodevelopmental"
    nuclei_channel: str | None = "1"
    neurite_channel: str | None = "2"
    pattern: tuple[str, ...] | None = None
    pixel_size_um: float | None = Field(default=None, ge=PIXEL_SIZE_RANGE[0],
                                        le=PIXEL_SIZE_RANGE[1])
    nucleus_diameter_um: float = Field(default=10.0, gt=1, le=100)
    min_nucleus_area_fraction: float = Field(default=0.25, gt=0, lt=1)
    max_nucleus_area_fraction: float = Field(default=4.0, gt=1, le=50)
    nucleus_threshold_factor: float = Field(default=0.5, gt=0.05, lt=1)
    cell_body_margin_um: float = Field(default=5.0, ge=0, le=100)
    neurite_width_um: float = Field(default=1.5, gt=0.1, le=20)
    neurite_max_width_um: float | None = Field(default=None, gt=0.1, le=50)
    soma_min_width_um: float = Field(default=8.0, gt=0.5, le=200)
    soma_min_area_um2: float = Field(default=80.0, gt=0, le=1e5)
    soma_min_core_um: float | None = Field(default=None, gt=0, le=200)
    soma_split_depth_um: float | None = Field(default=None, gt=0, le=50)
    spread_min_width_um: float | None = Field(default=None, gt=0, le=1e5)
    non_neuronal: Literal["none", "all", "larger", "channel"] = "none"
    non_neuronal_channel: str | None = None
    non_neuronal_min_area_um2: float | None = Field(default=None, gt=0)
    non_neuronal_process_um: float = Field(default=0.0, ge=0, le=5000)
    bright_neurite_ridge: float | None = Field(default=None, gt=0, le=1000)
    neurite_reach_um: float | None = Field(default=None, gt=0)
    ridge_high: float = Field(default=8.0, gt=0, le=100)
    ridge_low: float = Field(default=3.0, gt=0, le=100)
    min_contrast: float = Field(default=0.0, ge=0, le=50)
    min_piece_ridge: float = Field(default=0.0, ge=0, le=100)
    faint_piece_max_um: float | None = Field(default=None, gt=0)
    spur_length_um: float = Field(default=3.0, ge=0, le=100)
    min_fragment_um: float = Field(default=5.0, ge=0, le=1000)
    background_radius_um: float = Field(default=40.0, gt=1, le=2000)
    bearing_threshold_um: float | None = Field(default=None, ge=0)
    saturation_level: float | None = Field(default=None, gt=0)
    min_cells_per_field: int = Field(default=1, ge=0)
    max_cells_per_field: int = Field(default=5000, ge=1)
    max_saturation_fraction: float = Field(default=0.05, ge=0, le=1)
    max_saturated_nuclei_pct: float = Field(default=25.0, ge=0, le=100)
    min_relative_focus: float = Field(default=0.5, ge=0, le=1)
    min_fields_for_focus: int = Field(default=8, ge=2)
    min_fine_structure: float = Field(default=0.0025, ge=0, le=1)
    max_debris_fraction: float = Field(default=0.5, ge=0, le=1)
    min_grey_levels: int = Field(default=64, ge=2)
    fragments_are_degeneration: bool = True
    exclude_on: tuple[Literal["empty", "cell_count", "saturation", "nuclei_saturation", "focus",
                              "fine_structure", "debris", "grey_levels"], ...] = (
        "empty", "cell_count", "focus")
    control_group: str | None = None
    dose_unit: str = "uM"
    ec_levels: tuple[Annotated[float, Field(gt=0, lt=100)], ...] = (50.0, 20.0)
    selectivity_level: float = Field(default=50.0, gt=0, lt=100)
    specific_hit_ratio: float = Field(default=4.0, ge=1)
    workers: int | None = Field(default=None, ge=1)

    @field_validator("nuclei_channel", "neurite_channel", "non_neuronal_channel", mode="before")
    @classmethod
    def _channel_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator("pattern", mode="before")
    @classmethod
    def _patterns(cls, v: Any) -> Any:
        if isinstance(v, str):
            return (v,)
        return tuple(v) or None if isinstance(v, list | tuple) else v

    def names_give(self, key: str) -> bool:
        """Whether the file-name pattern(s) have the placeholder ``{key}``."""
        return any("{" + key + "}" in p for p in self.pattern or ())

    @model_validator(mode="after")
    def _rules_complete(self) -> NeuriteParameters:
        if self.non_neuronal == "larger" and self.non_neuronal_min_area_um2 is None:
            raise ValueError("non_neuronal 'larger' needs non_neuronal_min_area_um2")
        if self.non_neuronal == "channel" and self.non_neuronal_channel is None:
            raise ValueError("non_neuronal 'channel' needs non_neuronal_channel")
        return self

    def settings(self) -> FieldSettings:
        """The image-analysis settings."""
        keys = FieldSettings.__dataclass_fields__
        return FieldSettings(**{k: getattr(self, k) for k in keys})


def count_endpoint(params: NeuriteParameters) -> str:
    """The endpoint of the cells counted per field: nuclei, or somata when no nucleus is imaged.

    Without a nuclear channel the cells counted are the cell bodies found in
    the neurite channel (neurons, by size and shape), not every nucleus: the
    EndpointTable, the fits and the report name them ``cell_body_count``.
    """
    return "cell_body_count" if params.nuclei_channel is None else "nuclei_count"


def no_neuron_in_view(params: NeuriteParameters) -> bool:
    """No nuclear channel and every soma a non-neuronal cell (co-culture, axon fields)."""
    return params.nuclei_channel is None and params.non_neuronal == "all"

"""Closed parameter model of the ``cipn`` assay (protocol templates + study overrides)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from neurotox.assays.cipn.updown import Filament, FilamentSet
from neurotox.io.cipn import TEST_COLUMNS

#: Chaplan et al. (1994) rat set: Semmes-Weinstein sizes 3.61-5.18 (0.4-15 g), δ = 0.224;
#: the nominal grams printed beside the size (0.4, 0.6, 1, 2, 4, 6, 8, 15) are markings too.
RAT_FILAMENTS = tuple(
    Filament(marking=m, force_g=f, log_units=lu, grams=g) for m, f, lu, g in (
        ("3.61", 0.407, 3.61, 0.4), ("3.84", 0.692, 3.84, 0.6), ("4.08", 1.202, 4.08, 1),
        ("4.31", 2.042, 4.31, 2), ("4.56", 3.631, 4.56, 4), ("4.74", 5.495, 4.74, 6),
        ("4.93", 8.511, 4.93, 8), ("5.18", 15.136, 5.18, 15)))

#: Latency tests and their endpoints.
LATENCY_TESTS = {"hot_plate": "hot_plate", "tail_flick": "tail_flick",
                 "hargreaves": "hargreaves", "cold_plate": "cold_plate"}


class TemperatureCorrection(BaseModel):
    """Linear NCV temperature correction: ``v + per_degree × (reference_c − recorded)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_c: float = Field(ge=20, le=42)
    per_degree: float = Field(gt=0, le=5, description="m/s per °C")


class CipnParameters(BaseModel):
    """Parameters of the peripheral neuropathy panel.

    Attributes
    ----------
    test
        Test of sheets without a ``test`` column (wide lab sheets).
    filaments
        The von Frey set, weakest first (marking, force in g, log units).
    out_of_range
        Up-down series of one response kind only (all X / all O): ``censor`` (the
        weakest / strongest filament's force, left- / right-censored for the
        statistics), ``limit`` (that force as an observed value) or ``exclude``.
    sudo_offset
        SUDO adjustment in filament steps (Bonin 2014: 0.5).
    cutoff_s
        Cut-off per latency test (s); a latency equal to it is censored.
    baseline
        Timepoint label of the baseline session (for %MPE and the covariate).
    baseline_covariate
        Emit each threshold's baseline as ``<endpoint>_baseline`` at every later
        timepoint, so the per-timepoint comparisons are ANCOVAs on baseline.
    cold_plate_measure
        ``latency`` (s to first response, censored at the cut-off) or ``count``.
    acetone_aggregate
        ``sum`` or ``mean`` of the application scores.
    evf_trim
        Electronic von Frey: ``none`` or ``minmax`` (drop the lowest and highest of
        >= 4 trials).
    ncv_temperature_correction
        Optional linear correction to a reference temperature.
    filament_labels
        How sheets name filaments: ``number`` (1 = weakest), ``marking`` (the
        marking or nominal grams), or ``auto``: decided per sheet from the cells
        that can be read one way only; a sheet whose every cell can be read both
        ways (``1``, ``2``, ``6`` in the mouse set) is refused.
    timepoint_prefix
        Put before numeric timepoint labels (``day`` → ``day7``).
    sheet
        Worksheet of xlsx inputs.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    test: Literal[tuple(TEST_COLUMNS)] | None = None  # type: ignore[valid-type]
    filaments: tuple[Filament, ...] = Field(default=RAT_FILAMENTS, min_length=2)
    out_of_range: Literal["censor", "limit", "exclude"] = "censor"
    sudo_offset: float = Field(default=0.5, gt=0, le=1)
    cutoff_s: dict[Literal[tuple(LATENCY_TESTS)], float] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {"hot_plate": 30.0, "tail_flick": 10.0, "hargreaves": 20.0,
                                 "cold_plate": 60.0})
    baseline: str | None = None
    baseline_covariate: bool = False
    cold_plate_measure: Literal["latency", "count"] = "latency"
    acetone_aggregate: Literal["sum", "mean"] = "sum"
    evf_trim: Literal["none", "minmax"] = "none"
    ncv_temperature_correction: TemperatureCorrection | None = None
    filament_labels: Literal["auto", "number", "marking"] = "auto"
    timepoint_prefix: str = ""
    sheet: str | None = None

    @field_validator("filaments")
    @classmethod
    def _ordered(cls, v: tuple[Filament, ...]) -> tuple[Filament, ...]:
        FilamentSet(filaments=v)
        return v

    @field_validator("cutoff_s")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for test, cut in v.items():
            if not cut > 0:
                raise ValueError(f"cut-off of {test} must be > 0 s, found {cut!r}")
        return v

    @property
    def filament_set(self) -> FilamentSet:
        """The filaments as a :class:`FilamentSet`."""
        return FilamentSet(filaments=self.filaments)

"""Settings of a zebrafish screen: many chemicals, each against its own vehicle.

:class:`ScreenParameters` extends the locomotion settings
(:class:`~neurotox.assays.zebrafish.params.ZebrafishParameters`: schedule, bins,
larva-level exclusion rules) with the screen's group rules and the developmental
morphology endpoints. Closed like every settings model: a typo is an error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from neurotox.assays.zebrafish.params import ZebrafishParameters, chemical_text

SCREEN_ASSAY = "zebrafish_screen"
MORPHOLOGY_ASSAY = "zebrafish_morphology"


def endpoint_name(code: str) -> str:
    """Registry name of a lab call code: ``PE__`` → ``zf_pe``, ``TOT_MORT`` → ``zf_tot_mort``."""
    return "zf_" + code.rstrip("_").lower()


def _default_aggregates() -> dict[str, tuple[str, ...]]:
    m120 = ("YSE_", "AXIS", "EYE_", "SNOU", "JAW_", "OTIC", "PE__", "BRAI", "SOMI", "PFIN",
            "CFIN", "PIG_", "CIRC", "TRUN", "SWIM", "NC__", "CRAN", "EDEM", "MUSC", "LTRK",
            "BRN_", "SKIN")
    return {"ANY24": ("MO24", "DP24", "SM24", "NC24"),
            "TOT_MORT": ("MO24", "MORT"),
            "ANY_MALFORMATION": ("NC24", *m120),
            "ANY120": ("MO24", "DP24", "SM24", "NC24", "MORT", *m120, "TR__", "TCHR"),
            "ANY_EFFECT": ("MO24", "DP24", "SM24", "NC24", "MORT", *m120, "TR__", "TCHR")}


class ScreenParameters(ZebrafishParameters):
    """Parameters of a whole zebrafish screen (locomotion and/or morphology).

    Attributes
    ----------
    experimental_group
        What a larva's experimental group is: ``egid`` (the file's experimental-group
        ID), ``plate``, or ``auto`` (egid when the file has one, else the plate).
        Every chemical × concentration is compared with the vehicle wells of its own
        experimental group(s).
    viability_min, viability_min_control
        (inherited) Group rules: a chemical × concentration group within an
        experimental group is excluded when fewer than ``viability_min`` of its
        larvae are usable; a whole experimental group when fewer than
        ``viability_min_control`` of its vehicle larvae are usable (EPA: 75 %, 85 %).
    chemicals
        Chemicals to analyse (text; numbers are read as text); empty = all.
    vehicle_names
        Chemical names that mark vehicle wells (besides ``wllt = v`` or
        concentration 0), e.g. ``DMSO``.
    screen_endpoints
        Locomotion endpoints compared with vehicle per chemical.
    morphology_aggregates
        Aggregate endpoint → the calls it combines (1 if any is 1; 0 if none is 1
        and one is 0; missing otherwise). Calls the table lacks are skipped.
    morphology_mask
        Call → calls set to "not examined" when it is 1 (``*`` = every other call),
        e.g. a larva dead at 24 hpf (``MO24``) is not scored at 120 hpf.
    do_not_count
        Flags that remove the well from every endpoint (``DNC_``).
    morphology_excludes_behaviour
        Larvae with any call (dead, malformed) are excluded from locomotion.
    morphology_bmd
        Which morphology endpoints get a dichotomous BMD: ``affected`` (a treated
        group above its vehicle), ``all`` or ``none``.
    bmr
        Benchmark response (extra risk) of the dichotomous BMDs.
    fisher_alternative
        Fisher exact vs vehicle: ``greater`` (higher incidence) or ``two-sided``.
    min_bmd_concentrations
        Concentrations (vehicle included) needed for a BMD.

    """

    experimental_group: Literal["auto", "plate", "egid"] = "auto"
    chemicals: tuple[str, ...] = ()
    vehicle_names: tuple[str, ...] = ("DMSO", "vehicle", "Vehicle", "control", "Control")
    screen_endpoints: tuple[str, ...] = ("total_distance", "distance_phase", "auc_light",
                                         "auc_dark")
    morphology_aggregates: dict[str, tuple[str, ...]] = Field(
        default_factory=_default_aggregates)
    morphology_mask: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {
        "MO24": ("*",)})
    do_not_count: tuple[str, ...] = ("DNC_",)
    morphology_excludes_behaviour: bool = True
    morphology_bmd: Literal["affected", "all", "none"] = "affected"
    bmr: float = Field(default=0.1, gt=0, lt=1)
    fisher_alternative: Literal["greater", "two-sided"] = "greater"
    min_bmd_concentrations: int = Field(default=3, ge=3)

    @field_validator("chemicals", mode="before")
    @classmethod
    def _chemicals_text(cls, v: object) -> object:
        if isinstance(v, str | int | float):
            v = [v]
        return [chemical_text(c) for c in v] if isinstance(v, list | tuple) else v

    @model_validator(mode="after")
    def _aggregate_names(self) -> ScreenParameters:
        from neurotox.endpoints import registry

        unknown = sorted(a for a in self.morphology_aggregates
                         if endpoint_name(a) not in registry())
        if unknown:
            raise ValueError(f"morphology_aggregates: {unknown} are not registered morphology "
                             "endpoints (known aggregates: ANY24, ANY120, TOT_MORT, "
                             "ANY_MALFORMATION, ANY_EFFECT)")
        return self

"""Closed parameter models of the neurochemistry assays (protocol templates + study overrides).

Defaults follow ICH M10 (2022) for ligand-binding assays: calibration
standards within ±20 % of nominal (±25 % at the LLOQ and ULOQ), at least 75 %
and at least six standard levels passing, quality controls within ±20 % with
at least two thirds passing, replicate CV ≤ 20 %.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Matrix = str


class StandardExclusion(BaseModel):
    """A standard (level or well) left out of the curve fit, with the reason.

    Attributes
    ----------
    analyte
        Analyte as the export spells it, or its registry key; ``*`` = every analyte.
    level
        Standard level (``Standard16``, ``S1``, ``STD3``) or a well (``A10``).
    reason
        Why (recorded in the standards table and the manifest).
    plate
        Only on this plate (default: every plate).

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    analyte: str = Field(min_length=1)
    level: str = Field(min_length=1)
    reason: str = Field(min_length=3)
    plate: str | None = None


class SampleMapping(BaseModel):
    """How export sample IDs become study subjects, matrices and time points.

    Used when no sample sheet is given: ``pattern`` is a regular expression with
    named groups ``subject`` (required), ``matrix`` and ``timepoint`` matched
    against the whole sample ID; ``matrix`` and ``timepoint`` give fixed values
    when the ID carries none.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = r"(?P<subject>.+)"
    matrix: str | None = None
    timepoint: str | None = None


class CommonParameters(BaseModel):
    """Sample mapping and normalisation shared by the immunoassay and cholinesterase assays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: SampleMapping = Field(default_factory=SampleMapping)
    fluid_matrices: tuple[str, ...] = ("serum", "plasma", "csf", "blood", "urine", "rbc",
                                       "erythrocytes", "whole_blood")
    normalisation: Literal["none", "protein", "tissue"] = "none"
    format: str | None = None


class ImmunoassayParameters(CommonParameters):
    """Parameters of the ``neurochem`` assay (multiplex bead assays and ELISA).

    Attributes
    ----------
    model
        Standard-curve model: ``5pl``, ``4pl``, ``linear`` or ``log-linear``.
    weighting
        ``none``, ``1/y``, ``1/y^2`` or ``1/variance`` (of replicate standards).
    curve_source
        ``refit`` the standards, or use the ``vendor``'s exported/printed curve.
    analyte
        Analyte key for single-analyte exports (ELISA, Gen5, plain tables).
    analytes
        Export analyte name → registered analyte key (wins over built-in aliases).
    ignore_analytes
        Export analyte names to leave out (noted).
    unit
        Concentration unit of the standards when the export names none.
    signal
        Gen5 read label to fit on (default: the blank-corrected read).
    exclude_standards
        Standards left out of the fit, each with a reason.
    recovery_limit, recovery_limit_at_limits
        Back-fit recovery limits (± %) of standards inside the range and at the
        LLOQ/ULOQ.
    cv_limit
        Replicate %CV limit of standards (and samples, for the flag).
    min_standards_passing, min_standard_levels
        Curve acceptance: fraction and number of standard levels passing.
    lod_k
        LOD = mean(blank) + k·SD(blank) in signal, converted by the curve.
    control_recovery
        Acceptance range (% of nominal) of controls whose export gives no range.
    min_controls_passing
        Fraction of control results that must pass.
    reject_failed_plates
        Exclude every sample value of an analyte on a plate that fails acceptance.
    exclude_high_cv_samples
        Exclude samples whose replicate CV exceeds ``cv_limit`` (else flag only).
    high_cv_share
        Share of a plate's samples with replicates above which the run note counting
        those over ``cv_limit`` is a warning (else a note).
    exclude_hook_standards
        Leave the highest standards out of the fit when their signal falls (hook).
    hook_dilution_ratio
        A sample whose back-calculated concentration rises by more than this factor
        with a higher dilution is flagged for a hook (prozone) effect.
    above_uloq
        ``censor`` values above the ULOQ at ULOQ × dilution (right-censored) or
        ``exclude`` them.

    """

    model: Literal["4pl", "5pl", "linear", "log-linear"] = "5pl"
    weighting: Literal["none", "1/y", "1/y^2", "1/variance"] = "1/y^2"
    curve_source: Literal["refit", "vendor"] = "refit"
    analyte: str | None = None
    analytes: dict[str, str] = Field(default_factory=dict)
    ignore_analytes: tuple[str, ...] = ()
    unit: str | None = None
    signal: str | None = None
    exclude_standards: tuple[StandardExclusion, ...] = ()
    recovery_limit: float = Field(default=20.0, gt=0, le=100)
    recovery_limit_at_limits: float = Field(default=25.0, gt=0, le=100)
    cv_limit: float = Field(default=20.0, gt=0, le=200)
    min_standards_passing: float = Field(default=0.75, ge=0, le=1)
    min_standard_levels: int = Field(default=6, ge=2)
    lod_k: float = Field(default=3.0, gt=0)
    control_recovery: tuple[float, float] = (80.0, 120.0)
    min_controls_passing: float = Field(default=2 / 3, ge=0, le=1)
    reject_failed_plates: bool = True
    exclude_high_cv_samples: bool = False
    high_cv_share: float = Field(default=0.1, ge=0, le=1)
    exclude_hook_standards: bool = True
    hook_dilution_ratio: float = Field(default=1.3, gt=1)
    above_uloq: Literal["censor", "exclude"] = "censor"

    @model_validator(mode="after")
    def _limits(self) -> ImmunoassayParameters:
        lo, hi = self.control_recovery
        if not 0 < lo < 100 < hi:
            raise ValueError(f"control_recovery must be [low, high] around 100, found "
                             f"[{lo:g}, {hi:g}]")
        if self.recovery_limit_at_limits < self.recovery_limit:
            raise ValueError("recovery_limit_at_limits must be >= recovery_limit")
        return self


class CholinesteraseParameters(CommonParameters):
    """Parameters of the ``cholinesterase`` assay (Ellman kinetic plate reads).

    Attributes
    ----------
    extinction_coefficient
        Molar absorptivity of the TNB anion (M⁻¹ cm⁻¹) at the read wavelength.
    path_length_cm
        Light path through the well (1 for path-length-corrected reads).
    well_volume_ul, sample_volume_ul
        Reaction volume and the volume of (diluted) sample in it.
    window_s
        Reads used for the rate, [start, end] in seconds (default: all).
    min_r2
        Rates whose linear fit has a lower R² are flagged (non-linear kinetics).
    cv_limit
        Replicate %CV above which a sample is flagged.
    percent_of_control
        Also emit activity as % of the concurrent control mean.

    References
    ----------
    Ellman G.L. et al. (1961) Biochem. Pharmacol. 7:88-95. Eyer P. et al. (2003)
    Anal. Biochem. 312:224-227 (ε of TNB 14 150 M⁻¹ cm⁻¹ at 412 nm).

    """

    extinction_coefficient: float = Field(default=14150.0, gt=0)
    path_length_cm: float = Field(default=1.0, gt=0, le=10)
    well_volume_ul: float = Field(default=200.0, gt=0)
    sample_volume_ul: float = Field(default=10.0, gt=0)
    window_s: tuple[float, float] | None = None
    min_r2: float = Field(default=0.98, ge=0, le=1)
    cv_limit: float = Field(default=20.0, gt=0)
    percent_of_control: bool = True
    normalisation: Literal["none", "protein", "tissue"] = "tissue"

    @model_validator(mode="after")
    def _volumes(self) -> CholinesteraseParameters:
        if self.sample_volume_ul > self.well_volume_ul:
            raise ValueError("sample_volume_ul must not exceed well_volume_ul")
        if self.window_s is not None and not 0 <= self.window_s[0] < self.window_s[1]:
            raise ValueError("window_s must be [start, end] seconds with start < end")
        return self

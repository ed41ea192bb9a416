"""Settings of the per-field image analysis, in physical units.

The image operations take pixel quantities; :class:`FieldSettings` holds the
physical values (µm) a protocol speaks in and converts them once the pixel
size of a field is known. The assay's pydantic parameter model builds one of
these; the imaging layer itself knows nothing about protocols.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FieldSettings:
    """Physical settings of the field analysis.

    Attributes
    ----------
    nucleus_diameter_um
        Typical nuclear diameter; sets smoothing, declumping distance and the
        default neurite-bearing threshold (2 x this value).
    min_nucleus_area_fraction, max_nucleus_area_fraction
        Nuclei smaller/larger than these fractions of the typical nuclear area
        (a disc of ``nucleus_diameter_um``) are rejected (debris, clumps).
    nucleus_threshold_factor
        Each nucleus is outlined at this fraction of its own peak height above
        background (0.5 = half maximum), so dim and bright nuclei get their size.
    cell_body_margin_um
        How far a cell body may extend beyond its nucleus.
    neurite_width_um
        Typical neurite width; sets the ridge-filter scale and the margin
        along cell outlines in which skeleton is not neurite.
    neurite_max_width_um
        Widest neurites to trace whole (e.g. proximal dendrites of primary
        neurons); adds a second, coarser ridge scale. None: the neurite width.
    soma_min_width_um
        Bright structures at least this wide (full width at half maximum) are
        bodies, not neurites: they are removed before the ridge filter, so
        their outlines are not traced (about 4-6 neurite widths).
    soma_min_area_um2
        Wide structures of at least this area are somata (cell bodies in the
        neurite channel); smaller wide spots are varicosities, crossings or
        debris and stay part of the neurites they lie on.
    soma_min_core_um
        Somata must also hold a disk this wide (µm; the structure's largest
        inscribed diameter), e.g. 5 µm where dendrites reach 3 µm: the wide halo that
        runs along a bright thick dendrite is a strip, not a soma, however long.
        None: area alone decides.
    soma_split_depth_um
        Split touching somata (:func:`neurotox.imaging.somata.split_somata`):
        a body is cut between two cores, peaks of its distance to the outside
        that stand this far (µm, in radius) above the neck between them, each
        at least ``soma_min_width_um`` across and meeting along a contact at
        least ``neurite_max_width_um`` (else ``neurite_width_um``) wide.
        None: no split.
    spread_min_width_um
        Two-channel fields: marker-positive regions of the neurite channel at
        least this wide (a disc this wide fits inside) are spread cell area,
        cell body and not neurite (flat, substrate-adherent cells whose
        cytoskeletal fibres would be traced as a honeycomb); wider than a
        neuronal soma. None = off. See :mod:`neurotox.imaging.spread`.
    non_neuronal
        Which somata of the neurite channel are non-neuronal cells: ``none``,
        ``all``, ``larger`` (area above ``non_neuronal_min_area_um2``) or
        ``channel`` (a marker channel); see
        :class:`neurotox.imaging.somata.NonNeuronal`.
    non_neuronal_min_area_um2
        ``larger`` rule: somata with a larger area are non-neuronal.
    non_neuronal_process_um
        Skeleton pieces that touch a non-neuronal cell, touch no neuron and
        no image border, and are shorter than this are that cell's processes,
        not neurite (0 = keep them).
    bright_neurite_ridge
        Unattached pieces whose ridge response, averaged along them, reaches
        this many noise sigmas are neurites wherever they lie: the
        ``non_neuronal_process_um`` rule does not drop them (brighter than a
        non-neuronal cell's own processes) and they are followed across the
        cells they meet like pieces longer than ``non_neuronal_process_um``
        (None = off).
    neurite_reach_um
        Skeleton farther than this along the skeleton from every cell body is
        not attributed to a cell (counted as unattached); None = no limit.
    ridge_high, ridge_low
        Hysteresis thresholds of the ridge response, in robust noise units
        (median + k x MAD-sigma of the ridge image).
    min_piece_ridge
        Unattached skeleton pieces whose ridge response, averaged along the
        piece, is below this many noise sigmas (the units of ``ridge_high``)
        are dropped: a neurite stands out of the noise along its length, not
        only at the one point that passed ``ridge_high`` (0 = off).
    faint_piece_max_um
        The ``min_piece_ridge`` rule spares pieces at least this long (a long
        continuous line is a neurite however faint); None = no limit.
    min_contrast
        Neurite pixels must exceed the background by this many pixel-noise
        sigmas (0 = off; 2-3 for dense or beaded axon fields).
    spur_length_um
        Terminal skeleton branches shorter than this are pruned.
    min_fragment_um
        Unattached skeleton pieces shorter than this are discarded as debris.
    background_radius_um
        Radius of the rolling background estimate (larger than any cell body).
    bearing_threshold_um
        A cell is neurite-bearing when its longest neurite is at least this
        long; ``None`` means 2 x ``nucleus_diameter_um``.
    saturation_level
        Grey value counted as saturated; ``None`` means the dtype maximum.

    """

    nucleus_diameter_um: float = 10.0
    min_nucleus_area_fraction: float = 0.25
    max_nucleus_area_fraction: float = 4.0
    nucleus_threshold_factor: float = 0.5
    cell_body_margin_um: float = 5.0
    neurite_width_um: float = 1.5
    neurite_max_width_um: float | None = None
    soma_min_width_um: float = 8.0
    soma_min_area_um2: float = 80.0
    soma_min_core_um: float | None = None
    soma_split_depth_um: float | None = None
    spread_min_width_um: float | None = None
    non_neuronal: str = "none"
    non_neuronal_min_area_um2: float | None = None
    non_neuronal_process_um: float = 0.0
    bright_neurite_ridge: float | None = None
    neurite_reach_um: float | None = None
    ridge_high: float = 8.0
    ridge_low: float = 3.0
    min_contrast: float = 0.0
    min_piece_ridge: float = 0.0
    faint_piece_max_um: float | None = None
    spur_length_um: float = 3.0
    min_fragment_um: float = 5.0
    background_radius_um: float = 40.0
    bearing_threshold_um: float | None = None
    saturation_level: float | None = None

    @property
    def bearing_threshold(self) -> float:
        """Neurite-bearing threshold in µm."""
        if self.bearing_threshold_um is not None:
            return self.bearing_threshold_um
        return 2.0 * self.nucleus_diameter_um

    def __post_init__(self) -> None:
        from neurotox.imaging.somata import NonNeuronal

        NonNeuronal(self.non_neuronal)      # ValueError for an unknown rule

    def as_dict(self) -> dict[str, float | None]:
        """Plain dict of the settings (for manifests)."""
        return asdict(self)

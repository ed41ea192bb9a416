"""Image operations for neurite outgrowth (no assay logic).

Array contract: 2-D images indexed (row, column); computations in ``float32``;
integer grey values are kept as measured (no rescaling). Function arguments in
pixels unless their name ends in ``_um``; every length and area in outputs is
in µm / µm². Image functions take the image first and options keyword-only.

Pipeline of one field (:func:`analyse_field`): background correction →
nuclei (noise floor, each outlined at half its peak, touching ones split by a
distance-transform watershed, size filter) → cell bodies
seeded by nuclei → ridge filter + hysteresis → skeleton graph (skan) → spur
pruning → attribution of skeleton pixels to cells along the skeleton →
per-cell and per-field metrics and QC measures.
"""

from neurotox.imaging.field import FieldLabels, FieldResult, analyse_field
from neurotox.imaging.params import FieldSettings

__all__ = ["FieldLabels", "FieldResult", "FieldSettings", "analyse_field"]

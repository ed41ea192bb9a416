"""Image operations for neurite outgrowth (no assay logic).

Array contract: 2-D images indexed (row, column); computations in ``float32``;
integer grey values are kept as measured (no rescaling). Function arguments in
pixels unless their name ends in ``_um``; every length and area in outputs is
in µm / µm². Image functions take the image first and options keyword-only.

Pipeline of one field (:func:`analyse_field`): background correction →
wide structures (grey opening at the soma width) and the thin rest → ridge
filter at the neurite scale + hysteresis → somata in the neurite channel by
size and shape, which of them are non-neuronal → nuclei (noise floor, each
outlined at half its peak, touching ones split, size filter) and cell bodies
seeded by nuclei, or the neuronal somata when there is no nuclear channel →
skeleton outside bodies and their outlines, spur pruning → attribution of
skeleton pixels to cells along the skeleton, processes of non-neuronal cells
removed → per-cell and per-field metrics and QC measures. Whole-image
NumPy/SciPy/scikit-image operations (no per-object Python loops over skeleton
paths); Gaussian smoothing and watershed flooding run as compiled twins of
SciPy's and scikit-image's, with the same values (:mod:`neurotox.imaging.compiled`,
compiled once per machine).
"""

from neurotox.imaging.field import FieldLabels, FieldResult, analyse_field
from neurotox.imaging.params import FieldSettings

__all__ = ["FieldLabels", "FieldResult", "FieldSettings", "analyse_field"]

"""Neurite outgrowth: plate images to per-cell, per-field, per-well metrics and EndpointTable.

Flow: :func:`neurotox.io.plates.scan_plate` indexes the plate folder and
:func:`.plate.plan_fields` builds one task per field → :func:`.fields.run_fields`
analyses every field with :func:`neurotox.imaging.analyse_field` (in-process, in a
process pool, or on a Dask cluster through :mod:`neurotox.parallel`: same function,
same results) → :func:`.tables.apply_qc` flags and excludes fields by the
protocol's rules → :func:`.tables.well_table` aggregates included fields per well →
wells are joined to the plate layout and normalised to the vehicle-control wells of
the same plate (:mod:`.layout`) and fitted with Hill curves
(:func:`.response.concentration_response`) → EndpointTable. :func:`.plate.analyse_plate`
runs it all; :mod:`.plugin` registers the ``neurite_outgrowth`` assay.

Modules: ``params`` (settings model, endpoint names), ``fields`` (field tasks and
their parallel run), ``tables`` (field/cell/well tables, QC, EndpointTable rows),
``layout`` (layout join, normalisation), ``response`` (concentration-response,
selectivity), ``plate`` (planning and running a plate), ``plugin`` (study plug-in).
"""

from neurotox.assays.neurite import plugin  # noqa: F401  (registers neurite_outgrowth)
from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.assays.neurite.plate import NeuriteRun, analyse_plate

__all__ = ["NeuriteParameters", "NeuriteRun", "analyse_plate"]

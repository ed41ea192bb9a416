"""What a neurite run measures and compares: runs without groups, unmeasured columns, units.

* A run with neither a layout, ``{group}`` in the pattern nor a study measures
  every image as one replicate of group ``all`` (:func:`measure_only_tasks`).
* Nuclei-only fields measure no neurite, and protocols that can have no neuron
  in view measure no nuclei count or per-cell value: those columns are emptied,
  not zero (:func:`unmeasured_emptied`).
* A layout header may give the concentration unit (:func:`layout_unit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from neurotox.assays.neurite.fields import FieldTask
from neurotox.assays.neurite.layout import MEASURE_GROUP, NO_DOSE, GroupInfo
from neurotox.assays.neurite.params import WELL_ENDPOINTS, NeuriteParameters
from neurotox.assays.neurite.tables import NO_NEURON_UNMEASURED, no_neuron_in_view
from neurotox.errors import InputError


def layout_unit(layout: pd.DataFrame | None, params: NeuriteParameters,
                 groups: dict[str, GroupInfo] | None, notes: list[str]) -> NeuriteParameters:
    """The parameters with the concentration unit the layout's header gives (``conc (nM)``).

    Without a study the layout's unit replaces the protocol's ``dose_unit``
    (noted); with a study its groups' unit must be the same.
    """
    unit = None if layout is None else layout.attrs.get("concentration_unit")
    if unit is None or unit == params.dose_unit:
        return params
    if groups is not None:
        units = sorted({g.dose_unit for g in groups.values() if g.dose_unit != NO_DOSE})
        if units and units != [unit]:
            raise InputError(f"the layout gives concentrations in {unit}, the study's groups "
                             f"in {', '.join(units)}", path=layout.attrs.get("path"),
                             where="column 'concentration'")
        return params
    notes.append(f"concentration unit {unit} from the layout's column header (the protocol's "
                 f"dose_unit is {params.dose_unit})")
    return params.model_copy(update={"dose_unit": unit})


def measure_only_tasks(tasks: list[FieldTask], params: NeuriteParameters) -> list[FieldTask]:
    """The tasks of a run without groups: every image is one replicate of group ``all``.

    Wells named in the file names are kept (their fields are averaged as
    usual); otherwise each image is its own replicate (well ``all-<field>``, the field
    number zero-padded so that the wells sort in field order).
    """
    if params.control_group:
        raise InputError(f"control group {params.control_group!r} given, but the run has no "
                         "groups: give --layout, or {group} in --pattern",
                         where="--control (parameter 'control_group')")
    # the known naming schemes (no --pattern) all give the well
    per_image = params.pattern is not None and not (params.names_give("well")
                                                    or params.names_give("row"))
    width = len(str(max((t.source.field for t in tasks), default=1)))   # all-02 before all-10
    return [replace(t, source=replace(
        t.source, group=MEASURE_GROUP,
        well=f"{MEASURE_GROUP}-{t.source.field:0{width}d}" if per_image else t.source.well))
        for t in tasks]


#: Cell and well columns that hold neurite measures (not measured without a neurite channel).
NEURITE_COLUMNS = ("neurite_length_um", "n_neurites", "n_branch_points", "n_end_points",
                    "longest_neurite_um", "neurite_bearing", "unattached_neurite_length_um",
                    "total_neurite_length_um", "fragments_per_field", "mean_fragment_length_um",
                    "neurite_length_per_cell_um", "mean_neurite_length_per_cell_um",
                    "neurite_bearing_cells_pct", "branch_points_per_cell", "neurites_per_cell")


def unmeasured_emptied(cells: pd.DataFrame, wells: pd.DataFrame, params: NeuriteParameters
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cell and well tables with what the protocol cannot measure emptied (not zero).

    Nuclei-only fields measure no neurite; where no neuron can be in view
    (:func:`.tables.no_neuron_in_view`) a nuclei count of 0 and the per-cell
    values are not measurements either.
    """
    if params.neurite_channel is None:
        cells, wells = _emptied(cells, NEURITE_COLUMNS), _emptied(wells, NEURITE_COLUMNS)
    if no_neuron_in_view(params):
        wells = _emptied(wells, [WELL_ENDPOINTS[name] for name in NO_NEURON_UNMEASURED])
    return cells, wells


def _emptied(table: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``table`` with the named columns (those present) set to NaN."""
    present = [c for c in columns if c in table.columns]
    return table.assign(**{c: pd.Series(np.nan, index=table.index, dtype=float)
                           for c in present}) if present else table

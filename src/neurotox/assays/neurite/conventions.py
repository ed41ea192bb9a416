"""The neurite-outgrowth conventions that change results beyond rounding, said in words.

One sentence per rule in effect, naming the parameter that sets it (whichever
way it was set: a template, the study, the command line or the model's
default), so that the run notes, the manifest and the report's materials and
methods say how the numbers were obtained.
"""

from __future__ import annotations

from neurotox.assays.neurite.fields import DEBRIS_SHARE
from neurotox.assays.neurite.params import NeuriteParameters, no_neuron_in_view


def neurite_conventions(params: NeuriteParameters) -> list[str]:
    """Sentences on the image-analysis, QC and concentration-response rules of a run."""
    out = [] if params.neurite_channel is None else [_neurites(params), _cells(params)]
    out += [_qc(params), _response(params)]
    return out


def _neurites(p: NeuriteParameters) -> str:
    second = "" if p.neurite_max_width_um is None else \
        f" and a second scale up to {p.neurite_max_width_um:g} µm (neurite_max_width_um)"
    pieces = ""
    if p.min_piece_ridge > 0:
        spare = "" if p.faint_piece_max_um is None else \
            f", unless at least {p.faint_piece_max_um:g} µm long (faint_piece_max_um)"
        pieces += (f" Pieces whose ridge response averages under {p.min_piece_ridge:g} "
                   f"noise sigmas (min_piece_ridge) are dropped as debris{spare}.")
    if p.bright_neurite_ridge is not None:
        pieces += (f" Pieces averaging at least {p.bright_neurite_ridge:g} noise sigmas are "
                   "neurites wherever they lie (bright_neurite_ridge).")
    if p.min_contrast > 0:
        pieces = (f" Neurite pixels must also stand {p.min_contrast:g} pixel-noise sigmas "
                  f"above the background after smoothing (min_contrast).") + pieces
    return (f"Neurites: a smooth background under objects narrower than "
            f"{p.background_radius_um:g} µm is subtracted (background_radius_um); "
            f"structures wider than {p.soma_min_width_um:g} µm (soma_min_width_um) are "
            f"cell bodies, never neurite; a Hessian ridge filter at the neurite width "
            f"{p.neurite_width_um:g} µm (neurite_width_um){second}, thresholded by "
            f"hysteresis at {p.ridge_high:g} and {p.ridge_low:g} times the response of the "
            f"field's pixel noise (ridge_high, ridge_low). Length is measured on the "
            f"skeleton outside cell bodies and their outlines, by a corner-count estimator "
            f"(within about 1 % of Euclidean length); side branches shorter than "
            f"{p.spur_length_um:g} µm are pruned (spur_length_um) and pieces shorter than "
            f"{p.min_fragment_um:g} µm dropped as debris (min_fragment_um).{pieces}")


_NON_NEURONAL = {
    "none": "every cell body is a neuron (non_neuronal: none)",
    "all": "every cell body in the neurite channel is a non-neuronal cell (non_neuronal: all)",
    "larger": "cell bodies larger than {area:g} µm² are non-neuronal "
              "(non_neuronal: larger, non_neuronal_min_area_um2)",
    "channel": "non-neuronal cells are read from channel {channel} (non_neuronal: channel)",
}


def _cells(p: NeuriteParameters) -> str:
    who = _NON_NEURONAL[p.non_neuronal].format(area=p.non_neuronal_min_area_um2 or 0,
                                               channel=p.non_neuronal_channel)
    process = "" if p.non_neuronal == "none" or not p.non_neuronal_process_um else (
        f"; unattached pieces shorter than {p.non_neuronal_process_um:g} µm touching one "
        "non-neuronal cell are its processes, not neurite (non_neuronal_process_um)")
    reach = "" if p.neurite_reach_um is None else \
        f"; a cell owns neurite up to {p.neurite_reach_um:g} µm from its body (neurite_reach_um)"
    bearing = (p.bearing_threshold_um if p.bearing_threshold_um is not None
               else 2 * p.nucleus_diameter_um)
    bodies = ("cell bodies are the somata found in the neurite channel by size and shape"
              if p.nuclei_channel is None else
              f"cell bodies are grown from the nuclei by up to {p.cell_body_margin_um:g} µm "
              "(cell_body_margin_um)")
    if no_neuron_in_view(p):
        return (f"Cells: {bodies}; {who}{process}; no neuron is in view, so neurite is not "
                "given to cells and total neurite length per field is the measure.")
    return (f"Cells: {bodies}; {who}{process}{reach}; each piece of neurite is given to the "
            "cell body it touches, pieces reaching none are counted as unattached; a cell is "
            f"neurite-bearing when its longest neurite is at least {bearing:g} µm "
            "(bearing_threshold_um).")


def _qc(p: NeuriteParameters) -> str:
    excluding = ", ".join(p.exclude_on) or "none"
    return (f"Field QC: every rule flags a field with its measured value and only the rules "
            f"in exclude_on exclude it ({excluding}); cells per field "
            f"{p.min_cells_per_field}–{p.max_cells_per_field} (min/max_cells_per_field); "
            f"saturated pixels of the analysed channel over "
            f"{100 * p.max_saturation_fraction:g} % "
            f"(max_saturation_fraction); clipped nuclei over {p.max_saturated_nuclei_pct:g} % "
            f"(max_saturated_nuclei_pct); focus under {p.min_relative_focus:g} of the plate's "
            f"median, judged only on plates with at least {p.min_fields_for_focus} fields "
            f"(min_relative_focus, min_fields_for_focus); fine structure under "
            f"{100 * p.min_fine_structure:g} % (min_fine_structure: the share of the field's "
            f"strongest neurite-channel ridges at most 1.2 px across, judged on each field "
            f"alone; a Gaussian blur of 1.5 px leaves none); debris over "
            f"{100 * p.max_debris_fraction:g} % (max_debris_fraction: rejected objects' share of "
            f"the nuclear area, or without a nuclear channel debris' share of the traced "
            f"length); fewer than {p.min_grey_levels} grey levels in the analysed channel "
            f"(min_grey_levels).{_blank(p)}")


def _blank(p: NeuriteParameters) -> str:
    """The fixed rule on blank planes, for runs with both channels."""
    if p.neurite_channel is None or p.nuclei_channel is None:
        return ""
    return (" A field whose neurite plane is blank (constant, or no signal above its noise) "
            "while its nuclear plane shows cells, or whose nuclear plane is blank while its "
            "neurite plane holds signal, is excluded whatever exclude_on says: an "
            "acquisition failure, never a measured zero length or zero nuclei; but a blank "
            f"nuclear plane beside under {DEBRIS_SHARE:.0%} of the plate's typical field "
            "length of neurite is a dead field with debris, measured as empty.")


def _response(p: NeuriteParameters) -> str:
    levels = ", ".join(f"EC{x:g}" for x in p.ec_levels)
    what, call = "well values", (
        f"a compound is a specific neurite-outgrowth hit when its neurite "
        f"EC{p.selectivity_level:g} is reached in the tested range and the viability "
        f"EC{p.selectivity_level:g} is at least {p.specific_hit_ratio:g} times higher "
        f"(selectivity_level, specific_hit_ratio); without usable vehicle-control wells the "
        "call is not evaluable")
    if no_neuron_in_view(p):
        what, call = "total neurite length per field", "no selectivity call is made (no " \
            "nuclear channel: no viability measure)"
    elif p.neurite_channel is None:
        what, call = "nuclei counts", "no selectivity call is made (no neurite channel)"
    elif p.nuclei_channel is None:
        call += ("; without a nuclear channel the viability read-out is cell_body_count, the "
                 "cell bodies found in the neurite channel (neurons only, not every cell)")
    fragments = "" if p.fragments_are_degeneration else (
        " Unattached pieces are whole neurites broken where they cross cells, not "
        "degeneration: neurite_fragments is excluded from statistics "
        "(fragments_are_degeneration: false).")
    return (f"Concentration-response: {what} as percent of the mean of the "
            f"vehicle-control wells of the same plate and timepoint; four-parameter "
            f"log-logistic fits with {levels} (ec_levels) and 95 % delta-method intervals; "
            f"{call}.{fragments}")

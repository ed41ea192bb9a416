"""The neurite rules that change numbers are said from the effective parameters."""

import pytest

from neurotox.assays.base import resolve_parameters
from neurotox.assays.neurite.conventions import neurite_conventions


@pytest.fixture
def shsy5y():
    return resolve_parameters("neurite-outgrowth-shsy5y")[1]


def test_two_channel_protocol_states_widths_qc_and_the_selectivity_call(shsy5y):
    said = neurite_conventions(shsy5y)
    assert [s.split(":")[0] for s in said] == ["Neurites", "Cells", "Field QC",
                                               "Concentration-response"]
    assert "a Hessian ridge filter at the neurite width 1.5 µm (neurite_width_um)" in said[0]
    assert "structures wider than 8 µm (soma_min_width_um) are cell bodies" in said[0]
    assert "cell bodies are grown from the nuclei by up to 5 µm" in said[1]
    # the bearing threshold defaults to two nucleus diameters
    assert "longest neurite is at least 20 µm (bearing_threshold_um)" in said[1]
    assert "only the rules in exclude_on exclude it (empty, cell_count, focus)" in said[2]
    # the blank-plane exclusion is no protocol choice (stranger29 F13, stranger41 F2)
    assert said[2].endswith("or whose nuclear plane is blank while its neurite plane holds "
                            "signal, is excluded whatever exclude_on says: an acquisition "
                            "failure, never a measured zero length or zero nuclei; but a blank "
                            "nuclear plane beside under 5% of the plate's typical field length "
                            "of neurite is a dead field with debris, measured as empty.")
    assert said[3].endswith("the viability EC50 is at least 4 times higher (selectivity_level, "
                            "specific_hit_ratio); without usable vehicle-control wells the "
                            "call is not evaluable.")


def test_changed_parameters_change_the_sentences(shsy5y):
    params = shsy5y.model_copy(update={"exclude_on": ("empty",), "specific_hit_ratio": 3.0,
                                       "bearing_threshold_um": 15.0})
    said = neurite_conventions(params)
    assert "exclude it (empty);" in said[2]
    assert "at least 15 µm (bearing_threshold_um)" in said[1]
    assert "at least 3 times higher" in said[3]


def test_coculture_says_its_piece_rules_and_that_no_call_is_made():
    said = neurite_conventions(resolve_parameters("neurite-outgrowth-coculture")[1])
    assert ("Pieces whose ridge response averages under 8 noise sigmas (min_piece_ridge) are "
            "dropped as debris, unless at least 120 µm long (faint_piece_max_um).") in said[0]
    assert "at least 60 noise sigmas are neurites wherever they lie" in said[0]
    assert "unattached pieces shorter than 120 µm touching one non-neuronal cell" in said[1]
    assert "total neurite length per field is the measure" in said[1]
    assert said[3].startswith("Concentration-response: total neurite length per field as "
                              "percent of the mean")
    assert "no selectivity call is made" in said[3]
    assert "neurite_fragments is excluded from statistics" in said[3]


def test_nuclei_only_fields_have_no_neurite_sentences(shsy5y):
    said = neurite_conventions(shsy5y.model_copy(update={"neurite_channel": None}))
    assert [s.split(":")[0] for s in said] == ["Field QC", "Concentration-response"]
    assert "nuclei counts as percent" in said[1]


def test_single_channel_runs_say_nothing_of_blank_neurite_planes():
    said = neurite_conventions(resolve_parameters("neurite-outgrowth-coculture")[1])
    assert not any("acquisition failure" in s for s in said)

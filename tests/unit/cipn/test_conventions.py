"""The CIPN rules that change numbers are said for the tests a run read, from the parameters."""

import pytest

from neurotox.assays.base import resolve_parameters
from neurotox.assays.cipn.conventions import cipn_conventions


@pytest.fixture
def mouse_set():
    return resolve_parameters("von-frey-up-down")[1]


def test_up_down_states_the_set_delta_and_the_out_of_range_policy(mouse_set):
    said = cipn_conventions(mouse_set, {"von_frey_updown"})
    assert said[0].startswith("Von Frey filament set (filaments), marking (force, log units): "
                              "0.008 (0.0045 g, 1.65); 0.02 (0.023 g, 2.36);")
    assert said[0].endswith("; 6 (5.495 g, 4.74). A sheet's filament column is read as "
                            "numbers (1 = weakest) or markings as its cells that can only be "
                            "one say; a column whose every cell reads both ways is refused "
                            "(filament_labels: auto).")
    rat = resolve_parameters("cipn-paclitaxel-rat", {"filament_labels": "marking"})[1]
    rat_said = cipn_conventions(rat, {"von_frey_updown"})[0]
    assert "4.08 = 1 g (1.202 g, 4.08);" in rat_said
    assert rat_said.endswith(" Filaments in the sheets are read as markings (filament_labels: "
                         "marking).")
    # δ = (4.74 - 1.65) / 7, the legacy calculator's 0.441428571
    assert "δ = 0.441429 the mean step of the set in log units" in said[1]
    assert said[2] == ("Up-down series out of range (all X or all O) are left-censored at the "
                       "weakest filament's force (0.0045 g) when every response is X, "
                       "right-censored at the strongest's (5.495 g) when every response is O "
                       "(out_of_range: censor).")
    assert len(said) == 3   # no latency, acetone or NCV rule for a von Frey sheet


@pytest.mark.parametrize(("policy", "text"), [
    ("limit", "given the weakest filament's force (0.0045 g, every response X) or the "
              "strongest's (5.495 g, every response O) as an observed value (out_of_range: "
              "limit)."),
    ("exclude", "excluded (out_of_range: exclude)."),
])
def test_other_out_of_range_policies(mouse_set, policy, text):
    params = mouse_set.model_copy(update={"out_of_range": policy})
    assert cipn_conventions(params, {"von_frey_updown"})[2].endswith(text)


def test_paclitaxel_panel_latencies_mpe_ncv_and_covariate():
    cutoffs = {"hot_plate": 30, "tail_flick": 10, "hargreaves": 15, "cold_plate": 60}
    params = resolve_parameters("cipn-paclitaxel-rat", {"cutoff_s": cutoffs})[1]
    said = cipn_conventions(params, {"hargreaves", "tail_flick", "acetone", "ncv_caudal"})
    assert ("Latencies are averaged over the trials of an animal and session; a session with a "
            "trial at the cut-off is right-censored (cutoff_s: tail flick 10 s, hargreaves "
            "15 s); a session with fewer trials than most sessions of its sheet is noted.") in said
    assert ("%MPE (tail flick, hargreaves) = 100 × (latency − baseline) / (cut-off − baseline), "
            "against the animal's session 'day-1' (baseline).") in said
    assert ("Acetone test: the 0-3 scores of the applications are summed per animal and "
            "session (acetone_aggregate: sum); a session with fewer applications than most "
            "sessions of its sheet is not summed but excluded.") in said
    assert ("Nerve conduction velocities are corrected linearly to 37 °C: v + 1.5 m/s per °C "
            "× (37 °C − recorded) (ncv_temperature_correction).") in said
    assert said[-1] == ("Thresholds after the baseline session 'day-1' are compared with "
                        "control by ANCOVA on the animal's baseline value (baseline_covariate, "
                        "baseline).")
    assert not any(s.startswith("Von Frey") for s in said)

"""The battery rules that change numbers are said from the effective parameters."""

import pytest

from neurotox.assays.base import resolve_parameters
from neurotox.assays.battery.conventions import (
    brain_weight_conventions,
    fob_conventions,
    motor_activity_conventions,
    neuropathology_conventions,
    startle_conventions,
)


def _params(name, **changes):
    return resolve_parameters(name)[1].model_copy(update=changes)


def test_motor_activity_states_habituation_and_the_asymptote_rule():
    (said,) = motor_activity_conventions(_params("motor-activity-standard"))
    assert "habituation % = 100 x (1 - last interval / first interval)" in said
    assert "Intervals longer than 10 min are reported as a guideline deviation" in said
    assert "differs by at most 10% of its first interval's mean (asymptote_tolerance)" in said
    (said,) = motor_activity_conventions(_params("motor-activity-standard",
                                                 asymptote_tolerance=0.2))
    assert "at most 20% of" in said


def test_fob_and_startle_say_their_trial_rules():
    assert "fewer than 2 trial(s) exclude the value (min_trials)" in \
        fob_conventions(_params("fob-standard"))[0]
    (said,) = startle_conventions(_params("startle-standard", min_trials_per_block=3))
    assert "a block with fewer than 3 such trial(s) is excluded (min_trials_per_block)" in said
    assert "prepulse inhibition % = 100 x (1 - mean amplitude of prepulse+pulse trials / " \
           "mean amplitude of pulse-alone trials)" in said


@pytest.mark.parametrize(("ancova", "text"), [
    (True, "an ANCOVA on terminal body weight per sex is run"),
    (False, "no ANCOVA on body weight is run (ancova: false)")])
def test_brain_weight_says_the_ratio_the_ancova_and_the_ranges(ancova, text):
    (said,) = brain_weight_conventions(_params("brain-weight-standard", ancova=ancova),
                                       "plausible weights: body 2-1500 g (rat)")
    assert said.startswith("Brain weight: relative brain weight = 100 x brain weight / "
                           "terminal body weight; ")
    assert text in said
    assert "(plausible weights: body 2-1500 g (rat); body_weight_range_g" in said


def test_neuropathology_says_who_was_examined():
    assert "examined: listed" in neuropathology_conventions(
        _params("neuropathology-standard"))[0]
    assert "each tissue's examined animals" in neuropathology_conventions(
        _params("neuropathology-standard", examined="per_tissue"))[0]
    every = _params("neuropathology-standard", examined="all")
    assert "every animal of the study (the subjects file) was examined, for every tissue, an " \
           "animal without a row in the findings file counting as examined without findings " \
           "(examined: all)" in neuropathology_conventions(every)[0]
    assert "every animal of the entry's cohort(s) perfusion was examined" in \
        neuropathology_conventions(every, ("perfusion",))[0]

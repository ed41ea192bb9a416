"""The zebrafish-screen rules that change numbers are said from the effective parameters."""

from neurotox.assays.zebrafish.conventions import screen_conventions
from neurotox.assays.zebrafish.screen_params import ScreenParameters


def test_a_locomotion_and_morphology_screen_says_design_exclusions_and_bmd():
    said = screen_conventions(ScreenParameters(), locomotion=True, morphology=True)
    assert [s.split(":")[0] for s in said] == ["Screen design", "Exclusions", said[2].split(":")[0],
                                               "Morphology"]
    assert said[2] == ("Larvae with any morphology call (dead, malformed) are excluded from "
                       "locomotion (morphology_excludes_behaviour: true).")
    assert "vehicle wells of its own experimental group (its experimental group's ID in the " \
           "file, else its plate; experimental_group)" in said[0]
    assert "wells flagged DNC_ are removed from every endpoint (do_not_count)" in said[0]
    assert "Fisher's exact test (greater; fisher_alternative)" in said[3]
    assert ("dichotomous BMDs at 0.1 extra risk (bmr) are fitted for the endpoints where a "
            "treated group is above its vehicle (morphology_bmd) with at least 3 "
            "concentrations, vehicle included (min_bmd_concentrations)") in said[3]


def test_a_morphology_only_screen_without_bmd():
    params = ScreenParameters(morphology_bmd="none", fisher_alternative="two-sided",
                              experimental_group="plate")
    said = screen_conventions(params, locomotion=False, morphology=True)
    assert len(said) == 2
    assert "(its plate; experimental_group)" in said[0]
    assert "(two-sided; fisher_alternative)" in said[1]
    assert said[1].endswith("no dichotomous BMD is fitted (morphology_bmd: none).")

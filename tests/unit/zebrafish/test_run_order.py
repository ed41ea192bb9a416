"""Zebrafish light/dark phases carry their place in the run (EndpointTable time_order)."""

from __future__ import annotations

from neurotox.assays.zebrafish.lpr import run_order
from neurotox.assays.zebrafish.metrics import PhaseWindow
from neurotox.timepoints import TimeOrder, is_pre_dose, time_order, unordered

# the zebrafish-lpr-tanguay run: an acclimation cycle, then three light/dark cycles
NAMES = ("acclimation_light", "acclimation_dark", "light1", "dark1", "light2", "dark2",
         "light3", "dark3")
WINDOWS = [PhaseWindow(name, i % 2 == 0, 180.0 * i, 180.0 * (i + 1))
           for i, name in enumerate(NAMES)]


def test_phases_and_transitions_in_run_order():
    ranks = run_order(WINDOWS)
    assert ranks["acclimation_light"] == 0 and ranks["dark3"] == 14
    assert ranks["acclimation_light>acclimation_dark"] == 1
    assert ranks["light1>dark1"] == 5 and ranks["dark1>light2"] == 7
    times = TimeOrder(ranks)
    assert times.order(reversed(NAMES)) == list(NAMES)
    assert times.unordered(NAMES) == []
    # the labels alone put every dark phase before every light phase: named, not trusted
    assert time_order(NAMES)[:3] == ["acclimation_dark", "acclimation_light", "dark1"]
    assert unordered(NAMES) == sorted(NAMES)


def test_a_dark_first_schedule_keeps_its_own_order():
    names = ("dark1", "light1", "dark2", "light2")
    wins = [PhaseWindow(n, i % 2 == 1, 600.0 * i, 600.0 * (i + 1)) for i, n in enumerate(names)]
    assert TimeOrder(run_order(wins)).order(names[::-1]) == list(names)


def test_the_exposed_acclimation_cycle_is_no_pre_dose_session():
    assert not any(is_pre_dose(n) for n in NAMES)

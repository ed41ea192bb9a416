"""analyse(pool=...) gives exactly the results of the serial run.

The simulated OECD TG 424 study has every path the pool splits: strata with
Dunnett, Jonckheere and incidence tests, mixed models over the motor-activity
bins (run as separate tasks) and the brain-weight ANCOVA (done after the strata).
"""

from __future__ import annotations

import pandas as pd

from neurotox.parallel import TaskPool
from neurotox.pipeline import analyse, collect_endpoints
from neurotox.simulate import get_simulator
from neurotox.study import load_study


def test_pool_gives_the_serial_results(tmp_path):
    get_simulator("oecd-424").write(tmp_path, 7)
    study = load_study(tmp_path / "study.yaml")
    table = collect_endpoints(study).table
    serial = analyse(table, study)
    with TaskPool(2) as pool:
        pooled = analyse(table, study, pool)
    assert (serial.decisions["timepoint"] == "ALL").sum() >= 2  # mixed models ran
    assert (serial.decisions["path"] == "ancova").any()
    pd.testing.assert_frame_equal(pooled.results, serial.results, check_exact=True)
    pd.testing.assert_frame_equal(pooled.decisions, serial.decisions, check_exact=True)

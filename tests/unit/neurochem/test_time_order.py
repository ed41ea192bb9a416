"""Neurochemistry time points ``<matrix>_<timepoint>`` placed in time by their timepoint part."""

from __future__ import annotations

import pandas as pd

from neurotox.assays.neurochem.subjects import with_time_order


def _samples(*labels: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"timepoint": f"{m}_{t}", "matrix": m, "time_part": t}
                         for m, t in labels])


def test_a_pre_dose_sample_comes_first_not_after_day_28():
    # stranger39 C4: 'serum_pre' sorted as a label followed 'serum_day28', so the pre-dose
    # serum was analysed as the last post-dose session
    samples = _samples(("serum", "day14"), ("serum", "pre"), ("serum", "day28"),
                       ("serum", "day7"), ("serum", "day7"))
    out = with_time_order(samples[["timepoint"]], samples)
    assert dict(zip(out["timepoint"], out["time_order"], strict=True)) == {
        "serum_day14": 2.0, "serum_pre": 0.0, "serum_day28": 3.0, "serum_day7": 1.0}


def test_two_matrices_keep_time_first_then_matrix():
    samples = _samples(("serum", "day7"), ("csf", "day7"), ("csf", "pre"), ("serum", "pre"))
    out = with_time_order(samples[["timepoint"]], samples)
    assert out.sort_values("time_order")["timepoint"].tolist() == [
        "csf_pre", "serum_pre", "csf_day7", "serum_day7"]


def test_timepoints_that_cannot_be_ordered_get_no_order_and_stay_for_the_warning():
    samples = _samples(("serum", "visit_a"), ("serum", "visit_b"))
    out = with_time_order(samples[["timepoint"]], samples)
    assert "time_order" not in out or out["time_order"].isna().all()
    one = _samples(("serum", "day7"))
    assert "time_order" not in with_time_order(one[["timepoint"]], one)

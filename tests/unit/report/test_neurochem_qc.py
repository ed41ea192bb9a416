"""The neurochemistry QC table flags an LOD above the LLOQ and an LOD from too few blanks."""

from __future__ import annotations

import pandas as pd

from neurotox.report.neurochem import qc_table
from neurotox.study import StudySpec

SPEC = StudySpec.model_validate({
    "study_id": "NC-1", "title": "t", "test_item": "X",
    "groups": [{"id": "C", "label": "Control", "dose": 0, "dose_unit": "mg/kg",
                "control": True}]})


def _curve(analyte: str, lloq: float, lod: float, blanks: int) -> dict:
    return {"plate": "P1", "analyte": analyte, "unit": "pg/mL", "model": "5pl",
            "weighting": "1/y^2", "r2": 0.999, "lloq": lloq, "uloq": 1000.0, "lod": lod,
            "lod_blanks": blanks, "lod_above_lloq": lod > lloq,
            "lod_few_blanks": blanks < 3, "standards_passing": 7, "standards_in_range": 7,
            "controls_passing": 2, "controls": 2, "hook": False, "accepted": True,
            "reasons": ""}


def test_lod_marks_and_footnote():
    curves = pd.DataFrame([_curve("FGF", 0.421, 2.97, 2), _curve("IL8", 26.3, 8.31, 2),
                           _curve("IL6", 0.714, 0.2, 4)])
    t = qc_table({"neurochem_curves": curves}, SPEC, 5)
    lod = {r.labels[1]: r.cells[4] for r in t.rows}
    assert [lod[a].text for a in ("FGF", "IL8", "IL6")] == ["2.97†‡", "8.31‡", "0.2"]
    assert lod["FGF"].numbers == {"lod": 2.97}
    assert t.footnotes[-1] == ("† LOD above the LLOQ: values below the LOD are reported as "
                               "'< LOD × dilution' (not quantified). ‡ LOD from fewer than 3 "
                               "blank wells: the SD of so few blanks is unreliable, and so is "
                               "the LOD.")


def test_no_footnote_when_no_lod_is_flagged():
    t = qc_table({"neurochem_curves": pd.DataFrame([_curve("IL6", 0.714, 0.2, 4)])}, SPEC, 1)
    assert not any(n.startswith("†") for n in t.footnotes)


def test_controls_without_nominal_are_shown_as_not_judged():
    judged = _curve("IL6", 0.714, 0.2, 4)
    mixed = {**_curve("IL8", 0.714, 0.2, 4), "controls_passing": 1, "controls": 1,
             "controls_not_judged": 1}
    none = {**_curve("IL10", 0.714, 0.2, 4), "controls_passing": 0, "controls": 0,
            "controls_not_judged": 2}
    t = qc_table({"neurochem_curves": pd.DataFrame([judged, mixed, none])}, SPEC, 1)
    cells = {r.labels[1]: r.cells[6].text for r in t.rows}
    assert cells == {"IL6": "2/2", "IL8": "1/1 (1 not judged)", "IL10": "— (2 not judged)"}

"""A developmental study that meets OECD TG 426 / EPA 870.6300 on paper has no deviations."""

import pandas as pd
import pytest
import yaml

from neurotox import endpoints
from neurotox.guidelines import check_study
from neurotox.study import load_study

GROUPS = [{"id": f"G{k}", "label": f"G{k}", "dose": d, "dose_unit": "mg/kg/day",
           **({"control": True} if d == 0 else {})} for k, d in enumerate([0, 1, 3, 10], 1)]


def dnt_study(tmp_path, n_litters=20, litter_unit="means"):
    subjects = pd.DataFrame([{"subject": f"{g['id']}L{li:02d}{s}", "group": g["id"], "sex": s,
                              "litter": f"{g['id']}L{li:02d}"}
                             for g in GROUPS for li in range(n_litters) for s in "MF"])
    subjects.to_csv(tmp_path / "subjects.csv", index=False)
    (tmp_path / "study.yaml").write_text(yaml.safe_dump({
        "study_id": "DNT-1", "title": "t", "test_item": "X", "guideline": "OECD TG 426",
        "groups": GROUPS, "subjects": "subjects.csv",
        "statistics": {"litter_unit": litter_unit}}))
    study = load_study(tmp_path / "study.yaml")
    recs = []
    dose = {g["id"]: g["dose"] for g in GROUPS}

    def add(endpoint, row, timepoint="NA", assay=None):
        recs.append({"assay": assay or endpoints.get(endpoint).assays[0], "endpoint": endpoint,
                     "subject": row.subject, "group": row.group, "dose": dose[row.group],
                     "dose_unit": "mg/kg/day", "sex": row.sex, "timepoint": timepoint,
                     "value": 1.0, "batch": row.litter, "source": "test"})

    for row in subjects.itertuples():
        add("dev_vaginal_opening_age" if row.sex == "F" else "dev_preputial_separation_age", row)
        for tp in ("PND13", "PND17", "PND21", "PND60"):
            add("motor_activity_total", row, tp)
        for tp in ("PND22", "PND60"):
            add("startle_amplitude_mean", row, tp)
        if int(row.litter[-2:]) < 10:
            for e in ("brain_weight", "np_any_finding", "morph_cortex_thickness"):
                add(e, row)
    return study, endpoints.from_records(recs, study_id="DNT-1")


@pytest.mark.parametrize("guideline", ["OECD TG 426", "EPA OPPTS 870.6300"])
def test_complete_dnt_design_has_no_deviations(tmp_path, guideline):
    study, table = dnt_study(tmp_path)
    study.spec = study.spec.model_copy(update={"guideline": guideline})
    assert check_study(study, table) == []


def test_too_few_litters(tmp_path):
    study, table = dnt_study(tmp_path, n_litters=12, litter_unit="mixed")
    dev = check_study(study, table)
    assert ("OECD TG 426 sexual maturation landmarks (neurodevelopmental): fewer than 20 "
            "litters/independent runs per group (group n: G1 12, G2 12, G3 12, G4 12)") in dev
    assert all("litter_unit" not in d for d in dev)

import json

import pandas as pd
import pytest

from neurotox import endpoints
from neurotox.assays.battery import neuropath_terms as terms
from neurotox.assays.battery.fob_items import DOMAINS, ITEMS
from neurotox.simulate.battery import PLANTED, write_study


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.column)
def test_every_fob_item_is_registered_with_its_type(item):
    ep = endpoints.get(item.endpoint)
    assert ep.data_type.value == item.data_type
    assert ep.unit == item.registry_unit
    assert "fob" in ep.assays
    assert item.domain in DOMAINS
    if item.kind == "ordinal":
        assert sorted(item.scale) == list(range(min(item.scale), max(item.scale) + 1))
        # the registry's domain is the sheet's scale: tables from elsewhere are held to it
        assert (ep.minimum, ep.maximum, ep.integer) == (min(item.scale), max(item.scale), True)
    if item.kind == "count":
        assert (ep.minimum, ep.maximum, ep.integer) == (0, None, True)
    if item.kind == "categorical":
        assert set(item.normal) < set(item.categories)


def test_fob_covers_every_domain_and_kind():
    assert {i.domain for i in ITEMS} == set(DOMAINS)
    assert {i.kind for i in ITEMS} == {"ordinal", "categorical", "presence", "count",
                                       "continuous"}


def test_neuropathology_terms_registered():
    for tissue, lesion in terms.pairs():
        assert endpoints.get(terms.endpoint_name(tissue, lesion)).data_type.value == "incidence"
        assert endpoints.get(terms.severity_name(tissue, lesion)).data_type.value == "ordinal"


@pytest.mark.parametrize("name, data_type, category, repeated", [
    ("motor_activity_counts", "continuous", "neurobehavioral", True),
    ("motor_activity_total", "continuous", "neurobehavioral", False),
    ("startle_amplitude_block", "continuous", "neurobehavioral", True),
    ("prepulse_inhibition_pct", "continuous", "neurobehavioral", False),
    ("brain_weight", "continuous", "structural", False),
    ("brain_weight_relative", "continuous", "structural", False),
    ("morph_cortex_thickness", "continuous", "structural", False),
    ("dev_vaginal_opening_age", "continuous", "neurodevelopmental", False),
])
def test_battery_entries(name, data_type, category, repeated):
    ep = endpoints.get(name)
    assert (ep.data_type.value, ep.category.value, ep.repeated_measures) == (
        data_type, category, repeated)


def test_simulator_is_deterministic_and_complete(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    truth = write_study(tmp_path / "a", seed=3)
    write_study(tmp_path / "b", seed=3)
    for name in ("fob.csv", "motor_activity.csv", "startle.csv", "brain_weights.csv",
                 "neuropathology_findings.csv", "subjects.csv", "study.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    subjects = pd.read_csv(tmp_path / "a" / "subjects.csv")
    assert subjects.groupby(["group", "sex"]).size().tolist() == [10] * 8
    assert {p["endpoint"] for p in truth["planted"]} == set(PLANTED)
    json.dumps(truth)
    for e in PLANTED:
        endpoints.get(e)


def test_simulate_cli(invoke, tmp_path):
    res = invoke("simulate", "oecd-424", "-o", tmp_path / "out", "--seed", "5")
    assert res.exit_code == 0, res.output
    doc = (tmp_path / "out" / "study.yaml").read_text()
    for protocol in ("fob-standard", "motor-activity-standard", "startle-standard",
                     "brain-weight-standard", "neuropathology-standard"):
        assert protocol in doc


def test_dnt_simulator_is_deterministic_with_litters(tmp_path):
    from neurotox.simulate import get_simulator
    from neurotox.simulate.dnt import PLANTED as PLANTED_426

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    truth = get_simulator("oecd-426").write(tmp_path / "a", 4)
    get_simulator("oecd-426").write(tmp_path / "b", 4)
    for name in ("landmarks.csv", "motor_activity.csv", "startle.csv", "brain_weights.csv",
                 "neuropathology_findings.csv", "subjects.csv", "study.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    subjects = pd.read_csv(tmp_path / "a" / "subjects.csv")
    assert subjects.groupby("group")["litter"].nunique().tolist() == [20] * 4
    assert len(subjects) == 4 * (10 * 6 + 10 * 4)
    motor = pd.read_csv(tmp_path / "a" / "motor_activity.csv")
    intervals = [c for c in motor.columns if c.endswith("min")]
    assert (motor[intervals].sum(axis=1) == motor["Total"]).all()
    assert {p["endpoint"] for p in truth["planted"]} == set(PLANTED_426)
    for e in [*PLANTED_426, *(d["endpoint"] for d in truth["derived"])]:
        endpoints.get(e)
    json.dumps(truth)

"""Screens on the real data in ../shared/data/zebrafish (skipped when absent).

* EPA OP (Padilla lab) acute screen: the group rules reproduce the authors' own
  lists of excluded chemical x concentration groups and plates;
* the same workbook saved as csv gives the same screen;
* bmdrc's Tanguay morphology example: incidence per chemical x concentration
  equals an independent count from the raw table, in its wide and long forms;
* SARL single tab file: the lab's control quality-check incidences and its
  healthy-larva counts (70 % rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.base import resolve_parameters
from neurotox.assays.zebrafish import analyse_screen, load_inputs

pytestmark = pytest.mark.shared_data

OP = "epa_padilla/OP"
ACUTE = f"{OP}/raw data/Acute Exposure/OP Acute Final Sept 22 2021.xlsx"
ACUTE_SCHEDULE = [{"name": "acclimation", "light": False, "duration_s": 360},
                  {"name": "light1", "light": True, "duration_s": 600},
                  {"name": "dark1", "light": False, "duration_s": 600}]
# The OP analyses drop a plate when its vehicle has < 80 % usable larvae (acute
# OP-064: 9/12 dropped; development OP-057: 13/16 kept): the DNT-60 README's 85 %
# is the protocol default, the OP screens are reproduced with 0.8.
OP_OVERRIDES = {"viability_min_control": 0.8, "schedule": ACUTE_SCHEDULE,
                "screen_endpoints": ["total_distance"]}


@pytest.fixture(scope="module")
def zf(shared_data):
    return shared_data / "zebrafish"


def _screen(files, protocol="zebrafish-screen-epa", **over):
    _, params = resolve_parameters(protocol, over)
    exports, tables = load_inputs(list(files), params)
    return analyse_screen(exports, params, morphology=tables, workers=1)


@pytest.fixture(scope="module")
def acute(zf):
    return _screen([zf / ACUTE], **OP_OVERRIDES)


def test_op_acute_group_rules_equal_the_authors_lists(zf, acute):
    rules = acute.details["group_rules"]
    bad = rules[rules["excluded"]]
    # the positive control (chlorpyrifos, 'Chlropyrifos+') is not in the authors' lists
    trt = bad[(bad["rule"] == "treatment group") & ~bad["chemical"].str.endswith("+")]
    ours = sorted((c.strip(), p, float(x)) for c, p, x in
                  trt[["chemical", "experimental_group", "concentration"]].values)
    ref = pd.read_csv(zf / OP / "_converted/Padilla_OP_Acute_ChemConcs_Excluded.csv")
    assert ours == sorted((c, p, float(x)) for c, p, x in ref[["cpid", "apid", "conc"]].values)
    plates = bad.loc[bad["rule"] == "experimental group vehicle", "experimental_group"]
    ref_p = pd.read_csv(zf / OP / "_converted/Padilla_OP_Acute_Plates_Excluded.csv")
    assert sorted(plates) == sorted(ref_p.iloc[:, 0]) == ["OP-064"]


def test_op_acute_group_sizes_equal_an_independent_count(zf, acute):
    raw = pd.read_excel(zf / ACUTE, sheet_name=0)
    raw = raw[raw["Well"].notna()]
    removed = raw[[c for c in raw.columns if "Removed" in str(c)]].astype(str).apply(
        lambda s: s.str.strip().str.upper()).eq("X").any(axis=1)
    # three Omethoate wells of OP-117 carry the plate as 'OP-117 ' (trailing blank): the
    # same plate, as the authors' lists (no Omethoate group excluded) confirm
    raw = raw.assign(usable=~removed, conc=pd.to_numeric(raw["Concentration (μM)"]),
                     chem=raw["Chemical"].astype(str).str.strip(),
                     plate=raw["Plate #"].astype(str).str.strip())
    ref = raw[raw["conc"] > 0].groupby(["chem", "plate", "conc"])["usable"].agg(
        ["size", "sum"])
    rules = acute.details["group_rules"]
    ours = rules[rules["rule"] == "treatment group"].assign(
        chem=lambda t: t["chemical"].str.strip()).set_index(
        ["chem", "experimental_group", "concentration"])[["n_larvae", "n_usable"]]
    assert len(ours) == len(ref) == 304
    assert (ours.loc[ref.index].to_numpy() == ref.to_numpy()).all()


def test_op_acute_as_csv_gives_the_same_screen(zf, acute, tmp_path):
    raw = pd.read_excel(zf / ACUTE, sheet_name=0, dtype=object)
    p = tmp_path / "op_acute.csv"
    raw.to_csv(p, index=False)
    again = _screen([p], **OP_OVERRIDES)
    pd.testing.assert_frame_equal(again.details["group_rules"], acute.details["group_rules"])
    a = acute.endpoints.set_index(["subject", "endpoint", "timepoint"])["value"]
    b = again.endpoints.set_index(["subject", "endpoint", "timepoint"])["value"]
    np.testing.assert_allclose(b.loc[a.index], a, rtol=1e-12)


def _independent_incidence(df: pd.DataFrame) -> pd.DataFrame:
    """Affected / examined per chemical, concentration and call, counted directly."""
    calls = [c for c in df.columns if c not in ("chemical.id", "conc", "plate.id", "well",
                                                "DNC_")]
    df = df[df["DNC_"] != 1].copy()
    dead = df["MO24"] == 1
    df.loc[dead, [c for c in calls if c != "MO24"]] = np.nan
    vehicle = df[df["conc"] == 0]
    rows = []
    for chem, g in df.groupby("chemical.id"):
        plates = set(g["plate.id"])
        veh = vehicle[vehicle["plate.id"].isin(plates)].drop_duplicates(["plate.id", "well"])
        for conc, h in [(0.0, veh), *((c, x) for c, x in g[g["conc"] > 0].groupby("conc"))]:
            for c in calls:
                v = h[c].dropna()
                rows.append((str(chem), float(conc), c, len(v), int(v.sum())))
    return pd.DataFrame(rows, columns=["chemical", "concentration", "code", "n", "affected"])


@pytest.mark.parametrize("name", ["Binary_Morphology_Wide.csv", "Binary_Morphology_Long.csv"])
def test_bmdrc_morphology_incidence_equals_an_independent_count(zf, name):
    run = _screen([zf / "bmdrc" / name], "zebrafish-morphology-tanguay", morphology_bmd="none")
    wide = pd.read_csv(zf / "bmdrc" / "Binary_Morphology_Wide.csv")
    ref = _independent_incidence(wide)
    ref["endpoint"] = "zf_" + ref["code"].str.rstrip("_").str.lower()
    inc = run.details["incidence"].set_index(["chemical", "concentration", "endpoint"])
    got = inc.loc[list(zip(ref["chemical"], ref["concentration"], ref["endpoint"],
                           strict=True)), ["n_examined", "n_affected"]].to_numpy()
    assert len(ref) == 3 * 8 * 22   # 3 chemicals, vehicle + 7 concentrations
    assert (got == ref[["n", "affected"]].to_numpy()).all()


def test_sarl_control_quality_check_and_healthy_counts(zf):
    d = zf / "tanguay_sarl_viewpoint/sarl_8day_CV"
    run = _screen([d / "Single_Tab_File  05-10-2019 121959.xls"],
                  "zebrafish-morphology-tanguay", morphology_bmd="none")
    inc = run.details["incidence"]
    veh = inc[inc["concentration"] == 0].set_index("label")["incidence_percent"].round(2)
    qc = pd.read_csv(d / "CONTROL_QUALITY_CHECK_DATAFILE.csv").iloc[0]
    # the lab's "MORT" percentage counts every dead larva (MO24 or MORT) of 24
    assert veh["MO24"] == qc["MO24"] and veh["TOT_MORT"] == qc["MORT"]
    assert veh["ANY_EFFECT"] == qc["any.effect"] == 8.33
    for code in ("YSE_", "AXIS", "EYE_", "PE__", "TR__", "SWIM"):
        assert veh[code] == qc[code] == 0
    # healthy larvae per concentration (70 % rule): lab 22 of 24 (vehicle) and 158 of 167
    # at 1 uM; the lab's table lacks well 18103-F04, which has no call (159 of 168 here)
    rules = run.details["group_rules"]
    sums = rules.groupby("concentration")[["n_larvae", "n_usable"]].sum()
    assert sums.to_numpy().tolist() == [[24, 22], [168, 159]]
    assert not rules.loc[rules["concentration"] > 0, "excluded"].any()


@pytest.mark.slow
def test_op_developmental_group_rules_equal_the_authors_lists(zf):
    dev = f"{OP}/raw data/Developmental Exposure/OP Dev Final Sept 22 2021.xlsx"
    run = _screen([zf / dev], viability_min_control=0.8, screen_endpoints=["total_distance"])
    bad = run.details["group_rules"]
    bad = bad[bad["excluded"]]
    trt = bad[(bad["rule"] == "treatment group") & ~bad["chemical"].str.endswith("+")]
    ref = pd.read_csv(zf / OP / "_converted/Padilla_OP_Dev_ChemConcs_Excluded.csv")
    assert sorted((c.strip(), p, float(x)) for c, p, x in
                  trt[["chemical", "experimental_group", "concentration"]].values) == \
        sorted((c, p, float(x)) for c, p, x in ref[["cpid", "apid", "conc"]].values)
    plates = bad.loc[bad["rule"] == "experimental group vehicle", "experimental_group"]
    ref_p = pd.read_csv(zf / OP / "_converted/Padilla_OP_Dev_Plates_Excluded.csv")
    assert sorted(plates) == sorted(ref_p.iloc[:, 0]) == ["OP-032", "OP-058"]

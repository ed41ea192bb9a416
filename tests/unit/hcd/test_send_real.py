"""The two real SEND studies reproduce the independently computed control summary.

``shared/data/hcd/control_summary_reference.csv`` was computed outside neurotox
(pandas ``read_sas``): terminal body weight and brain weight of the animals of
the control trial sets that are not TK animals -- main and recovery necropsies
pooled -- by study and sex, and pooled. neurotox's import keeps recovery animals
out of ranges by default, so the reference is reproduced with
``include_recovery=True``; the test recomputes the reference at full precision
with a few lines of pandas (the recipe of the provenance note) and compares to
1e-9, and compares with the printed csv at its 4 decimals.
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.hcd_backends import hcd_url  # noqa: F401  (fixture)

from neurotox.hcd import db, store
from neurotox.hcd.ranges import Query, ranges, select_rows
from neurotox.hcd.send import send_batch
from neurotox.io.send import read_send

pytestmark = pytest.mark.shared_data
STUDIES = {"PDS": "send_pds", "instem": "send_instem"}
ENDPOINTS = {"TERMBW": "terminal_body_weight", "BRAIN_WEIGHT": "brain_weight"}


def independent(folder) -> pd.DataFrame:
    """Terminal body and brain weights of non-TK control animals, straight from the XPT files."""
    def rd(d):
        return pd.read_sas(folder / f"{d}.xpt", format="xport", encoding="utf-8")

    dm, tx, bw, om = rd("dm"), rd("tx"), rd("bw"), rd("om")
    sets = tx.pivot_table(index="SETCD", columns="TXPARMCD", values="TXVAL", aggfunc="first")
    label = tx.groupby("SETCD")["SET"].first()
    control = sets.index[sets["TCNTRL"].notna() & (sets["TCNTRL"] != "")]
    tk = [s for s in control if sets.get("TKDESC", pd.Series(dtype=str)).get(s) == "TK"
          or label[s].endswith(" TK")]
    animals = dm.loc[dm["SETCD"].isin(control) & ~dm["SETCD"].isin(tk), ["USUBJID", "SEX"]]
    t = bw[bw["BWTESTCD"] == "TERMBW"].assign(endpoint="TERMBW", value=lambda d: d["BWSTRESN"])
    b = om[(om["OMTESTCD"] == "WEIGHT") & (om["OMSPEC"] == "BRAIN")].assign(
        endpoint="BRAIN_WEIGHT", value=lambda d: d["OMSTRESN"])
    vals = pd.concat([t[["USUBJID", "endpoint", "value"]], b[["USUBJID", "endpoint", "value"]]])
    return vals.merge(animals, on="USUBJID").dropna(subset=["value"])


@pytest.fixture(scope="module")
def send_dir(shared_data):
    return shared_data / "hcd"


@pytest.fixture(scope="module")
def batches(send_dir):
    return {k: send_batch(read_send(send_dir / v), include_recovery=True)
            for k, v in STUDIES.items()}


def summary(values: pd.Series) -> dict[str, float]:
    return {"count": len(values), "mean": values.mean(), "std": values.std(ddof=1),
            "min": values.min(), "max": values.max()}


def test_import_reproduces_reference(hcd_url, batches, send_dir):  # noqa: F811
    engine = db.connect(hcd_url)
    try:
        ids = {k: store.add(engine, b).id for k, b in batches.items()}
        rows = select_rows(store.fetch(engine, endpoints=ENDPOINTS.values(),
                                       included_only=True), Query())
    finally:
        engine.dispose()
    ref_csv = pd.read_csv(send_dir / "control_summary_reference.csv")
    indep = pd.concat([independent(send_dir / v).assign(study=k) for k, v in STUDIES.items()])
    checked = 0
    for r in ref_csv.itertuples(index=False):
        ep = ENDPOINTS[r.endpoint]
        mine = rows[(rows["endpoint"] == ep) & (rows["sex"] == r.SEX)]
        ind = indep[(indep["endpoint"] == r.endpoint) & (indep["SEX"] == r.SEX)]
        if r.study != "POOLED":
            mine = mine[mine["study_pk"] == ids[r.study]]
            ind = ind[ind["study"] == r.study]
        got, want = summary(mine["value"]), summary(ind["value"])
        assert got["count"] == want["count"] == r.count, r
        for k in ("mean", "std", "min", "max"):
            assert got[k] == pytest.approx(want[k], abs=1e-9, rel=0), (r, k)
            assert got[k] == pytest.approx(getattr(r, k), abs=6e-5, rel=0), (r, k)
        checked += 1
    assert checked == 12
    pooled = ranges(rows).set_index(["endpoint", "sex"]).loc[("brain_weight", "M")]
    assert (pooled["n_studies"], pooled["n_animals"]) == (2, 43)
    assert pooled["mean"] == pytest.approx(2.1252, abs=6e-5)


def test_brain_to_body_weight_ratio_is_neurotoxs_relative_brain_weight(batches):
    """SEND's OWBW of the brain (%, PDS only) is stored as brain_weight_relative."""
    r = batches["PDS"].results
    wide = r[r["endpoint"].isin(["brain_weight", "terminal_body_weight",
                                 "brain_weight_relative"])].pivot_table(
        index="subject", columns="endpoint", values="value")
    assert not r["endpoint"].eq("organ_to_body_weight_brain").any()
    assert set(r.loc[r["endpoint"] == "brain_weight_relative", "unit"]) == {"%"}
    both = wide.dropna()
    assert len(both) == 28      # 14 control animals of each sex with all three values
    # the study's own ratio is 100 x brain / terminal body weight, printed to 4 decimals
    ours = 100 * both["brain_weight"] / both["terminal_body_weight"]
    assert (ours - both["brain_weight_relative"]).abs().max() <= 5e-5 + 1e-12


def test_default_import_keeps_recovery_tk_and_early_deaths_out(send_dir):
    batch = send_batch(read_send(send_dir / "send_instem"))
    a = batch.animals
    # hand count from dm/tx: control sets 1, 2 (main 10 + recovery 5 per sex each) and TK 6, 7
    assert (a["role"].value_counts().to_dict()) == {"tk": 36, "main": 40, "recovery": 20}
    assert int(a["included"].sum()) == 38          # 40 main minus 2 unscheduled deaths
    early = a[a["exclusion_reason"].str.contains("unscheduled")]
    assert sorted(early["subject"]) == ["107001368", "107001614", "107001629"]
    listed = "\n".join(batch.excluded)
    assert listed.count("recovery animal") == 20 and listed.count("TK animal") == 36


def test_a_bw_file_cut_at_a_record_boundary_is_warned(shared_data, tmp_path):
    """XPORT holds no record count: bw.xpt cut at 30 % (a multiple of 80 bytes) reads as a
    shorter file. The 10 control animals it lost are named; the 2 animals of the intact
    study without organ weights (not weighed at necropsy) are only a note."""
    import shutil

    from neurotox.hcd.send import missing_domains

    source = shared_data / "hcd" / "send_pds"
    if not source.is_dir():
        pytest.skip("send_pds not present")
    intact = missing_domains(send_batch(read_send(source)))
    assert intact == [(False, "2 of 20 included control animals have no SEND OM record "
                              "(PDS2014-0010, PDS2014-0110): a file cut short, or animals not "
                              "examined? Their ranges count fewer animals")]
    cut = tmp_path / "pds"
    shutil.copytree(source, cut)
    (cut / "bw.xpt").write_bytes((source / "bw.xpt").read_bytes()[:171040])
    warned = [text for warn, text in missing_domains(send_batch(read_send(cut))) if warn]
    assert warned == ["10 of 20 included control animals have no SEND BW record (PDS2014-0101, "
                      "PDS2014-0102, PDS2014-0103, PDS2014-0104, PDS2014-0105 and 5 more): a "
                      "file cut short, or animals not examined? Their ranges count fewer "
                      "animals"]


@pytest.mark.parametrize("study", sorted(STUDIES.values()))
def test_real_control_sets_are_all_negative_controls(send_dir, study):
    """Both real studies' control sets (Vehicle Control; Instem also Negative Control) are
    negative controls: the control-type rules leave their import as it was."""
    from neurotox.hcd.send import control_findings, study_controls
    from neurotox.hcd.send_controls import ControlKind

    s = read_send(send_dir / study)
    controls = study_controls(s)
    sets = controls.controls
    assert {c.kind for c in sets.values()} == {ControlKind.NEGATIVE}
    assert not any(c.problem for c in sets.values())
    assert control_findings(s, controls) == []
    assert sorted(sets) == (["1", "2", "6", "7"] if study == "send_instem" else
                            ["01", "02", "03", "13", "14", "15"])

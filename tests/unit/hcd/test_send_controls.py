"""Which SEND control sets enter historical control ranges (tests/send_files.py study).

The hand-made study has a vehicle control set 1 (main males S-101 2.0 g and
S-102 2.2 g brain weight, S-103 an early death) and a TK set 3. Each case adds a
set 4 of two main males (S-401 1.0 g, S-402 1.2 g brain weight), as a study with
a positive control group (a reference neurotoxicant) would have.
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.send_files import tables, write_study

from neurotox.errors import InputError
from neurotox.hcd import db, store
from neurotox.hcd.ranges import Query, ranges, select_rows
from neurotox.hcd.send import control_findings, control_vehicles, send_batch, study_controls
from neurotox.hcd.send_controls import ControlKind, control_kind, named_dose
from neurotox.io.send import read_send

SET4 = [("S-401", 1.0, 380.0), ("S-402", 1.2, 390.0)]


def with_set4(tmp_path, params: dict[str, str], label: str = "Group 4",
              tx_change=None):
    """The study plus set 4 (``params``: its TXPARMCD → TXVAL) and its two males."""
    t = tables()
    tx = {k: list(v) for k, v in t["tx"].items()}
    if tx_change:
        tx_change(tx)
    for code, val in params.items():
        for col, v in zip(("STUDYID", "SETCD", "SET", "TXPARMCD", "TXVAL"),
                          ("SYN-1", "4", label, code, val), strict=True):
            tx[col].append(v)
    dm = {k: list(v) for k, v in t["dm"].items()}
    for sid, _, _ in SET4:
        for col, v in {"STUDYID": "SYN-1", "DOMAIN": "DM", "USUBJID": sid, "SEX": "M",
                       "SETCD": "4", "ARMCD": "4", "ARM": label, "RFSTDTC": "2020-01-02",
                       "RFENDTC": "2020-02-01", "AGE": 56.0, "AGEU": "DAYS"}.items():
            dm[col].append(v)
    om = {k: list(v) for k, v in t["om"].items()}
    bw = {k: list(v) for k, v in t["bw"].items()}
    for sid, brain, termbw in SET4:
        for col, v in {"STUDYID": "SYN-1", "USUBJID": sid, "OMTESTCD": "WEIGHT",
                       "OMSPEC": "BRAIN", "OMSTRESN": brain, "OMSTRESU": "g", "OMSTAT": "",
                       "OMEXCLFL": "", "OMREASEX": "", "OMDY": 30.0}.items():
            om[col].append(v)
        for col, v in {"STUDYID": "SYN-1", "USUBJID": sid, "BWTESTCD": "TERMBW",
                       "BWSTRESN": termbw, "BWSTRESU": "g", "BWSTAT": "", "BWDY": 30.0,
                       "VISITDY": 30.0}.items():
            bw[col].append(v)
    return read_send(write_study(tmp_path / "s", {"tx": tx, "dm": dm, "om": om, "bw": bw}))


def male_brain_range(tmp_path, batch) -> tuple[int, float]:
    engine = db.connect(str(tmp_path / "h.sqlite"))
    try:
        store.add(engine, batch)
        rows = select_rows(store.fetch(engine, endpoints=["brain_weight"], included_only=True),
                           Query())
    finally:
        engine.dispose()
    r = ranges(rows).set_index(["endpoint", "sex"]).loc[("brain_weight", "M")]
    return int(r["n_animals"]), float(r["mean"])


@pytest.mark.parametrize(("value", "kind"), [
    ("Vehicle Control", ControlKind.NEGATIVE),
    ("VEHICLE CONTROL", ControlKind.NEGATIVE),
    ("Negative Control", ControlKind.NEGATIVE),
    ("Untreated Cntrl", ControlKind.NEGATIVE),
    ("Sham Control", ControlKind.NEGATIVE),
    ("Placebo", ControlKind.NEGATIVE),
    ("Water control", ControlKind.NEGATIVE),
    ("Filtered air", ControlKind.NEGATIVE),
    ("No treatment", ControlKind.NEGATIVE),
    ("Non-treated control", ControlKind.NEGATIVE),
    ("Positive Control", ControlKind.POSITIVE),
    ("POSITIVE CONTROL", ControlKind.POSITIVE),
    ("Reference Item Control", ControlKind.POSITIVE),
    ("Active comparator", ControlKind.POSITIVE),
    ("Vehicle + positive control", ControlKind.MIXED),
    ("Reference Vehicle", ControlKind.MIXED),
    ("Vehicle Control / Positive Control", ControlKind.POSITIVE),   # two records of one set
    ("Non-positive Control", ControlKind.NEGATIVE),
    ("Non positive control", ControlKind.NEGATIVE),
    ("Vehicle (active-free)", ControlKind.NEGATIVE),
    ("Not active", ControlKind.NEGATIVE),
    ("Negative (non-positive)", ControlKind.NEGATIVE),
    ("Control", ControlKind.UNKNOWN),
    ("Group 1", ControlKind.UNKNOWN),
    ("Inactive", ControlKind.UNKNOWN),
])
def test_control_kind_table(value, kind):
    assert control_kind(value) is kind


def test_named_values_are_negative_but_never_a_positive_control():
    assert control_kind("  control ", ["Control"]) is ControlKind.NEGATIVE
    assert control_kind("Positive Control", ["Positive Control"]) is ControlKind.POSITIVE


def test_positive_control_set_is_stored_not_used_in_ranges(tmp_path):
    study = with_set4(tmp_path, {"TCNTRL": "Positive Control", "TRTDOS": "5",
                                 "TRTDOSU": "mg/kg"}, label="Positive control trimethyltin")
    batch = send_batch(study)
    a = batch.animals.set_index("subject")
    assert sorted(a.index[a["included"]]) == ["S-101", "S-102", "S-111", "S-112", "S-113"]
    assert not a.loc["S-401", "included"] and a.loc["S-401", "control_type"] == \
        "Positive Control"
    assert a.loc["S-401", "exclusion_reason"] == ("positive control (set 4, TCNTRL 'Positive "
                                                  "Control'): not a negative or vehicle control")
    assert "animal S-402 (M, Positive Control): positive control (set 4" in \
        "\n".join(batch.excluded)
    assert control_findings(study, study_controls(study)) == [(False, (
        "2 animal(s) stored but not used in ranges — positive control (set 4, TCNTRL "
        "'Positive Control'): not a negative or vehicle control"))]
    # brain weight range of the males: S-101 and S-102 only, (2.0 + 2.2) / 2
    assert male_brain_range(tmp_path, batch) == (2, pytest.approx(2.1, abs=1e-12))


def test_unknown_control_type_is_warned_and_left_out(tmp_path):
    study = with_set4(tmp_path, {"TCNTRL": "Control", "TRTDOS": "0"})
    a = send_batch(study).animals.set_index("subject")
    assert not a.loc["S-401", "included"]
    assert a.loc["S-401", "exclusion_reason"].startswith(
        "control type not recognised (set 4, TCNTRL 'Control')")
    assert control_findings(study, study_controls(study)) == [(True, (
        "2 animal(s) stored but not used in ranges — control type not recognised (set 4, "
        "TCNTRL 'Control'): not known to be a negative or vehicle control"))]


def test_unknown_control_type_named_by_the_user_is_used(tmp_path):
    study = with_set4(tmp_path, {"TCNTRL": "Control", "TRTDOS": "0"})
    controls = study_controls(study, ["control"])
    batch = send_batch(study, controls)
    assert batch.animals.set_index("subject").loc["S-401", "included"]
    assert control_findings(study, controls) == [(False, (
        "2 animal(s) of set 4 taken as negative controls: control type 'Control' named by "
        "--negative-control"))]
    # (2.0 + 2.2 + 1.0 + 1.2) / 4
    assert male_brain_range(tmp_path, batch) == (4, pytest.approx(1.6, abs=1e-12))


@pytest.mark.parametrize(("params", "label", "problem"), [
    ({"TCNTRL": "Vehicle Control", "TRTDOS": "50", "TRTDOSU": "mg/kg/day"}, "Group 4",
     "dose 50 mg/kg/day (TRTDOS) in a negative control set (set 4, TCNTRL 'Vehicle Control')"),
    ({"TCNTRL": "Negative Control", "GRPLBL": "Positive control"}, "Group 4",
     "set named 'Group 4 Positive control' (SET/GRPLBL) though a negative control (set 4, "
     "TCNTRL 'Negative Control')"),
    ({"TCNTRL": "Vehicle Control"}, "Reference item 10 mg/kg",
     "set named 'Reference item 10 mg/kg' (SET/GRPLBL) though a negative control (set 4, "
     "TCNTRL 'Vehicle Control')"),
    ({"TCNTRL": "Vehicle Control", "TRTDOS": "0", "GRPLBL": "M-Low"}, "Male, Low, 20 mg/kg",
     "set named 'Male, Low, 20 mg/kg M-Low' (SET/GRPLBL) gives a dose ('20 mg/kg') though a "
     "negative control (set 4, TCNTRL 'Vehicle Control', TRTDOS 0)"),
    ({"TCNTRL": "Vehicle Control", "GRPLBL": "F-High"}, "Group 4",
     "set named 'Group 4 F-High' (SET/GRPLBL) gives a dose ('High') though a negative control "
     "(set 4, TCNTRL 'Vehicle Control')"),
])
def test_negative_control_contradicted_by_another_parameter(tmp_path, params, label, problem):
    study = with_set4(tmp_path, params, label=label)
    a = send_batch(study).animals.set_index("subject")
    assert a.loc["S-402", "exclusion_reason"] == problem and not a.loc["S-402", "included"]
    assert control_findings(study, study_controls(study)) == [
        (True, f"2 animal(s) stored but not used in ranges — {problem}")]


def test_dose_zero_set_without_control_type_is_named(tmp_path):
    study = with_set4(tmp_path, {"TRTDOS": "0", "TKDESC": "NON-TK"}, label="Control 2")
    assert "S-401" not in set(send_batch(study).animals["subject"])
    assert control_findings(study, study_controls(study)) == [(True, (
        "set 4 ('Control 2') has dose 0 (TRTDOS) but no control type (TCNTRL): its 2 animal(s) "
        "are not imported; if they are controls, tx.xpt lacks their TCNTRL"))]


def test_no_negative_control_set_is_an_error(tmp_path):
    def positive(tx):
        tx["TXVAL"] = ["Positive Control" if p == "TCNTRL" else v
                       for p, v in zip(tx["TXPARMCD"], tx["TXVAL"], strict=True)]
    study = with_set4(tmp_path, {"TCNTRL": "Control"}, tx_change=positive)
    with pytest.raises(InputError, match=(
            r"tx\.xpt, TXPARMCD 'TCNTRL': no trial set is a negative or vehicle control: "
            r"positive control \(set 1, TCNTRL 'Positive Control'\).*; control type not "
            r"recognised \(set 4, TCNTRL 'Control'\).*--negative-control VALUE")):
        send_batch(study)


def test_import_send_cli_warns_and_refuses_under_warnings_as_errors(tmp_path, invoke):
    with_set4(tmp_path, {"TCNTRL": "Control"})
    db_file = tmp_path / "h.sqlite"
    refused = invoke("--warnings-as-errors", "hcd", "import-send", tmp_path / "s", "--db",
                     db_file)
    assert refused.exit_code == 2
    assert "control type not recognised (set 4, TCNTRL 'Control')" in refused.output
    res = invoke("hcd", "import-send", tmp_path / "s", "--db", db_file)
    assert res.exit_code == 0, res.output
    assert ("WARNING: s: 2 animal(s) stored but not used in ranges — control type not "
            "recognised (set 4, TCNTRL 'Control')") in res.output
    assert "7 animal(s) included" not in res.output and "5 included in ranges" in res.output


def test_import_send_works_out_the_control_sets_once(tmp_path, invoke, monkeypatch):
    """One import reads tx into trial sets and classifies them once; the batch and the
    findings share them (set 4 'Control', named by --negative-control, is used)."""
    from neurotox.hcd import send

    with_set4(tmp_path, {"TCNTRL": "Control", "TRTDOS": "0"})
    calls = []
    real = send.trial_sets
    monkeypatch.setattr(send, "trial_sets", lambda tx: calls.append(1) or real(tx))
    res = invoke("hcd", "import-send", tmp_path / "s", "--db", tmp_path / "h.sqlite",
                 "--negative-control", "control")
    assert res.exit_code == 0, res.output
    assert len(calls) == 1
    assert ("s: 2 animal(s) of set 4 taken as negative controls: control type 'Control' "
            "named by --negative-control") in res.output
    assert "7 included in ranges" in res.output


def test_lower_case_parameter_codes_keep_the_first_value(tmp_path):
    """``tcntrl`` twice: the first value counts, as for upper-case codes (a later
    ``Vehicle Control`` record made the positive control set a vehicle control)."""
    study = with_set4(tmp_path, {"tcntrl": "Positive Control", "TRTDOS": "5"})
    tx = study.domains["tx"]
    extra = tx[tx["SETCD"] == "4"].iloc[[0]].assign(TXVAL="Vehicle Control")
    study.domains["tx"] = pd.concat([tx, extra], ignore_index=True)
    a = send_batch(study).animals.set_index("subject")
    assert a.loc["S-401", "control_type"] == "Positive Control"
    assert not a.loc["S-401", "included"]


def test_a_set_with_two_control_types_is_judged_on_both(tmp_path):
    """TCNTRL 'Vehicle Control' and a second record 'Positive Control' in one set."""
    study = with_set4(tmp_path, {"TCNTRL": "Vehicle Control", "TRTDOS": "0"})
    tx = study.domains["tx"]
    extra = tx[(tx["SETCD"] == "4") & (tx["TXPARMCD"] == "TCNTRL")].assign(
        TXVAL="Positive Control")
    study.domains["tx"] = pd.concat([tx, extra], ignore_index=True)
    a = send_batch(study).animals.set_index("subject")
    assert not a.loc["S-401", "included"]
    assert a.loc["S-401", "exclusion_reason"] == (
        "positive control (set 4, TCNTRL 'Vehicle Control / Positive Control'): not a "
        "negative or vehicle control")


def male_brain_by_vehicle(tmp_path, batch, vehicle: str) -> tuple[int, float]:
    engine = db.connect(str(tmp_path / f"{vehicle}.sqlite"))
    try:
        store.add(engine, batch)
        rows = select_rows(store.fetch(engine, endpoints=["brain_weight"], included_only=True),
                           Query(vehicle=vehicle))
    finally:
        engine.dispose()
    r = ranges(rows).set_index(["endpoint", "sex"]).loc[("brain_weight", "M")]
    return int(r["n_animals"]), float(r["mean"])


def test_a_negative_control_set_named_for_another_vehicle_keeps_its_own(tmp_path):
    # stranger42 F-vehicle: Instem's set 'Control Water' pooled into vehicle 'Saline'
    # (ts.TRTV); here ts.TRTV is Water and set 4 is 'Control Saline'
    study = with_set4(tmp_path, {"TCNTRL": "Negative Control", "TRTDOS": "0"},
                      label="Control Saline")
    controls = study_controls(study)
    assert control_vehicles(study, controls) == ({"1": "Water", "3": "Water", "4": "Saline"}, [
        "vehicle 'Water' for control set(s) 1, 3: from the study's TRTV (ts): tx gives no "
        "vehicle for the set",
        "vehicle 'Saline' for control set(s) 4: from its name 'Control Saline' (tx SET/GRPLBL), "
        "not the study's TRTV 'Water'"])
    batch = send_batch(study, controls)
    a = batch.animals.set_index("subject")["vehicle"]
    assert (a["S-101"], a["S-401"]) == ("Water", "Saline")
    assert male_brain_by_vehicle(tmp_path, batch, "saline") == (2, pytest.approx(1.1))
    assert male_brain_by_vehicle(tmp_path, batch, "water") == (2, pytest.approx(2.1))


def test_a_sets_own_trtv_is_its_vehicle(tmp_path):
    study = with_set4(tmp_path, {"TCNTRL": "Vehicle Control", "TRTDOS": "0",
                                 "TRTV": "Corn oil"}, label="Group 4")
    vehicles, notes = control_vehicles(study, study_controls(study))
    assert vehicles["4"] == "Corn oil" and notes[-1] == (
        "vehicle 'Corn oil' for control set(s) 4: from its TRTV (tx)")
    # a set name that repeats the study's vehicle is the study's
    study = with_set4(tmp_path / "b", {"TCNTRL": "Vehicle Control"}, label="Water control 2")
    assert control_vehicles(study, study_controls(study))[0]["4"] == "Water"


def test_negative_control_values_that_take_no_set_are_warned(tmp_path, invoke):
    """Set 4 is a positive control; 'Vehicle Contrl' (a typo) and 'Foo Bar' match no set."""
    study = with_set4(tmp_path, {"TCNTRL": "Positive Control", "TRTDOS": "5"})
    controls = study_controls(study, ["Vehicle Contrl", "Foo Bar", "positive  control",
                                      "vehicle control"])
    assert control_findings(study, controls, ["Vehicle Contrl", "Foo Bar", "positive  control",
                                              "vehicle control"])[1:] == [
        (True, "--negative-control 'Vehicle Contrl' matches no control type of this study (tx "
               "TCNTRL: 'Positive Control', 'Vehicle Control'); it has no effect (did you mean "
               "'Vehicle Control'?)"),
        (True, "--negative-control 'Foo Bar' matches no control type of this study (tx "
               "TCNTRL: 'Positive Control', 'Vehicle Control'); it has no effect"),
        (True, "--negative-control 'positive  control' names a positive control (set 4); "
               "positive controls never enter ranges")]
    res = invoke("--warnings-as-errors", "hcd", "import-send", tmp_path / "s", "--db",
                 tmp_path / "h.sqlite", "--negative-control", "Foo Bar")
    assert res.exit_code == 2 and "'Foo Bar' matches no control type" in res.output
    assert not (tmp_path / "h.sqlite").exists()


def test_a_negated_positive_word_is_no_positive_control(tmp_path):
    # stranger43: 'Non-positive Control' was read as a positive control at INFO only
    study = with_set4(tmp_path, {"TCNTRL": "Non-positive Control", "TRTDOS": "0"})
    assert control_findings(study, study_controls(study)) == []
    assert male_brain_range(tmp_path, send_batch(study)) == (4, 1.6)   # 2.0, 2.2, 1.0, 1.2


def test_a_control_type_naming_both_kinds_is_a_warning_unless_named(tmp_path):
    study = with_set4(tmp_path, {"TCNTRL": "Reference Vehicle", "TRTDOS": "0"})
    assert control_findings(study, study_controls(study)) == [(True, (
        "2 animal(s) stored but not used in ranges — control type names both a negative and a "
        "positive control (set 4, TCNTRL 'Reference Vehicle'): not known to be a negative or "
        "vehicle control"))]
    named = study_controls(study, ["reference vehicle"])
    assert control_findings(study, named, ["reference vehicle"]) == [(False, (
        "2 animal(s) of set 4 taken as negative controls: control type 'Reference Vehicle' "
        "named by --negative-control"))]


def test_a_mistyped_negative_control_is_named_in_the_error(tmp_path, invoke):
    # stranger43: every set 'Control' and --negative-control Contrl gave the generic error
    def plain(tx):
        tx["TXVAL"] = ["Control" if p == "TCNTRL" else v
                       for p, v in zip(tx["TXPARMCD"], tx["TXVAL"], strict=True)]
    study = with_set4(tmp_path, {"TCNTRL": "Control"}, tx_change=plain)
    with pytest.raises(InputError, match=(
            r"--negative-control 'Contrl' matches no control type of this study \(tx TCNTRL: "
            r"'Control'\); it has no effect \(did you mean 'Control'\?\); nothing to use")):
        study_controls(study, ["Contrl"])
    res = invoke("hcd", "import-send", tmp_path / "s", "--db", tmp_path / "h.sqlite",
                 "--negative-control", "Contrl")
    assert res.exit_code == 2 and "(did you mean 'Control'?)" in res.output


@pytest.mark.parametrize(("name", "dose"), [
    ("Male, Low, 20 mg/kg , NON-TK", "20 mg/kg"), ("Group 2 0.5 mg/kg/day", "0.5 mg/kg/day"),
    ("F - High", "High"), ("M-Mid", "Mid"), ("Intermediate Dose", "Intermediate"),
    ("300 ppm", "300 ppm"), ("Male, Vehicle, 0 mg/kg , NON-TK", ""),
    ("Vehicle 10 mL/kg", ""), ("0.5% methylcellulose", ""), ("High-fat diet control", ""),
    ("Control", ""), ("Lowry control", ""),
])
def test_named_dose_table(name, dose):
    assert named_dose(name) == dose


def _dosed_male_in_control_set(tmp_path, arm_codes: bool):
    """S-201 (treated set 2, 'High Dose', brain 1.5 g) put in control set 1 in dm."""
    t = tables()
    tx = {k: list(v) for k, v in t["tx"].items()}
    if arm_codes:
        for setcd, label in (("1", "Control"), ("2", "High"), ("3", "Control TK")):
            for col, v in zip(("STUDYID", "SETCD", "SET", "TXPARMCD", "TXVAL"),
                              ("SYN-1", setcd, label, "ARMCD", "1" if setcd == "3" else setcd),
                              strict=True):
                tx[col].append(v)
    dm = {k: list(v) for k, v in t["dm"].items()}
    dm["SETCD"][dm["USUBJID"].index("S-201")] = "1"
    return read_send(write_study(tmp_path / "s", {"tx": tx, "dm": dm}))


@pytest.mark.parametrize(("arm_codes", "why"), [
    (True, "its arm (dm ARMCD '2', ARM 'High Dose') is that of treated set(s) 2, not of its "
           "control set 1 (tx ARMCD '1')"),
    (False, "its arm name (dm ARM 'High Dose') gives a dose ('High') though in control set 1"),
])
def test_a_dosed_animal_put_in_the_control_set_is_left_out(tmp_path, arm_codes, why):
    batch = send_batch(_dosed_male_in_control_set(tmp_path, arm_codes))
    a = batch.animals.set_index("subject")
    assert a.loc["S-201", "exclusion_reason"] == why and not a.loc["S-201", "included"]
    assert a.loc["S-121", "exclusion_reason"] == \
        "recovery animal (set 1); --include-recovery to include"   # arm 1R: no contradiction
    assert [n for n in batch.notes if n[0]] == [
        (True, f"1 control animal(s) stored but not used in ranges — their arm is a treated "
               f"group's (dm ARMCD/ARM) (S-201: {why})")]
    # S-101 2.0 and S-102 2.2 (S-103 died early); with S-201 it was (3, 1.9)
    assert male_brain_range(tmp_path, batch) == (2, pytest.approx(2.1, abs=1e-12))


def test_control_animals_without_sex_are_left_out_not_pooled(tmp_path):
    """S-101 (M, brain 2.0 g) with SEX blank and S-111 (F, 1.8 g) with SEX 'U'."""
    dm = {k: list(v) for k, v in tables()["dm"].items()}
    dm["SEX"][dm["USUBJID"].index("S-101")] = ""
    dm["SEX"][dm["USUBJID"].index("S-111")] = "U"
    batch = send_batch(read_send(write_study(tmp_path / "s", {"dm": dm})))
    a = batch.animals.set_index("subject")
    assert a.loc[["S-101", "S-111"], ["sex", "included", "exclusion_reason"]].values.tolist() \
        == [["NA", False, "no sex (dm SEX '')"], ["NA", False, "no sex (dm SEX 'U')"]]
    assert [n for n in batch.notes if n[0]] == [
        (True, "2 control animal(s) stored but not used in ranges — no sex in dm (SEX blank or "
               "not M/F): ranges are per sex (S-101: no sex (dm SEX ''); S-111: no sex (dm "
               "SEX 'U'))")]
    engine = db.connect(str(tmp_path / "h.sqlite"))
    try:
        store.add(engine, batch)
        rows = select_rows(store.fetch(engine, endpoints=["brain_weight"], included_only=True),
                           Query())
    finally:
        engine.dispose()
    table = ranges(rows).set_index("sex")
    # M: S-102 2.2 (S-103 died early); F: S-112 1.9, S-113 2.0; no pooled 'NA' range
    assert sorted(table.index) == ["F", "M"]
    assert (int(table.loc["M", "n_animals"]), float(table.loc["M", "mean"])) == (1, 2.2)
    assert int(table.loc["F", "n_animals"]) == 2
    assert float(table.loc["F", "mean"]) == pytest.approx(1.95, abs=1e-12)

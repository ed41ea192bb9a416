"""Readers of the screen tables: EPA lmr0, EPA light/dark as csv, morphology tables."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurotox.errors import FormatError
from neurotox.io.zebrafish import read_export, read_plate_map
from neurotox.io.zebrafish.morphology import read_morphology

LMR0 = ("srcf,acid,cpid,apid,rowi,coli,wllt,wllq,conc,vt1,vt2,vt3,vt4\n"
        "f.xlsx,ZFlmr-4-2-2,725,EPA-01,1,1,t,1,0.3,1.5,2.0,0.25,3\n"
        "f.xlsx,ZFlmr-4-2-2,725,EPA-01,1,2,t,0,0.3,NA,NA,NA,NA\n"
        "f.xlsx,ZFlmr-4-2-2,DMSO,EPA-01,8,12,v,1,0,1,1,1,1\n")


def _write(path, text: str, gz: bool = False):
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, gz", [("s.csv", False), ("s.csv.gz", True)])
def test_lmr0_values_wells_quality_and_interval(tmp_path, name, gz):
    ex = read_export(_write(tmp_path / name, LMR0, gz))
    assert ex.format == "epa-lmr0"
    d = ex.data.set_index(["well", "bin"])
    # cm per interval → mm; 4 + 2 + 2 min over 4 intervals = 2-min bins
    assert d.loc[("A01", 2), "distance"] == pytest.approx(2.5)
    assert d.loc[("A01", 3), ["start_s", "end_s"]].tolist() == [360.0, 480.0]
    assert np.isnan(d.loc[("A02", 0), "distance"])
    w = ex.wells.set_index("well")
    assert w.loc["A02", "exclusion_reason"] == "removed by the lab (wllq = 0)"
    assert w.loc["A01", "exclusion_reason"] == ""
    assert w.loc["A01", "chemical"] == "725" and w.loc["H12", "vehicle"]
    assert w.loc["H12", "concentration"] == 0.0
    assert any("interval width 120 s from assay ID 'ZFlmr-4-2-2'" in n for n in ex.notes)
    assert any("1 of 3 larvae have wllq = 0" in n for n in ex.notes)


def test_lmr0_experimental_group_and_default_interval(tmp_path):
    text = LMR0.replace("ZFlmr-4-2-2", "ZFlmr").replace("vt4\n", "vt4,egid\n")
    text = "\n".join(line + (",EG7" if i else "") for i, line in
                     enumerate(text.strip().split("\n"))).replace("vt4,egid,EG7", "vt4,egid")
    ex = read_export(_write(tmp_path / "e.csv", text + "\n"))
    assert set(ex.wells["experimental_group"]) == {"EG7"}
    assert any("assumed 120 s" in n for n in ex.notes)


@pytest.mark.parametrize("old, new, match", [
    (",t,0,0.3,", ",t,2,0.3,", "line 3, column 'wllq': expected well quality 0 or 1, found 2"),
    ("EPA-01,8,12,", "EPA-01,17,12,", "line 4, column 'rowi': expected a whole number 1-16"),
    ("EPA-01,1,1,", "EPA-01,1,x,", "line 2, column 'coli': expected a number, found 'x'"),
    (",1.5,2.0,", ",1.5,abc,", "column 'vt2': expected a number, found 'abc'"),
])
def test_lmr0_bad_cells_are_named(tmp_path, old, new, match):
    with pytest.raises(FormatError, match=match):
        read_export(_write(tmp_path / "b.csv", LMR0.replace(old, new)))


def test_lmr0_missing_column_is_named(tmp_path):
    text = LMR0.replace("conc,vt1", "dose,vt1")
    with pytest.raises(FormatError, match=r"expected column\(s\) 'conc'"):
        read_export(_write(tmp_path / "m.csv", text), format="epa-lmr0")


def _epa_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "Removed due to developmental issues": ["X", None, None],
        "Removed due to tracking issues/errors": [None, None, "X"],
        "Plate #": ["OP-1", "OP-1", "OP-1"], "Link plates tested together": "A",
        "Well": ["A01", "A02", "H01"], "Chemical": ["Malathion", "Malathion", "DMSO"],
        "Concentration (μM)": [10, 10, 0], "0-2": [1.5, 0.5, 2.0], "2-4": [0.25, 1.0, 0.0]})


def test_epa_lightdark_csv_equals_xlsx(tmp_path):
    df = _epa_frame()
    x = tmp_path / "epa.xlsx"
    with pd.ExcelWriter(x) as w:
        pd.DataFrame([["Data shown is distance moved (cm) in 2 minute intervals"]]).to_excel(
            w, index=False, header=False, startrow=0)
        df.to_excel(w, index=False, startrow=1)
    c = tmp_path / "epa.csv"
    c.write_text("Data shown is distance moved (cm) in 2 minute intervals\n"
                 + df.to_csv(index=False), encoding="utf-8")
    a, b = read_export(x), read_export(c)
    assert a.format == b.format == "epa-lightdark"
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.wells.reset_index(drop=True),
                                  b.wells.reset_index(drop=True), check_dtype=False)
    assert b.data["distance"].tolist()[:2] == [15.0, 2.5]
    assert b.wells.set_index("well").loc["H01", "exclusion_reason"] == \
        "Removed due to tracking issues/errors"



def _epa_csv(df: pd.DataFrame, sep: str = ",", decimal: str = ".",
             banner: str = "Data shown is distance moved (cm) in 2 minute intervals") -> str:
    return (banner + "\n" if banner else "") + df.to_csv(index=False, sep=sep, decimal=decimal)


def test_epa_concentrations_with_decimal_commas_or_units_are_read(tmp_path):
    """stranger52 E1: a ';' file with decimal commas lost every larva below 1 µM."""
    df = _epa_frame().assign(**{"Concentration (μM)": [0.3, 2.16, 0]})
    semi = read_export(_write(tmp_path / "semi.csv", _epa_csv(df, ";", ",")))
    assert semi.wells["concentration"].tolist() == [0.3, 2.16, 0.0]
    assert semi.data["distance"].tolist()[:2] == [15.0, 2.5]
    unit = df.astype({"Concentration (μM)": str})
    unit.loc[0, "Concentration (μM)"] = "0.3 uM"
    unit.loc[1, "Concentration (μM)"] = "2.16µM"
    got = read_export(_write(tmp_path / "unit.csv", _epa_csv(unit)))
    assert got.wells["concentration"].tolist() == [0.3, 2.16, 0.0]


@pytest.mark.parametrize(("cell", "found"), [("0.3 mM", "'0.3 mM'"), ("high", "'high'"),
                                             ("-1", "'-1'")])
def test_epa_unreadable_concentration_is_refused_naming_the_row(tmp_path, cell, found):
    df = _epa_frame().astype({"Concentration (μM)": str})
    df.loc[1, "Concentration (μM)"] = cell
    with pytest.raises(FormatError, match=r"c\.csv, line 4, column 'Concentration \(μM\)': "
                       r"expected a concentration \(a number >= 0, or an empty cell for an "
                       rf"empty well\), found {found}; 1 such cell"):
        read_export(_write(tmp_path / "c.csv", _epa_csv(df)))


def test_empty_concentration_beside_a_chemical_is_a_warning(tmp_path):
    df = _epa_frame().astype({"Concentration (μM)": str})
    df.loc[1, "Concentration (μM)"] = ""
    ex = read_export(_write(tmp_path / "c.csv", _epa_csv(df)))
    assert ex.wells["concentration"].isna().tolist() == [False, True, False]
    assert ("warning: c.csv: 1 larva(e) with a chemical but an empty concentration cell "
            "(line 4; e.g. 'Malathion') are not analysed") in "\n".join(ex.notes)



@pytest.mark.parametrize("mark", ["X", "x", " X ", "1", "yes", "Yes", "TRUE"])
def test_epa_removed_marks_as_labs_write_them(tmp_path, mark):
    """stranger52 E2: '1' or 'yes' in a Removed column excluded no larva."""
    df = _epa_frame()
    df.loc[0, "Removed due to developmental issues"] = mark
    df["Removed due to tracking issues/errors"] = [None, "0", mark]
    reasons = read_export(_write(tmp_path / "m.csv", _epa_csv(df))).wells["exclusion_reason"]
    assert reasons.tolist() == ["Removed due to developmental issues", "",
                                "Removed due to tracking issues/errors"]


@pytest.mark.parametrize(("dev", "track"), [
    ("Removed", "Tracking error"),
    ("Excluded (developmental)", "Excluded (tracking)"),
    ("Removed (dev)", "Tracking errors"),
])
def test_epa_removal_columns_as_labs_name_them(tmp_path, dev, track):
    """stranger52 L1: the X under 'Tracking error' was not counted; 'Excluded …' unknown layout."""
    df = _epa_frame().rename(columns={"Removed due to developmental issues": dev,
                                      "Removed due to tracking issues/errors": track})
    ex = read_export(_write(tmp_path / "r.csv", _epa_csv(df)))
    assert ex.format == "epa-lightdark"
    assert ex.wells["exclusion_reason"].tolist() == [dev, "", track]
    assert "2 larvae marked removed (X, 1, yes or true)" in ex.notes


def test_epa_unreadable_removed_mark_is_refused(tmp_path):
    df = _epa_frame()
    df.loc[1, "Removed due to developmental issues"] = "?"
    with pytest.raises(FormatError, match=r"m\.csv, line 4, column 'Removed due to "
                       r"developmental issues': expected X \(removed\) or an empty cell, "
                       r"found '\?'; also read: 1, yes, true \(removed\)"):
        read_export(_write(tmp_path / "m.csv", _epa_csv(df)))


@pytest.mark.parametrize(("banner", "first", "says"), [
    ("Data shown is distance moved (mm) in 2 minute intervals", 1.5, "kept in mm"),
    ("Data shown is distance moved (cm) in 2 minute intervals", 15.0,
     "converted from cm to mm (x10), the unit of the banner row"),
    ("", 15.0, "no banner row states the unit"),
])
def test_epa_distance_unit_from_the_banner(tmp_path, banner, first, says):
    """stranger52 E3: a file in mm was multiplied by 10."""
    ex = read_export(_write(tmp_path / "u.csv", _epa_csv(_epa_frame(), banner=banner)))
    assert ex.data["distance"].tolist()[:2] == [first, first / 6]
    assert any(says in n for n in ex.notes)


def test_epa_unknown_banner_unit_is_refused(tmp_path):
    text = _epa_csv(_epa_frame(), banner="Data shown is distance moved (px) in 2 minute "
                    "intervals")
    with pytest.raises(FormatError, match=r"u\.csv: the banner row 'Data shown is distance "
                       r"moved \(px\) in 2 minute intervals' states the distance unit 'px'"):
        read_export(_write(tmp_path / "u.csv", text))


def test_epa_and_bmdrc_split_over_two_sheets_read_as_one_table(tmp_path):
    """stranger52 E5: only the first sheet was read (1916 of 3832 larvae), nothing said."""
    df = _epa_frame()
    x = tmp_path / "split.xlsx"
    with pd.ExcelWriter(x) as w:
        for name, part in (("Data", df.iloc[:2]), ("Data (2)", df.iloc[2:])):
            pd.DataFrame([["Data shown is distance moved (cm) in 2 minute intervals"]]).to_excel(
                w, sheet_name=name, index=False, header=False)
            part.to_excel(w, sheet_name=name, index=False, startrow=1)
    ex = read_export(x)
    assert ex.wells["well"].tolist() == ["A01", "A02", "H01"]
    assert ex.data["distance"].tolist()[-2:] == [20.0, 0.0]
    assert any("read sheets 'Data' (2 rows), 'Data (2)' (1 rows) as one table" in n
               for n in ex.notes)
    long = pd.DataFrame({"chemical.id": 2, "conc": [0, 0, 5, 5], "plate.id": 20544,
                         "well": ["A01", "A01", "B01", "B01"], "variable": ["t0", "t1"] * 2,
                         "value": [0.5, 1.0, 0.0, 2.0]})
    b = tmp_path / "bmdrc.xlsx"
    with pd.ExcelWriter(b) as w:
        long.iloc[:2].to_excel(w, sheet_name="Data", index=False)
        long.iloc[2:].to_excel(w, sheet_name="Data (2)", index=False)
    ex = read_export(b)
    assert ex.format == "bmdrc-long"
    assert ex.wells.set_index("well")["concentration"].to_dict() == {"A01": 0.0, "B01": 5.0}
    assert ex.data["distance"].tolist() == [0.5, 1.0, 0.0, 2.0]


def test_epa_messages_name_what_was_found(tmp_path):
    """stranger52 M4: 'unknown layout', bins listed as the header, seconds read as minutes."""
    nm = _epa_frame().rename(columns={"Concentration (μM)": "Concentration (nM)"})
    with pytest.raises(FormatError, match=re.escape(
            "missing 'Concentration (μM)'; the header's other columns are ['Chemical', "
            "'Concentration (nM)', 'Link plates tested together', 'Plate #', 'Removed due to "
            "developmental issues', 'Removed due to tracking issues/errors', 'Well'] (and 2 "
            "bins '0-2' …): 'Concentration (nM)' is not read as µM")):
        read_export(_write(tmp_path / "nm.csv", _epa_csv(nm)))
    um = _epa_frame().rename(columns={"Concentration (μM)": "Concentration (uM)"})
    assert read_export(_write(tmp_path / "um.csv", _epa_csv(um))).wells[
        "concentration"].tolist() == [10.0, 10.0, 0.0]
    sec = _epa_frame().rename(columns={"0-2": "1200-1320", "2-4": "1320-1440"})
    with pytest.raises(FormatError, match=re.escape(
            "s.csv: the bin labels are read as minutes: '1200-1320' is a 120-min bin, but the "
            "banner row says 2-minute intervals (labels in seconds?)")):
        read_export(_write(tmp_path / "s.csv", _epa_csv(sec)))
    two = _epa_csv(_epa_frame(), banner="").replace(
        "Removed due to developmental issues,Removed due to tracking issues/errors",
        "developmental issues,tracking issues/errors")
    with pytest.raises(FormatError, match=re.escape(
            "t.csv: the EPA light/dark header is split over two rows (row 1: 'Removed', "
            "'Time (min)' over merged cells; row 2: 'Plate #', 'Well' …)")):
        read_export(_write(tmp_path / "t.csv", "Removed,,,,,,,Time (min),\n" + two))


def test_epa_copied_sheet_is_refused_naming_both_sheets(tmp_path):
    x = tmp_path / "copy.xlsx"
    with pd.ExcelWriter(x) as w:
        for name in ("Data", "Data (2)"):
            pd.DataFrame([["Data shown is distance moved (cm) in 2 minute intervals"]]).to_excel(
                w, sheet_name=name, index=False, header=False)
            _epa_frame().to_excel(w, sheet_name=name, index=False, startrow=1)
    with pytest.raises(FormatError, match=re.escape(
            "copy.xlsx, sheet 'Data (2)': larva (Plate # 'OP-1', Well 'A01') is in sheet "
            "'Data' row 3 and again in sheet 'Data (2)' row 3: the sheets repeat the same rows")):
        read_export(x)

def test_bmdrc_concentrations_with_decimal_commas(tmp_path):
    text = ("chemical.id;conc;plate.id;well;variable;value\n"
            "2;0;20544;A01;t0;0,5\n2;0;20544;A01;t1;1,25\n"
            "2;2,16;20544;B01;t0;0\n2;2,16;20544;B01;t1;0,75\n")
    ex = read_export(_write(tmp_path / "b.csv", text))
    assert ex.format == "bmdrc-long"
    assert ex.wells.set_index("well")["concentration"].to_dict() == {"A01": 0.0, "B01": 2.16}
    assert ex.data["distance"].tolist() == [0.5, 1.25, 0.0, 0.75]

MORPH = ("chemical.id,bottle.id,conc,plate.id,well,MO24,MORT,PE__,DNC_\n"
         "725,B1,0,22200,A01,0,0,0,0\n"
         "725,B1,5,22200,B01,0,0,1,0\n"
         "1021,B2,0,22200,A01,0,0,0,0\n"
         "1021,B2,5,22200,B02,1,,,0\n")


def test_shared_vehicle_well_counted_once_and_noted(tmp_path):
    t = read_morphology(_write(tmp_path / "m.csv", MORPH))
    c = t.calls.set_index("well")
    assert len(t.calls) == 3
    assert c.loc["A01", "chemicals"] == "725; 1021" and c.loc["A01", "source_row"] == 1
    assert np.isnan(c.loc["B02", "PE__"]) and c.loc["B02", "MO24"] == 1
    assert t.call_columns == ["MO24", "MORT", "PE__", "DNC_"]
    assert any("1 well(s) listed more than once with identical calls" in n for n in t.notes)
    # the plate-map reader (used to exclude dead/malformed larvae) agrees
    pm = read_plate_map(tmp_path / "m.csv")
    assert len(pm) == 3 and pm.attrs["notes"]


def test_conflicting_rows_of_one_well_name_both_rows(tmp_path):
    bad = MORPH.replace("1021,B2,0,22200,A01,0,0,0,0", "1021,B2,0,22200,A01,0,0,1,0")
    with pytest.raises(FormatError, match=r"m.csv: well 'A01' of plate '22200' is listed in "
                       r"data rows 1 and 3 with different 'PE__' \(0 vs 1\)"):
        read_morphology(_write(tmp_path / "m.csv", bad))


def test_long_morphology_table_equals_wide(tmp_path):
    wide = pd.read_csv(pd.io.common.StringIO(MORPH), dtype=str)
    long = wide.melt(id_vars=["chemical.id", "bottle.id", "conc", "plate.id", "well"],
                     var_name="endpoint", value_name="value").drop(columns="bottle.id")
    a = read_morphology(_write(tmp_path / "w.csv", MORPH))
    b = read_morphology(_write(tmp_path / "l.csv", long.to_csv(index=False)))
    cols = ["plate", "well", "concentration", "MO24", "MORT", "PE__", "DNC_"]
    key = ["plate", "well"]
    pd.testing.assert_frame_equal(a.calls[cols].sort_values(key).reset_index(drop=True),
                                  b.calls[cols].sort_values(key).reset_index(drop=True))


@pytest.mark.parametrize("old, new, match", [
    ("725,B1,5,22200,B01,0,0,1,0", "725,B1,5,22200,B01,0,0,2,0",
     "line 3, column 'PE__': expected a call 0, 1 or blank, found 2"),
    ("725,B1,5,22200,B01,", "725,B1,5,22200,Z99,", "column 'well'"),
    ("plate.id,well,", "plate.id,position,",
     "expected morphology columns 'row_id', 'col_id' or 'well'"),
])
def test_morphology_bad_input(tmp_path, old, new, match):
    text = MORPH.replace(old, new)
    with pytest.raises(FormatError, match=match):
        read_morphology(_write(tmp_path / "m.csv", text))


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.lists(st.sampled_from(["0", "1", ""]), min_size=3, max_size=3),
                      min_size=2, max_size=8),
       owners=st.integers(min_value=1, max_value=4))
def test_shared_rows_merge_to_one_well_with_the_same_calls(tmp_path, calls, owners):
    """Every well listed under 1-4 chemicals reads back once, calls unchanged."""
    wells = [f"{'ABCDEFGH'[i]}01" for i in range(len(calls))]
    lines = ["chemical.id,conc,plate.id,well,MO24,MORT,PE__"]
    for k in range(owners):
        lines += [f"C{k},0,P,{w},{','.join(c)}" for w, c in zip(wells, calls, strict=True)]
    t = read_morphology(_write(tmp_path / "p.csv", "\n".join(lines) + "\n"))
    assert t.calls["well"].tolist() == wells
    got = t.calls[["MO24", "MORT", "PE__"]].to_numpy()
    want = np.array([[float(x) if x else np.nan for x in c] for c in calls])
    np.testing.assert_array_equal(got, want)
    assert set(t.calls["chemicals"]) == {"; ".join(f"C{k}" for k in range(owners))}


@pytest.mark.parametrize(("tail", "warned"), [("0.13\n", False), ("0.13", False),
                                              ("0.", True)])
def test_epa_last_line_without_a_line_end_is_noted(tmp_path, tail, warned):
    """stranger52 L2: a cut EPA csv (no final line end) got no note, unlike other readers."""
    from neurotox.files import NOTE_SINK

    df = pd.concat([_epa_frame()] * 2, ignore_index=True).assign(
        Well=[f"A{k:02d}" for k in range(1, 7)], **{"2-4": [0.25, 1.5, 0.75, 2.25, 1.0, 9.0]})
    text = _epa_csv(df).rstrip("\n").rsplit(",", 1)[0] + "," + tail
    notes: list[str] = []
    token = NOTE_SINK.set(notes.append)
    try:
        ex = read_export(_write(tmp_path / "cut.csv", text))
    finally:
        NOTE_SINK.reset(token)
    said = "read as text: encoding utf-8, delimiter ',', decimal mark '.'"
    end = "" if tail.endswith("\n") else ", the last line without a line end"
    assert f"cut.csv: {said}{end}" in ex.notes
    assert ex.data["distance"].iloc[-1] == pytest.approx(float(tail) * 10)
    assert [n[:80] for n in notes] == ([
        "warning: cut.csv: the last line (line 8) has no line end and its last value '0.'"
        [:80]] if warned else [])


def test_epa_link_plates_column_is_said_not_read(tmp_path):
    """stranger52 L1: 'Link plates tested together' was ignored without a word."""
    df = pd.concat([_epa_frame(), _epa_frame().assign(**{"Plate #": "OP-2"})])
    df["Link plates tested together"] = ["A", "A", "A", "A", "A", "B"]
    df.loc[df["Plate #"].eq("OP-2") & df["Well"].eq("H01"), "Plate #"] = "OP-3"
    ex = read_export(_write(tmp_path / "l.csv", _epa_csv(df)))
    assert ("column 'Link plates tested together' (2 sets of plates tested together, 3 plates) "
            "not read: the experimental groups are the plates (a chemical is compared with the "
            "vehicle wells of the plates it was tested on; the vehicle check is per plate)"
            ) in ex.notes
    assert sorted(set(ex.wells["plate"])) == ["OP-1", "OP-2", "OP-3"]

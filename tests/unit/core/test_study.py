
import re

import pytest

from neurotox.errors import InputError
from neurotox.study import load_study, normalise_well, read_layout

STUDY = """\
study_id: NTX-2026-001
title: 28-day oral neurotoxicity screen of compound X in rats
test_item: Compound X
glp: true
groups:
  - {id: G1, label: Vehicle control, dose: 0, dose_unit: mg/kg/day, control: true}
  - {id: G2, label: Low, dose: 10, dose_unit: mg/kg/day}
  - {id: G3, label: High, dose: 100, dose_unit: mg/kg/day}
subjects: subjects.csv
plate_layouts: {PL01: plate01.csv}
assays:
  - {assay: nor, protocol: nor-standard, input: nor_scores.csv}
statistics: {alpha: 0.05, sided: two, trend_test: true}
"""
SUBJECTS = "subject,group,sex\nR001,G1,M\nR002,G1,F\nR003,G2,M\nR004,G3,f\n"
LAYOUT = "well,group,concentration\nA1,G1,0\na02,G2,1\nA03,,\nB01,blank,\nH12,G3,10\n"


@pytest.fixture
def study_dir(tmp_path):
    (tmp_path / "study.yaml").write_text(STUDY)
    (tmp_path / "subjects.csv").write_text(SUBJECTS)
    (tmp_path / "plate01.csv").write_text(LAYOUT)
    (tmp_path / "nor_scores.csv").write_text("animal\n")
    return tmp_path


def edit(folder, old, new, name="study.yaml"):
    p = folder / name
    text = p.read_text()
    assert old in text, old
    p.write_text(text.replace(old, new))


def test_valid_study_loads(study_dir):
    s = load_study(study_dir / "study.yaml")
    assert s.study_id == "NTX-2026-001"
    assert s.control.id == "G1"
    assert list(s.groups) == ["G1", "G2", "G3"]
    assert s.subjects["sex"].tolist() == ["M", "F", "M", "F"]
    assert s.subjects["batch"].tolist() == ["NA"] * 4
    lay = s.layouts["PL01"]
    assert lay["well"].tolist() == ["A01", "A02", "A03", "B01", "H12"]
    assert lay["blank"].tolist() == [False, False, True, True, False]
    assert lay.attrs["n_wells"] == 96
    assert lay["concentration"].iloc[4] == 10.0
    assert [p.name for p in s.assay_inputs(s.spec.assays[0])] == ["nor_scores.csv"]


@pytest.mark.parametrize(("old", "new", "match"), [
    ("glp: true", "glp: true\ncolour: blue",
     r"study\.yaml, key 'colour': unknown key"),
    ("statistics: {alpha: 0.05,", "statistics: {alpah: 0.05,",
     r"key 'statistics\.alpah': unknown key \(did you mean 'alpha'\?\)"),
    ("  - {id: G3, label: High", "  - {id: G3, lable: High",
     r"key 'groups\[2\]\.lable': unknown key \(did you mean 'label'\?\)"),
    ("subjects: subjects.csv", "subjects: ../subjects.csv",
     r"key 'subjects': path '\.\./subjects\.csv' leaves the study folder"),
    ("subjects: subjects.csv", "subjects: /etc/passwd",
     r"key 'subjects': absolute path '/etc/passwd' not allowed"),
    ("title: 28-day", "title: !!python/object:os.system 28-day",
     r"study\.yaml, line 2: unsafe or unknown YAML tag"),
    ("dose_unit: mg/kg/day, control: true}", "dose_unit: mg/kg/day}",
     r"no group has 'control: true'"),
    ("{id: G2, label: Low, dose: 10, dose_unit: mg/kg/day}",
     "{id: G2, label: Low, dose: 10, dose_unit: mg/kg/day, control: true}",
     r"2 groups have 'control: true'; set 'multiple_controls: true'"),
    ("{id: G2,", "{id: G1,", r"group id 'G1' is defined more than once"),
    # stranger53 V14: Latin 'G2' and Cyrillic 'G2' read alike, as subject IDs do (V11)
    ("{id: G3,", "{id: \uff272,", r"study\.yaml: group ids '\uff272' \(groups\[2\]\) and "
     r"'G2' \(groups\[1\]\) differ only in letter case, invisible or look-alike "
     r"characters; give the groups IDs that read differently$"),
    ("{id: G3,", "{id: g2,", r"group ids 'g2' \(groups\[2\]\) and 'G2' \(groups\[1\]\) "
                             r"differ only in letter case"),
    ("label: High,", "label: L\u043ew,", r"groups 'G2', 'G3' have the same label 'Low' \(or "
                                         r"labels that differ only in letter case, invisible "
                                         r"or look-alike characters\)"),
    ("dose: 100,", "dose: -1,", r"key 'groups\[2\]\.dose': Input should be greater than or "
                                 r"equal to 0 \(found -1\)"),
    ("input: nor_scores.csv", "input: missing.csv",
     r"key 'assays\.nor\.input\[0\]': input 'missing\.csv' not found"),
    ("groups:", "groups: [\ngroupz:", r"invalid YAML"),
    # study and assay IDs name files: only letters, digits, '_', '.', '-'
    ("study_id: NTX-2026-001", "study_id: 'NTX 2026,1'",
     r"key 'study_id': an ID holds ' ', ',': use letters, digits, '_', '\.' and '-' only"),
    ("{id: G2,", "{id: ' HU',", r"key 'groups\[1\]\.id': a group ID may not be empty or start "
                               r"or end with a space"),
    ("study_id: NTX", "study_id: _NTX",
     r"key 'study_id': an ID does not start with a letter or digit"),
    # a quoted number is text: pydantic read it as the number silently (fixz)
    ("dose: 10,", 'dose: "10",', r"study\.yaml, key 'groups\[1\]\.dose': expected a number, "
     r"found the text '10' \(a quoted value is text in YAML: write it without quotes\)$"),
    ("{alpha: 0.05,", "{alpha: '0.05',", r"key 'statistics\.alpha': expected a number, found "
                                         r"the text '0\.05'"),
])
def test_study_file_errors(study_dir, old, new, match):
    edit(study_dir, old, new)
    with pytest.raises(InputError, match=match):
        load_study(study_dir / "study.yaml")


def test_group_ids_with_a_cyrillic_look_alike_letter_are_refused(study_dir):
    # stranger53 V14: Latin 'A2' (control) and Cyrillic 'А2' (treated) were two groups
    # that read identically in statistics.csv
    edit(study_dir, "{id: G1,", "{id: A2,")
    edit(study_dir, "{id: G2,", "{id: \u04102,")
    with pytest.raises(InputError, match=r"group ids '\u04102' \(groups\[1\]\) and 'A2' "
                                         r"\(groups\[0\]\) differ only in letter case"):
        load_study(study_dir / "study.yaml")


# stranger29 F6 / CSV injection: IDs and labels a spreadsheet would run as formulas
FORMULA = ("starts with '{}': a spreadsheet opening the CSV outputs would run it as a formula; "
           "IDs and labels may not start with =, +, - or @ (unless they are numbers)")


@pytest.mark.parametrize(("name", "old", "new", "expected"), [
    ("subjects.csv", "R002,G1,F", "=1+1,G1,F",
     "subjects.csv, row 3, column 'subject': subject '=1+1' " + FORMULA.format("=")),
    ("subjects.csv", "R002,G1,F", "@R2,G1,F",
     "subjects.csv, row 3, column 'subject': subject '@R2' " + FORMULA.format("@")),
    ("subjects.csv", "subject,group,sex\nR001,G1,M", "subject,group,sex,batch\nR001,G1,M,-B+1",
     "subjects.csv, row 2, column 'batch': batch '-B+1' " + FORMULA.format("-")),
    ("study.yaml", "title: 28-day", "title: =HYPERLINK(\"http://x\",\"click\") 28-day",
     "study.yaml, key 'title': " + FORMULA.format("=")),
    ("study.yaml", "{id: G2, label: Low,", "{id: '+G2', label: Low,",
     "study.yaml, key 'groups[1].id': " + FORMULA.format("+") + " (found '+G2')"),
    ("study.yaml", "{id: G2, label: Low,", "{id: G2, label: '-Low',",
     "study.yaml, key 'groups[1].label': " + FORMULA.format("-") + " (found '-Low')"),
    ("study.yaml", "test_item: Compound X", "test_item: '@X'",
     "study.yaml, key 'test_item': " + FORMULA.format("@") + " (found '@X')"),
])
def test_formula_like_ids_and_labels_are_refused(study_dir, name, old, new, expected):
    edit(study_dir, old, new, name=name)
    with pytest.raises(InputError, match=re.escape(expected)):
        load_study(study_dir / "study.yaml")


@pytest.mark.parametrize("subject", ["-1", "+12", "-0.5", "R-1", "a=b"])
def test_numbers_and_inner_signs_are_fine_as_ids(study_dir, subject):
    edit(study_dir, "R002,G1,F", f"{subject},G1,F", name="subjects.csv")
    assert subject in load_study(study_dir / "study.yaml").subjects["subject"].tolist()


@pytest.mark.parametrize(("name", "old", "new", "match"), [
    ("subjects.csv", "R004,G3,f", "R004,G9,f",
     r"subjects\.csv, row 5, column 'group': group 'G9' is not defined in the study"),
    ("subjects.csv", "R003,G2,M", "R001,G2,M",
     r"subjects\.csv, row 4, column 'subject': subject 'R001' appears twice"),
    ("subjects.csv", "R002,G1,F", "R002,G1,X",
     r"row 3, column 'sex': sex 'X' is not M, F or NA"),
    ("subjects.csv", "subject,group,sex", "animal,group,sex",
     r"subjects\.csv: expected column\(s\) 'subject', found 'animal', 'group', 'sex'"),
    ("plate01.csv", "a02,G2,1", "a02,G7,1",
     r"plate01\.csv, row 3, column 'group': group 'G7' is not defined"),
    ("plate01.csv", "A03,,", "A01,,", r"plate01\.csv, row 4, column 'well': well 'A01' "
                                      r"appears twice"),
    ("plate01.csv", "H12,G3,10", "Z12,G3,10", r"row 6, column 'well': well 'Z12' is outside"),
    ("plate01.csv", "H12,G3,10", "H12,G3,ten", r"row 6, column 'concentration': expected a "
                                               r"number, found 'ten'"),
    # a study group is one dose: a second concentration of it in the layout is refused
    ("plate01.csv", "H12,G3,10", "H12,G2,10", r"plate01\.csv, row 6, column 'concentration': "
                                              r"group 'G2' has concentrations 1 and 10"),
])
def test_table_file_errors(study_dir, name, old, new, match):
    edit(study_dir, old, new, name=name)
    with pytest.raises(InputError, match=match):
        load_study(study_dir / "study.yaml")


def test_non_utf8_study(study_dir):
    (study_dir / "study.yaml").write_bytes(STUDY.encode("utf-16"))
    with pytest.raises(InputError, match=r"not UTF-8 text"):
        load_study(study_dir / "study.yaml")


def test_recursive_alias_is_rejected_cleanly(study_dir):
    (study_dir / "study.yaml").write_text(STUDY + "extra: &a [*a]\n")
    with pytest.raises(InputError):
        load_study(study_dir / "study.yaml")


@pytest.mark.parametrize(("well", "n", "expected"), [
    ("A1", 96, "A01"), ("A01", 96, "A01"), ("a01", 96, "A01"), (" h12 ", 96, "H12"),
    ("P24", 384, "P24"), ("p3", 384, "P03"),
])
def test_normalise_well(well, n, expected):
    assert normalise_well(well, n_wells=n) == expected


@pytest.mark.parametrize(("well", "n"), [("I01", 96), ("A13", 96), ("Q01", 384), ("A25", 384),
                                         ("A", 96), ("11", 96), ("A0", 96)])
def test_normalise_well_rejects(well, n):
    with pytest.raises(ValueError):
        normalise_well(well, n_wells=n)


def test_384_layout_inferred(study_dir):
    (study_dir / "plate01.csv").write_text("well,group\nA1,G1\nP24,G2\n")
    s = load_study(study_dir / "study.yaml")
    assert s.layouts["PL01"].attrs["n_wells"] == 384


def _workbook(path, rows, **sheets):
    import openpyxl

    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    for name, extra in sheets.items():
        for row in extra:
            wb.create_sheet(name).append(row)
    wb.save(path)
    return path


def test_layout_and_subjects_as_xlsx_read_like_their_csv(study_dir):
    """Typed cells (numbers, whole numbers stored as floats) read as the CSV's text does."""
    import datetime as dt


    _workbook(study_dir / "plate01.xlsx", [[None], ["Well", "Group", "Concentration"],
                                            ["A1", "G1", 0],
                                            ["a02", "G2", 1.0], ["A03", None, None],
                                            ["B01", "blank", None], ["H12", "G3", 10.5]])
    from_csv = read_layout(study_dir / "plate01.csv")
    from_xlsx = read_layout(study_dir / "plate01.xlsx")
    assert from_xlsx.attrs["dialect"] == "sheet 'Sheet' of an xlsx workbook"
    assert from_xlsx["well"].tolist() == ["A01", "A02", "A03", "B01", "H12"]
    assert from_xlsx["group"].tolist() == from_csv["group"].tolist()
    assert from_xlsx["concentration"].tolist()[:2] == [0.0, 1.0]
    assert from_xlsx["concentration"].iloc[4] == 10.5
    assert from_xlsx["blank"].tolist() == from_csv["blank"].tolist()
    _workbook(study_dir / "subjects.xlsx", [["subject", "group", "sex", "batch"],
                                             [1001, "G1", "M", dt.datetime(2026, 3, 2)],
                                             [1002, "G2", "F", dt.datetime(2026, 3, 2)]])
    text = (study_dir / "study.yaml").read_text()
    (study_dir / "study.yaml").write_text(text.replace("subjects.csv", "subjects.xlsx")
                                          .replace("plate01.csv", "plate01.xlsx"))
    s = load_study(study_dir / "study.yaml")
    assert s.subjects["subject"].tolist() == ["1001", "1002"]    # not 1001.0
    assert s.subjects["batch"].tolist() == ["2026-03-02"] * 2    # a date cell, as a date
    assert s.layouts["PL01"]["concentration"].iloc[4] == 10.5


def test_xlsx_table_refusals_name_the_sheet(tmp_path):
    from neurotox.errors import FormatError

    two = _workbook(tmp_path / "two.xlsx", [["well", "group"], ["A1", "C"]],
                    notes=[["drawn by hand"]])
    with pytest.raises(FormatError, match=r"values on sheets \['Sheet', 'notes'\]"):
        read_layout(two)
    flag = _workbook(tmp_path / "flag.xlsx", [["well", "group"], ["A1", True]])
    with pytest.raises(FormatError, match=r"sheet 'Sheet', row 2, column 2: a TRUE/FALSE cell"):
        read_layout(flag)
    (tmp_path / "old.csv").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 600)
    with pytest.raises(FormatError, match=r"old-format Excel workbook \(xls\); save it as xlsx"):
        read_layout(tmp_path / "old.csv")


@pytest.mark.parametrize(("header", "unit"), [
    ("Concentration (µM)", "uM"), ("concentration [nM]", "nM"), ("Conc_uM", "uM"),
    ("conc (ug/mL)", "ug/mL"), ("Conc", None)])
def test_layout_concentration_header_with_its_unit(tmp_path, header, unit):

    (tmp_path / "lay.csv").write_text(f"well,group,{header}\nA1,C,0\nA2,X,0.3\n",
                                      encoding="utf-8")
    lay = read_layout(tmp_path / "lay.csv")
    assert lay["concentration"].tolist() == [0.0, 0.3]
    assert lay.attrs.get("concentration_unit") == unit


def test_layout_of_zebralab_locations_is_numbered_row_major(tmp_path):
    # a lab's treatments table keyed by the export's locations c01 ... c96 (stranger33 Z6):
    # c25 is no well C25 of any plate, so every code is a location, numbered as the
    # exports number them (c01 = A01, c13 = B01, c96 = H12)
    rows = "".join(f"c{n:02d},{'C' if n <= 48 else 'X'}\n" for n in range(1, 97))
    (tmp_path / "lay.csv").write_text("well,group\n" + rows, encoding="utf-8")
    lay = read_layout(tmp_path / "lay.csv")
    assert lay["well"].tolist()[:3] == ["A01", "A02", "A03"]
    assert lay.set_index("well").loc[["B01", "D12", "E01", "H12"], "group"].tolist() == \
        ["C", "C", "X", "X"]
    assert "ZebraLab locations c01 ..., row-major" in lay.attrs["dialect"]
    assert lay["location"].tolist() == list(range(1, 97))     # the codes, to join on
    assert "location_codes" not in lay.attrs
    # codes that are also wells (c01 ... c12: row C of a plate) stay wells, marked as codes
    (tmp_path / "row.csv").write_text("well,group\nc01,C\nc12,X\n", encoding="utf-8")
    row = read_layout(tmp_path / "row.csv")
    assert row["well"].tolist() == ["C01", "C12"]
    assert row.attrs["location_codes"] is True and "location" not in row.columns


@pytest.mark.parametrize("header", ["concentratoin", "conc (furlongs)", "Conc. µM extra"])
def test_layout_concentration_like_header_not_read_is_an_error(tmp_path, header):

    (tmp_path / "lay.csv").write_text(f"well,group,{header}\nA1,C,0\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"column '{header.lower()}' is not read: "
                                                   "name it 'concentration'")):
        read_layout(tmp_path / "lay.csv")


def test_title_lines_above_a_table_header_are_skipped(tmp_path):
    """'Plate 1 layout' above the header (a lab's habit): found, and rows still counted right."""

    (tmp_path / "lay.csv").write_text("Plate SIM01 layout, compound X\nwell,group,concentration\n"
                                      "A1,C,0\nA2,X,0.3\n")
    lay = read_layout(tmp_path / "lay.csv")
    assert lay["concentration"].tolist() == [0.0, 0.3]
    assert "header on line 2 (title line(s) above it skipped)" in lay.attrs["dialect"]
    _workbook(tmp_path / "lay.xlsx", [["Plate SIM01 layout"], ["Date", "2026-12-01"],
                                      ["Well", "Group", "Concentration"], ["A1", "C", 0],
                                      ["A2", "X", "3O"]])
    with pytest.raises(InputError, match=r"row 5, column 'concentration': expected a number, "
                                         r"found '3O'"):
        read_layout(tmp_path / "lay.xlsx")
    (tmp_path / "none.csv").write_text("title\nposition,group\nA1,C\n")
    with pytest.raises(InputError, match=r"expected column\(s\) 'well', found 'title'"):
        read_layout(tmp_path / "none.csv")


def test_group_ids_as_file_names_give_them(study_dir):
    # neuriteScan names its groups with decimal commas and spaces ('dif_HU_0,1_AM'); the
    # subjects table quotes such an ID and the study keeps it as written
    edit(study_dir, "{id: G2,", "{id: 'dif_HU_0,1 AM',")
    edit(study_dir, "R003,G2,M", 'R003,"dif_HU_0,1 AM",M', name="subjects.csv")
    edit(study_dir, "a02,G2,1", 'a02,"dif_HU_0,1 AM",1', name="plate01.csv")
    s = load_study(study_dir / "study.yaml")
    assert list(s.groups) == ["G1", "dif_HU_0,1 AM", "G3"]
    assert s.subjects["group"].tolist() == ["G1", "G1", "dif_HU_0,1 AM", "G3"]
    assert s.layouts["PL01"]["group"].iloc[1] == "dif_HU_0,1 AM"


@pytest.mark.parametrize("header", ["grup", "Groups", "group_id"])
def test_layout_group_like_header_not_read_is_an_error(tmp_path, header):
    # a misspelt group column was left out: groups then came from the concentrations
    (tmp_path / "layout.csv").write_text(f"well,{header},concentration\nA01,G1,0\nA02,G2,1\n")
    with pytest.raises(InputError, match=rf"layout\.csv: column '{header.lower()}' is not "
                                         r"read \(did you mean 'group'\?\)"):
        read_layout(tmp_path / "layout.csv")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_blank_rows_above_a_header_keep_the_files_row_numbers(tmp_path, kind):
    # two empty rows, the header on row 3, an unknown sex on the 4th data row = row 7
    from neurotox.study import _row, read_csv_table

    rows = [["subject", "group", "sex"]] + [[f"A{i}", "G1", "M"] for i in range(1, 5)]
    rows[4][2] = "X"
    path = tmp_path / f"subjects.{kind}"
    if kind == "csv":
        path.write_text("\n\n" + "\n".join(",".join(r) for r in rows) + "\n")
    else:
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append([])
        ws.append([])
        for r in rows:
            ws.append(r)
        wb.save(path)
    df = read_csv_table(path, required=["subject", "group", "sex"], what="subjects")
    assert df["sex"].tolist() == ["M", "M", "M", "X"]
    assert _row(df, 3) == 7


# ------------------------------------------------------------ cohorts: who an assay expects

COHORT_SUBJECTS = ("subject,group,sex,litter,cohort\nR001,G1,M,L1,perfusion\nR002,G1,F,L1,main\n"
                   "R003,G2,M,L2,perfusion\nR004,G3,F,L3,\n")


def _table(subjects):
    import pandas as pd

    return pd.DataFrame({"subject": list(subjects)})


def test_cohorts_name_the_subjects_an_entry_expects(study_dir):
    (study_dir / "subjects.csv").write_text(COHORT_SUBJECTS)
    edit(study_dir, "input: nor_scores.csv}", "input: nor_scores.csv, cohorts: perfusion}")
    s = load_study(study_dir / "study.yaml")
    assert s.spec.assays[0].cohorts == ("perfusion",)
    assert s.subjects["cohort"].tolist() == ["perfusion", "main", "perfusion", ""]
    expected = s.assay_subjects(_table(["R001"]), ("perfusion",))
    assert expected.to_dict("list") == {"subject": ["R001", "R003"], "group": ["G1", "G2"],
                                        "sex": ["M", "M"], "cohort": ["perfusion", "perfusion"]}
    assert s.assay_subjects(_table(["R001"]))["subject"].tolist() == ["R001", "R002", "R003",
                                                                      "R004"]
    # litter means: the means of the expected animals' litters and sexes
    means = s.assay_subjects(_table(["L1_M"])).drop(columns="cohort")
    assert means.to_dict("list") == {"subject": ["L1_F", "L1_M", "L2_M", "L3_F"],
                                     "group": ["G1", "G1", "G2", "G3"],
                                     "sex": ["F", "M", "M", "F"]}
    assert s.assay_subjects(_table(["A01", "B02"])) is None      # wells: not animals


@pytest.mark.parametrize(("subjects", "cohorts", "match"), [
    (COHORT_SUBJECTS, "perfused", r"study\.yaml, key 'assays\[0\]\.cohorts': cohort 'perfused' "
     r"is not in the subjects file \(subjects\.csv\) \(did you mean 'perfusion'\?\); its "
     r"cohorts: 'main', 'perfusion'$"),
    (SUBJECTS, "perfusion", r"key 'assays\[0\]\.cohorts': cohort 'perfusion' is not in the "
     r"subjects file \(subjects\.csv\); it has no 'cohort' column$"),
])
def test_unknown_cohort_is_an_error(study_dir, subjects, cohorts, match):
    (study_dir / "subjects.csv").write_text(subjects)
    edit(study_dir, "input: nor_scores.csv}", f"input: nor_scores.csv, cohorts: [{cohorts}]}}")
    with pytest.raises(InputError, match=match):
        load_study(study_dir / "study.yaml")


def test_cohorts_without_a_subjects_file_is_an_error(study_dir):
    edit(study_dir, "subjects: subjects.csv\n", "")
    edit(study_dir, "input: nor_scores.csv}", "input: nor_scores.csv, cohorts: [a]}")
    with pytest.raises(InputError, match=r"key 'assays\[0\]\.cohorts': the 'nor' entry names "
                                         r"cohorts, but the study has no subjects file$"):
        load_study(study_dir / "study.yaml")


@pytest.mark.parametrize(("rows", "one", "match"), [
    # stranger29 F18: a dosed well inside the control group
    ("A1,G1,0\nA2,G1,5\nA3,G2,5\n", True, r"lay\.csv, row 3, column 'concentration': group "
                                           r"'G1' has concentrations 0 and 5"),
    ("A1,G2,5\nA2,G1,0\nA3,G2,0.5\n", True, r"row 4, .*group 'G2' has concentrations 0\.5 and 5"),
    # blank wells, wells without a group and rounding noise are not a second concentration
    ("A1,G1,0\nA2,blank,7\nA3,,3\nA4,G1,0.0\nA5,G2,0.1\nA6,G2,0.1000000000001\n", True, None),
    # without a study (neurite: the compound's name in 'group') it is the assay's choice
    ("A1,H,3\nA2,H,10\n", None, None),
    ("A1,H,3\nA2,H,10\n", True, r"row 3, .*group 'H' has concentrations 3 and 10"),
])
def test_layout_group_is_one_concentration(tmp_path, rows, one, match):
    path = tmp_path / "lay.csv"
    path.write_text("well,group,concentration\n" + rows)
    if match is None:
        assert len(read_layout(path, one_concentration=one)) == rows.count("\n")
    else:
        with pytest.raises(InputError, match=match):
            read_layout(path, one_concentration=one)


DOSES = {"G1": (0.0, "uM"), "G2": (0.1, "uM")}


@pytest.mark.parametrize(("header", "rows", "match"), [
    # stranger29 F27: G2 written at another group's dose
    ("concentration", "A1,G1,0\nA2,G2,0.1\nA3,G2,0.3\n",
     r"lay\.csv, row 4, column 'concentration': group 'G2' has dose 0\.1 uM in the study, "
     r"found concentration 0\.3"),
    ("concentration", "A1,G1,0\nA2,G2,1e-1\nA3,blank,9\n", None),
    # another unit in the header: the assay refuses the unit, not the number
    ("conc (nM)", "A1,G1,0\nA2,G2,100\n", None),
])
def test_layout_concentration_is_the_study_dose(tmp_path, header, rows, match):
    from neurotox.study import check_study_doses

    path = tmp_path / "lay.csv"
    path.write_text(f"well,group,{header}\n" + rows)
    lay = read_layout(path)
    if match is None:
        check_study_doses(lay, DOSES)
    else:
        with pytest.raises(InputError, match=match):
            check_study_doses(lay, DOSES)


def test_pattern_matching_a_link_out_of_the_study_folder_is_refused(study_dir, tmp_path_factory):
    """A link leaving the folder is refused as a path naming it is, never dropped silently."""
    raw = tmp_path_factory.mktemp("share") / "nor_day2.csv"
    raw.write_text((study_dir / "nor_scores.csv").read_text() + "\n")
    (study_dir / "nor_day2.csv").symlink_to(raw)
    edit(study_dir, "input: nor_scores.csv}", "input: 'nor_*.csv'}")
    with pytest.raises(InputError, match=r"key 'assays\.nor\.input\[0\]': pattern 'nor_\*\.csv' "
                                         r"matches 'nor_day2\.csv', a link that leaves the study"):
        load_study(study_dir / "study.yaml")
    inside = study_dir / "more"
    inside.mkdir()
    (inside / "nor_day3.csv").write_text("x\n")
    (study_dir / "nor_day2.csv").unlink()
    (study_dir / "nor_day2.csv").symlink_to(inside / "nor_day3.csv")   # a link inside: read
    s = load_study(study_dir / "study.yaml")
    assert [p.name for p in s.assay_inputs(s.spec.assays[0])] == ["nor_day2.csv", "nor_scores.csv"]


def test_quoted_numbers_are_refused_wherever_a_number_is_meant(study_dir):
    # nested models, lists and parameters of an assay entry: the first quoted number named
    from neurotox.assays.base import resolve_parameters

    edit(study_dir, "statistics: {alpha: 0.05, sided: two, trend_test: true}",
         "statistics: {alpha: 0.05, censored: {rank_test_above: '0.3'}}")
    with pytest.raises(InputError, match=r"key 'statistics\.censored\.rank_test_above': "
                                         r"expected a number, found the text '0\.3'"):
        load_study(study_dir / "study.yaml")
    with pytest.raises(InputError, match=r"study\.yaml, key 'parameters\.max_climbing_s': "
                                         r"expected a number, found the text '5'"):
        resolve_parameters("nor-standard", {"max_climbing_s": "5"},
                           source=study_dir / "study.yaml")
    # text where text is allowed, numbers as numbers, and yes/no for a true/false setting
    _, params = resolve_parameters("nor-standard", {"max_climbing_s": 5,
                                                    "exclude_climbing": "no",
                                                    "timepoint": "10"})
    assert (params.max_climbing_s, params.exclude_climbing, params.timepoint) == (5, False, "10")

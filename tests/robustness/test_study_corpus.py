"""Malformed study, subjects, layout and exclusions files (via ``neurotox check``)."""

import pytest

from tests.robustness.corpus import Case, run_case

STUDY = """\
study_id: S-1
title: Robustness study
test_item: X
groups:
  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}
  - {id: L, label: Low, dose: 1, dose_unit: mg/kg}
  - {id: H, label: High, dose: 5, dose_unit: mg/kg}
subjects: subjects.csv
plate_layouts: {P1: layout.csv}
exclusions: exclusions.csv
"""
SUBJECTS = "subject,group,sex,litter\nA1,C,M,L1\nA2,L,F,L2\nA3,H,M,L3\n"
LAYOUT = "well,group,concentration\nA01,C,0\nA02,L,1\nA03,H,5\n"
EXCL = "subject,reason\nA3,found dead on day 3\n"
BASE = {"study.yaml": STUDY, "subjects.csv": SUBJECTS, "layout.csv": LAYOUT,
        "exclusions.csv": EXCL}
CHECK = ("check", "{dir}/study.yaml")


def study(old: str, new: str) -> dict:
    assert old in STUDY
    return {**BASE, "study.yaml": STUDY.replace(old, new)}


def with_file(name: str, text: str | bytes) -> dict:
    return {**BASE, name: text}


CASES = [
    # --- study.yaml: keys, types, groups
    Case("unknown-top-key", {**BASE, "study.yaml": STUDY + "colour: red\n"},
         CHECK, "key 'colour': unknown key", "study.yaml"),
    Case("typo-key-suggests", study("test_item:", "test_itme:"), CHECK,
         "key 'test_itme': unknown key (did you mean 'test_item'?)", "study.yaml"),
    Case("unknown-group-key", study("label: Low,", "label: Low, colour: red,"), CHECK,
         "key 'groups[1].colour': unknown key", "study.yaml"),
    Case("unknown-stats-key", {**BASE, "study.yaml": STUDY + "statistics: {alfa: 0.05}\n"},
         CHECK, "key 'statistics.alfa': unknown key", "study.yaml"),
    Case("alpha-out-of-range", {**BASE, "study.yaml": STUDY + "statistics: {alpha: 2}\n"},
         CHECK, "key 'statistics.alpha'", "study.yaml"),
    Case("sided-invalid", {**BASE, "study.yaml": STUDY + "statistics: {sided: left}\n"},
         CHECK, "key 'statistics.sided'", "study.yaml"),
    Case("log-transform-typo",
         {**BASE, "study.yaml": STUDY + "statistics: {log_transform: [motor_activity_count]}\n"},
         CHECK, "key 'statistics.log_transform': unknown endpoint 'motor_activity_count' "
         "(did you mean 'motor_activity_counts'?)", "study.yaml"),
    Case("missing-study-id", study("study_id: S-1\n", ""), CHECK,
         "key 'study_id': required key is missing", "study.yaml"),
    Case("missing-groups", study(STUDY[STUDY.index("groups:"):STUDY.index("subjects:")], ""),
         CHECK, "key 'groups': required key is missing", "study.yaml"),
    Case("empty-groups", study(STUDY[STUDY.index("groups:"):STUDY.index("subjects:")],
                               "groups: []\n"), CHECK, "key 'groups'", "study.yaml"),
    Case("no-control", study(", control: true}", "}"), CHECK,
         "no group has 'control: true'", "study.yaml"),
    Case("two-controls", study("dose_unit: mg/kg}\n  - {id: H", "dose_unit: mg/kg, control: "
                                                                  "true}\n  - {id: H"),
         CHECK, "2 groups have 'control: true'", "study.yaml"),
    Case("duplicate-group", study("{id: L,", "{id: C,"), CHECK,
         "group id 'C' is defined more than once", "study.yaml"),
    Case("negative-dose", study("dose: 5,", "dose: -5,"), CHECK,
         "key 'groups[2].dose'", "study.yaml"),
    Case("dose-text", study("dose: 5,", "dose: high,"), CHECK,
         "key 'groups[2].dose'", "study.yaml"),
    Case("dose-inf", study("dose: 5,", "dose: .inf,"), CHECK,
         "key 'groups[2].dose'", "study.yaml"),
    Case("bad-study-id", study("study_id: S-1", "study_id: 'S 1/../x'"), CHECK,
         "key 'study_id'", "study.yaml"),
    Case("groups-not-list", study(STUDY[STUDY.index("groups:"):STUDY.index("subjects:")],
                                  "groups: C\n"), CHECK, "key 'groups'", "study.yaml"),
    Case("top-level-list", {**BASE, "study.yaml": "- a\n- b\n"}, CHECK,
         "expected study keys ('key: value' lines), found a list", "study.yaml"),
    Case("empty-study", {**BASE, "study.yaml": ""}, CHECK,
         "the study file is empty (no study keys)", "study.yaml"),
    Case("subjects-is-dir", study("subjects: subjects.csv", "subjects: ."), CHECK,
         "expected the subjects file, found a folder", ""),
    Case("invalid-yaml", study("groups:", "groups: [\n"), CHECK, "invalid YAML", "study.yaml"),
    Case("tab-indent", study("  - {id: C", "\t- {id: C"), CHECK, "invalid YAML", "study.yaml"),
    Case("python-object-tag", study("title: Robustness study",
                                    "title: !!python/object/apply:os.system ['true']"),
         CHECK, "unsafe or unknown YAML tag", "study.yaml"),
    Case("python-name-tag", study("title: Robustness study", "title: !!python/name:os.system"),
         CHECK, "unsafe or unknown YAML tag", "study.yaml"),
    Case("custom-tag", study("title: Robustness study", "title: !secret x"), CHECK,
         "unsafe or unknown YAML tag", "study.yaml"),
    Case("recursive-alias", {**BASE, "study.yaml": STUDY + "sponsor: &a [*a]\n"}, CHECK,
         "line 11, column 10: recursive alias", "study.yaml"),
    Case("non-utf8-study", {**BASE, "study.yaml": STUDY.encode("utf-16")}, CHECK,
         "not UTF-8 text", "study.yaml"),
    Case("latin1-study", {**BASE, "study.yaml": STUDY.replace("Robustness", "Röbustness")
                          .encode("latin-1")}, CHECK, "not UTF-8 text", "study.yaml"),
    Case("study-missing", {}, CHECK, "file not found", "study.yaml"),
    Case("study-is-dir", {"study.yaml/x": "x"}, CHECK, "expected a file, found a folder",
         "study.yaml"),
    # --- paths
    Case("subjects-escapes", study("subjects: subjects.csv", "subjects: ../subjects.csv"),
         CHECK, "key 'subjects': path '../subjects.csv' leaves the study folder", "study.yaml"),
    Case("subjects-absolute", study("subjects: subjects.csv", "subjects: /etc/hostname"),
         CHECK, "key 'subjects': absolute path '/etc/hostname' not allowed", "study.yaml"),
    Case("layout-escapes", study("{P1: layout.csv}", "{P1: sub/../../layout.csv}"), CHECK,
         "key 'plate_layouts.P1': path 'sub/../../layout.csv' leaves", "study.yaml"),
    Case("windows-absolute", study("{P1: layout.csv}", "{P1: 'C:\\data\\layout.csv'}"), CHECK,
         "key 'plate_layouts.P1': absolute path", "study.yaml"),
    Case("exclusions-escapes", study("exclusions: exclusions.csv", "exclusions: ../../x.csv"),
         CHECK, "key 'exclusions': path '../../x.csv' leaves", "study.yaml"),
    Case("subjects-missing-file", {k: v for k, v in BASE.items() if k != "subjects.csv"},
         CHECK, "subjects file not found", "subjects.csv"),
    Case("assay-input-escapes",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: nor-standard, "
                                        "input: ../../etc/passwd}\n"},
         CHECK, "key 'assays.nor.input[0]': path '../../etc/passwd' leaves", "study.yaml"),
    Case("assay-input-missing",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: nor-standard, "
                                        "input: nope.csv}\n"},
         CHECK, "key 'assays.nor.input[0]': input 'nope.csv' not found", "study.yaml"),
    Case("assay-glob-no-match",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: nor-standard, "
                                        "input: 'raw/*.xlsx'}\n"},
         CHECK, "pattern 'raw/*.xlsx' matches no file", "study.yaml"),
    Case("assay-duplicate",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: a, input: x}\n"
                                        "  - {assay: nor, protocol: b, input: y}\n"},
         CHECK, "assay 'nor' is listed twice", "study.yaml"),
    Case("assay-name-misspelt",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: cipm, protocol: "
                                        "cipn-paclitaxel-rat, input: layout.csv}\n"},
         CHECK, "key 'assays.cipm.assay': unknown assay 'cipm' (did you mean 'cipn'?)",
         "study.yaml"),
    Case("assay-layout-unknown",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: neurite_outgrowth, protocol: a, "
                                        "input: layout.csv, layout: P9}\n"},
         CHECK, "key 'assays[0].layout': layout 'P9' is not among plate_layouts", "study.yaml"),
    Case("protocol-file-escapes",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: ../p.yaml, "
                                        "input: layout.csv}\n"},
         CHECK, "key 'assays.nor.protocol': path '../p.yaml' leaves", "study.yaml"),
    Case("protocol-file-missing",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: protos/p.yaml, "
                                        "input: layout.csv}\n"},
         CHECK, "key 'assays.nor.protocol': protocol file 'protos/p.yaml' not found",
         "study.yaml"),
    Case("protocol-unknown-name",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: nor-standrd, "
                                        "input: layout.csv}\n"},
         CHECK, "key 'assays.nor.protocol': unknown protocol 'nor-standrd' (did you mean "
         "'nor-standard'?)", "study.yaml"),
    Case("protocol-of-other-assay",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: tmaze-spontaneous, "
                                        "input: layout.csv}\n"},
         CHECK, "protocol 'tmaze-spontaneous' is for assay 'tmaze', not 'nor'", "study.yaml"),
    Case("protocol-parameter-unknown",
         {**BASE, "study.yaml": STUDY + "assays:\n  - {assay: nor, protocol: nor-standard, "
                                        "input: layout.csv, parameters: {min_explor: 5}}\n"},
         CHECK, "min_explor", "study.yaml"),
    # --- subjects.csv
    Case("subject-undefined-group", with_file("subjects.csv", SUBJECTS + "A4,X,F,L4\n"), CHECK,
         "row 5, column 'group': group 'X' is not defined", "subjects.csv"),
    Case("subject-duplicate", with_file("subjects.csv", SUBJECTS + "A1,C,F,L1\n"), CHECK,
         "row 5, column 'subject': subject 'A1' appears twice", "subjects.csv"),
    Case("subject-bad-sex", with_file("subjects.csv", SUBJECTS + "A4,C,mal,L4\n"), CHECK,
         "row 5, column 'sex': sex 'mal' is not M, F or NA", "subjects.csv"),
    Case("subject-empty-id", with_file("subjects.csv", SUBJECTS + ",C,F,L4\n"), CHECK,
         "row 5, column 'subject': subject is empty", "subjects.csv"),
    Case("subjects-missing-column", with_file("subjects.csv", "subject,group\nA1,C\n"), CHECK,
         "expected column(s) 'sex'", "subjects.csv"),
    Case("subjects-extra-column", with_file("subjects.csv", "subject,group,sex,weight\n"
                                                            "A1,C,M,300\n"), CHECK,
         "unexpected column(s) 'weight'", "subjects.csv"),
    Case("subjects-empty-file", with_file("subjects.csv", ""), CHECK,
         "file is empty (no header line)", "subjects.csv"),
    Case("subjects-not-text", with_file("subjects.csv", b"\xff\xfe\x00\x01garbage\x00"),
         CHECK, "expected column(s) 'group', 'sex', 'subject', found", "subjects.csv"),
    Case("subjects-ragged", with_file("subjects.csv", SUBJECTS + "A4,C,M,L4,extra,more\n"),
         CHECK, "line 5: expected 4 cells like the header, found 6", "subjects.csv"),
    # --- hostile inputs (attack24)
    Case("subjects-column-named-twice",
         with_file("subjects.csv", SUBJECTS.replace("litter", "group", 1)), CHECK,
         "line 1: column 'group' appears twice in the header (columns 2 and 4)",
         "subjects.csv"),
    Case("subjects-header-repeated",
         with_file("subjects.csv", SUBJECTS + "subject,group,sex,litter\nA4,C,M,L4\n"), CHECK,
         "row 5: this row repeats the header line", "subjects.csv"),
    Case("subjects-saved-as-workbook", with_file("subjects.csv", b"PK\x03\x04" + b"\x00" * 40),
         CHECK, "cannot open as an xlsx workbook", "subjects.csv"),
    Case("dose-true", study("dose: 5,", "dose: true,"), CHECK,
         "key 'groups[2].dose': expected a number, not a true/false value", "study.yaml"),
    Case("two-groups-one-label", study("label: Low", "label: high"), CHECK,
         "groups 'H', 'L' have the same label 'high' (or labels that differ only in letter "
         "case, invisible or look-alike characters); give each group its own label",
         "study.yaml"),
    # --- layout.csv
    Case("layout-no-well-column", with_file("layout.csv", "position,group\nA01,C\n"), CHECK,
         "expected column(s) 'well'", "layout.csv"),
    Case("layout-no-group-or-conc", with_file("layout.csv", "well,treatment\nA01,C\n"), CHECK,
         "expected a 'group' or 'concentration' column", "layout.csv"),
    Case("layout-bad-well", with_file("layout.csv", LAYOUT + "ZZ9,C,0\n"), CHECK,
         "row 5, column 'well': 'ZZ9' is not a well name", "layout.csv"),
    Case("layout-well-outside-384", with_file("layout.csv", LAYOUT + "Q01,C,0\n"), CHECK,
         "row 5, column 'well': well 'Q01' is outside a 384-well plate", "layout.csv"),
    Case("layout-column-25", with_file("layout.csv", LAYOUT + "A25,C,0\n"), CHECK,
         "row 5, column 'well': well 'A25' is outside", "layout.csv"),
    Case("layout-duplicate-well", with_file("layout.csv", LAYOUT + "a1,C,0\n"), CHECK,
         "row 5, column 'well': well 'A01' appears twice", "layout.csv"),
    Case("layout-undefined-group", with_file("layout.csv", LAYOUT + "A04,Z,0\n"), CHECK,
         "row 5, column 'group': group 'Z' is not defined", "layout.csv"),
    Case("layout-text-concentration", with_file("layout.csv", LAYOUT + "A04,C,ten\n"), CHECK,
         "row 5, column 'concentration': expected a number, found 'ten'", "layout.csv"),
    Case("layout-na-concentration", with_file("layout.csv", LAYOUT + "A04,C,#N/A\n"), CHECK,
         "row 5, column 'concentration': expected a number, found '#N/A'", "layout.csv"),
    Case("layout-decimal-comma", with_file("layout.csv", LAYOUT + 'A04,C,"0,5"\n'), CHECK,
         "row 5, column 'concentration': expected a number, found '0,5'", "layout.csv"),
    # --- exclusions.csv
    Case("exclusion-without-reason", with_file("exclusions.csv", EXCL + "A2,\n"), CHECK,
         "row 3, column 'reason': exclusion has no reason", "exclusions.csv"),
    Case("exclusions-no-reason-column", with_file("exclusions.csv", "subject\nA2\n"), CHECK,
         "expected column(s) 'reason'", "exclusions.csv"),
    Case("exclusion-empty-subject", with_file("exclusions.csv", EXCL + ",broken leg\n"), CHECK,
         "row 3, column 'subject': subject is empty", "exclusions.csv"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_study_corpus(case, tmp_path):
    run_case(case, tmp_path)


def test_base_case_is_valid(tmp_path, invoke):
    for rel, text in BASE.items():
        (tmp_path / rel).write_text(text)
    r = invoke("check", tmp_path / "study.yaml")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("files", [
    {"subjects.csv": SUBJECTS.encode("utf-16")},
    {"subjects.csv": SUBJECTS.replace(",", "\t").replace("\n", "\r\n").encode("utf-16")},
    {"subjects.csv": SUBJECTS.replace(",", ";").replace("L1", "Lé1").encode("cp1252")},
    {"subjects.csv": "".join(f"{line},,\n" for line in SUBJECTS.splitlines())},
    {"exclusions.csv": EXCL.encode("utf-16")},
    {"layout.csv": LAYOUT.replace(",", ";")},
], ids=["subjects-utf16", "subjects-excel-unicode-text", "subjects-semicolon-cp1252",
        "subjects-trailing-empty-columns", "exclusions-utf16", "layout-semicolon"])
def test_study_tables_as_excel_saves_them(tmp_path, invoke, files):
    """Encodings, delimiters and empty trailing columns Excel writes are read (refused
    before: 'file is not UTF-8 text', 'unexpected column(s) Unnamed: 4')."""
    for rel, data in {**BASE, **files}.items():
        p = tmp_path / rel
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    r = invoke("check", tmp_path / "study.yaml")
    assert r.exit_code == 0, r.output


def test_layout_decimal_comma_concentration(tmp_path):
    """A ';' layout with decimal commas gives the concentrations (0,5 is 0.5); a group
    named like a number stays as written."""
    from neurotox.study import read_layout

    (tmp_path / "layout.csv").write_text("well;group;concentration\nA01;C;0\nA02;0,5;0,5\n"
                                         "A03;H;1.234,5\n")
    df = read_layout(tmp_path / "layout.csv")
    assert df["concentration"].tolist() == [0, 0.5, 1234.5]
    assert df["group"].tolist() == ["C", "0,5", "H"]

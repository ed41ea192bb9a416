"""The materials and methods of the analysis are written from the run's record only."""

import pytest

from neurotox.report.materials import EntryRecord, materials_section, value_text

SHA_A, SHA_B, SHA_P = "a" * 64, "b" * 64, "c" * 64


@pytest.mark.parametrize(("value", "text"), [
    (0.441428571, "0.441428571"), (30.0, "30"), (True, "true"), (None, "null"), ("day-1", "day-1"),
    ("", '""'),
    ({"hot_plate": 30.0, "tail_flick": 12.5}, "{hot_plate: 30, tail_flick: 12.5}"),
    ([0.008, 0.02, 1.4], "[0.008, 0.02, 1.4]"),
])
def test_parameter_values_are_written_as_in_a_study_file(value, text):
    assert value_text(value) == text


def test_a_lab_protocol_file_its_template_its_changes_notes_and_files():
    protocol = {"name": "lab-vf", "title": "Our von Frey", "guidelines": [], "shipped": False,
                "file": "/lab/protocols/lab-vf.yaml", "sha256": SHA_P,
                "template": "von-frey-up-down", "template_sha256": SHA_B,
                "changed": {"delta": {"template": 0.224, "used": 0.4414,
                                      "set_in": "protocol file"}}}
    entry = EntryRecord("vf", "cipn", protocol, files=["/data/vf.xlsx", "/data/vf.xlsx"],
                        notes=["vf.xlsx: 5 up-down series out of range (all X or all O)",
                               "convention: said elsewhere"])
    [block, study] = materials_section([entry], inputs=[("/data/vf.xlsx", SHA_A)],
                                       study_files=["/data/study.yaml"], software="neurotox 1.2")
    assert block.heading == "Assay cipn, entry vf"
    assert block.paragraphs == [
        f"Protocol lab-vf (Our von Frey): the study's protocol file /lab/protocols/lab-vf.yaml, "
        f"SHA-256 {SHA_P}; based on the shipped template von-frey-up-down, SHA-256 {SHA_B}.",
        "Parameters that differ from the template von-frey-up-down: delta = 0.4414 (template: "
        "0.224; set in the protocol file). run.json records the effective value of every "
        "parameter.",
        "Notes of the run on this assay:",
        "– vf.xlsx: 5 up-down series out of range (all X or all O)",
        "Files read (SHA-256 as listed in run.json):"]
    assert block.files == [("/data/vf.xlsx", SHA_A)]
    # a file run.json does not list gets no invented hash
    assert study.heading == "Study files" and study.files == [("/data/study.yaml", "–")]


def test_values_read_from_an_endpoint_table_say_no_assay_was_run():
    [block] = materials_section([], inputs=[("ep.csv", SHA_A)], endpoints_file="ep.csv")
    assert block.heading == "Endpoint values"
    assert block.paragraphs[0].startswith("The endpoint values were read from an EndpointTable "
                                          "made elsewhere; no assay was run by this analysis")
    assert block.files == [("ep.csv", SHA_A)]

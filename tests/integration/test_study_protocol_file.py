"""A protocol file kept with the study: resolved against the study folder, hashed."""

import json

import yaml

from neurotox.protocols import protocol_dir


def test_protocol_file_beside_the_study_is_used_from_any_directory(invoke, tmp_path,
                                                                   monkeypatch):
    study = tmp_path / "study"
    assert invoke("simulate", "tmaze", "-o", study).exit_code == 0
    proto = yaml.safe_load((protocol_dir() / "tmaze-spontaneous.yaml").read_text())
    proto["name"] = "lab-tmaze"
    proto["parameters"]["min_entries"] = 12  # the lab's own rule
    (study / "protocols").mkdir()
    (study / "protocols" / "lab-tmaze.yaml").write_text(yaml.safe_dump(proto))
    spec = yaml.safe_load((study / "study.yaml").read_text())
    spec["assays"][0]["protocol"] = "protocols/lab-tmaze.yaml"
    (study / "study.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    check = invoke("check", study / "study.yaml")
    assert check.exit_code == 0, check.output
    assert "assay tmaze: protocol lab-tmaze" in check.output
    out = tmp_path / "out"
    res = invoke("report", study / "study.yaml", "-o", out, "--format", "csv", "--no-bmd")
    assert res.exit_code == 0, res.output
    # csv alone builds no summary tables: the message names what was written
    assert "wrote the endpoint values, statistical results and decisions (csv)" in res.output
    assert {p.name for p in (out / "csv").iterdir()} >= {"endpoints.csv", "results.csv",
                                                        "decisions.csv"}
    manifest = json.loads((out / "manifest.json").read_text())
    params = manifest["parameters"]["assays"]["tmaze"]
    assert params["protocol"] == "lab-tmaze" and params["min_entries"] == 12
    hashed = {e["path"] for e in manifest["inputs"]}
    assert "../study/protocols/lab-tmaze.yaml" in hashed   # relative to the output folder


def test_misspelt_assay_parameter_names_its_place_in_the_study(invoke, tmp_path):
    # a stranger's `patern:` under a neurite assay entry was reported as
    # "key 'parameters.patern'", as if the study file had a top-level 'parameters'
    folder = tmp_path / "study"
    assert invoke("simulate", "tmaze", "-o", folder).exit_code == 0
    study = folder / "study.yaml"
    text = study.read_text(encoding="utf-8")
    assert "  input: tmaze_entries.csv\n" in text
    study.write_text(text.replace("  input: tmaze_entries.csv\n",
                                  "  input: tmaze_entries.csv\n  parameters: {min_entriez: 3}\n"),
                     encoding="utf-8")
    r = invoke("check", "--no-assays", study)
    assert r.exit_code == 2
    assert "study.yaml, key 'assays.tmaze.parameters.min_entriez': unknown key" in r.output

"""Same command twice → byte-identical outputs (manifest timestamps aside); audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.robustness import test_rodent_corpus as rodent
from tests.robustness import test_zebrafish_corpus as zf
from tests.robustness.corpus import invoke, materialise
from tests.stamps import same_report_files

#: Manifest keys that legitimately differ between two runs of the same command.
VOLATILE = {"started_utc", "finished_utc", "manifest_sha256", "command"}


def _run(args: tuple[str, ...], folder: Path, out: str) -> Path:
    res = invoke(tuple(a.replace("{out}", f"{{dir}}/{out}") for a in args), folder)
    assert res.exit_code == 0, res.output
    return folder / out


def assert_same_outputs(a: Path, b: Path, *, ignore_parameters: tuple[str, ...] = ()) -> None:
    """Every file byte-identical except manifest.json, whose stable keys must agree.

    Report folders (with run.json) print their run ID, date and command: those are
    masked before comparing; run.log (timestamps, durations) is not compared.
    """
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    rels = [p.as_posix() for p in files_a if p.name not in ("manifest.json", "run.log")]
    if (a / "run.json").is_file():
        differ = same_report_files(a, b, rels)
    else:
        differ = [r for r in rels if (a / r).read_bytes() != (b / r).read_bytes()]
    assert differ == [], f"outputs differ between identical runs: {differ}"
    ma, mb = (json.loads((x / "manifest.json").read_text()) for x in (a, b))
    for key in set(ma) - VOLATILE:
        va, vb = ma[key], mb[key]
        if key == "outputs" and (a / "run.json").is_file():  # stamped files: compared above
            va, vb = ([o["path"] for o in v] for v in (va, vb))
        if key == "parameters":
            va = {k: v for k, v in va.items() if k not in ignore_parameters}
            vb = {k: v for k, v in vb.items() if k not in ignore_parameters}
        assert va == vb, f"manifest {key!r} differs"


def test_zebrafish_twice_is_byte_identical(tmp_path):
    """csv and parquet tables of two identical zebrafish runs are byte-identical."""
    materialise({"zl.csv": zf.ZL, "layout.csv": zf.LAYOUT}, tmp_path)
    a = _run(zf.zf(), tmp_path, "a")
    b = _run(zf.zf(), tmp_path, "b")
    assert any(p.suffix == ".parquet" for p in a.iterdir())
    assert_same_outputs(a, b)


def _tmaze_study(folder: Path, exclusions: str | None = None) -> None:
    study = rodent.STUDY + ("assays:\n  - {assay: tmaze, protocol: tmaze-spontaneous, "
                            "input: entries.csv}\n")
    files = {"study.yaml": study, "subjects.csv": rodent.SUBJ, "entries.csv": rodent.ENTRIES}
    if exclusions is not None:
        files["study.yaml"] = study + "exclusions: excl.csv\n"
        files["excl.csv"] = exclusions
    materialise(files, folder)


def test_report_twice_is_byte_identical(tmp_path):
    """xlsx, docx, html, csv and figures of two identical report runs are byte-identical."""
    _tmaze_study(tmp_path)
    args = ("--quiet", "report", "{dir}/study.yaml", "-o", "{out}")
    a = _run(args, tmp_path, "a")
    b = _run(args, tmp_path, "b")
    assert (a / "report.xlsx").is_file() and (a / "report.docx").is_file()
    assert_same_outputs(a, b)


def test_manual_exclusions_reach_manifest_and_endpoint_table(tmp_path):
    """Exclusions file rows: in the manifest (what, why, rule) and in the EndpointTable."""
    _tmaze_study(tmp_path, "subject,reason,endpoint\nC2,found dead on day 3,\n"
                           "H1,video lost,tmaze_alternation_pct\n")
    out = _run(("--quiet", "report", "{dir}/study.yaml", "--format", "csv", "-o", "{out}"),
               tmp_path, "out")
    manifest = json.loads((out / "manifest.json").read_text())
    manual = {(e["subject"], e["endpoint"]): e for e in manifest["exclusions"]
              if e.get("rule") == "manual exclusions file"}
    assert manual[("C2", "all")]["reason"] == "found dead on day 3"
    assert manual[("H1", "tmaze_alternation_pct")]["reason"] == "video lost"
    ept = pd.read_csv(out / "csv" / "endpoints.csv", keep_default_na=False)
    c2 = ept[ept["subject"] == "C2"]
    assert len(c2) and c2["excluded"].all()
    assert c2["exclusion_reason"].str.contains("found dead on day 3").all()
    h1 = ept[ept["subject"] == "H1"].set_index("endpoint")
    assert bool(h1.loc["tmaze_alternation_pct", "excluded"])
    assert "video lost" in h1.loc["tmaze_alternation_pct", "exclusion_reason"]
    assert not h1.drop(index="tmaze_alternation_pct")["excluded"].any()


def test_exclusion_row_without_reason_is_an_error(tmp_path):
    """GLP: an exclusion without a reason stops the run, naming the file and row."""
    _tmaze_study(tmp_path, "subject,reason\nC2,\n")
    res = invoke(("report", "{dir}/study.yaml", "--format", "csv", "-o", "{out}"), tmp_path)
    assert res.exit_code == 2
    assert "excl.csv" in res.output and "row 2" in res.output
    assert not (tmp_path / "out").exists()


def test_simulate_twice_is_byte_identical(tmp_path):
    """The same seed writes the same bytes, compressed files included (gzip holds no time)."""
    import time

    from click.testing import CliRunner

    from neurotox.cli.main import cli

    runs = []
    for name in ("a", "b"):
        res = CliRunner().invoke(cli, ["simulate", "zebrafish-screen", "-o",
                                        str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        runs.append(tmp_path / name)
        time.sleep(1.1)         # gzip's header holds seconds
    assert (runs[0] / "screen_lmr0.csv.gz").is_file()
    assert_same_outputs(*runs)

"""Finished-run folders of simulated OECD TG 424 studies, for the historical control tests.

``neurotox hcd add`` reads a run folder's manifest, its ``csv/endpoints.csv`` and
the study file the manifest names. :func:`make_run` writes exactly that through
the same :class:`~neurotox.io.output.OutputDir` and the same csv number format
as ``neurotox report``, but without the statistics, tables and figures the
database does not read (a full report takes ~25 s per study; ten of them would
dominate the test suite). One test reports a study for real and adds that.
"""

from __future__ import annotations

from pathlib import Path

from neurotox.io.output import OutputDir, RunRecord, relative_path


def study_id(seed: int) -> str:
    """The study number of the simulated study of ``seed``."""
    return f"NTX-SIM-424-{seed}"


def make_run(base: Path, seed: int) -> Path:
    """Simulate a TG 424 study with ``seed`` under ``base`` and write its run folder."""
    from neurotox.simulate import get_simulator

    study_dir = base / f"study{seed}"
    study_dir.mkdir(parents=True)
    get_simulator("oecd-424").write(study_dir, seed)
    # each simulated study its own study number (the database holds one study per number)
    yaml_file = study_dir / "study.yaml"
    yaml_file.write_text(yaml_file.read_text().replace(
        "study_id: NTX-SIM-424\n", f"study_id: {study_id(seed)}\n", 1))
    return write_run(study_dir / "study.yaml", base / f"run{seed}")


def write_run(study_file: Path, run: Path) -> Path:
    """Run the study's assays and write the run folder ``run`` as ``neurotox report`` would."""
    from neurotox.pipeline import collect_endpoints
    from neurotox.study import load_study

    study = load_study(study_file)
    # the study path recorded as the CLI records it: relative to the run folder
    record = RunRecord(command=["neurotox", "report", str(study_file)],
                       parameters={"study": relative_path(study_file, run),
                                   "formats": ["csv"]})
    with OutputDir(run, record=record) as od:
        collected = collect_endpoints(study)
        record.add_inputs(study.input_files())
        record.add_inputs(collected.inputs)
        record.parameters["assays"] = collected.parameters
        od.write_text("csv/endpoints.csv", collected.table.to_csv(
            index=False, lineterminator="\n", float_format="%.10g"))
    return run

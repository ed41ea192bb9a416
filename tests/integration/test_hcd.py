"""``neurotox hcd`` end to end on SQLite and PostgreSQL: add, concurrency, kill, ranges."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from tests.hcd_backends import hcd_url  # noqa: F401  (fixture)
from tests.hcd_runs import make_run

from neurotox.hcd import db, schema, store
from neurotox.hcd.ranges import Query, ranges, select_rows

REPO = Path(__file__).resolve().parents[2]
SEEDS = range(101, 111)


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[int, Path]:
    """Ten finished runs of simulated TG 424 studies (different seeds), built once per session.

    The folder is shared by the pytest-xdist workers (the first builds it under a
    file lock, the others wait and reuse it); the runs are only read.
    """
    import fcntl

    root = tmp_path_factory.getbasetemp()
    root = root.parent if root.name.startswith("popen-gw") else root
    base = root / "hcd-runs"
    with open(root / "hcd-runs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "done").exists():
            import shutil

            shutil.rmtree(base, ignore_errors=True)
            base.mkdir()
            for seed in SEEDS:
                make_run(base, seed)
            (base / "done").touch()
    return {seed: base / f"run{seed}" for seed in SEEDS}


def fill(url: str, runs: dict[int, Path], query: Query) -> pd.DataFrame:
    """Add every run to the database at ``url``; return the ranges of ``query``."""
    from neurotox.hcd.run import run_batch

    engine = db.connect(url)
    try:
        for run in runs.values():
            store.add(engine, run_batch(run))
        return ranges(select_rows(store.fetch(engine, included_only=True), query))
    finally:
        engine.dispose()


def counts(url: str) -> tuple[int, ...]:
    engine = db.connect(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                         for t in (schema.study, schema.animal, schema.result, schema.audit))
    finally:
        engine.dispose()


def test_add_list_export_remove(invoke, runs, hcd_url, tmp_path):  # noqa: F811
    run = runs[101]
    res = invoke("hcd", "add", run, "--db", hcd_url, "--age-weeks", "8", "--vehicle", "water",
                 "--start-date", "2026-01-05")
    assert res.exit_code == 0, res.output
    assert "added study NTX-SIM-424-101 (id 1)" in res.output
    assert "20 animal(s), 20 included in ranges" in res.output      # G1: 10 M + 10 F
    table = pd.read_csv(run / "csv" / "endpoints.csv")
    n_control = int((table["group"] == "G1").sum())
    assert counts(hcd_url) == (1, 20, n_control, 1)
    res = invoke("hcd", "list", "--db", hcd_url)
    assert res.exit_code == 0 and "NTX-SIM-424-101" in res.output and "neurotox-run" in res.output
    again = invoke("hcd", "add", run, "--db", hcd_url)
    assert again.exit_code == 2
    assert again.output.strip().splitlines()[-1].startswith("Error: ")
    assert "study 'NTX-SIM-424-101' is in the historical control database already as id 1 " \
        "(study 'NTX-SIM-424-101', added " in again.output
    assert "; same source, same study number, same data files: brain_weights.csv, fob.csv, " \
        "motor_activity.csv and 2 more, same control animals: 20 of 20 with the same subject " \
        "IDs and values)" in again.output
    out = tmp_path / "export.parquet"
    res = invoke("hcd", "export", "--db", hcd_url, "-o", out)
    assert res.exit_code == 0, res.output
    exported = pd.read_parquet(out)
    assert len(exported) == n_control and set(exported["vehicle"]) == {"water"}
    assert set(exported["age_days"]) == {56.0} and set(exported["group_id"]) == {"G1"}
    res = invoke("hcd", "remove", "1", "--db", hcd_url, "--reason", "test entry")
    assert res.exit_code == 0 and counts(hcd_url) == (0, 0, 0, 2)
    res = invoke("hcd", "list", "--audit", "--db", hcd_url)
    assert "remove" in res.output and "test entry" in res.output


def test_all_groups_stores_treated_animals_not_included(invoke, runs, tmp_path):
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    res = invoke("hcd", "add", runs[102], "--db", url, "--all-groups")
    assert res.exit_code == 0, res.output
    assert "80 animal(s), 20 included in ranges" in res.output
    assert "treated group G4 (100 mg/kg/day)" in res.output


def test_a_changed_run_folder_is_refused(invoke, runs, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs[103], run)
    csv = run / "csv" / "endpoints.csv"
    csv.write_text(csv.read_text().replace(",G1,0,", ",G1,0,", 1) + "\n")
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    res = invoke("hcd", "add", run, "--db", url)
    assert res.exit_code == 2
    assert f"Error: {run}: the run folder does not match its manifest: csv/endpoints.csv: " \
           "changed" in res.output
    assert not (tmp_path / "h.sqlite").exists()     # nothing opened, nothing written


def _journal_mode(path: Path) -> str:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("command", [
    ("add", "{run}"), ("list",), ("list", "--audit"), ("ranges",),
    ("export", "-o", "{tmp}/x.csv"), ("remove", "1", "--reason", "test"),
])
def test_a_refused_sqlite_file_of_another_program_is_left_as_it_was(invoke, runs, tmp_path,
                                                                  command):
    """stranger53 H6: the refused file was first switched to WAL mode (header bytes 19/20
    1 -> 2, a lasting change of another program's file)."""
    import sqlite3

    other = tmp_path / "lims.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE patients (id INTEGER, name TEXT)")
    con.execute("INSERT INTO patients VALUES (1, 'kept')")
    con.commit()
    con.close()
    before = other.read_bytes()
    assert before[18:20] == b"\x01\x01"                       # rollback journal
    args = [a.format(run=runs[101], tmp=tmp_path) for a in command]
    res = invoke("hcd", *args, "--db", other)
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == (
        f"Error: sqlite:///{other}: not a neurotox database: it holds other tables "
        "('patients'); give a new file or a neurotox database")
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lims.sqlite"]
    assert _journal_mode(other) == "delete"


def test_only_a_command_that_writes_sets_wal_mode(invoke, runs, tmp_path):
    """A read command (list, ranges, export) leaves a neurotox database's journal mode."""
    import sqlite3

    path = tmp_path / "hcd.sqlite"
    assert invoke("hcd", "add", runs[101], "--db", path).exit_code == 0
    assert _journal_mode(path) == "wal"
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    for args in (("list",), ("ranges", "--endpoint", "brain_weight"),
                 ("export", "-o", tmp_path / "x.csv")):
        assert invoke("hcd", *args, "--db", path).exit_code == 0
        assert _journal_mode(path) == "delete"
    assert invoke("hcd", "add", runs[102], "--db", path).exit_code == 0
    assert _journal_mode(path) == "wal"


def _rewrite_manifest(run: Path, key=None) -> None:
    """Recompute every output hash and the self-hash, as anyone can; sign with ``key``
    if given, else keep the signature the manifest has."""
    import hashlib
    import json

    from neurotox.io.output import SIGNATURE_ALGORITHM, sha256_file

    doc = json.loads((run / "manifest.json").read_text())
    for o in doc["outputs"]:
        o["sha256"], o["bytes"] = sha256_file(run / o["path"]), (run / o["path"]).stat().st_size
    doc.pop("manifest_sha256")
    if key is not None:
        doc.pop("signature", None)
        doc["signature"] = {"algorithm": SIGNATURE_ALGORITHM, "key_id": key.key_id,
                            "value": key.sign(doc)}
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    doc["manifest_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    (run / "manifest.json").write_text(json.dumps(doc, indent=2))


def test_a_signed_run_is_checked_with_the_key_before_it_is_added(invoke, runs, tmp_path,
                                                                   monkeypatch):
    """stranger39 E2: a control value edited and the manifest rehashed (signature kept)."""
    import json
    import shutil

    from neurotox.io.output import load_key

    key_file = tmp_path / "lab.key"
    key_file.write_text("a-lab-signing-key-of-32-bytes-xx")
    key_file.chmod(0o600)
    key = load_key(key_file)
    signed = tmp_path / "signed"
    shutil.copytree(runs[104], signed)
    shutil.copytree(runs[104].parent / "study104", tmp_path / "study104")  # the study file
    _rewrite_manifest(signed, key)
    url = f"sqlite:///{tmp_path / 'ok.sqlite'}"
    res = invoke("hcd", "add", signed, "--db", url, "--key", key_file)
    assert res.exit_code == 0, res.output
    assert "WARNING" not in res.output
    engine = db.connect(url)
    try:
        detail = json.loads(store.audit_log(engine)["detail"].iloc[0])
    finally:
        engine.dispose()
    assert detail["verified"] == f"manifest intact; signature valid (key {key.key_id})"

    tampered = tmp_path / "tampered"
    shutil.copytree(signed, tampered)
    csv = tampered / "csv" / "endpoints.csv"
    lines = csv.read_text().splitlines(keepends=True)
    column = lines[0].split(",").index("value")
    row = next(i for i, line in enumerate(lines)
               if line.split(",")[6] == "G1" and line.split(",")[3] == "brain_weight")
    cells = lines[row].split(",")
    assert lines[0].split(",")[6] == "group" and cells[column] != "999.5"
    cells[column] = "999.5"                             # a control animal's value
    lines[row] = ",".join(cells)
    csv.write_text("".join(lines))
    _rewrite_manifest(tampered)                         # rehashed, signature kept
    bad = tmp_path / "bad.sqlite"
    refused = invoke("hcd", "add", tampered, "--db", bad, "--key", key_file)
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines()[-1] == (
        f"Error: {tampered}: the run folder does not match its manifest: manifest.json: "
        "signature does not match the key (manifest rewritten, or signed with another key); "
        "'neurotox verify' lists every problem")
    monkeypatch.setenv("NEUROTOX_SIGN_KEY_FILE", str(key_file))
    refused = invoke("hcd", "add", tampered, "--db", bad)
    assert refused.exit_code == 2 and "signature does not match the key" in refused.output
    unsigned = invoke("hcd", "add", runs[104], "--db", bad)
    assert unsigned.exit_code == 2
    assert "manifest.json: not signed, but a key was given (unsigned or signature " \
        "removed)" in unsigned.output
    assert not bad.exists()                             # nothing opened, nothing written

    monkeypatch.delenv("NEUROTOX_SIGN_KEY_FILE")
    warned = f"WARNING: {tampered}: signed with key {key.key_id}; signature not checked " \
        "(no key given): give the key (--key or NEUROTOX_SIGN_KEY_FILE) to check it"
    strict = invoke("--warnings-as-errors", "hcd", "add", tampered, "--db", bad)
    assert strict.exit_code == 2 and "signature not checked" in strict.output
    assert not bad.exists()
    res = invoke("hcd", "add", tampered, "--db", bad)
    assert res.exit_code == 0, res.output
    assert warned in res.output
    engine = db.connect(f"sqlite:///{bad}")
    try:
        detail = json.loads(store.audit_log(engine)["detail"].iloc[0])
    finally:
        engine.dispose()
    assert detail["verified"] == (f"manifest intact; signed with key {key.key_id}; "
                                  "signature not checked (no key given)")


def test_ranges_equal_pandas_over_ten_studies(runs, hcd_url):  # noqa: F811
    got = fill(hcd_url, runs, Query(strain="sprague dawley"))
    frames = []
    for seed, run in runs.items():
        t = pd.read_csv(run / "csv" / "endpoints.csv", keep_default_na=False,
                        na_values=[""], dtype={"timepoint": str, "sex": str})
        t = t[(t["group"] == "G1") & ~t["excluded"]]
        frames.append(t.assign(study=seed))
    hist = pd.concat(frames)
    expect = hist.groupby(["endpoint", "sex", "timepoint"]).agg(
        n_studies=("study", "nunique"), n_animals=("value", "size"), mean=("value", "mean"),
        sd=("value", "std"), min=("value", "min"), max=("value", "max"),
        p5=("value", lambda v: v.quantile(0.05)), p95=("value", lambda v: v.quantile(0.95)))
    study_means = hist.groupby(["endpoint", "sex", "timepoint", "study"])["value"].mean()
    expect["study_mean_min"] = study_means.groupby(level=[0, 1, 2]).min()
    expect["study_mean_max"] = study_means.groupby(level=[0, 1, 2]).max()
    got = got.set_index(["endpoint", "sex", "timepoint"])
    cont = got[got["data_type"] != "incidence"]
    assert len(got) == len(expect) and len(cont) > 100
    for col in ("n_studies", "n_animals"):
        assert (got[col] == expect.loc[got.index, col]).all(), col
    for col in ("mean", "sd", "min", "max", "p5", "p95", "study_mean_min", "study_mean_max"):
        np.testing.assert_allclose(cont[col], expect.loc[cont.index, col], rtol=1e-12,
                                   atol=1e-12, err_msg=col)
    inc = got[got["data_type"] == "incidence"]
    per_study = hist.assign(hit=hist["value"] > 0).groupby(
        ["endpoint", "sex", "timepoint", "study"])["hit"].mean() * 100
    assert len(inc) > 10
    np.testing.assert_allclose(inc["study_incidence_max"],
                               per_study.groupby(level=[0, 1, 2]).max().loc[inc.index])
    np.testing.assert_allclose(inc["study_incidence_min"],
                               per_study.groupby(level=[0, 1, 2]).min().loc[inc.index])


# ---------------------------------------------------------------- processes

def _cli(*args: str) -> subprocess.Popen:
    """``neurotox hcd ARGS`` in a new process (the hcd group alone: the full CLI imports the
    statistics stack, which takes many seconds on a busy machine and is not under test)."""
    return subprocess.Popen([sys.executable, "-c", "from neurotox.cli.hcd import hcd; hcd()",
                             *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_two_adds_at_once_neither_lose_nor_duplicate(runs, hcd_url):  # noqa: F811
    db.connect(hcd_url).dispose()     # schema in place; the race is on the data
    procs = [_cli("add", str(runs[s]), "--db", hcd_url) for s in (104, 105)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    engine = db.connect(hcd_url)
    try:
        listed = store.list_studies(engine)
        rows = store.fetch(engine)
    finally:
        engine.dispose()
    assert len(listed) == 2 and listed["animals"].tolist() == [20, 20]
    expected = sum(int((pd.read_csv(runs[s] / "csv" / "endpoints.csv")["group"] == "G1").sum())
                   for s in (104, 105))
    assert len(rows) == expected
    assert not rows.duplicated(["study_pk", "subject", "endpoint", "timepoint"]).any()


def test_same_study_added_twice_at_once_is_stored_once(runs, hcd_url):  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    from neurotox.errors import InputError
    from neurotox.hcd.run import run_batch

    batch = run_batch(runs[108])
    engines = [db.connect(hcd_url) for _ in range(2)]

    def add(engine):
        try:
            return store.add(engine, batch).results
        except InputError as exc:
            return str(exc)

    try:
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(add, engines))
    finally:
        for e in engines:
            e.dispose()
    assert sorted(map(type, outcomes), key=str) == [int, str], outcomes
    assert "is in the historical control database already" in next(
        o for o in outcomes if isinstance(o, str))
    assert counts(hcd_url)[:3] == (1, 20, len(batch.results))


def test_two_runs_of_one_study_added_at_once_are_stored_once(runs, hcd_url):  # noqa: F811
    """Two report folders of one study (different manifests) added at the same moment."""
    import dataclasses
    import threading

    from neurotox.errors import InputError
    from neurotox.hcd.run import run_batch

    first = run_batch(runs[109])
    second = dataclasses.replace(first, source_hash="f" * 64, source_path="/elsewhere/rerun")
    engines = [db.connect(hcd_url) for _ in range(2)]
    start = threading.Barrier(2)

    def add(engine, batch):
        start.wait()
        try:
            return store.add(engine, batch).results
        except InputError as exc:
            return str(exc)

    try:
        threads = []
        outcomes: list = [None, None]
        for i, (engine, batch) in enumerate(zip(engines, (first, second), strict=True)):
            threads.append(threading.Thread(
                target=lambda i=i, e=engine, b=batch: outcomes.__setitem__(i, add(e, b))))
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
    finally:
        for e in engines:
            e.dispose()
    assert sorted(map(type, outcomes), key=str) == [int, str], outcomes
    assert "same study number" in next(o for o in outcomes if isinstance(o, str))
    assert counts(hcd_url)[:3] == (1, 20, len(first.results))


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from neurotox.hcd import db, store
    from neurotox.hcd.run import run_batch

    marker = Path(sys.argv[1])
    original = store._insert_results

    def insert_then_wait(conn, results, ids):
        n = original(conn, results, ids)       # every row written, nothing committed yet
        part = marker.with_suffix(".part")
        part.write_text(str(n))
        part.rename(marker)                    # the marker appears complete
        time.sleep(600)
        return n

    store._insert_results = insert_then_wait
    # what 'neurotox hcd add RUN --db URL' runs, without the CLI's slow imports
    store.add(db.connect(sys.argv[3]), run_batch(sys.argv[2]))
""")


def test_killed_add_leaves_database_as_before(runs, hcd_url, tmp_path):  # noqa: F811
    from neurotox.hcd.run import run_batch

    engine = db.connect(hcd_url)
    try:
        store.add(engine, run_batch(runs[106]))
    finally:
        engine.dispose()
    before = counts(hcd_url)
    marker = tmp_path / "inside-transaction"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(marker), str(runs[107]),
                             hcd_url], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the import never reached its transaction"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)
    assert int(marker.read_text()) > 1000          # it had written its values
    assert counts(hcd_url) == before
    engine = db.connect(hcd_url)                    # and the database still takes the study
    try:
        added = store.add(engine, run_batch(runs[107]))
    finally:
        engine.dispose()
    assert added.animals == 20 and counts(hcd_url)[0] == before[0] + 1


# ---------------------------------------------------------------- report

def _report(study_file: Path):
    """The report model of a study as ``neurotox report`` builds it, without figures and BMD."""
    from neurotox.io.output import RunRecord, software_versions
    from neurotox.pipeline import analyse, exclusion_lines, historical_controls, prepare
    from neurotox.report import build_report
    from neurotox.study import load_study

    study = load_study(study_file)
    record = RunRecord()
    collected = prepare(study, None, record)
    analysis = analyse(collected.table, study)
    report = build_report(study.spec, collected.table, analysis.results, analysis.decisions,
                          software=software_versions(), figures=False, bmd=False,
                          exclusions=exclusion_lines(collected.table),
                          historical=historical_controls(study, collected.table, record,
                                                         collected.inputs))
    return report, record


def test_report_with_historical_ranges_marks_planted_effects(runs, tmp_path):
    """Ten control studies in the database, an eleventh (planted effects) reported against them."""
    import yaml
    from tests.hcd_runs import study_id

    from neurotox.report.historical import CONTROL_MARK, MARK, ROW_LABEL
    from neurotox.report.tables import label_of
    from neurotox.simulate import get_simulator

    expected = fill(f"sqlite:///{tmp_path / 'hcd.sqlite'}", runs, Query(strain="Sprague-Dawley"))
    study_dir = tmp_path / "study"
    study_dir.mkdir()
    truth = get_simulator("oecd-424").write(study_dir, 2026)
    doc = yaml.safe_load((study_dir / "study.yaml").read_text())
    doc["historical_controls"] = {"database": "../hcd.sqlite",
                                  "strata": {"strain": "Sprague-Dawley"}}
    (study_dir / "study.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    report, record = _report(study_dir / "study.yaml")
    exp = expected.set_index(["endpoint", "sex", "timepoint"])
    tables = [t for t in report.tables if any(r.labels[0] == ROW_LABEL for r in t.rows)]
    assert len(tables) > 20
    marked: set[tuple[str, str]] = set()
    for t in tables:
        hist = next(r for r in t.rows if r.labels[0] == ROW_LABEL)
        spans = [g.label for g in t.column_groups for _ in range(g.span)] or list(t.columns)
        for k, cell in enumerate(hist.cells):
            if "hist_low" not in cell.numbers:
                continue
            for row in t.rows:
                if not row.labels[0].startswith(("G1", "G2", "G3", "G4")):
                    continue
                c = row.cells[k]
                value = c.numbers.get("incidence_pct" if t.kind == "incidence" else "mean")
                outside = not cell.numbers["hist_low"] <= value <= cell.numbers["hist_high"]
                if row.labels[0].startswith("G1"):     # the concurrent control: ‡, never †
                    assert MARK not in c.text and (CONTROL_MARK in c.text) == outside, \
                        (t.caption, row.labels, c.text)
                    continue
                assert (MARK in c.text) == outside and CONTROL_MARK not in c.text, \
                    (t.caption, row.labels, c.text)
                if outside and row.labels[0].startswith("G4"):
                    marked.add((t.key, spans[k]))
        assert any("Historical controls: database hcd.sqlite; strain Sprague-Dawley" in f
                   and "10 studies" in f for f in t.footnotes), t.footnotes
        assert not any(str(tmp_path) in f for f in t.footnotes), t.footnotes
    # the historical row shows the database's ranges (brain weight, males)
    bw = next(t for t in tables if t.key.startswith("summary-brain-weight") and
              t.header["Sex"] == "Males")
    cols = list(bw.columns)
    cell = next(r for r in bw.rows if r.labels[0] == ROW_LABEL).cells[
        next(i for i, c in enumerate(cols) if c.startswith("Brain weight ("))]
    want = exp.loc[("brain_weight", "M", "NA")]
    assert cell.numbers["hist_low"] == pytest.approx(want["study_mean_min"], rel=1e-12)
    assert cell.numbers["hist_high"] == pytest.approx(want["study_mean_max"], rel=1e-12)
    assert cell.numbers["n"] == want["n_animals"] == 100
    # planted high-dose effects fall outside the historical ranges and are marked
    planted = {p["endpoint"] for p in truth["planted"]}
    assert {"grip_strength_forelimb", "motor_activity_total", "brain_weight"} <= planted
    keys = {k for k, _ in marked}
    for name in ("grip-strength-forelimb", "motor-activity-total", "brain-weight"):
        assert any(name in k for k in keys), (name, sorted(keys))
    columns = {c for _, c in marked}
    assert any(c.startswith(label_of("fob_tremors")) for c in columns), columns
    # neuropathology (findings × groups): a historical incidence column per sex, the
    # planted high-dose lesion marked where its incidence lies outside the range
    path = next(t for t in report.tables if t.key == "pathology-incidence")
    assert path.column_groups[-1].label == "Historical control incidence (%)"
    n_groups = len(path.columns) - path.column_groups[-1].span
    examined = next(r for r in path.rows if r.labels == ("Sciatic nerve", "Number examined"))
    lesion = next(r for r in path.rows if r.labels[1] == "Axonal degeneration")
    sexes = [g.label for g in path.column_groups[:-1] for _ in range(g.span)]
    heads = list(path.columns)
    for k in range(n_groups):
        hist = lesion.cells[n_groups + [g.label for g in path.column_groups[:-1]].index(sexes[k])]
        n, affected = examined.cells[k].numbers["value"], lesion.cells[k].numbers["value"]
        pct = 100 * affected / n
        outside = not hist.numbers["hist_low"] <= pct <= hist.numbers["hist_high"]
        control = heads[k].startswith("G1")
        assert (MARK in lesion.cells[k].text) == (outside and not control), (heads[k], pct)
        assert (CONTROL_MARK in lesion.cells[k].text) == (outside and control), (heads[k], pct)
    assert any(MARK in c.text for c, h in zip(lesion.cells, heads, strict=False)
               if h.startswith("G4"))
    assert any("Historical controls: database hcd.sqlite;" in f for f in path.footnotes)
    recorded = record.parameters["historical_controls"]["NTX-SIM-424"]
    assert recorded["database"] == f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    assert recorded["query"] == {"strain": "Sprague-Dawley"} and recorded["n_studies"] == 10
    assert len(recorded["rows_sha256"]) == 64
    assert sorted(s["study_id"] for s in recorded["studies"]) == sorted(
        study_id(seed) for seed in runs)
    assert sum(s["n_animals"] for s in recorded["studies"]) == recorded["n_animals"]
    # strain set, the rest free: a note (not a warning) naming what is not matched
    assert any(n.startswith("historical controls: the ranges pool 10 studies not matched on "
                            "species, route, vehicle, guideline, facility, age")
               for n in record.notes), record.notes


def test_a_re_run_is_refused_replaced_and_left_out_of_its_own_range(invoke, runs, tmp_path):
    """A study re-reported after the NOAEL was entered: a new manifest, the same study."""
    import shutil

    import yaml
    from tests.hcd_runs import study_id, write_run

    from neurotox.report.historical import ROW_LABEL

    url = f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    for seed in (101, 102, 103):
        assert invoke("hcd", "add", runs[seed], "--db", url).exit_code == 0
    study = tmp_path / "study"
    shutil.copytree(runs[101].parent / "study101", study)
    doc = yaml.safe_load((study / "study.yaml").read_text())
    doc["noael"] = {"dose": 30, "basis": "reduced brain weight at 100 mg/kg/day"}
    (study / "study.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    rerun = write_run(study / "study.yaml", tmp_path / "rerun")
    res = invoke("hcd", "add", rerun, "--db", url)
    assert res.exit_code == 2
    line = res.output.strip()
    assert "\n" not in line and line.startswith(
        f"Error: {rerun}: study '{study_id(101)}' is in the historical control database "
        f"already as id 1 (study '{study_id(101)}', added ")
    assert line.endswith(f"from {runs[101]}; same study number, same data files: "
                         "brain_weights.csv, fob.csv, motor_activity.csv and 2 more, "
                         "same control animals: 20 of 20 with the same subject IDs and "
                         "values); to add "
                         "this one instead, give --replace --reason TEXT, or remove it first "
                         "('neurotox hcd remove 1 --reason TEXT')")
    # renumbered, the same raw data: still the same study
    doc["study_id"] = "NTX-RENUMBERED"
    (study / "study.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    renumbered = write_run(study / "study.yaml", tmp_path / "renumbered")
    res = invoke("hcd", "add", renumbered, "--db", url)
    assert res.exit_code == 2 and "study 'NTX-RENUMBERED' is in the historical control " \
        f"database already as id 1 (study '{study_id(101)}', added " in res.output
    assert f"from {runs[101]}; same data files: brain_weights.csv" in res.output
    assert invoke("hcd", "add", renumbered, "--db", url, "--replace").exit_code == 2
    res = invoke("hcd", "add", renumbered, "--db", url, "--replace", "--reason", "renumbered")
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"replaced id 1 (study '{study_id(101)}', added ")
    engine = db.connect(url)
    try:
        listed = store.list_studies(engine)
        log = store.audit_log(engine)
    finally:
        engine.dispose()
    assert sorted(listed["study_id"]) == ["NTX-RENUMBERED", study_id(102), study_id(103)]
    assert log["action"].tolist() == ["add"] * 3 + ["remove", "add"]
    assert log["reason"].iloc[3] == f"replaced by {renumbered}: renumbered"
    # reporting the study against a database that holds it: its own controls are left out
    doc["historical_controls"] = {"database": "../hcd.sqlite",
                                  "strata": {"strain": "Sprague-Dawley"}}
    (study / "study.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    expected = fill(f"sqlite:///{tmp_path / 'two.sqlite'}", {s: runs[s] for s in (102, 103)},
                    Query(strain="Sprague-Dawley")).set_index(["endpoint", "sex", "timepoint"])
    report, record = _report(study / "study.yaml")
    bw = next(t for t in report.tables if t.key.startswith("summary-brain-weight") and
              t.header["Sex"] == "Males")
    col = next(i for i, c in enumerate(bw.columns) if c.startswith("Brain weight ("))
    cell = next(r for r in bw.rows if r.labels[0] == ROW_LABEL).cells[col]
    want = expected.loc[("brain_weight", "M", "NA")]
    assert cell.numbers["hist_low"] == pytest.approx(want["study_mean_min"], rel=1e-12)
    assert cell.numbers["hist_high"] == pytest.approx(want["study_mean_max"], rel=1e-12)
    assert cell.numbers["n"] == want["n_animals"] == 20
    note = (f"2 studies ({study_id(102)}, {study_id(103)}), 40 control animal(s), {{}} "
            "value(s); left out as the study being reported (same study number, data files "
            "or control animals): 1 study, 20 control animal(s) (database id ")
    recorded = record.parameters["historical_controls"]["NTX-RENUMBERED"]
    assert any(note.format(recorded["n_values"]) in f for f in bw.footnotes), bw.footnotes
    assert (recorded["n_studies"], recorded["n_animals"]) == (2, 40)
    assert recorded["left_out"]["n_studies"] == 1 and recorded["left_out"]["n_animals"] == 20
    assert recorded["left_out"]["entries"][0]["why"] == [
        "same study number", "same data files: brain_weights.csv, fob.csv, motor_activity.csv "
        "and 2 more", "same control animals: 20 of 20 with the same subject IDs and values"]


def test_check_opens_the_studys_historical_control_database(invoke, runs, tmp_path):
    """stranger34 F7: `check` passed a study whose database cannot be opened; `report`
    then failed after the whole analysis (a pipeline gating on check let it through)."""
    import shutil

    import yaml

    study = tmp_path / "study"
    shutil.copytree(runs[101].parent / "study101", study)
    doc = yaml.safe_load((study / "study.yaml").read_text())
    doc["historical_controls"] = {"database": "../nowhere.sqlite",
                                  "strata": {"strain": "Sprague-Dawley"}}
    (study / "study.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    res = invoke("check", study / "study.yaml")
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == (
        f"Error: {study / 'study.yaml'}, key 'historical_controls.database': no historical "
        "control database here yet (add a study first)")
    url = f"sqlite:///{tmp_path / 'nowhere.sqlite'}"
    assert invoke("hcd", "add", runs[102], "--db", url).exit_code == 0
    res = invoke("check", study / "study.yaml")
    assert res.exit_code == 0, res.output


def test_a_database_failing_during_a_command_is_one_line(invoke, runs, tmp_path, monkeypatch):
    """stranger34 F10: a server stopped mid-import, or a SQLite file on a full disk, gave a
    60-line traceback printing the statement and its data rows."""
    import sqlite3

    def full(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO results (value) VALUES (?)", (193.6,),
                                      sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(store, "add", full)
    url = f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    res = invoke("hcd", "add", runs[101], "--db", url)
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == (
        "Error: historical control database: database or disk is full; the command's changes "
        "were not kept (each command is one transaction)")
    assert "INSERT" not in res.output and "193.6" not in res.output


def test_a_database_on_a_read_only_share_can_be_read(invoke, runs, tmp_path):
    """stranger34 F14: list, ranges and a report's ranges failed with 'unable to open
    database file' (SQLite wants its lock and journal files beside a WAL database)."""
    import shutil

    from tests.robustness.corpus import mount_tmpfs, needs_root

    if needs_root.args[0]:
        pytest.skip("needs root (a read-only mount)")
    url = f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    assert invoke("hcd", "add", runs[101], "--db", url).exit_code == 0
    assert invoke("hcd", "add", runs[102], "--db", url).exit_code == 0
    expected = invoke("hcd", "ranges", "--db", url, "--endpoint", "brain_weight").output
    share = tmp_path / "share"
    mount_tmpfs(share, "size=64m")
    try:
        shutil.copy(tmp_path / "hcd.sqlite", share / "hcd.sqlite")
        subprocess.run(["mount", "-o", "remount,ro", str(share)], check=True)
        ro = f"sqlite:///{share / 'hcd.sqlite'}"
        listed = invoke("hcd", "list", "--db", ro)
        assert listed.exit_code == 0 and listed.output.count("NTX-") >= 2, listed.output
        got = invoke("hcd", "ranges", "--db", ro, "--endpoint", "brain_weight")
        assert got.exit_code == 0 and got.output == expected
        # adding needs a writable database: one line naming it
        res = invoke("hcd", "add", runs[103], "--db", ro)
        assert res.exit_code == 2 and "Traceback" not in res.output
        # stranger46: it said only "unable to open database file"
        assert res.stderr.splitlines()[-1] == (
            f"Error: cannot open database {ro}: unable to open database file: the file "
            f"'{share / 'hcd.sqlite'}' is read-only for this user")
    finally:
        subprocess.run(["umount", str(share)], check=False)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_an_add_whose_summary_cannot_be_printed_still_succeeds(runs, tmp_path):
    # stranger34 F15: the study was stored, yet the failed print exited 2 and a retry
    # was then refused as "already in the historical control database"
    sqlite = tmp_path / "lab.sqlite"
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "neurotox", "-q", "hcd", "add",
                               str(runs[101]), "--db", str(sqlite)], cwd=REPO, stdout=full,
                              stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "WARNING: standard output: No space left on device; its last lines were not printed, "
        "but the "
        f"command completed: study NTX-SIM-424-101 (id 1) added to sqlite:///{sqlite}"]
    assert counts(f"sqlite:///{sqlite}")[0] == 1


def test_a_locked_database_says_how_long_it_waited(invoke, runs, tmp_path, monkeypatch):
    # stranger46: "database is locked" came after a silent 60 s wait for another writer
    url = f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    assert invoke("hcd", "add", runs[101], "--db", url).exit_code == 0
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 1)
    import sqlite3

    holder = sqlite3.connect(tmp_path / "hcd.sqlite", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")          # another process writing
        res = invoke("hcd", "add", runs[102], "--db", url)
    finally:
        holder.close()
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [
        f"Error: cannot open database {url}: database is locked (waited 1 s for another "
        "process to finish writing to it)"]
    assert counts(url)[0] == 1


def test_sigterm_once_a_study_is_stored_exits_0(invoke, runs, tmp_path, monkeypatch):
    # stranger46 F5: `hcd add` printed "added study …", then a SIGTERM killed it (exit
    # 143, no line) with the study stored; the retry was refused ("already as id 1")
    import neurotox.cli.hcd as cli_hcd

    stored = cli_hcd.output_committed

    def then_terminated(what: str) -> None:
        stored(what)
        signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(cli_hcd, "output_committed", then_terminated)
    url = f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    res = invoke("-q", "hcd", "add", runs[101], "--db", url)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("added study NTX-SIM-424-101 (id 1) to ")
    assert res.stderr.splitlines() == [
        "WARNING: output complete; stopped by SIGTERM after it was written: study "
        f"NTX-SIM-424-101 (id 1) added to {url}"]
    assert counts(url)[0] == 1

"""Malformed SEND study folders through ``neurotox hcd import-send``.

Each case: exit status 2, one ``Error:`` line naming the file (or folder) and the
problem, and no database created (``--db {out}`` must not appear).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.robustness.corpus import Case, run_case
from tests.send_files import tables, xpt_bytes

ARGS = ("hcd", "import-send", "{dir}/send", "--db", "{out}")


def domains(changes: dict[str, dict[str, list]] | None = None, drop: tuple[str, ...] = (),
            raw: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The hand-made study's files, with columns replaced, domains dropped or raw bytes."""
    out = {}
    for dom, cols in tables().items():
        if dom not in drop:
            cols = {**cols, **(changes or {}).get(dom, {})}
            out[f"send/{dom}.xpt"] = xpt_bytes(dom.upper(), cols)
    out.update({f"send/{k}": v for k, v in (raw or {}).items()})
    return out


def without(dom: str, column: str) -> dict[str, bytes]:
    cols = dict(tables()[dom])
    del cols[column]
    return {**domains(), f"send/{dom}.xpt": xpt_bytes(dom.upper(), cols)}


def replace(dom: str, column: str, index: int, value: object) -> dict[str, dict[str, list]]:
    col = list(tables()[dom][column])
    col[index] = value
    return {dom: {column: col}}


GOOD_DM = xpt_bytes("DM", tables()["dm"])
CASES = [
    Case("missing-dm", domains(drop=("dm",)), ARGS, "expected SEND domain file(s) 'dm.xpt'",
         "send"),
    Case("no-findings", domains(drop=("bw", "om", "lb")), ARGS,
         "expected at least one findings domain", "send"),
    Case("csv-not-xpt", domains(raw={"dm.xpt": b"STUDYID,USUBJID\nS,1\n"}), ARGS,
         "not a SAS XPORT (.xpt) transport file", "send/dm.xpt"),
    Case("empty-file", domains(raw={"tx.xpt": b""}), ARGS, "not a SAS XPORT", "send/tx.xpt"),
    Case("truncated-header", domains(raw={"dm.xpt": GOOD_DM[:500]}), ARGS,
         "damaged SAS XPORT file", "send/dm.xpt"),
    Case("cut-mid-record", domains(raw={"bw.xpt": xpt_bytes("BW", tables()["bw"])[:-37]}),
         ARGS, "its size is not a multiple of 80 bytes", "send/bw.xpt"),
    Case("missing-column", without("dm", "SETCD"), ARGS,
         "expected SEND column(s) 'SETCD' in domain DM", "send/dm.xpt"),
    Case("missing-result-column", without("om", "OMSTRESN"), ARGS,
         "expected SEND column(s) 'OMSTRESN' in domain OM", "send/om.xpt"),
    Case("duplicate-animal", domains(replace("dm", "USUBJID", 1, "S-101")), ARGS,
         "animal 'S-101' appears twice", "send/dm.xpt"),
    Case("unknown-animal", domains(replace("bw", "USUBJID", 0, "S-999")), ARGS,
         "animal 'S-999' is not in dm.xpt", "send/bw.xpt"),
    Case("text-in-number", domains({"bw": {"BWSTRESN": ["abc"] + [""] * 9}}), ARGS,
         "row 1, column 'BWSTRESN': expected a number, found 'abc'", "send/bw.xpt"),
    Case("no-control-set", domains({"tx": {"TXPARMCD": [
        "X" if p == "TCNTRL" else p for p in tables()["tx"]["TXPARMCD"]]}}),
         ARGS, "no trial set has a control type", "send/tx.xpt"),
    Case("undefined-set", domains(replace("dm", "SETCD", 0, "9")), ARGS,
         "names trial set(s) ['9'] that tx.xpt does not define", "send/dm.xpt"),
    Case("empty-domain", domains({"om": {k: [] for k in tables()["om"]}}), ARGS,
         "the dataset holds no rows", "send/om.xpt"),
    Case("two-files-one-domain", domains(raw={"DM.XPT": GOOD_DM}), ARGS,
         "two files for domain 'dm'", "send"),
    Case("no-folder", {"other.txt": "x"}, ARGS, "SEND study folder not found", "send"),
    # stranger53 HS7: a domain file given for its folder said "SEND study folder not found"
    Case("a-domain-file-not-its-folder", domains(),
         ("hcd", "import-send", "{dir}/send/dm.xpt", "--db", "{out}"),
         "expected a SEND study folder, found a SEND domain file: give its folder", "send/dm.xpt"),
    Case("a-file-not-a-folder", {"send": "x"}, ARGS,
         "send: expected a SEND study folder, found a file", "send"),
    # a folder or a broken link named bw.xpt was skipped silently: no body weights
    Case("domain-is-a-folder", {**domains(drop=("bw",)), "send/bw.xpt/x": "x"}, ARGS,
         "cannot read file: Is a directory", "send/bw.xpt"),
    Case("domain-is-a-broken-link", domains(drop=("bw",)), ARGS,
         "cannot read file: No such file or directory", "send/bw.xpt",
         setup=lambda d: (d / "send" / "bw.xpt").symlink_to(d / "gone.xpt")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_send_case(case, tmp_path):
    run_case(case, tmp_path)


# -------------------------------------------------------------- the database is never an input's

def _foreign_db(folder) -> None:
    import sqlite3

    with sqlite3.connect(folder / "other.sqlite") as con:
        con.execute("CREATE TABLE patients (name TEXT)")
        con.execute("INSERT INTO patients VALUES ('kept')")
    con.close()


def _fifo_db(folder) -> None:
    import os

    os.mkfifo(folder / "f.sqlite")


DB_CASES = [
    Case("db-inside-the-send-folder", domains(), ("hcd", "import-send", "{dir}/send", "--db",
                                                   "{dir}/send/hcd.sqlite"),
         "the database lies inside the folder", "send/hcd.sqlite"),
    Case("db-of-another-program", domains(), ("hcd", "import-send", "{dir}/send", "--db",
                                              "{dir}/other.sqlite"),
         "not a neurotox database: it holds other tables ('patients')", "other.sqlite",
         setup=_foreign_db),
    Case("db-is-a-fifo", domains(), ("hcd", "import-send", "{dir}/send", "--db",
                                     "{dir}/f.sqlite"),
         "expected a SQLite database file, found a FIFO", "f.sqlite", setup=_fifo_db),
]


@pytest.mark.parametrize("case", DB_CASES, ids=[c.id for c in DB_CASES])
def test_database_never_written_into_what_is_not_ours(case, tmp_path):
    """Before: neurotox tables were created inside another program's SQLite file and
    inside the very folder being imported."""
    import hashlib

    folder = tmp_path / "in"
    run_case(case, tmp_path)
    assert not (folder / "send" / "hcd.sqlite").exists()
    if case.setup is _foreign_db:
        import sqlite3

        con = sqlite3.connect(folder / "other.sqlite")
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master")]
        con.close()
        assert names == ["patients"]
    assert hashlib.sha256((folder / "send" / "dm.xpt").read_bytes()).hexdigest() == \
        hashlib.sha256(GOOD_DM).hexdigest()


@pytest.fixture
def filled_db(tmp_path, invoke):
    from tests.robustness.corpus import materialise

    materialise(domains(), tmp_path / "src")
    db = tmp_path / "hcd.sqlite"
    res = invoke("--quiet", "hcd", "import-send", tmp_path / "src" / "send", "--db", db)
    assert res.exit_code == 0, res.output
    return db


def test_import_send_counts_animals_and_values_apart(tmp_path, invoke):
    """F17: the count said "(9)" for 4 animals and 4 lines of values."""
    from tests.robustness.corpus import materialise

    materialise(domains(), tmp_path / "src")
    res = invoke("--quiet", "hcd", "import-send", tmp_path / "src" / "send", "--db",
                 tmp_path / "h.sqlite")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[1] == "left out of ranges: 4 animal(s) and 4 further value(s):"
    assert sum(line.startswith("  animal ") for line in lines) == 4


def test_ranges_bad_until_names_the_option(tmp_path, invoke):
    res = invoke("hcd", "ranges", "--db", tmp_path / "h.sqlite", "--until", "2026-13-01")
    assert res.exit_code == 2
    assert res.output.strip() == ("Error: option '--until': expected a date YYYY-MM-DD, found "
                                  "'2026-13-01' (month value is outside expected range of 1-12)")


@pytest.mark.parametrize("command", [("ranges",), ("export",)])
def test_file_outputs_never_overwrite_without_force(filled_db, invoke, command):
    """Before: 'hcd ranges -o FILE' replaced any existing file, asked or not."""
    kept = filled_db.parent / "kept.csv"
    kept.write_text("someone's table\n")
    res = invoke("hcd", *command, "--db", filled_db, "-o", kept)
    assert res.exit_code == 2
    assert res.output.strip() == f"Error: {kept}: exists; use --force to replace it"
    assert kept.read_text() == "someone's table\n"


@pytest.mark.parametrize("command", ["ranges", "export"])
@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_force_replaces_only_a_file_the_same_command_wrote(filled_db, invoke, command, name):
    """stranger29 F17: '--force' replaced any file (a subjects.csv; a study.yaml by Parquet)."""
    out = filled_db.parent / name
    res = invoke("--quiet", "hcd", command, "--db", filled_db, "-o", out)
    assert res.exit_code == 0, res.output
    first = out.read_bytes()
    res = invoke("--quiet", "hcd", command, "--db", filled_db, "-o", out, "--force")
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == first          # its own earlier output: replaced
    table = pd.read_csv(out) if name.endswith(".csv") else pd.read_parquet(out)
    assert table.columns[0] == ("endpoint" if command == "ranges" else "study_pk")
    other = "export" if command == "ranges" else "ranges"
    res = invoke("--quiet", "hcd", other, "--db", filled_db, "-o", out, "--force")
    assert res.exit_code == 2
    assert res.output.strip().startswith(f"Error: {out}: not replaced: --force replaces only "
                                         f"a file 'neurotox hcd {other}' wrote, and ")
    assert out.read_bytes() == first


def _edit_cell(path):
    """An analyst's edit: one value changed, the file's marks (header, metadata) kept."""
    import pyarrow.parquet as pq

    if path.suffix == ".csv":
        lines = path.read_text().splitlines(keepends=True)
        cells = lines[1].split(",")
        cells[-1] = "edited\n"
        path.write_text("".join([lines[0], ",".join(cells), *lines[2:]]))
    else:
        table = pq.read_table(path)
        pq.write_table(table.slice(1), path)           # schema metadata kept, a row gone


@pytest.mark.parametrize("command", ["ranges", "export"])
@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_force_never_replaces_an_output_edited_by_hand(filled_db, invoke, command, name):
    """stranger53 HX10: only the header was checked, so '--force' replaced an export a
    person had edited (a row added, a cell changed)."""
    import hashlib

    out = filled_db.parent / name
    sidecar = filled_db.parent / f"{name}.sha256"
    assert invoke("--quiet", "hcd", command, "--db", filled_db, "-o", out).exit_code == 0
    assert sidecar.read_text() == f"{hashlib.sha256(out.read_bytes()).hexdigest()}  {name}\n"
    _edit_cell(out)
    edited = out.read_bytes()
    res = invoke("hcd", command, "--db", filled_db, "-o", out, "--force")
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"Error: {out}: not replaced: --force replaces only a file 'neurotox hcd {command}' "
        f"wrote, and it changed after it was written (SHA-256 differs from '{name}.sha256'); "
        "remove it yourself or choose another name")
    assert out.read_bytes() == edited
    sidecar.unlink()                  # no record of what was written (an older neurotox)
    res = invoke("hcd", command, "--db", filled_db, "-o", out, "--force")
    assert res.exit_code == 2 and f"there is no checksum file '{name}.sha256' beside it to " \
        "show it unchanged since;" in res.output
    assert out.read_bytes() == edited and not sidecar.exists()


@pytest.mark.parametrize("command", ["ranges", "export"])
def test_a_checksum_file_is_replaced_only_when_it_is_the_outputs(filled_db, invoke, command):
    out = filled_db.parent / "out.csv"
    sidecar = filled_db.parent / "out.csv.sha256"
    sidecar.write_text("my notes\n")
    res = invoke("hcd", command, "--db", filled_db, "-o", out)
    assert res.exit_code == 2
    assert res.output.strip() == f"Error: {sidecar}: exists; use --force to replace it"
    res = invoke("hcd", command, "--db", filled_db, "-o", out, "--force")
    assert res.exit_code == 2 and res.output.strip() == (
        f"Error: {sidecar}: not replaced: it is not the checksum file of 'out.csv'; remove it "
        "yourself or choose another name")
    assert sidecar.read_text() == "my notes\n" and not out.exists()
    # the export deleted, its checksum file kept: replaced with --force
    sidecar.write_text(f"{'0' * 64}  out.csv\n")
    assert invoke("hcd", command, "--db", filled_db, "-o", out, "--force").exit_code == 0
    assert sidecar.read_text().endswith("  out.csv\n") and out.exists()


@pytest.mark.parametrize("command", ["ranges", "export"])
def test_force_never_replaces_a_foreign_file(filled_db, invoke, command):
    subjects = filled_db.parent / "subjects.csv"
    subjects.write_text("subject,group,sex\nA1,G1,M\n")
    res = invoke("hcd", command, "--db", filled_db, "-o", subjects, "--force")
    assert res.exit_code == 2
    assert res.output.strip() == (f"Error: {subjects}: not replaced: --force replaces only a "
                                  f"file 'neurotox hcd {command}' wrote, and its first line is "
                                  "not that table's header; remove it yourself or choose "
                                  "another name")
    assert subjects.read_text() == "subject,group,sex\nA1,G1,M\n"
    fake = filled_db.parent / "other.parquet"
    pd.DataFrame({"endpoint": ["x"]}).to_parquet(fake)
    res = invoke("hcd", command, "--db", filled_db, "-o", fake, "--force")
    assert res.exit_code == 2 and "it does not carry the 'neurotox.output' mark" in res.output


@pytest.mark.parametrize("command", ["ranges", "export"])
def test_the_format_follows_the_file_name(filled_db, invoke, command):
    """stranger29 F17: 'hcd ranges -o study.yaml' wrote Parquet bytes into a .yaml name."""
    study = filled_db.parent / "study.yaml"
    study.write_text("study_id: X\n")
    for force in ((), ("--force",)):
        res = invoke("hcd", command, "--db", filled_db, "-o", study, *force)
        assert res.exit_code == 2
        assert res.output.strip() == ("Error: -o/--output: expected a .csv or .parquet file "
                                      "name (the format follows the name), found 'study.yaml'")
    assert study.read_text() == "study_id: X\n"


@pytest.mark.parametrize("command", [("ranges",), ("export",)])
def test_file_outputs_never_replace_the_database(filled_db, invoke, command):
    """Before: 'hcd export --db X.csv -o X.csv --force' replaced the database by its export."""
    db = filled_db.rename(filled_db.with_name("hcd.csv"))
    before = db.read_bytes()
    res = invoke("hcd", *command, "--db", db, "-o", db, "--force")
    assert res.exit_code == 2
    assert res.output.strip() == (f"Error: {db}: refusing to write there: it is the input "
                                  f"'{db}' (the database)")
    assert db.read_bytes() == before


def test_ranges_that_match_nothing_warn_and_fail_under_warnings_as_errors(filled_db, invoke):
    # stranger42: '--strain Wistar' printed "0 range(s)" with no hint, exit 0
    res = invoke("hcd", "ranges", "--db", filled_db, "--strain", "Wistar")
    assert res.exit_code == 0
    assert "WARNING: no stored control value matches: strain 'Wistar' matches no stored " \
        "study (the database holds " in res.output
    res = invoke("--warnings-as-errors", "hcd", "ranges", "--db", filled_db, "--strain",
                 "Wistar")
    assert res.exit_code == 2 and "(a warning, an error under --warnings-as-errors)" in \
        res.output
    res = invoke("hcd", "ranges", "--db", filled_db, "--age-weeks", "10", "7")
    assert res.exit_code == 2 and res.output.strip() == (
        "Error: option '--age-weeks': age_weeks must be [low, high] with 0 <= low <= high, "
        "found [10.0, 7.0]")


def test_a_domain_file_given_for_its_folder_names_the_folder(invoke, tmp_path, monkeypatch):
    from tests.robustness.corpus import materialise

    materialise(domains(), tmp_path)
    (tmp_path / "send" / "dm.xpt").rename(tmp_path / "send" / "DM.XPT")     # any case
    monkeypatch.chdir(tmp_path)
    res = invoke("hcd", "import-send", "send/DM.XPT", "--db", "h.sqlite")
    assert res.exit_code == 2 and res.output.strip() == (
        "Error: send/DM.XPT: expected a SEND study folder, found a SEND domain file: give its "
        "folder 'send'")
    assert not (tmp_path / "h.sqlite").exists()

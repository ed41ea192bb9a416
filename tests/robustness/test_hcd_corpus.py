"""Malformed SEND study folders through ``neurotox hcd import-send``.

Each case: exit status 2, one ``Error:`` line naming the file (or folder) and the
problem, and no database created (``--db {out}`` must not appear).
"""

from __future__ import annotations

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
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_send_case(case, tmp_path):
    run_case(case, tmp_path)

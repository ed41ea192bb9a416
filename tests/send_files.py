"""Small SAS XPORT (v5) writer and a hand-made SEND study, for tests of the SEND reader.

The writer follows SAS Technical Note TS-140: 80-byte header records, one
140-byte namestr per variable, IBM System/370 doubles for numbers (missing:
``.`` followed by zero bytes), blank-padded text. Real SEND files are read in
``tests/unit/hcd/test_send_real.py``; these are small enough to reason about.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

_DATE = b"01JAN20:00:00:00"


def ibm_double(x: float | None) -> bytes:
    """IEEE double → IBM 370 double (8 bytes); None/NaN → SAS missing ``.``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return b"." + b"\x00" * 7
    if x == 0:
        return b"\x00" * 8
    sign = 0x80 if x < 0 else 0
    m, e = math.frexp(abs(x))            # |x| = m * 2**e, 0.5 <= m < 1
    exp16 = (e + 3) // 4                 # |x| = f * 16**exp16, 1/16 <= f < 1
    mant = int(round(m * 2.0 ** (56 - (4 * exp16 - e))))
    if mant >= 1 << 56:
        mant >>= 4
        exp16 += 1
    return bytes([sign | (exp16 + 64)]) + mant.to_bytes(7, "big")


def _rec(text: bytes) -> bytes:
    return text.ljust(80, b" ")


def _pad(data: bytes) -> bytes:
    return data + b" " * (-len(data) % 80)


def xpt_bytes(name: str, columns: dict[str, list]) -> bytes:
    """One dataset as an XPORT file: ``columns`` maps variable name → values.

    A column is numeric when every value is a number or None, else text.
    """
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    numeric = {c: all(v is None or isinstance(v, int | float) for v in columns[c])
               for c in names}
    lengths = {c: 8 if numeric[c] else max([1] + [len(str(v).encode()) for v in columns[c]])
               for c in names}
    # pandas counts the rows of records up to 80 bytes from blank padding, which
    # blank-padded text can mimic; records longer than 80 bytes are counted by size
    text = [c for c in names if not numeric[c]]
    if text and sum(lengths.values()) <= 80:
        lengths[text[-1]] += 81 - sum(lengths.values())
    out = _rec(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"0" * 30)
    out += _rec(b"SAS     SAS     SASLIB  6.06    bsd4.2  " + b" " * 24 + _DATE)
    out += _rec(_DATE)
    out += _rec(b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
                b"000000000000000001600000000140")
    out += _rec(b"HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!" + b"0" * 30)
    out += _rec(b"SAS     " + name.upper().encode().ljust(8) + b"SASDATA 6.06    bsd4.2  "
                + b" " * 24 + _DATE)
    out += _rec(_DATE + b" " * 16 + name.encode().ljust(40) + b"        ")
    out += _rec(b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000"
                + f"{len(names):04d}".encode() + b"0" * 20)
    namestrs = b""
    pos = 0
    for i, c in enumerate(names):
        namestrs += struct.pack(">hhhh8s40s8shhh2s8shhl52s", 1 if numeric[c] else 2, 0,
                                lengths[c], i + 1, c.encode().ljust(8), c.encode().ljust(40),
                                b" " * 8, 0, 0, 0, b"  ", b" " * 8, 0, 0, pos, b"\x00" * 52)
        pos += lengths[c]
    out += _pad(namestrs)
    out += _rec(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!" + b"0" * 30)
    rows = b""
    for k in range(n):
        for c in names:
            v = columns[c][k]
            rows += ibm_double(None if v is None else float(v)) if numeric[c] else \
                str(v).encode().ljust(lengths[c])
    return out + _pad(rows)


def write_xpt(path: Path, name: str, columns: dict[str, list]) -> Path:
    """Write :func:`xpt_bytes` to ``path``."""
    path.write_bytes(xpt_bytes(name, columns))
    return path


# ------------------------------------------------------------------ a small SEND study

#: Animals: id, sex, set, arm code, arm, disposition date.
ANIMALS = [
    ("S-101", "M", "1", "1", "Vehicle Control", "2020-02-01"),
    ("S-102", "M", "1", "1", "Vehicle Control", "2020-02-01"),
    ("S-103", "M", "1", "1", "Vehicle Control", "2020-01-10"),     # unscheduled death
    ("S-111", "F", "1", "1", "Vehicle Control", "2020-02-01"),
    ("S-112", "F", "1", "1", "Vehicle Control", "2020-02-02"),
    ("S-113", "F", "1", "1", "Vehicle Control", "2020-02-01"),
    ("S-121", "M", "1", "1R", "Recovery Vehicle Control", "2020-03-01"),
    ("S-122", "F", "1", "1R", "Recovery Vehicle Control", "2020-03-01"),
    ("S-131", "M", "3", "1", "Vehicle Control", "2020-02-01"),      # TK set
    ("S-201", "M", "2", "2", "High Dose", "2020-02-01"),            # treated
    ("S-211", "F", "2", "2", "High Dose", "2020-02-01"),
]
#: Brain weight (g) of each animal; hand-computed control summaries in the tests.
BRAIN = {"S-101": 2.0, "S-102": 2.2, "S-103": 1.0, "S-111": 1.8, "S-112": 1.9, "S-113": 2.0,
         "S-121": 2.3, "S-122": 2.1, "S-131": 2.05, "S-201": 1.5, "S-211": 1.4}
TERMBW = {"S-101": 400.0, "S-102": 420.0, "S-103": 300.0, "S-111": 250.0, "S-112": 260.0,
          "S-113": 270.0, "S-121": 450.0, "S-122": 290.0, "S-201": 380.0, "S-211": 240.0}


def tables() -> dict[str, dict[str, list]]:
    """Column dictionaries of the dm, tx, ts, bw, om and lb domains."""
    ids = [a[0] for a in ANIMALS]
    dm = {"STUDYID": ["SYN-1"] * len(ids), "DOMAIN": ["DM"] * len(ids), "USUBJID": ids,
          "SEX": [a[1] for a in ANIMALS], "SETCD": [a[2] for a in ANIMALS],
          "ARMCD": [a[3] for a in ANIMALS], "ARM": [a[4] for a in ANIMALS],
          "RFSTDTC": ["2020-01-02"] * len(ids), "RFENDTC": [a[5] for a in ANIMALS],
          "AGE": [56.0] * len(ids), "AGEU": ["DAYS"] * len(ids)}
    tx_rows = [("1", "Control", "TCNTRL", "Vehicle Control"), ("1", "Control", "TKDESC", "NON-TK"),
               ("1", "Control", "TRTDOS", "0"), ("2", "High", "TRTDOS", "100"),
               ("2", "High", "TKDESC", "NON-TK"), ("3", "Control TK", "TCNTRL", "Vehicle Control"),
               ("3", "Control TK", "TKDESC", "TK")]
    tx = {"STUDYID": ["SYN-1"] * len(tx_rows), "SETCD": [r[0] for r in tx_rows],
          "SET": [r[1] for r in tx_rows], "TXPARMCD": [r[2] for r in tx_rows],
          "TXVAL": [r[3] for r in tx_rows]}
    ts_rows = [("STITLE", "Synthetic 4-week study"), ("SPECIES", "RAT"),
               ("STRAIN", "SPRAGUE-DAWLEY"), ("TRTV", "Water"), ("ROUTE", "ORAL GAVAGE"),
               ("STSTDTC", "2020-01-02"), ("TSTFNAM", "Test Lab"), ("SPLRNAM", "Supplier")]
    ts = {"STUDYID": ["SYN-1"] * len(ts_rows), "TSPARMCD": [r[0] for r in ts_rows],
          "TSVAL": [r[1] for r in ts_rows]}
    bw_ids = list(TERMBW)
    bw = {"STUDYID": ["SYN-1"] * len(bw_ids), "USUBJID": bw_ids,
          "BWTESTCD": ["TERMBW"] * len(bw_ids), "BWSTRESN": [TERMBW[i] for i in bw_ids],
          "BWSTRESU": ["g"] * len(bw_ids), "BWSTAT": [""] * len(bw_ids),
          "BWDY": [30.0] * len(bw_ids), "VISITDY": [30.0] * len(bw_ids)}
    om_ids = list(BRAIN) + ["S-101"]
    om = {"STUDYID": ["SYN-1"] * len(om_ids), "USUBJID": om_ids,
          "OMTESTCD": ["WEIGHT"] * len(om_ids), "OMSPEC": ["BRAIN"] * len(BRAIN) + ["LIVER"],
          "OMSTRESN": [BRAIN[i] for i in BRAIN] + [12.5], "OMSTRESU": ["g"] * len(om_ids),
          "OMSTAT": [""] * len(om_ids), "OMEXCLFL": [""] * len(BRAIN) + ["Y"],
          "OMREASEX": [""] * len(BRAIN) + ["Weighed wet"], "OMDY": [30.0] * len(om_ids)}
    lb_rows = [("S-101", "GLUC", "SERUM", 100.0, "100", ""),
               ("S-102", "GLUC", "SERUM", None, "<5", ""),
               ("S-111", "GLUC", "SERUM", 110.0, "110", ""),
               ("S-112", "GLUC", "SERUM", None, "", "NOT DONE"),
               ("S-113", "PROT", "URINE", None, "NEG", ""),
               ("S-113", "GLUC", "SERUM", 90.0, "90", ""),
               ("S-113", "GLUC", "SERUM", 95.0, "95", "")]     # a second record, same day
    lb = {"STUDYID": ["SYN-1"] * len(lb_rows), "USUBJID": [r[0] for r in lb_rows],
          "LBTESTCD": [r[1] for r in lb_rows], "LBSPEC": [r[2] for r in lb_rows],
          "LBSTRESN": [r[3] for r in lb_rows], "LBSTRESC": [r[4] for r in lb_rows],
          "LBSTRESU": ["mg/dL"] * len(lb_rows), "LBSTAT": [r[5] for r in lb_rows],
          "VISITDY": [29.0] * len(lb_rows), "LBDY": [29.0] * len(lb_rows)}
    return {"dm": dm, "tx": tx, "ts": ts, "bw": bw, "om": om, "lb": lb}


def renumbered(cols: dict[str, list], study_id: str) -> dict[str, list]:
    """A domain of another study: ``STUDYID`` and the ``USUBJID`` prefix (as SEND has them)."""
    out = dict(cols)
    out["STUDYID"] = [study_id] * len(cols["STUDYID"])
    if "USUBJID" in cols:
        out["USUBJID"] = [f"{study_id}-{u}" for u in cols["USUBJID"]]
    return out


def write_study(folder: Path, changes: dict[str, dict[str, list]] | None = None,
                drop: tuple[str, ...] = (), *, study_id: str | None = None) -> Path:
    """Write the study's domains into ``folder`` (``changes`` replace columns per domain).

    With ``study_id`` it is another study: that study number in every domain and
    subject IDs ``<study_id>-S-101`` ..., so that no file or animal is SYN-1's.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for dom, cols in tables().items():
        if dom in drop:
            continue
        if study_id is not None:
            cols = renumbered(cols, study_id)
        cols = {**cols, **(changes or {}).get(dom, {})}
        write_xpt(folder / f"{dom}.xpt", dom.upper(), cols)
    return folder

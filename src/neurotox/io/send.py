"""SEND (CDISC Standard for Exchange of Nonclinical Data) study folders in SAS XPORT files.

A SEND study is a folder of domain files, one SAS transport (XPORT v5) file per
domain: ``dm.xpt`` (demographics: one row per animal), ``tx.xpt`` (trial sets:
one row per set × parameter), ``ts.xpt`` (trial summary: study-level parameters)
and the findings domains read here, ``bw.xpt`` (body weights), ``om.xpt`` (organ
measurements) and ``lb.xpt`` (laboratory tests). File names are matched without
regard to case (``DM.XPT`` is ``dm.xpt``).

:func:`read_send` checks that the folder holds the domains and the columns the
historical control database needs, and returns the domains as data frames of
strings (text columns, whitespace stripped) and floats (numeric columns).

References
----------
CDISC SEND Implementation Guide 3.0/3.1; SAS Technical Note TS-140 (the XPORT v5
transport format).

"""

from __future__ import annotations

import hashlib
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from neurotox.errors import FormatError, InputError, quoted
from neurotox.files import check_array_magnitude, file_kind
from neurotox.io.output import note, sha256_file

#: Required columns per domain. ``dm``, ``tx`` and ``ts`` must be present; of the
#: findings domains (``bw``, ``om``, ``lb``) at least one.
REQUIRED = {
    "dm": ("STUDYID", "USUBJID", "SEX", "ARMCD", "SETCD"),
    "tx": ("SETCD", "TXPARMCD", "TXVAL"),
    "ts": ("TSPARMCD", "TSVAL"),
    "bw": ("USUBJID", "BWTESTCD", "BWSTRESN", "BWSTRESU"),
    "om": ("USUBJID", "OMTESTCD", "OMSPEC", "OMSTRESN", "OMSTRESU"),
    "lb": ("USUBJID", "LBTESTCD", "LBSPEC", "LBSTRESN", "LBSTRESU"),
}
DESIGN_DOMAINS = ("dm", "tx", "ts")
FINDINGS_DOMAINS = ("bw", "om", "lb")
#: Numeric columns (SEND ``--STRESN``, ``--DY``, ``VISITDY``, ``AGE``): must hold numbers.
NUMERIC_SUFFIXES = ("STRESN", "DY", "SEQ")
NUMERIC = {"AGE", "VISITDY"}
#: The XPORT library header every transport file starts with (SAS TS-140).
XPORT_MAGIC = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"


@dataclass
class SendStudy:
    """The domains of one SEND study folder.

    Attributes
    ----------
    folder
        The study folder.
    domains
        Domain name (lower case) → data frame (text stripped, numbers as float).
    files
        Domain name → the file read.
    source_hash
        SHA-256 over the names and SHA-256 digests of the files read: the
        identity of this study's data in the historical control database.
    file_sha256
        Domain name → SHA-256 of its file.

    """

    folder: Path
    domains: dict[str, pd.DataFrame]
    files: dict[str, Path]
    source_hash: str = ""
    notes: list[str] = field(default_factory=list)
    file_sha256: dict[str, str] = field(default_factory=dict)

    def has(self, domain: str) -> bool:
        """True when the folder holds ``domain``."""
        return domain in self.domains


def find_domains(folder: Path) -> dict[str, Path]:
    """Domain name → file of the known domains in ``folder`` (names matched without case)."""
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        name = p.name.lower()
        # not only regular files: a folder or a broken link named bw.xpt is an error
        # when read, never a domain left out without a word
        if name.endswith(".xpt") and name[:-4] in REQUIRED:
            if name[:-4] in found:
                raise InputError(f"two files for domain {name[:-4]!r}: "
                                 f"{found[name[:-4]].name!r} and {p.name!r}", path=folder)
            found[name[:-4]] = p
    return found


def _not_a_folder(path: Path) -> str:
    """What ``path``, given as a SEND study folder, is instead (a domain file: its folder)."""
    if not path.exists():
        return "SEND study folder not found"
    if not path.is_file():
        return f"expected a SEND study folder, found {file_kind(path.stat().st_mode)}"
    if path.suffix.lower() == ".xpt":
        return (f"expected a SEND study folder, found a SEND domain file: give its folder "
                f"{str(path.parent)!r}")
    return "expected a SEND study folder, found a file"


def read_send(folder: str | Path) -> SendStudy:
    """Read and check the SEND domains of a study folder.

    Parameters
    ----------
    folder
        Folder holding ``dm.xpt``, ``tx.xpt``, ``ts.xpt`` and any of ``bw.xpt``,
        ``om.xpt``, ``lb.xpt``.

    Returns
    -------
    SendStudy
        Domains, the files read and their combined hash.

    Raises
    ------
    InputError
        No such folder, a missing domain, a file that is not SAS XPORT, a
        missing column, a non-numeric value in a numeric column, or animals
        (``USUBJID``) that appear twice in ``dm`` or in findings but not in ``dm``.

    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(_not_a_folder(folder), path=folder)
    files = find_domains(folder)
    missing = [d for d in DESIGN_DOMAINS if d not in files]
    if missing:
        inside = sorted(p.name for p in folder.iterdir() if p.is_dir() and find_domains(p))
        hint = f"; SEND study folders inside it: {', '.join(inside)}" if inside else ""
        raise InputError(f"expected SEND domain file(s) {quoted(f'{d}.xpt' for d in missing)}"
                         f", found {quoted(p.name for p in folder.iterdir())}{hint}",
                         path=folder)
    if not any(d in files for d in FINDINGS_DOMAINS):
        raise InputError("expected at least one findings domain (bw.xpt, om.xpt or lb.xpt), "
                         "found none", path=folder)
    domains = {d: read_domain(p, d) for d, p in files.items()}
    _check_subjects(domains, files)
    digests = {d: sha256_file(files[d]) for d in sorted(files)}
    h = hashlib.sha256()
    for d, digest in digests.items():
        h.update(f"{d}:{digest}\n".encode())
    return SendStudy(folder, domains, files, h.hexdigest(), file_sha256=digests)


def read_domain(path: Path, domain: str) -> pd.DataFrame:
    """One XPORT domain file as a data frame with its required columns checked."""
    raw_head = _head(path)
    if not raw_head.startswith(XPORT_MAGIC):
        raise FormatError("not a SAS XPORT (.xpt) transport file (no XPORT library header)",
                          path=path)
    df = _read_xport(path)
    df.columns = [str(c).strip().upper() for c in df.columns]
    need = REQUIRED[domain]
    lacking = [c for c in need if c not in df.columns]
    if lacking:
        raise FormatError(f"expected SEND column(s) {quoted(lacking)} in domain "
                          f"{domain.upper()}, found {quoted(df.columns)}", path=path)
    if df.empty:
        raise FormatError(f"domain {domain.upper()} holds no rows", path=path)
    return _tidy(df, path)


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(80)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path) from None


def _read_xport(path: Path) -> pd.DataFrame:
    """Pandas' XPORT reader, with its many failure types turned into one FormatError."""
    if path.stat().st_size % 80:
        raise FormatError("damaged SAS XPORT file: its size is not a multiple of 80 bytes "
                          "(cut short?)", path=path)
    for encoding in ("utf-8", "latin-1"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")      # pandas warns where it should fail
                df = pd.read_sas(path, format="xport", encoding=encoding)
        except UnicodeDecodeError:
            continue
        except StopIteration:        # pandas' answer to a dataset without observations
            raise FormatError("the dataset holds no rows", path=path) from None
        except (ValueError, KeyError, IndexError, TypeError, struct.error, OverflowError,
                EOFError, MemoryError, AttributeError, Warning) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FormatError(f"damaged SAS XPORT file: {detail}", path=path) from None
        if encoding != "utf-8":
            note(f"{path.name}: text is not UTF-8; read as Latin-1")
        return df
    raise FormatError("damaged SAS XPORT file: text decodes neither as UTF-8 nor Latin-1",
                      path=path)  # pragma: no cover  (Latin-1 decodes every byte)


def _numeric_column(name: str) -> bool:
    return name in NUMERIC or name.endswith(NUMERIC_SUFFIXES)


#: Below this magnitude an XPORT number is an IBM-float zero written with an exponent
#: (the smallest such number is 16**-65 = 5.4e-79); no SEND result is that small.
IBM_ZERO_BELOW = 1e-70


def _ibm_zeros(values: pd.Series, path: Path, col: str) -> pd.Series:
    """``values`` with non-normalised IBM-float zeros (``|x| < 1e-70``, not 0) read as 0."""
    tiny = values.notna() & (values != 0) & (values.abs() < IBM_ZERO_BELOW)
    if tiny.any():
        note(f"{path.name}: column {col!r}: {int(tiny.sum())} value(s) below "
             f"{IBM_ZERO_BELOW:g} (e.g. {values[tiny].iloc[0]:.6g}: an IBM-float zero with a "
             "non-zero exponent) read as 0")
        values = values.mask(tiny, 0.0)
    return values


def _tidy(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Strings stripped (missing → ""), numeric columns as float with a clear error."""
    out = {}
    for col in df.columns:
        s = df[col]
        if _numeric_column(col):
            num = pd.to_numeric(s, errors="coerce")
            text = s.astype(str).str.strip() if s.dtype == object else None
            if text is not None:
                bad = num.isna() & s.notna() & (text != "") & (text != ".")
                if bad.any():
                    i = int(bad.to_numpy().nonzero()[0][0])
                    raise FormatError(f"expected a number, found {text.iloc[i]!r}", path=path,
                                      where=f"row {i + 1}, column {col!r}")
            check_array_magnitude(num.to_numpy(float), path, where=f"column {col!r}")
            out[col] = _ibm_zeros(num.astype(float), path, col)
        elif s.dtype == object:
            out[col] = s.map(lambda v: "" if v is None or (isinstance(v, float) and v != v)
                             else str(v).strip())
        else:   # a number in a text column (SETCD 1 rather than "1")
            out[col] = s.map(lambda v: "" if v != v else f"{v:g}")
    return pd.DataFrame(out)


def _check_subjects(domains: dict[str, pd.DataFrame], files: dict[str, Path]) -> None:
    dm = domains["dm"]
    empty = dm["USUBJID"] == ""
    if empty.any():
        i = int(empty.to_numpy().nonzero()[0][0])
        raise FormatError("empty USUBJID", path=files["dm"], where=f"row {i + 1}")
    dup = dm["USUBJID"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise FormatError(f"animal {dm['USUBJID'].iloc[i]!r} appears twice", path=files["dm"],
                          where=f"row {i + 1}, column 'USUBJID'")
    known = set(dm["USUBJID"])
    for d in FINDINGS_DOMAINS:
        if d not in domains:
            continue
        unknown = ~domains[d]["USUBJID"].isin(known)
        if unknown.any():
            i = int(unknown.to_numpy().nonzero()[0][0])
            raise FormatError(f"animal {domains[d]['USUBJID'].iloc[i]!r} is not in dm.xpt",
                              path=files[d], where=f"row {i + 1}, column 'USUBJID'")

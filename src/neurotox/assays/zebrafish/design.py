"""Zebrafish plate design: each larva's group, dose and blank flag from layouts or exports."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from neurotox.assays.zebrafish.inputs import file_wells
from neurotox.assays.zebrafish.params import ZebrafishParameters
from neurotox.errors import InputError, quoted
from neurotox.io.zebrafish import Export
from neurotox.study import PLATE_FORMATS, number_to_well


def design_info(exports: list[Export], plate_map: pd.DataFrame | None) -> pd.DataFrame | None:
    """Concentrations per well from the exports, else from the plate map."""
    info = file_wells(exports)
    if info is None and plate_map is not None:
        info = plate_map[["plate", "well", "concentration"]]
    return info


def unmapped_notes(larvae: pd.DataFrame, exports: list[Export],
                   plate_map: pd.DataFrame | None, layouts: dict | None) -> list[str]:
    """The warning (none or one) naming exported larvae the plate map (the design) leaves out.

    When the exports carry no concentrations, the plate map is the design: an
    exported well it does not list (a row missing from the map, or a well
    column off the plate such as ``A13``) has no concentration and is not
    analysed — named here, as a layout's missing well is an error.
    """
    if layouts or plate_map is None or file_wells(exports) is not None:
        return []   # a layout is checked on its own; export concentrations are the design
    listed = set(zip(plate_map["plate"].astype(str), plate_map["well"], strict=True))
    missing = [f"{p}-{w}" for p, w in zip(larvae["plate"].astype(str), larvae["well"],
                                          strict=True) if (p, w) not in listed]
    if not missing:
        return []
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    return [f"warning: {len(missing)} exported well(s) are not in the plate map: "
            f"{', '.join(missing[:10])}{more}; not analysed (no concentration): add them to "
            "the plate map (an empty well with no concentration), or check the export's well "
            "columns"]


def design(larvae: pd.DataFrame, *, layouts: dict[str, pd.DataFrame] | None,
           groups: dict[str, dict[str, Any]] | None, file_info: pd.DataFrame | None,
           params: ZebrafishParameters) -> pd.DataFrame:
    """Attach group, dose and blank flag to each larva (plate, well).

    The plate layout wins; without one, concentrations carried by the export
    (EPA, bmdrc, Tanguay tables) are used. Group IDs default to the
    concentration (``C0``, ``C2.16`` …) when the layout has none.
    """
    lay = _layout_rows(larvae, layouts, params.plate_format)
    if lay is None and file_info is not None:
        lay = larvae[["plate", "well"]].merge(
            file_info.drop_duplicates(["plate", "well"]), how="left", on=["plate", "well"])
        lay["blank"] = lay["concentration"].isna()
    if lay is None:
        raise InputError("no plate layout: give --layout (well, group and/or concentration) "
                         "or an export that carries concentrations")
    out = larvae.copy()
    conc = pd.to_numeric(lay.get("concentration"), errors="coerce") \
        if "concentration" in lay.columns else pd.Series(np.nan, index=lay.index)
    has_group = "group" in lay.columns and lay["group"].fillna("").astype(str).str.strip() \
        .ne("").any()
    group = lay["group"].fillna("").astype(str) if has_group \
        else conc.map(lambda c: "" if pd.isna(c) else f"C{c:g}")
    out["group"] = group.to_numpy()
    out["blank"] = lay["blank"].fillna(True).astype(bool).to_numpy()
    if groups:
        out["dose"] = [groups[g]["dose"] if g in groups else np.nan for g in out["group"]]
        out["dose_unit"] = [groups[g]["dose_unit"] if g in groups else "" for g in out["group"]]
        out["control"] = [bool(groups.get(g, {}).get("control")) for g in out["group"]]
    else:
        out["dose"] = conc.to_numpy()
        out["dose_unit"] = _layout_unit(layouts, params)
        out["control"] = out["dose"] == 0
    out["blank"] |= out["group"].eq("") | out["dose"].isna()
    keep = [c for c in lay.columns if c not in ("plate", "well", "location", "group",
                                                "concentration", "blank")]
    for c in keep:
        out[f"layout_{c}"] = lay[c].to_numpy()
    return out


def _layout_unit(layouts: dict[str, pd.DataFrame] | None, params: ZebrafishParameters) -> str:
    """The concentration unit of the layouts' headers (``conc (nM)``), else the parameter's.

    Layouts that give different units are an error: one run has one dose unit.
    """
    units = {df.attrs["concentration_unit"] for df in (layouts or {}).values()
             if "concentration_unit" in df.attrs}
    if len(units) > 1:
        raise InputError(f"the plate layouts give concentrations in {quoted(units)}; give "
                         "them in one unit")
    return units.pop() if units else params.concentration_unit


def codes_as_locations(larvae: pd.DataFrame, layouts: dict[str, pd.DataFrame] | None
                       ) -> dict[str, pd.DataFrame] | None:
    """Layouts in codes ``c01`` … ``c24`` read as the export's locations when only that fits.

    Such codes are also the wells C01 … C24 (:func:`neurotox.study.read_layout`
    keeps them as wells). For an export that numbers its larvae (ZebraLab
    locations: a 24-well plate is ``c01`` … ``c24``) they are its locations when
    the tracked wells are not all among the layout's wells and the tracked
    location numbers are all among the codes; the layout is then joined on the
    export's own locations, as one with a code above ``c24`` is.
    """
    if not layouts or "location" not in larvae.columns or larvae["location"].isna().any() \
            or not all(df.attrs.get("location_codes") for df in layouts.values()):
        return layouts
    wells = set().union(*(df["well"].astype(str) for df in layouts.values()))
    codes = {int(w[1:]) for w in wells}
    if set(larvae["well"].astype(str)) <= wells \
            or not set(larvae["location"].astype(int)) <= codes:
        return layouts
    out = {}
    for key, df in layouts.items():
        out[key] = df.assign(location=df["well"].astype(str).str[1:].astype(int))
        out[key].attrs = dict(df.attrs)
    return out


def _layout_rows(larvae: pd.DataFrame, layouts: dict[str, pd.DataFrame] | None,
                 plate_format: int | None = None) -> pd.DataFrame | None:
    if not layouts:
        return None
    plates = larvae["plate"].unique()
    path = next((df.attrs.get("path") for df in layouts.values()), None)
    named = any(df.attrs.get("plate_column") for df in layouts.values())
    if all(p in layouts for p in plates):
        table = pd.concat([df.assign(plate=p) for p, df in layouts.items()], ignore_index=True)
    elif len(layouts) == 1 and not named:   # a layout without a plate column: every plate
        only = next(iter(layouts.values()))
        table = pd.concat([only.assign(plate=p) for p in plates], ignore_index=True)
    else:   # a layout's plate column names its plate: it is never applied to another
        missing = sorted(set(plates) - set(layouts))
        raise InputError(f"no plate layout for plate(s) {quoted(missing)}; the layout's plate "
                         f"column names {quoted(layouts)} (give --plate-id or the study's "
                         "plate_ids, or the layout's plate column the export's plate ID)"
                         if named else f"no plate layout for plate(s) {quoted(missing)}; "
                         f"layouts are given for {quoted(layouts)}", path=path)
    table = table.drop(columns=[c for c in ("source",) if c in table.columns])
    key = "location" if _by_location(larvae, table) else "well"
    if key == "well":
        _check_names_agree(larvae, path)
        if "location" in table.columns and table["location"].notna().all():
            # location codes, for an export that names its wells: on the plate's rows
            n = plate_format or (96 if table["location"].max() <= 96 else 384)
            table["well"] = number_to_well(table["location"].astype(int), PLATE_FORMATS[n][1])
            table.attrs["code_plate"] = n
    else:   # a layout in the export's location codes: joined on the export's own locations
        table = table.drop(columns="well").assign(location=table["location"].astype(float))
        larvae = larvae.assign(location=larvae["location"].astype(float))
    _check_layout_wells(larvae, table, path, key)
    return larvae[["plate", key]].merge(table, how="left", on=["plate", key])


def _by_location(larvae: pd.DataFrame, table: pd.DataFrame) -> bool:
    """A layout in ZebraLab location codes for an export that numbers its larvae."""
    return all(c in df.columns and df[c].notna().all()
               for df, c in ((table, "location"), (larvae, "location")))


def _check_names_agree(larvae: pd.DataFrame, path: str | None) -> None:
    """Refuse a layout in well names when the export's names and numbers disagree.

    A ZebraLab export names each larva (``animal``) and numbers its location; when
    the name is not the well the number gives (row-major), the layout's well
    names could mean either.
    """
    if "location_well" not in larvae.columns:
        return
    lw = larvae["location_well"]
    bad = lw.notna() & (larvae["well"].astype(str) != lw.astype(str))
    if not bad.any():
        return
    r = larvae[bad].iloc[0]
    raise InputError(
        f"the export names larva {r['well']!r} at location c{int(r['location']):02d}, which "
        f"is well {r['location_well']!r} row-major on a {int(r['plate_format'])}-well plate "
        f"({int(bad.sum())} of {len(larvae)} larvae disagree): the layout's well names could "
        "mean either. Give the layout in the export's location codes (well column c01, c02 "
        "...), correct the export's animal column, or set plate_format if the plate has "
        "another format", path=path, where="column 'well'")


def _label(key: str, value) -> str:
    return f"c{int(value):02d}" if key == "location" else str(value)


def _check_layout_wells(larvae: pd.DataFrame, table: pd.DataFrame, path: str | None,
                        key: str = "well") -> None:
    """Every tracked well is in the layout and every non-blank layout well was tracked."""
    def places(df: pd.DataFrame) -> set[tuple[str, str]]:
        return {(str(p), _label(key, v)) for p, v in zip(df["plate"], df[key], strict=True)}

    data = places(larvae)
    used = table[~table["blank"].fillna(False).astype(bool)] if "blank" in table.columns \
        else table
    lay, wanted = places(table), places(used)
    what_key = "location(s)" if key == "location" else "well(s)"
    for missing, what in ((data - lay, "are in the export but not in the layout (list empty "
                                       "wells with group 'blank')"),
                          (wanted - data, "are in the layout but in no export")):
        if missing:
            plate = sorted(missing)[0][0]
            wells = [w for p, w in missing if p == plate]
            hint = ""
            if "code_plate" in table.attrs:
                hint = (f"; the layout's location codes are placed row-major on a "
                        f"{table.attrs['code_plate']}-well plate: set the protocol's "
                        "plate_format (6, 12, 24, 48, 96 or 384) if that is not the plate")
            elif key == "well" and "plate_format" in larvae.columns:
                n = larvae.loc[larvae["plate"].astype(str) == plate, "plate_format"].max()
                hint = (f"; the export numbers its larvae, placed on a {n:g}-well plate: set "
                        "the protocol's plate_format (6, 12, 24, 48, 96 or 384) if that is "
                        "not the plate" if pd.notna(n) else "")
            raise InputError(f"{what_key} {quoted(wells)} of plate {plate!r} {what}{hint}",
                             path=path, where="column 'well'")

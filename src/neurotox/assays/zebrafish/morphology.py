"""Developmental morphology as incidence endpoints: one 0/1 value per larva and call.

Per larva (well) and call of a morphology table
(:func:`neurotox.io.zebrafish.morphology.read_morphology`):

1. a do-not-count flag (``DNC_``) = 1 excludes the well from every endpoint;
2. a masking call = 1 (``MO24``: dead at 24 hpf) makes the calls it masks "not
   examined" (excluded, with that reason);
3. aggregates (``ANY24``, ``TOT_MORT`` …, components from the protocol) are 1 when
   any available component is 1, 0 when none is 1 and one is 0, else missing;
4. a blank call is "not scored" (excluded).

This is the order bmdrc's documented morphology workflow uses (``well_to_na`` for
DNC and MO24, then ``endpoint_combine``).

References
----------
Truong L et al. (2014) Toxicol Sci 137:212 (22-endpoint zebrafish morphology screen).
Degnan DJ et al. (2024) PLoS Comput Biol 20:e1011835 (bmdrc).

"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.assays.zebrafish.screen_params import MORPHOLOGY_ASSAY, endpoint_name
from neurotox.io.zebrafish.morphology import MorphologyTable


def _masks(values: pd.DataFrame, calls: list[str], params) -> dict[str, pd.Series]:
    """Reason per call column for values masked by a masking call ('' = not masked)."""
    out = {c: pd.Series("", index=values.index, dtype=object) for c in calls}
    for call, targets in params.morphology_mask.items():
        if call not in calls:
            continue
        hit = values[call].eq(1)
        for t in (c for c in calls if c != call and ("*" in targets or c in targets)):
            out[t] = out[t].where(~hit | (out[t] != ""), f"not examined: {call} = 1")
    return out


def _aggregate(values: pd.DataFrame, parts: list[str]) -> pd.Series:
    block = values[parts]
    anyone = block.eq(1).any(axis=1)
    scored = block.notna().any(axis=1)
    return pd.Series(np.where(anyone, 1.0, np.where(scored, 0.0, np.nan)), index=values.index)


def morphology_values(table: MorphologyTable, params,
                      notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Values (0/1/NaN) and exclusion reasons per well × endpoint code, wide.

    Returns
    -------
    (values, reasons, codes)
        Both frames are indexed like ``table.calls`` with one column per code
        (raw calls first, then the aggregates); ``codes`` lists those columns.

    """
    from neurotox.endpoints import registry

    calls = [c for c in table.call_columns if c not in params.do_not_count]
    unknown = [c for c in calls if endpoint_name(c) not in registry()]
    if unknown:
        notes.append(f"call column(s) {unknown} are not registered morphology endpoints; "
                     "not analysed")
        calls = [c for c in calls if c not in unknown]
    raw = table.calls[calls].astype(float)
    masks = _masks(raw, calls, params)
    values = raw.copy()
    for c in calls:
        values.loc[masks[c] != "", c] = np.nan
    aggs = {}
    for name, parts in params.morphology_aggregates.items():
        present = [p for p in parts if p in calls]
        if present:
            aggs[name] = _aggregate(values, present)
    values = pd.concat([values, pd.DataFrame(aggs, index=values.index)], axis=1)
    codes = list(values.columns)
    dnc = pd.Series(False, index=values.index)
    for flag in (f for f in params.do_not_count if f in table.call_columns):
        dnc |= table.calls[flag].eq(1)
    reasons = pd.DataFrame({c: masks.get(c, pd.Series("", index=values.index)) for c in codes})
    for c in codes:
        r = reasons[c].where(reasons[c] != "", np.where(values[c].isna(), "not scored", ""))
        reasons[c] = r.where(~dnc, "well marked do-not-count (" + "/".join(
            params.do_not_count) + ")")
    return values, reasons, codes


def morphology_rows(table: MorphologyTable, design: pd.DataFrame, params,
                    notes: list[str]) -> pd.DataFrame:
    """EndpointTable records (long) of every larva × morphology endpoint in ``design``."""
    values, reasons, codes = morphology_values(table, params, notes)
    keyed = table.calls[["plate", "well"]].astype(str)
    pos = pd.MultiIndex.from_frame(keyed).get_indexer(
        pd.MultiIndex.from_frame(design[["plate", "well"]].astype(str)))
    d = design[pos >= 0].reset_index(drop=True)
    pos = pos[pos >= 0]
    src = [f"{table.path.name}: data row {int(r)}"
           for r in table.calls["source_row"].to_numpy()[pos]]
    blocks = []
    for code in codes:
        v = values[code].to_numpy(float)[pos]
        reason = reasons[code].to_numpy(object)[pos]
        blocks.append(pd.DataFrame({
            "assay": MORPHOLOGY_ASSAY, "endpoint": endpoint_name(code), "timepoint": "NA",
            "subject": d["subject"], "group": d["group"], "dose": d["dose"],
            "dose_unit": d["dose_unit"], "value": v, "excluded": reason != "",
            "exclusion_reason": reason, "batch": d["plate"].astype(str), "source": src}))
    return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame()


def behaviour_calls(table: MorphologyTable, params) -> pd.DataFrame:
    """Plate-map frame (dead / malformed / discard / calls) for the locomotion exclusions."""
    from neurotox.io.zebrafish.plate import DEATH_CALLS

    c = table.calls
    calls = [x for x in table.call_columns if x not in params.do_not_count]
    hit = c[calls].fillna(0).eq(1)
    dead = hit[[x for x in calls if x.lower().rstrip("_") in DEATH_CALLS]].any(axis=1)
    discard = c[[f for f in params.do_not_count if f in c.columns]].eq(1).any(axis=1)
    return pd.DataFrame({
        "plate": c["plate"], "well": c["well"], "concentration": c["concentration"],
        "dead": dead, "discard": discard,
        "malformed": hit[[x for x in calls if x.lower().rstrip("_") not in DEATH_CALLS]]
        .any(axis=1),
        "calls": hit.apply(lambda r: ", ".join(x for x in calls if r[x]), axis=1)})

"""NOR objects: which one is novel (names, key, default) and which one is on the left.

An object's role comes from its name when the name says it (``Novel object``,
``Familiar object``: ANY-maze or EthoVision zones named by role), otherwise from
the key (side ``L``/``R`` or object label) or the protocol's ``novel_default``.
An object's side comes only from its name (``Left object``, ``object right``, ``L``).
The training side bias (L − R)/(L + R) needs both sides: when the names carry
none (``Novel object``/``Familiar object``, ``Object 1``/``Object 2``) its sign is
unknown, so the endpoint is left out (the magnitude still serves
``max_training_bias``), never signed by the alphabetical order of the names.
"""

from __future__ import annotations

import re

import pandas as pd

from neurotox.errors import InputError, quoted
from neurotox.io.rodent import side_of


def named(objects: list[str], word: str) -> list[str]:
    """The objects whose name holds ``word`` as a word (``novel`` in ``Novel object``)."""
    return [o for o in objects if re.search(rf"\b{word}\b", o, re.I)]


def by_role(objects: list[str]) -> str | None:
    """The novel object when the names say the roles (one novel, one familiar), else None."""
    novel, familiar = named(objects, "novel"), named(objects, "familiar")
    if len(novel) == 1 and len(familiar) == 1 and novel != familiar:
        return novel[0]
    return None


def novel_object(objects: list[str], novel: str | None, subject: str,
                 source: str = "", keyed: bool | str = False) -> str:
    """The novel object: named so (``novel``, ``novel object``), else the key's side or label.

    Names win over the key (a key side cannot be checked against names without
    one); a key entry (``keyed``: True, or where the key says it) naming the other
    side than a named novel object that carries a side (``novel object left``) is
    an error naming both.
    """
    where = f" ({source})" if source else ""
    role = by_role(objects)
    if role is not None:
        side = side_of(role)
        if keyed and novel is not None and side and side_of(novel) not in (None, side):
            said = f" ({keyed})" if isinstance(keyed, str) else ""
            raise InputError(f"subject {subject!r}{where}: the object names say {role!r} "
                             f"is novel and the key{said} says {novel!r}")
        return role
    if novel is None:
        raise InputError(f"no novel-object key for subject {subject!r}{where} (give a key file "
                         "with subject and novel_side/novel_object)")
    side = side_of(novel)
    hits = [o for o in objects if (side and side_of(o) == side) or o.lower() == novel.lower()]
    if len(hits) != 1:
        raise InputError(f"subject {subject!r}{where}: novel object {novel!r} matches "
                         f"{len(hits)} of the objects {quoted(objects)}")
    return hits[0]


def left_right(objects: list[str]) -> tuple[str, str, bool]:
    """(left object, right object, True) when the names say the sides.

    Otherwise the objects in name order and False: the side bias of such a pair
    has no known sign.
    """
    sides = {side_of(o): o for o in objects}
    if "L" in sides and "R" in sides:
        return sides["L"], sides["R"], True
    a, b = sorted(objects)
    return a, b, False


def role_notes(animals: pd.DataFrame) -> list[str]:
    """Say which test trials took the novel object from the object names."""
    test = animals[animals["phase"] == "test"]
    hits = sorted({(r.object_a, r.object_b) for r in test.itertuples()
                   if isinstance(r.object_a, str) and by_role([r.object_a, r.object_b])})
    out = []
    for nov, fam in hits:
        subjects = sorted(test.loc[(test["object_a"] == nov) & (test["object_b"] == fam),
                                   "subject"].astype(str))
        out.append(f"test: the object names say the roles ({nov!r} novel, {fam!r} familiar) "
                   f"for {len(subjects)} subject(s): {', '.join(subjects)}")
    return out


def unsided_note(animals: pd.DataFrame) -> list[str]:
    """Say which training trials have no side bias because the names carry no side."""
    rows = animals[(animals["phase"] == "training") & animals["unsided"]]
    if not len(rows):
        return []
    pairs = sorted({f"{r.object_a!r}/{r.object_b!r}" for r in rows.itertuples()})
    return [f"nor_training_side_bias left out for {len(rows)} subject(s) "
            f"({', '.join(sorted(rows['subject'].astype(str)))}): the training objects "
            f"{', '.join(pairs)} do not say which is left and which is right, so the sign of "
            "(L − R)/(L + R) is unknown; the size |bias| still serves max_training_bias"]


def names_over_key(animals: pd.DataFrame, key: pd.DataFrame) -> list[str]:
    """Notes on test trials whose unsided zone names said the novel object over a key entry."""
    said = dict(zip(key["subject"], zip(key["novel"], key["source"], strict=True),
                    strict=True)) if len(key) and "source" in key else {}
    return [f"subject {r.subject} test: the zone names say {r.object_a!r} is novel; the key's "
            f"{said[r.subject][0]!r} ({said[r.subject][1]}) is not used (a side cannot be "
            "checked against names without one)"
            for r in animals[animals["phase"] == "test"].itertuples()
            if r.subject in said and isinstance(r.object_a, str) and side_of(r.object_a) is None
            and named([r.object_a], "novel")
            and str(said[r.subject][0]).lower() != r.object_a.lower()]

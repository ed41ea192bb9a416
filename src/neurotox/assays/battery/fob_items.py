"""The functional observational battery (FOB): every item, its domain and its scale.

This catalogue is the single definition of the FOB sheet. Each item names the
column it is read from, the registry endpoint it becomes and how its raw entry
is scored:

``ordinal``
    An integer score on a labelled scale (``scale``); analysed rank-based.
``categorical``
    One of ``categories``; values outside ``normal`` count as an abnormal
    finding, so the endpoint is the incidence of an abnormal category (the
    category itself is kept in the detail table).
``presence``
    Present / absent; the endpoint is the incidence of the abnormal state
    (``abnormal_when``).
``count``
    A non-negative integer (rears, faecal boli, urine pools).
``continuous``
    A measurement; ``trials`` items are entered as one column per trial
    (``grip_fore_1``, ``grip_fore_2`` ...) and the endpoint is the mean of trials.

References
----------
.. [1] OECD (1997). Test No. 424: Neurotoxicity Study in Rodents, paragraphs 25-28.
.. [2] US EPA (1998). Health Effects Test Guidelines OPPTS 870.6200, Neurotoxicity
   Screening Battery.
.. [3] Moser VC (2000). Observational batteries in neurotoxicity testing.
   International Journal of Toxicology 19:407-411.

"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

from neurotox.io.battery import GRAMS

ItemKind = Literal["ordinal", "categorical", "presence", "count", "continuous"]

#: FOB domains, in the order a sheet is usually laid out.
DOMAINS = ("home_cage", "handling", "open_field", "sensorimotor", "neuromuscular",
           "physiological")

#: Data type in the endpoint registry for each item kind.
DATA_TYPE = {"ordinal": "ordinal", "categorical": "incidence", "presence": "incidence",
             "count": "count", "continuous": "continuous"}


@dataclass(frozen=True)
class FobItem:
    """One FOB item.

    Attributes
    ----------
    column
        Column name in the scoring sheet (case-insensitive).
    endpoint
        Registry endpoint it is reported as.
    kind
        How the raw entry is scored (see module docstring).
    domain
        One of :data:`DOMAINS`.
    label
        Display label.
    direction
        Adverse direction for the registry.
    scale
        Ordinal items: score → label.
    categories
        Categorical items: allowed values (lower case, ``_`` for spaces).
    normal
        Categorical items: values that are not a finding.
    abnormal_when
        Presence items: ``present`` (a sign such as tremor) or ``absent`` (a
        reflex such as the pupil response).
    unit
        Unit of continuous and count items.
    trials
        Continuous items entered as several trial columns and averaged.
    bounds
        Plausible range of continuous values; values outside are input errors.
    positive
        The lower bound is exclusive (a body weight must be > 0 g).

    """

    column: str
    endpoint: str
    kind: ItemKind
    domain: str
    label: str
    direction: str = "increase"
    scale: dict[int, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    normal: tuple[str, ...] = ()
    abnormal_when: Literal["present", "absent"] = "present"
    unit: str = ""
    trials: bool = False
    bounds: tuple[float, float] = (0.0, float("inf"))
    positive: bool = False

    @property
    def data_type(self) -> str:
        """Registry data type of the endpoint."""
        return DATA_TYPE[self.kind]

    @property
    def registry_unit(self) -> str:
        """Unit written to the EndpointTable."""
        if self.kind == "ordinal":
            return "score"
        if self.kind in ("categorical", "presence"):
            return "incidence"
        return self.unit


_REACTION = {1: "no reaction", 2: "normal reaction", 3: "energetic reaction",
             4: "exaggerated reaction"}
_SECRETION = {1: "none", 2: "slight", 3: "severe"}
_HANDLING = {1: "very easy", 2: "easy", 3: "moderately difficult", 4: "very difficult"}

ITEMS: tuple[FobItem, ...] = (
    # home cage
    FobItem("posture", "fob_posture_abnormal", "categorical", "home_cage",
            "Abnormal home-cage posture",
            categories=("normal", "sitting", "rearing", "asleep", "hunched", "flattened",
                        "lying_on_side", "head_bobbing"),
            normal=("normal", "sitting", "rearing", "asleep")),
    FobItem("palpebral_closure", "fob_palpebral_closure", "ordinal", "home_cage",
            "Palpebral closure",
            scale={1: "wide open", 2: "slightly drooping", 3: "half closed",
                   4: "completely shut"}),
    FobItem("convulsions", "fob_convulsions", "presence", "home_cage", "Convulsions"),
    FobItem("tremors", "fob_tremors", "presence", "home_cage", "Tremors"),
    FobItem("vocalizations", "fob_vocalizations", "presence", "home_cage", "Vocalizations"),
    # handling
    FobItem("ease_of_removal", "fob_ease_of_removal", "ordinal", "handling",
            "Ease of removal from cage", direction="either", scale=_HANDLING),
    FobItem("ease_of_handling", "fob_ease_of_handling", "ordinal", "handling",
            "Ease of handling", direction="either", scale=_HANDLING),
    FobItem("muscle_tone", "fob_muscle_tone", "ordinal", "handling", "Muscle tone",
            direction="either", scale={1: "hypotonic", 2: "normal", 3: "hypertonic"}),
    FobItem("lacrimation", "fob_lacrimation", "ordinal", "handling", "Lacrimation",
            scale=_SECRETION),
    FobItem("salivation", "fob_salivation", "ordinal", "handling", "Salivation",
            scale=_SECRETION),
    FobItem("piloerection", "fob_piloerection", "presence", "handling", "Piloerection"),
    FobItem("exophthalmos", "fob_exophthalmos", "presence", "handling", "Exophthalmos"),
    FobItem("fur_appearance", "fob_fur_abnormal", "categorical", "handling",
            "Abnormal fur appearance",
            categories=("normal", "unkempt", "soiled", "piloerect", "alopecia"),
            normal=("normal",)),
    # open field
    FobItem("arousal", "fob_arousal", "ordinal", "open_field", "Arousal",
            direction="either",
            scale={1: "stupor", 2: "sluggish", 3: "somewhat low", 4: "alert, normal",
                   5: "somewhat high", 6: "very high"}),
    FobItem("gait", "fob_gait_abnormal", "categorical", "open_field", "Abnormal gait",
            categories=("normal", "ataxic", "splayed_hindlimbs", "feet_point_outwards",
                        "walks_on_toes", "hunched_body", "body_drags"),
            normal=("normal",)),
    FobItem("gait_score", "fob_gait_score", "ordinal", "open_field", "Gait abnormality score",
            scale={1: "normal", 2: "slightly abnormal", 3: "somewhat abnormal",
                   4: "severely abnormal"}),
    FobItem("mobility_score", "fob_mobility_score", "ordinal", "open_field",
            "Mobility impairment score",
            scale={1: "normal", 2: "slightly impaired", 3: "somewhat impaired",
                   4: "totally impaired"}),
    FobItem("rearing", "fob_rearing", "count", "open_field", "Rears", direction="either",
            unit="count", bounds=(0, 500)),
    FobItem("urination", "fob_urination", "count", "open_field", "Urine pools",
            direction="either", unit="count", bounds=(0, 50)),
    FobItem("defecation", "fob_defecation", "count", "open_field", "Faecal boli",
            direction="either", unit="count", bounds=(0, 50)),
    FobItem("stereotypy", "fob_stereotypy", "presence", "open_field", "Stereotypy"),
    FobItem("bizarre_behavior", "fob_bizarre_behavior", "presence", "open_field",
            "Bizarre behaviour"),
    # sensorimotor
    FobItem("approach_response", "fob_approach_response", "ordinal", "sensorimotor",
            "Approach response", direction="either", scale=_REACTION),
    FobItem("touch_response", "fob_touch_response", "ordinal", "sensorimotor",
            "Touch response", direction="either", scale=_REACTION),
    FobItem("click_response", "fob_click_response", "ordinal", "sensorimotor",
            "Auditory (click) response", direction="either", scale=_REACTION),
    FobItem("tail_pinch_response", "fob_tail_pinch_response", "ordinal", "sensorimotor",
            "Tail-pinch response", direction="either", scale=_REACTION),
    FobItem("righting_reflex", "fob_righting_reflex", "ordinal", "sensorimotor",
            "Aerial righting reflex",
            scale={1: "normal", 2: "slightly uncoordinated", 3: "lands on side",
                   4: "lands on back"}),
    FobItem("pupil_response", "fob_pupil_response_absent", "presence", "sensorimotor",
            "Pupil response absent", abnormal_when="absent"),
    # neuromuscular
    FobItem("grip_fore", "grip_strength_forelimb", "continuous", "neuromuscular",
            "Forelimb grip strength", direction="decrease", unit="g", trials=True,
            bounds=(0, 5000)),
    FobItem("grip_hind", "grip_strength_hindlimb", "continuous", "neuromuscular",
            "Hindlimb grip strength", direction="decrease", unit="g", trials=True,
            bounds=(0, 5000)),
    FobItem("foot_splay", "landing_foot_splay", "continuous", "neuromuscular",
            "Landing foot splay", direction="increase", unit="mm", trials=True,
            bounds=(0, 300)),
    # physiological
    FobItem("body_temperature", "fob_body_temperature", "continuous", "physiological",
            "Body temperature", direction="either", unit="degC", bounds=(25, 45)),
    FobItem("body_weight", "fob_body_weight", "continuous", "physiological",
            "Body weight at FOB", direction="decrease", unit="g", bounds=(0, 2000),
            positive=True),
)


#: Plausible ranges of the measured items for a named species (item unit: g, mm),
#: checked on every trial when the study's ``species`` is a rat or a mouse. A grip
#: of 0 (the animal did not grip) stays allowed. Rat forelimb grip is ~500-1500 g
#: in adults, ~100-300 g at weaning; foot splay ~60-120 mm (mouse ~20-40 mm).
SPECIES_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "rat": {"grip_fore": (10, 5000), "grip_hind": (10, 5000), "foot_splay": (15, 300)},
    "mouse": {"grip_fore": (2, 1000), "grip_hind": (2, 1000), "foot_splay": (5, 100)},
}

#: Usual grip strength (g) of healthy animals, weaning to adult (rat forelimb ~100-300 g
#: at weaning, ~500-1500 g adult; mouse ~50-250 g): a grip column whose median is under
#: it, and inside it once read in newtons (× 102), was written in N.
USUAL_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "rat": {"grip_fore": (100, 2500), "grip_hind": (100, 2500)},
    "mouse": {"grip_fore": (20, 500), "grip_hind": (20, 500)},
}

#: Units a value out of its range was likely written in, and the factor to the item unit
#: (1 N = 1000 / 9.80665 g, gram-force); a header may name them (``grip_fore_1 (N)``).
SLIP_UNITS: dict[str, tuple[tuple[str, float], ...]] = {
    "g": (("kg", GRAMS["kg"]), ("N", 1000 / 9.80665)), "mm": (("cm", 10.0),)}


@functools.cache
def by_column() -> dict[str, FobItem]:
    """Items keyed by their (lower-case) sheet column (one dict, built once: read only)."""
    return {i.column: i for i in ITEMS}


@functools.cache
def by_endpoint() -> dict[str, FobItem]:
    """Items keyed by registry endpoint (one dict, built once: read only)."""
    return {i.endpoint: i for i in ITEMS}

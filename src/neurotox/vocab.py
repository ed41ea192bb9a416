"""Fixed vocabularies used across neurotox, as enums carrying display labels."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """OECD/EPA endpoint category (OECD TG 424/426, EPA OPPTS 870.6200/6300)."""

    STRUCTURAL = "structural"
    NEUROPHYSIOLOGICAL = "neurophysiological"
    NEUROCHEMICAL = "neurochemical"
    NEUROBEHAVIORAL = "neurobehavioral"
    NEURODEVELOPMENTAL = "neurodevelopmental"

    @property
    def label(self) -> str:
        """Display label used in report headings."""
        return {
            "structural": "Structural (neuropathology, morphometry)",
            "neurophysiological": "Neurophysiological",
            "neurochemical": "Neurochemical",
            "neurobehavioral": "Neurobehavioral",
            "neurodevelopmental": "Neurodevelopmental",
        }[self.value]


class DataType(StrEnum):
    """Statistical data type of an endpoint; selects the analysis path."""

    CONTINUOUS = "continuous"
    COUNT = "count"
    PROPORTION = "proportion"
    ORDINAL = "ordinal"
    INCIDENCE = "incidence"

    @property
    def label(self) -> str:
        """Display label."""
        return self.value.capitalize()


class Direction(StrEnum):
    """Direction of change that is considered adverse."""

    DECREASE = "decrease"
    INCREASE = "increase"
    EITHER = "either"

    @property
    def label(self) -> str:
        """Display label."""
        return {"decrease": "decrease is adverse", "increase": "increase is adverse",
                "either": "change in either direction is adverse"}[self.value]


class Sex(StrEnum):
    """Sex of a subject; ``NA`` for cell cultures, larvae and pooled data."""

    MALE = "M"
    FEMALE = "F"
    NA = "NA"

    @property
    def label(self) -> str:
        """Display label."""
        return {"M": "Males", "F": "Females", "NA": "Sexes combined"}[self.value]


#: Spellings of sex found in lab files (case-insensitive) → :class:`Sex`.
SEX_CODES = {
    "m": "M", "male": "M", "males": "M", "man": "M", "mann": "M", "männlich": "M",
    "maennlich": "M", "masculin": "M", "mâle": "M", "macho": "M", "♂": "M",
    "f": "F", "female": "F", "females": "F", "w": "F", "weiblich": "F", "frau": "F",
    "féminin": "F", "feminin": "F", "femelle": "F", "hembra": "F", "♀": "F",
    "na": "NA", "n/a": "NA", "none": "NA", "pooled": "NA", "mixed": "NA", "both": "NA",
}


def parse_sex(text: str) -> Sex | None:
    """:class:`Sex` of a code as labs write it (``M``, ``Male``, ``f``, ``weiblich``...).

    Returns None for an unknown code (the caller names the file and row).
    """
    code = SEX_CODES.get(str(text).strip().lower())
    return None if code is None else Sex(code)


class Censoring(StrEnum):
    """Censoring of an EndpointTable value.

    ``left``: the true value is at most ``value`` (below a lower limit of
    quantification or detection; ``value`` holds that bound). ``right``: the
    true value is at least ``value`` (a latency stopped at the cut-off, a
    threshold above the strongest stimulus). ``none``: ``value`` is observed.
    """

    NONE = "none"
    LEFT = "left"
    RIGHT = "right"

    @property
    def label(self) -> str:
        """Display label."""
        return {"none": "observed", "left": "below the lower limit",
                "right": "above the upper limit"}[self.value]


class QCVerdict(StrEnum):
    """Quality-control verdict of a field, well, plate or animal."""

    PASS = "pass"
    FLAG = "flag"
    EXCLUDE = "exclude"


MICRO_SIGN = "\u00b5"
GREEK_MU = "\u03bc"


def normalise_unit(unit: str) -> str:
    """A unit with collapsed spaces and the Greek mu (U+03BC) written as the micro sign."""
    return " ".join(unit.split()).replace(GREEK_MU, MICRO_SIGN)

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

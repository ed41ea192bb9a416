"""Controlled terminology for neuropathology findings.

Findings lists use the tissue and lesion terms below (lower case, ``_`` for
spaces; common synonyms are mapped). Each tissue × lesion pair is a registry
endpoint ``np_<tissue>_<lesion>`` (incidence) with a companion
``np_<tissue>_<lesion>_severity`` (ordinal grade 0-5, 0 = not present).

References
----------
.. [1] OECD (1997). Test No. 424, paragraphs 35-41 (tissues for neuropathology).
.. [2] Kaufmann W et al. (2012). Proliferative and nonproliferative lesions of the rat
   and mouse central and peripheral nervous systems (INHAND). Toxicologic Pathology
   40(4 Suppl):87S-157S.

"""

from __future__ import annotations

#: Tissues by class.
CNS = ("olfactory_bulb", "cerebral_cortex", "hippocampus", "basal_ganglia", "thalamus",
       "hypothalamus", "midbrain", "cerebellum", "pons", "medulla_oblongata",
       "spinal_cord_cervical", "spinal_cord_lumbar")
PNS = ("dorsal_root_ganglion", "dorsal_root_fibres", "ventral_root_fibres",
       "gasserian_ganglion", "sciatic_nerve", "tibial_nerve", "sural_nerve")
EYE = ("optic_nerve", "retina")
MUSCLE = ("skeletal_muscle",)

#: Lesion terms allowed for each tissue class.
LESIONS = {
    "cns": ("neuronal_necrosis", "neuronal_degeneration", "axonal_degeneration",
            "demyelination", "gliosis", "vacuolation", "inflammation", "haemorrhage",
            "axonal_spheroids", "neuronal_loss"),
    "pns": ("axonal_degeneration", "nerve_fibre_degeneration", "demyelination",
            "inflammation", "neuronal_degeneration", "chromatolysis", "vacuolation"),
    "eye": ("axonal_degeneration", "retinal_degeneration", "gliosis", "inflammation"),
    "muscle": ("myofibre_degeneration", "atrophy", "inflammation"),
}

#: Tissue class of each tissue.
TISSUE_CLASS = {**{t: "cns" for t in CNS}, **{t: "pns" for t in PNS},
                **{t: "eye" for t in EYE}, **{t: "muscle" for t in MUSCLE}}

#: Synonyms accepted in findings lists.
SYNONYMS = {
    "cortex": "cerebral_cortex", "spinal_cord_cervical_segment": "spinal_cord_cervical",
    "spinal_cord_lumbar_segment": "spinal_cord_lumbar", "drg": "dorsal_root_ganglion",
    "dorsal_root_ganglia": "dorsal_root_ganglion", "medulla": "medulla_oblongata",
    "trigeminal_ganglion": "gasserian_ganglion", "muscle": "skeletal_muscle",
    "gastrocnemius": "skeletal_muscle", "hemorrhage": "haemorrhage",
    "nerve_fiber_degeneration": "nerve_fibre_degeneration",
    "myofiber_degeneration": "myofibre_degeneration", "spheroids": "axonal_spheroids",
    "necrosis_neuronal": "neuronal_necrosis", "degeneration_axonal": "axonal_degeneration",
    "dorsal_root_fibers": "dorsal_root_fibres", "ventral_root_fibers": "ventral_root_fibres",
}

#: Severity grades: accepted words → grade. 0 means the lesion is absent.
GRADES = {"minimal": 1, "slight": 1, "mild": 2, "moderate": 3, "marked": 4,
          "moderately_severe": 4, "severe": 5, "present": 1}
GRADE_LABELS = {0: "not present", 1: "minimal", 2: "mild", 3: "moderate", 4: "marked",
                5: "severe"}

#: Entries that mean "examined, no abnormality detected".
NO_FINDING = ("nad", "no_abnormality_detected", "wnl", "within_normal_limits", "none",
              "normal", "no_findings")


def pairs() -> list[tuple[str, str]]:
    """Every allowed (tissue, lesion) pair, in catalogue order."""
    return [(t, lesion) for t, cls in TISSUE_CLASS.items() for lesion in LESIONS[cls]]


def endpoint_name(tissue: str, lesion: str) -> str:
    """Incidence endpoint of a tissue × lesion pair."""
    return f"np_{tissue}_{lesion}"


def severity_name(tissue: str, lesion: str) -> str:
    """Severity endpoint of a tissue × lesion pair."""
    return f"np_{tissue}_{lesion}_severity"


def term(text: str) -> str:
    """Normalise a free-text term: lower case, spaces and punctuation → ``_``, synonyms mapped."""
    t = str(text).strip().lower()
    for ch in "-/.,":
        t = t.replace(ch, " ")
    t = "_".join(t.split())
    return SYNONYMS.get(t, t)

"""Zebrafish locomotion: larval photomotor response (LPR, light/dark) and embryonic EPR.

:func:`analyse` turns tracking exports (any format of :mod:`neurotox.io.zebrafish`)
plus a plate map into EndpointTable rows per larva, with every exclusion
documented, and the assay-specific detail tables (per-bin distances, per-larva
exclusions, the Tanguay hypo/hyperactivity call, optionally bmdrc's LPR
dichotomisation). The plug-in ``zebrafish_lpr`` runs it from a study file.

Modules: ``params`` (settings model), ``inputs`` (exports read and binned),
``design`` (larvae joined to layouts), ``larvae`` (the larva × bin matrix, endpoint
rows, per-larva tables: shared by LPR and EPR), ``lpr`` and ``epr`` (the two
analyses), ``metrics`` (per-larva locomotion metrics), ``exclusions``, ``calls``
(Tanguay hit call), ``sarl`` (SARL statistics), ``bmdrc`` and ``bmd`` (benchmark
concentrations), ``plugin`` (:func:`analyse` and the study plug-in); screens of many
chemicals: ``screen`` (:func:`analyse_screen`, plug-in ``zebrafish_screen``),
``screen_params``, ``screen_design`` (vehicles, experimental groups, EPA group
rules), ``screen_stats`` (per chemical vs own vehicle) and ``morphology``
(developmental morphology incidence endpoints).

References
----------
Reif DM et al. (2016) High-throughput characterization of chemical-associated
embryonic behavioral changes predicts teratogenic outcomes. Arch Toxicol 90:1459.
Truong L et al. (2022) J Hazard Mater 431:128615 (Tanguay LPR/EPR analysis).
Padilla S et al. (2011) Neurotoxicol Teratol 33:624 (EPA larval light/dark test).

"""

from neurotox.assays.zebrafish.inputs import load_exports
from neurotox.assays.zebrafish.params import ZebrafishParameters
from neurotox.assays.zebrafish.plugin import analyse
from neurotox.assays.zebrafish.screen import analyse_screen, load_inputs

__all__ = ["ZebrafishParameters", "analyse", "analyse_screen", "load_exports", "load_inputs"]

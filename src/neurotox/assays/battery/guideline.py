"""The ``guideline`` pseudo-assay: lets guideline templates live among the protocols.

Guideline templates (``oecd-424-screen`` ...) are protocol files whose
parameters are validated by :class:`neurotox.guidelines.GuidelineParameters`;
registering that model under the assay name ``guideline`` makes
``neurotox protocols show oecd-424-screen`` validate and display them. A
guideline is not run as an assay: a study names it in its ``guideline`` key.
"""

from __future__ import annotations

from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.errors import InputError
from neurotox.guidelines import GUIDELINE_ASSAY, GuidelineParameters
from neurotox.study import AssaySpec, Study


def run(study: Study, spec: AssaySpec, params: GuidelineParameters) -> AssayResult:
    """Refuse: guideline templates are selected with the study's ``guideline`` key."""
    raise InputError(f"protocol {spec.protocol!r} is a guideline template, not an assay; "
                     f"set 'guideline: {spec.protocol}' in the study instead", path=study.path,
                     where=f"key 'assays.{spec.key}'")


register(AssayPlugin(GUIDELINE_ASSAY, GuidelineParameters, run,
                     "Guideline requirement templates (not an assay; see the study's "
                     "'guideline' key)."))

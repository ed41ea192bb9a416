"""Rodent cognition assays: novel object recognition (``nor``) and T-/Y-maze (``tmaze``).

Modules: ``params`` (parameter models), ``common`` (subject checks, one-sample
tests, shared by both assays), ``pose`` (geometry on pose tracks), ``nor_inputs``
and ``nor`` (NOR inputs → exploration table → endpoints, plug-in), ``tmaze_inputs``
and ``tmaze`` (T-maze inputs → entries/trials → endpoints, plug-in). Importing
this package registers both assays.
"""

from neurotox.assays.rodent import nor, tmaze  # noqa: F401  (register the assays)

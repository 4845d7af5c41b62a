"""What-if analysis: variants of a base scenario, paired comparisons, sweeps.

This layer sits above ``solver`` and ``sim``: it builds scenarios from variants and asks the
planner and the simulator for answers; it never reaches into their internals.
"""

from .variants import Variant, apply_variant, load_variant

__all__ = ["Variant", "apply_variant", "load_variant"]

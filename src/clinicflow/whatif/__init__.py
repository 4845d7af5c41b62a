"""What-if analysis: variants of a base scenario, paired comparisons, sweeps.

This layer sits above ``solver`` and ``sim``: it builds scenarios from variants and asks the
planner and the simulator for answers; it never reaches into their internals.
"""

from .compare import Comparison, compare
from .sweep import SweepResult, Target, sweep
from .variants import Variant, apply_variant, load_variant

__all__ = [
    "Comparison",
    "SweepResult",
    "Target",
    "Variant",
    "apply_variant",
    "compare",
    "load_variant",
    "sweep",
]

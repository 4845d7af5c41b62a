"""clinicflow: schedule optimization and patient-flow simulation for medical practices.

The notebook API: ``load_scenario`` gives a validated, immutable ``Scenario``; ``summarize``
gives its weekly capacity. Later layers (simulate, plan, compare) are importable from here too.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .domain import Scenario
from .domain.capacity import PracticeSummary, summarize
from .errors import ClinicflowError, InfeasibleError, InputError
from .scenario_file import dump_scenario, load_scenario, scenario_from_dict, write_scenario


def __getattr__(name: str):
    """Heavier layers load on first use, so ``import clinicflow`` stays fast for the CLI."""
    if name == "simulate":
        from .sim import simulate

        return simulate
    if name in ("compare", "sweep", "load_variant", "apply_variant"):
        from . import whatif

        return getattr(whatif, name)
    raise AttributeError(f"module 'clinicflow' has no attribute {name!r}")


__all__ = [
    "ClinicflowError",
    "InfeasibleError",
    "InputError",
    "PracticeSummary",
    "Scenario",
    "__version__",
    "apply_variant",
    "compare",
    "dump_scenario",
    "load_scenario",
    "load_variant",
    "scenario_from_dict",
    "simulate",
    "summarize",
    "sweep",
    "write_scenario",
]

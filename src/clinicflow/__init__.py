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

_LAZY = {
    # imported on first use, so ``import clinicflow`` stays fast (OR-Tools, SimPy, scikit-learn load later)
    "simulate": ("clinicflow.sim", "simulate"),
    "compare": ("clinicflow.whatif", "compare"),
    "sweep": ("clinicflow.whatif", "sweep"),
    "load_variant": ("clinicflow.whatif", "load_variant"),
    "apply_variant": ("clinicflow.whatif", "apply_variant"),
    "plan_week": ("clinicflow.solver.plan", "plan_week"),
    "plan_kpis": ("clinicflow.evaluation", "plan_kpis"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
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
    "plan_kpis",
    "plan_week",
    "scenario_from_dict",
    "simulate",
    "summarize",
    "sweep",
    "write_scenario",
]

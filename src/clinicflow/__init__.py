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
    # imported on first use: the solver pulls in OR-Tools, which a notebook may not need
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
    "dump_scenario",
    "load_scenario",
    "plan_kpis",
    "plan_week",
    "scenario_from_dict",
    "summarize",
    "write_scenario",
]

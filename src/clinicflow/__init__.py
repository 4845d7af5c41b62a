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

__all__ = [
    "ClinicflowError",
    "InfeasibleError",
    "InputError",
    "PracticeSummary",
    "Scenario",
    "__version__",
    "dump_scenario",
    "load_scenario",
    "scenario_from_dict",
    "summarize",
    "write_scenario",
]

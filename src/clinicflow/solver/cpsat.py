"""Every call into OR-Tools CP-SAT goes through here.

ortools 9.15 renamed the solver calls (``solve``/``status_name`` in snake case, callbacks as a
keyword) and moves them again from time to time; keeping ``CpSolver`` in one module means the
rest of the solver layer builds models and reads a typed ``SolveResult``, never a raw status.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from ortools.sat.python import cp_model

CpModel = cp_model.CpModel
IntVar = cp_model.IntVar

Status = Literal["optimal", "feasible", "infeasible", "unknown", "invalid", "greedy"]

_STATUS: dict[int, Status] = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.UNKNOWN: "unknown",
    cp_model.MODEL_INVALID: "invalid",
}


@dataclass(frozen=True)
class SolveResult:
    """What a CP-SAT solve produced: status, objective and proven bound, the variable values the
    caller asked for, and the wall time. ``values`` is empty unless a solution was found, so a
    caller can never read an unchecked solution.

    ``gap`` is relative to the objective (0 when proven optimal)."""

    status: Status
    objective: float | None
    bound: float | None
    values: dict = field(default_factory=dict)
    wall_time: float = 0.0
    core: tuple = ()

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")

    @property
    def gap(self) -> float | None:
        if not self.has_solution or self.objective is None or self.bound is None:
            return None
        if self.status == "optimal":
            return 0.0
        denom = max(abs(self.objective), 1e-9)
        return max(0.0, (self.objective - self.bound) / denom)


def solve(
    model: cp_model.CpModel,
    variables: dict,
    *,
    time_limit: float,
    seed: int = 0,
    workers: int = 1,
    objective_scale: float = 1.0,
    objective_offset: float = 0.0,
    assumption_names: dict[int, object] | None = None,
    hint: dict | None = None,
    deterministic_time: float | None = None,
    params: dict | None = None,
) -> SolveResult:
    """Solve ``model`` and return the values of ``variables`` (any dict of CP-SAT int/bool vars).

    The integer objective is mapped back with ``objective * objective_scale + objective_offset``
    (models scale float costs to integers). ``deterministic_time`` bounds the search in CP-SAT's
    deterministic units, so that a seed gives the same answer on a busy machine as on an idle one
    (``time_limit`` stays as a wall-clock safety net). When the model has assumptions and is infeasible,
    ``core`` holds the names (from ``assumption_names``, keyed by literal index) of a sufficient
    set of assumptions for infeasibility.
    """
    if hint:
        model.clear_hints()
        for var, val in hint.items():
            model.add_hint(var, val)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, float(time_limit))
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.random_seed = int(seed) % (2**31)
    solver.parameters.log_search_progress = False
    if deterministic_time is not None:
        solver.parameters.max_deterministic_time = max(0.01, float(deterministic_time))
    for name, value in (params or {}).items():
        setattr(solver.parameters, name, value)
    t0 = time.perf_counter()
    code = solver.solve(model)
    wall = time.perf_counter() - t0
    status = _STATUS.get(code, "unknown")
    has_obj = model.has_objective()
    if status in ("optimal", "feasible"):
        values = {k: solver.value(v) for k, v in variables.items()}
        objective = solver.objective_value * objective_scale + objective_offset if has_obj else 0.0
        bound = solver.best_objective_bound * objective_scale + objective_offset if has_obj else 0.0
        return SolveResult(status, objective, bound, values, wall)
    core: tuple = ()
    if status == "infeasible" and assumption_names:
        idx = solver.sufficient_assumptions_for_infeasibility()
        core = tuple(assumption_names[i] for i in idx if i in assumption_names)
    return SolveResult(status, None, None, {}, wall, core)


def status_label(result: SolveResult) -> str:
    """``optimal`` or ``feasible (gap 1.2%)`` — how the CLI and the reports print a status."""
    if result.status == "feasible" and result.gap is not None:
        return f"feasible (gap {result.gap:.1%})"
    return result.status

"""Sweeps: a grid of staffing settings, each simulated on the same seed, and the cost-versus-wait frontier."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..domain import Scenario
from ..domain.capacity import weekly_staff_cost
from ..errors import InputError
from ..sim import KPIS, simulate
from ..stats import mean_ci
from .grid import cheapest_meeting, grid_variants, pareto_front
from .schedules import schedule_for
from .variants import apply_variant

_TARGET = re.compile(r"^\s*(?P<kpi>[a-z0-9_]+)\s*<=\s*(?P<limit>-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Target:
    """A service target such as ``p90_wait_min<=20`` (the KPI's mean must be at or under the limit)."""

    kpi: str
    limit: float

    @classmethod
    def parse(cls, text: str) -> Target:
        m = _TARGET.match(text)
        if not m:
            raise InputError(None, "--target", f"expected KPI<=NUMBER, e.g. p90_wait_min<=20, got {text!r}")
        if m["kpi"] not in KPIS:
            raise InputError(
                None, "--target", f"unknown KPI {m['kpi']!r} (expected one of: {', '.join(KPIS)})"
            )
        return cls(m["kpi"], float(m["limit"]))


@dataclass
class SweepResult:
    """``table``: one row per grid point with the settings, weekly staff cost, and each KPI's mean and CI;
    ``efficient`` marks the points no other point beats on both staff cost and ``wait_kpi``."""

    table: pd.DataFrame
    knobs: list[str]
    wait_kpi: str
    target: Target | None
    seed: int
    replications: int

    @property
    def cheapest(self) -> pd.Series | None:
        if self.target is None:
            return None
        return cheapest_meeting(self.table, "staff_cost_week", f"{self.target.kpi}", self.target.limit)


def sweep(
    base: Scenario,
    varies: list[tuple[str, list[float]]],
    *,
    replications: int = 30,
    seed: int = 0,
    policy: str = "evenly_spaced",
    workers: int = 1,
    cluster=None,
    wait_kpi: str = "p90_wait_min",
    target: Target | None = None,
    on_point=None,
) -> SweepResult:
    """Simulate every grid point (common random numbers across points) and find the frontier."""
    rows = []
    grid = grid_variants(base, varies)
    for i, (settings, variant) in enumerate(grid):
        scen = apply_variant(base, variant)
        res = simulate(
            scen,
            schedule_for(scen, policy),
            replications=replications,
            seed=seed,
            workers=workers,
            cluster=cluster,
        )
        row = {**settings, "staff_cost_week": weekly_staff_cost(scen)["total"]}
        per = res.per_replication
        for k in KPIS:
            m, lo, hi, *_ = mean_ci(per[k].to_numpy())
            row[k] = m
            row[f"{k}_ci_low"] = lo
            row[f"{k}_ci_high"] = hi
        rows.append(row)
        if on_point is not None:
            on_point(i + 1, len(grid))
    table = pd.DataFrame(rows)
    table["efficient"] = pareto_front(table, "staff_cost_week", wait_kpi)
    if target is not None:
        table["meets_target"] = table[target.kpi] <= target.limit
    return SweepResult(table, [k for k, _ in varies], wait_kpi, target, seed, replications)

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
from .grid import KNOBS, cheapest_meeting, grid_variants, pareto_front
from .schedules import schedule_for
from .variants import MAKES_INVALID, Variant, apply_variant, schedule_under

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
        check_kpi(m["kpi"], "--target")
        return cls(m["kpi"], float(m["limit"]))


def check_kpi(kpi: str, where: str = "--wait-kpi") -> str:
    """``kpi`` if it is one the simulator reports; else an ``InputError`` naming ``where``."""
    if kpi not in KPIS:
        raise InputError(None, where, f"unknown KPI {kpi!r} (expected one of: {', '.join(KPIS)})")
    return kpi


@dataclass
class SweepResult:
    """``table``: one row per grid point with the settings, weekly staff cost, each KPI's mean and CI,
    and ``labour_cost_week`` (staff cost + mean overtime pay); ``efficient`` marks the points no
    other point beats on both labour cost and ``wait_kpi``. Labour, not scheduled staff cost: a
    setting that saves a clerk's wages but keeps everyone past closing is not as cheap as it looks."""

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
        return cheapest_meeting(self.table, "labour_cost_week", f"{self.target.kpi}", self.target.limit)


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
    schedule: pd.DataFrame | None = None,
) -> SweepResult:
    """Simulate every grid point (common random numbers across points) and find the frontier.

    Points are independent, so the grid itself is spread over ``workers`` local processes (or the
    Dask ``cluster``), one point per task with its replications run in order: one pool for the whole
    sweep, and results identical to a sequential run because each point's replications use the seed's
    own streams.

    ``schedule`` (the practice's own week, as ``compare --schedule``) is run at every point instead of
    ``policy``'s: staffing and rates change around a fixed week. Scaling demand does not change a
    fixed week's slots, so the ``demand`` knob is refused with it.
    """
    if schedule is not None and any(k == "demand" for k, _ in varies):
        raise InputError(
            None,
            "--vary demand",
            "not used with --schedule (the schedule file fixes the week's slots; sweep demand with a policy)",
        )
    grid = grid_variants(base, varies)
    scenarios = []
    for settings, variant in grid:  # every point checked before any is planned or simulated
        try:
            scenarios.append((settings, variant, apply_variant(base, variant)))
        except InputError as err:  # e.g. rooms=0 leaves no room, mas=0 leaves rooming undone
            raise point_error(base, settings, err) from None
    points = [
        (
            settings,
            scen,
            schedule_under(variant, schedule) if schedule is not None else schedule_for(scen, policy),
        )
        for settings, variant, scen in scenarios
    ]
    per_point = _run_points(points, replications, seed, workers, cluster, on_point)
    rows = []
    for (settings, scen, _), per in zip(points, per_point, strict=True):
        staff = weekly_staff_cost(scen)["total"]
        row = {**settings, "staff_cost_week": staff}
        for k in KPIS:
            m, lo, hi, *_ = mean_ci(per[k].to_numpy())
            row[k] = m
            row[f"{k}_ci_low"] = lo
            row[f"{k}_ci_high"] = hi
        # what the setting pays: its scheduled hours and the overtime its late days add
        row["labour_cost_week"] = staff + row["overtime_pay"]
        row["labour_cost_week_ci_low"] = staff + row["overtime_pay_ci_low"]
        row["labour_cost_week_ci_high"] = staff + row["overtime_pay_ci_high"]
        rows.append(row)
    table = pd.DataFrame(rows)
    table["efficient"] = pareto_front(table, "labour_cost_week", wait_kpi)
    if target is not None:
        table["meets_target"] = table[target.kpi] <= target.limit
    return SweepResult(table, [k for k, _ in varies], wait_kpi, target, seed, replications)


def point_error(base: Scenario, settings: dict, err: InputError) -> InputError:
    """A grid point's scenario error told as the ``--vary`` value that caused it.

    The knob is the one whose variant field the error names (``mas`` for ``medical_assistants``),
    else the one that fails on its own; the field is left out when it is the knob's own, so
    ``mas=0`` reads ``--vary mas: mas=0: would leave no medical assistant …``.
    """
    message = err.message.removeprefix(MAKES_INVALID)
    own = {k: KNOBS[k][1](base, v) for k, v in settings.items()}
    knob = next((k for k, fields in own.items() if err.where in fields), None)
    if knob is not None:
        return InputError(None, f"--vary {knob}", f"{knob}={settings[knob]}: {message}")
    where = f"{err.where}: " if err.where else ""
    if len(settings) == 1:
        [(knob, value)] = settings.items()
        return InputError(None, f"--vary {knob}", f"{knob}={value}: {where}{message}")
    for k, v in settings.items():  # several knobs: the first that is wrong on its own
        try:
            apply_variant(base, Variant(name=f"{k}={v}", **own[k]))
        except InputError as alone:
            return point_error(base, {k: v}, alone)
    label = ", ".join(f"{k}={v}" for k, v in settings.items())
    return InputError(None, "--vary", f"{label}: {where}{message}")


def _simulate_point(scen: Scenario, schedule: pd.DataFrame, replications: int, seed: int) -> pd.DataFrame:
    return simulate(scen, schedule, replications=replications, seed=seed, workers=1).per_replication


def _run_points(points, replications: int, seed: int, workers: int, cluster, on_point) -> list[pd.DataFrame]:
    n = len(points)
    tick = on_point or (lambda _i, _n: None)
    if cluster is not None:
        from ..sim.replications import dask_client

        client, own = dask_client(cluster)
        try:
            futures = [
                client.submit(_simulate_point, sc, sch, replications, seed, pure=False)
                for _, sc, sch in points
            ]
            out = []
            for i, f in enumerate(futures):
                out.append(f.result())
                tick(i + 1, n)
            return out
        finally:
            if own:
                client.close()
    if workers <= 1 or n <= 1:
        out = []
        for i, (_, sc, sch) in enumerate(points):
            out.append(_simulate_point(sc, sch, replications, seed))
            tick(i + 1, n)
        return out
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods and os.name == "posix" else None)
    # no more processes than points: a fork start method starts them all at once
    with ProcessPoolExecutor(max_workers=min(workers, n), mp_context=ctx) as ex:
        futures = [ex.submit(_simulate_point, sc, sch, replications, seed) for _, sc, sch in points]
        out = []
        for i, f in enumerate(futures):
            out.append(f.result())
            tick(i + 1, n)
    return out

"""Patient-flow simulation: a discrete-event model of clinic days (on SimPy or a lean loop), run in independent replications.

``simulate(scenario, schedule)`` is the one entry point other layers use; see ``clinic.py`` for the
model, ``kpis.py`` for the KPI definitions and ``replications.py`` for seeds and scale-out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..domain.scenario import Scenario
from ..domain.schedule import validate_schedule
from ..errors import InputError
from .engine import ENGINES
from .kpis import KPIS, n_bins
from .plan import BIN_MIN, REFERENCE_WEEK, build_plan, parse_days, select_days
from .records import event_log, patients_frame
from .replications import ReplicationResult, run_dask, run_local, run_replication
from .result import SimulationResult, timeseries_frame
from .staffing import staffing_gaps

__all__ = ["KPIS", "ReplicationResult", "SimulationResult", "run_replication", "simulate"]

_SCHEDULE_COLUMNS = {"date", "weekday", "provider", "start_min", "end_min", "appointment_type", "kind"}


def _as_schedule(scenario: Scenario, schedule, days) -> pd.DataFrame:
    if schedule is None:
        from ..policies import evenly_spaced_schedule

        # The evenly spaced schedule of the reference week, or of the weeks of the dates asked for.
        _, dates = parse_days(days, scenario)
        weeks = sorted({d - dt.timedelta(days=d.weekday()) for d in dates}) or [REFERENCE_WEEK]
        frames = [evenly_spaced_schedule(scenario, w) for w in weeks]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if not isinstance(schedule, pd.DataFrame):
        raise TypeError("schedule must be a DataFrame from clinicflow.domain.schedule.validate_schedule")
    if not set(schedule.columns) >= _SCHEDULE_COLUMNS:
        # A raw (file-shaped) table: validate it here.
        return validate_schedule(schedule, scenario)
    return schedule


def simulate(
    scenario: Scenario,
    schedule: pd.DataFrame | None = None,
    *,
    days: Iterable[str | dt.date] | str | None = None,
    replications: int = 30,
    seed: int = 0,
    workers: int = 1,
    cluster=None,
    progress: bool = False,
    keep_events: bool = False,
    engine: str = "lean",
    keep_patients: bool = False,
) -> SimulationResult:
    """Simulate the schedule's days ``replications`` times and summarize.

    ``schedule`` is a validated schedule frame (``validate_schedule``); ``None`` uses the evenly spaced
    schedule of the reference week (``plan.REFERENCE_WEEK``), or of the weeks of the dates in ``days``.
    ``days`` keeps only some weekdays ("mon", …) or dates; a date absent from a given schedule is
    simulated with walk-ins only. Replication ``r`` uses
    ``replication_sequence(seed, r)``: identical results for any ``workers`` or ``cluster`` (a Dask
    address, cluster or client). ``keep_events`` keeps the per-patient records and the event log; ``keep_patients`` the records
    alone (the event log's timestamps cost more than the simulation: the back-test needs only times).
    ``engine`` picks the event loop: ``"lean"`` (default) or ``"simpy"`` (the reference); both give
    identical results (``sim/engine.py``).
    """
    if replications < 1:
        raise InputError(None, "replications", f"expected at least 1, got {replications}")
    if workers < 1:
        raise InputError(None, "workers", f"expected at least 1, got {workers}")
    if engine not in ENGINES:
        raise InputError(None, "engine", f"expected one of {', '.join(ENGINES)}, got {engine!r}")
    keep_records = keep_events or keep_patients
    frame = _as_schedule(scenario, schedule, days)
    dates = select_days(frame, scenario, days)
    plan = build_plan(scenario, frame, dates)

    results: list[ReplicationResult] = []
    bar = None
    if progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("simulating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
    task = None
    done_before_bar = 0

    def tick(k: int) -> None:
        nonlocal done_before_bar
        if bar is None:
            return
        if task is None:  # results that arrived before the bar started
            done_before_bar += k
        else:
            bar.advance(task, k)

    if cluster is not None:
        it = run_dask(plan, seed, replications, cluster, keep_records, tick, engine)
    else:
        it = run_local(plan, seed, replications, workers, keep_records, tick, engine)
    if bar is not None:
        # Start the bar only after the worker pool is forked (the bar runs a refresh thread).
        first = next(it)
        with bar:
            task = bar.add_task("sim", total=replications, completed=done_before_bar)
            results.append(first)
            results.extend(it)
    else:
        results.extend(it)
    results.sort(key=lambda x: x.replication)

    per_rep = pd.DataFrame([{"replication": x.replication, **x.kpis} for x in results])
    per_prov = pd.DataFrame([{"replication": x.replication, **row} for x in results for row in x.by_provider])
    per_day = pd.DataFrame([{"replication": x.replication, **row} for x in results for row in x.by_day])
    ts = timeseries_frame([x.timeseries for x in results], dates, scenario.clinic.opens, BIN_MIN)
    assert ts["minute"].nunique() == n_bins(plan)
    events = patients = None
    if keep_records:
        patients = pd.concat(
            [patients_frame(x.records, plan, x.replication) for x in results], ignore_index=True
        )
    if keep_events:
        events = event_log(patients, scenario.clinic.timezone, plan.rooms)
    return SimulationResult(
        scenario_name=scenario.clinic.name,
        seed=seed,
        replications=replications,
        per_replication=per_rep,
        provider_replications=per_prov,
        day_replications=per_day,
        timeseries=ts,
        events=events,
        patients=patients,
        schedule=frame,
        warnings=tuple(staffing_gaps(scenario, frame, dates)),
        sessions=pd.DataFrame(
            {
                "date": [plan.days[sp.day].date for sp in plan.sessions],
                "provider": [plan.providers[sp.provider] for sp in plan.sessions],
                "start": [sp.start for sp in plan.sessions],
                "end": [sp.end for sp in plan.sessions],
            }
        ),
        session_replications=np.stack([x.by_session for x in results]),
    )

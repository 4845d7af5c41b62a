"""The OR day in SimPy: booked cases meet random durations, turnovers, surgeons and equipment.

Each room-day runs its cases in booked order. The first case starts at the block start; each
later case is called "to follow": it starts as soon as the room has turned over, the surgeon is
free (a surgeon is a capacity-1 resource per day) and the equipment it needs is free (a resource
per facility and item with the facility's count) — possibly before its booked time, as ORs
work. Every case's duration and the turnover after it come from its own stream,
``keyed_generator(rep_ss, "case", case_id)``, drawn by inverse CDF, so a case takes the same
time in replication r whichever room, order or schedule it is in: comparisons of two schedules
(optimized vs first-come) are paired by common random numbers.

Outputs are flat records (one per case per replication and one per room-day per replication);
``summarize_or`` turns them into per-room-day and overall figures with 95% confidence intervals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from ..domain.cases import SurgicalCase
from ..domain.scenario import Scenario
from ..domain.surgery_schedule import normalize_surgery_schedule
from ..stats import mean_ci, wilson
from ..streams import keyed_generator, replication_sequences


@dataclass
class ORSimResult:
    cases: pd.DataFrame  # rep, room_day, case_id, surgeon, booked_start, start, end, delay
    room_days: pd.DataFrame  # rep, room_day, date, room, block_start, block_end, finish, overtime, busy
    replications: int


def _draws(table: pd.DataFrame, scenario: Scenario, cases: dict[str, SurgicalCase], seqs) -> dict:
    """Durations and following turnovers per case: arrays over replications (inverse CDF)."""
    assert scenario.surgery is not None
    turn = {f.id: f.turnover_min for f in scenario.surgery.facilities}
    out = {}
    for row in table.itertuples():
        u = np.array([keyed_generator(ss, "case", row.case_id).random(2) for ss in seqs])
        u = np.clip(u, 1e-12, 1 - 1e-12)
        dur = np.asarray(cases[row.case_id].duration(scenario).quantile(u[:, 0]), dtype=float)
        tov = np.asarray(turn[row.facility].quantile(u[:, 1]), dtype=float)
        out[row.case_id] = (np.maximum(dur, 0.0), np.maximum(tov, 0.0))
    return out


def simulate_or(
    scenario: Scenario,
    table: pd.DataFrame,
    cases: list[SurgicalCase],
    replications: int = 200,
    seed: int = 0,
) -> ORSimResult:
    """Simulate the booked week ``replications`` times (schedule table: ``SURGERY_COLUMNS``)."""
    assert scenario.surgery is not None
    t = normalize_surgery_schedule(table)
    by_id = {c.case_id: c for c in cases}
    counts = {f.id: f.equipment for f in scenario.surgery.facilities}
    seqs = replication_sequences(seed, replications)
    draws = _draws(t, scenario, by_id, seqs)
    t["room_day"] = [
        f"{d.isoformat()}/{r}/{s}" for d, r, s in zip(t["date"], t["room"], t["block_start"], strict=True)
    ]
    case_recs, day_recs = [], []
    for date, day in t.groupby("date", sort=True):
        # plain rows, made once: a DataFrame walked in every replication was 3/4 of a 400-replication run
        rooms = [
            [(row, tuple(sorted(e for e in row.equipment.split(";") if e))) for row in g.itertuples()]
            for g in (g.sort_values("sequence") for _, g in day.groupby("room_day", sort=True))
        ]
        for rep in range(replications):
            env = simpy.Environment()
            surgeons = {s: simpy.Resource(env, 1) for s in day["surgeon"].unique()}
            equipment = {
                (fac, e): simpy.Resource(env, max(1, k))
                for fac, items in counts.items()
                for e, k in items.items()
            }
            for g in rooms:
                env.process(_room(env, g, rep, draws, surgeons, equipment, case_recs, day_recs, date))
            env.run()
    return ORSimResult(pd.DataFrame(case_recs), pd.DataFrame(day_recs), replications)


def _room(env, room: list[tuple], rep, draws, surgeons, equipment, case_recs, day_recs, date):
    """One room-day's cases in booked order; ``room`` holds (row, equipment items sorted by name)."""
    rows = [row for row, _ in room]
    block_start, block_end = rows[0].block_start_min, rows[0].block_end_min
    yield env.timeout(block_start)
    busy = 0.0
    for k, (row, needs) in enumerate(room):
        dur, tov = draws[row.case_id][0][rep], draws[row.case_id][1][rep]
        reqs = [surgeons[row.surgeon].request()]
        reqs += [equipment[row.facility, e].request() for e in needs]
        for req in reqs:  # one global order (surgeon, then items by name): no deadlock
            yield req
        start = env.now
        yield env.timeout(dur)
        for req, res in zip(
            reqs, [surgeons[row.surgeon]] + [equipment[row.facility, e] for e in needs], strict=True
        ):
            res.release(req)
        busy += max(0.0, min(env.now, block_end) - max(start, block_start))
        case_recs.append(
            {
                "rep": rep,
                "room_day": row.room_day,
                "case_id": row.case_id,
                "surgeon": row.surgeon,
                "booked_start": row.start_min,
                "start": start,
                "end": env.now,
                "delay": max(0.0, start - row.start_min),
            }
        )
        if k < len(rows) - 1:
            t0 = env.now
            yield env.timeout(tov)
            busy += max(0.0, min(env.now, block_end) - max(t0, block_start))
    finish = env.now
    day_recs.append(
        {
            "rep": rep,
            "room_day": rows[0].room_day,
            "date": date,
            "facility": rows[0].facility,
            "room": rows[0].room,
            "block_start": block_start,
            "block_end": block_end,
            "cases": len(rows),
            "finish": finish,
            "overtime": max(0.0, finish - block_end),
            "busy": busy,
        }
    )


# ---------------------------------------------------------------------------------------------
# Summaries with confidence intervals


def summarize_or(result: ORSimResult) -> dict:
    """Per-room-day and overall KPIs with 95% CIs."""
    rd, cs = result.room_days, result.cases
    rows = []
    if rd.empty:
        return {"replications": result.replications, "room_days": [], "overall": {}}
    for key, g in rd.groupby("room_day", sort=True):
        over = g["overtime"].to_numpy()
        minutes = g["block_end"].iloc[0] - g["block_start"].iloc[0]
        p, lo, hi = wilson(int((over > 0).sum()), len(over))
        om, olo, ohi, *_ = mean_ci(over)
        um, ulo, uhi, *_ = mean_ci(g["busy"].to_numpy() / minutes)
        d = cs[cs["room_day"] == key].groupby("rep")["delay"].mean().to_numpy()
        dm, dlo, dhi, *_ = mean_ci(d)
        rows.append(
            {
                "room_day": key,
                "cases": int(g["cases"].iloc[0]),
                "p_overtime": p,
                "p_overtime_ci": [lo, hi],
                "overtime_min": om,
                "overtime_min_ci": [olo, ohi],
                "utilization": um,
                "utilization_ci": [ulo, uhi],
                "mean_start_delay_min": dm,
                "mean_start_delay_ci": [dlo, dhi],
            }
        )
    case_rows = []
    for cid, g in cs.groupby("case_id", sort=True):
        dm, dlo, dhi, *_ = mean_ci(g["delay"].to_numpy())
        p15, lo15, hi15 = wilson(int((g["delay"] > 15).sum()), len(g))
        case_rows.append(
            {
                "case_id": cid,
                "room_day": g["room_day"].iloc[0],
                "booked_start_min": float(g["booked_start"].iloc[0]),
                "mean_start_delay_min": dm,
                "mean_start_delay_ci": [dlo, dhi],
                "p_started_15_min_late": p15,
                "p_started_15_min_late_ci": [lo15, hi15],
            }
        )
    per_rep = rd.groupby("rep").agg(overtime=("overtime", "sum"), busy=("busy", "sum"))
    minutes = float((rd.groupby("room_day").first().eval("block_end - block_start")).sum())
    any_over = rd.assign(o=rd["overtime"] > 0).groupby("rep")["o"].mean().to_numpy()
    delay = cs.groupby("rep")["delay"].mean().to_numpy()
    late15 = cs.assign(l=cs["delay"] > 15).groupby("rep")["l"].mean().to_numpy()
    overall = {}
    for name, arr in {
        "share_of_room_days_in_overtime": any_over,
        "overtime_min_per_week": per_rep["overtime"].to_numpy(),
        "utilization": per_rep["busy"].to_numpy() / minutes,
        "mean_start_delay_min": delay,
        "share_of_cases_started_15_min_late": late15,
    }.items():
        m, lo, hi, *_ = mean_ci(arr)
        overall[name] = m
        overall[f"{name}_ci"] = [lo, hi]
    return {"replications": result.replications, "room_days": rows, "cases": case_rows, "overall": overall}


def delays_by_position(result: ORSimResult) -> pd.DataFrame:
    """Mean start delay by position in the room-day (how lateness builds up through the day)."""
    cs = result.cases.copy()
    cs["position"] = cs.groupby(["rep", "room_day"]).cumcount() + 1
    agg = defaultdict(list)
    for pos, g in cs.groupby("position"):
        m, lo, hi, *_ = mean_ci(g.groupby("rep")["delay"].mean().to_numpy())
        agg["position"].append(pos)
        agg["mean_delay"].append(m)
        agg["ci_low"].append(lo)
        agg["ci_high"].append(hi)
    return pd.DataFrame(agg)

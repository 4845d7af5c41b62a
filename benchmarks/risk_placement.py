"""Does booking the patients most likely to miss into double-booked starts pay? (Measured: no.)

    PYTHONPATH=src python benchmarks/risk_placement.py [--weeks 300] [--time-limit 20]

The literature overbooks the patients least likely to come (Zeng et al. 2010; LaGanga & Lawrence
2012). This plans the family week, books its 250 synthetic requests — each given a no-show score
drawn from Beta(1.2, 6) (mean 0.17, about the spread ``calibrate --requests`` gives on the synthetic
history) — once as ``plan`` does, and once with a second, lexicographic CP-SAT solve that keeps the
first solve's preference score as a constraint and puts the lowest-show patients at the plan's
double-booked starts. It prints the expected number of double-booked starts where both patients
come, where the scores went, and the two booked weeks simulated on the same seeds (paired 95% CIs).

Session 8's run: expected collisions 52.0 → 45.2 a week; over 300 simulated weeks cost −5.8 (95% CI
−33.0..+21.4), wait −16 (−42..+10), idle +5 (−3..+14): no detectable gain, so ``plan`` does not do it
(docs/planning.md, Booking).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd

from clinicflow import load_scenario, simulate
from clinicflow.domain.requests import synthetic_requests
from clinicflow.solver import cpsat
from clinicflow.solver.booking import _fits, _score, apply_booking, book_requests
from clinicflow.solver.plan import plan_week
from clinicflow.stats import mean_ci

ROOT = Path(__file__).resolve().parents[1]
MONDAY = dt.date(2026, 12, 7)
PCT = 1000  # show probabilities in tenths of a percent


def show(scenario, type_id: str, no_show: float | None) -> float:
    return scenario.type_by_id[type_id].show_probability(no_show)


def double_booked(schedule: pd.DataFrame) -> set:
    size = schedule.groupby(["date", "provider", "start_min"])["kind"].transform("size")
    return set(size.index[size.to_numpy() > 1])


def keep_apart(scenario, schedule: pd.DataFrame, requests, first, time_limit: float) -> dict[int, int]:
    """Among bookings worth at least ``first``'s preference score, minimize the expected number of
    patients who come at double-booked starts (an open row counts as its type's average patient)."""
    rows = [r for r in schedule.itertuples() if r.kind in ("template", "hold")]
    m = cpsat.CpModel()
    x, by_row, by_patient_day = {}, {}, {}
    for i, req in enumerate(requests):
        for row in rows:
            if _fits(scenario, req, row):
                v = m.new_bool_var(f"x[{i},{row.Index}]")
                x[(i, row.Index)] = (v, _score(req, row))
                by_row.setdefault(row.Index, []).append(v)
                by_patient_day.setdefault((req.patient_ref, row.date), []).append(v)
    for i in range(len(requests)):
        m.add_at_most_one([v for (j, _r), (v, _s) in x.items() if j == i])
    for lits in (*by_row.values(), *by_patient_day.values()):
        m.add_at_most_one(lits)
    score = sum(s * v for v, s in x.values())
    m.add(score >= round(sum(x[(i, r)][1] for i, r in first.items())))
    double = double_booked(schedule)
    base = {r: show(scenario, schedule.at[r, "appointment_type"], None) for r in double}
    m.minimize(
        sum(
            round(PCT * (show(scenario, requests[i].appointment_type, requests[i].no_show_prob) - base[r]))
            * v
            for (i, r), (v, _s) in x.items()
            if r in double
        )
    )
    res = cpsat.solve(
        m,
        {k: v for k, (v, _s) in x.items()},
        time_limit=60 * time_limit + 10,
        deterministic_time=time_limit,
        hint={x[(i, r)][0]: 1 for i, r in first.items()},
        params={"cp_model_presolve": False},  # presolve spent the budget on the score constraint
    )
    if not res.has_solution:
        return first
    return {i: r for (i, r), val in res.values.items() if val}


def collisions(scenario, schedule: pd.DataFrame) -> float:
    total = 0.0
    for rows in schedule.groupby(["date", "provider", "start_min"]).groups.values():
        if len(rows) == 2:
            p = [schedule.at[r, "no_show_prob"] for r in rows]
            total += np.prod(
                [
                    show(scenario, schedule.at[r, "appointment_type"], None if pd.isna(q) else float(q))
                    for r, q in zip(rows, p, strict=True)
                ]
            )
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weeks", type=int, default=300)
    ap.add_argument("--time-limit", type=float, default=20.0)
    args = ap.parse_args()
    sc = load_scenario(ROOT / "scenarios/family-practice.yaml")
    t0 = time.perf_counter()
    plan = plan_week(sc, MONDAY, time_limit=args.time_limit, seed=0)
    print(f"planned the family week in {time.perf_counter() - t0:.0f} s")
    rng = np.random.default_rng(7)
    reqs = synthetic_requests(sc, MONDAY, n=250, seed=0)
    reqs = [dataclasses.replace(r, no_show_prob=round(float(rng.beta(1.2, 6.0)), 4)) for r in reqs]
    first = book_requests(sc, plan.schedule, reqs, time_limit=5, seed=0)
    weeks = {"as plan books": apply_booking(sc, plan.schedule, reqs, first)}
    apart = keep_apart(sc, plan.schedule, reqs, first.assignments, time_limit=5)
    weeks["likely no-shows at double-booked starts"] = apply_booking(
        sc, plan.schedule, reqs, dataclasses.replace(first, assignments=apart)
    )
    per = {}
    for name, week in weeks.items():
        booked = week[week["kind"] == "booked"]
        at_double = booked.index.isin(list(double_booked(week)))
        p = booked["no_show_prob"].astype(float)
        print(
            f"{name}: {len(booked)} booked; at double-booked starts {at_double.sum()} "
            f"(mean score {p[at_double].mean():.3f}, elsewhere {p[~at_double].mean():.3f}); "
            f"expected starts where both come {collisions(sc, week):.1f}"
        )
        per[name] = simulate(sc, week, replications=args.weeks, seed=11, workers=2).per_replication
    a, b = per.values()
    print(f"simulated week, second minus first (paired, {args.weeks} weeks):")
    for k in ("cost", "total_wait_min", "provider_idle_min", "provider_overtime_min", "patients_seen"):
        m, lo, hi, *_ = mean_ci((b[k] - a[k]).to_numpy())
        print(f"  {k:<22} {m:+8.1f}  95% CI {lo:+.1f}..{hi:+.1f}")


if __name__ == "__main__":
    main()

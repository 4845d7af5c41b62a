"""How good the planned week is: the plan against evenly spaced and Bailey-Welch timing of the
same template, in the simulator, on held-out seeds, with common random numbers.

    PYTHONPATH=src python benchmarks/plan_quality.py [--scenario family-practice] [--seed 0]
        [--time-limit 60] [--weeks 300] [--search-days 200] [--validation-days 300]

Prints each schedule's weekly cost, patient wait, provider idle and overtime (mean and 95% CI over
simulated weeks), the paired saving of the plan against each baseline, and where the waiting goes
(the desk, a room slot, the MA, the provider; check-in and rooming themselves). These are the
figures issue 4 asks about ("at least 30% below evenly spaced, no worse than Bailey-Welch").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

import numpy as np

from clinicflow import load_scenario
from clinicflow.evaluation import HELDOUT_OFFSET, mean_ci, plan_kpis
from clinicflow.sim import simulate
from clinicflow.sim.analysis import wait_breakdown
from clinicflow.solver.baselines import _means, baseline_schedule
from clinicflow.solver.plan import build_schedule, plan_week

ROOT = Path(__file__).resolve().parents[1]


def _waiting_parts(patients) -> dict[str, float]:
    """Minutes a week after max(arrival, appointment) until the provider: the queues
    (``sim.analysis.wait_breakdown``) and the check-in and rooming themselves, which every timing pays."""
    queues = wait_breakdown(patients).set_index("stage")["minutes_per_replication"]
    p = patients[patients["outcome"] == "seen"]
    t0 = np.fmax(p["arrival"], p["appointment"])
    reps = max(1, p["replication"].nunique())

    def served(a: str, b: str) -> float:
        return float(np.nansum(np.clip(p[b] - np.fmax(p[a], t0), 0, None)) / reps)

    return {
        "desk queue": queues["desk"],
        "check-in": served("check_in_start", "check_in_end"),
        "room slot queue": queues["room"],
        "MA queue": queues["ma"],
        "rooming": served("rooming_start", "rooming_end"),
        "provider queue": queues["provider"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="family-practice")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--weeks", type=int, default=300)
    ap.add_argument("--search-days", type=int, default=200, help="the refinement's search days")
    ap.add_argument("--validation-days", type=int, default=300, help="the refinement's validation days")
    args = ap.parse_args()
    s = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    monday = dt.date(2026, 11, 30)
    t0 = time.perf_counter()
    plan = plan_week(
        s,
        monday,
        time_limit=args.time_limit,
        seed=args.seed,
        search_days=args.search_days,
        validation_days=args.validation_days,
    )
    planned = time.perf_counter() - t0
    k = plan_kpis(plan, replications=args.weeks, evaluator="sim")
    print(f"{args.scenario}, week {monday}, seed {args.seed}, time limit {args.time_limit:g} s")
    print(f"planned in {planned:.1f} s (load average {os.getloadavg()[0]:.1f}); {args.weeks} simulated weeks")
    print(f"held-out seed {args.seed + HELDOUT_OFFSET}, common random numbers across the three schedules")
    print(f"{'schedule':15} {'cost':>17} {'wait min':>15} {'idle min':>15} {'overtime min':>13}")
    for name, row in k.summary().items():
        cells = [f"{row[m]['mean']:,.0f} ± {(row[m]['ci_high'] - row[m]['ci_low']) / 2:,.0f}" for m in row]
        print(f"{name:15} {cells[0]:>17} {cells[1]:>15} {cells[2]:>15} {cells[3]:>13}")
    for base in ("evenly_spaced", "bailey_welch"):
        r = k.reduction(base)
        c = r["cost_saved"]
        print(
            f"plan vs {base}: saves {c['mean']:,.0f} a week ({r['relative']:.1%}), "
            f"95% CI {c['ci_low']:,.0f}..{c['ci_high']:,.0f}"
        )
    # A weaker reading of "evenly spaced at mean duration": one interval per session, the mean of its
    # slots' visit lengths (a practice on a fixed slot grid). Not a product baseline; printed to show
    # the 30% target is out of reach under that reading too (docs/planning.md, "30% target").
    uniform = {
        key: [round(start + i * sum(m) / len(m)) for i in range(len(m))] if m else []
        for key, start, m in (
            ((tb.session.key, tb.block.start), tb.block.start, _means(plan, tb)) for tb in plan.blocks
        )
    }
    frame = build_schedule(s, plan.blocks, starts=uniform, rooms=False)
    u = simulate(s, frame, replications=args.weeks, seed=args.seed + HELDOUT_OFFSET).per_replication["cost"]
    p = k.per_replication["plan"]["cost"].to_numpy()
    d = mean_ci(u.to_numpy() - p)
    print(
        f"plan vs one interval per session: {u.mean():,.0f} a week; the plan saves {d['mean']:,.0f} "
        f"({d['mean'] / u.mean():.1%}), 95% CI {d['ci_low']:,.0f}..{d['ci_high']:,.0f}"
    )
    print("where the waiting goes (minutes a week, 30 weeks):")
    frames = {"plan": plan.schedule} | {
        b: baseline_schedule(plan, b) for b in ("evenly_spaced", "bailey_welch")
    }
    for name, frame in frames.items():
        res = simulate(s, frame, replications=30, seed=args.seed + HELDOUT_OFFSET, keep_events=True)
        parts = _waiting_parts(res.patients)
        print(f"  {name:15} " + ", ".join(f"{k_} {v:,.0f}" for k_, v in parts.items()))


if __name__ == "__main__":
    main()

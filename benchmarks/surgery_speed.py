"""Solve time of the surgery scheduler: the orthopedic example week, the same practice with 150
cases (the issue's benchmark: two facilities, five days), and a 2x larger instance.

The 2x instance doubles the OR capacity (each weekly block gets a twin of open time in a new room
of the same facility, and equipment counts double) and the case list to 150 cases (the issue's
benchmark size: two facilities, five days). Open time is the hard part: every surgeon's case can
go there, so the model has many more options per case. Prints wall time to the first solution, to the final one, the status and
the gap. Run: PYTHONPATH=src python benchmarks/surgery_speed.py [--time-limit 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import yaml

from clinicflow.data.synthetic_cases import generate_cases
from clinicflow.domain.cases import read_cases_csv
from clinicflow.scenario_file import load_scenario, scenario_from_dict
from clinicflow.solver.surgery import solve_surgery

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
WEEK = dt.date(2026, 11, 30)


def doubled_scenario():
    data = yaml.safe_load((ROOT / "scenarios/orthopedic-practice.yaml").read_text())
    sg = data["surgery"]
    sg["facilities"][0]["rooms"] += ["OR6", "OR7", "OR8"]
    sg["facilities"][1]["rooms"] += ["ASC3", "ASC4"]
    twin = {"OR3": "OR6", "OR4": "OR7", "OR5": "OR8", "ASC1": "ASC3", "ASC2": "ASC4"}
    sg["blocks"] = sg["blocks"] + [{**b, "room": twin[b["room"]], "surgeon": None} for b in sg["blocks"]]
    for f in sg["facilities"]:
        f["equipment"] = {k: 2 * v for k, v in f.get("equipment", {}).items()}
    return scenario_from_dict(data)


def run(name, scenario, cases, time_limit):
    first = []
    t0 = time.perf_counter()
    plan = solve_surgery(
        scenario,
        cases,
        WEEK,
        time_limit=time_limit,
        workers=2,
        on_progress=lambda phase, *_: first.append(time.perf_counter() - t0) if phase == "assign" else None,
    )
    wall = time.perf_counter() - t0
    gap = abs(plan.bound - plan.objective) / max(1.0, abs(plan.bound))
    print(
        f"{name:<34} {len(cases):>4} cases {len(plan.room_days):>3} room-days: booked {len(plan.bookings):>3}, "
        f"booking {plan.stages.get('booking', '-').lower()}, balance {plan.stages.get('overtime_balance', '-').lower()} "
        f"(gap {gap:4.1%}), first solution {first[0] if first else float('nan'):5.1f}s, "
        f"total {wall:5.1f}s"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=30.0)
    args = ap.parse_args()
    ortho = load_scenario(ROOT / "scenarios/orthopedic-practice.yaml")
    run(
        "orthopedic example week",
        ortho,
        read_cases_csv(ROOT / "scenarios/orthopedic-cases.csv", ortho),
        args.time_limit,
    )
    run("example practice, 150 cases", ortho, generate_cases(ortho, WEEK, 150, seed=11), args.time_limit)
    big = doubled_scenario()
    run(
        "2x instance (150 cases, 2 facilities)", big, generate_cases(big, WEEK, 150, seed=11), args.time_limit
    )


if __name__ == "__main__":
    main()

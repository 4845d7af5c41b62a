"""How fast pending requests are booked: the family practice's week and copies of it 2, 4 and 8
times over (benchmarks/scale.py's practices), each with 250 requests per copy, booked into the
evenly spaced week (the planner's week needs a minute at 8×; the booking model is the same).

    PYTHONPATH=src python benchmarks/booking_speed.py [--sizes 1,2,4,8] [--seed 0]

Prints, per size: open rows, requests, the groups of interchangeable slots the booking chooses
among (``solver.booking.slot_classes``), the (request, group) pairs that fit, wall time of the whole
booking and of the solver alone (a min-cost flow: one request per patient here), status, and how
many requests were booked. Timings on a shared machine include CPU contention.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale import scaled_practice  # noqa: E402

from clinicflow import scenario_from_dict  # noqa: E402
from clinicflow.domain.requests import synthetic_requests  # noqa: E402
from clinicflow.policies import evenly_spaced_schedule  # noqa: E402
from clinicflow.solver.booking import _fits, book_requests, slot_classes  # noqa: E402

MONDAY = dt.date(2026, 11, 30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,2,4,8")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(
        f"{'size':>4} {'open rows':>9} {'requests':>8} {'groups':>6} {'pairs':>9} "
        f"{'booking s':>9} {'solve s':>8}  status    booked"
    )
    for k in (int(x) for x in args.sizes.split(",")):
        s = scenario_from_dict(scaled_practice(k), f"family-x{k}.yaml")
        week = evenly_spaced_schedule(s, MONDAY)
        reqs = synthetic_requests(s, MONDAY, n=250 * k, seed=args.seed)
        rows = [r for r in week.itertuples() if r.kind in ("template", "hold")]
        groups = slot_classes(s, rows)
        variables = sum(_fits(s, q, g[0]) for q in reqs for g in groups.values())
        t0 = time.perf_counter()
        res = book_requests(s, week, reqs, seed=args.seed)
        wall = time.perf_counter() - t0
        print(
            f"{k:>3}x {len(rows):>9,} {len(reqs):>8,} {len(groups):>6,} {variables:>9,} "
            f"{wall:>9.2f} {res.wall_time:>8.2f}  {res.status:<9} {res.booked:,}"
        )


if __name__ == "__main__":
    main()

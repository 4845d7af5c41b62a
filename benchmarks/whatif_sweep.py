"""Benchmark: a 4×4 staffing sweep with 100 replications per point on the family-practice week,
with 1 and 2 local workers (the speed-up from parallel replications).

    python benchmarks/whatif_sweep.py [--replications 100]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from clinicflow import load_scenario
from clinicflow.whatif.grid import parse_vary
from clinicflow.whatif.sweep import Target, sweep

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=100)
    args = ap.parse_args()
    base = load_scenario(ROOT / "scenarios" / "family-practice.yaml")
    varies = [parse_vary("mas=2..5"), parse_vary("desk=1..4")]
    print(
        f"4x4 sweep (mas=2..5 x desk=1..4), {args.replications} replications per point, cores={os.cpu_count()}"
    )
    times = {}
    tables = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        res = sweep(
            base,
            varies,
            replications=args.replications,
            seed=1,
            workers=workers,
            target=Target.parse("p90_wait_min<=20"),
        )
        times[workers] = time.perf_counter() - t0
        tables[workers] = res.table
        n = 16 * args.replications
        print(
            f"workers={workers}: {times[workers]:.1f} s  ({n} replicated weeks, {n / times[workers]:.1f} weeks/s)"
        )
    same = tables[1].drop(columns=[]).equals(tables[2])
    print(f"speed-up 1 -> 2 workers: {times[1] / times[2]:.2f}x; identical results: {same}")
    best = res.cheapest
    if best is not None:
        print(
            f"cheapest meeting p90_wait_min<=20: mas={best['mas']}, desk={best['desk']}, ${best['staff_cost_week']:,.0f}/week"
        )


if __name__ == "__main__":
    main()

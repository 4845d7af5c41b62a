"""How long a back-test takes: recorded days replayed through the simulator and compared.

Makes a synthetic history of the family practice (clinic times simulated, ``synthetic_flow``), then
times ``backtest.run_backtest`` on its last 8 weeks and on all of it, with drawn and recorded
arrivals, on one and two worker processes. Prints wall seconds and replayed visit-days per second.

    python benchmarks/backtest_speed.py [--rows 20000] [--replications 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from clinicflow import load_scenario  # noqa: E402
from clinicflow.backtest import pick_days, run_backtest  # noqa: E402
from clinicflow.synthetic_flow import generate_flow_history  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--replications", type=int, default=100)
    args = ap.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "family-practice.yaml")
    t = time.perf_counter()
    history, flow = generate_flow_history(args.rows, seed=1, scenario=scenario)
    print(
        f"synthetic history: {args.rows:,} rows over {flow.days} days ({time.perf_counter() - t:.1f} s, not timed)"
    )
    for weeks in (8, None):
        days = pick_days(history, scenario, weeks)
        for arrivals in ("drawn", "recorded"):
            for workers in (1, 2):
                t = time.perf_counter()
                bt = run_backtest(
                    history,
                    scenario,
                    days,
                    replications=args.replications,
                    seed=1,
                    workers=workers,
                    arrivals=arrivals,
                )
                wall = time.perf_counter() - t
                print(
                    f"{bt.n_days:4d} days ({bt.visits:,} visits) x {args.replications} replications, {arrivals} arrivals, "
                    f"{workers} worker(s): {wall:5.1f} s wall, {bt.visits * args.replications / wall:,.0f} visit-replays/s; "
                    f"verdicts: {', '.join(sorted(set(bt.summary['verdict'])))}"
                )
    print(f"load average now: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()

"""Write a synthetic pending-requests CSV for a scenario (no real patient data).

    python scripts/make_requests.py scenarios/family-practice.yaml 2026-11-30 250 \
        scenarios/family-practice-requests.csv
"""

from __future__ import annotations

import datetime as dt
import sys

from clinicflow import load_scenario
from clinicflow.domain.requests import requests_frame, synthetic_requests


def main(argv: list[str]) -> None:
    scenario, monday, n, out = argv[1], dt.date.fromisoformat(argv[2]), int(argv[3]), argv[4]
    seed = int(argv[5]) if len(argv) > 5 else 0
    reqs = synthetic_requests(load_scenario(scenario), monday, n=n, seed=seed)
    requests_frame(reqs).to_csv(out, index=False)
    print(f"wrote {len(reqs)} requests to {out}")


if __name__ == "__main__":
    main(sys.argv)

"""Write a synthetic pending-requests CSV for a scenario (no real patient data).

    python scripts/make_requests.py SCENARIO MONDAY N OUT.csv [SEED [FIRST_REF]]

    python scripts/make_requests.py scenarios/family-practice.yaml 2026-11-30 250 \
        scenarios/family-practice-requests.csv
    python scripts/make_requests.py scenarios/family-practice.yaml 2026-11-30 60 \
        scenarios/family-practice-requests-later.csv 1 251
"""

from __future__ import annotations

import datetime as dt
import sys

from clinicflow import load_scenario
from clinicflow.domain.requests import requests_frame, synthetic_requests


def main(argv: list[str]) -> None:
    scenario, monday, n, out = argv[1], dt.date.fromisoformat(argv[2]), int(argv[3]), argv[4]
    seed = int(argv[5]) if len(argv) > 5 else 0
    first_ref = int(argv[6]) if len(argv) > 6 else 1
    reqs = synthetic_requests(load_scenario(scenario), monday, n=n, seed=seed, first_ref=first_ref)
    requests_frame(reqs).to_csv(out, index=False)
    print(f"wrote {len(reqs)} requests to {out}")


if __name__ == "__main__":
    main(sys.argv)

"""Small scenarios with known answers for the simulator's validity tests."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from clinicflow import scenario_from_dict
from clinicflow.domain.schedule import validate_schedule

MONDAY = dt.date(2026, 1, 5)


def queue_clinic(servers: int, per_hour: float, duration: dict | float) -> object:
    """A walk-in-only clinic open all day Monday: no desk, no rooming, ample rooms, no turnover.

    That is an M/G/c queue with Poisson arrivals (``per_hour``), ``servers`` providers and the given
    visit-duration distribution, served first come first served.
    """
    return scenario_from_dict(
        {
            "clinic": {
                "name": "Queue",
                "timezone": "UTC",
                "days_open": ["mon"],
                "opens": "00:00",
                "closes": "24:00",
            },
            "appointment_types": [
                {"id": "visit", "name": "Visit", "scheduled_min": 15, "duration": duration, "checkout": False}
            ],
            "providers": [
                {
                    "id": f"p{i}",
                    "name": f"P {i}",
                    "role": "MD",
                    "appointment_types": ["visit"],
                    "rooms_at_once": 1,
                    "sessions": {"mon": [{"start": "00:00", "end": "24:00"}]},
                }
                for i in range(servers)
            ],
            "rooms": {"count": 200, "turnover_min": 0},
            "staff": {
                "front_desk": {"count": 0, "hourly_cost": 0},
                "medical_assistants": {"count": 0, "hourly_cost": 0},
            },
            "arrivals": {"walk_ins_per_hour": per_hour, "walk_in_mix": {"visit": 1}},
        },
        "<queue>",
    )


def empty_schedule(scenario) -> pd.DataFrame:
    return validate_schedule(
        pd.DataFrame(columns=["date", "provider", "start", "appointment_type"]), scenario
    )


def erlang_c_wait(servers: int, arrival_rate: float, service_mean: float) -> float:
    """Mean wait in queue of M/M/c (Erlang C), in the units of ``service_mean``."""
    a = arrival_rate * service_mean
    c = servers
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait * service_mean / (c - a)


def md1_wait(arrival_rate: float, service: float) -> float:
    """Mean wait in queue of M/D/1 (Pollaczek–Khinchine with zero service variance)."""
    rho = arrival_rate * service
    return rho * service / (2 * (1 - rho))


def fixed_clinic(
    *,
    duration=20,
    scheduled=20,
    no_show=0.0,
    desk=0,
    rooming=None,
    rooms_at_once=1,
    breaks=(),
    late_cancel=0.0,
):
    """One provider, one session 08:00–12:00, deterministic everything unless told otherwise."""
    return scenario_from_dict(
        {
            "clinic": {"name": "Fixed", "timezone": "America/Chicago", "days_open": ["mon"]},
            "appointment_types": [
                {
                    "id": "visit",
                    "name": "Visit",
                    "scheduled_min": scheduled,
                    "duration": duration,
                    "no_show": no_show,
                    "late_cancel": late_cancel,
                    "rooming_min": rooming,
                }
            ],
            "providers": [
                {
                    "id": "doc",
                    "name": "Doc",
                    "role": "MD",
                    "appointment_types": ["visit"],
                    "rooms_at_once": rooms_at_once,
                    "sessions": {
                        "mon": [
                            {
                                "start": "08:00",
                                "end": "12:00",
                                "breaks": [{"start": a, "end": b} for a, b in breaks],
                            }
                        ]
                    },
                }
            ],
            "rooms": {"count": 3, "turnover_min": 0},
            "staff": {
                "front_desk": {"count": desk, "hourly_cost": 18, "check_in_min": 0, "checkout_min": 0},
                "medical_assistants": {"count": 1, "hourly_cost": 21},
            },
        },
        "<fixed>",
    )


def schedule(scenario, rows: list[tuple[str, str]], date: dt.date = MONDAY) -> pd.DataFrame:
    """(start, kind) rows for provider doc, type visit."""
    df = pd.DataFrame(
        [
            {"date": date.isoformat(), "provider": "doc", "start": s, "appointment_type": "visit", "kind": k}
            for s, k in rows
        ]
    )
    return validate_schedule(df, scenario)

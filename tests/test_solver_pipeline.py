"""The planner's model of a clinic day equals the simulator's where they model the same clinic.

The refinement (``refine.py``) and the SAA evaluator choose and judge timings with
``saa.evaluate(ready_first=True, rooms_at_once=R)``: the provider takes the ready patient with the
earliest appointment, and a checked-in patient waits for one of the provider's ``R`` room slots.
On a clinic where those are the only queues (desk, MAs and rooms plentiful, no walk-ins), feeding
the simulator's own draws into the evaluator must give the simulator's numbers day by day: any
difference is a modelling error, not noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinicflow import scenario_from_dict
from clinicflow.sim import simulate
from clinicflow.solver.saa import Samples, evaluate

STARTS = [480, 480, 490, 500, 510, 525, 540, 550, 565, 580, 600, 615, 630, 650]
TELE = {5, 9}


def _clinic(rooms_at_once: int):
    return scenario_from_dict(
        {
            "clinic": {
                "name": "Pipe",
                "timezone": "UTC",
                "days_open": ["mon"],
                "opens": "07:00",
                "closes": "17:00",
            },
            "appointment_types": [
                {
                    "id": "fu",
                    "name": "Follow-up",
                    "scheduled_min": 20,
                    "duration": {"dist": "lognormal", "mean": 16, "sd": 6.5},
                    "no_show": 0.15,
                    "rooming_min": {"dist": "lognormal", "mean": 7, "sd": 2.5},
                },
                {
                    "id": "tele",
                    "name": "Telehealth",
                    "mode": "telehealth",
                    "scheduled_min": 15,
                    "duration": {"dist": "lognormal", "mean": 13, "sd": 4},
                    "no_show": 0.1,
                },
            ],
            "providers": [
                {
                    "id": "doc",
                    "name": "Doc",
                    "role": "MD",
                    "appointment_types": ["fu", "tele"],
                    "rooms_at_once": rooms_at_once,
                    "sessions": {"mon": [{"start": "08:00", "end": "12:00"}]},
                }
            ],
            "rooms": {"count": 10, "turnover_min": {"dist": "gamma", "mean": 2.5, "sd": 1}},
            "staff": {
                "front_desk": {
                    "count": 20,
                    "hourly_cost": 18,
                    "check_in_min": {"dist": "lognormal", "mean": 3, "sd": 1.5},
                },
                "medical_assistants": {"count": 20, "hourly_cost": 21},
            },
            "arrivals": {
                "punctuality": {"dist": "normal", "mean": -8, "sd": 12},
                "walk_ins_per_hour": 0,
                "late_cutoff_min": 15,
            },
        },
        "pipe.yaml",
    )


def _simulated_days(scenario, replications: int, seed: int):
    """The simulator's days, and its draws as the evaluator's samples (slots in appointment order)."""
    sched = pd.DataFrame(
        {
            "date": "2026-11-30",
            "provider": "doc",
            "start": [f"{s // 60:02d}:{s % 60:02d}" for s in STARTS],
            "appointment_type": ["tele" if i in TELE else "fu" for i in range(len(STARTS))],
            "kind": "template",
        }
    )
    res = simulate(scenario, sched, replications=replications, seed=seed, keep_patients=True)
    p = res.patients.sort_values(["replication", "appointment", "patient"])
    k, n = replications, len(STARTS)
    assert len(p) == k * n  # no walk-ins: every row is a booked slot

    def grid(col):
        return p[col].to_numpy(float).reshape(k, n)

    show = (p["outcome"].to_numpy() == "seen").reshape(k, n)
    tele = np.array([i in TELE for i in range(n)])

    def shown(x):
        return np.where(show, np.nan_to_num(x), 0.0)

    late = shown(grid("arrival") - grid("appointment"))
    check_in = np.where(tele, 0.0, shown(grid("check_in_end") - grid("check_in_start")))
    rooming = np.where(tele, 0.0, shown(grid("rooming_end") - grid("rooming_start")))
    samples = Samples(
        show,
        late + check_in + rooming,
        np.maximum(late, 0.0),
        shown(grid("provider_end") - grid("provider_start")),
        late + check_in,
        rooming,
        shown(grid("room_free") - grid("provider_end")),
        ~tele,
    )
    wait = np.where(
        show, np.clip(grid("provider_start") - np.fmax(grid("arrival"), grid("appointment")), 0, None), 0
    )
    return res, samples, wait.sum(axis=1)


@pytest.mark.parametrize("rooms_at_once", [1, 2])
def test_evaluator_equals_the_simulator_day_by_day(rooms_at_once):
    scenario = _clinic(rooms_at_once)
    res, smp, sim_wait = _simulated_days(scenario, 150, seed=5)
    ev = evaluate(
        np.array(STARTS, float), smp, 480, 720, scenario.costs, ready_first=True, rooms_at_once=rooms_at_once
    )
    np.testing.assert_allclose(ev.wait, sim_wait, atol=1e-9)
    summary = res.summary()["mean"]
    assert ev.wait.mean() == pytest.approx(summary["total_wait_min"], rel=1e-12)
    assert ev.idle.mean() == pytest.approx(summary["provider_idle_min"], rel=1e-12)
    assert ev.overtime.mean() == pytest.approx(summary["provider_overtime_min"], rel=1e-12, abs=1e-12)
    assert ev.cost.mean() == pytest.approx(summary["cost"], rel=1e-12)
    # The room slots matter here: without them the evaluator misses waiting the simulator has.
    free_rooms = evaluate(np.array(STARTS, float), smp, 480, 720, scenario.costs, ready_first=True)
    assert free_rooms.wait.mean() < ev.wait.mean() - (5 if rooms_at_once == 1 else 1)


def test_a_patient_seen_before_the_appointment_time_has_not_waited_a_negative_time():
    # Early patients the provider takes early are common on this clinic (punctuality -8 min):
    # their wait is zero, so the total equals the sum of the non-negative waits.
    scenario = _clinic(2)
    res, _, sim_wait = _simulated_days(scenario, 40, seed=9)
    p = res.patients[res.patients["outcome"] == "seen"]
    early = (p["provider_start"] < p["appointment"]).mean()
    assert early > 0.1
    assert res.summary()["mean"]["total_wait_min"] == pytest.approx(sim_wait.mean(), rel=1e-12)

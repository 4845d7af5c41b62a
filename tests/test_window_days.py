"""Windows on some weekdays only (``allowed_windows[].days``): "procedures only Tuesday and Thursday
afternoons" — the template, the baselines, booking, diagnosis, the synthetic history and the
independent checker all read them the same way."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
import yaml

from clinicflow import scenario_from_dict
from clinicflow.data.synthetic import generate_history
from clinicflow.domain.requests import Request
from clinicflow.policies import evenly_spaced_schedule
from clinicflow.solver.booking import book_requests
from clinicflow.solver.plan import plan_week
from conftest import TINY_YAML, one_line, run_main
from schedule_checker import check_schedule
from test_solver_plan import random_scenario

MONDAY = dt.date(2026, 11, 30)


def _tiny(days: list[str], start: str = "08:00", end: str = "17:00") -> dict:
    data = yaml.safe_load(TINY_YAML)
    data["appointment_types"][1]["allowed_windows"] = [{"start": start, "end": end, "days": days}]
    return data


def test_a_window_applies_on_its_days_only():
    s = scenario_from_dict(_tiny(["tue", "mon"]), "tiny.yaml")
    long = s.type_by_id["long"]
    assert long.windows_label() == "08:00-17:00 mon, tue"
    assert long.allowed_in("mon", 480, 520) and long.allowed_in("tue", 780, 820)
    assert not long.allowed_in("wed", 780, 820)
    assert not long.allowed_in("tue", 1000, 1040)  # past 17:00
    s = scenario_from_dict(_tiny(["tue"]), "tiny.yaml")
    assert not s.type_by_id["long"].allowed_in("mon", 480, 520)


def test_a_repeated_day_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_tiny(["tue", "tue"]), sort_keys=False))
    line = one_line(run_main("validate", path))
    assert line.endswith(
        "appointment_types[1].allowed_windows[0]: expected each weekday at most once in 'days'"
    )


def test_plan_and_baselines_keep_the_type_to_its_days():
    s = scenario_from_dict(_tiny(["tue"]), "tiny.yaml")
    plan = plan_week(s, MONDAY, time_limit=5, samples=8, seed=0)
    long = plan.schedule[plan.schedule["appointment_type"] == "long"]
    assert len(long) == 3 and set(long["weekday"]) == {"tue"}  # the 3 a week demand asks for
    assert check_schedule(s, plan.schedule) == []
    even = evenly_spaced_schedule(s, MONDAY)
    assert set(even.loc[even["appointment_type"] == "long", "date"]) == {dt.date(2026, 12, 1)}
    # the independent checker reads the days too: the same slot on Monday is a violation
    moved = plan.schedule.copy()
    i = long.index[0]
    moved.loc[i, ["date", "weekday", "start_min", "end_min"]] = [MONDAY, "mon", 480, 520]
    assert any("long outside its allowed windows" in v for v in check_schedule(s, moved))


def test_a_window_on_a_day_without_sessions_is_explained_in_words():
    s = scenario_from_dict(_tiny(["wed"]), "tiny.yaml")
    plan = plan_week(s, MONDAY, time_limit=5, samples=8, seed=0)
    assert not (plan.schedule["appointment_type"] == "long").any()
    assert plan.shortfall == [
        "long 0/3: its allowed windows (08:00-17:00 wed) fall outside every session of doc "
        "(appointment_types[long].allowed_windows)"
    ]


def test_an_urgent_request_takes_a_hold_only_on_its_types_days():
    data = _tiny(["tue"])
    data["providers"][0]["sessions"]["tue"][0]["holds"] = 1
    data["appointment_types"][0]["scheduled_min"] = 40  # holds (the shortest type) fit a long visit
    data["appointment_types"][1]["scheduled_min"] = 40
    s = scenario_from_dict(data, "tiny.yaml")
    week = evenly_spaced_schedule(s, MONDAY)
    holds = week[week["kind"] == "hold"]
    assert set(holds["weekday"]) == {"mon", "tue"}
    req = Request("P1", "long", None, MONDAY, MONDAY + dt.timedelta(days=4), "any", "urgent")
    only_holds = week[week["kind"] == "hold"].copy()
    res = book_requests(s, only_holds, [req], time_limit=2)
    assert res.booked == 1 and only_holds.loc[res.assignments[0], "weekday"] == "tue"
    monday_only = only_holds[only_holds["weekday"] == "mon"]
    res = book_requests(s, monday_only, [req], time_limit=2)
    assert res.booked == 0


def test_the_synthetic_history_books_the_type_on_its_days_only():
    s = scenario_from_dict(_tiny(["tue"]), "tiny.yaml")
    h = generate_history(400, seed=3, weeks=8, scenario=s)
    days = {d.weekday() for d in h.loc[h["appointment_type"] == "long", "appt_date"]}
    assert days == {1}


@pytest.mark.parametrize("seed", [1, 4])
def test_random_clinics_with_day_windows_satisfy_every_hard_constraint(seed):
    data = copy.deepcopy(random_scenario(seed))
    rng = np.random.default_rng(200 + seed)
    for t in data["appointment_types"][1:]:
        t["allowed_windows"] = [{"start": "08:00", "end": "19:00", "days": [str(rng.choice(["mon", "tue"]))]}]
    s = scenario_from_dict(data, f"random-{seed}.yaml")
    plan = plan_week(s, MONDAY, time_limit=6, samples=8, seed=seed)
    assert len(plan.schedule) > 0
    assert check_schedule(s, plan.schedule) == []

"""Plain-words infeasibility: conflicts are named with provider, day, times and rules."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from clinicflow import InfeasibleError, scenario_from_dict
from clinicflow.solver.plan import plan_week
from tests_helpers import tiny_data

MONDAY = dt.date(2026, 11, 30)


def test_holds_beyond_session_length_are_named():
    data = tiny_data()
    data["providers"][0]["sessions"]["mon"][0]["holds"] = 30
    s = scenario_from_dict(data, "tiny.yaml")
    with pytest.raises(InfeasibleError) as e:
        plan_week(s, MONDAY, time_limit=5)
    assert e.value.summary == "the week cannot be built: these rules conflict"
    assert e.value.reasons == [
        "doc's Monday 2026-11-30 session 08:00-12:00 has 225 working minutes but its rules need 600: "
        "30 same-day hold(s) × 20 min = 600 min"
    ]


def test_floor_for_a_type_outside_its_window_is_named():
    data = tiny_data()
    data["appointment_types"][1]["allowed_windows"] = [{"start": "08:00", "end": "08:30"}]
    data["demand"][1]["min_per_session"] = 1
    s = scenario_from_dict(data, "tiny.yaml")
    with pytest.raises(InfeasibleError) as e:
        plan_week(s, MONDAY, time_limit=5)
    assert (
        "doc's Monday 2026-11-30 session 08:00-12:00: the demand rule min_per_session=1 for long cannot be "
        "met — long is only allowed 08:00-08:30 and at most 0 40-min slot(s) fit there"
    ) in e.value.reasons
    assert any(r.startswith("doc's Tuesday 2026-12-01 session 13:00-17:00") for r in e.value.reasons)


def test_joint_conflict_found_by_the_solver_core():
    """Each floor fits its window alone; together they do not. Arithmetic per rule cannot see
    it, so the template model's assumption core must name the rules."""
    data = tiny_data()
    windows = [{"start": "08:00", "end": "09:00"}, {"start": "13:00", "end": "14:00"}]
    for t in data["appointment_types"]:
        t["allowed_windows"] = windows
    data["demand"][0]["min_per_session"] = 2
    data["demand"][1]["min_per_session"] = 1
    s = scenario_from_dict(data, "tiny.yaml")
    with pytest.raises(InfeasibleError) as e:
        plan_week(s, MONDAY, time_limit=5)
    text = "\n".join(e.value.reasons)
    assert e.value.summary == "the week cannot be built: these rules conflict"
    assert "needs at least 2 visit slot(s) (demand min_per_session)" in text
    assert "needs at least 1 long slot(s) (demand min_per_session)" in text
    assert "only in its allowed windows (08:00-09:00, 13:00-14:00)" in text
    assert "doc's" in text and "working minutes" in text
    assert "INFEASIBLE" not in str(e.value)


def test_no_medical_assistant_on_duty_is_named():
    data = tiny_data()
    data["staff"]["by_day"] = {"mon": {"medical_assistants": 0}}
    data["demand"][1]["min_per_session"] = 1
    s = scenario_from_dict(data, "tiny.yaml")
    with pytest.raises(InfeasibleError) as e:
        plan_week(s, MONDAY, time_limit=5)
    assert any("no medical assistant works on Monday" in r and "long" in r for r in e.value.reasons)


def test_tiny_yaml_round_trip_helper_matches_fixture(tiny):
    assert scenario_from_dict(tiny_data(), "tiny.yaml") == tiny
    assert yaml.safe_dump(tiny_data())

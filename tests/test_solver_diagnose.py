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


# -- demand the template could not fill: planned, and each short row said why --------------------


def _short(data) -> tuple[list[str], dict]:
    s = scenario_from_dict(data, "tiny.yaml")
    res = plan_week(s, MONDAY, time_limit=5)
    return res.shortfall, {c["type"]: c["planned"] for c in res.template.coverage}


def test_a_window_outside_every_session_is_named_as_the_reason():
    data = tiny_data()
    data["appointment_types"][1]["allowed_windows"] = [{"start": "06:00", "end": "07:00"}]
    why, planned = _short(data)
    assert planned["long"] == 0
    assert why == [
        "long 0/3: its allowed windows (06:00-07:00) fall outside every session of doc "
        "(appointment_types[long].allowed_windows)"
    ]


def test_a_narrow_window_is_named_with_the_slots_it_holds():
    data = tiny_data()
    data["appointment_types"][1]["allowed_windows"] = [{"start": "08:00", "end": "09:00"}]
    why, planned = _short(data)
    assert planned["long"] == 1  # one 40-minute slot fits 08:00-09:00 on Monday; none on Tuesday
    assert why == [
        "long 1/3: its allowed windows (08:00-09:00) hold at most 1 40-min slot(s) in the week's "
        "sessions (appointment_types[long].allowed_windows)"
    ]


def test_a_per_session_cap_is_named_with_the_most_it_allows():
    data = tiny_data()
    data["demand"][1].update(weekly=5, max_per_session=1)
    why, planned = _short(data)
    assert planned["long"] == 2
    assert why == [
        "long 2/5: demand max_per_session allows 1 a session and 2 session(s) can hold it, so at most 2"
    ]


def test_demand_beyond_the_sessions_names_the_load_and_the_weights():
    data = tiny_data()
    data["demand"][0]["weekly"] = 40  # 40 x 20 + 3 x 40 = 920 minutes asked; 465 - one 20-min hold = 445 held
    why, planned = _short(data)
    assert planned["visit"] < 40
    assert why[0] == (
        f"visit {planned['visit']}/40: the sessions hold 445 minutes of visits after same-day holds and demand "
        "asks for 920 (207%); the template keeps the slots worth most per minute, and visit is worth 1 per "
        "20-min slot (demand weight)"
    )


def test_a_week_that_meets_demand_has_no_shortfall():
    why, planned = _short(tiny_data())
    assert why == [] and planned == {"visit": 12, "long": 3}


def test_plan_cli_prints_the_shortfall_and_keeps_it_in_kpis_json(tmp_path):
    import json

    from conftest import run_main

    data = tiny_data()
    data["appointment_types"][1]["allowed_windows"] = [{"start": "06:00", "end": "07:00"}]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    r = run_main(
        "plan", path, "--week", MONDAY, "--out", tmp_path / "out", "--time-limit", 5, "--replications", 2
    )
    assert r.code == 0, r.stderr
    assert "short of demand, and why:\n    - long 0/3: its allowed windows (06:00-07:00)" in r.stdout
    optimizer = json.loads((tmp_path / "out" / "kpis.json").read_text())["optimizer"]
    assert {"type": "long", "provider": None, "weekly": 3.0, "planned": 0} in optimizer["coverage"]
    assert optimizer["shortfall"][0].startswith("long 0/3: its allowed windows (06:00-07:00) fall outside")

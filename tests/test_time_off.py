"""Dated availability: the clinic's closed dates, providers' time off and surgeons' dated OR blocks
cancel the weekly sessions they touch — in validation, the plan, its checker, the simulator, the
what-if's kept schedule and the OR week."""

from __future__ import annotations

import copy
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from clinicflow import scenario_from_dict
from clinicflow.domain.requests import Request
from clinicflow.domain.surgery_schedule import week_room_days
from clinicflow.policies import evenly_spaced_schedule
from clinicflow.sim.plan import build_plan
from clinicflow.solver.plan import plan_week
from clinicflow.solver.surgery_eligibility import candidates, case_facts
from clinicflow.solver.week import describe_cancellations, provider_sessions, week_cancellations
from clinicflow.whatif.compare import compare
from clinicflow.whatif.variants import Variant, apply_variant
from conftest import FAMILY, ORTHO, TINY_YAML, one_line, run_main
from schedule_checker import check_schedule
from test_solver_plan import random_scenario
from test_surgery_solver import _case

MONDAY = dt.date(2026, 11, 30)
TUESDAY = MONDAY + dt.timedelta(days=1)


def _tiny(**changes) -> dict:
    data = yaml.safe_load(TINY_YAML)
    data["clinic"].update(changes.pop("clinic", {}))
    data["providers"][0].update(changes)
    return data


def test_sessions_on_drops_closed_dates_time_off_and_part_days():
    s = scenario_from_dict(
        _tiny(
            clinic={"closed_dates": [dt.date(2026, 12, 1)]},
            time_off=[
                {"date": dt.date(2026, 11, 30), "start": "11:30", "end": "13:00", "reason": "dentist"},
                {"date": dt.date(2026, 12, 7), "start": "12:00", "end": "13:00"},  # after the session
                {"date": dt.date(2026, 12, 14), "until": dt.date(2026, 12, 15), "reason": "leave"},
            ],
        ),
        "tiny.yaml",
    )
    on = {d: [(x.start, x.end) for x in s.sessions_on("doc", d)] for d in (MONDAY, TUESDAY)}
    assert on == {MONDAY: [], TUESDAY: []}  # 11:30-13:00 touches the 08:00-12:00 session: all of it goes
    assert [(x.start, x.end) for x in s.sessions_on("doc", dt.date(2026, 12, 7))] == [(480, 720)]
    assert [(x.start, x.end) for x in s.sessions_on("doc", dt.date(2026, 12, 8))] == [(780, 1020)]
    assert s.sessions_on("doc", dt.date(2026, 12, 14)) == s.sessions_on("doc", dt.date(2026, 12, 15)) == []
    assert describe_cancellations(week_cancellations(s, MONDAY)) == [
        "doc Mon 2026-11-30 08:00-12:00: time off 11:30-13:00 (dentist)",
        "Tue 2026-12-01: the clinic is closed (1 session)",
    ]
    assert describe_cancellations(week_cancellations(s, dt.date(2026, 12, 14))) == [
        "doc Mon 2026-12-14 to Tue 2026-12-15 (2 sessions): time off 2026-12-14 to 2026-12-15 (leave)",
    ]
    assert provider_sessions(s, MONDAY) == []
    assert [ps.date for ps in provider_sessions(s, dt.date(2026, 12, 7))] == [
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 8),
    ]


@pytest.mark.parametrize(
    ("entry", "field", "expected"),
    [
        (
            {"date": "2026-12-04", "until": "2026-12-01"},
            "until",
            "expected 'until' on or after 'date' (2026-12-04)",
        ),
        ({"date": "2026-12-04", "start": "13:00"}, "end", "expected both 'start' and 'end', or neither"),
        (
            {"date": "2026-12-04", "start": "15:00", "end": "13:00"},
            "end",
            "expected 'end' after 'start' (15:00)",
        ),
        ({"until": "2026-12-04"}, "date", "required field is missing"),
    ],
)
def test_bad_time_off_is_one_line_naming_the_field(tmp_path, entry, field, expected):
    data = _tiny(time_off=[entry])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    line = one_line(run_main("validate", path))
    assert line.startswith(f"error: {path}:") and line.endswith(
        f"providers[0].time_off[0].{field}: {expected}"
    )


def test_validate_shows_dated_exceptions_and_they_round_trip(tmp_path):
    from clinicflow import dump_scenario, load_scenario

    data = _tiny(
        clinic={"closed_dates": ["2026-12-25", "2026-12-24", "2026-12-25"]},
        time_off=[{"date": "2026-12-04", "reason": "conference"}],
    )
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = run_main("validate", path)
    assert res.code == 0, res.stderr
    assert "open mon, tue 07:30-18:00; closed 2026-12-24, 2026-12-25" in res.stdout
    assert "doc time off 2026-12-04 (conference)" in res.stdout
    s = load_scenario(path)
    again = tmp_path / "again.yaml"
    again.write_text(dump_scenario(s))
    assert load_scenario(again) == s


def test_a_weekly_or_block_during_a_weekly_clinic_session_is_refused(tmp_path):
    data = yaml.safe_load(ORTHO.read_text())
    nakamura = data["providers"][0]
    assert nakamura["id"] == "dr_nakamura" and "mon" in nakamura["or_days"]
    nakamura["sessions"]["mon"] = [{"start": "16:00", "end": "17:00"}, {"start": "08:00", "end": "12:00"}]
    path = tmp_path / "ortho.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert one_line(run_main("validate", path)).endswith(
        "providers[0].sessions.mon[1]: dr_nakamura's clinic session 08:00-12:00 on mon overlaps their OR "
        "block 07:30-15:30 at stluke OR3 (surgery.blocks[0]); expected them in one place"
    )


def test_a_dated_or_block_cancels_the_clinic_session_it_overlaps():
    data = yaml.safe_load(ORTHO.read_text())
    # dr_nakamura's Tuesday clinic is 08:00-12:00 and 13:00-17:00; a one-off morning case in OR3
    data["surgery"]["blocks"].append(
        {
            "facility": "stluke",
            "room": "OR3",
            "date": "2026-12-01",
            "start": "07:30",
            "end": "12:00",
            "surgeon": "dr_nakamura",
        }
    )
    s = scenario_from_dict(data, "ortho.yaml")
    assert [(x.start, x.end) for x in s.sessions_on("dr_nakamura", TUESDAY)] == [(780, 1020)]
    assert describe_cancellations(s.cancelled_on(TUESDAY)) == [
        "dr_nakamura Tue 2026-12-01 08:00-12:00: in the OR (stluke OR3 07:30-12:00)"
    ]


def test_a_clinic_session_closer_to_an_or_block_than_the_drive_is_refused_or_cancelled(tmp_path):
    """St Luke's 20 minutes away: a Monday session that ends 15 minutes before dr_nakamura's weekly
    block there is refused; a dated afternoon block 30 minutes after her Tuesday morning session
    leaves it, 10 minutes after cancels it."""
    data = yaml.safe_load(ORTHO.read_text())
    stluke = next(f for f in data["surgery"]["facilities"] if f["id"] == "stluke")
    stluke["travel_min"] = 20
    nakamura = data["providers"][0]
    nakamura["sessions"]["mon"] = [{"start": "15:45", "end": "17:00"}]  # block 07:30-15:30
    path = tmp_path / "ortho.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert one_line(run_main("validate", path)).endswith(
        "providers[0].sessions.mon[0]: dr_nakamura's clinic session 15:45-17:00 on mon and their OR block "
        "07:30-15:30 at stluke OR3 (surgery.blocks[0]) are 15 min apart; expected at least 20 min to travel "
        "between the clinic and stluke (travel_min)"
    )
    nakamura["sessions"]["mon"] = [{"start": "15:50", "end": "17:00"}]  # 20 min: time enough
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    ok = run_main("validate", path)
    assert ok.code == 0, ok.stderr
    assert (
        "OR at stluke (hospital; OR3, OR4, OR5; 20 min from the clinic), riverside_asc (ASC; ASC1, ASC2; "
        in (" ".join(ok.stdout.split()))
    )
    stluke["travel_min"] = 300
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert "travel_min" in one_line(run_main("validate", path))  # at most 240 minutes
    stluke["travel_min"] = 20
    block = {
        "facility": "stluke",
        "room": "OR3",
        "date": "2026-12-01",
        "end": "17:00",
        "surgeon": "dr_nakamura",
    }
    # dr_nakamura's Tuesday clinic is 08:00-12:00 and 13:00-17:00
    for start, left in (("12:30", [(480, 720)]), ("12:10", [])):
        data["surgery"]["blocks"].append({**block, "start": start})
        s = scenario_from_dict(data, "ortho.yaml")
        assert [(x.start, x.end) for x in s.sessions_on("dr_nakamura", TUESDAY)] == left
        data["surgery"]["blocks"].pop()
    assert describe_cancellations(s.cancelled_on(TUESDAY)) == [
        "dr_nakamura Tue 2026-12-01 08:00-12:00: in the OR (stluke OR3 12:10-17:00, 20 min away)",
        "dr_nakamura Tue 2026-12-01 13:00-17:00: in the OR (stluke OR3 12:10-17:00)",
    ]


def test_time_off_releases_the_surgeons_blocks_and_keeps_their_cases_out():
    data = yaml.safe_load(ORTHO.read_text())
    osei = next(p for p in data["providers"] if p["id"] == "dr_osei")  # OR Tue (ASC1) and Fri (OR4)
    osei["time_off"] = [{"date": "2026-12-01"}]
    s = scenario_from_dict(data, "ortho.yaml")
    days = {(r.date, r.room): r.owner for r in week_room_days(s, MONDAY)}
    assert days[(TUESDAY, "ASC1")] is None  # released to open time
    assert days[(dt.date(2026, 12, 4), "OR4")] == "dr_osei"
    week = (MONDAY, MONDAY + dt.timedelta(days=6))
    case = _case("c1", "dr_osei", "knee_scope")
    rds, why = candidates(case_facts(case, s, week[1]), week_room_days(s, MONDAY), s, week)
    assert why is None and rds and all(r.date != TUESDAY for r in rds)
    osei["time_off"] = [{"date": "2026-11-30", "until": "2026-12-06"}]
    s = scenario_from_dict(data, "ortho.yaml")
    rds, why = candidates(case_facts(case, s, week[1]), week_room_days(s, MONDAY), s, week)
    assert rds == [] and why == "dr_osei has time off whenever their block or open OR time is this week"


def test_plan_leaves_cancelled_sessions_empty_and_the_checker_agrees(tmp_path):
    data = _tiny(time_off=[{"date": "2026-11-30", "start": "08:00", "end": "09:00", "reason": "training"}])
    s = scenario_from_dict(data, "tiny.yaml")
    plan = plan_week(s, MONDAY, time_limit=5, samples=8, seed=0)
    assert set(plan.schedule["date"]) == {TUESDAY}
    assert check_schedule(s, plan.schedule) == []
    # the checker's own reading of time off catches a slot put back on the cancelled morning
    moved = plan.schedule.copy()
    first = moved.index[0]
    length = moved.loc[first, "end_min"] - moved.loc[first, "start_min"]
    moved.loc[first, ["date", "weekday", "start_min", "end_min"]] = [MONDAY, "mon", 600, 600 + length]
    assert any("session not worked that date (time off)" in v for v in check_schedule(s, moved))
    # ... and the simulator gives the cancelled session no idle time, no overtime
    p = build_plan(s, plan.schedule, [MONDAY, TUESDAY])
    assert [(sp.day, sp.start, sp.end) for sp in p.sessions] == [(1, 780, 1020)]


def test_plan_cli_lists_what_is_not_worked_and_kpis_json_keeps_it(tmp_path):
    data = _tiny(clinic={"closed_dates": ["2026-12-01"]})
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "plan"
    res = run_main("plan", path, "--week", "2026-11-30", "--out", out, "--time-limit", "5", "--seed", "1")
    assert res.code == 0, res.stderr
    assert "not worked this week:\n    - Tue 2026-12-01: the clinic is closed (1 session)\n" in res.stdout
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["optimizer"]["not_worked"] == [
        {
            "provider": "doc",
            "date": "2026-12-01",
            "start": "13:00",
            "end": "17:00",
            "why": "the clinic is closed",
        }
    ]
    # a week the clinic is shut all through says so in plain words, not "infeasible"
    data["clinic"]["closed_dates"] = ["2026-11-30", "2026-12-01"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = run_main("plan", path, "--week", "2026-11-30", "--out", tmp_path / "p2")
    assert res.code == 2 and "Traceback" not in res.stderr
    assert res.stderr.splitlines() == [
        "error: no provider has a session in the week of 2026-11-30",
        "  - Mon 2026-11-30: the clinic is closed (1 session)",
        "  - Tue 2026-12-01: the clinic is closed (1 session)",
    ]
    assert not (tmp_path / "p2").exists()


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_random_clinics_with_time_off_satisfy_every_hard_constraint(seed):
    data = copy.deepcopy(random_scenario(seed))
    rng = np.random.default_rng(100 + seed)
    for p in data["providers"]:
        day = MONDAY + dt.timedelta(days=int(rng.integers(0, 2)))
        hour = int(rng.choice([8, 10, 12]))
        p["time_off"] = [{"date": day.isoformat(), "start": f"{hour:02d}:00", "end": f"{hour + 1:02d}:00"}]
    s = scenario_from_dict(data, f"random-{seed}.yaml")
    plan = plan_week(s, MONDAY, time_limit=6, samples=8, seed=seed)
    assert check_schedule(s, plan.schedule) == []
    worked = {(r.provider, r.date) for r in plan.schedule.itertuples()}
    for c in week_cancellations(s, MONDAY):
        if not s.sessions_on(c.provider, c.date):
            assert (c.provider, c.date) not in worked


def test_a_kept_schedule_loses_the_slots_of_a_variants_closed_date(family):
    week = evenly_spaced_schedule(family, MONDAY)
    v = Variant(name="closed Friday", set={"clinic": {"closed_dates": ["2026-12-04"]}})
    res = compare(family, [(v.name, v, apply_variant(family, v))], schedule=week, replications=4, seed=1)
    notes = " ".join(res.arms[1].notes)
    fridays = int((week["date"] == dt.date(2026, 12, 4)).sum())
    assert fridays > 0 and f"{fridays} slots dropped: their provider no longer works then" in notes


def test_the_family_practices_christmas_week_reads_in_four_lines(family):
    assert describe_cancellations(week_cancellations(family, dt.date(2026, 12, 21))) == [
        "dr_lindqvist Mon 2026-12-21 to Wed 2026-12-23 (5 sessions): time off 2026-12-21 to 2026-12-23 (leave)",
        "np_haddad Tue 2026-12-22 13:00-17:00: time off 13:00-17:00 (CME course)",
        "Thu 2026-12-24: the clinic is closed (11 sessions)",
        "Fri 2026-12-25: the clinic is closed (9 sessions)",
    ]
    assert week_cancellations(family, MONDAY) == []  # the README's week is whole


REQUEST_HEADER = (
    "patient_ref,appointment_type,preferred_provider,earliest_date,latest_date,time_of_day,urgency\n"
)


@pytest.fixture(scope="module")
def tiny_week(tmp_path_factory):
    """The tiny clinic's week planned with eight routine requests booked, as a schedule file."""
    root = tmp_path_factory.mktemp("booked-week")
    (root / "tiny.yaml").write_text(TINY_YAML)
    reqs = root / "reqs.csv"
    reqs.write_text(
        REQUEST_HEADER + "".join(f"P{i:03d},visit,doc,2026-11-30,2026-12-04,any,routine\n" for i in range(8))
    )
    res = run_main(
        "plan",
        root / "tiny.yaml",
        "--week",
        "2026-11-30",
        "--requests",
        reqs,
        "--out",
        root / "p",
        "--time-limit",
        "5",
    )
    assert res.code == 0, res.stderr
    return root


def _off(root, time_off) -> object:
    data = yaml.safe_load(TINY_YAML)
    data["providers"][0]["time_off"] = time_off
    path = root / "tiny-off.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_book_rebooks_the_patients_of_a_session_not_worked_before_new_requests(tiny_week, tmp_path):
    from clinicflow import load_scenario
    from clinicflow.domain.schedule import read_schedule_csv

    before = read_schedule_csv(tiny_week / "p" / "schedule.csv", load_scenario(tiny_week / "tiny.yaml"))
    monday = before[(before["date"] == MONDAY) & (before["kind"] == "booked")]
    tuesday_open = int(((before["date"] == TUESDAY) & (before["kind"] == "template")).sum())
    assert len(monday) >= 1 and tuesday_open >= len(monday)
    sick = _off(tmp_path, [{"date": "2026-11-30", "reason": "sick"}])
    # more new routine requests than Tuesday has open slots: the rebooked patients still come first
    reqs = tmp_path / "new.csv"
    reqs.write_text(
        REQUEST_HEADER
        + "".join(f"Q{i:03d},visit,,2026-11-30,2026-12-04,any,routine\n" for i in range(tuesday_open))
    )
    res = run_main(
        "book",
        sick,
        "--schedule",
        tiny_week / "p" / "schedule.csv",
        "--requests",
        reqs,
        "--out",
        tmp_path / "b",
    )
    assert res.code == 0, res.stderr
    n, dropped = len(monday), int((before["date"] == MONDAY).sum()) - len(monday)
    assert (
        f"{n} booked visit(s) and {dropped} open slot(s) fall in sessions not worked (time off (sick))"
        in res.stdout
    )
    assert (
        f"rebooked {n}/{n} of those patients ({n} with their own provider), new times in rebooked.csv"
        in res.stdout
    )
    booked_new = tuesday_open - n
    assert f"booked {booked_new}/{tuesday_open} requests" in res.stdout
    for ref in monday["patient_ref"]:
        assert ref not in res.stdout  # counts only on the terminal
    s = load_scenario(sick)
    after = read_schedule_csv(tmp_path / "b" / "schedule.csv", s)
    assert not (after["date"] == MONDAY).any()
    assert check_schedule(s, after) == []  # routine requests only: every hold is still a hold
    assert set(monday["patient_ref"]) <= set(after["patient_ref"].dropna())
    rebooked = pd.read_csv(tmp_path / "b" / "rebooked.csv", dtype=str)
    assert sorted(rebooked["patient_ref"]) == sorted(monday["patient_ref"])
    assert (
        set(rebooked["why"]) == {"time off (sick)"}
        and (rebooked["rebooked_to"].str[:10] == "2026-12-01").all()
    )
    kpis = json.loads((tmp_path / "b" / "kpis.json").read_text())
    assert kpis["not_worked"] == {"booked_visits": n, "open_rows": dropped, "rebooked": n}
    assert kpis["booking"]["rebooked"] == {"booked": n, "of": n}
    assert kpis["booking"]["requests"] == tuesday_open


def test_book_lists_the_patients_it_cannot_rebook_with_where_their_visit_was(tiny_week, tmp_path):
    from clinicflow import load_scenario
    from clinicflow.domain.requests import read_requests_csv
    from clinicflow.domain.schedule import read_schedule_csv
    from clinicflow.week_booking import book_week

    # Tuesday afternoon off as well as Monday: a week with no session left says so in words
    week_off = _off(tmp_path, [{"date": "2026-11-30", "until": "2026-12-01", "reason": "leave"}])
    res = run_main(
        "book",
        week_off,
        "--schedule",
        tiny_week / "p" / "schedule.csv",
        "--requests",
        tiny_week / "reqs.csv",
        "--out",
        tmp_path / "none",
    )
    assert res.code == 2 and not (tmp_path / "none").exists()
    assert res.stderr.splitlines()[0].startswith(
        "error: no session of the week of 2026-11-30 is worked any more: its 8"
    )
    # Monday off, and Tuesday's open slots already taken by new urgent-free requests of its own day
    s = load_scenario(_off(tmp_path, [{"date": "2026-11-30", "reason": "sick"}]))
    week = read_schedule_csv(tiny_week / "p" / "schedule.csv", s)
    full = week.copy()
    tue_open = full.index[(full["date"] == TUESDAY) & (full["kind"] == "template")]
    full.loc[tue_open, "kind"] = "booked"
    full.loc[tue_open, "patient_ref"] = [f"T{i:03d}" for i in range(len(tue_open))]
    reqs = tmp_path / "none.csv"
    reqs.write_text(REQUEST_HEADER)
    booked = book_week(s, full, read_requests_csv(reqs, s), replications=4)
    monday = week[(week["date"] == MONDAY) & (week["kind"] == "booked")]
    assert len(booked.bumped) == len(monday) and (booked.bumped["rebooked_to"] == "").all()
    reasons = booked.booking.unbooked
    assert (reasons["urgency"] == "rebook").all() and len(reasons) == len(monday)
    first = monday.iloc[0]
    assert (
        reasons["reason"]
        .iloc[0]
        .startswith(f"visit doc Mon 2026-11-30 {first['start']} cancelled (time off (sick)); rebooking it: ")
    )
    assert (
        booked.bump_lines()[1] == f"rebooked 0/{len(monday)} of those patients (0 with their own provider), "
        f"{len(monday)} left, reasons in unbooked.csv"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("doc", "expected PROVIDER:YYYY-MM-DD[..YYYY-MM-DD][:HH:MM-HH:MM], got 'doc'"),
        ("dr_x:2026-11-30", "unknown provider 'dr_x' (expected one of: doc)"),
        (
            "doc:2026-12-02..2026-12-01",
            "'doc:2026-12-02..2026-12-01': expected 'until' on or after 'date' (2026-12-02)",
        ),
        ("doc:2026-11-30:10:00-09:00", "'doc:2026-11-30:10:00-09:00': expected 'end' after 'start' (10:00)"),
    ],
)
def test_a_bad_off_option_is_one_line(tiny_week, tmp_path, value, expected):
    line = one_line(
        run_main(
            "book",
            tiny_week / "tiny.yaml",
            "--schedule",
            tiny_week / "p" / "schedule.csv",
            "--requests",
            tiny_week / "reqs.csv",
            "--out",
            tmp_path / "b",
            "--off",
            value,
        )
    )
    assert line == f"error: --off: {expected}"
    assert not (tmp_path / "b").exists()


def test_off_on_the_command_line_is_time_off_in_the_file(tiny_week, tmp_path):
    """``book --off doc:2026-11-30:09:00-10:00`` books the same week as the same time off in the YAML."""
    args = ("--schedule", tiny_week / "p" / "schedule.csv", "--requests", tiny_week / "reqs.csv")
    a = run_main(
        "book", tiny_week / "tiny.yaml", *args, "--out", tmp_path / "a", "--off", "doc:2026-11-30:09:00-10:00"
    )
    off = _off(tmp_path, [{"date": "2026-11-30", "start": "09:00", "end": "10:00"}])
    b = run_main("book", off, *args, "--out", tmp_path / "b")
    assert a.code == b.code == 0, a.stderr + b.stderr
    assert (tmp_path / "a" / "schedule.csv").read_text() == (tmp_path / "b" / "schedule.csv").read_text()
    assert "fall in sessions not worked (time off 09:00-10:00)" in a.stdout
    assert not (pd.read_csv(tmp_path / "a" / "schedule.csv")["date"] == "2026-11-30").any()
    # booked again into the same folder with nobody away: the last run's rebooked.csv goes with it
    assert (tmp_path / "a" / "rebooked.csv").exists()
    assert run_main("book", tiny_week / "tiny.yaml", *args, "--out", tmp_path / "a").code == 0
    assert not (tmp_path / "a" / "rebooked.csv").exists()


def test_surgery_off_releases_the_surgeons_block_to_open_time(tmp_path):
    out = tmp_path / "or"
    res = run_main(
        "surgery",
        ORTHO,
        "--week",
        "2026-11-30",
        "--cases",
        ORTHO.parent / "orthopedic-cases.csv",
        "--out",
        out,
        "--off",
        "dr_osei:2026-12-01",
        "--replications",
        "4",
        "--time-limit",
        "2",
    )
    assert res.code == 0, res.stderr
    week = pd.read_csv(out / "surgery_schedule.csv", dtype=str)
    tue = week[week["date"] == "2026-12-01"]
    assert set(tue.loc[tue["room"] == "ASC1", "block_owner"]) == {"open"}  # others operate in it
    assert not (tue["surgeon"] == "dr_osei").any()
    assert (week["surgeon"] == "dr_osei").any()  # his Friday block is his


def test_a_synthetic_history_has_no_visit_in_sessions_not_worked():
    from clinicflow.data.synthetic import generate_history

    data = _tiny(
        clinic={"closed_dates": ["2025-01-14"]},  # a Tuesday
        time_off=[
            {"date": "2025-01-20", "until": "2025-01-21", "reason": "leave"},
            {"date": "2025-02-03", "start": "11:00", "end": "12:00"},
        ],
    )
    s = scenario_from_dict(data, "tiny.yaml")
    h = generate_history(300, seed=2, start=dt.date(2025, 1, 6), weeks=6, scenario=s)
    days = {pd.Timestamp(d).date() for d in h["appt_date"]}
    for off in ("2025-01-14", "2025-01-20", "2025-01-21", "2025-02-03"):
        assert dt.date.fromisoformat(off) not in days
    assert {dt.date(2025, 1, 6), dt.date(2025, 1, 7), dt.date(2025, 2, 4)} <= days
    # without the dated exceptions those days are booked
    plain = generate_history(
        300, seed=2, start=dt.date(2025, 1, 6), weeks=6, scenario=scenario_from_dict(_tiny(), "t.yaml")
    )
    assert {pd.Timestamp(d).date() for d in plain["appt_date"]} > days


def test_book_during_the_week_books_nobody_into_a_day_gone_by(family):
    from clinicflow.week_booking import book_week

    thursday = dt.date(2026, 12, 3)
    s = family.with_time_off([("dr_okafor", parse_time_off_entry("2026-12-03"))])
    week = evenly_spaced_schedule(family, MONDAY)
    mine = week.index[(week["provider"] == "dr_okafor") & (week["kind"] == "template")]
    week.loc[mine, "kind"] = "booked"  # her week fully booked; the others' slots open
    week.loc[mine, "patient_ref"] = [f"P{i:04d}" for i in range(len(mine))]
    req = Request("NEW1", "follow_up", None, MONDAY, MONDAY + dt.timedelta(days=4), "any", "routine")
    late = book_week(s, week, [req], replications=3, today=thursday)
    assert len(late.bumped) > 0
    moved = late.bumped[late.bumped["rebooked_to"] != ""]
    assert len(moved) > 0 and (moved["rebooked_to"].str[:10] >= "2026-12-03").all()

    # the days before are as they were: no new booking on Monday to Wednesday
    def earlier(frame):
        return (
            frame[(frame["date"] < thursday) & (frame["kind"] == "booked")]["patient_ref"]
            .sort_values()
            .tolist()
        )

    assert earlier(late.schedule) == earlier(week)
    assert late.schedule.loc[late.schedule["patient_ref"] == "NEW1", "date"].min() >= thursday
    anytime = book_week(s, week, [req], replications=3)
    assert (anytime.bumped["rebooked_to"] != "").sum() >= len(moved)


def parse_time_off_entry(date: str):
    from clinicflow.domain.provider import TimeOff

    return TimeOff(date=dt.date.fromisoformat(date))


def test_calendars_and_the_printed_week_say_which_sessions_are_not_worked(tmp_path):
    import icalendar
    from openpyxl import load_workbook

    from clinicflow.exports.fhir import fhir_bundle
    from clinicflow.exports.ical import write_ics
    from clinicflow.exports.schedule_excel import write_schedule_xlsx

    data = _tiny(
        clinic={"closed_dates": ["2026-12-01"]},
        time_off=[{"date": "2026-11-30", "start": "13:30", "end": "14:00", "reason": "CME"}],
    )
    data["providers"][0]["sessions"]["mon"].append({"start": "13:00", "end": "16:00"})
    s = scenario_from_dict(data, "tiny.yaml")
    week = evenly_spaced_schedule(s, MONDAY)
    assert set(week["date"]) == {MONDAY} and week["end_min"].max() <= 720  # the morning only
    [path] = write_ics(week, s, tmp_path / "ics")
    events = [e for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")]
    off = [e for e in events if "not_worked" in str(e.get("categories").to_ical())]
    assert sorted(
        (str(e["summary"]), e.decoded("dtstart").strftime("%m-%d %H:%M"), str(e["transp"])) for e in off
    ) == [
        ("Not worked: the clinic is closed", "12-01 13:00", "TRANSPARENT"),
        ("Not worked: time off 13:30-14:00 (CME)", "11-30 13:00", "TRANSPARENT"),
    ]
    assert len(events) - len(off) == len(week)
    bundle = fhir_bundle(week, s)
    unavailable = [
        (e["resource"]["start"], e["resource"]["comment"])
        for e in bundle["entry"]
        if e["resource"].get("status") == "busy-unavailable"
    ]
    assert unavailable == [
        ("2026-11-30T13:00:00-07:00", "not worked: time off 13:30-14:00 (CME)"),
        ("2026-12-01T13:00:00-07:00", "not worked: the clinic is closed"),
    ]
    write_schedule_xlsx(week, s, tmp_path / "week.xlsx")
    ws = load_workbook(tmp_path / "week.xlsx")["doc"]
    assert [c.value for c in ws[2]] == [
        "Time",
        "Mon 2026-11-30\nnot worked 13:00-16:00: time off 13:30-14:00 (CME)",
        "Tue 2026-12-01\nnot worked 13:00-17:00: the clinic is closed",
    ]


def test_validate_notes_dated_exceptions_that_change_nothing(tmp_path):
    """Time off on a day without a session, or a holiday on a day the clinic is shut anyway, is most
    often a mistyped date: ``validate`` says so (a note, not an error)."""
    data = _tiny(
        clinic={"closed_dates": ["2026-12-05", "2026-12-01"]},  # a Saturday; a Tuesday
        time_off=[{"date": "2026-12-02"}, {"date": "2026-11-30", "start": "13:00", "end": "14:00"}],
    )
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = run_main("validate", path)
    assert res.code == 0, res.stderr
    notes = [ln.strip() for ln in res.stdout.splitlines() if ln.strip().startswith("note:")]
    assert notes == [
        "note: closed 2026-12-05: the clinic is not open on sat anyway",
        "note: doc time off 2026-12-02: no session of doc falls in it",
        "note: doc time off 2026-11-30 13:00-14:00: no session of doc falls in it",
    ]
    assert "note:" not in run_main("validate", FAMILY).stdout

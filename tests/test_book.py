"""``clinicflow book``: more requests into a week already planned (or exported from the EHR) — every
slot, time, room and booked patient kept, the new requests booked by plan's rules around the
visits already there, the booked week simulated, and bad input refused in one line."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from clinicflow import scenario_from_dict
from clinicflow.domain.requests import parse_requests
from clinicflow.domain.schedule import read_schedule_csv, write_schedule_csv
from clinicflow.sim import simulate
from clinicflow.solver.booking import apply_booking, book_requests
from clinicflow.solver.plan import plan_week
from conftest import TINY_YAML, one_line, run_main
from schedule_checker import check_booking, check_schedule
from tests_helpers import tiny_data

MONDAY = dt.date(2026, 11, 30)
COLUMNS = ["patient_ref", "appointment_type", "preferred_provider", "earliest_date", "latest_date", "time_of_day", "urgency"]  # fmt: skip


def _requests(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """The tiny practice's planned week with two patients booked on Monday (as plan writes it)."""
    folder = tmp_path_factory.mktemp("book")
    s = scenario_from_dict(tiny_data(), "tiny.yaml")
    (folder / "tiny.yaml").write_text(TINY_YAML)
    plan = plan_week(s, MONDAY, time_limit=5, samples=10)
    first = _requests(
        [
            ("P1", "visit", "doc", "2026-11-30", "2026-11-30", "any", "routine"),
            ("P2", "long", "doc", "2026-11-30", "2026-11-30", "any", "routine"),
        ]
    )
    reqs = parse_requests(first, s)
    sched = apply_booking(s, plan.schedule, reqs, book_requests(s, plan.schedule, reqs))
    assert (sched["kind"] == "booked").sum() == 2
    (folder / "week").mkdir()
    write_schedule_csv(sched, folder / "week" / "schedule.csv")
    return s, folder, plan.schedule, sched


def test_book_keeps_the_week_and_books_around_the_visits_already_there(week):
    s, folder, template, before = week
    longs_monday = int(((before["appointment_type"] == "long") & (before["date"] == MONDAY)).sum())
    later = _requests(
        [
            # P1 already has Monday's visit: a second one that day is not booked
            ("P1", "visit", "doc", "2026-11-30", "2026-11-30", "any", "routine"),
            ("P3", "visit", "", "2026-11-30", "2026-12-01", "afternoon", "routine"),
            ("P4", "visit", "doc", "2026-12-01", "2026-12-01", "any", "soon"),
        ]
        # every long slot of Monday is wanted, one more than there are open
        + [(f"L{i}", "long", "", "2026-11-30", "2026-11-30", "any", "routine") for i in range(longs_monday)]
    )
    req_file = folder / "later.csv"
    later.to_csv(req_file, index=False)
    out = folder / "booked"
    r = run_main(
        "book", folder / "tiny.yaml", "--schedule", folder / "week" / "schedule.csv", "--requests", req_file,
        "--out", out, "--replications", "20", "--time-limit", "5",
    )  # fmt: skip
    assert r.code == 0, r.stderr
    after = read_schedule_csv(out / "schedule.csv", s)
    # nothing of the week moved: same rows, times, rooms; the two earlier patients where they were
    key = ["date", "provider", "start_min", "end_min", "room"]
    assert after[key].astype(str).values.tolist() == before[key].astype(str).values.tolist()
    was_booked = before["kind"] == "booked"
    assert after.loc[was_booked, "patient_ref"].tolist() == before.loc[was_booked, "patient_ref"].tolist()
    unbooked = pd.read_csv(out / "unbooked.csv")
    reasons = dict(zip(unbooked["patient_ref"], unbooked["reason"], strict=True))
    assert (
        reasons["P1"]
        == "the patient already has a booked visit on every day with a matching slot (2026-11-30)"
    )
    new = after[(after["kind"] == "booked") & ~was_booked]
    longs_booked = {x for x in new["patient_ref"] if x.startswith("L")}
    assert set(new["patient_ref"]) - longs_booked == {"P3", "P4"}
    assert len(longs_booked) == longs_monday - 1  # P2 has the other one
    [left] = {f"L{i}" for i in range(longs_monday)} - longs_booked
    assert len(reasons) == 2  # P1, and the one long visit more than Monday has open
    assert "went to other requests" in reasons[left]
    earlier = _requests(
        [
            ("P1", "visit", "doc", "2026-11-30", "2026-11-30", "any", "routine"),
            ("P2", "long", "doc", "2026-11-30", "2026-11-30", "any", "routine"),
        ]
    )
    assert check_booking(after, template, pd.concat([earlier, later]), s) == []
    assert check_schedule(s, after, template=template) == []
    k = json.loads((out / "kpis.json").read_text())
    assert k["week"] == "2026-11-30" and k["rows_before"]["booked"] == 2
    assert k["rows_after"]["booked"] == 2 + len(new)
    assert k["booking"]["booked"] == len(new) and k["booking"]["requests"] == len(later)
    # kpis.json's week is the simulator's on the booked schedule, on the plan's evaluation seeds
    sim = simulate(s, after, replications=20, seed=k["seed"])
    assert k["kpis"]["booked_week"]["cost"]["mean"] == pytest.approx(sim.per_replication["cost"].mean())
    sessions = pd.read_csv(out / "sessions.csv", dtype=str)
    assert sessions[["date", "provider", "start", "end"]].values.tolist() == [
        ["2026-11-30", "doc", "08:00", "12:00"],
        ["2026-12-01", "doc", "13:00", "17:00"],
    ]
    text = " ".join(r.stdout.split())
    assert "Tiny Clinic — week of 2026-11-30" in text
    assert f"before: 2 booked, {int((before['kind'] == 'template').sum())} open slots" in text
    assert f"booked {len(new)}/{len(later)} requests" in text
    assert "P1" not in r.stdout and "P3" not in r.stdout  # no patient reference on the terminal


def test_a_slot_booked_before_is_named_as_such(week, tmp_path):
    _, folder, _, before = week
    # every long slot of Monday already booked, as an EHR's week would have them
    full = before.copy()
    longs = (full["appointment_type"] == "long") & (full["date"] == MONDAY)
    assert longs.sum() >= 1
    full.loc[longs, "kind"] = "booked"
    full.loc[longs, "patient_ref"] = [f"X{i}" for i in range(int(longs.sum()))]
    write_schedule_csv(full, tmp_path / "full.csv")
    req_file = tmp_path / "one-long.csv"
    _requests([("P9", "long", "", "2026-11-30", "2026-11-30", "any", "routine")]).to_csv(
        req_file, index=False
    )
    out = tmp_path / "booked"
    r = run_main(
        "book", folder / "tiny.yaml", "--schedule", tmp_path / "full.csv", "--requests", req_file,
        "--out", out, "--replications", "2",
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert pd.read_csv(out / "unbooked.csv")["reason"].tolist() == [
        f"all {int(longs.sum())} long slot(s) between 2026-11-30..2026-11-30 with a provider who sees long "
        "were already booked"
    ]


def test_bad_weeks_and_outputs_get_one_line(week, tmp_path):
    _, folder, _, before = week
    req_file = tmp_path / "r.csv"
    _requests([("P5", "visit", "", "2026-11-30", "2026-12-01", "any", "routine")]).to_csv(
        req_file, index=False
    )
    two = before.copy()
    two.loc[two.index[-1], "date"] = dt.date(2026, 12, 7)  # a row in the next week
    write_schedule_csv(two, tmp_path / "two.csv")
    r = run_main(
        "book",
        folder / "tiny.yaml",
        "--schedule",
        tmp_path / "two.csv",
        "--requests",
        req_file,
        "--out",
        tmp_path / "o",
    )
    assert r.code == 2 and one_line(r) == (
        f"error: {tmp_path / 'two.csv'}: column date: expected the dates of one week (Monday to Sunday), "
        "got 2026-11-30 to 2026-12-07"
    )
    r = run_main(
        "book",
        folder / "tiny.yaml",
        "--schedule",
        folder / "week" / "schedule.csv",
        "--requests",
        req_file,
        "--out",
        folder / "week",
    )
    assert (
        r.code == 2
        and one_line(r) == f"error: --out: {folder / 'week'} holds the schedule file; expected another folder"
    )
    r = run_main(
        "book",
        folder / "tiny.yaml",
        "--schedule",
        tmp_path / "missing.csv",
        "--requests",
        req_file,
        "--out",
        tmp_path / "o",
    )
    assert r.code == 2 and one_line(r) == f"error: {tmp_path / 'missing.csv'}: file not found"
    assert not (tmp_path / "o").exists()


def test_released_holds_take_routine_requests_from_today_on(week, tmp_path):
    """``--release-holds``: Monday's visit slots all booked, a routine visit request for Monday. Kept
    for urgent calls, Monday's same-day hold does not take it; released (today Monday, 0 days on),
    it does, and the terminal and kpis.json say so. Without --today the option is one line."""
    s, folder, _, before = week
    full = before.copy()
    visits = (full["appointment_type"] == "visit") & (full["date"] == MONDAY) & (full["kind"] == "template")
    full.loc[visits, "kind"] = "booked"
    full.loc[visits, "patient_ref"] = [f"X{i}" for i in range(int(visits.sum()))]
    holds = full[(full["kind"] == "hold") & (full["date"] == MONDAY)]
    assert len(holds) == 1
    write_schedule_csv(full, tmp_path / "full.csv")
    req_file = tmp_path / "r.csv"
    _requests([("P9", "visit", "", "2026-11-30", "2026-11-30", "any", "routine")]).to_csv(
        req_file, index=False
    )
    common = ["book", folder / "tiny.yaml", "--schedule", tmp_path / "full.csv", "--requests", req_file,
              "--replications", "2", "--today", "2026-11-30"]  # fmt: skip
    kept = run_main(*common, "--out", tmp_path / "kept")
    assert kept.code == 0, kept.stderr
    assert "booked 0/1 requests" in kept.stdout and "released the" not in kept.stdout
    released = run_main(*common, "--release-holds", "0", "--out", tmp_path / "released")
    assert released.code == 0, released.stderr
    out = " ".join(released.stdout.split())
    assert (
        "released the 1 open same-day hold(s) of 2026-11-30 to every request: 1 taken by routine or soon requests"
        in out
    )
    assert "booked 1/1 requests" in out
    after = read_schedule_csv(tmp_path / "released" / "schedule.csv", s)
    row = after[(after["date"] == MONDAY) & (after["start_min"] == holds["start_min"].iloc[0])]
    assert list(row["kind"]) == ["booked"] and list(row["patient_ref"]) == ["P9"]
    assert check_schedule(s, after, template=full) == []
    # the checker's requests: the new one, and the visits booked before as requests for their own day
    earlier = full[full["kind"] == "booked"]
    reqs = pd.concat(
        [
            pd.read_csv(req_file, dtype=str),
            _requests(
                [
                    (r.patient_ref, r.appointment_type, "", str(r.date), str(r.date), "any", "routine")
                    for r in earlier.itertuples()
                ]
            ),
        ]
    )
    assert check_booking(after, full, reqs, s, release_through=MONDAY) == []
    assert check_booking(after, full, reqs, s) == [
        f"doc 2026-11-30 {row['start'].iloc[0]}: a non-urgent request took a same-day hold"
    ]
    k = json.loads((tmp_path / "released" / "kpis.json").read_text())
    assert k["holds_released"] == {
        "from": "2026-11-30",
        "through": "2026-11-30",
        "released": 1,
        "taken_by_non_urgent": 1,
    }
    assert json.loads((tmp_path / "kept" / "kpis.json").read_text())["holds_released"] is None
    bad = run_main(*common[:-2], "--release-holds", "1", "--out", tmp_path / "bad")
    assert bad.code == 2 and one_line(bad) == (
        "error: --release-holds: expected --today as well: holds are released counting from the day booked"
    )
    assert not (tmp_path / "bad").exists()

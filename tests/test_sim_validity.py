"""The simulator against queueing theory and against cases with an exact answer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from clinicflow.sim import simulate
from simcases import (
    MONDAY,
    empty_schedule,
    erlang_c_wait,
    fixed_clinic,
    md1_wait,
    queue_clinic,
    schedule,
)

WARM_UP_MIN = 240  # the day starts empty: leave the first four hours out


def _steady_wait_ci(scenario, replications: int, seed: int, level: float = 0.99):
    """Mean wait of walk-ins arriving after the warm-up, pooled over replications, with its t interval.

    The estimator is total wait / number of patients over all replications (a ratio estimator: the
    plain mean of per-day means is biased low because busy days have both more patients and longer
    waits); its standard error comes from the delta method, d_i = W_i - R * N_i.
    """
    res = simulate(
        scenario,
        empty_schedule(scenario),
        days=[MONDAY],
        replications=replications,
        seed=seed,
        keep_events=True,
    )
    p = res.patients
    assert (p["outcome"] == "seen").all()
    p = p[(p["arrival"] >= WARM_UP_MIN) & (p["arrival"] < 1440)]
    g = (p["provider_start"] - p["arrival"]).groupby(p["replication"])
    w, n = g.sum().to_numpy(), g.size().to_numpy(dtype=float)
    r = w.sum() / n.sum()
    se = (w - r * n).std(ddof=1) / np.sqrt(len(w)) / n.mean()
    half = stats.t.ppf(0.5 + level / 2, len(w) - 1) * se
    return r, r - half, r + half


@pytest.mark.slow
@pytest.mark.parametrize(
    ("servers", "per_hour", "mean"),
    [(1, 10, 4.0), (2, 24, 4.0), (3, 30, 5.0)],
    ids=["M/M/1 rho=.67", "M/M/2 rho=.8", "M/M/3 rho=.83"],
)
def test_walk_in_clinic_matches_erlang_c(servers, per_hour, mean):
    s = queue_clinic(servers, per_hour, {"dist": "exponential", "mean": mean})
    theory = erlang_c_wait(servers, per_hour / 60, mean)
    est, lo, hi = _steady_wait_ci(s, replications=100, seed=2)
    assert lo <= theory <= hi, (theory, est, lo, hi)
    # The interval is tight enough to reject a clinic with one more provider.
    assert not lo <= erlang_c_wait(servers + 1, per_hour / 60, mean) <= hi


@pytest.mark.slow
def test_deterministic_single_provider_matches_pollaczek_khinchine():
    s = queue_clinic(1, 15, 3)  # bare number = deterministic 3-minute visits; rho = 0.75
    theory = md1_wait(15 / 60, 3)
    est, lo, hi = _steady_wait_ci(s, replications=100, seed=2)
    assert lo <= theory <= hi, (theory, est, lo, hi)
    # ... and rejects the exponential (M/M/1) answer, twice as long.
    assert hi < erlang_c_wait(1, 15 / 60, 3)


def test_slots_equal_to_durations_give_zero_wait_and_zero_idle_exactly():
    s = fixed_clinic(duration=20, scheduled=20, desk=1, rooming=0, rooms_at_once=1)
    rows = [(f"{8 + m // 60:02d}:{m % 60:02d}", "booked") for m in range(0, 240, 20)]
    res = simulate(s, schedule(s, rows), replications=3, seed=9)
    pr = res.per_replication
    assert (pr["patients_seen"] == 12).all()
    assert (pr["mean_wait_min"] == 0).all()
    assert (pr["total_wait_min"] == 0).all()
    assert (pr["provider_idle_min"] == 0).all()
    assert (pr["provider_overtime_min"] == 0).all()
    assert (pr["provider_utilization"] == 1).all()
    assert (pr["cost"] == 0).all()
    assert (pr["mean_time_in_clinic_min"] == 20).all()


def test_overrunning_visits_give_the_hand_computed_wait_overtime_and_cost():
    # Two 20-minute slots at 11:20 and 11:40 with 30-minute visits: the second patient waits 10
    # minutes; the session (to 12:00) runs 20 minutes over; 200 working minutes are idle.
    s = fixed_clinic(duration=30, scheduled=20)
    res = simulate(
        s, schedule(s, [("11:20", "booked"), ("11:40", "booked")]), replications=1, keep_events=True
    )
    k = res.per_replication.iloc[0]
    assert k["total_wait_min"] == 10
    assert k["mean_wait_min"] == 5
    assert k["p90_wait_min"] == pytest.approx(9)
    assert k["provider_overtime_min"] == 20
    assert k["provider_idle_min"] == 240 - 40
    assert k["cost"] == 1 * 10 + 2 * 200 + 3 * 20
    ev = res.events
    trace = list(zip(ev["patient"], ev["event"], ev["minute"], strict=True))
    assert trace == [
        (0, "arrival", 680.0),
        (0, "roomed", 680.0),
        (0, "wait_for_provider_begins", 680.0),
        (0, "provider_begins", 680.0),
        (1, "arrival", 700.0),  # waits: the provider works from one room at a time
        (0, "provider_ends", 710.0),
        (0, "room_free", 710.0),
        (0, "depart", 710.0),
        (1, "roomed", 710.0),
        (1, "wait_for_provider_begins", 710.0),
        (1, "provider_begins", 710.0),
        (1, "provider_ends", 740.0),
        (1, "room_free", 740.0),
        (1, "depart", 740.0),
    ]


def test_overtime_pay_is_the_hand_computed_pay_of_provider_and_staff_past_their_day():
    # As above: the last patient leaves at 12:20, 20 minutes past the session end. With the clinic
    # closing at 12:00 too, the desk clerk and the MA on duty at closing stay those 20 minutes.
    s = fixed_clinic(duration=30, scheduled=20, desk=1)
    doc = s.providers[0].model_copy(update={"hourly_cost": 120.0})
    s = s.model_copy(
        update={
            "clinic": s.clinic.model_copy(update={"closes": 12 * 60}),
            "providers": (doc,),
            "costs": s.costs.model_copy(update={"staff_overtime_rate": 1.5, "provider_overtime_rate": 1.0}),
        }
    )
    res = simulate(s, schedule(s, [("11:20", "booked"), ("11:40", "booked")]), replications=1)
    k = res.per_replication.iloc[0]
    assert k["provider_overtime_min"] == 20
    assert k["staff_overtime_min"] == 2 * 20  # one clerk, one MA
    provider_pay = 20 * 120 / 60  # $40 at the provider's hourly cost
    staff_pay = 20 * (18 + 21) / 60 * 1.5  # $19.50: time and a half for the clerk ($18) and the MA ($21)
    assert k["overtime_pay"] == pytest.approx(provider_pay + staff_pay)
    by_provider = res.provider_replications.iloc[0]
    assert by_provider["overtime_pay"] == pytest.approx(provider_pay)  # the provider's own
    assert np.isnan(by_provider["staff_overtime_min"])
    # closing at 18:00 as by default, the same day costs the provider's overtime alone
    later = s.model_copy(update={"clinic": s.clinic.model_copy(update={"closes": 18 * 60})})
    k = simulate(later, schedule(later, [("11:20", "booked"), ("11:40", "booked")]), replications=1)
    assert k.per_replication.iloc[0]["staff_overtime_min"] == 0
    assert k.per_replication.iloc[0]["overtime_pay"] == pytest.approx(provider_pay)


def test_provider_keeps_the_break():
    s = fixed_clinic(duration=20, scheduled=20, breaks=[("10:00", "10:20")], rooms_at_once=2)
    rows = [("09:40", "booked"), ("10:00", "booked")]
    res = simulate(s, schedule(s, rows), replications=1, keep_events=True)
    p = res.patients.sort_values("appointment")
    assert p["provider_start"].tolist() == [580.0, 620.0]  # 10:00 patient waits out the break
    k = res.per_replication.iloc[0]
    # idle until the last visit ends at 10:40, less the break and 40 min of visits (the break is
    # not idle); 10:40-12:00 is unused capacity
    assert k["provider_idle_min"] == (640 - 480 - 20) - 40
    assert k["provider_unused_min"] == 720 - 640
    assert k["provider_utilization"] == pytest.approx(40 / 220)
    assert res.per_replication["total_wait_min"].iloc[0] == 20


def test_no_show_probability_one_sees_nobody():
    s = fixed_clinic(no_show=1.0, duration={"dist": "lognormal", "mean": 18, "sd": 6})
    rows = [(f"{8 + m // 60:02d}:{m % 60:02d}", "booked") for m in range(0, 240, 20)]
    res = simulate(s, schedule(s, rows), replications=5, seed=1)
    pr = res.per_replication
    assert (pr["patients_seen"] == 0).all()
    assert (pr["no_shows"] == 12).all()
    # nobody to wait for: no idle time in the literature's sense, the whole session unused
    assert (pr["provider_idle_min"] == 0).all()
    assert (pr["provider_unused_min"] == 240).all()
    assert (pr["provider_utilization"] == 0).all()
    assert pr["mean_wait_min"].isna().all()
    assert res.summary().loc["patients_seen", "mean"] == 0


def test_conservation_on_the_family_practice_week(family):
    res = simulate(family, replications=4, seed=5, keep_events=True)
    booked = int((res.schedule["kind"] != "hold").sum())
    pr = res.per_replication
    accounted = (
        pr["patients_seen"] + pr["no_shows"] + pr["late_cancels"] + pr["turned_away"] + pr["unseen_at_close"]
    )
    assert (accounted == booked + pr["walk_ins"]).all()
    p = res.patients
    assert len(p) == len(pr) * booked + pr["walk_ins"].sum()
    seen = p[p["outcome"] == "seen"]
    # Every patient seen went through the steps in order.
    assert (seen["provider_start"] >= seen["arrival"]).all()
    assert (seen["provider_end"] >= seen["provider_start"]).all()
    inp = seen[seen["roomed"].notna()]
    assert (inp["roomed"] >= inp["check_in_end"]).all()
    assert (inp["room_free"] >= inp["provider_end"]).all()
    assert (seen["exit"] >= seen["provider_end"]).all()
    # A provider never sees two patients at once.
    for _, g in seen.groupby(["replication", "date", "provider"]):
        g = g.sort_values("provider_start")
        assert (g["provider_start"].to_numpy()[1:] >= g["provider_end"].to_numpy()[:-1] - 1e-9).all()
    # Rooms are never double-booked.
    rooms = p[p["roomed"].notna()]
    for _, g in rooms.groupby(["replication", "date", "room"]):
        g = g.sort_values("roomed")
        assert (g["roomed"].to_numpy()[1:] >= g["room_free"].to_numpy()[:-1] - 1e-9).all()


def test_provider_time_adds_up_on_the_family_practice_week(family):
    """idle + unused + busy = working minutes + overtime (idle as in the literature: waiting for a
    patient still to come), and the per-provider and per-day figures add up to the clinic's."""
    res = simulate(family, replications=4, seed=5)
    pr = res.per_replication
    days = {d.strftime("%a").lower() for d in res.schedule["date"].unique()}
    working = sum(
        (x.end - x.start) - sum(b.end - b.start for b in x.breaks)
        for p in family.providers
        for wd, ss in p.sessions.items()
        if wd in days
        for x in ss
    )
    paid = working + pr["provider_overtime_min"]
    busy = pr["provider_utilization"] * paid
    # up to visits that run into a break or the provider's next session (a few minutes a week)
    assert np.allclose(pr["provider_idle_min"] + pr["provider_unused_min"] + busy, paid, rtol=0.003)
    assert (pr["provider_idle_min"] > 0).all() and (pr["provider_unused_min"] > 0).all()
    for group in (res.provider_replications, res.day_replications):
        for kpi in ("provider_idle_min", "provider_unused_min", "provider_overtime_min"):
            total = group.groupby("replication")[kpi].sum().to_numpy()
            assert np.allclose(total, pr[kpi].to_numpy())


def test_late_patients_beyond_the_cutoff_are_turned_away(family):
    res = simulate(family, replications=2, seed=3, keep_events=True)
    p = res.patients
    late = p[(~p["walk_in"]) & (p["arrival"] - p["appointment"] > family.arrivals.late_cutoff_min)]
    assert len(late) > 0
    assert (late["outcome"] == "turned_away").all()
    assert late["provider_start"].isna().all()


@pytest.mark.parametrize(("rooms_at_once", "second_start"), [(1, 510.0), (2, 505.0)])
def test_a_second_room_lets_the_ma_room_the_next_patient_during_the_visit(rooms_at_once, second_start):
    # Rooming 5 min, visits 20 min, slots 08:00 and 08:20. One room: the second patient waits for the
    # room (free 08:25), is roomed by 08:30. Two rooms: roomed at 08:20, ready when the provider frees.
    s = fixed_clinic(duration=20, scheduled=20, rooming=5, rooms_at_once=rooms_at_once)
    res = simulate(
        s, schedule(s, [("08:00", "booked"), ("08:20", "booked")]), replications=1, keep_events=True
    )
    p = res.patients.sort_values("appointment")
    assert p["provider_start"].tolist() == [485.0, second_start]
    assert p["rooming_start"].tolist() == [480.0, 505.0 if rooms_at_once == 1 else 500.0]
    assert res.per_replication["total_wait_min"].iloc[0] == (5 + second_start - 500)


def test_telehealth_and_procedure_patients_use_the_right_resources(family):
    res = simulate(family, replications=2, seed=6, days=["tue"], keep_events=True)
    p = res.patients[res.patients["outcome"] == "seen"]
    tele = p[p["appointment_type"] == "telehealth"]
    assert len(tele) > 0
    assert tele["roomed"].isna().all() and tele["check_in_start"].isna().all() and tele["room"].eq("").all()
    proc = p[p["appointment_type"] == "procedure"]
    assert len(proc) > 0 and proc["room"].isin(family.rooms.procedure_rooms).all()
    exam = p[(p["appointment_type"] != "procedure") & (p["appointment_type"] != "telehealth")]
    assert not exam["room"].isin(family.rooms.procedure_rooms).any()
    # Types with rooming went through an MA; checkout only for types that have it.
    assert exam["rooming_start"].notna().all()
    assert tele["checkout_start"].isna().all()


def test_without_mas_nobody_who_needs_rooming_is_seen_and_everyone_is_accounted_for():
    s = fixed_clinic(duration=20, scheduled=20, rooming=5)
    data = s.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["staff"]["medical_assistants"]["count"] = 0
    from clinicflow import scenario_from_dict

    s = scenario_from_dict(data, "<no MAs>")
    rows = [(f"{8 + m // 60:02d}:{m % 60:02d}", "booked") for m in range(0, 240, 20)]
    res = simulate(s, schedule(s, rows), replications=2, seed=1)
    pr = res.per_replication
    assert (pr["patients_seen"] == 0).all()
    assert (pr["unseen_at_close"] == 12).all()
    assert (pr["provider_idle_min"] == 240).all()
    assert pr["ma_utilization"].isna().all()
    # ... and the result says why, in words, instead of leaving "unseen at close" to be puzzled over
    assert res.warnings == (
        "Monday 2026-01-05: 12 scheduled visit(s) at 08:00-11:40 need MA rooming while no medical "
        "assistant is on duty (staff.by_day, staff.shifts); no MA comes later, so they wait unseen until close",
    )


def test_an_ma_shift_later_in_the_day_rooms_the_patients_who_came_before_it():
    """No MA until a 10:00 shift: the 08:00-09:40 patients are roomed from 10:00 on, in order."""
    s = fixed_clinic(duration=20, scheduled=20, rooming=5, rooms_at_once=3)
    data = s.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["staff"]["medical_assistants"]["count"] = 0
    data["staff"]["shifts"] = [{"days": ["mon"], "start": "10:00", "end": "12:00", "medical_assistants": 1}]
    from clinicflow import scenario_from_dict

    s = scenario_from_dict(data, "<MA from 10:00>")
    rows = [(f"{8 + m // 60:02d}:{m % 60:02d}", "booked") for m in range(0, 240, 20)]
    res = simulate(s, schedule(s, rows), replications=1, seed=1, keep_events=True)
    assert res.warnings == (
        "Monday 2026-01-05: 6 scheduled visit(s) at 08:00-09:40 need MA rooming while no medical "
        "assistant is on duty (staff.by_day, staff.shifts); they wait for an MA shift later that day",
    )
    p = res.patients.sort_values("appointment")
    roomed = p["rooming_start"].dropna().to_numpy()
    assert roomed[:3].tolist() == [600.0, 605.0, 610.0]  # from the MA's first minute, 5 min each
    assert (np.diff(roomed) > 0).all()  # in appointment order

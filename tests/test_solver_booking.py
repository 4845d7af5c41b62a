"""Booking pending requests into the week's slots."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from clinicflow import InputError
from clinicflow.domain.requests import (
    parse_requests,
    read_requests_csv,
    requests_frame,
    synthetic_requests,
)
from clinicflow.solver.booking import apply_booking, book_requests
from clinicflow.solver.plan import plan_week
from schedule_checker import check_booking, check_schedule

MONDAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory):
    from clinicflow import scenario_from_dict
    from tests_helpers import tiny_data

    s = scenario_from_dict(tiny_data(), "tiny.yaml")
    return plan_week(s, MONDAY, time_limit=10, samples=10)


def _req(ref, t, pref, a, b, tod="any", urg="routine"):
    return {
        "patient_ref": ref,
        "appointment_type": t,
        "preferred_provider": pref,
        "earliest_date": a,
        "latest_date": b,
        "time_of_day": tod,
        "urgency": urg,
    }


def test_urgent_goes_to_a_hold_and_routine_never_does(tiny_plan):
    s, sched = tiny_plan.scenario, tiny_plan.schedule
    holds = sched[sched["kind"] == "hold"]
    assert len(holds) == 1  # Monday's session keeps one hold
    # Fill every Monday visit slot with routine requests, then add one urgent Monday request:
    mon_visits = int(
        (
            (sched["date"] == MONDAY) & (sched["kind"] == "template") & (sched["appointment_type"] == "visit")
        ).sum()
    )
    rows = [_req(f"P{i:06d}", "visit", "doc", "2026-11-30", "2026-11-30") for i in range(mon_visits + 1)]
    rows.append(_req("P900000", "visit", "", "2026-11-30", "2026-11-30", urg="urgent"))
    reqs = parse_requests(pd.DataFrame(rows), s)
    b = book_requests(s, sched, reqs)
    assert b.status == "optimal"
    final = apply_booking(s, sched, reqs, b)
    hold_row = holds.index[0]
    assert final.at[hold_row, "kind"] == "booked"
    assert final.at[hold_row, "patient_ref"] == "P900000"
    assert b.booked == mon_visits + 1  # every visit slot plus the hold
    assert list(b.unbooked["reason"]) == [
        f"all {mon_visits} matching slot(s) between 2026-11-30..2026-11-30 went to other requests "
        "(more urgent, or a better provider/time fit)"
    ]
    assert check_booking(final, sched, pd.DataFrame(rows), s) == []
    assert check_schedule(s, final, template=sched) == []


def test_unbooked_reasons_are_specific(tiny_plan):
    s, sched = tiny_plan.scenario, tiny_plan.schedule
    rows = [
        _req("P000001", "visit", "doc", "2026-12-07", "2026-12-09"),
        _req("P000002", "long", "doc", "2026-12-01", "2026-12-01", tod="morning"),
    ]
    reqs = parse_requests(pd.DataFrame(rows), s)
    b = book_requests(s, sched, reqs)
    reasons = dict(zip(b.unbooked["patient_ref"], b.unbooked["reason"], strict=True))
    assert reasons["P000001"] == "its dates 2026-12-07..2026-12-09 are outside the planned week"
    if "P000002" in reasons:  # only if Tuesday has no long slot
        assert reasons["P000002"].startswith("no long slot between 2026-12-01..2026-12-01")


def test_preferred_provider_and_time_of_day_are_honoured(family):
    # Two providers' open follow-up slots; the request prefers dr_chen in the afternoon.
    sched = pd.DataFrame(
        [
            {
                "date": MONDAY,
                "weekday": "mon",
                "provider": p,
                "start": "x",
                "end": "x",
                "start_min": m,
                "end_min": m + 20,
                "appointment_type": "follow_up",
                "kind": "template",
                "patient_ref": None,
                "room": None,
                "no_show_prob": 0.15,
                "overbooked": False,
            }
            for p, m in (("dr_okafor", 540), ("dr_chen", 600), ("dr_chen", 840))
        ]
    )
    reqs = parse_requests(
        pd.DataFrame([_req("P000007", "follow_up", "dr_chen", "2026-11-30", "2026-12-04", "afternoon")]),
        family,
    )
    b = book_requests(family, sched, reqs)
    assert b.assignments == {0: 2}


def test_requests_file_errors_name_row_and_column(tmp_path, family):
    p = tmp_path / "r.csv"
    requests_frame(synthetic_requests(family, MONDAY, n=5)).to_csv(p, index=False)
    assert len(read_requests_csv(p, family)) == 5
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    df.loc[2, "urgency"] = "asap"
    df.to_csv(p, index=False)
    with pytest.raises(InputError) as e:
        read_requests_csv(p, family)
    assert str(e.value) == f"{p}: row 4, column urgency: expected one of routine, soon, urgent, got 'asap'"


def test_synthetic_requests_are_pseudonymous_and_reproducible(family):
    a = synthetic_requests(family, MONDAY, n=250, seed=0)
    assert a == synthetic_requests(family, MONDAY, n=250, seed=0)
    assert len({r.patient_ref for r in a}) == 250
    assert all(len(r.patient_ref) == 7 and r.patient_ref[0] == "P" and r.patient_ref[1:].isdigit() for r in a)
    urgent = sum(r.urgency == "urgent" for r in a) / 250
    assert 0.05 < urgent < 0.16


def test_example_requests_file_matches_generator(family):
    from conftest import SCENARIOS

    shipped = read_requests_csv(SCENARIOS / "family-practice-requests.csv", family)
    assert shipped == synthetic_requests(family, MONDAY, n=250, seed=0)


def test_greedy_booking_is_feasible_and_serves_urgent_first(tiny_plan):
    from clinicflow.solver.booking import _fits, _greedy, _score

    s, sched = tiny_plan.scenario, tiny_plan.schedule
    mon_visits = int(((sched["date"] == MONDAY) & (sched["kind"] == "template")).sum())
    rows = [_req(f"P{i:06d}", "visit", "doc", "2026-11-30", "2026-11-30") for i in range(mon_visits + 3)]
    rows.append(_req("P900000", "visit", "", "2026-11-30", "2026-11-30", urg="urgent"))
    reqs = parse_requests(pd.DataFrame(rows), s)
    open_rows = [r for r in sched.itertuples() if r.kind in ("template", "hold")]
    cand = {i: [r for r in open_rows if _fits(s, q, r)] for i, q in enumerate(reqs)}
    score = {(i, r.Index): _score(reqs[i], r) for i in cand for r in cand[i]}
    g = _greedy(reqs, cand, sched, score)
    assert len(set(g.values())) == len(g)  # one request per slot
    assert len(reqs) - 1 in g  # the urgent request is served
    assert all(r in {c.Index for c in cand[i]} for i, r in g.items())  # only slots it fits


def test_requests_carry_the_patients_own_no_show_score(tiny_plan, tmp_path):
    """An optional no_show_prob column (calibrate --requests) is validated, kept on the request,
    and written onto the booked row, where the simulator reads it; blank means the type's rate."""
    s, sched = tiny_plan.scenario, tiny_plan.schedule
    rows = [
        {**_req("P000001", "visit", "doc", "2026-11-30", "2026-12-04"), "no_show_prob": "0.35"},
        {**_req("P000002", "visit", "doc", "2026-11-30", "2026-12-04"), "no_show_prob": ""},
    ]
    reqs = parse_requests(pd.DataFrame(rows), s)
    assert [r.no_show_prob for r in reqs] == [0.35, None]
    p = tmp_path / "r.csv"
    requests_frame(reqs).to_csv(p, index=False)
    assert read_requests_csv(p, s) == reqs  # the column round-trips
    final = apply_booking(s, sched, reqs, book_requests(s, sched, reqs))
    booked = final[final["kind"] == "booked"].set_index("patient_ref")["no_show_prob"]
    assert booked["P000001"] == 0.35 and pd.isna(booked["P000002"])  # empty: the type's rate
    for bad in ("1.2", "-0.1", "often"):
        rows[1]["no_show_prob"] = bad
        with pytest.raises(InputError) as e:
            parse_requests(pd.DataFrame(rows), s, "r.csv")
        assert str(e.value) == (
            f"r.csv: row 3, column no_show_prob: expected a probability between 0 and 1 or empty, got {bad!r}"
        )


def _row_level_optimum(s, sched, reqs) -> tuple[float, float]:
    """The booking's optimum computed independently: one 0/1 variable per request and open row
    (not per group of interchangeable rows), solved by SciPy's MILP (HiGHS), not CP-SAT, in two
    stages: the most score, then the most tie-break among bookings of that score."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from clinicflow.solver.booking import _fits, _score, _tiebreak

    rows = [r for r in sched.itertuples() if r.kind in ("template", "hold")]
    pairs = [(i, r) for i, q in enumerate(reqs) for r in rows if _fits(s, q, r)]
    groups: dict = {}
    for j, (i, r) in enumerate(pairs):
        groups.setdefault(("req", i), []).append(j)
        groups.setdefault(("row", r.Index), []).append(j)
        groups.setdefault(("day", reqs[i].patient_ref, r.date), []).append(j)
    a = np.zeros((len(groups), len(pairs)))
    for g, js in enumerate(groups.values()):
        a[g, js] = 1
    score = np.array([_score(reqs[i], r) for i, r in pairs], dtype=float)
    tie = np.array([_tiebreak(r, MONDAY) for _, r in pairs], dtype=float)
    kw = {"integrality": np.ones(len(pairs)), "bounds": Bounds(0, 1)}
    first = milp(-score, constraints=LinearConstraint(a, 0, 1), **kw)
    assert first.status == 0
    best = -first.fun
    second = milp(
        -tie, constraints=[LinearConstraint(a, 0, 1), LinearConstraint(score, best - 0.5, np.inf)], **kw
    )
    assert second.status == 0
    return best, -second.fun


def _random_week(family, rng) -> pd.DataFrame:
    """Two providers' slots over three days, mornings and afternoons, with same-day holds: a
    schedule where equal slots come in groups and the halves of the day differ."""
    rows = []
    for d in range(3):
        date = MONDAY + dt.timedelta(days=d)
        for prov in ("dr_okafor", "np_haddad"):
            for m in range(480, 1020, 30):
                if 720 <= m < 780:
                    continue
                kind = "hold" if rng.random() < 0.15 else "template"
                t = str(rng.choice(["follow_up", "sick_visit", "new_patient"]))
                rows.append(
                    {
                        "date": date,
                        "weekday": date.strftime("%a").lower(),
                        "provider": prov,
                        "start": "x",
                        "end": "x",
                        "start_min": m,
                        "end_min": m + family.type_by_id[t].scheduled_min,
                        "appointment_type": t,
                        "kind": kind,
                        "patient_ref": None,
                        "room": None,
                        "no_show_prob": float("nan"),
                        "overbooked": False,
                    }
                )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("patients", ["some ask twice (CP-SAT)", "one request each (min-cost flow)"])
def test_booking_by_groups_of_slots_reaches_the_row_by_row_optimum(family, patients, monkeypatch):
    """The booking chooses among groups of interchangeable slots — with CP-SAT when a patient asks
    twice (one booking a patient and day), as a min-cost flow otherwise. On random weeks and request
    sets (more requests than slots, urgent ones that may take holds, preferences of provider and
    time of day) its optimum must equal the row-by-row model's, and the booked rows must score
    exactly that; the tie-break (earlier days, holds kept) must be the most that optimum allows,
    as a second MILP stage finds it."""
    from clinicflow.solver import booking
    from clinicflow.solver.booking import _fits, _score, _tiebreak

    twice = patients.startswith("some")
    if not twice:  # the flow answers alone: CP-SAT is not asked
        monkeypatch.setattr(booking, "_by_cpsat", lambda *a, **k: pytest.fail("CP-SAT asked"))
    for seed in range(4):
        rng = np.random.default_rng(seed)
        sched = _random_week(family, rng)
        rows = []
        for j in range(len(sched) + 20):
            a = int(rng.integers(0, 3))
            b = min(2, a + int(rng.integers(0, 2)))
            ref = int(rng.integers(0, 80)) if twice else j
            rows.append(
                _req(
                    f"P{ref:06d}",
                    str(rng.choice(["follow_up", "sick_visit", "new_patient"])),
                    str(rng.choice(["dr_okafor", "np_haddad", ""])),
                    (MONDAY + dt.timedelta(days=a)).isoformat(),
                    (MONDAY + dt.timedelta(days=b)).isoformat(),
                    str(rng.choice(["any", "morning", "afternoon"])),
                    str(rng.choice(["routine", "soon", "urgent"], p=[0.6, 0.25, 0.15])),
                )
            )
        reqs = parse_requests(pd.DataFrame(rows), family)
        b = book_requests(family, sched, reqs)
        assert b.status == "optimal"
        best, best_tie = _row_level_optimum(family, sched, reqs)
        assert b.objective == pytest.approx(best)
        booked = {r.Index: r for r in sched.itertuples()}
        assert sum(_score(reqs[i], booked[r]) for i, r in b.assignments.items()) == b.objective
        # and among the bookings of that score, the earliest slots with the most holds left open
        assert sum(_tiebreak(booked[r], MONDAY) for r in b.assignments.values()) == pytest.approx(best_tie)
        assert len(set(b.assignments.values())) == len(b.assignments)
        assert all(_fits(family, reqs[i], booked[r]) for i, r in b.assignments.items())
        days = [(reqs[i].patient_ref, booked[r].date) for i, r in b.assignments.items()]
        assert len(set(days)) == len(days)


def test_the_most_urgent_request_gets_the_earliest_of_equal_slots(tiny_plan):
    """Slots alike for both requests (same provider, day, type and half of the day): the soon
    request gets the earlier one, whatever the file's order."""
    s, sched = tiny_plan.scenario, tiny_plan.schedule
    mon = sched[
        (sched["date"] == MONDAY) & (sched["kind"] == "template") & (sched["appointment_type"] == "visit")
    ]
    morning = mon[mon["start_min"] < 12 * 60].sort_values("start_min")
    assert len(morning) >= 2
    rows = [
        _req("P000001", "visit", "doc", "2026-11-30", "2026-11-30", "morning", "routine"),
        _req("P000002", "visit", "doc", "2026-11-30", "2026-11-30", "morning", "soon"),
    ]
    b = book_requests(s, sched, parse_requests(pd.DataFrame(rows), s))
    assert b.assignments == {1: morning.index[0], 0: morning.index[1]}


def test_a_hold_past_the_types_window_is_not_counted_with_the_holds_that_fit(family):
    """Two new-patient holds on one afternoon: 13:00 fits a new patient (window 13:00-15:00), 14:30
    does not (it would run to 15:10). Two urgent new patients: one is booked, into the 13:00 hold."""
    rows = _random_week(family, np.random.default_rng(0)).iloc[:2].copy()
    rows["provider"], rows["date"], rows["weekday"] = "dr_okafor", MONDAY, "mon"
    rows["kind"], rows["appointment_type"] = "hold", "new_patient"
    rows["start_min"], rows["end_min"] = [780, 870], [820, 910]
    sched = rows.reset_index(drop=True)
    reqs = parse_requests(
        pd.DataFrame(
            [_req(f"P00000{k}", "new_patient", "", "2026-11-30", "2026-11-30", urg="urgent") for k in (1, 2)]
        ),
        family,
    )
    b = book_requests(family, sched, reqs)
    assert list(b.assignments.values()) == [0]
    assert b.booked == 1 and len(b.unbooked) == 1


def test_an_urgent_request_leaves_the_hold_open_when_a_regular_slot_serves_it_as_well(family):
    """Three holds, then three regular slots, one morning; three urgent requests take the regular
    slots and the holds stay open for the day's calls. When the regular slots are with another
    provider than the one the patients asked for, the holds serve them instead."""
    from clinicflow.solver.booking import _score, _tiebreak

    rows = _random_week(family, np.random.default_rng(0)).iloc[:6].copy()
    rows["provider"], rows["date"], rows["weekday"] = "dr_okafor", MONDAY, "mon"
    rows["kind"], rows["appointment_type"] = ["hold"] * 3 + ["template"] * 3, "follow_up"
    rows["start_min"] = [480, 500, 520, 540, 560, 580]
    rows["end_min"] = rows["start_min"] + 20
    sched = rows.reset_index(drop=True)
    reqs = parse_requests(
        pd.DataFrame(
            [
                _req(f"P00000{k}", "follow_up", "dr_okafor", "2026-11-30", "2026-11-30", urg="urgent")
                for k in range(3)
            ]
        ),
        family,
    )
    assert sorted(book_requests(family, sched, reqs).assignments.values()) == [3, 4, 5]
    hold, slot = list(sched.iloc[[2, 3]].itertuples())
    # not left to the solver's own tie-breaking: the same score, and the hold one tie-break point less
    assert _score(reqs[0], hold) == _score(reqs[0], slot)
    assert _tiebreak(hold, MONDAY) == _tiebreak(slot, MONDAY) - 1
    sched.loc[3:, "provider"] = "np_haddad"
    assert sorted(book_requests(family, sched, reqs).assignments.values()) == [0, 1, 2]


def test_a_requests_file_for_another_week_is_named_in_one_line(family):
    """More than half the requests cannot reach the planned week: say which week they ask for."""
    from clinicflow.domain.requests import wrong_week_note

    reqs = synthetic_requests(family, MONDAY, n=250, seed=0)  # the README's file
    assert wrong_week_note(reqs, MONDAY) is None
    assert wrong_week_note(reqs, MONDAY + dt.timedelta(days=7)) == (
        "220 of 250 requests ask only for dates outside the week of 2026-12-07 "
        "(theirs run 2026-11-26..2026-12-06; most in the week of 2026-11-30)"
    )
    half = [r for r in reqs if r.latest < MONDAY + dt.timedelta(days=7)][:2] + [
        r for r in reqs if r.latest >= MONDAY + dt.timedelta(days=7)
    ][:2]
    assert wrong_week_note(half, MONDAY + dt.timedelta(days=7)) is None  # half reach it: no note


def test_a_routine_request_takes_the_nearest_of_equal_slots(family):
    """First available: the same slot on Wednesday, Tuesday and Monday; the request may have any of
    them, and is booked on Monday (a slot lost once its day passes; no-shows rise with lead time)."""
    rows = _random_week(family, np.random.default_rng(0)).iloc[:3].copy()
    rows["provider"], rows["kind"], rows["appointment_type"] = "dr_okafor", "template", "follow_up"
    rows["date"] = [MONDAY + dt.timedelta(days=d) for d in (2, 1, 0)]
    rows["weekday"] = ["wed", "tue", "mon"]
    rows["start_min"], rows["end_min"] = 540, 560
    sched = rows.reset_index(drop=True)
    reqs = parse_requests(
        pd.DataFrame([_req("P000001", "follow_up", "dr_okafor", "2026-11-30", "2026-12-02")]), family
    )
    assert book_requests(family, sched, reqs).assignments == {0: 2}


def test_a_released_hold_takes_a_routine_request_and_a_kept_one_does_not(family):
    """Holds on Monday and Wednesday; a routine request for either day. Released through Monday,
    Monday's hold takes it; released through Sunday before, neither does (kept for urgent calls)."""
    rows = _random_week(family, np.random.default_rng(0)).iloc[:2].copy()
    rows["provider"], rows["kind"], rows["appointment_type"] = "dr_okafor", "hold", "follow_up"
    rows["date"], rows["weekday"] = [MONDAY + dt.timedelta(days=2), MONDAY], ["wed", "mon"]
    rows["start_min"], rows["end_min"] = 540, 560
    sched = rows.reset_index(drop=True)
    reqs = parse_requests(
        pd.DataFrame([_req("P000001", "follow_up", "", "2026-11-30", "2026-12-02")]), family
    )
    assert book_requests(family, sched, reqs, release_through=MONDAY).assignments == {0: 1}
    assert book_requests(family, sched, reqs, release_through=MONDAY - dt.timedelta(days=1)).booked == 0
    assert book_requests(family, sched, reqs).booked == 0

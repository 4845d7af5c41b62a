"""The OR case scheduler: hard constraints by an independent checker, reasons, and the baseline."""

import copy
import datetime as dt
import itertools

import pytest
import yaml

from clinicflow.data.synthetic_cases import generate_cases
from clinicflow.domain.cases import SurgicalCase
from clinicflow.scenario_file import scenario_from_dict
from clinicflow.solver.surgery import solve_surgery
from clinicflow.solver.surgery_baseline import first_come_first_served
from conftest import ORTHO
from surgery_checker import check_schedule

#: One worker runs this module, so its module fixture (a solve or a CLI chain) is computed once, not
#: on each xdist worker (``--dist loadgroup``).
pytestmark = pytest.mark.xdist_group("surgery_solver")

WEEK = dt.date(2026, 11, 30)


def _variant(change) -> object:
    data = yaml.safe_load(ORTHO.read_text())
    change(data)
    return scenario_from_dict(data, "variant.yaml")


def _case(cid, surgeon, ctype, **kw):
    base = dict(
        earliest_date=dt.date(2026, 11, 23),
        latest_date=dt.date(2026, 12, 31),
        auth_status="approved",
        auth_date=dt.date(2026, 11, 20),
        asc_ok=True,
    )
    return SurgicalCase(case_id=cid, surgeon=surgeon, case_type=ctype, **{**base, **kw})


@pytest.fixture(scope="module")
def ortho_cases(ortho):
    return generate_cases(ortho, WEEK, 66, seed=1)


@pytest.fixture(scope="module")
def ortho_plan(ortho, ortho_cases):
    return solve_surgery(ortho, ortho_cases, WEEK, time_limit=8, workers=2)


def test_example_week_has_no_violation(ortho, ortho_cases, ortho_plan):
    assert ortho_plan.status in ("OPTIMAL", "FEASIBLE")
    assert check_schedule(ortho, ortho_cases, ortho_plan.table(), WEEK) == []
    assert len(ortho_plan.bookings) >= 30
    # every case is either booked or has a reason
    assert ortho_plan.booked_ids | set(ortho_plan.unbooked) == {c.case_id for c in ortho_cases}
    assert not ortho_plan.booked_ids & set(ortho_plan.unbooked)


def test_unapproved_authorization_is_never_booked(ortho_cases, ortho_plan):
    unapproved = {c.case_id for c in ortho_cases if c.auth_status != "approved"}
    assert unapproved  # the example has pending and denied cases
    assert not unapproved & ortho_plan.booked_ids
    for c in ortho_cases:
        if c.auth_status == "denied":
            assert ortho_plan.unbooked[c.case_id] == "authorization denied"
        elif c.auth_status == "pending":
            assert ortho_plan.unbooked[c.case_id].startswith("authorization pending")


def test_room_day_risk_within_target(ortho, ortho_plan):
    for r in ortho_plan.risks:
        assert r.p_overtime <= ortho.surgery.overtime_target + 1e-9
        assert r.quantile_total <= r.room_day.minutes + 1e-6


def test_optimized_beats_first_come(ortho, ortho_cases, ortho_plan):
    base = first_come_first_served(ortho, ortho_cases, WEEK)
    assert check_schedule(ortho, ortho_cases, base.table(), WEEK) == [
        v for v in check_schedule(ortho, ortho_cases, base.table(), WEEK) if "quantile" in v
    ]  # the baseline keeps every rule except the overtime-risk limit
    w = sum(ortho_plan.facts[b.case_id].case.priority for b in ortho_plan.bookings)
    wb = sum(base.facts[b.case_id].case.priority for b in base.bookings)
    assert w >= wb
    # expected overtime per booked case: the optimized week does not buy its extra cases with overtime
    # (a 20% margin: the second solver stage runs under a time limit on a loaded CI machine)
    per_case = sum(r.expected_overtime for r in ortho_plan.risks) / len(ortho_plan.bookings)
    per_case_base = sum(r.expected_overtime for r in base.risks) / len(base.bookings)
    assert per_case <= 1.2 * per_case_base


def test_sequencing_puts_low_variance_first(ortho_plan):
    assert ortho_plan.delay_proxy["sequenced"] <= ortho_plan.delay_proxy["assignment_order"] + 1e-9
    # in a room-day without shared equipment or surgeon conflicts, sd never decreases along the day
    by_rd = {}
    for b in ortho_plan.bookings:
        by_rd.setdefault(b.room_day, []).append(b)
    inversions = 0
    for bs in by_rd.values():
        sds = [ortho_plan.facts[b.case_id].var for b in sorted(bs, key=lambda b: b.start)]
        inversions += sum(1 for a, b in itertools.pairwise(sds) if a > b + 1e-9)
    assert inversions <= 2


def test_reasons_in_plain_words(ortho):
    no_carm_at_asc = _variant(lambda d: d["surgery"]["facilities"][1].__setitem__("equipment", {}))
    cases = [
        _case("P1", "dr_osei", "acl", auth_status="pending", auth_date=dt.date(2026, 12, 3)),
        _case("P2", "dr_osei", "acl", auth_status="pending", auth_date=None),
        _case("D1", "dr_osei", "acl", auth_status="denied", auth_date=None),
        _case("A1", "dr_osei", "acl", auth_date=dt.date(2026, 12, 9)),
        _case("W1", "dr_osei", "acl", earliest_date=dt.date(2026, 12, 8)),
        _case("K1", "dr_osei", "orif_radius", deadline=dt.date(2026, 12, 1)),
        _case("H1", "dr_osei", "tka", deadline=dt.date(2026, 12, 1)),
        _case("L1", "dr_fischer", "carpal_tunnel", expected_duration=600),
    ]
    plan = solve_surgery(no_carm_at_asc, cases, WEEK, time_limit=3, workers=1)
    u = plan.unbooked
    assert u["P1"] == "authorization pending until 2026-12-03"
    assert u["P2"] == "authorization pending"
    assert u["D1"] == "authorization denied"
    assert u["A1"] == "authorization approved only from 2026-12-09, after the last possible day 2026-12-06"
    assert u["W1"].startswith("patient available 2026-12-08")
    assert u["K1"] == "no block of dr_osei with a C-arm before its deadline 2026-12-01"
    assert (
        u["H1"]
        == "no block of dr_osei at a hospital before its deadline 2026-12-01 (procedure not done at an ASC)"
    )
    assert u["L1"].startswith("case too long: its 80% duration")
    assert plan.bookings == []


def test_equipment_count_binds(ortho):
    """One C-arm at St. Luke's and three trauma rooms at once: the checker sees no overlap of C-arm cases."""

    def change(d):
        d["surgery"]["facilities"][0]["equipment"] = {"c_arm": 1, "robot": 1}
        d["surgery"]["blocks"].append(
            {"facility": "stluke", "room": "OR3", "day": "tue", "start": "07:30", "end": "15:30"}
        )
        d["surgery"]["blocks"].append(
            {"facility": "stluke", "room": "OR5", "day": "tue", "start": "07:30", "end": "15:30"}
        )

    sc = _variant(change)
    cases = [
        _case(
            f"T{i}",
            s,
            t,
            asc_ok=False,
            priority=3,
            earliest_date=dt.date(2026, 12, 1),
            latest_date=dt.date(2026, 12, 1),
        )
        for i, (s, t) in enumerate(
            [
                ("dr_alvarez", "orif_ankle"),
                ("dr_alvarez", "hip_fracture"),
                ("dr_nakamura", "orif_radius"),
                ("dr_nakamura", "orif_ankle"),
                ("dr_fischer", "orif_radius"),
                ("dr_fischer", "orif_radius"),
                ("dr_alvarez", "orif_radius"),
                ("dr_nakamura", "hip_fracture"),
            ]
        )
    ]
    plan = solve_surgery(sc, cases, dt.date(2026, 12, 1), time_limit=5, workers=1)
    tue = [b for b in plan.bookings if b.room_day.date == dt.date(2026, 12, 1)]
    assert len({b.room_day.room for b in tue}) >= 2  # rooms run in parallel (no turnover wait) …
    assert check_schedule(sc, cases, plan.table(), dt.date(2026, 12, 1)) == []  # … never two C-arms at once
    assert len(tue) >= 4
    c_arm_minutes = sum(b.end - b.start for b in tue)
    assert c_arm_minutes <= 8 * 60  # one C-arm, one block length


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_randomized_instances_have_no_violation(ortho, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    target = float(rng.choice([0.1, 0.2, 0.3]))
    c_arm = int(rng.integers(1, 3))

    def change(d):
        d["surgery"]["overtime_target"] = target
        d["surgery"]["facilities"][0]["equipment"]["c_arm"] = c_arm
        # a surgeon with blocks in two rooms on one day at one facility (flip-room style)
        d["surgery"]["blocks"].append(
            {
                "facility": "stluke",
                "room": "OR5",
                "day": "mon",
                "start": "08:00",
                "end": "14:00",
                "surgeon": None,
            }
        )

    sc = _variant(change)
    week = WEEK + dt.timedelta(days=int(rng.integers(0, 7)))
    cases = generate_cases(sc, week, int(rng.integers(40, 90)), seed=seed)
    plan = solve_surgery(sc, cases, week, time_limit=2, workers=2, seed=seed)
    assert check_schedule(sc, cases, plan.table(), week) == []
    assert not {c.case_id for c in cases if c.auth_status != "approved"} & plan.booked_ids
    # and the simulated week keeps each booked room-day's overtime probability at the target (95% CI)
    from clinicflow.sim.or_day import simulate_or, summarize_or

    summary = summarize_or(simulate_or(sc, plan.table(), cases, 200, seed))
    for r in summary["room_days"]:
        assert r["p_overtime_ci"][0] <= target, (r["room_day"], r["p_overtime"])


def test_checker_can_fail(ortho, ortho_cases, ortho_plan):
    """The checker is not vacuous: broken schedules are caught."""
    t = ortho_plan.table()
    pending = next(c for c in ortho_cases if c.auth_status == "pending")
    bad = t.copy()
    bad.loc[0, "case_id"] = pending.case_id
    bad.loc[0, "surgeon"] = pending.surgeon
    assert any("authorization pending" in v for v in check_schedule(ortho, ortho_cases, bad, WEEK))
    bad = t.copy()
    bad.loc[1, "start"], bad.loc[1, "end"] = bad.loc[0, "start"], bad.loc[0, "end"]
    assert check_schedule(ortho, ortho_cases, bad, WEEK)
    # cram the longest room-day with a copy of its first case: the risk limit breaks
    cid = t.iloc[0]["case_id"]
    extra = t.iloc[[0]].copy()
    extra["case_id"] = "X"
    extra_cases = [*ortho_cases, ortho_plan.facts[cid].case.model_copy(update={"case_id": "X"})]
    crammed = __import__("pandas").concat([t, extra])
    assert any("quantile" in v or "turnover" in v for v in check_schedule(ortho, extra_cases, crammed, WEEK))
    assert copy.deepcopy(t).equals(t)


def test_same_seed_same_bookings_busy_or_idle(ortho, ortho_cases):
    """The solver's budgets are deterministic: a coordinator who runs the week again, on a quiet or
    a busy machine, gets the same cases in the same rooms at the same times."""
    import subprocess
    import sys

    def plan():
        return solve_surgery(ortho, ortho_cases, WEEK, time_limit=2, workers=2, seed=3).table()

    quiet = plan()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = plan()
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert len(quiet) >= 30
    assert quiet.equals(busy)

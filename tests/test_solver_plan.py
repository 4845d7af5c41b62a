"""The week's plan: every hard constraint holds (family practice and random clinics), demand is
met, statuses are reported, and the plan beats the timing rules on held-out samples."""

from __future__ import annotations

import copy
import datetime as dt
import os
import pickle
import time
from types import SimpleNamespace

import numpy as np
import pytest

from clinicflow import scenario_from_dict
from clinicflow.domain.clock import next_monday
from clinicflow.domain.schedule import to_file_frame, validate_schedule
from clinicflow.evaluation import plan_kpis
from clinicflow.solver.plan import plan_week
from clinicflow.solver.week import provider_sessions
from schedule_checker import check_schedule

MONDAY = dt.date(2026, 11, 30)


def _shared(tmp_path_factory, name: str, make):
    """Compute ``make()`` once for all xdist workers: the first takes a lock file and pickles the
    result; the others wait for the pickle (the family week is the suite's one expensive solve)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return make()
    root = tmp_path_factory.getbasetemp().parent  # this run's folder, shared by its workers
    done, lock = root / f"{name}.pkl", root / f"{name}.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        deadline = time.monotonic() + 600
        while not done.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} was not computed by another worker") from None
            time.sleep(0.2)
        return pickle.loads(done.read_bytes())
    os.close(fd)
    value = make()
    tmp = done.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(value))
    os.replace(tmp, done)
    return value


@pytest.fixture(scope="module")
def family_plan(family, tmp_path_factory):
    return _shared(
        tmp_path_factory, "family_plan", lambda: plan_week(family, MONDAY, time_limit=20, samples=40, seed=3)
    )


def test_family_week_satisfies_every_hard_constraint(family, family_plan):
    assert check_schedule(family, family_plan.schedule) == []
    # through the file format too: what is written validates and still checks clean
    again = validate_schedule(to_file_frame(family_plan.schedule), family, "schedule.csv")
    assert check_schedule(family, again) == []
    assert len(again) == len(family_plan.schedule)


def test_family_week_meets_demand_and_reports_each_session(family, family_plan):
    for c in family_plan.template.coverage:
        assert c["planned"] == round(c["weekly"])
    assert len(family_plan.sessions) == 54 == sum(p.weekly_sessions for p in family.providers)
    for s in family_plan.sessions:
        assert s.status in ("optimal", "feasible")
        assert s.gap >= 0 and (s.status != "optimal" or s.gap == 0)
        assert s.bound <= s.model_objective + 1e-6  # CP-SAT's bound on its in-order model
    holds = int((family_plan.schedule["kind"] == "hold").sum())
    assert holds == sum(x.holds for p in family.providers for ss in p.sessions.values() for x in ss)


def test_plan_beats_timing_rules_on_held_out_samples(family_plan):
    k = plan_kpis(family_plan, replications=60, evaluator="saa")
    assert k.seed != family_plan.seed
    even = k.reduction("evenly_spaced")["cost_saved"]
    bw = k.reduction("bailey_welch")["cost_saved"]
    assert even["ci_low"] > 0  # strictly cheaper than evenly spaced, paired 95% CI
    assert bw["ci_low"] > 0  # and than Bailey-Welch
    s = k.summary()
    # idle is dear (2 per min against 1 for waiting): the plan's providers wait for patients far
    # less than with evenly spaced slots, and less than with Bailey-Welch's double-booked starts
    assert s["plan"]["provider_idle_min"]["mean"] < 0.8 * s["evenly_spaced"]["provider_idle_min"]["mean"]
    assert s["plan"]["provider_idle_min"]["mean"] < s["bailey_welch"]["provider_idle_min"]["mean"]
    # the sessions' expected costs (validation days, refine.py) predict the held-out week
    expected = sum(x.expected_cost for x in family_plan.sessions)
    assert abs(expected - s["plan"]["cost"]["mean"]) < 0.03 * s["plan"]["cost"]["mean"]
    # most blocks publish the local search's times rather than CP-SAT's in-order optimum
    assert sum(x.refined for x in family_plan.sessions) > 0.5 * sum(1 for b in family_plan.blocks if b.slots)


@pytest.fixture(scope="module")
def simulated(family_plan):
    """The plan and both baselines in the simulator, on held-out seeds (the acceptance evaluation)."""
    return plan_kpis(family_plan, replications=60, evaluator="sim")


def test_acceptance_simulated_week_beats_evenly_spaced(family_plan, simulated):
    k = simulated
    assert k.evaluator == "clinicflow.sim.simulate" and k.seed != family_plan.seed
    assert k.reduction("evenly_spaced")["cost_saved"]["ci_low"] > 0
    s = k.summary()
    # idle is dear (2 a minute against 1 for waiting): the plan's providers wait for patients far
    # less than with evenly spaced slots (1,802 / 2,686 a week) and less than with Bailey-Welch's
    # double-booked starts (1,907), and its patients wait no more than 10% longer than Bailey-Welch's
    # (4,670 / 4,843: here less)
    assert s["plan"]["provider_idle_min"]["mean"] < 0.8 * s["evenly_spaced"]["provider_idle_min"]["mean"]
    assert s["plan"]["provider_idle_min"]["mean"] < s["bailey_welch"]["provider_idle_min"]["mean"]
    assert s["plan"]["total_wait_min"]["mean"] < 1.10 * s["bailey_welch"]["total_wait_min"]["mean"]


def test_the_planner_model_predicts_the_simulated_week(family_plan, simulated):
    """The SAA recursion the plan is chosen with (holds filled by the clinic's rule, walk-ins
    without a hold served by a provider on duty, the room queue) against the simulated clinic, on
    60 weeks each: the weekly cost within 3% (about 2.5 standard errors of the difference) for
    the plan and both baselines. Until the walk-ins without a hold were modelled, the recursion
    missed ~250 minutes of idle and ~35 of overtime a week, and came out ~7% cheaper."""
    saa = plan_kpis(family_plan, replications=60, evaluator="saa").summary()
    sim = simulated.summary()
    for name in ("plan", "evenly_spaced", "bailey_welch"):
        a, b = saa[name]["cost"]["mean"], sim[name]["cost"]["mean"]
        assert abs(a - b) < 0.03 * b, (name, a, b)
    assert (
        abs(saa["plan"]["provider_overtime_min"]["mean"] - sim["plan"]["provider_overtime_min"]["mean"]) < 15
    )


def test_expected_ma_limit_leaves_the_simulated_clinic_almost_no_ma_queue(family, family_plan):
    """The planner limits MAs on *expected* rooming work (solver/ma_load.py), so it may double-book
    four providers' 08:00 starts. In the simulator, with the practice's 4 MAs (3 on Wednesdays),
    patients then wait for an MA under 1% of the minutes they are being roomed."""
    from clinicflow.sim import simulate
    from clinicflow.sim.analysis import wait_breakdown

    res = simulate(family, family_plan.schedule, replications=10, seed=1_000_003, keep_patients=True)
    queues = wait_breakdown(res.patients).set_index("stage")["minutes_per_replication"]
    p = res.patients[res.patients["outcome"] == "seen"]
    rooming = float((p["rooming_end"] - p["rooming_start"]).sum()) / 10
    assert rooming > 1_500  # about 2,000 minutes of rooming a week
    assert queues["ma"] < 0.01 * rooming
    starts = family_plan.schedule.groupby(["date", "start_min"])["provider"]
    assert (starts.size() - starts.nunique()).max() >= 1  # somewhere a provider has two patients at once


def test_issue_no_worse_than_bailey_welch_in_the_simulator(simulated):
    # issue 4: "no worse": the plan is cheaper, the paired 95% CI of the saving over 60 held-out
    # weeks above zero (2.9%, 95..404 a week)
    saved = simulated.reduction("bailey_welch")["cost_saved"]
    assert saved["ci_low"] > 0


@pytest.mark.xfail(
    strict=True,
    reason="issue 4 asks for >=30% below evenly spaced; the plan saves 8-13% of simulated cost here (8.2% on "
    "these 60 weeks, 9.4% over 100 weeks with the CLI's seed 0): 1,700 of evenly spaced's 9,300 a week are "
    "check-in and rooming minutes every timing pays, each minute of idle removed costs about a minute of "
    "waiting, and CP-SAT's proven optimum of the textbook session is only 1-13% below evenly spaced "
    "(benchmarks/timing_ceiling.py, docs/planning.md)",
)
def test_issue_target_thirty_percent_below_evenly_spaced(simulated):
    assert simulated.reduction("evenly_spaced")["relative"] >= 0.30


def test_same_seed_same_plan_whatever_the_number_of_workers(tiny, monkeypatch):
    # the CP-SAT budgets are deterministic and budgeted for 2 cores whatever ``workers`` is (until
    # session 5 a block's budget scaled with ``workers``, so 1 worker could give another plan)
    import clinicflow.solver.plan as plan_module

    budgets: dict = {1: [], 2: []}
    real = plan_module.time_block
    for w in (1, 2):
        monkeypatch.setattr(
            plan_module,
            "time_block",
            lambda *a, _w=w, **k: budgets[_w].append(k["time_limit"]) or real(*a, **k),
        )
        plan_week(tiny, MONDAY, time_limit=10, samples=10, seed=1, workers=w)
    assert sorted(budgets[1]) == sorted(budgets[2]) and max(budgets[1]) > 0.2  # above the floor
    monkeypatch.setattr(plan_module, "time_block", real)
    a = plan_week(tiny, MONDAY, time_limit=10, samples=10, seed=1, workers=2)
    b = plan_week(tiny, MONDAY, time_limit=10, samples=10, seed=1, workers=2)
    c = plan_week(tiny, MONDAY, time_limit=10, samples=10, seed=1, workers=1)
    cols = ["date", "provider", "start_min", "appointment_type", "kind", "room", "overbooked"]
    assert a.schedule[cols].equals(b.schedule[cols])
    assert a.schedule[cols].equals(c.schedule[cols])
    assert [x.status for x in a.sessions] == [x.status for x in c.sessions]


def test_big_week_rules_keep_a_seed_to_one_plan(tiny, monkeypatch):
    # the rules that bind only on big weeks (fewer sampled days per block, greedy rooms without
    # CP-SAT, the template's escalation started higher) forced on the tiny week: still a plan per
    # seed, with one worker or two
    import clinicflow.solver.plan as plan_module
    from clinicflow.solver import rooms

    monkeypatch.setattr(plan_module, "BIG_WEEK_BLOCKS", 1)
    monkeypatch.setattr(plan_module, "MIN_SAMPLES", 5)
    monkeypatch.setattr(plan_module, "MIN_SEARCH_DAYS", 10)
    monkeypatch.setattr(plan_module, "MIN_VALIDATION_DAYS", 10)
    monkeypatch.setattr(plan_module, "TEMPLATE_SESSIONS", 1)
    monkeypatch.setattr(rooms, "CPSAT_MAX_PAIRS", 0)

    def no_cp_sat(*a, **k):
        raise AssertionError("the rooms' CP-SAT ran")

    monkeypatch.setattr(rooms, "cpsat", SimpleNamespace(CpModel=no_cp_sat, solve=no_cp_sat))
    a = plan_week(tiny, MONDAY, time_limit=10, samples=10, seed=1, workers=2)
    c = plan_week(tiny, MONDAY, time_limit=10, samples=10, seed=1, workers=1)
    assert a.samples == c.samples and a.samples < 10  # the days were cut
    cols = ["date", "provider", "start_min", "appointment_type", "kind", "room", "overbooked"]
    assert a.schedule[cols].equals(c.schedule[cols])
    assert [x.expected_cost for x in a.sessions] == [x.expected_cost for x in c.sessions]


def test_next_monday():
    assert next_monday(dt.date(2026, 11, 25)) == dt.date(2026, 11, 30)
    assert next_monday(dt.date(2026, 11, 30)) == dt.date(2026, 12, 7)


def test_sessions_cut_at_breaks_and_windows(tiny):
    ps = provider_sessions(tiny, MONDAY)
    mon = next(p for p in ps if p.weekday == "mon")
    assert [(b.start, b.end) for b in mon.blocks] == [(480, 600), (615, 720)]


# -- randomized clinics ----------------------------------------------------------------------------


def random_scenario(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    types = []
    for i in range(int(rng.integers(2, 5))):
        sched = int(rng.choice([10, 15, 20, 30]))
        t = {
            "id": f"t{i}",
            "name": f"Type {i}",
            "scheduled_min": sched,
            "duration": {
                "dist": "lognormal",
                "mean": round(sched * float(rng.uniform(0.6, 0.95)), 1),
                "sd": round(sched * 0.35, 1),
            },
            "no_show": round(float(rng.uniform(0, 0.25)), 2),
        }
        if rng.random() < 0.6:
            t["rooming_min"] = {"dist": "lognormal", "mean": float(rng.integers(3, 9)), "sd": 1.5}
        if i == 1 and rng.random() < 0.5:
            t["allowed_windows"] = [{"start": "08:00", "end": "10:30"}]
        if i == 2 and rng.random() < 0.5:
            t["procedure"] = True
        if i == 3 and rng.random() < 0.5:
            t["mode"] = "telehealth"
        types.append(t)
    ids = [t["id"] for t in types]
    days = ["mon", "tue"]
    providers = []
    for j in range(int(rng.integers(1, 4))):
        sessions = {}
        for d in days:
            if rng.random() < 0.8:
                start = int(rng.choice([8 * 60, 8 * 60 + 30, 9 * 60]))
                end = start + int(rng.choice([150, 180, 240]))
                sess = {"start": start, "end": end, "holds": int(rng.integers(0, 3))}
                if rng.random() < 0.4:
                    sess["breaks"] = [{"start": start + 90, "end": start + 105}]
                sessions[d] = [sess]
        providers.append(
            {
                "id": f"p{j}",
                "name": f"Provider {j}",
                "role": "MD",
                "appointment_types": sorted(set(["t0", *rng.choice(ids, size=2)])),
                "sessions": sessions,
                "rooms_at_once": int(rng.integers(1, 3)),
            }
        )
    n_rooms = int(rng.integers(2, 6))
    procedure = any(t.get("procedure") for t in types)
    demand = [
        {"type": t, "weekly": float(rng.integers(2, 14))}
        for t in ids
        if any(t in p["appointment_types"] for p in providers)
    ]
    if "t1" in [d["type"] for d in demand]:
        demand[[d["type"] for d in demand].index("t1")]["max_per_session"] = 2
    return {
        "clinic": {
            "name": f"Random {seed}",
            "timezone": "America/New_York",
            "days_open": days,
            "opens": "07:00",
            "closes": "19:00",
        },
        "appointment_types": types,
        "providers": providers,
        "rooms": {
            "count": n_rooms,
            "procedure_rooms": ["R01"] if procedure else [],
            "turnover_min": float(rng.integers(0, 5)),
        },
        "staff": {
            "front_desk": {"count": 1, "hourly_cost": 18},
            "medical_assistants": {"count": int(rng.integers(1, 3)), "hourly_cost": 20},
        },
        "demand": demand,
    }


def augmented_scenario(seed: int) -> dict:
    """A random clinic with more of what practices write: walk-ins of a random type, an MA shift on
    Monday morning (possibly none on duty), another MA count on Tuesday, a per-session floor, a
    window on the first type, and sometimes twice the demand the sessions hold (overbooking)."""
    d = random_scenario(seed)
    rng = np.random.default_rng(10_000 + seed)
    ids = [t["id"] for t in d["appointment_types"]]
    if rng.random() < 0.7:
        d["arrivals"] = {
            "walk_ins_per_hour": round(float(rng.uniform(0.1, 1.2)), 2),
            "walk_in_mix": {str(rng.choice(ids)): 1.0},
            "punctuality": {"dist": "normal", "mean": -5, "sd": 10},
        }
    if rng.random() < 0.4:
        n = int(rng.integers(0, 3))
        d["staff"]["shifts"] = [{"days": ["mon"], "start": "07:00", "end": "10:00", "medical_assistants": n}]
    if rng.random() < 0.3:
        d["staff"]["by_day"] = {"tue": {"medical_assistants": int(rng.integers(1, 4))}}
    if rng.random() < 0.4 and d["demand"]:
        d["demand"][int(rng.integers(0, len(d["demand"])))]["min_per_session"] = 1
    if rng.random() < 0.3:
        d["appointment_types"][0]["allowed_windows"] = [{"start": "09:00", "end": "12:00"}]
    if rng.random() < 0.3:
        for row in d["demand"]:
            row["weekly"] = float(row["weekly"]) * 2
    return d


# random_scenario: 9, 12, 40, 55 and 58 failed until session 6 (of 60 tried): a hold type with
# windows (crash), procedures in a row the fixed order could not fit, and shared rooms the template
# packed so tightly that a later block could not be timed or roomed (test_solver_template_rules.py).
# augmented_scenario: of 50 (session 6), all 49 with sessions are planned with no violation; 2, 15,
# 17, 39 and 47 (MAs starting mid-session) were refused until patients who come before the MAs'
# shift waited for it in the MA limit (ma_load.defer), 4 and 12 until segments were cut at MA changes
@pytest.mark.parametrize(
    "make, seed",
    [(random_scenario, s) for s in [*range(8), 9, 12, 40, 55, 58]]
    + [(augmented_scenario, s) for s in [0, 1, 2, 3, 4, 5, 6, 7, 12, 15, 17, 39, 47]],
    ids=lambda x: x.__name__.split("_")[0] if callable(x) else str(x),
)
def test_random_clinics_satisfy_every_hard_constraint(make, seed):
    s = scenario_from_dict(copy.deepcopy(make(seed)), f"{make.__name__}-{seed}.yaml")
    plan = plan_week(s, MONDAY, time_limit=6, samples=8, seed=seed)
    assert len(plan.schedule) > 0
    assert check_schedule(s, plan.schedule) == []


def test_overbooking_when_demand_exceeds_capacity_and_patients_no_show():
    """30 visits a week (20-min slots, 30% no-shows) in sessions that hold 22 end to end: the
    template overbooks — more slots than the minutes hold, but no more than the expected shown
    minutes — and every hard constraint still holds."""
    from tests_helpers import tiny_data

    data = tiny_data()
    data["appointment_types"][0]["no_show"] = 0.3
    data["demand"][0]["weekly"] = 30
    data["rooms"]["count"] = 3
    s = scenario_from_dict(data, "busy.yaml")
    plan = plan_week(s, MONDAY, time_limit=10, samples=15)
    visits = int((plan.schedule["appointment_type"] == "visit").sum())  # incl. the Monday hold
    assert visits > 23
    for ps in provider_sessions(s, MONDAY):
        for b in ps.blocks:
            inside = plan.schedule[
                (plan.schedule["date"] == ps.date) & plan.schedule["start_min"].between(b.start, b.end - 1)
            ]
            assert 20 * 0.7 * len(inside) <= b.end - b.start  # expected shown minutes fit the block
    assert check_schedule(s, plan.schedule) == []


def test_family_week_with_example_requests_booked(family, family_plan):
    """The README's job: the 250 example requests booked into the family week; the final schedule
    still satisfies every hard constraint and every booking honours its request."""
    import pandas as pd

    from clinicflow.domain.requests import read_requests_csv
    from clinicflow.solver.booking import apply_booking, book_requests
    from conftest import SCENARIOS
    from schedule_checker import check_booking

    path = SCENARIOS / "family-practice-requests.csv"
    reqs = read_requests_csv(path, family)
    b = book_requests(family, family_plan.schedule, reqs, time_limit=20)
    final = apply_booking(family, family_plan.schedule, reqs, b)
    assert b.status == "optimal"
    assert b.booked + len(b.unbooked) == 250 and b.booked >= 225
    assert b.unbooked["reason"].str.len().min() > 20
    urgent_booked, urgent = b.by_urgency(reqs)["urgent"]
    assert urgent_booked >= urgent - 2
    assert check_schedule(family, final, template=family_plan.schedule) == []
    assert (
        check_booking(
            final, family_plan.schedule, pd.read_csv(path, dtype=str, keep_default_na=False), family
        )
        == []
    )


def test_orthopedic_week_satisfies_every_hard_constraint(ortho):
    """The second example: surgeons' clinic sessions around OR days, two cast rooms shared by six
    providers, four MAs."""
    plan = plan_week(ortho, MONDAY, time_limit=15, samples=10)
    assert check_schedule(ortho, plan.schedule) == []
    assert all(c["planned"] == round(c["weekly"]) for c in plan.template.coverage)
    assert (plan.schedule["kind"] == "hold").sum() == sum(
        x.holds for p in ortho.providers for ss in p.sessions.values() for x in ss
    )


def test_week_without_demand_or_holds_is_empty_but_complete():
    from tests_helpers import tiny_data

    data = tiny_data()
    data["demand"] = []
    data["providers"][0]["sessions"]["mon"][0]["holds"] = 0
    s = scenario_from_dict(data, "quiet.yaml")
    plan = plan_week(s, MONDAY, time_limit=5)
    assert plan.schedule.empty and len(plan.sessions) == 2
    k = plan_kpis(plan, replications=3, evaluator="saa").summary()
    # nobody to wait for: no idle time (the literature's definition); the 225 + 240 working
    # minutes are unused capacity, which the simulator reports as provider_unused_min
    assert k["plan"]["provider_idle_min"]["mean"] == 0
    assert k["plan"]["cost"]["mean"] == 0

"""Staff for part of a day (``staff.shifts``): the domain's step function, the simulator's pools
that follow it, the planner's MA capacity minute by minute, staff cost, and what-if variants."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from clinicflow import InputError, scenario_from_dict
from clinicflow.domain.capacity import weekly_staff_cost
from clinicflow.sim import simulate
from clinicflow.sim.engine import LeanEngine
from clinicflow.sim.resources import BUSY, Pool
from clinicflow.solver.plan import plan_week
from clinicflow.whatif import Variant, apply_variant, load_variant
from conftest import ROOT, TINY_YAML, run_cli
from schedule_checker import check_schedule

VARIANTS = ROOT / "scenarios" / "variants"


def test_afternoon_ma_variant_steps_and_cost(family):
    _v, base, s = load_variant(VARIANTS / "afternoon-ma.yaml")
    assert base == family
    c = s.clinic
    assert s.staff.steps("medical_assistants", "mon", c.opens, c.closes) == (
        (450, 780, 4),
        (780, 1020, 5),
        (1020, 1080, 4),
    )
    # Wednesday has one MA fewer all day (by_day); the shift adds one to that
    assert s.staff.steps("medical_assistants", "wed", c.opens, c.closes) == (
        (450, 780, 3),
        (780, 1020, 4),
        (1020, 1080, 3),
    )
    assert s.staff.steps("medical_assistants", "tue", c.opens, c.closes) == ((450, 1080, 4),)
    # two afternoons of 4 hours at $21/h, nothing else
    diff = {
        k: weekly_staff_cost(s)[k] - weekly_staff_cost(family)[k] for k in ("medical_assistants", "total")
    }
    assert diff == {"medical_assistants": pytest.approx(2 * 4 * 21), "total": pytest.approx(2 * 4 * 21)}


def test_variant_staff_changes_compose_with_shifts(family):
    _v, _b, s = load_variant(VARIANTS / "afternoon-ma.yaml")
    c = s.clinic
    # one more MA all Monday: the shift's afternoon count goes up too
    more = apply_variant(s, Variant(name="x", extra_mas_on={"mon": 1}))
    assert more.staff.steps("medical_assistants", "mon", c.opens, c.closes) == (
        (450, 780, 5),
        (780, 1020, 6),
        (1020, 1080, 5),
    )
    # "2 MAs every day" replaces shifts too
    two = apply_variant(s, Variant(name="x", medical_assistants=2))
    assert all(
        two.staff.steps("medical_assistants", d, c.opens, c.closes) == ((450, 1080, 2),) for d in c.days_open
    )
    # fewer for part of a day; never below zero
    off = apply_variant(
        family,
        Variant(
            name="x",
            extra_shifts=[{"days": ["tue"], "start": "10:00", "end": "12:00", "medical_assistants": -4}],
        ),
    )
    assert off.staff.steps("medical_assistants", "tue", c.opens, c.closes) == (
        (450, 600, 4),
        (600, 720, 0),
        (720, 1080, 4),
    )
    with pytest.raises(
        InputError, match=r"v.yaml: extra_shifts\[0\]: would leave -1 medical assistants on tue"
    ):
        apply_variant(
            family,
            Variant(
                name="x",
                extra_shifts=[{"days": ["tue"], "start": "10:00", "end": "12:00", "medical_assistants": -5}],
            ),
            "v.yaml",
        )


@pytest.mark.parametrize(
    ("shifts", "message"),
    [
        (
            [
                {"days": ["mon"], "start": "09:00", "end": "12:00", "medical_assistants": 2},
                {"days": ["mon", "tue"], "start": "11:00", "end": "13:00", "medical_assistants": 1},
            ],
            "shifts 1 and 2 both set medical_assistants on mon between 11:00 and 12:00",
        ),
        (
            [{"days": ["sun"], "start": "09:00", "end": "12:00", "front_desk": 2}],
            "the clinic is not open on sun",
        ),
        (
            [{"days": ["mon"], "start": "06:00", "end": "09:00", "front_desk": 2}],
            "shift 06:00-09:00 is outside the clinic's hours",
        ),
        (
            [{"days": ["mon"], "start": "09:00", "end": "12:00"}],
            "a shift sets front_desk, medical_assistants or both",
        ),
    ],
)
def test_bad_shifts_are_one_clear_line(tmp_path, shifts, message):
    data = yaml.safe_load(TINY_YAML)
    data["staff"]["shifts"] = shifts
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(data))
    res = run_cli("validate", f)
    assert res.code == 2, res.stderr
    assert message in res.stderr and "staff" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_pool_resize_serves_waiters_and_withdraws_busy_units():
    eng = LeanEngine()
    pool = Pool(eng, 1)
    got = []

    class Who:
        unit = None

    assert pool.take() is not BUSY  # the one unit is busy
    pool.wait(1.0, lambda w: got.append(("a", eng.now)), Who())
    pool.resize(2)  # a second unit comes on: the waiter gets it at once
    eng.run(10)
    assert got == [("a", 0.0)] and pool.free == 0
    pool.resize(1)  # one goes off while both are busy: the next release is withheld
    assert pool.owed == 1
    pool.release()
    assert pool.free == 0 and pool.owed == 0
    pool.release()
    assert pool.free == 1


def _ma_shift_clinic() -> dict:
    data = yaml.safe_load(TINY_YAML)
    data["staff"]["medical_assistants"]["count"] = 0
    data["staff"]["shifts"] = [{"days": ["mon"], "start": "09:00", "end": "11:00", "medical_assistants": 2}]
    return data


def test_simulated_rooming_only_while_mas_are_on_duty():
    s = scenario_from_dict(_ma_shift_clinic(), "shift.yaml")
    sched = pd.DataFrame(
        {
            "date": "2026-11-30",
            "provider": "doc",
            "start": ["08:00", "08:40", "09:20", "10:20", "11:00"],
            "appointment_type": "long",
            "kind": "template",
        }
    )
    res = simulate(s, sched, replications=30, seed=3, keep_patients=True)
    p = res.patients
    roomed = p[p["rooming_start"].notna()]
    assert len(roomed) > 60
    assert roomed["rooming_start"].min() >= 540 - 1e-9  # nobody roomed before the MAs arrive
    # an MA who starts rooming before 11:00 finishes; nobody starts after it
    assert roomed["rooming_start"].max() < 660
    # utilization over the 2 × 120 staffed minutes of Monday
    mon = p[p["date"] == dt.date(2026, 11, 30)]
    busy = (mon["rooming_end"] - mon["rooming_start"]).sum() / 30
    assert res.summary().loc["ma_utilization", "mean"] == pytest.approx(busy / 240, rel=1e-9)


def test_planned_rooming_keeps_to_the_mas_on_duty(tmp_path):
    data = yaml.safe_load(TINY_YAML)
    # one MA, none between 09:00 and 10:00 on Monday
    data["staff"]["shifts"] = [{"days": ["mon"], "start": "09:00", "end": "10:00", "medical_assistants": 0}]
    # a long visit (MA rooming) in every session, Monday's included: since session 6 the template
    # sees the MA-free hour (segments are cut there) and would otherwise put all three on Tuesday
    data["demand"][1]["min_per_session"] = 1
    s = scenario_from_dict(data, "tiny-shift.yaml")
    plan = plan_week(s, dt.date(2026, 11, 30), time_limit=10, samples=10, seed=1)
    assert check_schedule(s, plan.schedule) == []
    sched = plan.schedule
    mon_long = sched[(sched["date"] == dt.date(2026, 11, 30)) & (sched["appointment_type"] == "long")]
    assert len(mon_long) > 0
    rooming = int(np.ceil(s.type_by_id["long"].rooming_min.mean))
    # no MA-rooming interval [start, start + rooming) touches 09:00-10:00
    assert not ((mon_long["start_min"] < 600) & (mon_long["start_min"] + rooming > 540)).any()


def test_no_ma_during_a_session_is_explained_in_words():
    from clinicflow.errors import InfeasibleError

    data = yaml.safe_load(TINY_YAML)
    # the MA is off for Monday's whole session, and the session must hold a long visit
    data["staff"]["shifts"] = [{"days": ["mon"], "start": "08:00", "end": "12:00", "medical_assistants": 0}]
    data["demand"][1]["min_per_session"] = 1
    s = scenario_from_dict(data, "tiny.yaml")
    with pytest.raises(InfeasibleError) as e:
        plan_week(s, dt.date(2026, 11, 30), time_limit=5)
    assert any(
        "no medical assistant works on Monday during the session" in r and "long" in r
        for r in e.value.reasons
    )


def test_validate_names_the_staffing_exceptions(tmp_path):
    data = yaml.safe_load(TINY_YAML)
    data["staff"]["by_day"] = {"tue": {"front_desk": 2}}
    data["staff"]["shifts"] = [{"days": ["mon"], "start": "09:00", "end": "11:00", "medical_assistants": 2}]
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(data))
    res = run_cli("validate", f)
    assert res.code == 0, res.stderr
    assert "  staff differs: tue 2 front desk; mon 09:00-11:00 2 MAs" in res.stdout
    js = run_cli("validate", f, "--json")
    assert (
        '"staffing_exceptions": [\n      "tue 2 front desk",\n      "mon 09:00-11:00 2 MAs"\n    ]'
        in js.stdout
    )

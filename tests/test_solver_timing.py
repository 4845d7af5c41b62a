"""Slot timing under uncertainty: the SAA recursion, the CP-SAT model against exhaustive search,
and the baselines' rules."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from clinicflow import scenario_from_dict
from clinicflow.domain.costs import Costs
from clinicflow.domain.distributions import Exponential
from clinicflow.solver.baselines import bailey_welch_starts, evenly_spaced_starts
from clinicflow.solver.saa import Samples, draw_samples, evaluate
from clinicflow.solver.timing import Slot, rule_hints, time_block
from clinicflow.solver.week import Block, Segment


def _samples(dur, show=None, late=None):
    dur = np.asarray(dur, dtype=float)
    show = np.ones_like(dur, dtype=bool) if show is None else np.asarray(show)
    late = np.zeros_like(dur) if late is None else np.asarray(late, dtype=float)
    return Samples(show, late, late, np.where(show, dur, 0.0))


def test_recursion_exact_on_a_hand_worked_day():
    # Block 0-60, appointments 0, 10, 20; durations 15, 5, 10 (one sampled day).
    # Starts 0, 15, 20 -> waits 0 + 5 + 0 = 5; busy without a gap until the last visit ends at 30
    # -> idle 0 (the 30 minutes after it are unused, not idle); no overtime.
    c = Costs(wait_per_min=1, idle_per_min=2, overtime_per_min=3)
    ev = evaluate(np.array([0, 10, 20]), _samples([[15, 5, 10]]), 0, 60, c)
    assert ev.wait.tolist() == [5.0]
    assert ev.idle.tolist() == [0.0]
    assert ev.overtime.tolist() == [0.0]
    assert ev.cost.tolist() == [5.0]
    # Before a break with more patients after it the provider waits out the block: 60 - 30 = 30.
    ev = evaluate(np.array([0, 10, 20]), _samples([[15, 5, 10]]), 0, 60, c, to_last=False)
    assert ev.idle.tolist() == [30.0]
    assert ev.cost.tolist() == [65.0]


def test_ready_first_sees_a_ready_patient_before_a_late_one():
    # Appointments 0 and 10, visits 15 and 5; the first patient is ready at 12, the second at 10.
    # In appointment order: 12-27, then 27-32 -> waits 0 + 17, idle 32 - 20 = 12: cost 17 + 24 = 41.
    # Ready first (the clinic's rule): the second at 10-15, then the first 15-30 -> waits 0 + 3,
    # idle 30 - 20 = 10: cost 3 + 20 = 23.
    c = Costs(wait_per_min=1, idle_per_min=2, overtime_per_min=3)
    smp = Samples(
        np.ones((1, 2), bool), np.array([[12.0, 0.0]]), np.array([[12.0, 0.0]]), np.array([[15.0, 5.0]])
    )
    in_order = evaluate(np.array([0, 10]), smp, 0, 60, c)
    ready = evaluate(np.array([0, 10]), smp, 0, 60, c, ready_first=True)
    assert (in_order.wait.tolist(), in_order.idle.tolist(), in_order.cost.tolist()) == (
        [17.0],
        [12.0],
        [41.0],
    )
    assert (ready.wait.tolist(), ready.idle.tolist(), ready.cost.tolist()) == ([3.0], [10.0], [23.0])


def _ready_first_reference(a, smp, start, end, c):
    """One sampled day at a time, patient by patient: an independent statement of the rule."""
    out = []
    for k in range(smp.k):
        left = [i for i in range(smp.n) if smp.show[k, i]]
        free, wait, busy_in, last = float(start), 0.0, 0.0, None
        while left:
            ready = [i for i in left if a[i] + smp.ready[k, i] <= free]
            # earliest appointment; of two with one time, the one ready longer
            i = (
                min(ready, key=lambda j: (a[j], a[j] + smp.ready[k, j]))
                if ready
                else min(left, key=lambda j: (a[j] + smp.ready[k, j], j))
            )
            left.remove(i)
            s = max(free, a[i] + smp.ready[k, i])
            wait += max(s - a[i] - smp.wait_from[k, i], 0.0)
            free = s + smp.duration[k, i]
            busy_in += max(min(free, end) - max(s, start), 0.0)
            last = free if last is None else max(last, free)
        busy = smp.duration[k].sum()
        idle = 0.0 if last is None else last - start - busy
        ot = 0.0 if last is None else max(last - end, 0.0)
        out.append(c.wait_per_min * wait + c.idle_per_min * idle + c.overtime_per_min * ot)
    return np.array(out)


def test_ready_first_matches_a_patient_by_patient_reference():
    from clinicflow.domain.distributions import Lognormal, Normal

    c = Costs(wait_per_min=1, idle_per_min=2, overtime_per_min=3)
    rng = np.random.default_rng(4)
    n = 7
    smp = draw_samples(
        rng,
        400,
        [Lognormal(mean=15, sd=7)] * n,
        [0.15] * n,
        Normal(mean=-5, sd=12),
        15,
        [[Lognormal(mean=6, sd=2)]] * n,
    )
    a = np.array([480, 480, 490, 500, 515, 530, 540])
    got = evaluate(a, smp, 480, 590, c, ready_first=True).cost
    assert np.allclose(got, _ready_first_reference(a, smp, 480, 590, c))
    # the rule never makes the provider wait for a patient when another is ready: less idle
    assert (
        evaluate(a, smp, 480, 590, c, ready_first=True).idle.mean()
        < evaluate(a, smp, 480, 590, c).idle.mean()
    )


def test_idle_counts_gaps_before_the_last_visit_only():
    # Appointments 0 and 40, visits 10 each: the provider waits 30 min for the second patient
    # (idle), and the 10 minutes after the last visit (50-60) are unused capacity.
    c = Costs(wait_per_min=1, idle_per_min=2, overtime_per_min=3)
    ev = evaluate(np.array([0, 40]), _samples([[10, 10]]), 0, 60, c)
    assert ev.idle.tolist() == [30.0] and ev.cost.tolist() == [60.0]
    # Nobody shows: nothing to wait for, zero idle (all 60 minutes unused).
    ev = evaluate(np.array([0, 40]), _samples([[10, 10]], show=[[False, False]]), 0, 60, c)
    assert ev.idle.tolist() == [0.0] and ev.cost.tolist() == [0.0]


def test_recursion_no_show_late_patient_and_overtime():
    # Second patient absent; third 4 min late; the block ends at 30, the last visit at 44.
    c = Costs(wait_per_min=1, idle_per_min=2, overtime_per_min=3)
    smp = _samples([[20, 9, 20]], show=[[True, False, True]], late=[[0, 0, 4]])
    ev = evaluate(np.array([0, 10, 20]), smp, 0, 30, c)
    # third patient ready at 24, provider free at 20 -> starts 24, waits 0, ends 44
    # (the absent second patient does not hold the provider up)
    assert ev.wait.tolist() == [0.0]
    assert ev.overtime.tolist() == [14.0]
    # until the last visit ends at 44: 0-20 and 24-44 with patients -> idle 4 (waiting 20-24)
    assert ev.idle.tolist() == [4.0]
    # idle gaps past the block end count too (idle and overtime, as in Denton & Gupta 2003)
    smp = _samples([[20, 20]], late=[[0, 15]])  # second patient ready at 45, block ends at 30
    ev = evaluate(np.array([0, 30]), smp, 0, 30, c)
    assert ev.idle.tolist() == [25.0] and ev.overtime.tolist() == [35.0]


def test_early_patient_seen_early_and_waits_from_appointment_time():
    # Appointment 10; arrives 8 early and is roomed by 5 (ready = -3): seen at 7 when the provider
    # is free, no wait. Second patient (appointment 10) late by 4, ready at 14 + 6 of rooming = 20,
    # but the provider is busy until 27: waits 27 - 14 = 13.
    c = Costs(wait_per_min=1, idle_per_min=0, overtime_per_min=0)
    smp = Samples(
        np.array([[True, True]]), np.array([[-3.0, 10.0]]), np.array([[0.0, 4.0]]), np.array([[20.0, 10.0]])
    )
    ev = evaluate(np.array([10, 10]), smp, 0, 60, c)
    assert ev.wait.tolist() == [13.0]


def test_samples_show_rate_matches_no_show_probability():
    rng = np.random.default_rng(3)
    smp = draw_samples(rng, 20_000, [Exponential(mean=10)] * 2, [0.2, 0.0])
    p = smp.show[:, 0].mean()
    half = 1.96 * np.sqrt(0.8 * 0.2 / 20_000)
    assert abs(p - 0.8) < half * 1.5
    assert smp.show[:, 1].all()
    assert abs(smp.duration[:, 1].mean() - 10) < 4 * 10 / np.sqrt(20_000)


SMALL = {
    "clinic": {"name": "Small", "timezone": "America/Denver", "days_open": ["mon"]},
    "appointment_types": [
        {
            "id": "v",
            "name": "Visit",
            "scheduled_min": 15,
            "duration": {"dist": "exponential", "mean": 12},
            "no_show": 0.15,
        }
    ],
    "providers": [
        {
            "id": "doc",
            "name": "Doc",
            "role": "MD",
            "appointment_types": ["v"],
            "sessions": {"mon": [{"start": "08:00", "end": "09:00"}]},
        }
    ],
    "rooms": {"count": 2, "turnover_min": 0},
    "staff": {
        "front_desk": {"count": 1, "hourly_cost": 18},
        "medical_assistants": {"count": 1, "hourly_cost": 20},
    },
    "costs": {"wait_per_min": 1.0, "idle_per_min": 2.0, "overtime_per_min": 3.0},
}


def _slot(lo, hi):
    return Slot("v", False, 15, lo, hi, 0, False, 0.15, 0.15, 144.0, 12.0)


def test_optimizer_within_one_percent_of_exhaustive_search_exponential():
    """Four exponential visits (mean 12, 15% no-shows) in an hour: CP-SAT's start times are as good
    as the best of every non-decreasing assignment on the 5-minute grid (at most two per start),
    both scored by the numpy recursion on the same sampled days."""
    s = scenario_from_dict(SMALL, "small.yaml")
    block = Block(480, 540, (Segment(480, 540),))
    slots = [_slot(480, 525) for _ in range(4)]
    smp = draw_samples(np.random.default_rng(11), 150, [Exponential(mean=12)] * 4, [0.15] * 4)
    bt = time_block(s, dt.date(2026, 11, 30), 2, block, slots, smp, None, time_limit=20)
    assert bt.result.status == "optimal"
    got = evaluate(np.array(bt.starts), smp, 480, 540, s.costs).mean
    grid = range(480, 526, 5)
    best = min(
        evaluate(np.array(a), smp, 480, 540, s.costs).mean
        for a in itertools.combinations_with_replacement(grid, 4)
        if max(a.count(g) for g in set(a)) <= 2
    )
    assert got <= best * 1.01
    # and it beats both practice rules on the same days
    means = [12.0] * 4
    for rule in (evenly_spaced_starts, bailey_welch_starts):
        assert got <= evaluate(np.array(rule(480, means)), smp, 480, 540, s.costs).mean


def test_reported_objective_matches_independent_recursion():
    s = scenario_from_dict(SMALL, "small.yaml")
    block = Block(480, 540, (Segment(480, 540),))
    slots = [_slot(480, 525) for _ in range(5)]
    smp = draw_samples(np.random.default_rng(5), 60, [Exponential(mean=12)] * 5, [0.15] * 5)
    bt = time_block(s, dt.date(2026, 11, 30), 2, block, slots, smp, None, time_limit=20)
    ev = evaluate(np.array(bt.starts), smp, 480, 540, s.costs).mean
    # the model's idle is the recursion's (to the last visit's end), with durations rounded to 0.1 min
    assert bt.result.objective == pytest.approx(ev, rel=0.02)
    assert bt.result.bound <= bt.result.objective + 1e-6


def test_reported_objective_matches_recursion_before_a_break():
    """A block followed by a break and more patients: idle counts to the block end (to_last=False)."""
    s = scenario_from_dict(SMALL, "small.yaml")
    block = Block(480, 540, (Segment(480, 540),))
    slots = [_slot(480, 525) for _ in range(4)]
    smp = draw_samples(np.random.default_rng(7), 60, [Exponential(mean=12)] * 4, [0.15] * 4)
    bt = time_block(s, dt.date(2026, 11, 30), 2, block, slots, smp, None, time_limit=20, to_last=False)
    ev = evaluate(np.array(bt.starts), smp, 480, 540, s.costs, to_last=False).mean
    assert bt.result.objective == pytest.approx(ev, rel=0.02)
    # the tail of the block is idle here, so the same starts cost more than at a session's end
    assert ev > evaluate(np.array(bt.starts), smp, 480, 540, s.costs).mean


def test_rule_hints_on_the_grid():
    block = Block(480, 540, (Segment(480, 540),))
    slots = [_slot(480, 525) for _ in range(3)]
    back, even, bw = rule_hints(block, slots, 5, 2)
    assert back == [480, 495, 510]  # scheduled 15 min back to back
    assert even == [480, 490, 505]  # mean 12: 480, 492, 504 snapped to the 5-minute grid
    assert bw == [480, 480, 490]  # two at the start, then one per mean duration
    # a rule that cannot fit the slots' ranges is dropped
    assert rule_hints(block, [_slot(480, 485) for _ in range(5)], 5, 2)[0] is None


def test_double_booking_when_slots_outnumber_start_times():
    # 12 visits of 15 min in an hour must share starts, never more than two per start.
    s = scenario_from_dict(SMALL, "small.yaml")
    block = Block(480, 540, (Segment(480, 540),))
    slots = [_slot(480, 525) for _ in range(12)]
    smp = draw_samples(np.random.default_rng(2), 20, [Exponential(mean=12)] * 12, [0.15] * 12)
    bt = time_block(s, dt.date(2026, 11, 30), 6, block, slots, smp, None, time_limit=10)
    assert bt.result.has_solution
    counts = np.unique(bt.starts, return_counts=True)[1]
    assert counts.max() == 2 and (np.diff(bt.starts) >= 0).all()


def test_timing_rules():
    assert evenly_spaced_starts(480, [10, 12.5, 15]) == [480, 490, 502]
    assert bailey_welch_starts(480, [10, 12.5, 15, 20]) == [480, 480, 490, 502]
    assert bailey_welch_starts(480, [10]) == [480]

"""Walk-ins who find no hold (solver/holds.py ``day_walk_ins``): who gets them, how many there are,
and what they cost a block in the sample-path recursion (solver/saa.py ``Extra``)."""

from __future__ import annotations

import numpy as np
import pytest

from clinicflow.domain.costs import Costs
from clinicflow.solver.holds import Hold, assign_unheld, expected_walk_ins, hold_fills
from clinicflow.solver.saa import Extra, Samples, evaluate

COSTS = Costs(wait_per_min=1.0, idle_per_min=2.0, overtime_per_min=3.0)


def _one_slot(duration: float, extra: Extra | None) -> Samples:
    """One booked patient, on time, ready at once, for ``duration`` minutes; plus ``extra``."""
    z = np.zeros((1, 1))
    return Samples(np.ones((1, 1), dtype=bool), z, z, np.full((1, 1), duration), extra=extra)


def _walk_in(arrival: float, duration: float, ready: float = 0.0) -> Extra:
    one = np.full((1, 1), 1.0)
    return Extra(
        np.full((1, 1), arrival), ready * one, duration * one, 0 * one, ready * one, 0 * one, one > 0
    )


def test_a_walk_in_during_a_visit_waits_for_it_and_pushes_the_day_into_overtime():
    # booked 0-10; the walk-in comes at 5, waits 5 minutes, is seen 10-20; the block ends at 15
    ev = evaluate(np.array([0.0]), _one_slot(10, _walk_in(5, 10)), 0, 15, COSTS, ready_first=True)
    assert (ev.wait[0], ev.idle[0], ev.overtime[0]) == (5.0, 0.0, 5.0)
    assert ev.cost[0] == 5 + 3 * 5


def test_a_late_walk_in_keeps_the_provider_waiting():
    # booked 0-10; the walk-in comes at 30 (roomed in 4 minutes): the provider waits 10-34 for them
    ev = evaluate(np.array([0.0]), _one_slot(10, _walk_in(30, 10, ready=4)), 0, 40, COSTS, ready_first=True)
    assert (ev.wait[0], ev.idle[0], ev.overtime[0]) == (4.0, 24.0, 4.0)
    # in the model without them (the CP-SAT recursion), the day ends at 10 with nobody waited for
    ev = evaluate(np.array([0.0]), _one_slot(10, _walk_in(30, 10, ready=4)), 0, 40, COSTS)
    assert (ev.wait[0], ev.idle[0], ev.overtime[0]) == (0.0, 0.0, 0.0)


def test_a_walk_in_is_seen_by_arrival_among_booked_patients():
    # booked at 0 and at 20 (10 minutes each), both on time; a walk-in arrives at 12 and is ready
    # at once: seen 12-22 (before the 20:00 patient, who came later in the queue), who waits 2
    z = np.zeros((1, 2))
    smp = Samples(np.ones((1, 2), dtype=bool), z, z, np.full((1, 2), 10.0), extra=_walk_in(12, 10))
    ev = evaluate(np.array([0.0, 20.0]), smp, 0, 60, COSTS, ready_first=True)
    assert (ev.wait[0], ev.idle[0], ev.overtime[0]) == (2.0, 2.0, 0.0)


def test_no_walk_in_changes_nothing():
    nobody = Extra(*(np.full((1, 1), np.nan),) * 6, np.zeros((1, 1), dtype=bool))
    a = evaluate(np.array([0.0]), _one_slot(10, nobody), 0, 15, COSTS, ready_first=True)
    b = evaluate(np.array([0.0]), _one_slot(10, None), 0, 15, COSTS, ready_first=True)
    assert a.cost[0] == b.cost[0] == 0.0


def test_who_takes_a_walk_in_without_a_hold():
    blocks = [
        ("am", 480, 720, {"sick"}),  # 08:00-12:00
        ("pm", 780, 1020, {"sick"}),  # 13:00-17:00
        ("derm", 480, 1020, {"skin"}),
    ]
    unheld = [[(500.0, "sick"), (740.0, "sick"), (1030.0, "sick"), (600.0, "skin")]]
    got = assign_unheld(unheld, blocks, np.random.default_rng(0))
    # on duty at 08:20 -> am; at 12:20 (lunch) -> the next block, pm; after 17:00 -> turned away
    assert got == {"am": [(0, 500.0, "sick")], "pm": [(0, 740.0, "sick")], "derm": [(0, 600.0, "skin")]}
    # two providers on duty: each takes about half
    two = [("a", 480, 720, {"sick"}), ("b", 480, 720, {"sick"})]
    got = assign_unheld([[(500.0, "sick")] for _ in range(4000)], two, np.random.default_rng(1))
    share = len(got["a"]) / 4000
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / 4000)


def test_without_holds_every_walk_in_is_unheld_and_the_fills_do_not_change(family):
    k = 4000
    unheld: list = []
    hold_fills(family, [], k, np.random.default_rng(3), unheld)
    counts = np.array([len(day) for day in unheld])
    # Poisson with mean 7.5 a day (the family practice's hourly rates over its opening hours)
    assert abs(counts.mean() - expected_walk_ins(family)) < 4 * np.sqrt(7.5 / k)
    assert counts.var() == pytest.approx(7.5, rel=0.1)
    # asking for the unheld walk-ins draws nothing more: the holds' fills are the same
    holds = [Hold("dr_okafor", 540, 555), Hold("np_haddad", 600, 620)]
    with_list = hold_fills(family, holds, 200, np.random.default_rng(4), [])
    without = hold_fills(family, holds, 200, np.random.default_rng(4))
    assert np.array_equal(with_list, without, equal_nan=True)

"""Same-day holds filled by walk-ins: the planner's rule against the simulator's, and exact cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from clinicflow.domain.distributions import Deterministic
from clinicflow.policies import evenly_spaced_schedule
from clinicflow.sim import simulate
from clinicflow.solver.holds import Hold, expected_walk_ins, hold_fills, walk_in_windows
from clinicflow.solver.saa import draw_samples

MONDAY = dt.date(2026, 11, 30)


def test_walk_in_windows_follow_the_hourly_profile(family):
    # opens 07:30, closes 18:00: half an hour at 0.6/h, then 1.2, 1.0, six hours at 0.6, 0.8, 0.6
    w = walk_in_windows(family)
    assert w[0] == (450, 480, 0.3) and w[1] == (480, 540, 1.2) and w[-1] == (1020, 1080, 0.6)
    assert expected_walk_ins(family) == pytest.approx(7.5)


def test_a_walk_in_takes_the_earliest_open_hold(family):
    """One provider, holds at 09:00 and 14:00; the morning hold is taken by the first walk-in of
    the day who comes before it ends, the afternoon one by the next."""
    holds = [Hold("dr_okafor", 840, 855), Hold("dr_okafor", 540, 555)]
    fills = hold_fills(family, holds, 4000, np.random.default_rng(1))
    morning, afternoon = fills[:, 1], fills[:, 0]
    # the morning hold is empty only when nobody comes before 09:15: P = exp(-(0.3 + 1.2 + 0.25))
    assert abs(np.isnan(morning).mean() - np.exp(-1.75)) < 4 * np.sqrt(np.exp(-1.75) * 0.83 / 4000)
    assert np.nanmax(morning) < 555
    # the afternoon hold is taken by the second walk-in before 14:15 (or the first after 09:15)
    filled = ~np.isnan(afternoon)
    assert (afternoon[filled] < 855).all()
    assert (morning[filled & ~np.isnan(morning)] <= afternoon[filled & ~np.isnan(morning)]).all()


@pytest.mark.slow
def test_hold_fills_agree_with_the_simulator(family):
    """Per hold of the evenly spaced week, how often a walk-in fills it: the planner's rule on 3,000
    sampled days against 300 simulated weeks (binomial tolerances)."""
    sched = evenly_spaced_schedule(family, MONDAY)
    reps = 300
    res = simulate(family, sched, replications=reps, seed=5, keep_patients=True)
    pt = res.patients
    took = pt[(pt["walk_in"] == 1) & pt["appointment"].notna() & pt["provider"].notna()]
    sim_fill = took.groupby([took["date"].astype(str), "provider", "appointment"]).size() / reps
    holds = sched[sched["kind"] == "hold"]
    worst = 0.0
    diffs = []
    for date, day in holds.groupby("date"):
        hs = [Hold(r.provider, int(r.start_min), int(r.end_min)) for r in day.itertuples()]
        model = ~np.isnan(hold_fills(family, hs, 3000, np.random.default_rng(7)))
        for h, p_model in zip(hs, model.mean(axis=0), strict=True):
            p_sim = float(sim_fill.get((str(date), h.provider, float(h.start)), 0.0))
            p = (p_sim + p_model) / 2
            se = np.sqrt(p * (1 - p) / reps + p * (1 - p) / 3000) + 1e-9
            worst = max(worst, abs(p_sim - p_model) / se)
            diffs.append(p_sim - p_model)
    assert len(diffs) == len(holds)
    assert worst < 4.5  # ~100 holds: no single hold off by more than 4.5 standard errors
    assert abs(np.mean(diffs)) < 0.015  # and no bias overall
    assert 0.2 < np.mean(~np.isnan(hold_fills(family, hs, 500, np.random.default_rng(3)))) < 0.6


def test_walk_in_lateness_replaces_punctuality_in_the_samples():
    """A filled hold shows with the walk-in's lateness (early ones come back at the start); an
    empty one is absent; other slots keep their own draws."""
    late = {1: np.array([-20.0, 7.0, np.nan])}
    base = draw_samples(
        np.random.default_rng(2), 3, [Deterministic(value=10)] * 2, [0.0, 0.0], Deterministic(value=-3)
    )
    smp = draw_samples(
        np.random.default_rng(2),
        3,
        [Deterministic(value=10)] * 2,
        [0.0, 0.0],
        Deterministic(value=-3),
        walk_ins=late,
    )
    assert smp.show[:, 1].tolist() == [True, True, False]
    assert smp.ready[:, 1].tolist() == [0.0, 7.0, 0.0]
    assert smp.wait_from[:, 1].tolist() == [0.0, 7.0, 0.0]
    assert smp.duration[:, 1].tolist() == [10.0, 10.0, 0.0]
    assert np.array_equal(smp.ready[:, 0], base.ready[:, 0]) and smp.ready[0, 0] == -3.0

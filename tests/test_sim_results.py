"""Results: summaries per provider and per day, the time series, walk-ins and holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinicflow import scenario_from_dict
from clinicflow.sim import KPIS, simulate
from clinicflow.sim.stats import COLUMNS
from simcases import MONDAY, fixed_clinic, schedule


@pytest.fixture(scope="module")
def week(family):
    return simulate(family, replications=5, seed=8, days=["mon", "fri"], keep_events=True)


def test_summary_shapes_and_contract_columns(week, family):
    s = week.summary()
    assert list(s.columns) == COLUMNS
    assert list(s.index) == list(KPIS)
    assert (s["n"] == 5).all()
    assert (s["ci_low"] <= s["mean"]).all() and (s["mean"] <= s["ci_high"]).all()
    bp = week.by_provider()
    assert set(bp.index.get_level_values(0)) == {p.id for p in family.providers}
    bd = week.by_day()
    assert [d.isoformat() for d in bd.index.get_level_values(0).unique()] == ["2026-01-05", "2026-01-09"]


def test_groups_add_up_to_the_whole(week):
    pr = week.per_replication.set_index("replication")
    by_p = week.provider_replications.groupby("replication")
    by_d = week.day_replications.groupby("replication")
    for k in (
        "patients_seen",
        "no_shows",
        "total_wait_min",
        "provider_idle_min",
        "provider_overtime_min",
        "cost",
    ):
        np.testing.assert_allclose(by_d[k].sum(), pr[k], rtol=1e-12)
    for k in ("patients_seen", "total_wait_min", "provider_idle_min", "provider_overtime_min"):
        # Pooled walk-ins turned away or unseen have no provider; everything seen has one.
        np.testing.assert_allclose(by_p[k].sum(), pr[k], rtol=1e-12)
    assert (by_d["max_waiting_room"].max() == pr["max_waiting_room"]).all()


def test_timeseries_integrates_to_the_room_minutes(week, family):
    ts = week.timeseries
    assert set(ts["date"]) == {MONDAY, MONDAY + pd.Timedelta(days=4)}
    assert (ts["minute"].diff().dropna().isin([5, -ts["minute"].max() + ts["minute"].min()])).all()
    assert (ts["rooms_busy_high"] <= family.rooms.n).all()
    assert (ts["waiting_low"] <= ts["waiting_mean"] + 1e-9).all()
    assert (ts["waiting_mean"] <= ts["waiting_high"] + 1e-9).all()
    # Room-minutes in the series = room-minutes of the records inside the binned window.
    p = week.patients
    lo, hi = family.clinic.opens, ts["minute"].max() + 5
    busy_in = (p["room_free"].clip(lo, hi) - p["roomed"].clip(lo, hi)).sum() / week.replications
    assert (ts["rooms_busy_mean"] * 5).sum() == pytest.approx(busy_in, rel=1e-9)
    busy = (p["room_free"] - p["roomed"]).sum() / week.replications
    open_min = family.clinic.closes - family.clinic.opens
    util = busy / (family.rooms.n * open_min * 2)
    assert week.summary().loc["room_utilization", "mean"] == pytest.approx(util, rel=1e-9)


def _walk_in_clinic(by_hour: dict[int, float]):
    base = fixed_clinic(duration=10, scheduled=20)
    data = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["arrivals"] = {"walk_ins_by_hour": by_hour, "walk_in_mix": {"visit": 1}}
    return scenario_from_dict(data, "<walk-ins>")


def test_a_walk_in_fills_the_hold_and_the_rest_queue():
    s = _walk_in_clinic({8: 12.0})
    sched = schedule(s, [("09:00", "hold"), ("10:00", "booked")])
    res = simulate(s, sched, replications=5, seed=4, keep_events=True)
    p = res.patients
    walk = p[p["walk_in"]]
    assert len(walk) > 5 * 5
    for _, g in walk.groupby("replication"):
        in_hold = g[g["appointment"] == 540]
        assert len(in_hold) == 1  # the first walk-in gets the hold and comes back for it
        assert in_hold["arrival"].iloc[0] == 540
        rest = g.drop(in_hold.index)
        assert (rest["appointment"] == rest["arrival"]).all()
        assert (rest["arrival"] < 540).all()
    assert (walk["outcome"] == "seen").all()
    assert (res.per_replication["walk_ins"] == walk.groupby("replication").size().to_numpy()).all()


def test_walk_ins_after_the_last_session_are_turned_away():
    s = _walk_in_clinic({14: 6.0})  # the only session ends at 12:00
    res = simulate(s, schedule(s, [("08:00", "booked")]), replications=4, seed=2)
    pr = res.per_replication
    assert (pr["walk_ins"] > 0).all()
    assert (pr["turned_away"] == pr["walk_ins"]).all()
    assert (pr["patients_seen"] == 1).all()


def test_progress_bar_and_json(family):
    res = simulate(family, replications=3, seed=1, days=["thu"], progress=True)
    j = res.to_json_dict()
    assert j["kpis"]["patients_seen"]["mean"] == res.summary().loc["patients_seen", "mean"]
    assert len(j["kpis"]["mean_wait_min"]["ci95"]) == 2
    assert set(j["by_day"]) == {"2026-01-08"}


def test_dates_without_a_schedule_use_the_evenly_spaced_schedule_of_their_week(family):
    res = simulate(family, replications=2, seed=1, days=["2026-03-04"], keep_events=True)
    assert set(res.patients["date"]) == {pd.Timestamp("2026-03-04").date()}
    assert (res.per_replication["patients_seen"] > 50).all()

"""The lean event loop gives SimPy's answers bit for bit, and the grouped KPIs equal the one-group ones.

The clinic model runs on either engine (``clinicflow.sim.engine``). SimPy is the reference; the lean
loop is the default because it is faster. These tests run both on the example practices and on random
clinics built to produce ties (deterministic durations, patients on time, contended desk, rooms and
MAs, breaks, holds, pooled walk-ins) and require identical per-patient records — every timestamp,
room and outcome.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from clinicflow import scenario_from_dict
from clinicflow.policies import evenly_spaced_schedule
from clinicflow.sim import kpis as K
from clinicflow.sim import simulate
from clinicflow.sim.engine import LeanEngine, SimPyEngine, make_engine
from clinicflow.sim.kpi_batch import Batch, _open_minutes, _p90_by
from clinicflow.sim.plan import build_plan, select_days
from clinicflow.sim.replications import replication_records, run_replication

WEEK = dt.date(2026, 11, 30)


def _script(engine) -> list:
    """A small script of ties and nested scheduling; returns the order events fired in."""
    log = []

    def note(tag):
        log.append((engine.now, tag))
        if tag == "a":  # schedules at the same instant: after everything already due now
            engine.schedule(0.0, note, "a0")
            engine.schedule(1.5, note, "a1.5")

    for t, tag in ((5.0, "b"), (2.0, "a"), (5.0, "c"), (3.5, "d"), (10.0, "stop"), (12.0, "late")):
        engine.schedule(t, note, tag)
    engine.run(10.0)
    return log


def test_engines_order_events_alike():
    lean, ref = _script(LeanEngine()), _script(SimPyEngine())
    assert lean == ref
    # time order; FIFO at equal times; nothing at or after ``until``
    assert [tag for _, tag in lean] == ["a", "a0", "d", "a1.5", "b", "c"]


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown simulation engine"):
        make_engine("fast")


def _records(scenario, seed: int, reps: int, engine: str) -> list[np.ndarray]:
    frame = evenly_spaced_schedule(scenario, WEEK)
    plan = build_plan(scenario, frame, select_days(frame, scenario, None))
    return [run_replication(plan, seed, r, keep_records=True, engine=engine).records for r in range(reps)]


def _assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    for x, y in zip(a, b, strict=True):
        assert x.shape == y.shape
        assert np.array_equal(x, y, equal_nan=True)


@pytest.mark.parametrize("name", ["family-practice", "orthopedic-practice"])
def test_example_practices_identical_on_both_engines(name):
    from clinicflow import load_scenario

    s = load_scenario(f"scenarios/{name}.yaml")
    _assert_same(_records(s, 11, 2, "lean"), _records(s, 11, 2, "simpy"))


def random_sim_scenario(seed: int):
    """A clinic made to collide: few rooms, one clerk, one MA, deterministic parts, walk-ins."""
    rng = np.random.default_rng(seed)
    dists = [
        lambda m: m,  # deterministic: exact ties with slot times
        lambda m: {"dist": "exponential", "mean": m},
        lambda m: {"dist": "lognormal", "mean": m, "sd": m * 0.4},
        lambda m: {"dist": "gamma", "mean": m, "sd": m * 0.5},
    ]
    types = []
    for i in range(int(rng.integers(2, 5))):
        sched = int(rng.choice([10, 15, 20, 30]))
        d = dists[int(rng.integers(0, 4))]
        t = {
            "id": f"t{i}",
            "name": f"Type {i}",
            "scheduled_min": sched,
            "duration": d(float(sched) * float(rng.choice([0.8, 1.0, 1.2]))),
            "no_show": float(rng.choice([0.0, 0.1, 0.3])),
            "checkout": bool(rng.random() < 0.6),
        }
        if rng.random() < 0.6:
            t["rooming_min"] = dists[int(rng.integers(0, 4))](float(rng.integers(3, 8)))
        if i == 2 and rng.random() < 0.5:
            t["procedure"] = True
        if i == 3 and rng.random() < 0.5:
            t["mode"] = "telehealth"
        types.append(t)
    ids = [t["id"] for t in types]
    providers = []
    for j in range(int(rng.integers(1, 4))):
        sessions = {}
        for day in ("mon", "tue"):
            start = int(rng.choice([8 * 60, 8 * 60 + 30]))
            first = {"start": start, "end": start + 180, "holds": int(rng.integers(0, 3))}
            if rng.random() < 0.5:
                first["breaks"] = [{"start": start + 90, "end": start + 105}]
            sessions[day] = [first]
            if rng.random() < 0.5:
                sessions[day].append({"start": 13 * 60, "end": 16 * 60})
        providers.append(
            {
                "id": f"p{j}",
                "name": f"Provider {j}",
                "role": "MD",
                "appointment_types": sorted({"t0", *rng.choice(ids, size=2).tolist()}),
                "sessions": sessions,
                "rooms_at_once": int(rng.integers(1, 3)),
            }
        )
    n_rooms = int(rng.integers(2, 4))
    procedure = any(t.get("procedure") for t in types)
    data = {
        "clinic": {
            "name": f"Collide {seed}",
            "timezone": "UTC",
            "days_open": ["mon", "tue"],
            "opens": "07:30",
            "closes": "17:00",
        },
        "appointment_types": types,
        "providers": providers,
        "rooms": {
            "count": n_rooms,
            "procedure_rooms": ["R01"] if procedure else [],
            "turnover_min": float(rng.choice([0, 3, 5])),
        },
        "staff": {
            "front_desk": {
                "count": int(rng.integers(0, 2)),
                "hourly_cost": 18,
                "check_in_min": float(rng.choice([0, 2, 4])),
                "checkout_min": {"dist": "exponential", "mean": 3},
            },
            "medical_assistants": {"count": 1, "hourly_cost": 20},
        },
        "arrivals": {
            "punctuality": 0 if rng.random() < 0.5 else {"dist": "normal", "mean": -5, "sd": 8},
            "walk_ins_per_hour": float(rng.choice([0.5, 2.0])),
            "walk_in_mix": {"t0": 1.0},
            "late_cutoff_min": 15,
        },
    }
    if rng.random() < 0.6:  # staff who come and go mid-morning: pools resized while busy
        data["staff"]["shifts"] = [
            {
                "days": ["mon"],
                "start": "09:00",
                "end": "10:30",
                "medical_assistants": int(rng.integers(0, 3)),
                "front_desk": int(rng.integers(0, 3)),
            }
        ]
    return scenario_from_dict(data, f"collide-{seed}.yaml")


@pytest.mark.parametrize("seed", range(12))
def test_random_clinics_identical_on_both_engines(seed):
    s = random_sim_scenario(seed)
    lean = _records(s, seed, 3, "lean")
    _assert_same(lean, _records(s, seed, 3, "simpy"))
    # the clinics do collide: someone waited for the desk, a room or the provider
    rec = np.concatenate(lean)
    seen = rec[:, K.R.OUTCOME] == K.R.SEEN
    assert seen.sum() > 10
    assert (rec[seen, K.R.PROVIDER_START] > rec[seen, K.R.ARRIVAL] + 1e-9).any()


def test_simulate_same_summary_on_both_engines(family):
    a = simulate(family, replications=4, seed=5, engine="lean")
    b = simulate(family, replications=4, seed=5, engine="simpy")
    assert a.per_replication.equals(b.per_replication)
    assert a.provider_replications.equals(b.provider_replications)


def test_unknown_engine_is_a_clear_input_error(family):
    from clinicflow import InputError

    with pytest.raises(InputError, match="engine"):
        simulate(family, replications=1, engine="turbo")


# -- the batched KPIs are the one-replication definitions, computed together ----------------------


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_batched_kpis_and_series_equal_the_one_replication_forms(seed):
    if seed:
        s = random_sim_scenario(seed)
    else:
        from clinicflow import load_scenario

        s = load_scenario("scenarios/family-practice.yaml")
    frame = evenly_spaced_schedule(s, WEEK)
    plan = build_plan(s, frame, select_days(frame, s, None))
    recs = [replication_records(plan, seed, r, "lean") for r in range(4)]
    batch = Batch(recs, plan)
    overall, per_prov, per_day, series = (
        batch.kpis(),
        batch.kpis("provider"),
        batch.kpis("day"),
        batch.timeseries(),
    )

    def same(a: dict, b: dict) -> None:
        assert list(a) == list(b)
        for k in a:
            assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-9, nan_ok=True), k

    for i, rec in enumerate(recs):
        same(overall[i][0], K.compute(rec, plan))
        for pi in range(len(plan.providers)):
            same(per_prov[i][pi], K.compute(rec, plan, provider=pi))
        for di in range(len(plan.days)):
            same(per_day[i][di], K.compute(rec, plan, day=di))
        np.testing.assert_allclose(series[i], K.timeseries(rec, plan), rtol=1e-9, atol=1e-9)
    assert sum(o[0]["patients_seen"] for o in overall) > 40


def test_grouped_p90_is_numpys_quantile():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 6, 400)
    values = rng.exponential(10, 400).round(1)  # ties on purpose
    got = _p90_by(labels, values, 7)
    for g in range(6):
        assert got[g] == np.quantile(values[labels == g], 0.9)
    assert np.isnan(got[6])


def test_open_minutes_against_brute_force():
    rng = np.random.default_rng(4)
    gv = rng.integers(0, 5, 300)
    va = rng.uniform(0, 900, 300)
    vb = va + rng.exponential(20, 300)
    gq = rng.integers(0, 6, 50)
    qa = rng.uniform(0, 900, 50)
    qb = qa + rng.uniform(0, 200, 50)
    got = _open_minutes(gv, va, vb, gq, qa, qb, 2)  # labels as 3 replications of 2 groups
    want = [
        np.clip(np.minimum(vb, b) - np.maximum(va, a), 0, None)[gv == g].sum()
        for g, a, b in zip(gq, qa, qb, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-8)

"""The back-test: recorded days replayed through the simulator.

The exact answers: a day drawn from the model falls inside the band of order statistics ``j..k`` of
``m`` replications with probability ``(k - j) / (m + 1)``; on days the model itself produced, the
recorded-minus-simulated bias is zero in expectation. And it must have power: visits a quarter longer
than the scenario says are caught.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from clinicflow.backtest import KPIS, band_ranks, compare_days, day_kpis, run_backtest
from clinicflow.domain.distributions import Lognormal
from clinicflow.policies import evenly_spaced_schedule
from clinicflow.synthetic_flow import simulate_clinic_times
from conftest import one_line, run_main

MONDAY = dt.date(2026, 9, 7)


def test_band_ranks_hold_a_new_draw_with_the_stated_probability():
    assert band_ranks(100) == (5, 96, 91 / 101)
    assert band_ranks(19) == (1, 19, 18 / 20)
    # Monte Carlo: 40,000 sets of 99 draws and one new draw from the same law.
    rng = np.random.default_rng(7)
    x = np.sort(rng.standard_normal((40_000, 99)), axis=1)
    new = rng.standard_normal(40_000)
    j, k, p = band_ranks(99)
    inside = (x[:, j - 1] <= new) & (new <= x[:, k - 1])
    se = math.sqrt(p * (1 - p) / len(new))
    assert abs(inside.mean() - p) < 4.5 * se


def test_day_kpis_of_one_session_by_hand():
    """08:00-09:00 session; three in-person visits at 08:00, 08:20, 08:40."""
    nan = math.nan
    times = {
        "checkin": np.array([[475.0, 490.0, 530.0]]),  # early, 10 early, 10 late
        "provider_start": np.array([[485.0, 505.0, 545.0]]),  # taken 15 min early, 15 late, 5 after arrival
        "provider_end": np.array([[500.0, 530.0, 580.0]]),
        "checkout": np.array([[505.0, nan, 590.0]]),
    }
    appointment = np.array([480.0, 500.0, 520.0])
    k = day_kpis(
        times,
        appointment,
        in_person=np.array([True, True, True]),
        day=np.array([0, 0, 0]),
        session=np.array([0, 0, 0]),
        session_day=np.array([0]),
        session_end=np.array([540.0]),
        n_days=1,
    )
    # waits: 485 - max(475, 480) = 5; 505 - max(490, 500) = 5; 545 - max(530, 520) = 15
    assert k["mean_wait_min"][0, 0] == pytest.approx(25 / 3)
    assert k["mean_time_in_clinic_min"][0, 0] == pytest.approx((30 + 60) / 2)
    assert k["mean_visit_min"][0, 0] == pytest.approx((15 + 25 + 35) / 3)
    assert k["session_end_offset_min"][0, 0] == pytest.approx(40.0)
    assert k["provider_overtime_min"][0, 0] == pytest.approx(40.0)
    assert k["late_sessions"][0, 0] == 1.0


def recorded_history(scenario, weeks: int, seed: int, truth=None) -> pd.DataFrame:
    """A history the model itself (or ``truth``, another scenario) produced: the evenly spaced
    weeks from MONDAY, attendance drawn at the types' rates, clinic times from one replay (as the
    synthetic history's, ``synthetic_flow``)."""
    truth = truth or scenario
    sched = pd.concat(
        [evenly_spaced_schedule(scenario, MONDAY + dt.timedelta(weeks=w)) for w in range(weeks)],
        ignore_index=True,
    )
    rng = np.random.default_rng(seed)
    p = np.array([scenario.type_by_id[t].no_show for t in sched["appointment_type"]])
    status = np.where(rng.random(len(sched)) < p, "no_show", "attended")
    midnight = pd.to_datetime(sched["date"].astype(str))
    hist = pd.DataFrame(
        {
            "start_at": midnight + pd.to_timedelta(sched["start_min"], unit="min"),
            "end_at": midnight + pd.to_timedelta(sched["end_min"], unit="min"),
            "provider": sched["provider"],
            "appointment_type": sched["appointment_type"],
            "status": status,
        }
    )
    recorded, summary = simulate_clinic_times(hist, truth, seed)
    assert summary.unseen == 0
    return recorded


@pytest.fixture(scope="module")
def own_days(family):
    hist = recorded_history(family, weeks=6, seed=11)
    days = sorted(set(pd.to_datetime(hist["start_at"]).dt.date))
    return run_backtest(hist, family, days, replications=60, seed=3, workers=2)


def test_days_the_model_made_are_consistent_with_it(own_days):
    s = own_days.summary.set_index("kpi")
    assert own_days.n_days == 30
    for kpi in KPIS:
        row = s.loc[kpi]
        assert row["days"] == 30, kpi
        # The bias is zero in expectation: within 4.5 standard errors of it.
        se = (row["difference_high"] - row["difference_low"]) / (2 * 2.045)
        assert abs(row["difference"]) < 4.5 * se, kpi
    for kpi in ("mean_wait_min", "mean_time_in_clinic_min", "mean_visit_min", "session_end_offset_min"):
        row = s.loc[kpi]
        p = row["expected_share"]
        assert p == pytest.approx(band_ranks(60)[2])
        # Days inside their band: binomial(30, p) (continuous figures), within 4.5 standard errors.
        assert abs(row["in_band"] - 30 * p) < 4.5 * math.sqrt(30 * p * (1 - p)), kpi
    # Discrete figures (overtime is 0 on many days) fall inside at least as often.
    for kpi in ("provider_overtime_min", "late_sessions"):
        assert s.loc[kpi, "in_band"] >= 30 * s.loc[kpi, "expected_share"] - 4.5 * math.sqrt(30 * 0.1), kpi
    # PITs of a calibrated model are uniform: the mean PIT of the waits is 1/2 within 4.5 SE.
    pit = own_days.days.query("kpi == 'mean_wait_min'")["pit"]
    assert abs(pit.mean() - 0.5) < 4.5 * math.sqrt(1 / 12 / len(pit))


def test_visits_a_quarter_longer_than_the_scenario_says_are_caught(family):
    longer = family.model_copy(
        update={
            "appointment_types": [
                t.model_copy(
                    update={"duration": Lognormal(mean=t.duration.mean * 1.25, sd=t.duration.sd * 1.25)}
                )
                for t in family.appointment_types
            ],
            "providers": [p.model_copy(update={"visit_durations": {}}) for p in family.providers],
        }
    )
    hist = recorded_history(family, weeks=2, seed=12, truth=longer)
    days = sorted(set(pd.to_datetime(hist["start_at"]).dt.date))
    bt = run_backtest(hist, family, days, replications=40, seed=3, workers=2)
    s = bt.summary.set_index("kpi")
    assert s.loc["mean_visit_min", "verdict"] == "simulated too low"
    # Recorded visits are ~25% longer than simulated.
    ratio = s.loc["mean_visit_min", "recorded"] / s.loc["mean_visit_min", "simulated"]
    assert 1.18 < ratio < 1.32
    assert s.loc["session_end_offset_min", "verdict"] == "simulated too low"
    assert s.loc["mean_wait_min", "verdict"] == "simulated too low"


def test_a_right_model_is_called_wrong_in_about_five_percent_of_back_tests():
    """``compare_days`` on days drawn from the very law of their replications: the share of back-tests
    with any verdict other than "consistent" is FAMILY_LEVEL's 5% within 4.5 standard errors (6% here:
    Wilson and t intervals are approximate at the Bonferroni level); at 95% a check it was 48%."""
    rng = np.random.default_rng(5)
    trials, n_days, reps = 400, 30, 60
    alarms = 0
    for _ in range(trials):
        observed = {k: rng.gamma(4.0, 2.0, (1, n_days)) for k in KPIS}
        simulated = {k: rng.gamma(4.0, 2.0, (reps, n_days)) for k in KPIS}
        summary, _ = compare_days(observed, simulated, list(range(n_days)))
        alarms += bool((summary["verdict"] != "consistent").any())
    p = 0.05
    assert alarms / trials < p + 4.5 * math.sqrt(p * (1 - p) / trials)
    assert alarms > 0  # not vacuous: the checks can fire


@pytest.fixture(scope="module")
def model_store(family, tmp_path_factory):
    """A history store of two weeks the model made, imported the way a practice imports its export."""
    tmp = tmp_path_factory.mktemp("backtest")
    hist = recorded_history(family, weeks=2, seed=21)
    fmt = "%Y-%m-%dT%H:%M:%S"
    csv = tmp / "history.csv"
    frame = pd.DataFrame(
        {
            "appointment_id": [f"A{i:05d}" for i in range(len(hist))],
            "patient_id": [f"MRN{i % 300:04d}" for i in range(len(hist))],
            **{c: hist[c] for c in ("provider", "appointment_type", "status")},
            **{
                c: pd.to_datetime(hist[c]).dt.strftime(fmt)
                for c in (
                    "start_at",
                    "end_at",
                    "checkin_at",
                    "provider_start_at",
                    "provider_end_at",
                    "checkout_at",
                )
            },
        }
    )
    frame.to_csv(csv, index=False)
    db, key = tmp / "h.duckdb", tmp / "key"
    r = run_main("history", "import", csv, "--db", db, "--key-file", key)
    assert r.code == 0, r.stderr
    return tmp, db


def test_cli_back_test_of_the_models_own_days(model_store):
    tmp, db = model_store
    out = tmp / "days.csv"
    quick = (
        "history",
        "backtest",
        "scenarios/family-practice.yaml",
        "--db",
        db,
        "-n",
        "40",
        "--seed",
        "2",
        "--workers",
        "1",
    )
    r = run_main(
        *quick,
        "--out",
        out,
    )
    assert r.code == 0, r.stderr
    assert "Replayed 10 recorded days, 2026-09-07 to 2026-09-18:" in r.stdout
    for label in KPIS.values():
        line = next(ln for ln in r.stdout.splitlines() if label in ln)
        assert "consistent" in line, line
    assert "dr_okafor" in r.stdout  # the by-provider table
    days = pd.read_csv(out)
    assert len(days) == 10 * len(KPIS)
    assert set(days.columns) == {
        "date",
        "kpi",
        "recorded",
        "simulated",
        "band_low",
        "band_high",
        "pit",
        "in_band",
    }
    assert (days["band_low"] <= days["band_high"]).all()
    # JSON: the same figures; --weeks 1 keeps the last recorded week only.
    j = run_main(
        *quick,
        "--weeks",
        "1",
        "--json",
    )
    assert j.code == 0, j.stderr
    doc = json.loads(j.stdout)
    assert (doc["first"], doc["last"], doc["days"]) == ("2026-09-14", "2026-09-18", 5)
    assert set(doc["kpis"]) == set(KPIS)
    assert {row["provider"] for row in doc["by_provider"]} >= {"dr_okafor", "pa_brooks"}


def test_cli_back_test_bad_input(model_store, tmp_path):
    from history_helpers import kaggle_file

    _, db = model_store
    fam = "scenarios/family-practice.yaml"
    line = one_line(run_main("history", "backtest", fam, "--db", db, "--from", "2027-01-04"))
    assert "h.duckdb" in line and "no recorded clinic day" in line
    line = one_line(
        run_main("history", "backtest", fam, "--db", db, "--from", "2026-09-14", "--to", "2026-09-07")
    )
    assert "--to" in line and "on or after --from 2026-09-14" in line
    line = one_line(run_main("history", "backtest", fam, "--db", db, "--from", "14/09/2026"))
    assert "--from" in line and "expected a date like" in line
    assert one_line(run_main("history", "backtest", fam, "--db", db, "-n", "5"))
    # another practice's scenario: nothing of this history can be replayed on it, and it says why
    line = one_line(run_main("history", "backtest", "scenarios/orthopedic-practice.yaml", "--db", db))
    assert "h.duckdb" in line and "none of the chosen days' visits can be replayed" in line
    assert "provider not in the scenario" in line
    line = one_line(run_main("history", "backtest", fam, "--db", db, "--arrivals", "sampled"))
    assert "--arrivals" in line and "expected one of drawn, recorded" in line
    # A history without clinic times (the public no-show layout): says what is missing.
    csv, _ = kaggle_file(tmp_path / "k.csv", rows=400)
    kdb = tmp_path / "k.duckdb"
    assert (
        run_main(
            "history", "import", csv, "--db", kdb, "--key-file", tmp_path / "key", "--skip-bad-rows"
        ).code
        == 0
    )
    line = one_line(run_main("history", "backtest", fam, "--db", kdb))
    assert "k.duckdb" in line and "checkin_at" in line and "recorded check-in and provider times" in line
    out = tmp_path / "days.csv"
    one_line(run_main("history", "backtest", fam, "--db", kdb, "--out", out))
    assert not out.exists()


def test_counts_with_ties_are_not_called_less_varied_than_simulated():
    """A count (late sessions: mostly 0, 1 or 2) sits on its band's edges often: counted with the
    edges, a right model's days fall inside far more than the expected share (97% for these 200
    days), so "less spread" is judged on days strictly inside; 100 back-tests of Poisson counts drawn
    from one law give an alarm in about 5% at most (within 4.5 standard errors)."""
    rng = np.random.default_rng(9)
    trials, n_days, reps = 100, 200, 60
    alarms = edges = 0
    for _ in range(trials):
        observed = {k: rng.poisson(1.2, (1, n_days)).astype(float) for k in KPIS}
        simulated = {k: rng.poisson(1.2, (reps, n_days)).astype(float) for k in KPIS}
        summary, _ = compare_days(observed, simulated, list(range(n_days)))
        alarms += bool((summary["verdict"] != "consistent").any())
        edges += int((summary["in_band_share"] > 0.95).sum())
    assert edges > trials * len(KPIS) / 2  # the edges do hold most days
    p = 0.05
    assert alarms / trials < p + 4.5 * math.sqrt(p * (1 - p) / trials)


def test_a_store_window_fits_on_earlier_weeks_and_back_tests_later_ones(model_store, tmp_path):
    """``--since``/``--until`` narrow every fit to those dates (``open_store``): calibrate on the first
    week, back-test the second — out of sample."""
    _, db = model_store
    fam = "scenarios/family-practice.yaml"
    full = json.loads(run_main("history", "report", "--db", db, "--no-model", "--json").stdout)
    first = json.loads(
        run_main("history", "report", "--db", db, "--no-model", "--json", "--until", "2026-09-11").stdout
    )
    second = json.loads(
        run_main("history", "report", "--db", db, "--no-model", "--json", "--since", "2026-09-12").stdout
    )
    n = [r["overall"]["appointments"] for r in (full, first, second)]
    assert n[1] > 0 and n[2] > 0 and n[1] + n[2] == n[0]
    assert (first["volume"]["first_date"], first["volume"]["last_date"]) == ("2026-09-07", "2026-09-11")
    early = tmp_path / "early.yaml"
    r = run_main("calibrate", fam, "--db", db, "--out", early, "--min-n", "5", "--until", "2026-09-11")
    assert r.code == 0, r.stderr
    cal = json.loads(
        run_main(
            "calibrate", fam, "--db", db, "--out", tmp_path / "x.yaml", "--json", "--until", "2026-09-11"
        ).stdout
    )
    n_punct = next(c["n"] for c in cal["changes"] if c["field"] == "arrivals.punctuality")
    assert n_punct == first["overall"]["attended"]
    bt = run_main(
        "history", "backtest", early, "--db", db, "--from", "2026-09-14", "-n", "40", "--workers", "1"
    )
    assert bt.code == 0, bt.stderr
    assert "Replayed 5 recorded days, 2026-09-14 to 2026-09-18:" in bt.stdout
    # bad windows: one line, exit 2
    line = one_line(run_main("history", "fit", "--db", db, "--since", "2026-09-12", "--until", "2026-09-11"))
    assert "--until" in line and "on or after --since 2026-09-12" in line
    line = one_line(
        run_main("calibrate", fam, "--db", db, "--out", tmp_path / "y.yaml", "--since", "2027-01-04")
    )
    assert "h.duckdb" in line and "no appointments from 2027-01-04" in line
    assert not (tmp_path / "y.yaml").exists()
    line = one_line(
        run_main(
            "history",
            "draft",
            "--db",
            db,
            "--out",
            tmp_path / "d.yaml",
            "--timezone",
            "America/Chicago",
            "--until",
            "11/09/2026",
        )
    )
    assert "--until" in line and "expected a date like" in line


def test_a_recorded_arrival_replaces_the_punctuality_draw_and_nothing_else(family):
    """``ARRIVAL_COLUMN`` in a schedule frame: those patients arrive when recorded (never before the
    doors), the others as drawn, and every other draw is the same (common random numbers)."""
    from clinicflow.domain.schedule import ARRIVAL_COLUMN
    from clinicflow.sim import simulate

    sched = evenly_spaced_schedule(family, MONDAY)
    sched = sched[sched["date"] == MONDAY].reset_index(drop=True)
    sched = sched[sched["kind"] != "hold"].reset_index(drop=True)
    sched["no_show_prob"] = 0.0
    arrival = np.full(len(sched), np.nan)
    arrival[::3] = sched["start_min"].to_numpy(dtype=float)[::3] + 7.0
    arrival[0] = family.clinic.opens - 30.0  # before the doors open: waits outside
    replay = family.model_copy(
        update={"arrivals": family.arrivals.model_copy(update={"walk_ins_per_hour": 0.0})}
    )
    drawn = simulate(replay, sched, days=[MONDAY], replications=2, seed=4, keep_patients=True).patients
    fixed = simulate(
        replay,
        sched.assign(**{ARRIVAL_COLUMN: arrival}),
        days=[MONDAY],
        replications=2,
        seed=4,
        keep_patients=True,
    ).patients
    drawn, fixed = (x[~x["walk_in"]].sort_values(["replication", "patient"]) for x in (drawn, fixed))
    a = fixed["arrival"].to_numpy().reshape(2, -1)
    want = np.maximum(arrival, family.clinic.opens)
    given = ~np.isnan(arrival)
    came = ~np.isnan(a[:, given])
    assert came.mean() > 0.9
    assert np.array_equal(a[:, given][came], np.broadcast_to(want[given], (2, given.sum()))[came])
    # (late cancellations never arrive: NaN on both sides)
    assert np.array_equal(a[:, ~given], drawn["arrival"].to_numpy().reshape(2, -1)[:, ~given], equal_nan=True)
    # the visits' lengths are the same draws (patients seen in both runs: a late draw the fixed
    # arrival replaced may have been turned away)
    v = (fixed["provider_end"] - fixed["provider_start"]).to_numpy()
    w = (drawn["provider_end"] - drawn["provider_start"]).to_numpy()
    both = ~np.isnan(v) & ~np.isnan(w)
    assert both.mean() > 0.9 and np.allclose(v[both], w[both])


def test_recorded_arrivals_test_the_rest_of_the_model_more_sharply(family):
    """On days the model made, replaying the recorded check-ins is consistent too, and the waits'
    bias interval is narrower than with drawn arrivals (punctuality's noise is gone)."""
    hist = recorded_history(family, weeks=4, seed=31)
    days = sorted(set(pd.to_datetime(hist["start_at"]).dt.date))
    runs = {
        how: run_backtest(hist, family, days, replications=40, seed=3, workers=2, arrivals=how)
        for how in ("drawn", "recorded")
    }
    for bt in runs.values():
        assert set(bt.summary["verdict"]) == {"consistent"}, bt.summary
    width = {
        how: bt.summary.set_index("kpi")
        .loc["mean_wait_min", ["difference_low", "difference_high"]]
        .diff()
        .iloc[-1]
        for how, bt in runs.items()
    }
    assert width["recorded"] < 0.8 * width["drawn"]
    assert runs["recorded"].to_json_dict()["arrivals"] == "recorded"
    with pytest.raises(Exception, match="arrivals"):
        run_backtest(hist, family, days, replications=40, arrivals="sampled")


def test_sessions_are_the_simulators_even_on_a_day_off(family):
    """A visit's session is the simulator's: the one its start falls in, else the latest begun, else
    the first; a provider with no session that day (Dr. Chen on a Friday) has one spanning the day's
    visits, so their last visit's end is measured against the last visit's booked end."""
    from clinicflow.backtest import _session_index
    from clinicflow.sim.plan import build_plan

    fri = MONDAY + dt.timedelta(days=4)
    rows = pd.DataFrame(
        {
            "date": [MONDAY] * 4 + [fri] * 2,
            "weekday": ["mon"] * 4 + ["fri"] * 2,
            "provider": ["dr_okafor"] * 4 + ["dr_chen"] * 2,
            "start_min": [470, 540, 765, 800, 600, 660],  # before the day, morning, lunch, afternoon
            "end_min": [490, 560, 785, 820, 620, 690],
        }
    )
    session, session_day, session_end = _session_index(rows, family)
    assert list(session) == [0, 0, 0, 1, 2, 2]  # the lunch-time visit belongs to the morning
    assert list(session_day) == [0, 0, 1]
    assert list(session_end) == [720.0, 1020.0, 690.0]
    # the same grouping as the simulator's plan
    sched = rows.assign(
        appointment_type="follow_up", kind="booked", patient_ref=None, room=None, no_show_prob=0.0
    )
    plan = build_plan(family, sched, [MONDAY, fri])
    sim_ends = [plan.sessions[sid].end for sid in plan.p_session]
    assert sim_ends == [session_end[k] for k in session]

"""Per provider-session results of the simulator: which sessions run late, how often, and when their
last visit ends — by hand on a deterministic session, against the exact probability on a session
with no-shows, as a partition of the week's own KPIs, and through ``simulate --sessions`` and the
plan's sessions.csv."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from clinicflow import scenario_from_dict
from clinicflow.scenario_file import load_scenario
from clinicflow.sim import simulate
from clinicflow.sim.kpi_batch import SESSION_KPIS
from clinicflow.stats import wilson
from clinicflow.week_plan import SIM_SESSION_COLUMNS, plan_and_book, sessions_frame
from conftest import ROOT, one_line, run_main
from simcases import fixed_clinic, schedule
from tests_helpers import tiny_data

FAMILY = ROOT / "scenarios" / "family-practice.yaml"


def test_an_overrunning_session_by_hand():
    # 30-minute visits in 20-minute slots at 11:20 and 11:40 (as test_sim_validity): the second
    # patient waits 10 minutes, the last visit ends at 12:20, 20 minutes past the 12:00 end — late.
    s = fixed_clinic(duration=30, scheduled=20)
    res = simulate(s, schedule(s, [("11:20", "booked"), ("11:40", "booked")]), replications=1)
    [row] = res.by_session().to_dict(orient="records")
    assert (row["date"], row["provider"], row["start"], row["end"]) == (dt.date(2026, 1, 5), "doc", 480, 720)
    assert row["patients_seen"] == 2 and row["mean_wait_min"] == 5
    assert row["provider_overtime_min"] == 20 and row["provider_idle_min"] == 200
    assert row["cost"] == 1 * 10 + 2 * 200 + 3 * 20
    assert row["finish_median_min"] == row["finish_p90_min"] == 740
    assert (row["late_share"], row["late_ci_low"], row["late_ci_high"]) == wilson(1, 1)
    # one visit at 11:40 ends at 12:10: over, but not by more than 15 minutes
    res = simulate(s, schedule(s, [("11:40", "booked")]), replications=1)
    [table] = res.session_table().to_dict(orient="records")
    assert table["finish_median"] == "12:10" and table["provider_overtime_min"] == 10
    assert table["late_share"] == 0


def test_the_late_share_matches_the_exact_probability_with_no_shows():
    # Each patient comes with probability q = 0.7. The session ends past 12:15 only when both come
    # (12:20): P = q² = 0.49. The last visit ends at 12:20 (q²), 12:10 (only the second: pq) or
    # 11:50 (only the first: qp); nobody comes with p² = 0.09, and such a replication has no finish.
    p, n = 0.3, 2000
    s = fixed_clinic(duration=30, scheduled=20, no_show=p)
    res = simulate(s, schedule(s, [("11:20", "booked"), ("11:40", "booked")]), replications=n, seed=4)
    [row] = res.by_session().to_dict(orient="records")
    q = 1 - p
    se = math.sqrt(q * q * (1 - q * q) / n)
    assert abs(row["late_share"] - q * q) < 4.5 * se
    assert row["late_ci_low"] < q * q < row["late_ci_high"]
    finish = res.session_replications[:, 0, SESSION_KPIS.index("finish_min")]
    assert abs(np.isnan(finish).mean() - p * p) < 4.5 * math.sqrt(p * p * (1 - p * p) / n)
    assert set(np.unique(finish[~np.isnan(finish)])) == {710.0, 730.0, 740.0}
    assert row["finish_median_min"] == 740  # q² / (1 − p²) = 0.54 of the finishes are 12:20
    assert abs(row["patients_seen"] - 2 * q) < 4.5 * math.sqrt(2 * p * q / n)


def test_sessions_partition_the_weeks_kpis_and_do_not_depend_on_workers():
    s = load_scenario(FAMILY)
    res = simulate(s, days=["mon", "tue"], replications=6, seed=2, workers=1)
    assert len(res.sessions) == 23  # 12 provider-sessions on Monday, 11 on Tuesday
    table = res.session_replications
    assert table.shape == (6, 23, len(SESSION_KPIS))
    col = {k: table[:, :, i] for i, k in enumerate(SESSION_KPIS)}
    per = res.per_replication
    for k in ("patients_seen", "provider_idle_min", "provider_overtime_min", "cost"):
        np.testing.assert_allclose(col[k].sum(axis=1), per[k].to_numpy(), rtol=1e-9, atol=1e-9)
    total_wait = np.nansum(col["mean_wait_min"] * col["patients_seen"], axis=1)
    np.testing.assert_allclose(total_wait, per["total_wait_min"].to_numpy(), rtol=1e-9)
    # a session's overtime is its last visit's end past the session end
    ends = res.sessions["end"].to_numpy()
    over = np.clip(np.nan_to_num(col["finish_min"], nan=-np.inf) - ends, 0, None)
    np.testing.assert_allclose(over, col["provider_overtime_min"], atol=1e-9)
    two = simulate(s, days=["mon", "tue"], replications=6, seed=2, workers=2)
    np.testing.assert_array_equal(two.session_replications, table)


def test_simulate_writes_the_sessions_and_names_the_latest_on_the_terminal(tmp_path):
    out = tmp_path / "sessions.csv"
    r = run_main("simulate", FAMILY, "--days", "mon", "-n", "20", "--seed", "1", "--sessions", out)
    assert r.code == 0, r.stderr
    table = pd.read_csv(out, dtype={"date": str})
    assert list(table.columns) == [
        "date", "provider", "start", "end", "patients_seen", "mean_wait_min", "provider_idle_min",
        "provider_overtime_min", "cost", "finish_median", "finish_p90", "late_share", "late_ci_low",
        "late_ci_high",
    ]  # fmt: skip
    assert len(table) == 12 and (table["date"] == "2026-01-05").all()
    text = " ".join(r.stdout.split())  # the console wraps long lines
    head = f"sessions most often ending >15 min late (share of replications, 95% CI; all 12 in {out}):"
    worst = table.sort_values(["late_share", "provider_overtime_min"], ascending=False, kind="stable").head(3)
    shown = [
        f"{w.provider} Mon 2026-01-05 {w.start}-{w.end}: {w.late_share:.0%} ({w.late_ci_low:.0%}-"
        f"{w.late_ci_high:.0%}); last visit ends at {w.finish_median} (median), by {w.finish_p90} in 9 of 10"
        for w in worst.itertuples()
    ]
    assert " ".join([head, *shown]) in text
    js = run_main("simulate", FAMILY, "--days", "mon", "-n", "20", "--seed", "1", "--json")
    by_session = json.loads(js.stdout)["by_session"]
    assert pd.DataFrame(by_session)[list(table.columns)].equals(pd.read_csv(out, dtype={"date": str}))


def test_a_sessions_file_that_cannot_be_written_stops_before_the_simulation(tmp_path):
    events = tmp_path / "events.csv"
    folder = tmp_path / "a-folder"
    folder.mkdir()
    r = run_main("simulate", FAMILY, "-n", "2", "--events", events, "--sessions", folder)
    assert r.code == 2 and one_line(r) == f"error: {folder}: expected a file name, but it is a folder"
    assert not events.exists()


def test_the_plans_sessions_csv_carries_the_simulated_sessions():
    s = scenario_from_dict(tiny_data(), "tiny.yaml")
    outcome = plan_and_book(
        s, dt.date(2026, 11, 30), time_limit=5, samples=10, replications=40, evaluator="sim"
    )
    frame = sessions_frame(outcome)
    assert len(frame) == len(outcome.result.sessions) == 2
    assert [c for c in frame.columns if c.startswith("sim_")] == [f"sim_{c}" for c in SIM_SESSION_COLUMNS]
    # the same figures as simulating the plan's schedule on the evaluation seed
    res = simulate(s, outcome.result.schedule, replications=40, seed=outcome.kpis.seed)
    expected = res.session_table()
    for c in SIM_SESSION_COLUMNS:
        assert frame[f"sim_{c}"].tolist() == expected[c].tolist()
    assert ((frame["sim_late_share"] >= 0) & (frame["sim_late_share"] <= 1)).all()
    # the SAA evaluator simulates no clinic: the solver's columns alone
    saa = plan_and_book(s, dt.date(2026, 11, 30), time_limit=5, samples=10, replications=5, evaluator="saa")
    assert not any(c.startswith("sim_") for c in sessions_frame(saa).columns)


@pytest.mark.parametrize("late_after", [0.0, 30.0])
def test_late_after_moves_the_threshold(late_after):
    s = fixed_clinic(duration=30, scheduled=20)
    res = simulate(s, schedule(s, [("11:40", "booked")]), replications=1)  # ends 12:10
    assert res.by_session(late_after)["late_share"].tolist() == [1.0 if late_after < 10 else 0.0]

"""``clinicflow simulate`` as a user runs it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import FAMILY, run_cli


def test_table_output(family):
    from clinicflow.sim import simulate

    r = run_cli("simulate", FAMILY, "--replications", "4", "--days", "mon", "--seed", "2")
    assert r.code == 0, r.stderr
    assert "Maple Street Family Medicine: 1 day(s) 2026-01-05, 4 replications, seed 2" in r.stdout
    assert "mean wait (min)" in r.stdout and "95% CI" in r.stdout
    # the rows carry the API's numbers: mean, then the 95% CI low – high, for the KPI named
    res = simulate(family, replications=4, seed=2, days=["mon"])
    api = res.summary()
    rows = {ln[:28].strip(): ln[28:].split() for ln in r.stdout.splitlines()}
    shown = {
        "mean wait (min)": ("mean_wait_min", "{:.1f}"),
        "90th pct wait (min)": ("p90_wait_min", "{:.1f}"),
        "provider idle (min)": ("provider_idle_min", "{:,.0f}"),
        "provider utilization": ("provider_utilization", "{:.1%}"),
        "patients seen": ("patients_seen", "{:,.1f}"),
        "no-shows": ("no_shows", "{:,.1f}"),
        "cost (wait+idle+overtime)": ("cost", "{:,.0f}"),
    }
    for label, (kpi, fmt) in shown.items():
        k = api.loc[kpi]
        assert rows[label] == [
            fmt.format(k["mean"]),
            fmt.format(k["ci_low"]),
            "–",
            fmt.format(k["ci_high"]),
        ], label
    # per provider: seen and mean wait of each, and the providers' patients add up to the clinic's
    bp = res.by_provider()
    table = r.stdout.split("per provider")[1].split("sessions most often")[
        0
    ]  # the table, not the sessions under it
    by_id = {ln.split()[0]: ln.split()[1:] for ln in table.splitlines() if ln.strip()}
    seen = 0.0
    for p in family.providers:
        g = bp.loc[p.id]["mean"]
        assert by_id[p.id][:2] == [f"{g['patients_seen']:.1f}", f"{g['mean_wait_min']:.1f}"], p.id
        seen += g["patients_seen"]
    assert seen == pytest.approx(api.loc["patients_seen", "mean"])


def test_json_matches_the_python_api(family):
    from clinicflow.sim import simulate

    r = run_cli("simulate", FAMILY, "-n", "3", "--days", "tue", "--seed", "4", "--json")
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    api = simulate(family, replications=3, seed=4, days=["tue"]).summary()
    k = data["kpis"]["mean_wait_min"]
    assert k["mean"] == api.loc["mean_wait_min", "mean"]
    assert k["ci95"] == [api.loc["mean_wait_min", "ci_low"], api.loc["mean_wait_min", "ci_high"]]
    assert set(data["by_provider"]) == {p.id for p in family.providers if "tue" in p.sessions}
    assert list(data["by_day"]) == ["2026-01-06"]


def test_schedule_file_and_event_log(tmp_path, family):
    from clinicflow.domain.schedule import write_schedule_csv
    from clinicflow.policies import evenly_spaced_schedule

    sched = evenly_spaced_schedule(family, pd.Timestamp("2026-03-02").date())
    path = tmp_path / "week.csv"
    write_schedule_csv(sched, path)
    events = tmp_path / "events.csv"
    r = run_cli("simulate", FAMILY, "--schedule", path, "--days", "2026-03-04", "-n", "2", "--events", events)
    assert r.code == 0, r.stderr
    ev = pd.read_csv(events)
    assert set(ev["date"]) == {"2026-03-04"}
    assert {"run", "entity_id", "patient", "event_type", "event", "time", "resource_id"} <= set(ev.columns)
    used = ev[ev["event_type"] == "resource_use"]
    assert used["resource_id"].between(1, family.rooms.n).all()
    assert (used["room"] == used["resource_id"].map(lambda i: family.rooms.room_ids[int(i) - 1])).all()
    assert set(ev["event_type"]) == {"arrival_departure", "queue", "resource_use", "resource_use_end"}
    assert ev["timestamp"].str.endswith("-06:00").all()


def test_unknown_provider_in_schedule_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,provider,start,appointment_type\n2026-01-05,dr_okafor,08:00,follow_up\n2026-01-05,dr_who,08:20,follow_up\n"
    )
    events = tmp_path / "events.csv"
    r = run_cli("simulate", FAMILY, "--schedule", bad, "-n", "2", "--events", events)
    assert r.code == 2
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"error: {bad}: row 3, column provider: unknown provider 'dr_who' (expected one of: dr_okafor, "
        "dr_lindqvist, dr_ramirez, dr_chen, np_haddad, pa_brooks)"
    ]
    assert not events.exists()  # nothing half-written


def test_bad_days_and_missing_events_folder(tmp_path):
    events = tmp_path / "e.csv"
    r = run_cli("simulate", FAMILY, "--days", "someday", "-n", "2", "--events", events)
    assert r.code == 2 and "Traceback" not in r.stderr and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "error: --days: expected weekdays (mon, tue, …) or dates like 2026-01-05, got 'someday'"
    ]
    assert not events.exists()
    r = run_cli("simulate", FAMILY, "-n", "2", "--events", tmp_path / "nope" / "e.csv")
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nope' / 'e.csv'}: the folder does not exist"
    ]
    assert not (tmp_path / "nope").exists()


def test_unreachable_cluster_is_one_line(tmp_path):
    r = run_cli("simulate", FAMILY, "-n", "2", "--days", "mon", "--cluster", "tcp://127.0.0.1:9")
    assert r.code == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:9" in r.stderr


def test_simpy_engine_gives_the_same_report_and_unknown_engine_is_one_line():
    lean = run_cli("simulate", FAMILY, "-n", "3", "--days", "wed", "--seed", "9", "--json")
    ref = run_cli(
        "simulate", FAMILY, "-n", "3", "--days", "wed", "--seed", "9", "--json", "--engine", "simpy"
    )
    assert lean.code == 0 and ref.code == 0, lean.stderr + ref.stderr
    assert json.loads(lean.stdout) == json.loads(ref.stdout)
    assert json.loads(lean.stdout)["kpis"]["patients_seen"]["mean"] > 50
    r = run_cli("simulate", FAMILY, "-n", "2", "--engine", "turbo")
    assert r.code == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["error: --engine: expected one of lean, simpy, got 'turbo'"]


def test_a_day_without_mas_is_explained_on_stderr_and_in_json(tmp_path):
    """Wednesday's MAs set to 0: the visits that need rooming are stuck, and the report says why."""
    text = FAMILY.read_text().replace("wed: {medical_assistants: 3}", "wed: {medical_assistants: 0}")
    assert "wed: {medical_assistants: 0}" in text
    path = tmp_path / "no-ma-wednesday.yaml"
    path.write_text(text)
    r = run_cli("simulate", path, "-n", "2", "--days", "wed,thu")
    assert r.code == 0, r.stderr
    (line,) = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    # the evenly spaced Wednesday: 89 booked visits of types with rooming (holds and telehealth excluded)
    assert line == (
        "warning: Wednesday 2026-01-07: 89 scheduled visit(s) at 08:00-17:30 need MA rooming while no medical "
        "assistant is on duty (staff.by_day, staff.shifts); no MA comes later, so they wait unseen until close"
    )
    data = json.loads(run_cli("simulate", path, "-n", "2", "--days", "wed,thu", "--json").stdout)
    assert data["warnings"] == [line.removeprefix("warning: ")]
    by_day = data["by_day"]
    assert by_day["2026-01-07"]["unseen_at_close"]["mean"] > 60  # most of the 89, less no-shows
    assert by_day["2026-01-08"]["unseen_at_close"]["mean"] == 0  # Thursday has its 4 MAs
    clean = json.loads(run_cli("simulate", FAMILY, "-n", "2", "--days", "wed", "--json").stdout)
    assert clean["warnings"] == []

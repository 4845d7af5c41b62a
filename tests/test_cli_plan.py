"""``clinicflow plan`` as a user runs it."""

from __future__ import annotations

import json

import pandas as pd
import yaml

from clinicflow.domain.schedule import read_schedule_csv
from conftest import run_cli, run_main
from tests_helpers import tiny_data


def test_plan_writes_every_output(tiny, tiny_yaml, tmp_path):
    req = tmp_path / "req.csv"
    pd.DataFrame(
        [
            {
                "patient_ref": "P000001",
                "appointment_type": "visit",
                "preferred_provider": "doc",
                "earliest_date": "2026-11-30",
                "latest_date": "2026-12-04",
                "time_of_day": "morning",
                "urgency": "routine",
                "no_show_prob": 0.4,  # the patient's own score, as calibrate --requests writes it
            },
            {
                "patient_ref": "P000002",
                "appointment_type": "visit",
                "preferred_provider": "",
                "earliest_date": "2026-12-14",
                "latest_date": "2026-12-18",
                "time_of_day": "any",
                "urgency": "soon",
                "no_show_prob": None,  # not scored: the type's rate
            },
        ]
    ).to_csv(req, index=False)
    out = tmp_path / "out"
    r = run_cli(
        "plan",
        tiny_yaml,
        "--week",
        "2026-11-30",
        "--requests",
        req,
        "--out",
        out,
        "--time-limit",
        "10",
        "--samples",
        "10",
        "--replications",
        "5",
        "--evaluator",
        "saa",
    )
    assert r.code == 0, r.stderr
    assert "Tiny Clinic — week of 2026-11-30" in r.stdout
    assert "proven optimal" in r.stdout and "booked 1/2 requests" in r.stdout
    assert "* CP-SAT's in-order timing model; refined:" in r.stdout
    assert "P00000" not in r.stdout  # no patient reference on the terminal
    assert "note:" not in r.stdout  # one request of two for a later week: its reason in unbooked.csv
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "fhir-bundle.json",
        "ics/doc.ics",
        "kpis.json",
        "schedule.csv",
        "schedule.xlsx",
        "sessions.csv",
        "unbooked.csv",
    ]
    sched = read_schedule_csv(out / "schedule.csv", tiny)
    assert (sched["kind"] == "booked").sum() == 1
    # the booked patient's own score reaches schedule.csv, where the simulator reads it
    assert sched.loc[sched["kind"] == "booked", "no_show_prob"].tolist() == [0.4]
    # open slots leave it empty: the scenario's rate, so a recalibrated scenario or a what-if reaches them
    assert sched.loc[sched["kind"] != "booked", "no_show_prob"].isna().all()
    v = tiny.type_by_id["visit"]
    own, by_type = 1 - 0.4 - min(v.late_cancel, 0.6), 1 - v.no_show - v.late_cancel
    assert (
        f"patients' own no-show scores on 1/2 requests: {own:.1f} of 1 booked patients expected to come "
        f"({by_type:.1f} at the appointment types' rates)"
    ) in " ".join(r.stdout.split())  # the console wraps long lines
    k = json.loads((out / "kpis.json").read_text())
    assert k["booking"] == {
        "status": "optimal",
        "booked": 1,
        "requests": 2,
        "by_urgency": {
            "urgent": {"booked": 0, "of": 0},
            "soon": {"booked": 0, "of": 1},
            "routine": {"booked": 1, "of": 1},
        },
        "scored_requests": 1,
        "booked_patients": 1,
        "expected_to_come": round(own, 1),
        "expected_to_come_at_type_rates": round(by_type, 1),
    }
    assert k["week"] == "2026-11-30" and k["evaluator"] == "saa-recursion"
    assert set(k["kpis"]) == {"plan", "evenly_spaced", "bailey_welch"}
    assert (
        k["kpis"]["plan"]["cost"]["ci_low"]
        <= k["kpis"]["plan"]["cost"]["mean"]
        <= k["kpis"]["plan"]["cost"]["ci_high"]
    )
    assert k["optimizer"]["provider_sessions"] == 2
    unb = pd.read_csv(out / "unbooked.csv")
    assert unb["reason"].tolist() == ["its dates 2026-12-14..2026-12-18 are outside the planned week"]


def test_week_must_be_a_monday(tiny_yaml, tmp_path):
    r = run_cli("plan", tiny_yaml, "--week", "2026-12-01", "--out", tmp_path / "o")
    assert r.code == 2
    assert r.stderr.strip() == "error: --week: expected a Monday, got 2026-12-01 (a Tuesday)"
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()


def test_infeasible_week_says_why_and_writes_nothing(tmp_path):
    data = tiny_data()
    data["providers"][0]["sessions"]["mon"][0]["holds"] = 30
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    r = run_cli("plan", p, "--week", "2026-11-30", "--out", tmp_path / "o")
    assert r.code == 2
    lines = r.stderr.strip().splitlines()
    assert lines[0] == "error: the week cannot be built: these rules conflict"
    assert lines[1].startswith("  - doc's Monday 2026-11-30 session 08:00-12:00 has 225 working minutes")
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()


def test_bad_requests_file_is_one_line(tiny_yaml, tmp_path):
    req = tmp_path / "req.csv"
    req.write_text(
        "patient_ref,appointment_type,earliest_date,latest_date,urgency\nP1,xray,2026-11-30,2026-12-01,routine\n"
    )
    r = run_cli("plan", tiny_yaml, "--week", "2026-11-30", "--requests", req, "--out", tmp_path / "o")
    assert r.code == 2
    assert r.stderr.strip() == (
        f"error: {req}: row 2, column appointment_type: unknown appointment type 'xray' (expected one of: visit, long)"
    )
    assert "Traceback" not in r.stderr


def test_plan_names_the_week_a_requests_file_asks_for(tiny_yaml, tmp_path):
    req = tmp_path / "req.csv"
    req.write_text(
        "patient_ref,appointment_type,preferred_provider,earliest_date,latest_date,time_of_day,urgency\n"
        "P1,visit,doc,2026-11-30,2026-12-01,any,routine\n"
        "P2,long,,2026-12-02,2026-12-04,any,soon\n"
    )
    r = run_main(
        "plan", str(tiny_yaml), "--week", "2026-12-07", "--requests", str(req), "--out", str(tmp_path / "o"),
        "--time-limit", "5", "--samples", "10", "--replications", "3", "--evaluator", "saa",
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert (
        "note: 2 of 2 requests ask only for dates outside the week of 2026-12-07 (theirs run "
        "2026-11-30..2026-12-04; most in the week of 2026-11-30)"
    ) in " ".join(r.stdout.split())

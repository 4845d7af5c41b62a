"""The SimPy OR day: exact traces with fixed durations, common random numbers, and CIs."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from clinicflow.domain.cases import SurgicalCase
from clinicflow.scenario_file import scenario_from_dict
from clinicflow.sim.or_day import simulate_or, summarize_or
from clinicflow.stats import mean_ci, wilson
from conftest import ORTHO

D = dt.date(2026, 12, 1)


def _fixed_scenario():
    """The ortho practice with fixed durations and turnovers: the day is exactly computable."""
    data = yaml.safe_load(ORTHO.read_text())
    for f in data["surgery"]["facilities"]:
        f["turnover_min"] = 30
        f["equipment"] = {"c_arm": 1}
    for ct in data["surgery"]["case_types"]:
        ct["duration"] = {"tka": 120, "orif_ankle": 100, "knee_scope": 50}.get(ct["id"], 60)
        ct.pop("equipment", None)
        if ct["id"] == "orif_ankle":
            ct["equipment"] = ["c_arm"]
    return scenario_from_dict(data)


def _case(cid, surgeon, ctype):
    return SurgicalCase(
        case_id=cid,
        surgeon=surgeon,
        case_type=ctype,
        earliest_date=D,
        latest_date=D,
        auth_status="approved",
        auth_date=D,
    )


def _row(cid, surgeon, ctype, room, seq, start, end, equipment="", block=("07:30", "15:30")):
    return {
        "date": D,
        "facility": "stluke",
        "room": room,
        "block_start": block[0],
        "block_end": block[1],
        "block_owner": "open",
        "sequence": seq,
        "start": start,
        "end": end,
        "case_id": cid,
        "surgeon": surgeon,
        "case_type": ctype,
        "patient_ref": "",
        "priority": 1,
        "planned_min": 0,
        "equipment": equipment,
    }


def test_exact_trace_with_fixed_times():
    sc = _fixed_scenario()
    cases = [
        _case("A", "dr_alvarez", "orif_ankle"),
        _case("B", "dr_alvarez", "knee_scope"),
        _case("C", "dr_osei", "orif_ankle"),
    ]
    table = pd.DataFrame(
        [
            _row("A", "dr_alvarez", "orif_ankle", "OR4", 1, "07:30", "09:10", "c_arm"),
            _row("B", "dr_alvarez", "knee_scope", "OR4", 2, "09:40", "10:30"),
            # C needs the only C-arm, in use by A until 09:10 -> starts at 09:10, 100 min late
            _row("C", "dr_osei", "orif_ankle", "OR5", 1, "07:30", "09:10", "c_arm", block=("07:30", "09:00")),
        ]
    )
    res = simulate_or(sc, table, cases, replications=3, seed=1)
    r0 = res.cases[res.cases["rep"] == 0].set_index("case_id")
    assert r0.loc["A", ["start", "end"]].tolist() == [450, 550]
    assert r0.loc["B", ["start", "end"]].tolist() == [580, 630]  # 100 min case + 30 turnover
    assert r0.loc["C", ["start", "end", "delay"]].tolist() == [550, 650, 100]
    days = res.room_days[res.room_days["rep"] == 0].set_index("room")
    assert days.loc["OR5", "overtime"] == 650 - 540
    assert days.loc["OR4", "overtime"] == 0
    assert days.loc["OR4", "busy"] == 100 + 30 + 50
    s = summarize_or(res)
    or5 = next(r for r in s["room_days"] if "OR5" in r["room_day"])
    assert or5["p_overtime"] == 1.0 and or5["overtime_min"] == pytest.approx(110)


def test_common_random_numbers_follow_the_case():
    """A case draws the same duration in any room and position."""
    sc = scenario_from_dict(yaml.safe_load(ORTHO.read_text()))
    cases = [_case("A", "dr_alvarez", "knee_scope"), _case("B", "dr_alvarez", "knee_scope")]
    t1 = pd.DataFrame(
        [
            _row("A", "dr_alvarez", "knee_scope", "OR4", 1, "07:30", "08:20"),
            _row("B", "dr_alvarez", "knee_scope", "OR4", 2, "08:52", "09:42"),
        ]
    )
    t2 = pd.DataFrame(
        [
            _row("B", "dr_alvarez", "knee_scope", "OR5", 1, "07:30", "08:20"),
            _row("A", "dr_alvarez", "knee_scope", "OR5", 2, "08:52", "09:42"),
        ]
    )
    r1, r2 = simulate_or(sc, t1, cases, 20, seed=4), simulate_or(sc, t2, cases, 20, seed=4)
    d1 = r1.cases.assign(d=r1.cases.end - r1.cases.start).set_index(["rep", "case_id"])["d"].sort_index()
    d2 = r2.cases.assign(d=r2.cases.end - r2.cases.start).set_index(["rep", "case_id"])["d"].sort_index()
    assert np.allclose(d1.to_numpy(), d2.to_numpy())
    assert d1.std() > 1  # and they are random


def test_simulated_durations_match_the_distribution():
    sc = scenario_from_dict(yaml.safe_load(ORTHO.read_text()))
    cases = [_case("A", "dr_alvarez", "orif_ankle")]
    t = pd.DataFrame([_row("A", "dr_alvarez", "orif_ankle", "OR4", 1, "07:30", "09:05", "c_arm")])
    r = simulate_or(sc, t, cases, 4000, seed=9)
    d = (r.cases.end - r.cases.start).to_numpy()
    _m, lo, hi, *_ = mean_ci(d)
    assert lo <= 95 <= hi and d.std() == pytest.approx(28, rel=0.06)


def test_wilson_interval_known_values():
    p, lo, hi = wilson(20, 100)
    assert p == 0.2 and lo == pytest.approx(0.1333, abs=1e-4) and hi == pytest.approx(0.2888, abs=1e-4)
    assert wilson(0, 50)[1] == 0.0


def test_overtime_risk_bars_are_named_as_the_gantt_names_its_rows():
    """``Mon 12-07 · stluke/OR3``; a room with two blocks that day gets each block's start time."""
    from clinicflow.viz.surgery import overtime_risk_figure

    rd = pd.DataFrame(
        {
            "room_day": ["2026-12-07/OR3/07:30", "2026-12-07/OR3/13:00", "2026-12-08/ASC1/07:30"],
            "date": ["2026-12-07", "2026-12-07", "2026-12-08"],
            "facility": ["stluke", "stluke", "riverside_asc"],
            "room": ["OR3", "OR3", "ASC1"],
            "sim_p_overtime": [0.09, 0.18, 0.0],
            "sim_p_overtime_ci": ["0.05-0.16", "0.12-0.27", "0.0-0.04"],
        }
    )
    bars = overtime_risk_figure(rd, 0.2).data[0]
    assert list(bars.x) == [
        "Mon 12-07 · stluke/OR3 07:30",
        "Mon 12-07 · stluke/OR3 13:00",
        "Tue 12-08 · riverside_asc/ASC1",
    ]
    assert list(bars.error_y.array) == pytest.approx([0.07, 0.09, 0.04])

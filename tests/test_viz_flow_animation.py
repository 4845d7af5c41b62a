"""The animated patient flow: every frame's positions follow from the event log, and agree with the
simulator's per-patient records (an independent reading of the same run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinicflow import simulate
from clinicflow.viz.flow_animation import (
    AREAS,
    STAGE_NAMES,
    day_events,
    flow_animation,
    flow_positions,
    frame_minutes,
    room_layout,
    room_state_at,
    stage_at,
    stage_intervals,
)


@pytest.fixture(scope="module")
def tuesday(family):
    res = simulate(family, replications=1, seed=3, keep_events=True, days=["tue"])
    events = day_events(res.events)
    patients = res.patients[res.patients["arrival"].notna()]  # seen, and turned away on arrival
    assert (res.patients["outcome"] == "turned_away").any()
    return family, events, patients


def _within(x, y, station):
    (x0, x1, y0, y1), _ = AREAS[station]
    return x0 <= x <= x1 and y0 <= y <= y1


def test_frames_every_five_minutes_from_first_arrival_to_last_departure(tuesday):
    scenario, events, _ = tuesday
    minutes = frame_minutes(events, 5)
    assert minutes[0] - 5 < events["minute"].min() <= minutes[0]
    assert minutes[-1] - 5 < events["minute"].max() <= minutes[-1]
    assert np.all(np.diff(minutes) == 5)
    fig = flow_animation(events, scenario.rooms.room_ids, step_min=5)
    assert len(fig.frames) == len(minutes)
    assert len(fig.frames[0].data[1].ids) >= 1  # the first patient is in the first frame
    assert len(fig.frames[-1].data[1].ids) == 0  # and everyone has left by the last
    assert [f.name for f in fig.frames][:2] == [f"{m // 60:02d}:{m % 60:02d}" for m in minutes[:2]]
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(minutes) and list(steps[-1].args[0]) == [fig.frames[-1].name]
    # one legend entry per stage and per room state
    assert sum(1 for t in fig.data if t.showlegend) == len(STAGE_NAMES) + 3


@pytest.mark.parametrize("minute", [8 * 60 + 30, 10 * 60, 11 * 60 + 45, 14 * 60 + 15, 16 * 60 + 40])
def test_positions_agree_with_the_patient_records(tuesday, minute):
    scenario, events, p = tuesday
    here = stage_at(events, minute).set_index("patient")
    t = minute
    in_clinic = p[(p["arrival"] <= t) & (t < p["exit"])]
    assert set(here.index) == set(in_clinic["patient"])
    expected = {
        "check_in": (p["check_in_start"] <= t) & (t < p["check_in_end"]),
        "waiting_room": (p["check_in_end"] <= t) & (t < p["roomed"]),
        "rooming": (p["rooming_start"] <= t) & (t < p["rooming_end"]),
        "with_provider": p["room"].ne("") & (p["provider_start"] <= t) & (t < p["provider_end"]),
        "telehealth": p["room"].eq("") & (p["provider_start"] <= t) & (t < p["provider_end"]),
        "checkout": (p["checkout_start"] <= t) & (t < p["checkout_end"]),
    }
    for stage, mask in expected.items():
        assert set(here.index[here["stage"] == stage]) == set(p.loc[mask, "patient"]), stage
    # a patient with the provider is drawn in the room the records put them in
    pos = flow_positions(events, [minute], scenario.rooms.room_ids).set_index("patient")
    centres = room_layout(scenario.rooms.room_ids)
    rooms = p.set_index("patient")["room"]
    for pid, row in pos.iterrows():
        if row["stage"] in ("room_waiting", "rooming", "with_provider"):
            assert row["room"] == rooms[pid]
            assert (row["x"], row["y"]) == centres[rooms[pid]]
        else:
            assert _within(row["x"], row["y"], row["station"])
    # nobody shares a queue position
    queued = pos[pos["station"] != "room"]
    assert not queued.duplicated(["x", "y"]).any()


def test_room_states_agree_with_the_records(tuesday):
    _, events, p = tuesday
    for t in (9 * 60, 12 * 60 + 10, 15 * 60 + 30):
        state = room_state_at(events, t)
        occupied = p[(p["roomed"] <= t) & (t < p["provider_end"])]["room"]
        turnover = p[(p["provider_end"] <= t) & (t < p["room_free"]) & p["room"].ne("")]["room"]
        assert {r for r, s in state.items() if s == "occupied"} == set(occupied)
        assert {r for r, s in state.items() if s == "turnover"} == set(turnover)
        assert set(occupied).isdisjoint(turnover)


def test_stage_intervals_cover_each_visit_without_gaps(tuesday):
    _, events, p = tuesday
    iv = stage_intervals(events)
    visible = iv[iv["end"] > iv["start"]]
    assert set(visible["patient"]) == set(
        p.loc[p["outcome"] == "seen", "patient"]
    )  # the turned away never enter
    for pid, g in visible.groupby("patient"):
        g = g.sort_values("start")
        assert np.allclose(g["start"].to_numpy()[1:], g["end"].to_numpy()[:-1])  # back to back
        rec = p.set_index("patient").loc[pid]
        assert g["start"].iloc[0] == pytest.approx(rec["arrival"])
        assert g["end"].iloc[-1] == pytest.approx(rec["exit"])


def test_stage_at_on_a_hand_made_log():
    rows = [
        ("arrival", 480.0, ""),
        ("check_in_begins", 482.0, ""),
        ("check_in_ends", 485.0, ""),
        ("roomed", 490.0, "R02"),
        ("rooming_begins", 490.0, ""),
        ("rooming_ends", 495.0, ""),
        ("wait_for_provider_begins", 495.0, ""),
        ("provider_begins", 500.0, ""),
        ("provider_ends", 515.0, ""),
        ("room_free", 518.0, "R02"),
        ("checkout_begins", 516.0, ""),
        ("checkout_ends", 519.0, ""),
        ("depart", 519.0, ""),
    ]
    events = pd.DataFrame(
        {
            "patient": 7,
            "pathway": "follow_up",
            "provider": "dr_a",
            "event": [r[0] for r in rows],
            "event_type": [
                "resource_use" if r[0] == "roomed" else "resource_use_end" if r[0] == "room_free" else "queue"
                for r in rows
            ],
            "minute": [r[1] for r in rows],
            "room": [r[2] for r in rows],
        }
    )

    def where(t):
        s = stage_at(events, t)
        return (s["stage"].iloc[0], s["room"].iloc[0]) if len(s) else None

    assert where(479.9) is None
    assert where(481) == ("arrived", "")
    assert where(482) == ("check_in", "")
    assert where(487) == ("waiting_room", "")
    assert where(490) == ("rooming", "R02")  # roomed and rooming begins at once: no zero-length wait
    assert where(497) == ("room_waiting", "R02")
    assert where(505) == ("with_provider", "R02")
    assert where(515.5) == ("checkout_queue", "")
    assert where(517) == ("checkout", "")
    assert where(519) is None
    assert room_state_at(events, 505) == {"R02": "occupied"}
    assert room_state_at(events, 517) == {"R02": "turnover"}
    assert room_state_at(events, 518) == {"R02": "free"}

"""Patient flow page: simulate the schedule and see waits, occupancy, utilization and the bottleneck."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _shared import pick_scenario

from clinicflow import simulate
from clinicflow.sim.analysis import (
    bottleneck_sentence,
    provider_day_utilization,
    room_day_utilization,
    wait_breakdown,
)
from clinicflow.sim.records import event_log
from clinicflow.viz.flow import through_the_day, utilization_heatmap, wait_breakdown_figure, wait_histogram
from clinicflow.viz.flow_animation import flow_animation

path, scenario = pick_scenario()
st.title("Patient flow")
reps = st.sidebar.slider("Replications", 5, 200, 30, step=5, key="flow_reps")
seed = st.sidebar.number_input("Seed", 0, 10_000, 1, key="flow_seed")


@st.cache_data(show_spinner=False, max_entries=8)
def run(path: str, mtime: float, reps: int, seed: int):
    res = simulate(scenario, replications=reps, seed=seed, keep_events=True, workers=2 if reps >= 20 else 1)
    return res.summary(), res.timeseries, res.patients, res.warnings


with st.spinner(f"Simulating {reps} replications of the week…"):
    summary, ts, patients, warnings = run(str(path), path.stat().st_mtime, reps, seed)

st.caption(f"{scenario.clinic.name} · evenly spaced template · {reps} replications · seed {seed}")
for line in warnings:
    st.warning(line)
breakdown = wait_breakdown(patients)
st.info(bottleneck_sentence(breakdown, summary))

# Two rows of four: the patients' side, then the providers' and the week's; seven in one row were
# cut short ("18.0 …") at a laptop's width.
labels = [
    ("mean_wait_min", "Mean wait", "{:.1f} min"),
    ("p90_wait_min", "90th pct wait", "{:.1f} min"),
    ("mean_time_in_clinic_min", "Time in clinic", "{:.0f} min"),
    ("max_waiting_room", "Peak waiting room", "{:.1f}"),
    ("provider_overtime_min", "Provider overtime / week", "{:,.0f} min"),
    ("overtime_pay", "Overtime pay / week", "${:,.0f}"),
    ("provider_utilization", "Provider utilization", "{:.0%}"),
    ("patients_seen", "Patients seen / week", "{:,.0f}"),
]
for row in (labels[:4], labels[4:]):
    for col, (k, label, fmt) in zip(st.columns(4), row, strict=True):
        r = summary.loc[k]
        col.metric(
            label,
            fmt.format(r["mean"]),
            help=f"95% CI {fmt.format(r['ci_low'])} – {fmt.format(r['ci_high'])}",
        )

left, right = st.columns(2)
left.plotly_chart(wait_histogram(patients), width="stretch")
right.plotly_chart(wait_breakdown_figure(breakdown), width="stretch")

dates = sorted(ts["date"].unique())
day = st.selectbox("Day", dates, format_func=lambda d: f"{d:%A %Y-%m-%d}", key="flow_day")
left, right = st.columns(2)
left.plotly_chart(through_the_day(ts, day, "waiting"), width="stretch")
right.plotly_chart(through_the_day(ts, day, "rooms_busy"), width="stretch")


@st.cache_data(show_spinner=False, max_entries=16)
def animation(path: str, mtime: float, reps: int, seed: int, day, replication: int):
    one = patients[(patients["replication"] == replication) & (patients["date"] == day)]
    events = event_log(one, scenario.clinic.timezone, scenario.rooms.room_ids)
    return flow_animation(
        events,
        scenario.rooms.room_ids,
        title=f"Patients through {day:%A} (replication {replication + 1}), every 5 minutes",
    )


st.subheader("The day, animated")
st.caption(
    "One replication of the chosen day from the simulation's event log: each dot is a patient, coloured "
    "by where they are; rooms shade while occupied or being turned over. Press play or drag the slider."
)
replication = st.number_input("Replication", 1, reps, 1, key="flow_anim_rep") - 1
st.plotly_chart(
    animation(str(path), path.stat().st_mtime, reps, seed, day, replication), width="stretch", key="flow_anim"
)

left, right = st.columns(2)
left.plotly_chart(
    utilization_heatmap(
        provider_day_utilization(patients, scenario), "provider", "Provider utilization (share of session)"
    ),
    width="stretch",
)
right.plotly_chart(
    utilization_heatmap(
        room_day_utilization(patients, scenario), "room", "Exam room occupancy (share of opening hours)"
    ),
    width="stretch",
)

st.subheader("All KPIs (mean and 95% CI over replications)")
st.dataframe(summary.round(2), width="stretch")

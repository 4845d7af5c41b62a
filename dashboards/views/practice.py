"""Practice page: the scenario at a glance — sessions, rooms, staff, capacity against demand."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _shared import pick_scenario

from clinicflow import summarize
from clinicflow.viz.practice import demand_figure, week_sessions_figure

path, scenario = pick_scenario()
sm = summarize(scenario)

st.title(sm.name)
st.caption(f"{path.name} · timezone {sm.timezone} · open {', '.join(sm.days_open)}")
c = st.columns(5)
c[0].metric("Providers", sm.providers)
c[1].metric("Sessions / week", sm.sessions_per_week)
c[2].metric("Exam rooms", sm.rooms, help=f"{sm.procedure_rooms} procedure rooms")
c[3].metric("Provider minutes / week", f"{sm.provider_minutes:,}")
c[4].metric("Demand load", f"{sm.load:.0%}", help="weekly demand at scheduled lengths ÷ provider minutes")

st.subheader("Providers")
st.dataframe(sm.by_provider, hide_index=True, width="stretch")
left, right = st.columns([3, 2])
left.plotly_chart(week_sessions_figure(scenario), width="stretch")
right.plotly_chart(demand_figure(scenario), width="stretch")

"""Practice page: the scenario at a glance — sessions, rooms, staff, capacity against demand.

The first page a user sees, so it stays light: Vega-Lite charts (see ``clinicflow.viz.practice``)
and nothing imported that only other pages need.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _shared import pick_scenario

from clinicflow import summarize
from clinicflow.viz.practice import capacity_demand_chart, staff_chart, week_sessions_chart

path, scenario = pick_scenario(clinic=False)
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
st.dataframe(
    sm.by_provider,
    hide_index=True,
    width="stretch",
    column_config={
        "sessions": st.column_config.NumberColumn("sessions / week"),
        "minutes": st.column_config.NumberColumn("minutes / week", help="working minutes, breaks left out"),
        "holds": st.column_config.NumberColumn("same-day holds / week"),
        "days": "clinic days",
        "or_days": st.column_config.TextColumn("OR days", help="days in the operating room, not in clinic"),
    },
)
if sm.closed_dates or sm.time_off:
    # the dated exceptions to the weekly pattern, which the plan of those weeks leaves out
    st.caption(
        " · ".join(([f"closed {', '.join(sm.closed_dates)}"] if sm.closed_dates else []) + list(sm.time_off))
    )
if sm.facilities:
    st.caption(f"{sm.or_blocks} OR blocks · OR at {', '.join(sm.facilities)}")
left, right = st.columns(2)
for col, chart in ((left, week_sessions_chart(scenario)), (right, capacity_demand_chart(scenario))):
    col.vega_lite_chart(chart.data, chart.spec, width="stretch")
chart = staff_chart(scenario)
st.vega_lite_chart(chart.data, chart.spec, width="stretch")

"""Surgery page: book the OR week, see the Gantt, overtime risk per room-day and unscheduled cases."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _shared import chosen_index, load_or_stop, read_upload, remember, scenario_choices, scenario_files

from clinicflow import InfeasibleError, InputError
from clinicflow.domain.cases import read_cases_csv
from clinicflow.domain.clock import clinic_next_monday
from clinicflow.surgery_week import plan_week, room_day_frame
from clinicflow.viz.surgery import or_gantt, overtime_risk_figure

st.title("Surgery: OR bookings")
choices = scenario_choices([p for p in scenario_files() if "surgery:" in p.read_text()])
if not choices:
    st.warning("No scenario with a surgery section: give one to `clinicflow dashboard SCENARIO.yaml`.")
    st.stop()
name = st.sidebar.selectbox(
    "Surgical scenario",
    list(choices),
    index=chosen_index(choices),
    key="sg_scenario",
    # picked here, the other pages open on it too; merely shown (the practice picked elsewhere has no
    # OR blocks), it changes nothing there
    on_change=lambda: remember(choices[st.session_state["sg_scenario"]]),
)
path = choices[name]
scenario = load_or_stop(path)
default_cases = path.with_name(path.stem.replace("-practice", "") + "-cases.csv")
week = st.sidebar.date_input("Week (Monday)", clinic_next_monday(scenario.clinic.tz), key="sg_week")
up = st.sidebar.file_uploader("Cases file (CSV)", type=["csv"], key="sg_cases")
reps = st.sidebar.slider("Replications", 20, 500, 100, 20, key="sg_reps")
limit = st.sidebar.slider("Solver time limit (s)", 2, 60, 5, key="sg_limit")
if week.weekday() != 0:  # the week containing the day is booked (as `clinicflow surgery --week`): say so
    st.sidebar.warning("The week starts on Monday: using the Monday of that week.")
    week = week - dt.timedelta(days=week.weekday())


@st.cache_data(show_spinner=False, max_entries=8)
def run(
    scenario_path: str,
    mtime: float,
    cases_name: str,
    cases_bytes: bytes,
    week: dt.date,
    reps: int,
    limit: int,
):
    cases = read_upload(cases_name, cases_bytes, lambda f: read_cases_csv(f, scenario))
    w = plan_week(scenario, cases, week, replications=reps, seed=0, time_limit=limit)
    table = w.plan.table()
    unbooked = [{"case_id": k, "reason": v} for k, v in sorted(w.plan.unbooked.items())]
    return table, room_day_frame(w.kpis), unbooked, w.kpis


if up is not None:
    cases_name, cases_bytes = up.name, up.getvalue()
elif default_cases.is_file():
    cases_name, cases_bytes = default_cases.name, default_cases.read_bytes()
else:
    st.info("Upload a cases file (see docs/surgery.md for its columns).")
    st.stop()

try:
    with st.spinner(f"Booking {cases_name} into the week of {week} and simulating {reps} replications…"):
        table, room_days, unbooked, kpis = run(
            str(path), path.stat().st_mtime, cases_name, cases_bytes, week, reps, limit
        )
except (InputError, InfeasibleError) as err:  # the planner's reasons, as the CLI's
    st.error(str(err))
    st.stop()

opt = kpis["optimized"]
c = st.columns(4)
c[0].metric("Cases booked", f"{len(table)}", help=f"of {len(table) + len(unbooked)} in the file")
c[1].metric("Unscheduled", f"{len(unbooked)}")
if opt.get("simulated"):
    sim = opt["simulated"]
    lo, hi = sim["mean_start_delay_min_ci"]
    c[2].metric(
        "Mean start delay", f"{sim['mean_start_delay_min']:.1f} min", help=f"95% CI {lo:.1f} – {hi:.1f} min"
    )
    lo, hi = sim["overtime_min_per_week_ci"]
    c[3].metric(
        "Overtime per week",
        f"{sim['overtime_min_per_week']:.0f} min",
        help=f"all rooms together; 95% CI {lo:.0f} – {hi:.0f} min",
    )

st.plotly_chart(or_gantt(table), width="stretch")
st.plotly_chart(overtime_risk_figure(room_days, scenario.surgery.overtime_target), width="stretch")
st.subheader("Room-days")
st.dataframe(room_days, hide_index=True, width="stretch")
st.subheader("Unscheduled cases and why")
st.dataframe(unbooked, hide_index=True, width="stretch")

"""What-if page: edit staffing against the base, run a paired comparison, sweep for the frontier."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from pathlib import Path

import streamlit as st
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _shared import fresh_for, pick_scenario, read_upload

from clinicflow import InfeasibleError, InputError
from clinicflow.domain import WEEKDAYS
from clinicflow.domain.schedule import read_schedule_csv
from clinicflow.spreadsheet import safe_frame
from clinicflow.viz.whatif import LABELS, TILE_LABELS, diff_figure, frontier_figure
from clinicflow.whatif import apply_variant, compare, sweep
from clinicflow.whatif.display import NO_CHANGE, comparison_frame
from clinicflow.whatif.grid import KNOBS, parse_vary
from clinicflow.whatif.sweep import Target
from clinicflow.whatif.variants import variant_from_dict, variant_text

path, base = pick_scenario()
# the form's changes are to this base: picking another practice starts from its own staffing (the
# uploaded week stays, and is checked against the new practice)
fresh_for(path, "wi_", keep=("wi_schedule", "wi_reps"))
st.title("What-if staffing")
st.caption(
    f"Base: {base.clinic.name} · changes are compared on the same simulated patients (common random numbers)"
)

up = st.sidebar.file_uploader(
    "Base schedule (CSV of one week)",
    type=["csv"],
    key="wi_schedule",
    help="Your current template exported from the EHR, or a plan's schedule.csv: the base runs it instead "
    "of evenly spaced slots. A staffing change keeps it; a template policy plans the variant for its week.",
)
schedule_name, schedule_bytes = (up.name, up.getvalue()) if up is not None else (None, None)
AS_BASE = f"(as base: {schedule_name})" if schedule_name else "(as base: evenly spaced)"

days_open = [d for d in WEEKDAYS if d in base.clinic.days_open]
with st.form("variant"):
    c1, c2, c3 = st.columns(3)
    extra_rooms = c1.number_input("Exam rooms added", -base.rooms.n + 1, 20, 0, key="wi_rooms")
    mas = c2.number_input("MAs on every day", 0, 30, base.staff.medical_assistants.count, key="wi_mas")
    desk = c3.number_input(
        "Front-desk clerks on every day", 0, 20, base.staff.front_desk.count, key="wi_desk"
    )
    c1, c2, c3 = st.columns(3)
    extra_ma_days = c1.multiselect("One more MA on", days_open, key="wi_ma_days")
    off_provider = c2.selectbox("Provider off", ["(none)"] + [p.id for p in base.providers], key="wi_off")
    off_days = c3.multiselect("… on", days_open, key="wi_off_days")
    c1, c2, c3 = st.columns(3)
    part_time_days = c1.multiselect("A part-time MA on", days_open, key="wi_pt_days")
    pt_start = c2.time_input("from", dt.time(13, 0), step=900, key="wi_pt_start")
    pt_end = c3.time_input("to", dt.time(17, 0), step=900, key="wi_pt_end")
    c1, c2, c3 = st.columns(3)
    no_show_scale = c1.slider("No-show rate × (reminders ≈ 0.7)", 0.0, 1.5, 1.0, 0.05, key="wi_noshow")
    walk_in_scale = c2.slider("Walk-ins ×", 0.0, 3.0, 1.0, 0.1, key="wi_walkins")
    reps = c3.slider("Replications", 10, 200, 100, 10, key="wi_reps")
    c1, c2, c3, c4 = st.columns(4)
    add_provider = c1.selectbox(
        "Add a session for", ["(none)"] + [p.id for p in base.providers], key="wi_add"
    )
    add_day = c2.selectbox("on", days_open, key="wi_add_day")
    add_start = c3.time_input("from", dt.time(13, 0), step=900, key="wi_add_start")
    add_end = c4.time_input("to", dt.time(17, 0), step=900, key="wi_add_end")
    c1, c2, c3 = st.columns(3)
    call_pct = c1.slider(
        "Reminder calls to the riskiest % of booked patients",
        0,
        100,
        0,
        5,
        key="wi_calls",
        help="Needs a base schedule whose booked patients carry their no_show_prob scores "
        "(a week planned from requests scored on the No-show page or by calibrate --requests).",
    )
    call_scale = c2.slider("… their no-show rate ×", 0.0, 1.0, 0.6, 0.05, key="wi_call_scale")
    call_minutes = c3.number_input(
        "… desk minutes a call",
        0.0,
        60.0,
        3.0,
        0.5,
        key="wi_call_minutes",
        help="Priced at the front desk's hourly cost.",
    )
    c1, c2, _ = st.columns(3)
    policy = c1.selectbox(
        "Template policy",
        [AS_BASE, "bailey_welch", "optimized"],
        key="wi_policy",
        help="bailey_welch and optimized run the CP-SAT planner for the variant (about 30 s).",
    )
    overbooking = c2.checkbox("Overbooking on (planner)", key="wi_overbook")
    run = st.form_submit_button("Run comparison", type="primary")

fields = {}
if extra_rooms:
    fields["extra_rooms"] = int(extra_rooms)
if mas != base.staff.medical_assistants.count:  # left at its default, the base's per-day counts stand
    fields["medical_assistants"] = int(mas)
if desk != base.staff.front_desk.count:
    fields["front_desk"] = int(desk)
if extra_ma_days:
    fields["extra_mas_on"] = dict.fromkeys(extra_ma_days, 1)
if part_time_days:
    fields["extra_shifts"] = [
        {
            "days": part_time_days,
            "start": pt_start.strftime("%H:%M"),
            "end": pt_end.strftime("%H:%M"),
            "medical_assistants": 1,
        }
    ]
if off_provider != "(none)" and off_days:
    fields["providers_off"] = {off_provider: off_days}
if no_show_scale != 1:
    fields["no_show_scale"] = no_show_scale
if walk_in_scale != 1:
    fields["walk_in_scale"] = walk_in_scale
if call_pct:
    fields["targeted_reminders"] = {
        "share": call_pct / 100,
        "no_show_scale": call_scale,
        "minutes_each": call_minutes,
    }
if add_provider != "(none)":
    fields["extra_sessions"] = {
        add_provider: {add_day: [{"start": add_start.strftime("%H:%M"), "end": add_end.strftime("%H:%M")}]}
    }
if policy != AS_BASE:
    fields["template_policy"] = policy
if overbooking:
    fields["overbooking"] = True


@st.cache_data(show_spinner=False, max_entries=16)
def run_compare(
    path: str, mtime: float, fields: dict, reps: int, name: str | None, data: bytes | None, _progress=None
):
    v = variant_from_dict({"name": "variant", **fields}, "what-if form")
    scen = apply_variant(base, v, "what-if form")
    frame = None if data is None else read_upload(name, data, lambda f: read_schedule_csv(f, base))
    comp = compare(
        base,
        [("variant", v, scen)],
        replications=reps,
        seed=1,
        workers=2,
        schedule=frame,
        schedule_name=name,
        plan_progress=_progress,
    )
    arm = comp.variants[0]
    return comp.table(), arm.replanned, arm.notes


def planning_bar():
    """A progress bar for the planner's stages (the template, then each provider-session's timing),
    fed from the script's own thread only: the solver reports from its day threads too."""
    bar = st.progress(0.0, text="Planning the variant's week with CP-SAT…")
    labels = {"template": "planning the variant's week: template (CP-SAT)", "timing": "planning: slot timing"}
    script_thread = threading.current_thread()

    def progress(stage: str, done: int, total: int) -> None:
        if threading.current_thread() is script_thread:
            bar.progress(min(1.0, done / max(total, 1)), text=f"{labels.get(stage, stage)}: {done}/{total}")

    return bar, progress


bar, progress = planning_bar() if policy != AS_BASE else (None, None)
try:
    with st.spinner(f"Simulating base and variant, {reps} replications each…"):
        table, replanned, notes = run_compare(
            str(path), path.stat().st_mtime, fields, reps, schedule_name, schedule_bytes, progress
        )
except (InputError, InfeasibleError) as err:  # the planner's reasons, as the CLI's
    st.error(str(err))
    st.stop()
finally:
    if bar is not None:
        bar.empty()

st.subheader("Variant against the base")
st.caption(
    "Changes, as a variant file would write them: "
    + (
        yaml.safe_dump(fields, default_flow_style=True, sort_keys=False, width=10_000).strip()[1:-1]
        if fields
        else "none (the variant equals the base)"
    )
    + (" · schedule re-planned for the new capacity" if replanned else "")
    + (f" · base schedule: {schedule_name}" if schedule_name else "")
    + "".join(f" · {n}" for n in notes)
)
shown = [
    "mean_wait_min",
    "p90_wait_min",
    "provider_overtime_min",
    "provider_idle_min",
    "patients_seen",
    "cost",
    "staff_cost_week",
    "labour_cost_week",
]
for row in (shown[:4], shown[4:]):
    for col, k in zip(st.columns(4), row, strict=False):
        r = table[(table["arm"] == "variant") & (table["kpi"] == k)].iloc[0]
        b = table[(table["arm"] == "base") & (table["kpi"] == k)].iloc[0]
        delta = f"{r['diff']:+,.1f}"
        if r["diff_low"] != r["diff_high"]:
            delta += f" [{r['diff_low']:+,.1f}, {r['diff_high']:+,.1f}]"
        col.metric(
            TILE_LABELS.get(k, LABELS.get(k, k)),
            f"{r['mean']:,.1f}",
            delta=delta,
            delta_color="off" if r["zero_in_ci"] else "inverse",
            help=(f"{LABELS[k]}: " if k in TILE_LABELS else "")
            + f"base {b['mean']:,.1f}; paired difference with its 95% CI",
        )
st.plotly_chart(diff_figure(table), width="stretch")
st.dataframe(
    comparison_frame(table, "base", "variant", labels=LABELS),
    hide_index=True,
    width="stretch",
    column_config={
        "paired Δ [95% CI]": st.column_config.TextColumn(
            help="variant minus base on the same simulated patients, with its 95% interval"
        ),
        "≈0": st.column_config.TextColumn(help=f"≈0: {NO_CHANGE}"),
    },
)
if fields:
    # take the change away: the variant file `clinicflow compare` runs again, and the table it wrote
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    vname = c1.text_input("Variant name (for the file)", "What-if from the dashboard", key="wi_name")
    try:
        text = variant_text(fields, vname.strip() or "What-if from the dashboard", path.name)
    except InputError as err:
        c1.error(str(err))
    else:
        c2.download_button("variant.yaml", text, "variant.yaml", "application/yaml", key="wi_dl_variant")
    c3.download_button(
        "comparison.csv",
        safe_frame(table).to_csv(index=False),
        "comparison.csv",
        "text/csv",
        key="wi_dl_table",
    )

st.subheader("Sweep: labour cost against waiting")
st.caption("Labour cost: the staff's scheduled pay plus the simulated pay for overtime past closing.")
if schedule_name:
    st.caption(f"Every setting runs the uploaded week ({schedule_name}); demand cannot be swept on it.")
with st.form("sweep"):
    c1, c2, c3, c4 = st.columns(4)
    knob1 = c1.selectbox("Vary", list(KNOBS), index=list(KNOBS).index("mas"), key="sw_k1")
    range1 = c2.text_input("values", "2..5", key="sw_r1")
    knob2 = c3.selectbox("and", list(KNOBS), index=list(KNOBS).index("desk"), key="sw_k2")
    range2 = c4.text_input("values ", "1..3", key="sw_r2")
    c1, c2 = st.columns(2)
    target = c1.text_input("Target", "p90_wait_min<=20", key="sw_target")
    sreps = c2.slider("Replications per setting", 5, 100, 20, 5, key="sw_reps")
    go = st.form_submit_button("Run sweep")


@st.cache_data(show_spinner=False, max_entries=8)
def run_sweep(
    path: str, mtime: float, v1: str, v2: str, target: str, reps: int, name: str | None, data: bytes | None
):
    varies = [parse_vary(v1)] + ([parse_vary(v2)] if v2 else [])
    frame = None if data is None else read_upload(name, data, lambda f: read_schedule_csv(f, base))
    res = sweep(
        base, varies, replications=reps, seed=1, workers=2, target=Target.parse(target), schedule=frame
    )
    return res.table, res.knobs, res.cheapest


if go or st.session_state.get("sw_ran"):
    st.session_state["sw_ran"] = True
    try:
        spec2 = f"{knob2}={range2}" if knob2 != knob1 else ""
        with st.spinner("Sweeping…"):
            stable, knobs, best = run_sweep(
                str(path),
                path.stat().st_mtime,
                f"{knob1}={range1}",
                spec2,
                target,
                sreps,
                schedule_name,
                schedule_bytes,
            )
    except (InputError, InfeasibleError) as err:  # the planner's reasons, as the CLI's
        st.error(str(err))
        st.stop()
    if knob2 == knob1:
        st.caption(
            f"Varying {knob1} = {range1} only: “and” names the same setting, so its values are not used."
        )
    tgt = Target.parse(target)
    st.plotly_chart(frontier_figure(stable, "p90_wait_min", knobs, tgt), width="stretch")
    if best is None:
        st.warning(f"No setting meets {target}.")
    else:
        st.success(
            "Cheapest setting meeting "
            + target
            + ": "
            + ", ".join(f"{k}={best[k]}" for k in knobs)
            + f" (${best['labour_cost_week']:,.0f} per week with overtime pay)"
        )
    st.download_button(
        "sweep.csv", safe_frame(stable).to_csv(index=False), "sweep.csv", "text/csv", key="sw_dl"
    )
    money = ("staff_cost_week", "overtime_pay", "labour_cost_week")
    minutes = ("p90_wait_min", "mean_wait_min", "provider_overtime_min")
    st.dataframe(
        stable[[*knobs, *money, *minutes, "efficient"]].rename(columns=LABELS),
        hide_index=True,
        width="stretch",
        column_config={
            **{LABELS[k]: st.column_config.NumberColumn(format="dollar") for k in money},
            **{LABELS[k]: st.column_config.NumberColumn(format="%.1f") for k in minutes},
            "efficient": st.column_config.CheckboxColumn(
                help="no other setting beats it on both labour cost and the 90th-percentile wait (the frontier)"
            ),
        },
    )

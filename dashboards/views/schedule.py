"""Schedule page: plan next week, book pending requests, see it per provider and per room, download."""

from __future__ import annotations

import datetime as dt
import io
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _shared import pick_scenario, read_upload

from clinicflow import InfeasibleError, InputError
from clinicflow.domain.clock import clinic_next_monday, clinic_today
from clinicflow.domain.requests import read_requests_csv, wrong_week_note
from clinicflow.domain.scenario import OFF_FORMAT, parse_time_off
from clinicflow.domain.schedule import read_schedule_csv
from clinicflow.sim.result import late_first
from clinicflow.viz.schedule import week_figure
from clinicflow.viz.whatif import LABELS
from clinicflow.week_booking import book_week, write_booked_outputs
from clinicflow.week_plan import plan_and_book, sessions_frame, write_outputs

path, scenario = pick_scenario()
st.title("Next week's schedule")
week = st.sidebar.date_input("Week (Monday)", clinic_next_monday(scenario.clinic.tz), key="pl_week")
default_requests = path.with_name(path.stem + "-requests.csv")
up = st.sidebar.file_uploader("Pending requests (CSV)", type=["csv"], key="pl_requests")
limit = st.sidebar.slider("Solver time limit (s)", 5, 120, 30, 5, key="pl_limit")
reps = st.sidebar.slider("Evaluation replications", 5, 100, 20, 5, key="pl_reps")
with st.sidebar.expander("Optimizer settings"):
    samples = st.slider(
        "Sampled days per session",
        5,
        200,
        40,
        5,
        key="pl_samples",
        help="The days of visit lengths, no-shows and punctuality each session's timing is optimized on "
        "(sample-average approximation, plan --samples): more days, a truer expected cost and a longer "
        "solve; 40 is the default.",
    )
    plan_seed = st.number_input(
        "Seed",
        0,
        2**31 - 1,
        0,
        key="pl_seed",
        help="Seed of the sampled days (plan --seed): same seed, same plan.",
    )
off = st.sidebar.text_input(
    "Away, not in the scenario file yet",
    key="pl_off",
    placeholder="dr_okafor:2026-12-01, np_haddad:2026-12-02:13:00-17:00",
    help=f"Time off as {OFF_FORMAT}, comma-separated (as plan/book --off): the plan leaves those sessions "
    "out, and booking into a week already made rebooks their patients.",
)
try:
    scenario = scenario.with_time_off([parse_time_off(v, scenario) for v in off.split(",") if v.strip()])
except ValueError as err:
    st.sidebar.error(f"Away: {err}")
    st.stop()
if week.weekday() != 0:
    st.sidebar.warning("The week starts on Monday: using the Monday of that week.")
    week = week - dt.timedelta(days=week.weekday())

if up is not None:
    req_name, req_bytes = up.name, up.getvalue()
elif default_requests.is_file():
    req_name, req_bytes = default_requests.name, default_requests.read_bytes()
else:
    req_name, req_bytes = None, b""
st.caption(
    f"{scenario.clinic.name} · week of {week:%A %Y-%m-%d} · "
    + (f"requests from {req_name}" if req_name else "no pending requests (template only)")
)


#: What each stage of plan and book is called on the progress bar.
STAGES = {
    "template": "template (CP-SAT)",
    "timing": "slot timing per provider-session",
    "booking": "booking requests",
    "evaluating": "evaluating against the baselines",
}


def stage_bar(text: str):
    """A progress bar and the ``progress(stage, done, total)`` callback that moves it (plan and book
    report their stages through it; solver callbacks on their own threads are ignored)."""
    bar = st.progress(0.0, text=text)
    script_thread = threading.current_thread()

    def progress(stage: str, done: int, total: int) -> None:
        if threading.current_thread() is not script_thread:
            return
        bar.progress(min(1.0, done / max(total, 1)), text=f"{STAGES.get(stage, stage)}: {done}/{total}")

    return bar, progress


@st.cache_data(show_spinner=False, max_entries=6)
def run(
    scenario_path: str,
    mtime: float,
    off: str,
    week: dt.date,
    req_name,
    req_bytes: bytes,
    limit: int,
    reps: int,
    samples: int,
    seed: int,
):
    """The planned week (cached on the scenario file, the sidebar's time off ``off`` — already in
    ``scenario`` — and the settings)."""
    requests = None
    if req_name:
        requests = read_upload(req_name, req_bytes, lambda f: read_requests_csv(f, scenario))
    bar, progress = stage_bar("planning…")
    outcome = plan_and_book(
        scenario,
        week,
        requests,
        time_limit=limit,
        seed=seed,
        samples=samples,
        replications=reps,
        progress=progress,
    )
    bar.empty()
    out = Path(tempfile.mkdtemp(prefix="clinicflow-plan-"))
    write_outputs(outcome, out, scenario_path)
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    ics = io.BytesIO()
    with zipfile.ZipFile(ics, "w") as z:
        for p in sorted((out / "ics").glob("*.ics")):
            z.writestr(p.name, p.read_bytes())
    files["ics.zip"] = ics.getvalue()
    unbooked = outcome.booking.unbooked if outcome.booking is not None else None
    names = {"plan": "optimized plan", "evenly_spaced": "evenly spaced", "bailey_welch": "Bailey-Welch"}
    summary = pd.DataFrame(
        {
            names.get(k, k): {
                kpi: f"{v['mean']:,.0f} [{v['ci_low']:,.0f}, {v['ci_high']:,.0f}]" for kpi, v in d.items()
            }
            for k, d in outcome.kpis.summary().items()
        }
    )
    summary.index = [LABELS.get(k, k) for k in summary.index]  # words, not the kpis.json keys
    r = outcome.result
    info = {
        "sessions": len(r.sessions),
        "optimal": r.proven_optimal,
        "seconds": r.wall_time,
        "samples": r.samples,
        "seed": r.seed,
        "booked": outcome.booking.booked if outcome.booking else 0,
        "requests": outcome.booking.requests if outcome.booking else 0,
        "attendance": outcome.booking_payload() if outcome.booking else None,
        "wrong_week": wrong_week_note(outcome.requests, week) if outcome.requests else None,
        "shortfall": r.shortfall,
        "not_worked": outcome.not_worked,
    }
    return outcome.schedule, unbooked, summary, files, info, sessions_frame(outcome)


with st.expander("Book more requests into a week already made (its slots and booked patients kept)"):
    st.caption(
        "The week's schedule.csv (as planned here, or the practice's week from the EHR in that table) and "
        "the requests that came since: they take the open slots by urgency, own provider and time of day; "
        "nothing of the week moves (clinicflow book)."
    )
    bk_sched = st.file_uploader("The week's schedule (CSV)", type=["csv"], key="bk_schedule")
    bk_reqs = st.file_uploader("New requests (CSV)", type=["csv"], key="bk_requests")
    today = release = None
    if st.checkbox("Booking during the week: nobody into a day gone by", key="bk_during"):
        c1, c2 = st.columns(2)
        today = c1.date_input("Today", clinic_today(scenario.clinic.tz), key="bk_today")
        if c2.checkbox(
            "Release open same-day holds to every request",
            key="bk_release",
            help="as book --release-holds: the holds of today and the next days, not kept for urgent requests",
        ):
            release = c2.number_input("…of today and the next days", 0, 6, 1, key="bk_release_days")
    if bk_sched is not None and bk_reqs is not None and st.button("Book them", key="bk_go"):
        bar, progress = stage_bar("booking…")
        try:
            week_rows = read_upload(
                bk_sched.name, bk_sched.getvalue(), lambda f: read_schedule_csv(f, scenario)
            )
            new_reqs = read_upload(bk_reqs.name, bk_reqs.getvalue(), lambda f: read_requests_csv(f, scenario))
            booked = book_week(
                scenario,
                week_rows,
                new_reqs,
                file=bk_sched.name,
                replications=reps,
                progress=progress,
                today=today,
                release_days=None if release is None else int(release),
            )
        except (InputError, InfeasibleError) as err:
            bar.empty()
            st.error(str(err))
        else:
            bar.empty()
            before, after = booked.open_rows(), booked.open_rows(booked.schedule)
            b = st.columns(3)
            done, asked = booked.requests_booked()
            b[0].metric("Requests booked", f"{done}/{asked}")
            b[1].metric("Booked in the week", after["booked"], delta=after["booked"] - before["booked"])
            b[2].metric("Open slots left", after["template"], help=f"{after['hold']} same-day holds")
            if booked.bump_lines():
                st.warning("\n".join(f"- {line}" for line in booked.bump_lines()))
            if booked.release_line():
                st.info(booked.release_line())
            st.dataframe(booked.booking.unbooked, hide_index=True, width="stretch")
            out = Path(tempfile.mkdtemp(prefix="clinicflow-book-"))
            write_booked_outputs(booked, out, str(path), bk_sched.name)
            d = st.columns(3)
            for col, name, mime in (
                (d[0], "schedule.csv", "text/csv"),
                (d[1], "fhir-bundle.json", "application/fhir+json"),
                (d[2], "sessions.csv", "text/csv"),
            ):
                col.download_button(f"booked {name}", (out / name).read_bytes(), name, mime, key=f"bk_{name}")

go = st.button("Plan the week", type="primary", key="pl_go")
if not (go or st.session_state.get("pl_done")):
    st.info("Plans the week with CP-SAT (templates, slot timing under uncertainty, booking); about 30 s.")
    st.stop()
try:
    schedule, unbooked, summary, files, info, sessions = run(
        str(path), path.stat().st_mtime, off, week, req_name, req_bytes, limit, reps, samples, int(plan_seed)
    )
    st.session_state["pl_done"] = True
    st.session_state["planned_schedule"] = schedule  # scored by the No-show analytics page
    st.session_state["planned_for"] = str(path)  # … when it shows the same practice
except (InputError, InfeasibleError) as err:
    st.error(str(err))
    st.stop()

c = st.columns(4)
c[0].metric("Provider-sessions", info["sessions"], help=f"{info['optimal']} proven optimal")
c[1].metric("Slots", len(schedule), help=f"{int((schedule['kind'] == 'hold').sum())} same-day holds")
att = info["attendance"]
c[2].metric(
    "Requests booked",
    f"{info['booked']}/{info['requests']}" if req_name else "none given",
    help=None
    if not (att and att["scored_requests"])
    else f"{att['expected_to_come']:,.1f} booked patients expected to come by their own no-show scores "
    f"({att['expected_to_come_at_type_rates']:,.1f} at the appointment types' rates)",
)
c[3].metric(
    "Solve time",
    f"{info['seconds']:.0f} s",
    help=f"{info['samples']} sampled days a session, seed {info['seed']} (Optimizer settings)",
)
if info["not_worked"]:
    st.info("Not worked this week:\n" + "\n".join(f"- {line}" for line in info["not_worked"]))
if info["shortfall"]:
    st.warning("Short of demand, and why:\n" + "\n".join(f"- {line}" for line in info["shortfall"]))
if info["wrong_week"]:
    st.warning(f"{info['wrong_week']}: pick that Monday under Week (Monday) in the sidebar to book them.")
elif info["requests"] and not info["booked"]:
    st.warning(
        f"None of the {info['requests']} requests in {req_name} was booked into the week of {week:%Y-%m-%d}: "
        "the reasons are below."
    )

st.subheader("Expected week against the baselines (held-out seeds, 95% CI)")
st.dataframe(summary, width="stretch")

if "sim_late_share" in sessions:
    st.subheader("Sessions most often running late (simulated)")
    st.caption(
        "Per provider-session, the share of simulated weeks whose last visit ends more than 15 minutes "
        "after the session (95% interval), and when it ends; the solver's status beside it (sessions.csv)."
    )
    late = late_first(sessions, prefix="sim_")
    st.dataframe(
        pd.DataFrame(
            {
                "date": late["date"],
                "provider": late["provider"],
                "session": late["start"] + "-" + late["end"],
                "late >15 min": [
                    f"{a:.0%} ({lo:.0%}-{hi:.0%})"
                    for a, lo, hi in zip(
                        late["sim_late_share"], late["sim_late_ci_low"], late["sim_late_ci_high"], strict=True
                    )
                ],
                "last visit ends (median)": late["sim_finish_median"],
                "1 in 10 after": late["sim_finish_p90"],
                "patients seen": late["sim_patients_seen"],
                "mean wait (min)": late["sim_mean_wait_min"],
                "solver": late["status"],
            }
        ),
        hide_index=True,
        width="stretch",
    )

tab_p, tab_r = st.tabs(["By provider", "By exam room"])
tab_p.plotly_chart(week_figure(schedule, scenario, "provider"), width="stretch")
tab_r.plotly_chart(week_figure(schedule, scenario, "room"), width="stretch")

if unbooked is not None:
    st.subheader(f"Unbooked requests ({len(unbooked)}) and why")
    st.dataframe(unbooked, hide_index=True, width="stretch")

st.subheader("Downloads")
c = st.columns(5)
c[0].download_button("schedule.csv", files["schedule.csv"], "schedule.csv", "text/csv")
c[1].download_button(
    "schedule.xlsx",
    files["schedule.xlsx"],
    "schedule.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
c[2].download_button("calendars (ics.zip)", files["ics.zip"], "ics.zip", "application/zip")
c[3].download_button(
    "fhir-bundle.json", files["fhir-bundle.json"], "fhir-bundle.json", "application/fhir+json"
)
c[4].download_button("sessions.csv", files["sessions.csv"], "sessions.csv", "text/csv")

"""No-show analytics page: rates by segment, the model's AUC and calibration, next week's risk."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _shared import pick_scenario, read_upload

from clinicflow import InputError
from clinicflow.data import (
    fit_noshow,
    generate_history,
    history_report,
    import_history,
    open_store,
    score_requests,
    score_schedule,
)
from clinicflow.data.synthetic import to_generic, write_history
from clinicflow.domain.requests import read_requests_csv, requests_frame
from clinicflow.spreadsheet import safe_frame
from clinicflow.synthetic_flow import generate_flow_history
from clinicflow.viz.noshow import TITLES, calibration_figure, segment_figure

path, scenario = pick_scenario(clinic=False)
st.title("No-show analytics")

source = st.sidebar.radio(
    "History", ["Synthetic demo history", "Upload an export", "Existing store"], key="ns_source"
)


@st.cache_resource(show_spinner=False, max_entries=4)
def demo_store(scenario_path: str, mtime: float, rows: int) -> str:
    """A synthetic history of this practice, imported like a real export (no real patient data)."""
    d = Path(tempfile.mkdtemp(prefix="clinicflow-demo-"))
    if scenario.has_clinic_sessions:  # clinic times simulated, as `history synthesize --scenario`
        frame, _ = generate_flow_history(rows, seed=1, scenario=scenario)
    else:
        frame = generate_history(rows, seed=1, scenario=scenario)
    write_history(to_generic(frame), d / "history.csv")
    import_history(d / "history.csv", db=d / "demo.duckdb", key_file=d / "demo.key")
    return str(d / "demo.duckdb")


@st.cache_resource(show_spinner=False, max_entries=4)
def uploaded_store(name: str, data: bytes) -> tuple[str, dict]:
    def load(f: Path) -> tuple[str, dict]:
        db = f.parent / "upload.duckdb"
        return str(db), import_history(f, db=db, skip_bad_rows=True).as_dict()

    return read_upload(name, data, load)


@st.cache_resource(show_spinner=False, max_entries=4)
def model_for(db: str, version: str):
    con = open_store(db)
    try:
        return fit_noshow(con)[0]
    finally:
        con.close()


@st.cache_data(show_spinner=False, max_entries=8)
def score(db: str, version: str, schedule: pd.DataFrame) -> pd.DataFrame:
    con = open_store(db)
    try:
        return score_schedule(schedule, con, model_for(db, version))
    finally:
        con.close()


@st.cache_data(show_spinner=False, max_entries=8)
def score_pending(db: str, version: str, requests: pd.DataFrame) -> pd.DataFrame:
    con = open_store(db)
    try:
        return score_requests(requests, scenario, con, model_for(db, version))
    finally:
        con.close()


@st.cache_data(show_spinner=False, max_entries=8)
def analyse(db: str, version: str):
    con = open_store(db)
    try:
        report = history_report(con)
        try:
            _, evaluation = fit_noshow(con)
        except InputError as err:
            evaluation = {"error": str(err)}
    finally:
        con.close()
    return report, evaluation


try:
    if source == "Synthetic demo history":
        rows = st.sidebar.select_slider(
            "Appointments", [5_000, 10_000, 20_000, 50_000], 10_000, key="ns_rows"
        )
        with st.spinner("Generating and importing a synthetic history…"):
            db = demo_store(str(path), path.stat().st_mtime, rows)
        st.caption(
            f"Synthetic history of {scenario.clinic.name}: {rows:,} appointments, pseudonymized on import."
        )
    elif source == "Upload an export":
        up = st.sidebar.file_uploader(
            "CSV, Excel, Parquet or FHIR JSON export",
            type=["csv", "xlsx", "parquet", "json"],
            key="ns_upload",
        )
        if up is None:
            st.info("Upload an appointment export (the public no-show layout is recognised from its header).")
            st.stop()
        with st.spinner("Importing (patient identifiers are replaced by keyed hashes)…"):
            db, result = uploaded_store(up.name, up.getvalue())
        st.caption(
            f"{result['rows_added']:,} appointments imported from {up.name}"
            + (f"; {result['rows_quarantined']:,} bad rows quarantined" if result["rows_quarantined"] else "")
        )
    else:
        db = st.sidebar.text_input("Store", "clinicflow.duckdb", key="ns_db")
        if not Path(db).is_file():
            st.warning(f"No store at {db}: import history with `clinicflow history import FILE --db {db}`.")
            st.stop()
    with st.spinner("Computing rates and fitting the no-show model…"):
        report, evaluation = analyse(db, str(Path(db).stat().st_mtime))
except InputError as err:
    st.error(str(err))
    st.stop()

o, v = report["overall"], report["volume"]
c = st.columns(4)
c[0].metric("Appointments", f"{o['appointments']:,}", help=f"{v['first_date']} to {v['last_date']}")
c[1].metric("No-show rate", f"{o['no_show_rate']:.1%}", help="no-shows ÷ appointments kept on the books")
c[2].metric(
    "Late-cancel rate", f"{o['late_cancel_rate']:.1%}" if v["records_cancellations"] else "not recorded"
)
c[3].metric("Patients", f"{v['patients']:,}")

dims = [d for d in TITLES if d in report["by"]]
for i in range(0, len(dims), 2):
    cols = st.columns(2)
    for col, dim in zip(cols, dims[i : i + 2], strict=False):
        col.plotly_chart(segment_figure(report, dim), width="stretch")

st.subheader("No-show model")
if "error" in evaluation:
    st.warning(evaluation["error"])
else:
    t = evaluation["test"]
    c = st.columns(4)
    c[0].metric("ROC AUC (holdout)", f"{t['roc_auc']:.3f}", help="last 20% of appointment dates")
    c[1].metric(
        "Brier score",
        f"{t['brier']:.4f}",
        delta=f"{t['brier'] - t['brier_base_rate']:+.4f} vs base rate",
        delta_color="inverse",
    )
    c[2].metric("Mean predicted", f"{t['mean_predicted']:.1%}", help=f"observed {t['no_show_rate']:.1%}")
    c[3].metric(
        "Test appointments",
        f"{evaluation['rows']['test']:,}",
        help="the last 20% of appointment dates, never used to fit or choose the model",
    )
    st.plotly_chart(calibration_figure(evaluation), width="stretch")
    st.caption(
        f"Model: {evaluation['model']}, chosen among the candidates on the calibration slice. "
        f"Trained {evaluation['periods']['train'][0]} – {evaluation['periods']['train'][1]}, calibrated "
        f"{evaluation['periods']['calibration'][0]} – {evaluation['periods']['calibration'][1]}, tested "
        f"{evaluation['periods']['test'][0]} – {evaluation['periods']['test'][1]}. Patient-history features use "
        "only appointments before the one predicted."
    )

version = str(Path(db).stat().st_mtime)


@st.cache_data(show_spinner=False, max_entries=4)
def draft(db: str, version: str, name: str, timezone: str, rooms, desk, mas):
    from clinicflow.data.starter import draft_scenario

    con = open_store(db)
    try:
        d = draft_scenario(con, name=name, timezone=timezone, rooms=rooms, front_desk=desk, mas=mas)
    finally:
        con.close()
    return d.to_yaml(Path(db).name), d.inferred, d.calibration.notes + d.calibration.kept, d.assumed


with st.expander("Draft a scenario from this history (a practice without a scenario file)"):
    st.caption(
        "Providers, their weekly sessions and same-day holds, visit types with their booked lengths, "
        "weekly demand and time-of-day windows, then the fitted rates and durations — as `clinicflow "
        "history draft`. What a history cannot tell is left to you below or assumed, and listed."
    )
    c = st.columns(2)
    d_name = c[0].text_input("Practice name", "Our practice", key="ns_draft_name")
    d_zone = c[1].text_input("Time zone (IANA)", scenario.clinic.timezone, key="ns_draft_zone")
    c = st.columns(3)
    d_rooms = c[0].number_input("Exam rooms", 1, 500, None, key="ns_draft_rooms", placeholder="assume")
    d_desk = c[1].number_input("Front-desk clerks", 1, 100, None, key="ns_draft_desk", placeholder="assume")
    d_mas = c[2].number_input("Medical assistants", 1, 200, None, key="ns_draft_mas", placeholder="assume")
    if st.button("Draft the scenario", key="ns_draft_go"):
        try:
            with st.spinner("Drafting and fitting…"):
                text, inferred, fitted, assumed = draft(
                    db, version, d_name, d_zone.strip(), d_rooms, d_desk, d_mas
                )
        except InputError as err:
            st.error(str(err))
        else:
            st.markdown("**Inferred from the history**\n\n" + "\n".join(f"- {x}" for x in inferred + fitted))
            st.warning("**Assumed — check before planning**\n\n" + "\n".join(f"- {x}" for x in assumed))
            st.download_button(
                "drafted-scenario.yaml",
                text.encode(),
                "drafted-scenario.yaml",
                "text/yaml",
                key="ns_draft_dl",
            )


#: The back-test tables' columns of figures: means and the bias with its interval.
FIGURES = ["recorded", "simulated", "difference", "difference_low", "difference_high"]


@st.cache_data(show_spinner=False, max_entries=4)
def backtest(
    db: str, version: str, scenario_path: str, mtime: float, weeks: int, reps: int, seed: int, arrivals: str
):
    from clinicflow.backtest import pick_days, run_backtest
    from clinicflow.data.store import load_appointments

    con = open_store(db)
    try:
        history = load_appointments(con)
    finally:
        con.close()
    days = pick_days(history, scenario, weeks)
    return run_backtest(
        history, scenario, days, replications=reps, seed=seed, workers=2, source=db, arrivals=arrivals
    )


with st.expander("Does the simulator reproduce this history? (back-test)"):
    st.caption(
        "Replays the last recorded weeks through the simulator with this page's scenario — the visits as "
        "booked, who came as recorded — and sets each day's recorded wait, visit length and session end "
        "against the simulated spread, as `clinicflow history backtest`. Use the scenario calibrated from "
        "this history."
    )
    if not scenario.has_clinic_sessions:
        st.info(f"{path.name} has no clinic sessions to replay.")
    else:
        c = st.columns(4)
        bt_weeks = c[0].number_input("Weeks", 1, 104, 8, key="ns_bt_weeks")
        bt_reps = c[1].select_slider("Replications", [40, 100, 200], 100, key="ns_bt_reps")
        bt_seed = c[2].number_input("Seed", 0, 2**31 - 1, 0, key="ns_bt_seed")
        bt_arr = c[3].radio(
            "Arrivals",
            ["drawn", "recorded"],
            key="ns_bt_arrivals",
            help="drawn: from the scenario's punctuality (tests the whole model); recorded: each visit's "
            "recorded check-in replayed (tests the desk, rooming, visits and queues, more sharply)",
        )
        if st.button("Run the back-test", key="ns_bt_go"):
            st.session_state["ns_bt_args"] = (int(bt_weeks), int(bt_reps), int(bt_seed), bt_arr)
        args = st.session_state.get("ns_bt_args")
        if args is not None:
            try:
                with st.spinner("Replaying the recorded days…"):
                    bt = backtest(db, version, str(path), path.stat().st_mtime, *args)
            except InputError as err:
                st.error(str(err))
            else:
                from clinicflow.backtest import KPIS, PROVIDER_KPIS
                from clinicflow.viz.backtest import band_figure

                st.markdown(
                    f"**{bt.n_days} recorded days** ({bt.first} to {bt.last}), {bt.visits:,} visits, "
                    f"{bt.replications} replications each"
                    + (
                        f"; left out: {', '.join(f'{n:,} {w}' for w, n in bt.skipped.items())}"
                        if bt.skipped
                        else ""
                    )
                )
                table = bt.summary.assign(
                    figure=bt.summary["kpi"].map(KPIS),
                    **{
                        "in 90% band": [
                            f"{r.in_band}/{r.days} ({r.expected_share:.0%} exp.)"
                            for r in bt.summary.itertuples()
                        ]
                    },
                )[["figure", *FIGURES, "in 90% band", "verdict"]]
                st.dataframe(table.round(2), hide_index=True, width="stretch")
                kpi = st.selectbox("Figure", list(KPIS), format_func=KPIS.get, key="ns_bt_kpi")
                st.plotly_chart(band_figure(bt.days, kpi, KPIS[kpi]), width="stretch")
                st.caption("Recorded − simulated by provider (mean over the provider's days, 95% CI)")
                byp = bt.by_provider.assign(figure=bt.by_provider["kpi"].map(KPIS))
                st.dataframe(
                    byp[byp["kpi"].isin(PROVIDER_KPIS)][["provider", "figure", *FIGURES]].round(2),
                    hide_index=True,
                    width="stretch",
                )
                st.download_button(
                    "backtest-days.csv",
                    bt.days.round(3).to_csv(index=False).encode(),
                    "backtest-days.csv",
                    "text/csv",
                    key="ns_bt_dl",
                )

if "error" in evaluation:
    st.stop()

st.subheader("Pending requests: each patient's no-show score")
req_up = st.sidebar.file_uploader("Pending requests to score (CSV)", type=["csv"], key="ns_requests")
if req_up is None:
    st.caption(
        "Upload a pending-requests file (the one the Schedule page books) to score each patient from this "
        "history; the scored file books on the Schedule page, where the booked patients' scores say how "
        "many are expected to come and a simulated week draws their attendance from them."
    )
else:
    try:
        reqs = read_upload(req_up.name, req_up.getvalue(), lambda f: read_requests_csv(f, scenario))
    except InputError as err:
        st.error(str(err))
    else:
        with st.spinner("Scoring pending requests…"):
            scored_req = score_pending(db, version, requests_frame(reqs))
        p = scored_req["no_show_prob"].astype(float)
        c = st.columns(3)
        c[0].metric("Requests scored", f"{len(scored_req):,}")
        c[1].metric("Mean score", f"{p.mean():.1%}")
        c[2].metric("Expected no-shows if all booked", f"{p.sum():.1f}")
        st.caption(
            "A request has no slot yet: its score is the model's average over the days, hours and providers it "
            "allows and the practice's mix of lead times (as `clinicflow calibrate --requests`)."
        )
        st.dataframe(
            scored_req.sort_values("no_show_prob", ascending=False)[
                ["patient_ref", "appointment_type", "preferred_provider", "earliest_date", "no_show_prob"]
            ].head(20),
            hide_index=True,
            width="stretch",
        )
        st.download_button(
            "requests-scored.csv",
            safe_frame(scored_req).to_csv(index=False).encode(),
            "requests-scored.csv",
            "text/csv",
            key="ns_requests_download",
        )

st.subheader("Next week's booked appointments: predicted no-show risk")
planned = st.session_state.get("planned_schedule")
if planned is None:
    st.info("Plan the week on the Schedule page: its booked appointments are scored here.")
    st.stop()
if st.session_state.get("planned_for") != str(path):  # another practice's week: not this one's patients
    planned_for = Path(st.session_state.get("planned_for") or "another scenario").name
    st.info(
        f"The week planned on the Schedule page is {planned_for}'s: plan {path.name}'s week there to "
        "score its booked appointments here."
    )
    st.stop()
booked = planned[(planned["kind"] == "booked") & planned["patient_ref"].notna()]
with st.spinner("Scoring booked appointments…"):
    scored = score(db, version, booked.reset_index(drop=True))
risk = scored["no_show_prob"].astype(float)
c = st.columns(3)
c[0].metric("Booked appointments scored", f"{len(scored):,}")
c[1].metric("Mean predicted risk", f"{risk.mean():.1%}")
c[2].metric("Expected no-shows", f"{risk.sum():.1f}")
st.caption(
    "A schedule does not say when each appointment was booked, so each risk is averaged over the practice's "
    "own mix of lead times and reminders; patients without history in the store get the population's features."
)
top = scored.assign(risk=risk).sort_values("risk", ascending=False)
st.dataframe(
    top[["date", "start", "provider", "appointment_type", "patient_ref", "risk"]].head(20).round(3),
    hide_index=True,
    width="stretch",
)

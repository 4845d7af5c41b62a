"""Every dashboard page driven headless with Streamlit's AppTest, asserting real values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from clinicflow.backtest import KPIS
from conftest import ROOT
from tests_helpers import booked_week, tiny_data

PAGES = ROOT / "dashboards" / "views"


#: how the What-if page begins the caption listing the variant's changes
CHANGES = "Changes, as a variant file would write them: "


def _run(page: str, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _vega_charts(at: AppTest) -> list[tuple[dict, pd.DataFrame]]:
    """The page's Vega-Lite charts as sent to the browser: the spec and its Arrow-encoded table."""
    return [
        (json.loads(e.proto.spec), pa.ipc.open_stream(e.proto.data.data).read_pandas())
        for e in at.get("vega_lite_chart")
    ]


def test_practice_page_family():
    at = _run("practice.py")
    assert at.title[0].value == "Maple Street Family Medicine"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Providers"] == "6"
    assert metrics["Sessions / week"] == "54"
    assert metrics["Exam rooms"] == "12"
    assert metrics["Provider minutes / week"] == "12,285"
    assert metrics["Demand load"] == "79%"
    df = at.dataframe[0].value
    assert set(df["provider"]) >= {"dr_okafor", "pa_brooks"}
    assert at.caption[1].value == (
        "closed 2026-12-24, 2026-12-25, 2027-01-01 · dr_lindqvist time off 2026-12-21 to 2026-12-23 (leave) · "
        "np_haddad time off 2026-12-22 13:00-17:00 (CME course)"
    )
    # no plotly on the first page: three Vega-Lite charts, with titles, axis titles and their data
    assert not at.get("plotly_chart")
    (sessions_spec, sessions), (capacity_spec, capacity), (staff_spec, staff) = _vega_charts(at)
    assert staff_spec["title"] == "Front desk and MAs on duty"
    # Wednesday's MA in training: 3 MAs, every other day 4; two clerks every day
    mas = staff[staff["role"] == "MAs"].set_index("weekday")["count"].to_dict()
    assert mas == {"mon": 4, "tue": 4, "wed": 3, "thu": 4, "fri": 4}
    assert set(staff.loc[staff["role"] == "front desk", "count"]) == {2}
    assert sessions_spec["title"] == "Provider sessions by weekday"
    assert sessions_spec["encoding"]["x"]["title"] == "time of day (clinic time)"
    assert (sessions["kind"] == "session").sum() == 54
    assert capacity_spec["title"] == "Weekly capacity against demand"
    assert capacity_spec["encoding"]["x"]["title"] == "minutes per week"
    totals = capacity.groupby("side")["minutes"].sum()
    assert totals["capacity"] == 12_285  # the "Provider minutes / week" metric
    assert round(totals["demand"] / totals["capacity"], 2) == 0.79  # the "Demand load" metric


@pytest.mark.parametrize("name, providers", [("orthopedic-practice.yaml", "6")])
def test_practice_page_switches_scenario(name, providers):
    at = _run("practice.py")
    at.sidebar.selectbox(key="scenario_file").select(name).run()
    assert not at.exception
    assert at.title[0].value == "Riverside Orthopaedics"
    assert {m.label: m.value for m in at.metric}["Providers"] == providers
    _, capacity = _vega_charts(at)[1]
    assert capacity["minutes"][capacity["side"] == "capacity"].sum() == 8_100  # redrawn for the new practice


def test_flow_page_simulates_and_names_the_bottleneck():
    at = _run("flow.py", flow_reps=5)
    assert at.title[0].value == "Patient flow"
    assert at.info[0].value.startswith("The bottleneck is ")
    metrics = {m.label: m.value for m in at.metric}
    wait = float(metrics["Mean wait"].split()[0])
    assert 0 < wait < 30
    seen = float(metrics["Patients seen / week"].replace(",", ""))
    assert 0 < float(metrics["Overtime pay / week"].lstrip("$").replace(",", "")) < 2000
    assert 350 < seen < 520  # ~430 booked visits less no-shows, plus walk-ins
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 7
    # the animated day: frames every 5 minutes, each placing the patients in the clinic at that time
    (anim,) = [c for c in charts if c.get("frames")]
    assert anim["layout"]["title"]["text"].startswith("Patients through Monday (replication 1)")
    minutes = [int(f["name"][:2]) * 60 + int(f["name"][3:]) for f in anim["frames"]]
    assert len(minutes) > 100 and set(np.diff(minutes)) == {5}
    busiest = max(len(f["data"][1]["ids"]) for f in anim["frames"])  # one id per patient drawn
    assert 5 <= busiest <= 60  # patients in the clinic at once on a family-practice Monday
    assert len(anim["layout"]["sliders"][0]["steps"]) == len(minutes)


def test_whatif_page_compares_a_variant():
    at = _run("whatif.py", wi_reps=10)
    # the default variant equals the base: every difference is exactly zero
    metrics = {m.label: m for m in at.metric}
    assert metrics["90th-percentile wait (min)"].delta.startswith("+0.0")
    assert not at.get("download_button")  # nothing to take away until something changes
    at.number_input(key="wi_desk").set_value(1)
    at.button[0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m for m in at.metric}
    # one clerk instead of two: the desk becomes a bottleneck and the wait rises; staff cost falls by a clerk-week
    assert float(metrics["mean wait (min)"].delta.split()[0]) > 0
    assert metrics["staff cost per week ($)"].delta.startswith("-945.0")
    # labour cost: the clerk-week saved, less the overtime pay the later days add (paired, with a CI)
    labour = metrics["labour cost per week ($)"].delta
    saved, low, high = (float(x.strip("[],")) for x in labour.replace(",", " ").split()[:3])
    assert -945 < saved < -600 and low < saved < high  # one clerk: ~$170 more overtime pay
    # the full table in words and units, the same cells as `clinicflow compare` prints
    table = at.dataframe[0].value.set_index("KPI")
    staff = table.loc["staff cost per week ($)"]
    assert (staff["base"], staff["variant"], staff["paired Δ [95% CI]"]) == ("$26,552", "$25,606", "-945")
    assert staff["≈0"] == ""
    desk = table.loc["desk utilization"]
    assert desk["base"].endswith("%") and float(desk["variant"].rstrip("%")) > float(desk["base"].rstrip("%"))
    assert {"no-shows", "walk-ins", "patients seen"} <= set(table.index)
    # the change as a variant file `clinicflow compare` runs again, and the table as compare --out writes it
    assert [b.proto.label for b in at.get("download_button")] == ["variant.yaml", "comparison.csv"]


def test_whatif_page_part_time_ma():
    import datetime as dt

    at = _run("whatif.py", wi_reps=10)
    at.multiselect(key="wi_pt_days").select("mon").select("wed")
    at.time_input(key="wi_pt_start").set_value(dt.time(13, 0))
    at.time_input(key="wi_pt_end").set_value(dt.time(17, 0))
    at.button[0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m for m in at.metric}
    # two afternoons of 4 MA-hours at $21/h
    assert metrics["staff cost per week ($)"].delta.startswith("+168.0")
    caption = next(c.value for c in at.caption if "extra_shifts" in c.value)
    assert (
        "extra_shifts: [{days: [mon, wed], start: '13:00', end: '17:00', medical_assistants: 1}]" in caption
    )


def _sweep(at: AppTest, mas: str, desk: str) -> AppTest:
    """Run the what-if page's sweep over MAs and desk clerks, 5 replications a setting."""
    at.text_input(key="sw_r1").set_value(mas)
    at.text_input(key="sw_r2").set_value(desk)
    at.slider(key="sw_reps").set_value(5)
    at.button[1].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_whatif_page_sweep_names_cheapest_setting():
    at = _sweep(_run("whatif.py", wi_reps=10), "3..4", "1..2")
    assert at.success[0].value.startswith("Cheapest setting meeting p90_wait_min<=20: mas=") or at.warning
    df = at.dataframe[-1].value
    assert len(df) == 4 and set(df["mas"]) == {3, 4}
    assert "sweep.csv" in [b.proto.label for b in at.get("download_button")]
    # the same setting twice: the second range is not used, and the page says so
    at.selectbox(key="sw_k2").select("mas")
    at = _sweep(at, "3..4", "1..2")
    assert list(at.dataframe[-1].value["mas"]) == [3, 4] and "desk" not in at.dataframe[-1].value
    assert "Varying mas = 3..4 only: “and” names the same setting, so its values are not used." in [
        c.value for c in at.caption
    ]


def test_noshow_page_on_synthetic_history():
    at = _run("noshow.py", ns_rows=5_000)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Appointments"] == "5,000"
    rate = float(metrics["No-show rate"].rstrip("%")) / 100
    assert 0.08 < rate < 0.25  # the family practice's types have 6–22% no-show rates
    auc = float(metrics["ROC AUC (holdout)"])
    assert 0.55 < auc < 0.9  # lead time, age, reminders and prior no-shows carry real signal
    assert len(at.get("plotly_chart")) == 9  # 8 segments + calibration


def test_noshow_page_drafts_a_scenario_from_its_history():
    """The No-show page drafts a scenario from the history it shows (as ``history draft``): what was
    inferred (the types' windows too), what was assumed (rooms given here, so not among them), and
    the YAML to download (``Draft.to_yaml``, the CLI's file); a zone that is none is the CLI's one
    line."""
    at = _run("noshow.py", ns_rows=5_000)
    at.text_input(key="ns_draft_zone").set_value("Mars/Olympus")
    at.button(key="ns_draft_go").click().run()
    assert [e.value for e in at.error] == [
        "--timezone: expected an IANA timezone such as 'America/Chicago', got 'Mars/Olympus'"
    ]
    at.text_input(key="ns_draft_zone").set_value("America/Chicago")
    at.number_input(key="ns_draft_rooms").set_value(7)
    at.button(key="ns_draft_go").click().run()
    assert not at.exception and not at.error
    inferred = next(m.value for m in at.markdown if m.value.startswith("**Inferred from the history**"))
    assert "- dr_okafor: mon " in inferred and "- new_patient: " in inferred
    # the family practice's windows, from its 5,000-row history as from the README's 20,000
    assert "- new_patient: booked only 08:00-11:00 & 13:00-15:00 (" in inferred
    assert "- procedure: booked only 08:00-12:00 & 13:00-16:30 (" in inferred
    assumed = at.warning[-1].value
    assert "- front desk: 2 (not given)" in assumed and "- medical assistants: 6 (not given)" in assumed
    assert "rooms.count" not in assumed
    assert at.get("download_button")[-1].proto.label == "drafted-scenario.yaml"


def test_noshow_page_back_tests_the_simulator_on_its_history():
    """The back-test box replays the page's history through the simulator (as ``history backtest``):
    one row per figure with a verdict, the band figure, the by-provider table and the days' CSV."""
    at = _run("noshow.py", ns_rows=5_000)
    at.number_input(key="ns_bt_weeks").set_value(2)
    at.select_slider(key="ns_bt_reps").set_value(40)
    at.button(key="ns_bt_go").click().run()
    assert not at.exception and not at.error
    header = next(m.value for m in at.markdown if "recorded days" in m.value)
    assert header.startswith("**10 recorded days**") and "40 replications each" in header
    table = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert list(table["figure"]) == list(KPIS.values())
    # the demo history's clinic times were simulated by this very scenario (synthetic_flow), so every
    # figure is consistent: a right model is called wrong in about 5% of back-tests, not on this one
    assert set(table["verdict"]) == {"consistent"}
    visit = table.set_index("figure").loc[KPIS["mean_visit_min"]]
    assert 10 < visit["recorded"] < 30 and 10 < visit["simulated"] < 30
    fig = at.get("plotly_chart")[-1]
    assert "Recorded vs simulated" in fig.proto.spec
    byp = at.dataframe[-1].value
    assert {"dr_okafor", "pa_brooks"} <= set(byp["provider"])
    assert at.get("download_button")[-1].proto.label == "backtest-days.csv"
    at.radio(key="ns_bt_arrivals").set_value("recorded")
    at.button(key="ns_bt_go").click().run()
    assert not at.exception and not at.error
    recorded = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert set(recorded["verdict"]) == {"consistent"}
    # the waits' bias is narrower with punctuality's noise gone
    wait = [t.set_index("figure").loc[KPIS["mean_wait_min"]] for t in (table, recorded)]
    assert (wait[1]["difference_high"] - wait[1]["difference_low"]) < (
        wait[0]["difference_high"] - wait[0]["difference_low"]
    )


def test_surgery_page_books_the_example_week():
    import datetime as dt

    at = _run("surgery.py", sg_week=dt.date(2026, 11, 30), sg_reps=20, sg_limit=3)
    metrics = {m.label: m.value for m in at.metric}
    booked, unscheduled = int(metrics["Cases booked"]), int(metrics["Unscheduled"])
    assert booked + unscheduled == 66  # the shipped example cases file
    assert booked >= 30
    reasons = at.dataframe[-1].value
    assert len(reasons) == unscheduled
    assert reasons["reason"].str.len().min() > 10  # every unscheduled case has a reason in words
    assert len(at.get("plotly_chart")) == 2
    # the week's simulated overtime: all rooms together, the room-days' mean overtimes summed (it read
    # a key the summary does not have and showed "nan min")
    room_days = at.dataframe[0].value
    overtime = metrics["Overtime per week"]
    assert overtime.endswith(" min") and overtime != "nan min"
    assert float(overtime.split()[0]) == pytest.approx(room_days["sim_overtime_min"].sum(), abs=1)
    assert room_days["sim_overtime_min"].sum() > 0


def test_schedule_page_plans_and_books_the_family_week():
    import datetime as dt

    # the smallest budgets a coordinator can set: 5 s, 10 sampled days a session (Optimizer settings)
    at = _run("schedule.py", pl_week=dt.date(2026, 11, 30), pl_limit=5, pl_reps=5, pl_samples=10, pl_seed=2)
    assert "Plans the week" in at.info[0].value  # nothing runs until asked
    at.button(key="pl_go").click()
    at.run(timeout=600)
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Provider-sessions"] == "54"
    assert next(m for m in at.metric if m.label == "Solve time").help == (
        "10 sampled days a session, seed 2 (Optimizer settings)"
    )
    booked, total = (int(x) for x in metrics["Requests booked"].split("/"))
    assert total == 250 and booked >= 200
    table = at.dataframe[0].value
    assert list(table.columns) == ["optimized plan", "evenly spaced", "Bailey-Welch"]
    assert list(table.index) == [
        "weighted cost (wait + idle + overtime)",
        "total patient wait (min)",
        "provider idle (min)",
        "provider overtime (min)",
    ]
    # every provider-session, most often late first, as the plan's simulated sessions say
    late = at.dataframe[1].value
    assert len(late) == 54 and late.columns[3] == "late >15 min"
    shares = [float(x.split("%")[0]) for x in late["late >15 min"]]
    assert shares == sorted(shares, reverse=True)
    assert set(late["solver"]) <= {"optimal", "feasible"}
    assert len(at.get("plotly_chart")) == 2
    assert len(at.get("download_button")) == 5


def _book_later_requests_on_the_page(family, tmp_path, today=None, release=None):
    """The Schedule page's book box: the family week with 200 patients booked, uploaded with the 60
    later requests, booked (during the week when ``today`` is given). Returns the week file, the
    requests file and the page."""
    import datetime as dt

    from clinicflow.domain.schedule import write_schedule_csv
    from clinicflow.policies import evenly_spaced_schedule

    f = tmp_path / "week.csv"
    write_schedule_csv(booked_week(evenly_spaced_schedule(family, dt.date(2026, 11, 30)), 200), f)
    later = ROOT / "scenarios" / "family-practice-requests-later.csv"
    at = _run("schedule.py", pl_week=dt.date(2026, 11, 30), pl_reps=5)
    at.file_uploader(key="bk_schedule").set_value(("week.csv", f.read_bytes(), "text/csv")).run()
    at.file_uploader(key="bk_requests").set_value(("later.csv", later.read_bytes(), "text/csv")).run()
    if today is not None:
        at.checkbox(key="bk_during").check().run()
        at.date_input(key="bk_today").set_value(today).run()
    if release is not None:
        at.checkbox(key="bk_release").check().run()
        at.number_input(key="bk_release_days").set_value(release).run()
    at.button(key="bk_go").click()
    at.run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    return f, later, at


def test_schedule_page_books_later_requests_into_an_uploaded_week(family, tmp_path):
    from clinicflow.domain.requests import read_requests_csv
    from clinicflow.domain.schedule import read_schedule_csv
    from clinicflow.week_booking import book_week

    f, later, at = _book_later_requests_on_the_page(family, tmp_path)
    expected = book_week(
        family, read_schedule_csv(f, family), read_requests_csv(later, family), replications=5
    )
    metrics = {m.label: m for m in at.metric}
    assert metrics["Requests booked"].value == f"{expected.booking.booked}/60"
    assert metrics["Booked in the week"].value == str(200 + expected.booking.booked)
    unbooked = at.dataframe[0].value
    assert unbooked["reason"].tolist() == expected.booking.unbooked["reason"].tolist()
    assert {b.label for b in at.get("download_button")} >= {
        "booked schedule.csv",
        "booked fhir-bundle.json",
        "booked sessions.csv",
    }
    assert "Plans the week" in at.info[0].value  # the plan itself still waits for its button


def test_schedule_page_books_during_the_week_into_days_to_come_only(family, tmp_path):
    import datetime as dt

    from clinicflow.domain.requests import read_requests_csv
    from clinicflow.domain.schedule import read_schedule_csv
    from clinicflow.week_booking import book_week

    thursday = dt.date(2026, 12, 3)
    f, later, at = _book_later_requests_on_the_page(family, tmp_path, today=thursday)
    week, reqs = read_schedule_csv(f, family), read_requests_csv(later, family)
    expected = book_week(family, week, reqs, replications=5, today=thursday)
    anytime = book_week(family, week, reqs, replications=5)
    assert expected.booking.booked < anytime.booking.booked  # Monday to Wednesday's slots are gone
    new = expected.schedule[
        (expected.schedule["kind"] == "booked")
        & ~expected.schedule["patient_ref"].isin(week["patient_ref"].dropna())
    ]
    assert (new["date"] >= thursday).all()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Requests booked"] == f"{expected.booking.booked}/60"


def test_schedule_page_releases_the_next_days_holds_as_book_does(family, tmp_path):
    """Thursday, releasing the holds of Thursday and Friday: the page books what ``book_week`` books
    with ``release_days=1`` and says how many released holds the requests took."""
    import datetime as dt

    from clinicflow.domain.requests import read_requests_csv
    from clinicflow.domain.schedule import read_schedule_csv
    from clinicflow.week_booking import book_week

    thursday = dt.date(2026, 12, 3)
    f, later, at = _book_later_requests_on_the_page(family, tmp_path, today=thursday, release=1)
    week, reqs = read_schedule_csv(f, family), read_requests_csv(later, family)
    expected = book_week(family, week, reqs, replications=5, today=thursday, release_days=1)
    kept = book_week(family, week, reqs, replications=5, today=thursday)
    assert expected.holds_released > 0  # what they take is book's test (tests/test_book.py)
    assert (
        expected.booking.booked >= kept.booking.booked
        and expected.booking.objective >= kept.booking.objective
    )
    assert {m.label: m.value for m in at.metric}["Requests booked"] == f"{expected.booking.booked}/60"
    assert expected.release_line() in [i.value for i in at.info]


def test_schedule_page_rebooks_the_patients_of_a_provider_now_off(family, tmp_path, monkeypatch):
    """The practice's week made before Dr. Okafor's sick day: the page says how many visits leave
    the week and how many patients were rebooked, as ``book`` prints it."""

    from clinicflow import load_scenario
    from clinicflow.domain.requests import read_requests_csv
    from clinicflow.domain.schedule import read_schedule_csv
    from clinicflow.week_booking import book_week

    data = yaml.safe_load((ROOT / "scenarios" / "family-practice.yaml").read_text())
    data["providers"][0]["time_off"] = [{"date": "2026-12-01", "reason": "sick"}]
    sick = tmp_path / "family-sick.yaml"
    sick.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("CLINICFLOW_SCENARIOS", json.dumps([str(sick)]))
    f, later, at = _book_later_requests_on_the_page(family, tmp_path)
    s = load_scenario(sick)
    expected = book_week(s, read_schedule_csv(f, s), read_requests_csv(later, s), replications=5)
    lines = expected.bump_lines()
    assert len(expected.bumped) > 0 and "(time off (sick))" in lines[0]
    assert [w.value for w in at.warning] == ["\n".join(f"- {line}" for line in lines)]
    metrics = {m.label: m for m in at.metric}
    assert metrics["Requests booked"].value == "{}/{}".format(*expected.requests_booked())


def test_noshow_page_scores_next_weeks_booked_appointments(family):
    import datetime as dt

    from clinicflow.policies import evenly_spaced_schedule

    sched = booked_week(evenly_spaced_schedule(family, dt.date(2026, 11, 30)), 40)
    at = _run(
        "noshow.py",
        ns_rows=5_000,
        planned_schedule=sched,
        planned_for=str(ROOT / "scenarios" / "family-practice.yaml"),
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Booked appointments scored"] == "40"
    mean_risk = float(metrics["Mean predicted risk"].rstrip("%")) / 100
    assert 0.03 < mean_risk < 0.4
    risks = at.dataframe[-1].value["risk"]
    assert (risks.diff().dropna() <= 0).all()  # highest risk first

    # pending requests scored on the same page: the file the Schedule page books, with every score set
    from clinicflow.domain.requests import requests_frame, synthetic_requests

    reqs = synthetic_requests(family, dt.date(2026, 11, 30), n=12, seed=4)
    at.sidebar.file_uploader(key="ns_requests").set_value(
        ("pending.csv", requests_frame(reqs).to_csv(index=False).encode(), "text/csv")
    )
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.exception or at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Requests scored"] == "12"
    assert [b.proto.label for b in at.get("download_button")] == ["requests-scored.csv"]
    table = next(d.value for d in at.dataframe if "no_show_prob" in d.value.columns)
    assert sorted(table["patient_ref"]) == sorted(r.patient_ref for r in reqs)  # every request, once
    p = table["no_show_prob"].to_numpy(dtype=float)
    assert ((p > 0) & (p < 1)).all() and (np.diff(p) <= 0).all()  # highest score first
    assert float(metrics["Mean score"].rstrip("%")) == pytest.approx(100 * p.mean(), abs=0.05)
    # a bad requests file is one line naming the upload; the rest of the page still works
    at.sidebar.file_uploader(key="ns_requests").set_value(
        ("pending.csv", b"patient_ref,appointment_type\nP1,teeth_cleaning\n", "text/csv")
    )
    at.run()
    assert [e.value for e in at.error] == [
        "pending.csv: column earliest_date: missing column (expected columns: patient_ref, appointment_type, "
        "preferred_provider, earliest_date, latest_date, time_of_day, urgency, no_show_prob)"
    ]
    assert {m.label: m.value for m in at.metric}["Booked appointments scored"] == "40"

    # the orthopedic practice picked: the family practice's planned week is not scored as its own
    at.sidebar.file_uploader(key="ns_requests").set_value(None)
    at.sidebar.selectbox(key="scenario_file").select("orthopedic-practice.yaml").run()
    assert not at.exception and not at.error, [e.value for e in at.exception or at.error]
    assert "Booked appointments scored" not in {m.label for m in at.metric}
    assert at.info[-1].value == (
        "The week planned on the Schedule page is family-practice.yaml's: plan orthopedic-practice.yaml's "
        "week there to score its booked appointments here."
    )


def test_whatif_page_adds_a_session_and_reports_bad_input_in_one_line():
    import datetime as dt

    at = _run("whatif.py", wi_reps=10)
    at.selectbox(key="wi_add").select("dr_chen")
    at.selectbox(key="wi_add_day").select("fri")
    at.time_input(key="wi_add_start").set_value(dt.time(8, 0))
    at.time_input(key="wi_add_end").set_value(dt.time(12, 0))
    at.button[0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m for m in at.metric}
    # four more provider-hours: more patients seen, and four more hours of Dr. Chen's $120/h
    assert float(metrics["patients seen"].delta.split()[0]) > 0
    assert metrics["staff cost per week ($)"].delta.startswith("+480.0")
    at.time_input(key="wi_add_end").set_value(dt.time(7, 0))  # ends before it starts
    at.button[0].click()
    at.run()
    assert not at.exception
    assert "extra_sessions.dr_chen.fri[0].end" in at.error[0].value


def test_whatif_page_refuses_no_mas_with_the_clis_message():
    at = _run("whatif.py", wi_reps=10)
    needing = "new_patient, annual_physical, medicare_awv, follow_up, sick_visit, procedure"
    refused = (
        f"would leave no medical assistant on duty all week, while {needing} need MA rooming (rooming_min); "
        "expected at least 1"
    )
    at.number_input(key="wi_mas").set_value(0)
    at.button[0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [f"what-if form: medical_assistants: {refused}"]
    assert not at.metric  # the page stops at the message: no half-drawn comparison
    at.number_input(key="wi_mas").set_value(4)  # back to the base: the page is drawn whole again
    at.button[0].click()
    at.run()
    assert not at.error and at.metric
    at.text_input(key="sw_r1").set_value("0..1")
    at.button[1].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [f"--vary mas: mas=0: {refused}"]


def test_pages_open_on_the_practices_own_scenario_and_flow_warns_of_its_staffing_hole(monkeypatch, tmp_path):
    """``clinicflow dashboard SCENARIO.yaml``: the given file comes first and every page opens on it.

    The late-MA clinic has no MA on duty before 10:00 on Monday: the flow page says so in the
    simulator's words, above the metrics (the bundled practices have no such hole).
    """
    own = ROOT / "tests" / "data" / "late_ma_clinic.yaml"
    twin = tmp_path / "family-practice.yaml"  # a practice's own file named like a bundled one
    twin.write_text((ROOT / "scenarios" / "family-practice.yaml").read_text())
    monkeypatch.setenv("CLINICFLOW_SCENARIOS", json.dumps([str(own), str(twin)]))
    at = _run("flow.py", flow_reps=5)
    picker = at.sidebar.selectbox(key="scenario_file")
    bundled = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml") if "mapping" not in p.name)
    # the two given files first; the twin and the bundled file are told apart by their paths
    assert picker.options[:2] == ["late_ma_clinic.yaml", str(twin)]
    assert picker.options[2:] == [
        str(ROOT / "scenarios" / n) if n == "family-practice.yaml" else n for n in bundled
    ]
    assert picker.value == "late_ma_clinic.yaml"
    assert at.caption[0].value.startswith("Late MA (random clinic 2 of session 6) · ")
    assert [w.value for w in at.warning] == [
        "Monday 2026-01-05: 6 scheduled visit(s) at 08:00-09:50 need MA rooming while no medical "
        "assistant is on duty (staff.by_day, staff.shifts); they wait for an MA shift later that day"
    ]
    picker.select(str(ROOT / "scenarios" / "family-practice.yaml")).run()
    assert not at.exception
    assert at.caption[0].value.startswith("Maple Street Family Medicine · ")
    assert not at.warning  # the bundled practice has an MA whenever it has patients


def test_whatif_page_runs_an_uploaded_base_schedule(family, tmp_path):
    """The base runs the uploaded week exactly (the same numbers as simulating the file); two more
    rooms keep it; a file naming an unknown provider is one line naming the upload."""
    import datetime as dt

    from clinicflow.domain.schedule import read_schedule_csv, write_schedule_csv
    from clinicflow.policies import evenly_spaced_schedule
    from clinicflow.sim import simulate

    monday = dt.date(2026, 11, 30)
    f = tmp_path / "current.csv"
    write_schedule_csv(evenly_spaced_schedule(family, monday).iloc[::2], f)  # every other slot: a light week
    at = _run("whatif.py", wi_reps=10, wi_rooms=2)
    at.sidebar.file_uploader(key="wi_schedule").set_value(("current.csv", f.read_bytes(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = simulate(family, read_schedule_csv(f, family), replications=10, seed=1).summary()
    seen = {m.label: m for m in at.metric}["patients seen"]
    assert seen.help.startswith(f"base {expected.loc['patients_seen', 'mean']:,.1f};")
    [caption] = [c.value for c in at.caption if c.value.startswith(CHANGES)]
    assert f"{CHANGES}extra_rooms: 2" in caption
    assert "base schedule: current.csv" in caption and "schedule kept from the schedule file" in caption
    assert at.selectbox(key="wi_policy").options[0] == "(as base: current.csv)"
    # the sweep runs the uploaded week at every setting: the same numbers as the API's sweep of it
    from clinicflow.whatif.grid import parse_vary
    from clinicflow.whatif.sweep import sweep

    _sweep(at, "3..3", "1..2")
    shown = at.dataframe[-1].value.set_index("desk")["90th-percentile wait (min)"]
    api = sweep(
        family,
        [parse_vary("mas=3..3"), parse_vary("desk=1..2")],
        replications=5,
        seed=1,
        schedule=read_schedule_csv(f, family),
    ).table.set_index("desk")["p90_wait_min"]
    assert list(shown.round(2)) == list(api.round(2))
    assert any(c.value.startswith("Every setting runs the uploaded week (current.csv)") for c in at.caption)

    text = f.read_text().splitlines()
    text[1] = text[1].replace(f",{text[1].split(',')[1]},", ",dr_who,", 1)
    at.sidebar.file_uploader(key="wi_schedule").set_value(
        ("current.csv", "\n".join(text).encode(), "text/csv")
    )
    at.run()
    assert [e.value for e in at.error] == [
        "current.csv: row 2, column provider: unknown provider 'dr_who' (expected one of: dr_okafor, "
        "dr_lindqvist, dr_ramirez, dr_chen, np_haddad, pa_brooks)"
    ]


def test_a_surgery_only_scenario_sends_the_clinic_pages_to_the_surgery_page(monkeypatch, tmp_path):
    """OR blocks and no clinic session (valid for ``clinicflow surgery``): the pages that simulate or
    plan clinic sessions say so in one warning instead of failing; the practice page still shows it."""
    import yaml

    data = yaml.safe_load((ROOT / "scenarios" / "orthopedic-practice.yaml").read_text())
    for p in data["providers"]:
        p.pop("sessions", None)
    data.pop("demand", None)
    f = tmp_path / "or-only.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("CLINICFLOW_SCENARIOS", json.dumps([str(f)]))
    for page in ("flow.py", "whatif.py", "schedule.py"):
        at = _run(page, flow_reps=5, wi_reps=10)
        assert [w.value for w in at.warning] == [
            "or-only.yaml has no clinic sessions (surgery only): its OR blocks are on the Surgery page."
        ], page
        assert not at.metric and not at.error, page
    at = _run("practice.py")
    assert at.title[0].value == "Riverside Orthopaedics"
    assert not at.warning
    assert (
        "9 OR blocks · OR at stluke (hospital; OR3, OR4, OR5; 20 min from the clinic)" in at.caption[1].value
    )


@pytest.mark.parametrize(
    "page, key, name, content, state, click",
    [
        (
            "schedule.py",
            "pl_requests",
            "requests.csv",
            b"patient_ref,appointment_type,preferred_provider,earliest_date,latest_date,time_of_day,urgency\n"
            b"P1,teeth_cleaning,dr_chen,2026-11-30,2026-12-04,any,routine\n",
            {},
            "pl_go",
        ),
        (
            "surgery.py",
            "sg_cases",
            "cases.csv",
            b"case_id,surgeon,case_type\nC1,dr_nobody,tka\n",
            {"sg_reps": 20, "sg_limit": 2},
            None,
        ),
        (
            "noshow.py",
            "ns_upload",
            "export.csv",
            b"when,who\n2026-01-05,x\n",
            {"ns_source": "Upload an export"},
            None,
        ),
    ],
    ids=["requests", "cases", "history"],
)
def test_an_uploaded_file_is_named_as_uploaded_in_its_one_line_error(page, key, name, content, state, click):
    """Uploads are saved in a temporary folder to be read; the error must name the person's file."""
    at = _run(page, **state)
    at.sidebar.file_uploader(key=key).set_value((name, content, "text/csv"))
    if click:
        at.button(key=click).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = [e.value for e in at.error]
    assert error.startswith(f"{name}: ") and "/tmp" not in error and "clinicflow-" not in error, error
    assert "\n" not in error


def test_schedule_page_reports_scored_patients_expected_to_come(tiny_yaml, monkeypatch):
    """Requests scored by calibrate --requests: the booked metric says how many booked patients
    are expected to come by their own scores, beside the appointment types' rates."""
    import datetime as dt

    from clinicflow import load_scenario

    monkeypatch.setenv("CLINICFLOW_SCENARIOS", json.dumps([str(tiny_yaml)]))
    # the smallest budgets a coordinator can set: 5 s, 10 sampled days a session (Optimizer settings)
    at = _run("schedule.py", pl_week=dt.date(2026, 11, 30), pl_limit=5, pl_reps=5, pl_samples=10, pl_seed=2)
    at.sidebar.file_uploader(key="pl_requests").set_value(
        (
            "scored.csv",
            b"patient_ref,appointment_type,preferred_provider,earliest_date,latest_date,time_of_day,urgency,"
            b"no_show_prob\n"
            b"P1,visit,doc,2026-11-30,2026-12-04,any,routine,0.5\n"
            b"P2,visit,doc,2026-11-30,2026-12-04,any,routine,0.3\n",
            "text/csv",
        )
    )
    at.button(key="pl_go").click()
    at.run(timeout=300)
    assert not at.exception and not at.error, [e.value for e in at.exception or at.error]
    [m] = [m for m in at.metric if m.label == "Requests booked"]
    assert m.value == "2/2"
    v = load_scenario(tiny_yaml).type_by_id["visit"]
    own = (1 - 0.5 - min(v.late_cancel, 0.5)) + (1 - 0.3 - min(v.late_cancel, 0.7))
    assert m.proto.help == (
        f"{own:,.1f} booked patients expected to come by their own no-show scores "
        f"({2 * (1 - v.no_show - v.late_cancel):,.1f} at the appointment types' rates)"
    )


def test_whatif_page_calls_the_riskiest_booked_patients(family, tmp_path):
    """Reminder calls on the form: the uploaded week's scored booked patients, the riskiest share
    called, the same numbers as the API's comparison; without scores, the one-line refusal."""
    import datetime as dt

    from clinicflow.domain.schedule import read_schedule_csv, write_schedule_csv
    from clinicflow.policies import evenly_spaced_schedule
    from clinicflow.sim import simulate
    from clinicflow.whatif import Variant, apply_variant
    from clinicflow.whatif.variants import schedule_under

    week = evenly_spaced_schedule(family, dt.date(2026, 11, 30)).iloc[::2].reset_index(drop=True)
    week = booked_week(week, 40, scores=(0.05, 0.45))
    f = tmp_path / "scored.csv"
    write_schedule_csv(week, f)
    at = _run("whatif.py", wi_reps=10, wi_calls=25, wi_call_scale=0.5)
    at.sidebar.file_uploader(key="wi_schedule").set_value(("scored.csv", f.read_bytes(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.exception or at.error]
    [caption] = [c.value for c in at.caption if c.value.startswith(CHANGES)]
    assert (
        "reminder calls to the 10 of 40 scored booked patients most likely to miss (scores 0.36–0.45)"
        in caption
    )
    rate = family.staff.front_desk.hourly_cost
    assert f"10 calls × 3 min at the front desk's ${rate:g}/h: ${10 * 3 / 60 * rate:,.0f} a week" in caption
    v = Variant(name="variant", targeted_reminders={"share": 0.25, "no_show_scale": 0.5, "minutes_each": 3})
    called = schedule_under(v, read_schedule_csv(f, family))
    expected = simulate(apply_variant(family, v), called, replications=10, seed=1).summary()
    seen = {m.label: m for m in at.metric}["patients seen"]
    assert seen.value == f"{expected.loc['patients_seen', 'mean']:,.1f}"

    unscored = tmp_path / "plain.csv"
    write_schedule_csv(evenly_spaced_schedule(family, dt.date(2026, 11, 30)), unscored)
    at.sidebar.file_uploader(key="wi_schedule").set_value(
        ("plain.csv", unscored.read_bytes(), "text/csv")
    ).run()
    assert [e.value for e in at.error] == [
        "variant: targeted_reminders: needs a week whose booked patients carry their no_show_prob scores "
        "(compare --schedule a week planned with scored requests, or scored by calibrate --schedule)"
    ]


def test_the_scenario_picked_on_one_page_is_the_one_the_next_page_opens_on():
    """Streamlit drops a widget's value when another page is shown: the Schedule page opened on the
    family practice right after the orthopedic one was picked on the Practice page."""
    at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=120)
    at.run()
    at.sidebar.selectbox(key="scenario_file").select("orthopedic-practice.yaml").run()
    assert at.title[0].value == "Riverside Orthopaedics"
    at.switch_page("views/schedule.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="scenario_file").value == "orthopedic-practice.yaml"
    assert at.caption[0].value.startswith("Riverside Orthopaedics · week of ")
    at.sidebar.selectbox(key="scenario_file").select("family-practice.yaml").run()
    at.switch_page("views/practice.py").run()
    assert at.title[0].value == "Maple Street Family Medicine"


def test_whatif_changes_made_to_one_practice_are_not_applied_to_the_next_one_picked():
    """Six MAs and one more on Wednesday set for the family practice were kept by the form's
    widgets and compared, unasked, as a change to the orthopedic practice picked next."""
    at = _run("whatif.py", wi_reps=10)
    at.number_input(key="wi_mas").set_value(6)
    at.multiselect(key="wi_ma_days").select("wed")
    at.button[0].click()
    at.run()
    [caption] = [c.value for c in at.caption if c.value.startswith(CHANGES)]
    assert caption.startswith(f"{CHANGES}medical_assistants: 6, extra_mas_on: {{wed: 1}}")
    at.sidebar.selectbox(key="scenario_file").select("orthopedic-practice.yaml").run()
    assert not at.exception and not at.error, [e.value for e in at.exception or at.error]
    assert at.number_input(key="wi_mas").value == 4 and at.multiselect(key="wi_ma_days").value == []
    [caption] = [c.value for c in at.caption if c.value.startswith(CHANGES)]
    assert caption == f"{CHANGES}none (the variant equals the base)"
    cost = {m.label: m for m in at.metric}["staff cost per week ($)"]
    assert cost.delta.startswith("+0.0") and at.slider(key="wi_reps").value == 10


_CSV = b"appointment_id,patient_id,start_at,status\n1,MRN-0042,2026-01-05T09:00,attended\n"


@pytest.mark.parametrize(
    "page, key, name, content, state, expected",
    [
        (
            "noshow.py",
            "ns_upload",
            "export.parquet",
            _CSV,
            {"ns_source": "Upload an export"},
            # pyarrow's own words carried the temporary folder's path
            "export.parquet: not a readable parquet file (expected an Apache Parquet file; a CSV file "
            "renamed .parquet is not one)",
        ),
        (
            "noshow.py",
            "ns_upload",
            "export.xlsx",
            _CSV,
            {"ns_source": "Upload an export"},
            # was pandas' "Excel file format cannot be determined, you must specify an engine manually."
            "export.xlsx: not a readable excel file (expected an Excel workbook, .xlsx or .xls; a CSV file "
            "renamed .xlsx is not one)",
        ),
        (
            "surgery.py",
            "sg_cases",
            "cases.csv",
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(200),
            {"sg_reps": 20, "sg_limit": 2},
            # was "column PK\x03\x04\x14…: unknown column", control bytes and all
            "cases.csv: expected a text file, got a zip archive such as an Excel workbook (save it as CSV UTF-8)",
        ),
        (
            "surgery.py",
            "sg_cases",
            "cases.csv",
            b"case_id,surgeon\x00,case_type\nC1,dr_osei,tka\n",
            {"sg_reps": 20, "sg_limit": 2},
            "cases.csv:1: expected a text file, got binary data (a NUL byte)",
        ),
    ],
    ids=["csv-named-parquet", "csv-named-xlsx", "xlsx-named-csv", "nul-byte"],
)
def test_a_file_of_another_kind_is_one_line_saying_what_was_expected(
    page, key, name, content, state, expected
):
    at = _run(page, **state)
    at.sidebar.file_uploader(key=key).set_value((name, content, "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [expected]
    assert not at.metric


def test_an_uploaded_export_leaves_no_raw_patient_id_on_disk_or_on_the_page(tmp_path, monkeypatch):
    """The export was saved in a temporary folder to be imported and left there, raw patient ids and
    all, for as long as the machine kept /tmp; only its pseudonymized store may stay."""
    import tempfile

    from clinicflow.data.synthetic import generate_history, to_generic, write_history

    uploads = tmp_path / "tmp"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    monkeypatch.setenv("CLINICFLOW_KEY_FILE", str(tmp_path / "key"))
    frame = to_generic(generate_history(3000, seed=4, weeks=12))
    frame["patient_id"] = [f"MRN{int(v) % 10**7:07d}" for v in frame["patient_id"]]
    export = tmp_path / "export.csv"
    write_history(frame, export)
    at = _run("noshow.py", ns_source="Upload an export")
    at.sidebar.file_uploader(key="ns_upload").set_value(("export.csv", export.read_bytes(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.exception or at.error]
    assert {m.label: m.value for m in at.metric}["Appointments"] == "3,000"
    raw = set(frame["patient_id"])
    left = [p for p in uploads.rglob("*") if p.is_file()]
    assert [p.name for p in left if p.suffix == ".csv"] == []  # the upload's copy is gone
    assert [p.name for p in left] == ["upload.duckdb"]  # the pseudonymized store stays, for the page
    shown = " ".join(str(e.value) for e in [*at.caption, *at.markdown, *at.info, *at.metric])
    shown += " ".join(d.value.to_csv() for d in at.dataframe)
    assert not [r for r in raw if r in shown]
    import duckdb

    con = duckdb.connect(str(left[0]), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        text = " ".join(str(row) for t in tables for row in con.execute(f'SELECT * FROM "{t}"').fetchall())
    finally:
        con.close()
    assert "MRN" not in text


def test_schedule_page_says_when_no_request_falls_in_the_planned_week(tiny_yaml, monkeypatch):
    """A requests file for another week booked nothing, and the page only said "0/2" among its
    metrics; without a requests file it said "0/0" requests booked. Now it names the week the
    requests ask for."""
    import datetime as dt

    monkeypatch.setenv("CLINICFLOW_SCENARIOS", json.dumps([str(tiny_yaml)]))
    # the smallest budgets a coordinator can set: 5 s, 10 sampled days a session (Optimizer settings)
    at = _run("schedule.py", pl_week=dt.date(2026, 11, 30), pl_limit=5, pl_reps=5, pl_samples=10, pl_seed=2)
    at.button(key="pl_go").click()
    at.run(timeout=300)
    assert not at.exception and not at.error and not at.warning
    assert {m.label: m.value for m in at.metric}["Requests booked"] == "none given"
    at.sidebar.file_uploader(key="pl_requests").set_value(
        (
            "old.csv",
            b"patient_ref,appointment_type,preferred_provider,earliest_date,latest_date,time_of_day,urgency\n"
            b"P1,visit,doc,2019-01-07,2019-01-08,any,routine\n"
            b"P2,long,,2019-01-07,2019-01-11,any,routine\n",
            "text/csv",
        )
    )
    at.run(timeout=300)
    assert not at.exception and not at.error, [e.value for e in at.exception or at.error]
    assert {m.label: m.value for m in at.metric}["Requests booked"] == "0/2"
    assert [w.value for w in at.warning] == [
        "2 of 2 requests ask only for dates outside the week of 2026-11-30 (theirs run 2019-01-07..2019-01-11; "
        "most in the week of 2019-01-07): pick that Monday under Week (Monday) in the sidebar to book them."
    ]
    reasons = at.dataframe[-1].value
    assert list(reasons["patient_ref"]) == ["P1", "P2"]
    assert reasons["reason"].str.contains("outside the planned week").all()


def test_a_scenario_file_broken_after_the_server_started_is_its_one_line_on_every_page(monkeypatch, tmp_path):
    """``clinicflow dashboard`` checks the files it is given when it starts; one edited since read as
    the loader's one line on the pages with the scenario picker, but as an exception box on the
    Surgery page."""
    own = tmp_path / "my-practice.yaml"
    text = (ROOT / "scenarios" / "orthopedic-practice.yaml").read_text()
    own.write_text(text.replace("turnover_min: {dist: gamma", "turnover_min: {dist: gama"))
    monkeypatch.setenv("CLINICFLOW_SCENARIOS", json.dumps([str(own)]))
    line = text[: text.index("turnover_min: {dist: gamma")].count("\n") + 1
    expected = (
        f"{own}:{line}: rooms.turnover_min.dist: unknown distribution 'gama' (expected one of: "
        "'deterministic', 'exponential', 'lognormal', 'gamma', 'normal', 'empirical')"
    )
    for page in ("surgery.py", "practice.py"):
        at = _run(page, sg_reps=20, sg_limit=2)
        assert [e.value for e in at.error] == [expected], page
        assert not at.metric, page


def test_whatif_page_says_why_the_variants_week_cannot_be_planned(monkeypatch):
    """A template policy re-plans the variant's week; a week the planner proves impossible was an
    exception box (the page caught bad input only; its sweep and the Surgery page too)."""
    import clinicflow.whatif
    from clinicflow import InfeasibleError

    def infeasible(*args, **kwargs):
        raise InfeasibleError(
            "no exam-room assignment exists on Monday", ["more slots overlap than there are rooms"]
        )

    monkeypatch.setattr(clinicflow.whatif, "compare", infeasible)
    at = _run("whatif.py", wi_reps=10, wi_walkins=2.9)  # a setting no other test caches a comparison for
    expected = "no exam-room assignment exists on Monday\n  - more slots overlap than there are rooms"
    assert [e.value for e in at.error] == [expected]
    assert not at.metric


def test_surgery_page_books_the_week_of_a_day_that_is_not_a_monday():
    """The week containing the day is booked, as ``clinicflow surgery --week``; the page said it was
    booking "into the week of" the Wednesday picked, and the Schedule page's note was missing."""
    import datetime as dt

    at = _run("surgery.py", sg_week=dt.date(2026, 12, 2), sg_reps=20, sg_limit=2)
    at.sidebar.file_uploader(key="sg_cases").set_value(
        ("cases.csv", b"case_id,surgeon,case_type\nC1,dr_nobody,tka\n", "text/csv")
    ).run()
    assert [w.value for w in at.sidebar.warning] == [
        "The week starts on Monday: using the Monday of that week."
    ]
    assert len(at.error) == 1 and not at.exception


def _plan_on_the_page(data: dict, tmp_path, monkeypatch, **state) -> AppTest:
    """The Schedule page on the scenario ``data`` (written to a file), its week planned."""
    import datetime as dt

    path = tmp_path / "tiny-changed.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("CLINICFLOW_SCENARIOS", json.dumps([str(path)]))
    at = _run("schedule.py", pl_week=dt.date(2026, 11, 30), pl_limit=5, pl_reps=5, **state)
    at.button(key="pl_go").click()
    at.run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_schedule_page_says_why_demand_is_short(tmp_path, monkeypatch):
    """A week planned short of demand: the page says which rows and why, as ``plan`` prints them."""

    data = tiny_data()
    data["appointment_types"][1]["allowed_windows"] = [{"start": "06:00", "end": "07:00"}]
    at = _plan_on_the_page(data, tmp_path, monkeypatch)
    assert [w.value for w in at.warning] == [
        "Short of demand, and why:\n- long 0/3: its allowed windows (06:00-07:00) fall outside every session "
        "of doc (appointment_types[long].allowed_windows)"
    ]


def test_schedule_page_lists_the_sessions_not_worked(tmp_path, monkeypatch):
    """A week with a closed date and an afternoon off: the page lists them, as ``plan`` prints them."""

    data = tiny_data()
    data["clinic"]["closed_dates"] = ["2026-12-01"]
    data["providers"][0]["time_off"] = [
        {"date": "2026-11-30", "start": "11:00", "end": "12:00", "reason": "CME"}
    ]
    data["providers"][0]["sessions"]["mon"].append({"start": "13:00", "end": "16:00"})
    at = _plan_on_the_page(data, tmp_path, monkeypatch)
    assert [i.value for i in at.info] == [
        "Not worked this week:\n- doc Mon 2026-11-30 08:00-12:00: time off 11:00-12:00 (CME)\n"
        "- Tue 2026-12-01: the clinic is closed (1 session)"
    ]


def test_schedule_page_takes_a_sick_day_typed_in_the_sidebar(tmp_path, monkeypatch):
    """``dr:DATE`` in the sidebar is time off as ``--off`` gives it; a typo is one line, no plan."""
    import datetime as dt

    at = _plan_on_the_page(tiny_data(), tmp_path, monkeypatch, pl_off="doc:2026-12-01")
    assert [i.value for i in at.info] == ["Not worked this week:\n- doc Tue 2026-12-01 13:00-17:00: time off"]
    bad = _run("schedule.py", pl_week=dt.date(2026, 11, 30), pl_off="dr_who:2026-12-01")
    assert [e.value for e in bad.sidebar.error] == ["Away: unknown provider 'dr_who' (expected one of: doc)"]
    assert not bad.button  # the page stopped before the plan button


def test_whatif_page_plans_the_variants_week_with_a_progress_bar_then_compares(tiny_yaml, monkeypatch):
    """A template policy plans the variant's week first (half a minute on a practice's week): the page
    draws the planner's progress, removes the bar when done, and shows the comparison."""
    monkeypatch.setenv("CLINICFLOW_SCENARIOS", json.dumps([str(tiny_yaml)]))
    at = _run("whatif.py", wi_reps=10, wi_policy="optimized")
    assert not at.error, [e.value for e in at.error]
    assert not at.get("progress")  # emptied once the week is planned
    assert {m.label for m in at.metric} >= {"mean wait (min)", "labour cost per week ($)"}
    caption = next(c.value for c in at.caption if c.value.startswith(CHANGES))
    assert "template_policy: optimized" in caption and "schedule re-planned" in caption

"""Exports at the edges: calendars a calendar app reads right, FHIR instants in every zone and year
the week may fall in, the default week in the clinic's own date, and an output folder that holds
one run's files, not two."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pandas as pd
import pytest
import yaml
from fhir.resources.R4B.bundle import Bundle

from clinicflow import scenario_from_dict
from clinicflow.domain.schedule import validate_schedule
from clinicflow.domain.surgery_schedule import SURGERY_COLUMNS
from clinicflow.exports.common import atomic_output_dir
from clinicflow.exports.fhir import fhir_bundle
from clinicflow.exports.surgery_files import fhir_bundle as surgery_fhir_bundle
from clinicflow.exports.surgery_files import surgeon_calendars
from conftest import ORTHO, ROOT, run_main
from tests_helpers import tiny_data


def _ortho(timezone: str = "America/New_York"):
    data = yaml.safe_load(ORTHO.read_text())
    data["clinic"]["timezone"] = timezone
    return scenario_from_dict(data, "ortho.yaml")


def _cases(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """A surgery schedule table of (date, start, end, case_id) rows for dr_osei in OR4."""
    table = pd.DataFrame(
        [
            {
                "date": dt.date.fromisoformat(date),
                "facility": "stluke",
                "room": "OR4",
                "block_start": "07:30",
                "block_end": "15:30",
                "block_owner": "dr_osei",
                "sequence": i + 1,
                "start": start,
                "end": end,
                "case_id": case_id,
                "surgeon": "dr_osei",
                "case_type": "knee_scope",
                "patient_ref": f"PT-{i:04d}",
                "priority": 1,
                "planned_min": 50,
                "equipment": "",
            }
            for i, (date, start, end, case_id) in enumerate(rows)
        ]
    )
    return table[SURGERY_COLUMNS]


def _vtimezone_offsets(cal: icalendar.Calendar) -> list[dt.timedelta]:
    """Each event's UTC offset as a calendar app computes it: from the file's own VTIMEZONE."""
    zones = {str(tz["TZID"]): tz.to_tz() for tz in cal.walk("VTIMEZONE")}
    out = []
    for ev in cal.walk("VEVENT"):
        prop = ev["dtstart"]
        zone = zones[prop.params["TZID"]]  # KeyError: a TZID without its VTIMEZONE
        naive = prop.dt.replace(tzinfo=None)
        local = zone.localize(naive) if hasattr(zone, "localize") else naive.replace(tzinfo=zone)
        out.append(local.utcoffset())
    return out


def test_surgeon_calendars_carry_the_vtimezone_of_their_tzid(tmp_path):
    # the Friday before and the Monday after Europe/London's spring change (Sunday 2026-03-29)
    sc = _ortho("Europe/London")
    table = _cases(("2026-03-27", "07:30", "08:20", "C1"), ("2026-03-30", "07:30", "08:20", "C2"))
    (path,) = surgeon_calendars(table, sc, tmp_path)
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    assert str(cal["x-wr-timezone"]) == "Europe/London"
    assert _vtimezone_offsets(cal) == [dt.timedelta(0), dt.timedelta(hours=1)]
    starts = sorted(ev.decoded("dtstart") for ev in cal.walk("VEVENT"))
    assert [(s.hour, s.minute) for s in starts] == [(7, 30), (7, 30)]


def _tiny_week(timezone: str, monday: dt.date):
    data = tiny_data()
    data["clinic"]["timezone"] = timezone
    sc = scenario_from_dict(data, "tiny.yaml")
    rows = [
        {"date": monday.isoformat(), "provider": "doc", "start": "09:00", "appointment_type": "visit"},
        {
            "date": (monday + dt.timedelta(days=1)).isoformat(),
            "provider": "doc",
            "start": "13:00",
            "appointment_type": "visit",
            "kind": "booked",
            "patient_ref": "P000001",
        },
    ]
    return sc, validate_schedule(pd.DataFrame(rows), sc)


@pytest.mark.parametrize(
    "timezone, monday",
    [
        ("Asia/Kolkata", dt.date(1900, 1, 1)),  # local mean time: +05:21:10
        ("Africa/Monrovia", dt.date(1971, 1, 4)),  # -00:44:30 until 1972
        ("Asia/Kolkata", dt.date(2026, 11, 30)),  # +05:30, as written
    ],
)
def test_fhir_instants_in_every_zone_and_year_validate_at_the_right_instant(timezone, monday):
    """FHIR writes offsets as ±hh:mm; a zone whose offset then had seconds is written in UTC."""
    sc, week = _tiny_week(timezone, monday)
    data = fhir_bundle(week, sc)
    Bundle.model_validate(data)
    zone = ZoneInfo(timezone)
    slots = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Slot"]
    for slot, row in zip(slots, week.itertuples(), strict=True):
        start = dt.datetime.fromisoformat(slot["start"])
        expected = dt.datetime.combine(
            row.date, dt.time(row.start_min // 60, row.start_min % 60), tzinfo=zone
        )
        assert start == expected
        if expected.utcoffset().seconds % 60 == 0:
            assert start.utcoffset() == expected.utcoffset()  # the clinic's own offset when FHIR can say it

    ortho = _ortho(timezone)
    table = _cases((monday.isoformat(), "07:30", "08:20", "C1"))
    appt = surgery_fhir_bundle(table, ortho)["entry"][0]["resource"]
    assert dt.datetime.fromisoformat(appt["start"]) == dt.datetime.combine(
        monday, dt.time(7, 30), tzinfo=zone
    )


def test_plan_with_a_lmt_week_is_written_not_a_traceback(tmp_path):
    data = tiny_data()
    data["clinic"]["timezone"] = "Asia/Kolkata"
    scenario = tmp_path / "kolkata.yaml"
    scenario.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    args = ["--time-limit", "2", "--samples", "5", "--replications", "2", "--evaluator", "saa"]
    r = run_main("plan", scenario, "--week", "1900-01-01", "--out", out, *args)
    assert r.code == 0, r.stderr
    Bundle.model_validate_json((out / "fhir-bundle.json").read_text())


def test_default_week_is_next_monday_in_the_clinics_own_date():
    from clinicflow.cli._options import clinic_next_monday

    # Sunday 2026-11-29, 23:30 in Honolulu is already Monday 09:30 UTC: the week to plan starts the
    # next day for the practice, not a week later
    now = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)
    assert clinic_next_monday(ZoneInfo("Pacific/Honolulu"), now) == dt.date(2026, 11, 30)
    assert clinic_next_monday(ZoneInfo("UTC"), now) == dt.date(2026, 12, 7)
    # Monday 00:30 in Auckland is still Sunday in UTC
    now = dt.datetime(2026, 11, 29, 11, 30, tzinfo=dt.UTC)
    assert clinic_next_monday(ZoneInfo("Pacific/Auckland"), now) == dt.date(2026, 12, 7)
    assert clinic_next_monday(ZoneInfo("UTC"), now) == dt.date(2026, 11, 30)


def test_plan_without_week_plans_the_clinics_next_monday(tmp_path, monkeypatch):
    from clinicflow.cli import plan as plan_cli

    seen: dict = {}

    def fake_plan_and_book(sc, monday, *args, **kwargs):
        seen["monday"] = monday
        raise SystemExit(0)

    monkeypatch.setattr(plan_cli, "plan_and_book", fake_plan_and_book)
    monkeypatch.setattr(
        plan_cli,
        "clinic_next_monday",
        lambda zone: dt.date(2026, 11, 30) if str(zone) == "America/Denver" else None,
    )
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny_data()))
    r = run_main("plan", scenario, "--out", tmp_path / "out")
    assert r.code == 0, r.stderr
    assert seen["monday"] == dt.date(2026, 11, 30)


def test_synthetic_requests_without_week_are_for_the_clinics_next_monday(tmp_path, monkeypatch):
    from clinicflow.cli import history as history_cli

    # the machine's date would say another week: only the clinic's (Denver) date is asked
    monkeypatch.setattr(
        history_cli,
        "clinic_next_monday",
        lambda zone: dt.date(2027, 3, 1) if str(zone) == "America/Denver" else None,
    )
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny_data()))
    req = tmp_path / "req.csv"
    r = run_main(
        "history", "synthesize", tmp_path / "h.csv", "--rows", "300", "--scenario", scenario,
        "--requests-out", req, "--requests", "20",
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert "week of 2027-03-01" in r.stdout
    reqs = pd.read_csv(req)
    assert reqs["earliest_date"].min() >= "2027-02-22"  # a week before the week at most
    history = pd.read_csv(tmp_path / "h.csv")
    assert history["start_at"].max() < "2027-03-01"  # the history ends before the requests' week


def test_atomic_output_dir_removes_the_files_it_owns_that_this_run_did_not_write(tmp_path):
    out = tmp_path / "out"
    with atomic_output_dir(out, owned=("ics/*.ics", "unbooked.csv")) as tmp:
        (tmp / "ics").mkdir()
        for name in ("ics/a.ics", "ics/b.ics", "unbooked.csv", "schedule.csv"):
            (tmp / name).write_text("1")
    (out / "notes.txt").write_text("the coordinator's own file")
    (out / "ics" / "readme.txt").write_text("not a calendar")
    with atomic_output_dir(out, owned=("ics/*.ics", "unbooked.csv")) as tmp:
        (tmp / "ics").mkdir()
        (tmp / "ics" / "a.ics").write_text("2")
        (tmp / "schedule.csv").write_text("2")
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["ics/a.ics", "ics/readme.txt", "notes.txt", "schedule.csv"]
    assert (out / "ics" / "a.ics").read_text() == "2"
    # a failed run removes nothing
    with pytest.raises(RuntimeError), atomic_output_dir(out, owned=("ics/*.ics",)) as tmp:
        raise RuntimeError("boom")
    assert (out / "ics" / "a.ics").exists()


def test_replanning_into_the_same_folder_leaves_no_file_of_the_earlier_run(tmp_path):
    data = tiny_data()
    second = dict(data["providers"][0], id="doc2", name="Dr. Two")
    data["providers"].append(second)
    data["rooms"]["count"] = 4
    scenario = tmp_path / "two.yaml"
    scenario.write_text(yaml.safe_dump(data))
    req = tmp_path / "req.csv"
    req.write_text(
        "patient_ref,appointment_type,preferred_provider,earliest_date,latest_date,time_of_day,urgency\n"
        "P000001,visit,doc,2026-11-30,2026-12-01,any,routine\n"
    )
    out = tmp_path / "out"
    args = ["--week", "2026-11-30", "--out", out, "--time-limit", "2", "--samples", "5"]
    args += ["--replications", "2", "--evaluator", "saa"]
    r = run_main("plan", scenario, "--requests", req, *args)
    assert r.code == 0, r.stderr
    assert {"unbooked.csv", "ics/doc2.ics"} <= {str(p.relative_to(out)) for p in out.rglob("*")}

    data["providers"].pop()  # dr_two leaves; this week is planned without requests
    scenario.write_text(yaml.safe_dump(data))
    r = run_main("plan", scenario, *args)
    assert r.code == 0, r.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "fhir-bundle.json",
        "ics/doc.ics",
        "kpis.json",
        "schedule.csv",
        "schedule.xlsx",
        "sessions.csv",
    ]


def test_rebooking_the_or_week_into_the_same_folder_drops_calendars_of_surgeons_without_cases(tmp_path):
    cases = (ROOT / "scenarios" / "orthopedic-cases.csv").read_text().splitlines()
    only_osei = tmp_path / "osei.csv"
    only_osei.write_text("\n".join([cases[0], *(ln for ln in cases[1:] if ",dr_osei," in ln)]) + "\n")
    out = tmp_path / "out"
    args = ["--week", "2026-12-02", "--out", out, "--replications", "0", "--time-limit", "1"]
    r = run_main("surgery", ORTHO, "--cases", ROOT / "scenarios" / "orthopedic-cases.csv", *args)
    assert r.code == 0, r.stderr
    assert len(list(out.glob("surgeon_*.ics"))) > 1
    r = run_main("surgery", ORTHO, "--cases", only_osei, *args)
    assert r.code == 0, r.stderr
    assert [p.name for p in out.glob("surgeon_*.ics")] == ["surgeon_dr_osei.ics"]


@pytest.mark.parametrize("name", ["de_DE.UTF-8", "fr_FR.UTF-8"])
def test_workbook_day_headers_do_not_depend_on_the_locale(tmp_path, monkeypatch, name):
    """The day header came from ``strftime('%a')``: "Mo" under a German LC_TIME, a KeyError."""
    import locale

    from openpyxl import load_workbook

    from clinicflow.exports.schedule_excel import write_schedule_xlsx

    old = locale.setlocale(locale.LC_TIME)
    try:
        locale.setlocale(locale.LC_TIME, name)
    except locale.Error:  # not installed: compiled for this test from glibc's sources, if they are here
        import shutil
        import subprocess

        lang = name.split(".")[0]
        if shutil.which("localedef") is None or not Path(f"/usr/share/i18n/locales/{lang}").exists():
            pytest.skip(f"locale {name} not installed and no localedef sources")
        subprocess.run(["localedef", "-i", lang, "-f", "UTF-8", str(tmp_path / name)], check=True)
        monkeypatch.setenv("LOCPATH", str(tmp_path))  # glibc reads it when the locale is loaded
        locale.setlocale(locale.LC_TIME, name)
    try:
        sc, week = _tiny_week("America/Denver", dt.date(2026, 11, 30))
        write_schedule_xlsx(week, sc, tmp_path / "s.xlsx")
    finally:
        locale.setlocale(locale.LC_TIME, old)
    ws = load_workbook(tmp_path / "s.xlsx")["doc"]
    assert [c.value for c in ws[2]] == ["Time", "Mon 2026-11-30", "Tue 2026-12-01"]


def test_calendar_uids_and_fhir_slot_ids_survive_a_slot_added_earlier_in_the_week():
    """Ids came from the row number: a slot added on Monday renumbered every later slot, and a
    calendar or EHR importing the re-planned week held each of them twice. Now a slot's id is its
    provider, date, start and rank at that start: the others keep theirs, a double-booked start
    gets two, and a slot that gets booked keeps its id (the re-import updates it)."""
    from clinicflow.exports.ical import provider_calendar

    sc = scenario_from_dict(tiny_data(), "tiny.yaml")

    def slot(day, start, **kw):
        return {"date": day, "provider": "doc", "start": start, "appointment_type": "visit"} | kw

    week = [slot("2026-11-30", "09:00"), slot("2026-12-01", "13:00", kind="booked", patient_ref="P1")]

    def ids(rows):
        frame = validate_schedule(pd.DataFrame(rows), sc)
        uids = [str(e["UID"]) for e in provider_calendar(frame, sc, "doc").walk("VEVENT")]
        entries = fhir_bundle(frame, sc)["entry"]
        slots = [e["resource"]["id"] for e in entries if e["resource"]["resourceType"] == "Slot"]
        return uids, slots

    uids, slots = ids(week)
    more_uids, more_slots = ids([slot("2026-11-30", "08:30"), *week])
    assert more_uids[1:] == uids and more_slots[1:] == slots  # the earlier slots keep their ids
    double_uids, double_slots = ids([slot("2026-11-30", "08:30"), slot("2026-11-30", "08:30"), *week])
    assert len(set(double_uids)) == 4 and len(set(double_slots)) == 4
    assert double_uids[0] == more_uids[0]
    booked_uids, booked_slots = ids([slot("2026-11-30", "08:30", kind="booked", patient_ref="P9"), *week])
    assert booked_uids == more_uids and booked_slots == more_slots


def test_calendar_dtstamp_is_the_export_time_or_source_date_epoch(monkeypatch):
    """DTSTAMP was fixed at 2000-01-01: with stable UIDs a calendar app meeting the re-exported week
    keeps the copy with the later DTSTAMP, so a slot booked since would be dropped as stale. Now it
    is the export's time, or ``SOURCE_DATE_EPOCH`` for byte-identical files."""
    from clinicflow.exports.ical import provider_calendar

    sc, week = _tiny_week("America/Chicago", dt.date(2026, 11, 30))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamps = {e["DTSTAMP"].dt for e in provider_calendar(week, sc, "doc").walk("VEVENT")}
    after = dt.datetime.now(dt.UTC)
    assert len(stamps) == 1 and before <= stamps.pop() <= after
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    first = provider_calendar(week, sc, "doc").to_ical()
    assert b"DTSTAMP:20251201T000000Z" in first
    assert provider_calendar(week, sc, "doc").to_ical() == first


def test_fhir_bundle_names_providers_rooms_and_patients_by_identifier_and_reads_back(tmp_path):
    """``Practitioner/doc`` pointed at a resource the Bundle does not hold (and ``dr_okafor`` is no
    valid FHIR id): every actor is now a logical reference, type + identifier, which an EHR matches
    to its own records, and which clinicflow's own FHIR history import reads back."""
    import json

    from clinicflow.data.importers import read_history

    sc, week = _tiny_week("America/Chicago", dt.date(2026, 11, 30))
    week.loc[week["kind"] == "booked", "room"] = "R1"
    data = fhir_bundle(week, sc)
    Bundle.model_validate(data)
    assert data["id"] == "week-2026-11-30"  # one id per week: a server storing by id keeps each week
    text = json.dumps(data)
    assert '"reference": "Practitioner/' not in text and '"reference": "Location/' not in text
    appt = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Appointment")
    actors = {p["actor"]["type"]: p["actor"]["identifier"] for p in appt["participant"]}
    assert actors == {
        "Practitioner": {"system": "https://clinicflow.dev/provider", "value": "doc"},
        "Patient": {"system": "https://clinicflow.dev/patient-ref", "value": "P000001"},
        "Location": {"system": "https://clinicflow.dev/room", "value": "R1"},
    }
    path = tmp_path / "bundle.json"
    path.write_text(text)
    raw = read_history(path, "fhir")
    assert raw.frame[["provider", "patient_id"]].to_dict("records") == [
        {"provider": "doc", "patient_id": "P000001"}
    ]

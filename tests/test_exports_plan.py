"""Exports of a planned week: printable workbook, iCalendar per provider, FHIR R4 Bundle."""

from __future__ import annotations

import datetime as dt
import json

import icalendar
import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from openpyxl import load_workbook

from clinicflow import scenario_from_dict
from clinicflow.domain.requests import parse_requests
from clinicflow.exports.fhir import fhir_bundle, write_fhir_bundle
from clinicflow.exports.ical import write_ics
from clinicflow.exports.schedule_excel import write_schedule_xlsx
from clinicflow.solver.booking import apply_booking, book_requests
from clinicflow.solver.plan import plan_week
from tests_helpers import tiny_data

MONDAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def booked():
    s = scenario_from_dict(tiny_data(), "tiny.yaml")
    plan = plan_week(s, MONDAY, time_limit=10, samples=10)
    reqs = parse_requests(
        pd.DataFrame(
            [
                {
                    "patient_ref": "P000001",
                    "appointment_type": "visit",
                    "preferred_provider": "doc",
                    "earliest_date": "2026-11-30",
                    "latest_date": "2026-12-01",
                    "time_of_day": "any",
                    "urgency": "routine",
                },
                {
                    "patient_ref": "P000002",
                    "appointment_type": "long",
                    "preferred_provider": "",
                    "earliest_date": "2026-11-30",
                    "latest_date": "2026-12-01",
                    "time_of_day": "afternoon",
                    "urgency": "soon",
                },
            ]
        ),
        s,
    )
    b = book_requests(s, plan.schedule, reqs)
    return s, apply_booking(s, plan.schedule, reqs, b)


def test_workbook_has_a_sheet_per_provider_and_a_column_per_day(booked, tmp_path):
    s, sched = booked
    p = tmp_path / "s.xlsx"
    write_schedule_xlsx(sched, s, p)
    wb = load_workbook(p)
    assert wb.sheetnames == ["doc"]
    ws = wb["doc"]
    assert ws["A1"].value == "Dr. Doc (MD)"
    assert [c.value for c in ws[2]] == ["Time", "Mon 2026-11-30", "Tue 2026-12-01"]
    first = sched.sort_values(["start_min"]).iloc[0]
    assert ws["A3"].value == first["start"]
    texts = [c.value for row in ws.iter_rows(min_row=3) for c in row[1:] if c.value]
    assert sum(t.count("\n") + 1 for t in texts) == len(sched)
    assert any("P000001" in t for t in texts) and any(t.startswith("HOLD ") for t in texts)
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$2:$2"


def test_ics_per_provider_in_clinic_timezone(booked, tmp_path):
    s, sched = booked
    (path,) = write_ics(sched, s, tmp_path / "ics")
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(sched)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Denver"]
    starts = sorted(e.decoded("dtstart") for e in events)
    assert str(starts[0].tzinfo) == "America/Denver"
    first = sched.sort_values(["date", "start_min"]).iloc[0]
    assert (starts[0].hour * 60 + starts[0].minute) == first["start_min"]
    assert starts[0].utcoffset() == dt.timedelta(hours=-7)


def test_fhir_bundle_validates_and_links_slots(booked, tmp_path):
    s, sched = booked
    data = fhir_bundle(sched, s)
    kinds = pd.Series([e["resource"]["resourceType"] for e in data["entry"]]).value_counts().to_dict()
    n_booked = int((sched["kind"] == "booked").sum())
    assert n_booked == 2
    assert kinds == {"Schedule": 1, "Slot": len(sched), "Appointment": n_booked}
    path = tmp_path / "b.json"
    write_fhir_bundle(sched, s, path)
    bundle = Bundle.model_validate(json.loads(path.read_text()))
    slot_ids = {f"urn:uuid:{e.resource.id}" for e in bundle.entry if e.resource.get_resource_type() == "Slot"}
    for e in bundle.entry:
        if e.resource.get_resource_type() == "Appointment":
            assert e.resource.slot[0].reference in slot_ids
            assert e.resource.status == "booked"
    statuses = {e.resource.status for e in bundle.entry if e.resource.get_resource_type() == "Slot"}
    assert statuses <= {"free", "busy", "busy-tentative"}
    start = next(e.resource.start for e in bundle.entry if e.resource.get_resource_type() == "Slot")
    assert start.utcoffset() == dt.timedelta(hours=-7)

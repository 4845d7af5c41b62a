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
    # every event is its slot: day, start and end on the wall clock, kind and type in the summary,
    # the patient reference on booked slots only (not just the first event's start)
    kinds = {"hold": "Same-day hold", "booked": "Booked", "template": "Open slot"}

    def wall(t):
        return t.date(), t.hour * 60 + t.minute

    got = sorted(
        (
            *wall(e.decoded("dtstart")),
            wall(e.decoded("dtend"))[1],
            str(e["summary"]),
            str(e.get("description", "")),
        )
        for e in events
    )
    want = sorted(
        (
            r.date,
            r.start_min,
            r.end_min,
            f"{kinds[r.kind]}: {s.type_by_id[r.appointment_type].name}",
            f"Patient reference {r.patient_ref} (pseudonymous)" if r.kind == "booked" else "",
        )
        for r in sched.itertuples()
    )
    assert got == want
    assert {e.decoded("dtend").utcoffset() for e in events} == {dt.timedelta(hours=-7)}


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
    # every slot is its schedule row: status by kind, start and end on the clinic's wall clock, type;
    # a booked appointment sits on a busy slot with the same times and lasts its scheduled minutes
    status = {"template": "free", "hold": "busy-tentative", "booked": "busy"}
    slots = {
        f"urn:uuid:{e.resource.id}": e.resource
        for e in bundle.entry
        if e.resource.get_resource_type() == "Slot"
    }

    def wall(t):
        return t.date(), t.hour * 60 + t.minute

    got = sorted(
        (*wall(x.start), wall(x.end)[1], x.status, x.serviceType[0].coding[0].code) for x in slots.values()
    )
    want = sorted(
        (r.date, r.start_min, r.end_min, status[r.kind], r.appointment_type) for r in sched.itertuples()
    )
    assert got == want
    assert {x.start.utcoffset() for x in slots.values()} == {dt.timedelta(hours=-7)}
    appts = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Appointment"]
    for a in appts:
        slot = slots[a.slot[0].reference]
        assert slot.status == "busy" and (a.start, a.end) == (slot.start, slot.end)
        assert a.minutesDuration == (a.end - a.start).total_seconds() / 60
    booked_refs = sorted(sched.loc[sched["kind"] == "booked", "patient_ref"])
    assert (
        sorted(a.participant[1].actor.identifier.value for a in appts)
        == booked_refs
        == ["P000001", "P000002"]
    )

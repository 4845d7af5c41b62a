"""Files for a booked OR week: CSV and Excel schedules, one calendar per surgeon, a FHIR Bundle,
the KPIs and the list of cases not booked.

All writers take plain tables (the surgery schedule table of ``domain.surgery_schedule`` and
the unscheduled table) so a schedule written by hand exports the same way. Text cells are passed
through ``safe_cell`` (no spreadsheet formulas), times are clinic-local and timezone-aware, and
the FHIR resources carry only pseudonymous patient references.

FHIR version: ``fhir.resources`` 8 models R5 at its top level and ships ``R4B`` and ``STU3``
subpackages; there is no separate R4 package. R4B kept R4's Appointment and Bundle unchanged
(R4B changed medication-definition and evidence resources), so we validate with
``fhir.resources.R4B`` and the output is a valid R4 Appointment Bundle.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pandas as pd

from ..domain.clock import parse_hhmm
from ..domain.scenario import Scenario
from .common import export_stamp, fhir_datetime, local_datetime, logical_reference, safe_frame
from .ical import add_clinic_timezone

_NS = uuid.UUID("6f1d1c55-4f4b-4a53-9a38-0c1a2c3d5e7f")  # stable ids: the same booking, the same uid


def schedule_csv(table: pd.DataFrame, path: Path, columns: list[str]) -> None:
    safe_frame(table[columns]).to_csv(path, index=False)


def unscheduled_csv(unscheduled: pd.DataFrame, path: Path) -> None:
    safe_frame(unscheduled).to_csv(path, index=False)


def schedule_xlsx(
    table: pd.DataFrame,
    columns: list[str],
    room_days: pd.DataFrame,
    unscheduled: pd.DataFrame,
    path: Path,
    case_delays: pd.DataFrame | None = None,
) -> None:
    """Sheets: the schedule, the room-days with their overtime risk, the cases not booked and,
    when simulated, each case's start delay against its booked time."""
    sheets = [("Schedule", table[columns]), ("Room-days", room_days), ("Not booked", unscheduled)]
    if case_delays is not None and not case_delays.empty:
        sheets.append(("Case delays", case_delays))
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets:
            frame = safe_frame(df)
            frame.to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            ws.freeze_panes = "A2"
            for k, col in enumerate(frame.columns, start=1):
                width = max([len(str(col)), *[len(str(v)) for v in frame[col].head(200)]]) + 2
                ws.column_dimensions[ws.cell(row=1, column=k).column_letter].width = min(width, 80)
            # printed for the OR desk as the clinic schedule is: landscape, one page wide, the
            # header row on every page
            ws.print_title_rows = "1:1"
            ws.page_setup.orientation = "landscape"
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 0
            ws.sheet_properties.pageSetUpPr.fitToPage = True


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(_NS, "/".join(map(str, parts))))


def surgeon_calendars(table: pd.DataFrame, scenario: Scenario, out: Path) -> list[Path]:
    """One iCalendar file per surgeon (``surgeon_<id>.ics``) with an event per booked case."""
    from icalendar import Calendar, Event

    assert scenario.surgery is not None
    tz = scenario.clinic.timezone
    fac_name = {f.id: f.name for f in scenario.surgery.facilities}
    type_name = {ct.id: ct.name for ct in scenario.surgery.case_types}
    paths = []
    for surgeon, g in table.groupby("surgeon", sort=True):
        cal = Calendar()
        cal.add("prodid", "-//clinicflow//surgery//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", f"OR cases {surgeon}")
        dates = []
        for row in g.itertuples():
            date = row.date if isinstance(row.date, dt.date) else dt.date.fromisoformat(str(row.date))
            dates.append(date)
            ev = Event()
            ev.add("uid", _uid("case", row.case_id, date, row.start) + "@clinicflow")
            ev.add("dtstamp", export_stamp())
            ev.add("dtstart", local_datetime(date, parse_hhmm(row.start), tz))
            ev.add("dtend", local_datetime(date, parse_hhmm(row.end), tz))
            ev.add("summary", f"{type_name.get(row.case_type, row.case_type)} ({row.case_id})")
            ev.add("location", f"{fac_name.get(row.facility, row.facility)}, {row.room}")
            ev.add(
                "description",
                f"Case {row.case_id}, #{row.sequence} in {row.room}; equipment: {row.equipment or 'none'}",
            )
            cal.add_component(ev)
        add_clinic_timezone(cal, tz, dates)
        path = out / f"surgeon_{surgeon}.ics"
        path.write_bytes(cal.to_ical())
        paths.append(path)
    return paths


def fhir_bundle(table: pd.DataFrame, scenario: Scenario) -> dict:
    """A FHIR R4 ``collection`` Bundle with one booked Appointment per case, validated with
    ``fhir.resources.R4B``."""
    from fhir.resources.R4B.bundle import Bundle

    tz = scenario.clinic.timezone
    assert scenario.surgery is not None
    type_name = {ct.id: ct.name for ct in scenario.surgery.case_types}
    entries = []
    for row in table.itertuples():
        date = row.date if isinstance(row.date, dt.date) else dt.date.fromisoformat(str(row.date))
        start = local_datetime(date, parse_hhmm(row.start), tz)
        end = local_datetime(date, parse_hhmm(row.end), tz)
        rid = _uid("appointment", row.case_id, date, row.start)
        participants = [
            {
                "actor": logical_reference("Practitioner", row.surgeon),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": logical_reference("Location", f"{row.facility}-{row.room}"),
                "required": "required",
                "status": "accepted",
            },
        ]
        if row.patient_ref:
            participants.insert(
                0,
                {
                    "actor": logical_reference(
                        "Patient", row.patient_ref, "patient (pseudonymous reference)"
                    ),
                    "required": "required",
                    "status": "accepted",
                },
            )
        resource = {
            "resourceType": "Appointment",
            "id": rid,
            "identifier": [{"system": "urn:clinicflow:surgical-case", "value": row.case_id}],
            "status": "booked",
            "serviceType": [{"text": type_name.get(row.case_type, row.case_type)}],
            "appointmentType": {"text": "surgical case"},
            # FHIR: 1 is the highest priority (0 = undefined); ours: 5 is the most urgent
            "priority": 6 - int(row.priority),
            "description": f"{type_name.get(row.case_type, row.case_type)} in {row.room}",
            "start": fhir_datetime(start),
            "end": fhir_datetime(end),
            "minutesDuration": int(row.planned_min),
            "participant": participants,
        }
        entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": resource})
    bundle = {
        "resourceType": "Bundle",
        "id": _uid("bundle", *sorted(table["case_id"])),
        "type": "collection",
        "timestamp": export_stamp().isoformat(),
        "entry": entries,
    }
    return json.loads(Bundle.model_validate(bundle).model_dump_json(exclude_none=True))


def write_json(data: object, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")

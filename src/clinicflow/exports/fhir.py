"""The schedule as a FHIR R4 Bundle: a Schedule per provider, a Slot per slot, and an Appointment
for each booked slot; a session not worked that week (time off, a holiday) is a ``busy-unavailable``
Slot saying why, so the EHR books nobody into it. Built as plain dicts and validated with ``fhir.resources`` (its ``R4B``
models: R4B shares R4's Schedule, Slot, Appointment and Bundle structure), so what is written is
exactly what validated.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pandas as pd
from fhir.resources.R4B.bundle import Bundle

from ..domain.scenario import Scenario
from .common import fhir_datetime, local_datetime, logical_reference, slot_keys, week_not_worked

_NS = uuid.UUID("6f1c8f1e-3c1a-4a57-9d39-2f3f0b1c5a10")
SYSTEM = "https://clinicflow.dev/fhir/appointment-type"


def _id(*parts: object) -> str:
    return str(uuid.uuid5(_NS, "|".join(map(str, parts))))


def fhir_bundle(schedule: pd.DataFrame, scenario: Scenario, bundle_id: str | None = None) -> dict:
    """The Bundle as a JSON-ready dict; raises ``pydantic.ValidationError`` if it would not validate.

    Its id defaults to one per week (``week-2026-11-30``): every week's Bundle was ``week``, and a
    server storing them by id kept only the last week sent."""
    tz = scenario.clinic.timezone
    types = scenario.type_by_id
    entries = []
    if schedule.empty:
        lo = hi = monday = None
    else:
        lo, hi = min(schedule["date"]), max(schedule["date"])
        monday = lo - dt.timedelta(days=lo.weekday())  # the week's name, whichever day has the first slot
    away = week_not_worked(schedule, scenario)
    for p in scenario.providers:
        mine = schedule[schedule["provider"] == p.id]
        if mine.empty and p.id not in away:
            continue
        sid = _id("schedule", p.id, lo)
        entries.append(
            {
                "fullUrl": f"urn:uuid:{sid}",
                "resource": {
                    "resourceType": "Schedule",
                    "id": sid,
                    "active": True,
                    "actor": [logical_reference("Practitioner", p.id, p.name)],
                    "planningHorizon": {
                        "start": fhir_datetime(local_datetime(lo, 0, tz)),
                        "end": fhir_datetime(local_datetime(hi, 24 * 60 - 1, tz)),
                    },
                    "comment": f"{scenario.clinic.name}: week of {monday.isoformat()}",
                },
            }
        )
        for key, row in zip(slot_keys(mine), mine.itertuples(), strict=True):
            t = types[row.appointment_type]
            slot_id = _id("slot", key)
            start = fhir_datetime(local_datetime(row.date, row.start_min, tz))
            end = fhir_datetime(local_datetime(row.date, row.end_min, tz))
            coding = {"system": SYSTEM, "code": t.id, "display": t.name}
            status = {"template": "free", "hold": "busy-tentative", "booked": "busy"}[row.kind]
            slot = {
                "resourceType": "Slot",
                "id": slot_id,
                "schedule": {"reference": f"urn:uuid:{sid}"},
                "status": status,
                "start": start,
                "end": end,
                "serviceType": [{"coding": [coding]}],
                "overbooked": bool(getattr(row, "overbooked", False)),
            }
            if row.kind == "hold":
                slot["comment"] = "same-day / urgent hold"
            entries.append({"fullUrl": f"urn:uuid:{slot_id}", "resource": slot})
            if row.kind == "booked":
                appt_id = _id("appointment", slot_id, row.patient_ref)
                participants = [
                    {"actor": logical_reference("Practitioner", p.id, p.name), "status": "accepted"},
                    {
                        "actor": logical_reference(
                            "Patient", row.patient_ref, "patient (pseudonymous reference)"
                        ),
                        "status": "accepted",
                    },
                ]
                if isinstance(row.room, str) and row.room:
                    participants.append(
                        {
                            "actor": logical_reference("Location", row.room, row.room),
                            "status": "accepted",
                        }
                    )
                entries.append(
                    {
                        "fullUrl": f"urn:uuid:{appt_id}",
                        "resource": {
                            "resourceType": "Appointment",
                            "id": appt_id,
                            "status": "booked",
                            "appointmentType": {"coding": [coding]},
                            "start": start,
                            "end": end,
                            "minutesDuration": int(row.end_min - row.start_min),
                            "slot": [{"reference": f"urn:uuid:{slot_id}"}],
                            "participant": participants,
                        },
                    }
                )
        for c in away.get(p.id, []):
            slot_id = _id("slot", p.id, c.date, c.session.start, "not-worked")
            slot = {
                "resourceType": "Slot",
                "id": slot_id,
                "schedule": {"reference": f"urn:uuid:{sid}"},
                "status": "busy-unavailable",
                "start": fhir_datetime(local_datetime(c.date, c.session.start, tz)),
                "end": fhir_datetime(local_datetime(c.date, c.session.end, tz)),
                "comment": f"not worked: {c.why}",
            }
            entries.append({"fullUrl": f"urn:uuid:{slot_id}", "resource": slot})
    if bundle_id is None:
        bundle_id = f"week-{monday.isoformat()}" if monday is not None else "week"
    data = {"resourceType": "Bundle", "id": bundle_id, "type": "collection", "entry": entries}
    Bundle.model_validate(data)
    return data


def write_fhir_bundle(schedule: pd.DataFrame, scenario: Scenario, path: str | Path) -> None:
    data = fhir_bundle(schedule, scenario)
    Path(path).write_text(json.dumps(data, indent=1))

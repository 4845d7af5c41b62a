"""One iCalendar file per provider, times in the clinic's timezone (with its VTIMEZONE)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection
from pathlib import Path

import icalendar
import pandas as pd

from ..domain.clock import format_hhmm
from ..domain.scenario import Scenario
from .common import export_stamp, local_datetime, slot_keys, week_not_worked


def add_clinic_timezone(
    cal: icalendar.Calendar, timezone: str, dates: Collection[dt.date] | pd.Series
) -> None:
    """Name the clinic's zone and add its VTIMEZONE, covering ``dates`` with a year either side.

    RFC 5545 wants a VTIMEZONE for every TZID an event uses; without it a calendar app may read
    09:00 as floating or UTC time. icalendar's own window stops in 2038, so the window is given.
    """
    cal.add("x-wr-timezone", timezone)
    if len(dates):
        year = dt.timedelta(days=366)
        cal.add_missing_timezones(first_date=min(dates) - year, last_date=max(dates) + year)


def _uid(key: str, domain: str = "clinicflow") -> str:
    return f"{hashlib.sha1(key.encode()).hexdigest()[:20]}@{domain}"


def provider_calendar(
    schedule: pd.DataFrame, scenario: Scenario, provider_id: str, not_worked: list | None = None
) -> icalendar.Calendar:
    types = scenario.type_by_id
    prov = scenario.provider_by_id[provider_id]
    cal = icalendar.Calendar()
    cal.add("prodid", "-//clinicflow//schedule//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{prov.name} — {scenario.clinic.name}")
    stamp = export_stamp()  # later on each export: the re-imported week supersedes the last
    mine = schedule[schedule["provider"] == provider_id]
    for key, row in zip(slot_keys(mine), mine.itertuples(), strict=True):
        ev = icalendar.Event()
        t = types[row.appointment_type]
        kind = {"hold": "Same-day hold", "booked": "Booked", "template": "Open slot"}[row.kind]
        ev.add("uid", _uid(key))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", local_datetime(row.date, row.start_min, scenario.clinic.timezone))
        ev.add("dtend", local_datetime(row.date, row.end_min, scenario.clinic.timezone))
        ev.add("summary", f"{kind}: {t.name}")
        if isinstance(row.room, str) and row.room:
            ev.add("location", row.room)
        if row.kind == "booked" and isinstance(row.patient_ref, str):
            ev.add("description", f"Patient reference {row.patient_ref} (pseudonymous)")
        ev.add("categories", [row.kind])
        ev.add("transp", "OPAQUE")
        cal.add_component(ev)
    for c in not_worked or []:  # the sessions not worked, as free time that says why
        ev = icalendar.Event()
        span = f"{format_hhmm(c.session.start)}-{format_hhmm(c.session.end)}"
        ev.add("uid", _uid(f"{provider_id}|{c.date.isoformat()}|{span}|not-worked"))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", local_datetime(c.date, c.session.start, scenario.clinic.timezone))
        ev.add("dtend", local_datetime(c.date, c.session.end, scenario.clinic.timezone))
        ev.add("summary", f"Not worked: {c.why}")
        ev.add("categories", ["not_worked"])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    add_clinic_timezone(cal, scenario.clinic.timezone, schedule["date"])
    return cal


def write_ics(schedule: pd.DataFrame, scenario: Scenario, folder: str | Path) -> list[Path]:
    """Write ``<provider>.ics`` for every provider with slots or a session not worked that week
    (shown as free time, "Not worked: time off (leave)"); return the paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    away = week_not_worked(schedule, scenario)
    for p in scenario.providers:
        if not (schedule["provider"] == p.id).any() and p.id not in away:
            continue
        path = out / f"{p.id}.ics"
        path.write_bytes(provider_calendar(schedule, scenario, p.id, away.get(p.id)).to_ical())
        paths.append(path)
    return paths

"""Exports at the edges: calendars a calendar app reads right, FHIR instants in every zone and year
the week may fall in, the default week in the clinic's own date, and an output folder that holds
one run's files, not two."""

from __future__ import annotations

import datetime as dt

import icalendar
import pandas as pd
import yaml

from clinicflow import scenario_from_dict
from clinicflow.domain.surgery_schedule import SURGERY_COLUMNS
from clinicflow.exports.surgery_files import surgeon_calendars
from conftest import ORTHO


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

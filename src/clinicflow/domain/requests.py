"""Pending appointment requests: the file format, its validation, and a synthetic generator.

A requests CSV has one row per request::

    patient_ref,appointment_type,preferred_provider,earliest_date,latest_date,time_of_day,urgency
    P000123,follow_up,dr_okafor,2026-11-30,2026-12-04,morning,routine

``patient_ref`` is a pseudonym (never a name or record number); ``preferred_provider`` may be
empty; ``time_of_day`` is morning, afternoon or any; ``urgency`` is routine, soon or urgent.
``latest_date`` is the deadline. An optional ``no_show_prob`` column (0..1, may be empty) is the
patient's own probability of not coming, e.g. as scored by ``clinicflow calibrate --requests`` from
the practice's history: a booked row carries it into ``schedule.csv``, so simulating the booked
week draws that patient's attendance from it rather than from the appointment type's rate.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..streams import keyed_generator
from ..tables import read_text_csv
from .clock import WEEKDAYS, monday_of
from .scenario import Scenario

COLUMNS = [
    "patient_ref",
    "appointment_type",
    "preferred_provider",
    "earliest_date",
    "latest_date",
    "time_of_day",
    "urgency",
    "no_show_prob",
]
OPTIONAL = ("preferred_provider", "time_of_day", "no_show_prob")
TIMES_OF_DAY = ("morning", "afternoon", "any")
URGENCIES = ("routine", "soon", "urgent")
#: A pseudonym starts with a letter or digit: never with "-", so no spreadsheet reads it as a formula
#: and every file clinicflow writes round-trips (``safe_cell`` leaves such a reference alone).
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
NOON = 12 * 60


@dataclass(frozen=True)
class Request:
    patient_ref: str
    appointment_type: str
    preferred_provider: str | None
    earliest: dt.date
    latest: dt.date
    time_of_day: str
    urgency: str
    no_show_prob: float | None = None  # the patient's own score; None: the type's probability
    #: A patient whose booked visit the practice cancelled (time off, a closure) and now rebooks:
    #: booked before new routine and soon requests, after urgent ones (``solver.booking.REBOOK``).
    rebook: bool = False


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""


def parse_requests(df: pd.DataFrame, scenario: Scenario, file: str | Path | None = None) -> list[Request]:
    """Validate a requests table; errors name the file, CSV line and column (never a patient)."""
    missing = [c for c in COLUMNS if c not in df.columns and c not in OPTIONAL]
    if missing:
        raise InputError(
            file, f"column {missing[0]}", f"missing column (expected columns: {', '.join(COLUMNS)})"
        )
    unknown = [c for c in df.columns if c not in COLUMNS]
    if unknown:
        raise InputError(file, f"column {unknown[0]}", f"unknown column (expected: {', '.join(COLUMNS)})")
    types = scenario.type_by_id
    provs = scenario.provider_by_id
    out = []
    for i, row in enumerate(df.to_dict(orient="records")):
        where = f"row {i + 2}"
        ref = str(row["patient_ref"]).strip()
        if not _REF.match(ref):
            raise InputError(
                file,
                f"{where}, column patient_ref",
                "expected a pseudonymous reference of letters, digits, _ or - (starting with a letter or digit)",
            )
        tid = str(row["appointment_type"]).strip()
        if tid not in types:
            raise InputError(
                file,
                f"{where}, column appointment_type",
                f"unknown appointment type {tid!r} (expected one of: {', '.join(types)})",
            )
        pref = row.get("preferred_provider")
        pref = None if _blank(pref) else str(pref).strip()
        if pref is not None and pref not in provs:
            raise InputError(
                file,
                f"{where}, column preferred_provider",
                f"unknown provider {pref!r} (expected one of: {', '.join(provs)}, or empty)",
            )
        dates = []
        for col in ("earliest_date", "latest_date"):
            try:
                dates.append(dt.date.fromisoformat(str(row[col]).strip()))
            except ValueError:
                raise InputError(
                    file, f"{where}, column {col}", f"expected a date like 2026-11-30, got {row[col]!r}"
                ) from None
        if dates[1] < dates[0]:
            raise InputError(
                file, f"{where}, column latest_date", "expected latest_date on or after earliest_date"
            )
        tod = row.get("time_of_day")
        tod = "any" if _blank(tod) else str(tod).strip().lower()
        if tod not in TIMES_OF_DAY:
            raise InputError(
                file,
                f"{where}, column time_of_day",
                f"expected one of {', '.join(TIMES_OF_DAY)}, got {tod!r}",
            )
        urg = str(row["urgency"]).strip().lower()
        if urg not in URGENCIES:
            raise InputError(
                file, f"{where}, column urgency", f"expected one of {', '.join(URGENCIES)}, got {urg!r}"
            )
        p = row.get("no_show_prob")
        if _blank(p):
            p = None
        else:
            try:
                p = float(str(p).strip())
            except ValueError:
                p = float("nan")
            if not 0.0 <= p <= 1.0:
                raise InputError(
                    file,
                    f"{where}, column no_show_prob",
                    f"expected a probability between 0 and 1 or empty, got {row['no_show_prob']!r}",
                )
        out.append(Request(ref, tid, pref, dates[0], dates[1], tod, urg, p))
    return out


def read_requests_csv(path: str | Path, scenario: Scenario) -> list[Request]:
    p = Path(path)
    return parse_requests(read_text_csv(p), scenario, p)


def wrong_week_note(requests: list[Request], monday: dt.date) -> str | None:
    """A line for the coordinator when most requests cannot be booked into the week of ``monday``
    at all: their dates lie wholly outside it. ``None`` when at least half of them reach the week
    (the odd request for a later week is in ``unbooked.csv`` with that reason).

    Why: the dashboard plans next Monday's week by default, and a requests file exported for
    another week then books a handful with every other request "outside the planned week" in the
    reasons; one line naming the week the requests ask for says what to change."""
    sunday = monday + dt.timedelta(days=6)
    out = [r for r in requests if not r.rebook and (r.latest < monday or r.earliest > sunday)]
    asked = sum(not r.rebook for r in requests)
    if 2 * len(out) <= asked:
        return None
    # the Monday most of them start in (the earliest of equally common ones)
    mondays = pd.Series([monday_of(r.earliest) for r in out])
    best = mondays.value_counts().sort_index().idxmax()
    first, last = min(r.earliest for r in out), max(r.latest for r in out)
    return (
        f"{len(out)} of {asked} requests ask only for dates outside the week of {monday.isoformat()} "
        f"(theirs run {first.isoformat()}..{last.isoformat()}; most in the week of {best.isoformat()})"
    )


def requests_frame(requests: list[Request]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "patient_ref": r.patient_ref,
                "appointment_type": r.appointment_type,
                "preferred_provider": r.preferred_provider or "",
                "earliest_date": r.earliest.isoformat(),
                "latest_date": r.latest.isoformat(),
                "time_of_day": r.time_of_day,
                "urgency": r.urgency,
                "no_show_prob": r.no_show_prob,
            }
            for r in requests
        ],
        columns=COLUMNS,
    )


def synthetic_requests(
    scenario: Scenario, monday: dt.date, n: int = 250, seed: int = 0, first_ref: int = 1
) -> list[Request]:
    """``n`` made-up pending requests for the week of ``monday`` (no real data).

    Types follow the scenario's demand mix; 80% name a preferred provider (one who sees the
    type); a request's window opens up to four days before a date of the week and closes up to three days
    after it (4% ask for a later week);
    about 10% are urgent (deadline the same or the next day), 20% soon, the rest routine. Patient
    references are sequential pseudonyms P000001, P000002, … from ``first_ref`` (a later batch of
    requests for the same week names other patients).
    """
    rng = keyed_generator(np.random.SeedSequence(seed), "synthetic-requests", monday.isoformat())
    dates = [
        monday + dt.timedelta(days=i) for i, wd in enumerate(WEEKDAYS) if wd in scenario.clinic.days_open
    ]
    mix = [(d.type, d.weekly) for d in scenario.demand] or [(t.id, 1.0) for t in scenario.appointment_types]
    w = np.array([x for _, x in mix], dtype=float)
    w = w / w.sum()
    out = []
    for i in range(n):
        tid = mix[int(rng.choice(len(mix), p=w))][0]
        seers = [p.id for p in scenario.providers if tid in p.appointment_types]
        pref = str(rng.choice(seers)) if seers and rng.random() < 0.8 else None
        u = rng.random()
        urgency = "urgent" if u < 0.10 else "soon" if u < 0.30 else "routine"
        first = dates[int(rng.integers(len(dates)))]
        if rng.random() < 0.04:  # asks for a later week: cannot be booked in this one
            first = dates[-1] + dt.timedelta(days=int(rng.integers(3, 10)))
        if urgency == "urgent":
            earliest, latest = first, first + dt.timedelta(days=int(rng.integers(0, 2)))
        else:
            earliest = max(monday - dt.timedelta(days=7), first - dt.timedelta(days=int(rng.integers(0, 5))))
            latest = first + dt.timedelta(days=int(rng.integers(0, 4)))
        tod = str(rng.choice(TIMES_OF_DAY, p=[0.35, 0.25, 0.40]))
        out.append(Request(f"P{first_ref + i:06d}", tid, pref, earliest, latest, tod, urgency))
    return out

"""The schedule table: the contract between the planner, the simulator and the exports.

A schedule is a pandas DataFrame with one row per slot. Files carry clock times ("HH:MM") and
ISO dates; inside, ``start_min``/``end_min`` are minutes since midnight so that models never
parse strings. Validation names the file, the CSV line and the column.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..spreadsheet import safe_frame
from ..tables import read_text_csv
from .clock import format_hhmm, parse_hhmm, weekday_of
from .scenario import Scenario

#: Columns of a schedule file, in order. ``patient_ref`` is a pseudonym, never a raw identifier.
COLUMNS = [
    "date",
    "provider",
    "start",
    "end",
    "appointment_type",
    "kind",
    "patient_ref",
    "room",
    "no_show_prob",
]
#: Optional columns a planner may add; validated when present. ``overbooked`` marks the second
#: patient of a double-booked start (planned on purpose because of no-show rates).
OPTIONAL = ["overbooked"]
REQUIRED = ["date", "provider", "start", "appointment_type"]
#: Columns of a normalized schedule frame (``validate_schedule``'s result), in order: the file's, with
#: the date's weekday and the times as minutes since midnight.
NORMALIZED_COLUMNS = [
    "date",
    "weekday",
    "provider",
    "start",
    "end",
    "start_min",
    "end_min",
    "appointment_type",
    "kind",
    "patient_ref",
    "room",
    "no_show_prob",
    "overbooked",
]
KINDS = ("template", "booked", "hold")
#: Optional column of a normalized schedule frame, never of a schedule file: a replayed visit's
#: recorded arrival in minutes since midnight (``replay.history_schedule(..., arrivals=True)``), which
#: the simulator uses instead of a punctuality draw; NaN draws as usual.
ARRIVAL_COLUMN = "arrival_min"
#: A patient reference: a pseudonym (``p_…`` from ``history pseudonymize``, a requests file's or a case
#: file's reference), letters, digits, ``_ . -``, starting with a letter or digit. Names (spaces) and
#: spreadsheet formulas are refused, and the value is never quoted: it may be a real identifier.
PATIENT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def _fail(file, line, column, message):
    raise InputError(file, f"row {line}, column {column}" if column else f"row {line}", message)


def validate_schedule(df: pd.DataFrame, scenario: Scenario, file: str | Path | None = None) -> pd.DataFrame:
    """Check a raw schedule table against the scenario; return the normalized frame.

    The normalized frame has ``date`` (datetime.date), ``weekday``, ``start_min``, ``end_min``
    and the file's columns (``start``/``end`` as "HH:MM"). Row numbers in errors are the file's
    line numbers (header = line 1).
    """
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            file, f"column {missing[0]}", f"missing column (expected columns: {', '.join(COLUMNS)})"
        )
    unknown = [c for c in df.columns if c not in COLUMNS and c not in OPTIONAL]
    if unknown:
        raise InputError(
            file, f"column {unknown[0]}", f"unknown column (expected: {', '.join(COLUMNS + OPTIONAL)})"
        )
    types = scenario.type_by_id
    provs = scenario.provider_by_id
    rooms = set(scenario.rooms.room_ids)
    out = []
    for i, row in enumerate(df.to_dict(orient="records")):
        line = i + 2
        try:
            date = dt.date.fromisoformat(str(row["date"]).strip()[:10])
        except ValueError:
            _fail(file, line, "date", f"expected a date like 2026-11-30, got {row['date']!r}")
        if weekday_of(date) not in scenario.clinic.days_open:
            _fail(
                file,
                line,
                "date",
                f"the clinic is closed on {date.isoformat()} (a {weekday_of(date)}; open: "
                f"{', '.join(scenario.clinic.days_open)})",
            )
        pid = str(row["provider"]).strip()
        if pid not in provs:
            _fail(file, line, "provider", f"unknown provider {pid!r} (expected one of: {', '.join(provs)})")
        tid = str(row["appointment_type"]).strip()
        if tid not in types:
            _fail(
                file,
                line,
                "appointment_type",
                f"unknown appointment type {tid!r} (expected one of: {', '.join(types)})",
            )
        if tid not in provs[pid].appointment_types:
            _fail(file, line, "appointment_type", f"provider {pid} does not see {tid!r}")
        try:
            start = parse_hhmm(str(row["start"]).strip())
        except ValueError as e:
            _fail(file, line, "start", str(e))
        if start >= 24 * 60:
            _fail(file, line, "start", f"expected a time before 24:00, got {str(row['start']).strip()!r}")
        end_raw = row.get("end")
        if end_raw is None or (isinstance(end_raw, float) and pd.isna(end_raw)) or str(end_raw).strip() == "":
            end = start + types[tid].scheduled_min
        else:
            try:
                end = parse_hhmm(str(end_raw).strip())
            except ValueError as e:
                _fail(file, line, "end", str(e))
            if end <= start:
                _fail(file, line, "end", f"expected end after start {format_hhmm(start)}")
        if end > 24 * 60:
            _fail(file, line, "end", "expected the visit to end by midnight (24:00)")
        kind = row.get("kind")
        kind = (
            "template"
            if kind is None or (isinstance(kind, float) and pd.isna(kind)) or kind == ""
            else str(kind)
        )
        if kind not in KINDS:
            _fail(file, line, "kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
        room = row.get("room")
        room = (
            None if room is None or (isinstance(room, float) and pd.isna(room)) or room == "" else str(room)
        )
        if room is not None and room not in rooms:
            _fail(file, line, "room", f"unknown room {room!r}")
        p = row.get("no_show_prob")
        if p is None or (isinstance(p, float) and pd.isna(p)) or p == "":
            p = float("nan")
        else:
            try:
                p = float(p)
            except ValueError:
                _fail(file, line, "no_show_prob", f"expected a probability between 0 and 1, got {p!r}")
            if not 0 <= p <= 1:
                _fail(file, line, "no_show_prob", f"expected a probability between 0 and 1, got {p}")
        ob = row.get("overbooked")
        if ob is None or (isinstance(ob, float) and pd.isna(ob)) or ob == "":
            ob = False
        elif isinstance(ob, bool):
            pass
        elif str(ob).strip().lower() in ("true", "1", "yes"):
            ob = True
        elif str(ob).strip().lower() in ("false", "0", "no"):
            ob = False
        else:
            _fail(file, line, "overbooked", f"expected true or false, got {ob!r}")
        ref = row.get("patient_ref")
        ref = None if ref is None or (isinstance(ref, float) and pd.isna(ref)) or ref == "" else str(ref)
        if ref is not None and not PATIENT_REF.match(ref):
            _fail(
                file,
                line,
                "patient_ref",
                "expected a pseudonymous reference of letters, digits, _ . or - (at most 64, starting with a "
                "letter or digit); pseudonymize names and record numbers first (clinicflow history pseudonymize)",
            )
        out.append(
            {
                "date": date,
                "weekday": weekday_of(date),
                "provider": pid,
                "start": format_hhmm(start),
                "end": format_hhmm(end),
                "start_min": start,
                "end_min": end,
                "appointment_type": tid,
                "kind": kind,
                "patient_ref": ref,
                "room": room,
                "no_show_prob": p,
                "overbooked": bool(ob),
            }
        )
    frame = pd.DataFrame(out, columns=NORMALIZED_COLUMNS)
    return frame.sort_values(["date", "provider", "start_min"], kind="stable").reset_index(drop=True)


def read_schedule_csv(path: str | Path, scenario: Scenario) -> pd.DataFrame:
    """Read and validate a schedule CSV (see ``COLUMNS``)."""
    p = Path(path)
    frame = validate_schedule(read_text_csv(p), scenario, p)
    if frame.empty:  # else the simulator reports "no day to simulate" without naming this file
        raise InputError(p, None, f"no rows (expected a slot per row: {', '.join(REQUIRED)}, …)")
    return frame


def to_file_frame(schedule: pd.DataFrame) -> pd.DataFrame:
    """The schedule with the file's columns (for CSV export); optional columns only when present."""
    df = schedule.copy()
    df["date"] = df["date"].map(lambda d: d.isoformat())
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = None
    extra = [c for c in OPTIONAL if c in df.columns]
    return df[COLUMNS + extra]


def write_schedule_csv(schedule: pd.DataFrame, path: str | Path) -> None:
    safe_frame(to_file_frame(schedule)).to_csv(path, index=False)


def rows_not_worked(scenario: Scenario, schedule: pd.DataFrame) -> list[str | None]:
    """For each row of a normalized schedule, why its session is not worked that date (a closure,
    time off, a dated OR block; ``Scenario.cancelled_on``), else None.

    A week made before the absence was known still has the session's slots and booked patients;
    ``book`` takes them out and rebooks the patients. Rows outside every weekly session (an EHR's
    extra slot) are left to the week as they are."""
    gone: dict[tuple, list] = {}
    for date in sorted(set(schedule["date"])):
        for c in scenario.cancelled_on(date):
            gone.setdefault((c.provider, date), []).append(c)
    out: list[str | None] = []
    for prov, date, start in zip(schedule["provider"], schedule["date"], schedule["start_min"], strict=True):
        hit = next((c for c in gone.get((prov, date), ()) if c.session.start <= start < c.session.end), None)
        out.append(None if hit is None else hit.why)
    return out

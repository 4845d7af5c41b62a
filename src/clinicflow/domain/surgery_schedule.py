"""A week of OR time and the surgery schedule table.

``week_room_days`` turns the scenario's block schedule into the concrete room-days of one week.
The surgery schedule table (one row per booked case) is the contract between the case
scheduler (``solver.surgery``), the OR-day simulator (``sim.or_day``) and the exports: each of
them reads these columns and nothing else, so a schedule written by hand or by another tool can
be simulated and exported the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from .clock import format_hhmm, weekday_of
from .scenario import Scenario

#: Columns of the surgery schedule file, in order. Times are "HH:MM" in the clinic's zone.
SURGERY_COLUMNS = [
    "date",
    "facility",
    "room",
    "block_start",
    "block_end",
    "block_owner",
    "sequence",
    "start",
    "end",
    "case_id",
    "surgeon",
    "case_type",
    "patient_ref",
    "priority",
    "planned_min",
    "equipment",
]


@dataclass(frozen=True, order=True)
class RoomDay:
    """One block on one date: the unit the overtime-risk limit applies to.

    ``owner`` is the block's surgeon, or None for open / released time any surgeon may use.
    """

    date: dt.date
    facility: str
    room: str
    start: int
    end: int
    owner: str | None
    kind: str  # "hospital" | "asc"

    @property
    def key(self) -> str:
        return f"{self.date.isoformat()}/{self.room}/{format_hhmm(self.start)}"

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def label(self) -> str:
        """'Mon 2026-11-30 OR3 07:30-15:30' for reasons and summaries."""
        return (
            f"{weekday_of(self.date).capitalize()} {self.date.isoformat()} {self.room} "
            f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"
        )


def week_start_of(date: dt.date) -> dt.date:
    """The Monday of the week containing ``date``."""
    return date - dt.timedelta(days=date.weekday())


def week_room_days(scenario: Scenario, week: dt.date) -> list[RoomDay]:
    """The OR blocks of the week (Monday..Sunday) containing ``week``, sorted by date and room.

    A dated block replaces the weekly blocks of its room on that date (a swap or a release
    written for one week), so a practice can override one week without editing the template. A
    block whose surgeon has time off then is released to open time, as hospitals release unused
    block time, rather than left holding a room nobody will operate in.
    """
    sg = scenario.surgery
    if sg is None:
        return []
    kinds = {f.id: f.kind for f in sg.facilities}
    monday = week_start_of(week)
    days = [monday + dt.timedelta(days=k) for k in range(7)]
    dated_rooms = {(b.date, b.facility, b.room) for b in sg.blocks if b.date is not None}
    away = {p.id: p.time_off for p in scenario.providers if p.time_off}

    def owner(b, d: dt.date) -> str | None:
        off = away.get(b.surgeon, ())
        return None if any(t.covers(d, b.start, b.end) for t in off) else b.surgeon

    out = []
    for b in sg.blocks:
        if b.date is not None:
            if monday <= b.date <= days[-1]:
                out.append(
                    RoomDay(b.date, b.facility, b.room, b.start, b.end, owner(b, b.date), kinds[b.facility])
                )
            continue
        for d in days:
            if weekday_of(d) == b.day and (d, b.facility, b.room) not in dated_rooms:
                out.append(RoomDay(d, b.facility, b.room, b.start, b.end, owner(b, d), kinds[b.facility]))
    return sorted(out)


def normalize_surgery_schedule(df: pd.DataFrame) -> pd.DataFrame:
    """Add minute columns (``start_min``, ``end_min``, ``block_start_min``, ``block_end_min``)
    and parse dates, so models never parse strings."""
    from .clock import parse_hhmm

    out = df.copy()
    out["date"] = [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10]) for d in out["date"]]
    for col in ("start", "end", "block_start", "block_end"):
        out[f"{col}_min"] = [v if isinstance(v, int) else parse_hhmm(str(v)) for v in out[col]]
    out["equipment"] = out["equipment"].fillna("").astype(str)
    return out

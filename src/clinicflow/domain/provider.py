"""Providers and their weekly availability."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Literal

from pydantic import Field, model_validator

from .base import FieldProblem, Frozen, Identifier, NonNegative
from .clock import ClockTime, Weekday, format_hhmm
from .distributions import DistributionSpec

Role = Literal["MD", "DO", "NP", "PA", "surgeon"]


class Break(Frozen):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError("expected 'end' after 'start'")
        return self


class Session(Frozen):
    """A block of clinic time (e.g. a morning), with breaks and same-day holds.

    Holds are slots kept empty at template time for phone-triage and urgent same-day patients.
    """

    start: ClockTime
    end: ClockTime
    breaks: list[Break] = Field(default_factory=list)
    holds: int = Field(default=0, ge=0, description="same-day / urgent slots carved out")

    @model_validator(mode="after")
    def _consistent(self):
        if self.end <= self.start:
            raise FieldProblem(("end",), f"expected 'end' after 'start' ({format_hhmm(self.start)})")
        for k, b in enumerate(self.breaks):
            if b.start < self.start or b.end > self.end:
                raise FieldProblem(
                    ("breaks", k),
                    f"break {format_hhmm(b.start)}-{format_hhmm(b.end)} is outside the session "
                    f"{format_hhmm(self.start)}-{format_hhmm(self.end)}",
                )
        ordered = sorted(self.breaks, key=lambda b: b.start)
        for a, b in itertools.pairwise(ordered):
            if b.start < a.end:
                raise ValueError(f"breaks overlap at {format_hhmm(b.start)}")
        return self

    @property
    def minutes(self) -> int:
        """Working minutes: session length less breaks."""
        return self.end - self.start - sum(b.end - b.start for b in self.breaks)


class TimeOff(Frozen):
    """Leave, a conference, an afternoon off: dated absences, so next week's plan and its simulation
    drop the sessions the provider will not work instead of someone editing the weekly pattern (and
    forgetting to put it back).

    ``date`` alone is one whole day; ``until`` makes it a range (inclusive); ``start``/``end`` limit
    it to part of each of those days. A clinic session that overlaps the time off is cancelled whole:
    a session half worked is a different session, which the weekly pattern should say.
    """

    date: dt.date
    until: dt.date | None = None
    start: ClockTime | None = None
    end: ClockTime | None = None
    reason: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _consistent(self):
        if self.until is not None and self.until < self.date:
            raise FieldProblem(("until",), f"expected 'until' on or after 'date' ({self.date.isoformat()})")
        if (self.start is None) != (self.end is None):
            raise FieldProblem(
                ("end" if self.end is None else "start",), "expected both 'start' and 'end', or neither"
            )
        if self.start is not None and self.end <= self.start:
            raise FieldProblem(("end",), f"expected 'end' after 'start' ({format_hhmm(self.start)})")
        return self

    @property
    def last(self) -> dt.date:
        return self.until or self.date

    def covers(self, date: dt.date, start: int, end: int) -> bool:
        """Whether this absence overlaps the clinic time ``start``-``end`` (minutes) on ``date``."""
        if not self.date <= date <= self.last:
            return False
        return self.start is None or (self.start < end and start < self.end)

    def label(self, dated: bool = False) -> str:
        """``time off 14:00-18:00 (conference)``; a range names its dates, and ``dated`` one day's."""
        days = ""
        if self.until is not None:
            days = f" {self.date.isoformat()} to {self.until.isoformat()}"
        elif dated:
            days = f" {self.date.isoformat()}"
        hours = "" if self.start is None else f" {format_hhmm(self.start)}-{format_hhmm(self.end)}"
        return f"time off{days}{hours}" + (f" ({self.reason})" if self.reason else "")


class Provider(Frozen):
    """A clinician who sees patients (and, for surgeons, may hold OR blocks).

    ``rooms_at_once`` is the number of exam rooms the provider works from simultaneously: with
    two rooms an MA can room the next patient while the provider is with the current one.
    """

    id: Identifier
    name: str = Field(min_length=1)
    role: Role
    sessions: dict[Weekday, list[Session]] = Field(default_factory=dict)
    appointment_types: list[Identifier] = Field(min_length=1)
    rooms_at_once: int = Field(default=2, ge=1, le=6)
    or_days: list[Weekday] = Field(default_factory=list)
    time_off: list[TimeOff] = Field(default_factory=list, description="dated absences (leave, part days)")
    hourly_cost: NonNegative = 0.0
    visit_durations: dict[Identifier, DistributionSpec] = Field(
        default_factory=dict, description="per-type duration overrides for this provider"
    )

    @model_validator(mode="after")
    def _sessions_do_not_overlap(self):
        for day, sessions in self.sessions.items():
            ordered = sorted(sessions, key=lambda s: s.start)
            for a, b in itertools.pairwise(ordered):
                if b.start < a.end:
                    raise ValueError(
                        f"sessions on {day} overlap: {format_hhmm(a.start)}-{format_hhmm(a.end)} "
                        f"and {format_hhmm(b.start)}-{format_hhmm(b.end)}"
                    )
        if len(set(self.appointment_types)) != len(self.appointment_types):
            raise ValueError("expected each appointment type once in appointment_types")
        return self

    @property
    def weekly_sessions(self) -> int:
        return sum(len(s) for s in self.sessions.values())

    @property
    def weekly_minutes(self) -> int:
        return sum(s.minutes for ss in self.sessions.values() for s in ss)

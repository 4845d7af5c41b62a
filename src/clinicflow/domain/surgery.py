"""Surgery: facilities, operating rooms, block schedule and case types."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from .base import Frozen, Identifier
from .clock import ClockTime, Weekday, format_hhmm
from .distributions import DistributionSpec


class Facility(Frozen):
    """A hospital main OR or an ambulatory surgery center (ASC).

    ``travel_min`` is the time a surgeon needs between the clinic and this facility, either way:
    a clinic session that ends at 12:00 and an OR block across town at 12:15 put the surgeon in two
    places as surely as an overlap does (0: the ORs are in the clinic's building)."""

    id: Identifier
    name: str = Field(min_length=1)
    kind: Literal["hospital", "asc"]
    rooms: list[Identifier] = Field(min_length=1)
    turnover_min: DistributionSpec = 30
    staffed_start: ClockTime = "07:00"
    staffed_end: ClockTime = "17:00"
    equipment: dict[Identifier, int] = Field(default_factory=dict)
    travel_min: int = Field(0, ge=0, le=240)

    @model_validator(mode="after")
    def _check(self):
        if len(set(self.rooms)) != len(self.rooms):
            raise ValueError("expected unique room ids")
        if self.staffed_end <= self.staffed_start:
            raise ValueError("expected 'staffed_end' after 'staffed_start'")
        bad = [k for k, v in self.equipment.items() if v < 0]
        if bad:
            raise ValueError(f"expected a non-negative count of equipment {bad[0]!r}")
        if not self.turnover_min.nonnegative:
            raise ValueError("expected a non-negative turnover time")
        return self


class Block(Frozen):
    """OR time in one room: owned by a surgeon, or open/released (``surgeon: null``).

    A block recurs on a weekday (``day``) or falls on one ``date``.
    """

    facility: Identifier
    room: Identifier
    day: Weekday | None = None
    date: dt.date | None = None
    start: ClockTime
    end: ClockTime
    surgeon: Identifier | None = None

    @model_validator(mode="after")
    def _check(self):
        if (self.day is None) == (self.date is None):
            raise ValueError("expected exactly one of 'day' (weekly) or 'date'")
        if self.end <= self.start:
            raise ValueError(f"expected 'end' after 'start' ({format_hhmm(self.start)})")
        return self


class CaseType(Frozen):
    """A procedure family with its duration distribution (incision to close plus anesthesia)."""

    id: Identifier
    name: str = Field(min_length=1)
    duration: DistributionSpec
    asc_eligible: bool = True
    equipment: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self):
        if not self.duration.nonnegative:
            raise ValueError("expected a non-negative duration distribution")
        return self


class Surgery(Frozen):
    """``overtime_target`` is the largest acceptable probability that a room-day runs past its
    block end (0.2 = the day's total at its 80th percentile fits)."""

    facilities: list[Facility] = Field(min_length=1)
    blocks: list[Block] = Field(default_factory=list)
    case_types: list[CaseType] = Field(default_factory=list)
    #: strictly between 0 and 1: at 0 no lognormal day fits its block with certainty (its 100th
    #: percentile is unbounded), at 1 any day would
    overtime_target: float = Field(0.2, gt=0.0, lt=1.0)

    def travel_min(self, facility: str) -> int:
        """Minutes between the clinic and ``facility`` (0 for an unknown id: validation names it)."""
        return next((f.travel_min for f in self.facilities if f.id == facility), 0)

    def clashes(self, block: Block, start: int, end: int) -> bool:
        """Whether a clinic session ``start``-``end`` of the block's surgeon leaves no time to be in
        the block: they overlap, or lie closer than the facility's travel time."""
        t = self.travel_min(block.facility)
        return block.start < end + t and start < block.end + t

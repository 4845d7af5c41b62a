"""Support staff: front-desk clerks and medical assistants."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, model_validator

from .base import Frozen, NonNegative
from .clock import ClockTime, Weekday, format_hhmm
from .distributions import DistributionSpec

Role = Literal["front_desk", "medical_assistants"]
#: Piecewise-constant staffing of one day: ``(start, end, count)`` back to back, in minutes.
Steps = tuple[tuple[int, int, int], ...]


class DeskStaff(Frozen):
    """Front-desk clerks check patients in and out."""

    count: int = Field(ge=0, le=50)
    hourly_cost: NonNegative
    check_in_min: DistributionSpec = 3
    checkout_min: DistributionSpec = 2


class MedicalAssistants(Frozen):
    """MAs room patients (vitals, medication reconciliation) before the provider enters."""

    count: int = Field(ge=0, le=100)
    hourly_cost: NonNegative


class DayStaffing(Frozen):
    """Counts that differ on one weekday (e.g. one more MA on Tuesday)."""

    front_desk: int | None = Field(default=None, ge=0, le=50)
    medical_assistants: int | None = Field(default=None, ge=0, le=100)


def person_minutes(steps: Steps) -> int:
    """Person-minutes of a day's staffing steps."""
    return sum((b - a) * n for a, b, n in steps)


class StaffShift(Frozen):
    """Counts for part of some days — a part-time MA on Tuesday and Thursday afternoons is
    ``{days: [tue, thu], start: "13:00", end: "18:00", medical_assistants: 5}``.

    Inside ``[start, end)`` the shift's counts replace the day's (``by_day``, else the default);
    practices staff by half-days, and a whole-day count would either over-cost the morning or
    under-staff the afternoon in every what-if."""

    days: list[Weekday] = Field(min_length=1)
    start: ClockTime
    end: ClockTime
    front_desk: int | None = Field(default=None, ge=0, le=50)
    medical_assistants: int | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _valid(self):
        if self.end <= self.start:
            raise ValueError(f"end {format_hhmm(self.end)} must be after start {format_hhmm(self.start)}")
        if self.front_desk is None and self.medical_assistants is None:
            raise ValueError("a shift sets front_desk, medical_assistants or both")
        return self


class Staff(Frozen):
    """Support staff work the clinic's opening hours; ``by_day`` overrides the counts per weekday,
    ``shifts`` for part of a day."""

    front_desk: DeskStaff
    medical_assistants: MedicalAssistants
    by_day: dict[Weekday, DayStaffing] = Field(default_factory=dict)
    shifts: list[StaffShift] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_overlap(self):
        for role in ("front_desk", "medical_assistants"):
            seen: list[tuple[int, str, int, int]] = []
            for i, sh in enumerate(self.shifts):
                if getattr(sh, role) is None:
                    continue
                for day in sh.days:
                    for j, d, a, b in seen:
                        if d == day and sh.start < b and a < sh.end:
                            raise ValueError(
                                f"shifts {j + 1} and {i + 1} both set {role} on {day} between "
                                f"{format_hhmm(max(a, sh.start))} and {format_hhmm(min(b, sh.end))}"
                            )
                    seen.append((i, day, sh.start, sh.end))
        return self

    def base(self, role: Role, day: str) -> int:
        """The day's count outside any shift."""
        return self.desk_on(day) if role == "front_desk" else self.mas_on(day)

    def steps(self, role: Role, day: str, opens: int, closes: int) -> Steps:
        """How many work when, from ``opens`` to ``closes`` (equal neighbours merged)."""
        base = self.base(role, day)
        mine = [(sh.start, sh.end, getattr(sh, role)) for sh in self.shifts if day in sh.days]
        mine = [
            (max(a, opens), min(b, closes), n)
            for a, b, n in mine
            if n is not None and a < closes and b > opens
        ]
        cuts = sorted({opens, closes, *(t for a, b, _ in mine for t in (a, b))})
        out: list[list[int]] = []
        for a, b in pairwise(cuts):
            n = next((c for s, e, c in mine if s <= a and b <= e), base)
            if out and out[-1][2] == n:
                out[-1][1] = b
            else:
                out.append([a, b, n])
        return tuple((a, b, n) for a, b, n in out)

    def staffed_minutes(self, role: Role, day: str, opens: int, closes: int) -> int:
        """Person-minutes of ``role`` on ``day`` during opening hours (what the practice pays for)."""
        return person_minutes(self.steps(role, day, opens, closes))

    def desk_on(self, day: str) -> int:
        o = self.by_day.get(day)
        return o.front_desk if o and o.front_desk is not None else self.front_desk.count

    def mas_on(self, day: str) -> int:
        o = self.by_day.get(day)
        return (
            o.medical_assistants if o and o.medical_assistants is not None else self.medical_assistants.count
        )

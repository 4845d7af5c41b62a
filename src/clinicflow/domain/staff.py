"""Support staff: front-desk clerks and medical assistants."""

from __future__ import annotations

from pydantic import Field

from .base import Frozen, NonNegative
from .clock import Weekday
from .distributions import DistributionSpec


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


class Staff(Frozen):
    """Support staff work the clinic's opening hours; ``by_day`` overrides the counts per weekday."""

    front_desk: DeskStaff
    medical_assistants: MedicalAssistants
    by_day: dict[Weekday, DayStaffing] = Field(default_factory=dict)

    def desk_on(self, day: str) -> int:
        o = self.by_day.get(day)
        return o.front_desk if o and o.front_desk is not None else self.front_desk.count

    def mas_on(self, day: str) -> int:
        o = self.by_day.get(day)
        return (
            o.medical_assistants if o and o.medical_assistants is not None else self.medical_assistants.count
        )

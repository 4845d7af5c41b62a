"""Appointment (visit) types: what is booked, how long it is planned for and how long it takes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Frozen, Identifier, Probability
from .clock import ClockTime
from .distributions import DistributionSpec


class TimeWindow(Frozen):
    """A part of the day, e.g. new-patient slots only 08:00–11:00."""

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError("expected 'end' after 'start'")
        return self


class AppointmentType(Frozen):
    """A visit type.

    ``scheduled_min`` is the slot length the template reserves; ``duration`` is the provider's
    face time actually drawn in simulation. They differ on purpose: the gap between them is what
    slot timing under uncertainty has to manage.
    """

    id: Identifier
    name: str = Field(min_length=1)
    patient: Literal["new", "established", "any"] = "any"
    mode: Literal["in_person", "telehealth"] = "in_person"
    scheduled_min: int = Field(gt=0, le=480)
    duration: DistributionSpec
    no_show: Probability = 0.0
    late_cancel: Probability = 0.0
    rooming_min: DistributionSpec | None = Field(
        default=None, description="MA rooming time (vitals, history); null = no MA needed"
    )
    checkout: bool = True
    procedure: bool = Field(default=False, description="needs a procedure room")
    allowed_windows: list[TimeWindow] = Field(default_factory=list)
    color: str | None = None

    @field_validator("duration", "rooming_min")
    @classmethod
    def _nonnegative(cls, value):
        if value is not None and not value.nonnegative:
            raise ValueError(f"expected a non-negative duration distribution, got {value.dist}")
        return value

    @model_validator(mode="after")
    def _telehealth_has_no_room(self):
        if self.mode == "telehealth" and self.procedure:
            raise ValueError("a telehealth type cannot be a procedure (it uses no room)")
        return self

    @property
    def needs_room(self) -> bool:
        return self.mode == "in_person"

    def show_probability(self, no_show: float | None = None) -> float:
        """Probability that a booked patient comes: not a no-show (``no_show``, a patient's own score,
        else the type's rate) and not a late cancel, capped as the simulator draws it (the late cancel
        takes at most what the no-show leaves)."""
        ns = self.no_show if no_show is None else no_show
        return max(0.0, 1.0 - ns - min(self.late_cancel, 1.0 - ns))

    @property
    def needs_ma(self) -> bool:
        return self.rooming_min is not None and self.needs_room

"""Appointment (visit) types: what is booked, how long it is planned for and how long it takes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Frozen, Identifier, Probability
from .clock import WEEKDAYS, ClockTime, Weekday, format_hhmm
from .distributions import DistributionSpec


class TimeWindow(Frozen):
    """A part of the day, e.g. new-patient slots only 08:00–11:00; with ``days``, only on those
    weekdays (procedures only Tuesday and Thursday afternoons: a template rule practices keep so a
    procedure nurse or a device is there only then)."""

    start: ClockTime
    end: ClockTime
    days: list[Weekday] = Field(default_factory=list, description="weekdays it applies on; empty = every day")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError("expected 'end' after 'start'")
        if len(set(self.days)) != len(self.days):
            raise ValueError("expected each weekday at most once in 'days'")
        return self

    def on(self, weekday: str) -> bool:
        """Whether the window applies on ``weekday`` (``""``, a day not known: every window does)."""
        return not self.days or not weekday or weekday in self.days

    def admits(self, weekday: str, start: int, end: int) -> bool:
        """Whether ``start``-``end`` on ``weekday`` lies wholly inside this window."""
        return self.on(weekday) and self.start <= start and end <= self.end

    def label(self) -> str:
        """``08:00-11:00`` or ``13:00-17:00 tue, thu``."""
        days = " " + ", ".join(sorted(self.days, key=WEEKDAYS.index)) if self.days else ""
        return f"{format_hhmm(self.start)}-{format_hhmm(self.end)}{days}"


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

    def allowed_in(self, weekday: str, start: int, end: int) -> bool:
        """Whether a slot ``start``-``end`` on ``weekday`` respects the type's windows (all of the
        slot inside one window that applies that day; no windows: anywhere)."""
        return not self.allowed_windows or any(w.admits(weekday, start, end) for w in self.allowed_windows)

    def windows_label(self) -> str:
        """The windows in words for messages: ``08:00-11:00, 13:00-15:00 tue, thu``."""
        return ", ".join(w.label() for w in self.allowed_windows)

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

"""How patients actually arrive: punctuality and walk-ins."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import Frozen, Identifier, NonNegative
from .distributions import DistributionSpec


class Arrivals(Frozen):
    """Punctuality is minutes late relative to the appointment (negative = early).

    Walk-ins and same-day add-ons arrive as a Poisson process with ``walk_ins_per_hour``
    (or an hour-of-day profile in ``walk_ins_by_hour``), with types drawn from ``walk_in_mix``.
    """

    punctuality: DistributionSpec = 0
    walk_ins_per_hour: NonNegative = 0.0
    walk_ins_by_hour: dict[int, NonNegative] = Field(default_factory=dict)
    walk_in_mix: dict[Identifier, NonNegative] = Field(default_factory=dict)
    late_cutoff_min: NonNegative | None = Field(
        default=None, description="patients later than this are turned away and rebooked"
    )

    @field_validator("walk_ins_by_hour")
    @classmethod
    def _hours(cls, value: dict[int, float]) -> dict[int, float]:
        bad = [h for h in value if not 0 <= h <= 23]
        if bad:
            raise ValueError(f"expected hours 0-23, got {bad[0]}")
        return value

    def walk_in_rate(self, hour: int) -> float:
        return self.walk_ins_by_hour.get(hour, self.walk_ins_per_hour)

"""Exam and procedure rooms."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from .base import Frozen, Identifier
from .distributions import DistributionSpec


class Rooms(Frozen):
    """The shared pool of exam rooms.

    Give ``count`` (ids R01, R02, … are made up) or ``ids``. ``turnover_min`` is the cleaning
    and reset time after a patient leaves, before the room can be used again.
    """

    count: int | None = Field(default=None, ge=1, le=200)
    ids: list[Identifier] | None = None
    procedure_rooms: list[Identifier] = Field(default_factory=list)
    turnover_min: DistributionSpec = 3

    @field_validator("ids")
    @classmethod
    def _some_ids(cls, ids):
        if ids is not None and not ids:
            raise ValueError("expected at least one room id (a practice with no exam room cannot see anyone)")
        return ids

    @model_validator(mode="after")
    def _count_or_ids(self):
        if self.count is None and self.ids is None:
            raise ValueError("expected 'count' or 'ids'")
        if self.ids is not None:
            if len(set(self.ids)) != len(self.ids):
                raise ValueError("expected unique room ids")
            if self.count is not None and self.count != len(self.ids):
                raise ValueError(f"'count' is {self.count} but {len(self.ids)} ids are listed")
        if not self.turnover_min.nonnegative:
            raise ValueError("expected a non-negative turnover time")
        return self

    @property
    def room_ids(self) -> list[str]:
        if self.ids is not None:
            return list(self.ids)
        return [f"R{i:02d}" for i in range(1, self.count + 1)]

    @property
    def n(self) -> int:
        return len(self.room_ids)

"""Expected weekly requests per appointment type."""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import Frozen, Identifier, NonNegative, Positive

#: Most visits of one type a week a demand row may ask for.
MAX_WEEKLY = 100_000


class Demand(Frozen):
    """Weekly requests for one appointment type, pooled or for one provider.

    ``weight`` is how much a missing slot of this type costs relative to others in the
    template objective; min/max per session are the practice's template rules.
    """

    type: Identifier
    #: a practice's week; beyond it a value is a typo (``1e308``), not demand a solver can count
    weekly: NonNegative = Field(le=MAX_WEEKLY)
    provider: Identifier | None = None
    weight: Positive = 1.0
    min_per_session: int | None = Field(default=None, ge=0)
    max_per_session: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self):
        if (
            self.min_per_session is not None
            and self.max_per_session is not None
            and self.min_per_session > self.max_per_session
        ):
            raise ValueError("expected min_per_session <= max_per_session")
        return self

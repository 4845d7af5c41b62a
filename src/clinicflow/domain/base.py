"""The common base of every domain object: frozen, strict about unknown keys."""

from __future__ import annotations

import types
import typing
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator


class Frozen(BaseModel):
    """Validated, immutable configuration. A run never mutates it; run-time state lives in run objects."""

    # allow_inf_nan=False: ``.inf`` and ``.nan`` are valid YAML floats, but no duration, rate or cost
    # of a practice is infinite or undefined; left in, they run as a silently meaningless model.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value, info: ValidationInfo):
        return no_bool_for_a_number(cls, value, info)


def no_bool_for_a_number(cls: type[BaseModel], value, info: ValidationInfo):
    """``scheduled_min: true`` is a typo, not 1: pydantic's lax mode would read a YAML boolean as
    a number (quoted numbers stay accepted, as a spreadsheet export writes them)."""
    if isinstance(value, bool) and info.field_name and numeric(cls.model_fields[info.field_name].annotation):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


def numeric(annotation) -> bool:
    """Whether a field takes numbers only (int or float, possibly optional or constrained)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is Annotated:
        return numeric(args[0])
    if args and typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return all(numeric(a) for a in args)
    return annotation in (int, float)


Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", min_length=1, max_length=64)
]
"""An id as used in files and cross-references: starts with a letter; letters, digits, _ . -"""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]


class FieldProblem(ValueError):
    """A validation problem that belongs to a sub-field of the model raising it.

    Validators that check several fields at once raise this so the one-line error can point at
    the exact field (``sessions.tue[0].breaks[1]``) rather than at the whole object.
    """

    def __init__(self, sub: tuple, message: str):
        super().__init__(message)
        self.sub = tuple(sub)
        self.message = message

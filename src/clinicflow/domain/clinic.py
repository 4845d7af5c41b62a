"""The practice itself: name, timezone and opening days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from .base import Frozen
from .clock import WEEKDAYS, ClockTime, Weekday


def check_zone(zone: str) -> str:
    """``zone`` if it is an IANA time zone, else ValueError saying what was expected: the one check
    of the scenario's ``clinic.timezone``, a mapping's ``timezone:`` and ``--timezone`` options."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"expected an IANA timezone such as 'America/Chicago', got {zone!r}") from None
    return zone


class Clinic(Frozen):
    """Opening days and hours bound the whole model; times at the edges (exports, imports) are
    localized in ``timezone`` so that daylight-saving changes never shift a slot."""

    name: str = Field(min_length=1)
    timezone: str = Field(description="IANA zone, e.g. America/Chicago")
    days_open: list[Weekday] = Field(min_length=1)
    opens: ClockTime = Field(default="07:30")
    closes: ClockTime = Field(default="18:00")
    closed_dates: list[dt.date] = Field(
        default_factory=list, description="holidays and other dates the whole clinic is shut"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("days_open")
    @classmethod
    def _unique_days(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("expected each weekday at most once")
        return sorted(value, key=WEEKDAYS.index)

    @field_validator("closed_dates")
    @classmethod
    def _sorted_dates(cls, value: list[dt.date]) -> list[dt.date]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _hours_ordered(self):
        if self.closes <= self.opens:
            raise ValueError("expected 'closes' after 'opens'")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

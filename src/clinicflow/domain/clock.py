"""Clock times and weekdays.

Inside every model time is a number of minutes (since midnight for clock times, or a duration).
Scenario files and exports speak "HH:MM"; the conversion happens here and only here, so a
solver or simulator never parses a string.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_hhmm(value: object) -> int:
    """Turn "HH:MM" (or an int of minutes since midnight) into minutes since midnight."""
    if isinstance(value, bool):
        raise ValueError("expected a clock time like '08:30'")
    if isinstance(value, int):
        minutes = value
    elif isinstance(value, str):
        m = _HHMM.match(value.strip())
        if not m:
            raise ValueError(f"expected a clock time like '08:30', got {value!r}")
        hours, mins = int(m.group(1)), int(m.group(2))
        if mins >= 60:
            raise ValueError(f"expected minutes 00-59 in clock time, got {value!r}")
        minutes = hours * 60 + mins
    else:
        raise ValueError(f"expected a clock time like '08:30', got {value!r}")
    if not 0 <= minutes <= 24 * 60:
        raise ValueError(f"expected a clock time between 00:00 and 24:00, got {value!r}")
    return minutes


def format_hhmm(minutes: float) -> str:
    """Minutes since midnight as "HH:MM" (rounded to the minute)."""
    total = round(minutes)
    return f"{total // 60:02d}:{total % 60:02d}"


ClockTime = Annotated[int, BeforeValidator(parse_hhmm), PlainSerializer(format_hhmm, return_type=str)]
"""Minutes since midnight inside the model; "HH:MM" in files."""


def weekday_of(date) -> str:
    """The scenario weekday key ("mon" …) of a date."""
    return WEEKDAYS[date.weekday()]


#: Dates a plan, a simulated day or a synthetic history may fall on. Far wider than any practice
#: needs, yet leaves room for the year either side that calendar exports and week arithmetic add.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2999, 12, 31)


def parse_date(value: object, example: str = "2026-11-30") -> dt.date:
    """An ISO date (``2026-11-30``) within ``FIRST_DATE``..``LAST_DATE``; ``ValueError`` says what was expected.

    The range matters: year 1 or 9999 parse, then overflow deep inside an export or a week
    computation as a traceback.
    """
    try:
        d = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a date like {example}, got {value!r}") from None
    if not FIRST_DATE <= d <= LAST_DATE:
        raise ValueError(f"expected a date between {FIRST_DATE} and {LAST_DATE}, got {d.isoformat()}")
    return d


def monday_of(d: dt.date) -> dt.date:
    """The Monday of ``d``'s week (``d`` itself on a Monday)."""
    return d - dt.timedelta(days=d.weekday())


def next_monday(today: dt.date) -> dt.date:
    """The Monday after ``today`` (a week later when today is a Monday): the week being planned."""
    return today + dt.timedelta(days=7 - today.weekday())


def clinic_today(zone: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """Today by the clinic's calendar (``now``, default this instant, taken in ``zone``)."""
    now = dt.datetime.now(dt.UTC) if now is None else now
    return now.astimezone(zone).date()


def clinic_next_monday(zone: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """Next Monday by the clinic's calendar: the default week of ``plan`` and the dashboard's pages.

    The machine's date is not the clinic's: a server on UTC is already on Monday while a clinic in
    Honolulu is on Sunday evening, and planning "next Monday" from the server's date would skip the
    clinic's coming week. ``now`` (default: this instant) is taken in ``zone`` first.
    """
    return next_monday(clinic_today(zone, now))

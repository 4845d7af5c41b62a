"""Errors about API arguments, told in the command line's words.

The library names the argument it was given (``days``, ``engine``, ``cluster``); a person at the
command line typed ``--days``. Commands whose options share the arguments' names wrap the call in
:func:`named_as_options` so the one-line error names what the person can change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from ..domain.clock import parse_date
from ..errors import InputError


@contextlib.contextmanager
def named_as_options(*names: str) -> Iterator[None]:
    """Re-raise an ``InputError`` about argument ``name`` (no file) as one about ``--name``."""
    try:
        yield
    except InputError as err:
        if err.file is None and err.where in names:
            raise InputError(None, f"--{err.where}", err.message, line=err.line) from None
        raise


def week_monday(value: str | None, option: str = "--week") -> dt.date:
    """The Monday a ``--week`` option names, or next Monday when it is not given."""
    from ..solver.week import next_monday

    if value is None:
        return next_monday(dt.date.today())
    try:
        d = parse_date(value)
    except ValueError as e:
        raise InputError(None, option, str(e)) from None
    if d.weekday() != 0:
        raise InputError(None, option, f"expected a Monday, got {d.isoformat()} (a {d.strftime('%A')})")
    return d


def clinic_next_monday(zone: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """Next Monday by the clinic's calendar.

    The machine's date is not the clinic's: a server on UTC is already on Monday while a clinic in
    Honolulu is on Sunday evening, and planning "next Monday" from the server's date would skip the
    clinic's coming week. ``now`` (default: this instant) is taken in ``zone`` first.
    """
    from ..solver.week import next_monday

    now = dt.datetime.now(dt.UTC) if now is None else now
    return next_monday(now.astimezone(zone).date())

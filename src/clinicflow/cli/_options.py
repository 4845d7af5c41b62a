"""Errors about API arguments, told in the command line's words.

The library names the argument it was given (``days``, ``engine``, ``cluster``); a person at the
command line typed ``--days``. Commands whose options share the arguments' names wrap the call in
:func:`named_as_options` so the one-line error names what the person can change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from ..domain.clock import clinic_next_monday, parse_date
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


def week_monday(value: str, option: str = "--week") -> dt.date:
    """The Monday a ``--week`` option names (without one, callers take the clinic's next Monday,
    ``clinic_next_monday``: the machine's date can be another day than the clinic's)."""
    try:
        d = parse_date(value)
    except ValueError as e:
        raise InputError(None, option, str(e)) from None
    if d.weekday() != 0:
        raise InputError(None, option, f"expected a Monday, got {d.isoformat()} (a {d.strftime('%A')})")
    return d


__all__ = ["clinic_next_monday", "named_as_options", "week_monday"]

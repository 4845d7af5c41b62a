"""Errors about API arguments, told in the command line's words.

The library names the argument it was given (``days``, ``engine``, ``cluster``); a person at the
command line typed ``--days``. Commands whose options share the arguments' names wrap the call in
:func:`named_as_options` so the one-line error names what the person can change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import typer

from ..domain.clock import clinic_next_monday, parse_date
from ..domain.scenario import OFF_FORMAT, Scenario, parse_time_off
from ..errors import InputError

OFF_OPTION = typer.Option(
    None,
    "--off",
    help=f"Time off not in the scenario file yet, {OFF_FORMAT} (repeatable): e.g. dr_okafor:2026-12-01 "
    "(a sick day) or np_haddad:2026-12-02:13:00-17:00 (an afternoon).",
)


def with_off(scenario: Scenario, values: list[str] | None) -> Scenario:
    """The scenario with the ``--off`` entries added to its providers' ``time_off``; a bad entry is
    the option's one line."""
    try:
        return scenario.with_time_off([parse_time_off(v, scenario) for v in values or []])
    except ValueError as e:
        raise InputError(None, "--off", str(e)) from None


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


def day_option(value: str | None, option: str) -> dt.date | None:
    """The date a date option names, or None when not given; a bad one is the option's one line."""
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as e:
        raise InputError(None, option, str(e)) from None


#: The history window of the commands that fit from the store (``data.store.open_store``).
SINCE_OPTION = typer.Option(
    None, "--since", help="Use only the appointments on or after this date (YYYY-MM-DD)."
)
UNTIL_OPTION = typer.Option(
    None,
    "--until",
    help="Use only the appointments on or before this date (YYYY-MM-DD): fit on the weeks before "
    "those `history backtest --from` replays, to test out of sample.",
)


__all__ = [
    "SINCE_OPTION",
    "UNTIL_OPTION",
    "clinic_next_monday",
    "day_option",
    "named_as_options",
    "week_monday",
]

"""Pieces every export needs: safe spreadsheet cells, clinic-local datetimes, atomic output folders."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from ..spreadsheet import safe_cell, safe_frame

__all__ = ["atomic_output_dir", "local_datetime", "safe_cell", "safe_frame"]


def local_datetime(date: dt.date, minutes: float, tz: str | ZoneInfo) -> dt.datetime:
    """The timezone-aware datetime of ``minutes`` since midnight on ``date`` in the clinic's zone.

    Minutes are added to local midnight as wall-clock time, so a 09:00 slot is 09:00 on a
    daylight-saving day too.
    """
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    total = round(minutes)
    return dt.datetime.combine(date, dt.time(total // 60 % 24, total % 60), tzinfo=zone) + dt.timedelta(
        days=total // (24 * 60)
    )


@contextlib.contextmanager
def atomic_output_dir(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success its files replace those in ``out``.

    On any error the temporary folder is removed and ``out`` is left as it was: nothing is
    written half-way.
    """
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    target.mkdir(parents=True, exist_ok=True)
    for item in tmp.rglob("*"):
        rel = item.relative_to(tmp)
        dest = target / rel
        if item.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(item, dest)
    shutil.rmtree(tmp, ignore_errors=True)

"""Pieces every export needs: safe spreadsheet cells, clinic-local datetimes, atomic output folders and
files (checked before the work starts, never left half-written)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from ..errors import InputError
from ..spreadsheet import safe_cell, safe_frame

__all__ = [
    "atomic_output_dir",
    "atomic_write",
    "atomic_write_files",
    "check_output_dir",
    "check_output_file",
    "export_stamp",
    "fhir_datetime",
    "local_datetime",
    "logical_reference",
    "safe_cell",
    "safe_frame",
    "slot_keys",
    "week_not_worked",
]


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


def fhir_datetime(moment: dt.datetime) -> str:
    """``moment`` as a FHIR dateTime / instant: ISO 8601 with the clinic's offset.

    FHIR offsets are ``±hh:mm``, without seconds, while the local mean time many zones kept into
    the 20th century had them (Asia/Kolkata +05:21:10 in 1900, Africa/Monrovia -00:44:30 until
    1972). Such a moment is written in UTC: the same instant, in a form FHIR accepts.
    """
    offset = moment.utcoffset()
    if offset is not None and offset % dt.timedelta(minutes=1):
        return moment.astimezone(dt.UTC).isoformat()
    return moment.isoformat()


#: Identifier systems of what clinicflow's FHIR Bundles point at without carrying it.
FHIR_SYSTEMS = {
    "Practitioner": "https://clinicflow.dev/provider",
    "Location": "https://clinicflow.dev/room",
    "Patient": "https://clinicflow.dev/patient-ref",
}


def logical_reference(kind: str, value: str, display: str | None = None) -> dict:
    """A FHIR Reference by identifier (``type`` + ``identifier``) to a resource not in the Bundle.

    ``Practitioner/dr_okafor`` was a literal reference to a resource the Bundle does not hold, and
    no valid FHIR id at all (ids allow no ``_``): an EHR resolving it found nothing or refused the
    Bundle. An identifier is what the receiving system matches to its own provider, room or patient
    (R4 Reference.identifier; clinicflow's own FHIR import reads both forms)."""
    ref: dict = {"type": kind, "identifier": {"system": FHIR_SYSTEMS[kind], "value": value}}
    if display:
        ref["display"] = display
    return ref


def export_stamp() -> dt.datetime:
    """When the files were made (UTC, whole seconds), for calendar DTSTAMPs and Bundle timestamps.

    A calendar app that meets an event again (same UID, now stable: ``slot_keys``) keeps the copy
    with the later DTSTAMP, so a re-exported week must carry a later one or its changes (a slot
    booked since) are dropped as stale. ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention)
    fixes it, for byte-identical files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def slot_keys(schedule: pd.DataFrame) -> pd.Series:
    """Each slot's identity across exports: provider, date, start, and its rank among the provider's
    slots at that start (a double-booked start has two).

    Calendar UIDs and FHIR Slot ids are made from it, not from the row number: one slot added early
    in the week renumbered every later one, and a calendar or an EHR importing the re-planned week
    then held each of those slots twice. A slot that changes type or gets booked keeps its id, so
    the re-import updates it."""
    rank = schedule.groupby(["provider", "date", "start_min"], sort=False).cumcount()
    return (
        schedule["provider"].astype(str)
        + "|"
        + schedule["date"].astype(str)
        + "|"
        + schedule["start_min"].astype(int).astype(str)
        + "|"
        + rank.astype(str)
    )


def week_not_worked(schedule: pd.DataFrame, scenario) -> dict[str, list]:
    """The ``Cancelled`` sessions (closed dates, time off, dated OR blocks) of the week(s) the
    schedule covers, by provider: the calendars and the printed week show them, so an empty day
    reads as an absence, not as a gap in the export."""
    out: dict[str, list] = {}
    if schedule.empty:
        return out
    first, last = min(schedule["date"]), max(schedule["date"])
    d = first - dt.timedelta(days=first.weekday())
    while d <= last + dt.timedelta(days=6 - last.weekday()):
        for c in scenario.cancelled_on(d):
            out.setdefault(c.provider, []).append(c)
        d += dt.timedelta(days=1)
    return out


def _nearest_existing(path: Path) -> Path:
    anc = path
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    return anc


def _cannot_write(path: Path, err: OSError) -> InputError:
    return InputError(path, None, f"cannot write here ({err.strerror or err.__class__.__name__})")


def check_output_dir(out: str | Path) -> None:
    """Refuse an output folder that cannot be one, before the work rather than after it.

    A command that plans for a minute and only then finds ``--out`` naming a file would throw the
    minute away; this checks the cheap things first (the folder itself, the nearest existing parent).
    """
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise InputError(target, None, "expected a folder for the output files, but it is a file")
    anc = _nearest_existing(target)
    if not anc.is_dir():
        raise InputError(target, None, f"cannot create the output folder: {anc} is a file, not a folder")


def check_output_file(path: str | Path, create_parents: bool = True) -> None:
    """Refuse an output file name that cannot be written (a folder, a path through a file), early."""
    p = Path(path)
    if p.is_dir():
        raise InputError(p, None, "expected a file name, but it is a folder")
    if not create_parents and not p.parent.is_dir():
        raise InputError(p, None, "the folder does not exist")
    anc = _nearest_existing(p.parent)
    if not anc.is_dir():
        raise InputError(p, None, f"cannot create the file: {anc} is a file, not a folder")


def atomic_write(path: str | Path, write: Callable[[Path], None], create_parents: bool = True) -> None:
    """Write one file through a temporary file beside it (see :func:`atomic_write_files`)."""
    atomic_write_files({Path(path): write}, create_parents=create_parents)


def atomic_write_files(files: dict[Path, Callable[[Path], None]], create_parents: bool = True) -> None:
    """Write each file through a temporary file beside it, then rename them all.

    Nothing is renamed until every file is written, so an error (a bad value, a full disk, an
    unwritable folder) leaves every destination as it was: no half-written file and no half of a
    pair. A folder that cannot be written is one ``InputError`` line.
    """
    temps: dict[Path, Path] = {}
    try:
        for path, write in files.items():
            path = Path(path)
            check_output_file(path, create_parents)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
                os.close(fd)
            except OSError as e:
                raise _cannot_write(path, e) from None
            temps[path] = Path(tmp)
            try:
                write(temps[path])
            except OSError as e:
                raise _cannot_write(path, e) from None
        for path, tmp in temps.items():
            try:
                os.replace(tmp, path)
            except OSError as e:
                raise _cannot_write(path, e) from None
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, owned: Sequence[str] = ()) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success its files replace those in ``out``.

    ``owned`` are glob patterns (relative to ``out``) of files the command writes only sometimes
    (one calendar per provider, ``unbooked.csv`` with ``--requests``): those of an earlier run that
    this run did not write are removed, so the folder holds one run's files, not a mix of two
    (a calendar of a provider who left, or an old week's unbooked requests). Other files in
    ``out`` are left alone. On any error the temporary folder is removed and ``out`` is left as
    it was: nothing is written half-way. A folder that cannot be written is one ``InputError`` line.
    """
    target = Path(out)
    check_output_dir(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as e:
        raise _cannot_write(target, e) from None
    try:
        try:
            yield tmp
        except OSError as e:
            raise _cannot_write(target, e) from None
        try:
            target.mkdir(parents=True, exist_ok=True)
            written = set()
            for item in sorted(tmp.rglob("*")):
                dest = target / item.relative_to(tmp)
                if item.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                else:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(item, dest)
                    written.add(dest)
            for pattern in owned:
                for stale in target.glob(pattern):
                    if stale.is_file() and stale not in written:
                        stale.unlink()
        except OSError as e:
            raise _cannot_write(target, e) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""Validate, normalize and pseudonymize a raw history table into store rows.

All checks are vectorized (a 110,000-row export is checked in well under a second) and each bad
row gets the *first* reason it fails, with its line number. Odd data — a negative age, an
appointment dated before it was booked, a status nobody mapped — is a bad row, never silently
kept: it either stops the import (the default) or goes to the quarantine table with its reason
(``--skip-bad-rows``). Reasons never quote an identifier: a cell is quoted back only when it has
the shape of what its column holds (a date, a number, a status word without digits) and is not one
of the file's patient or appointment ids — a record number that landed in the status or date
column (a wrong mapping, a shifted export) is described, not printed or kept in the quarantine.

Raw identifiers leave this module only as keyed pseudonyms (:mod:`clinicflow.data.pseudonym`).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Container
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import InputError
from .importers import FLAG_FIELDS, RawTable
from .mapping import NOT_OUTCOMES, normalize_status
from .pseudonym import Pseudonymizer

TIMESTAMP_FIELDS = ("checkin_at", "roomed_at", "provider_start_at", "provider_end_at", "checkout_at")

#: Columns of the ``appointments`` table, in order (see :mod:`clinicflow.data.store`).
STORE_COLUMNS = (
    "appointment_ref",
    "row_hash",
    "patient_ref",
    "provider",
    "appointment_type",
    "scheduled_at",
    "appt_date",
    "start_at",
    "end_at",
    "status",
    *TIMESTAMP_FIELDS,
    "age",
    "age_band",
    "sex",
    "reminder",
    *FLAG_FIELDS,
    "source_line",
)
#: Fields that define an appointment's content (its row hash); the line it came from does not.
HASHED = tuple(c for c in STORE_COLUMNS if c not in ("row_hash", "source_line"))
#: The file columns (clinicflow's field names, after a mapping) each optional store field is made
#: from: a file *provides* the field when it has any of them (an age band follows age, or a band
#: column). The ids, the date and the status are required columns, so always provided; ``start_at``
#: is provided only by a file whose starts carry a time of day (see :func:`provided_fields`).
SOURCES: dict[str, tuple[str, ...]] = {
    "provider": ("provider",),
    "appointment_type": ("appointment_type",),
    "scheduled_at": ("scheduled_at",),
    "end_at": ("end_at",),
    **{f: (f,) for f in TIMESTAMP_FIELDS},
    "age": ("age",),
    "age_band": ("age", "age_band"),
    "sex": ("sex",),
    "reminder": ("reminder",),
    **{f: (f,) for f in FLAG_FIELDS},
}
ALWAYS_PROVIDED = ("appointment_ref", "patient_ref", "appt_date", "status")

AGE_BANDS = (
    (0, 17, "0-17"),
    (18, 29, "18-29"),
    (30, 44, "30-44"),
    (45, 64, "45-64"),
    (65, 79, "65-79"),
    (80, 200, "80+"),
)
#: The dates a history can hold. pandas' nanosecond timestamps end in 2262, and no practice's
#: records go back before 1900: a year 1 or 9999 is a placeholder or a typo, not a visit. Outside
#: them a cell is a bad row (left in, it would stop the import with a pandas overflow).
EARLIEST, LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2262-04-11")
_TRUE = {"1", "y", "yes", "true", "t", "sent", "x"}
_FALSE = {"0", "n", "no", "false", "f", "not sent", "none"}


@dataclass
class Batch:
    """A file's rows ready for the store, and the rows that are not."""

    good: pd.DataFrame  # STORE_COLUMNS
    bad: pd.DataFrame  # line, reason
    rows_read: int
    duplicates_in_file: int
    location: str
    #: The store fields (of ``HASHED``) the file has a column for. The store keeps the stored value
    #: of every other field when it replaces a changed row: a layout without a column says nothing
    #: about it, and must not empty it (an empty *cell* of a provided column is a real blank).
    provided: frozenset[str]


def provided_fields(columns: Container[str], has_time: bool) -> frozenset[str]:
    """The store fields a file with ``columns`` (clinicflow's names) provides; see :data:`SOURCES`.

    A file whose starts are dates only (the public no-show layout) provides the day but not
    ``start_at``: its hour is unknown there, not midnight, so a stored start time is not news to drop.
    """
    fields = {f for f, sources in SOURCES.items() if any(c in columns for c in sources)}
    return frozenset({*ALWAYS_PROVIDED, *fields, *(("start_at",) if has_time else ())})


def age_band(age: pd.Series) -> pd.Series:
    out = pd.Series(pd.NA, index=age.index, dtype="string")
    for lo, hi, label in AGE_BANDS:
        out[(age >= lo) & (age <= hi)] = label
    return out


def _text(s: pd.Series | None, n: int) -> pd.Series:
    if s is None:
        return pd.Series([""] * n, dtype="string")
    return s.astype("string").fillna("").str.strip().reset_index(drop=True)


def parse_datetimes(
    s: pd.Series | None, n: int, fmt: str | None = None, dayfirst: bool = False, tz: str | None = None
):
    """Parse a column of date/times to naive wall-clock timestamps of the clinic.

    Returns ``(values, bad)`` where ``bad`` marks non-empty cells that are not a date/time. With
    the clinic's zone ``tz``, a time with an offset (``Z``, ``-06:00``) is converted to that zone's
    wall-clock time; without it the offset is dropped *after* reading the wall-clock time it
    qualifies, which is right for a local offset (:func:`utc_problem` refuses UTC times then).
    """
    if s is None:
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"), np.zeros(n, bool)
    s = s.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = (s.dt.tz_convert(tz) if tz is not None else s).dt.tz_localize(None)
        outside = ((s < EARLIEST) | (s > LATEST)).to_numpy()
        return s.where(~outside).astype("datetime64[ns]"), outside
    text = _text(s, n)
    empty = (text == "").to_numpy()
    vals = text.where(~pd.Series(empty))
    parsed = None
    try:
        parsed = pd.to_datetime(vals, format=fmt or "ISO8601", errors="coerce", dayfirst=dayfirst)
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
    except (ValueError, TypeError):  # mixed offsets in one column
        parsed = None
    if parsed is None:
        parsed = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    parsed = parsed.where((parsed >= EARLIEST) & (parsed <= LATEST)).astype("datetime64[ns]")
    todo = np.flatnonzero(parsed.isna().to_numpy() & ~empty)
    if len(todo) and fmt is None:
        cells = text.iloc[todo]
        numeric = _numeric_dates(cells, dayfirst)
        parsed.iloc[todo] = numeric.where((numeric >= EARLIEST) & (numeric <= LATEST)).to_numpy()
        # the rest (offsets, "Jan 31, 2026"): one by one; never a numeric date, which dateutil would swap
        rest = todo[~cells.str.fullmatch(_NUMERIC_DATE.pattern).to_numpy()]
        fixed = [_parse_one(text.iat[i], dayfirst) for i in rest]
        parsed.iloc[rest] = pd.to_datetime(pd.Series(fixed, dtype="object"), errors="coerce")
    if tz is not None and fmt is None:
        aware = text.str.contains(_OFFSET).to_numpy() & parsed.notna().to_numpy()
        if aware.any():
            instants = pd.to_datetime(text[aware], utc=True, format="ISO8601", errors="coerce")
            parsed[aware] = instants.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[ns]")
    bad = parsed.isna().to_numpy() & ~empty
    return parsed, bad


#: A time of day followed by an offset: ``…T14:00:00Z``, ``… 09:00-05:00`` (not a date's ``-31``).
_OFFSET = r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:[zZ]|[+-]\d\d:?\d\d)$"
_UTC = r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:[zZ]|[+-]00:?00)$"


def utc_problem(columns: dict[str, pd.Series | None], lines: pd.Series) -> tuple[str, int] | None:
    """``(field, line)`` of the first time marked UTC (``Z``, ``+00:00``), or None.

    Without the clinic's zone such a time cannot become clinic time: dropping the ``Z`` stored a
    09:00 New York visit (14:00Z) at 14:00 and an evening one on the next day, moving every hour,
    weekday and date the reports and the model use. (A local offset, ``-05:00``, already says the
    wall-clock time.)"""
    first: tuple[str, int] | None = None
    for field, s in columns.items():
        if s is None:
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            marked = np.full(len(s), str(getattr(s.dt, "tz", None)) == "UTC")
        else:
            marked = _text(s, len(s)).str.contains(_UTC).to_numpy()
        if marked.any():
            line = int(lines.iat[int(np.argmax(marked))])
            first = min(first or (field, line), (field, line), key=lambda e: e[1])
    return first


#: A date in digits: day and month in either order before the year (31/01/2026, 01.31.26), or the
#: year first (2026/01/31), with an optional time (14:30, 2:30 PM, 14:30:05.123).
_NUMERIC_DATE = re.compile(
    r"(?:(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4}|\d{2})"
    r"|(?P<Y>\d{4})[/.-](?P<M>\d{1,2})[/.-](?P<D>\d{1,2}))"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<ap>[AaPp]\.?[Mm]\.?)?)?"
)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _numeric_parts(cells: pd.Series) -> pd.DataFrame:
    """The parts of each cell that is wholly a numeric date (NaN rows for the others)."""
    return cells.str.extract(f"^{_NUMERIC_DATE.pattern}$")


def _numeric_dates(cells: pd.Series, dayfirst: bool) -> pd.Series:
    """Numeric date cells read in one order, in bulk; NaT for a cell that is no date in that
    order (01/13/2026 day-first): never the other order, which would swap day and month unseen.

    dateutil, which read these cell by cell before, both swapped (it reads 01/13/2026 as 13 January
    when told day-first, and 2026-01-02 2:30 PM as 1 February) and took 0.55 ms a cell."""
    parts_text = _numeric_parts(cells)
    ap = parts_text.pop("ap").astype("object").str[:1].str.lower()
    g = parts_text.apply(pd.to_numeric).astype("float64")
    short = g["y"] < 100  # 26 → 2026: appointments are this century's
    year = g["Y"].fillna(g["y"].where(~short, g["y"] + 2000))
    first, second = (g["b"], g["a"]) if dayfirst else (g["a"], g["b"])
    hour = g["h"].fillna(0)
    twelve = ap.notna().to_numpy()
    pm = (ap == "p").fillna(False).to_numpy(dtype=bool)
    hour = hour.where(~twelve, (hour % 12) + np.where(pm, 12, 0))
    hour = hour.where(~twelve | g["h"].between(1, 12))  # 13:00 PM is no time
    parts = pd.DataFrame(
        {
            "year": year,
            "month": g["M"].fillna(first),
            "day": g["D"].fillna(second),
            "hour": hour,
            "minute": g["mi"].fillna(0),
            "second": g["s"].fillna(0),
        }
    )
    ok = parts.notna().all(axis=1) & parts["hour"].lt(24) & parts["minute"].lt(60) & parts["second"].lt(60)
    ok &= parts["year"].between(EARLIEST.year, LATEST.year - 1)  # pandas' nanoseconds end in 2262
    out = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(parts[ok].astype("int64"), errors="coerce")
    return out


def date_order(
    columns: dict[str, pd.Series | None],
    lines: pd.Series,
    file,
    given: bool | None,
    ids: Container[str] = frozenset(),
) -> bool:
    """Whether the file's numeric dates are day-first (True) or month-first (False).

    ``given`` (a mapping's ``dayfirst``) decides when set. Otherwise the file's own dates do: a
    first number above 12 (31/01/2026) can only be a day, a second one above 12 (01/13/2026) only
    a day too. A file with both, or with dates such as 03/04/2026 and none of either kind, is
    refused with one line (``InputError``): guessing would swap day and month of every date unseen.
    """
    if given is not None:
        return given
    found: dict[str, tuple[str, int]] = {}  # kind -> (cell, line) of its first example
    for s in columns.values():
        if s is None or pd.api.types.is_datetime64_any_dtype(s):
            continue
        text = _text(s, len(s))
        g = _numeric_parts(text[text.str.match(r"\d{1,2}[/.-]\d{1,2}[/.-]").to_numpy()])[["a", "b"]]
        g = g.dropna().astype(int)
        for kind, mask in (
            ("first", (g["a"] > 12) & (g["b"] <= 12)),
            ("second", (g["b"] > 12) & (g["a"] <= 12)),
            ("ambiguous", (g["a"] <= 12) & (g["b"] <= 12) & (g["a"] != g["b"])),
        ):
            if mask.any():
                i = mask.index[mask.to_numpy()][0]
                example = (str(text.iat[i]), int(lines.iat[i]))
                found[kind] = min(found.get(kind, example), example, key=lambda e: e[1])
    first, second, ambiguous = found.get("first"), found.get("second"), found.get("ambiguous")
    setting = "set dayfirst: true or false in a mapping file (--mapping) to say which"
    if first is not None and second is not None:
        (a, line_a), (b, line_b) = sorted([first, second], key=lambda e: e[1])
        raise InputError(
            file,
            None,
            f"dates are written both day-first and month-first ({_shown(a, _DATE_LIKE, ids)} and "
            f"{_shown(b, _DATE_LIKE, ids)} at line {line_b}); {setting} (the other rows are then refused)",
            line=line_a,
        )
    if first is not None or second is not None:
        return first is not None
    if ambiguous is not None:
        raise InputError(
            file,
            None,
            f"dates such as {_shown(ambiguous[0], _DATE_LIKE, ids)} could be day/month or month/day, and "
            f"no date in the file has a day above 12 to tell; {setting}",
            line=ambiguous[1],
        )
    return False


def _parse_one(value: str, dayfirst: bool, bounded: bool = True):
    """One cell the vectorized parse could not read; None when it is not a date/time (or, when
    ``bounded``, one outside ``EARLIEST``..``LATEST``)."""
    try:
        ts = pd.Timestamp(dt.datetime.fromisoformat(value).replace(tzinfo=None))
    except ValueError:
        if _NUMERIC_DATE.match(value):  # dateutil would read 01/13/2026 as 13 January day-first
            return None
        try:
            with warnings.catch_warnings():  # "30/11/2026" parses; pandas' dayfirst advice is noise
                warnings.simplefilter("ignore", UserWarning)
                ts = pd.to_datetime(value, dayfirst=dayfirst)
        except (ValueError, TypeError, OverflowError):
            return None
    if pd.isna(ts) or (bounded and not EARLIEST <= ts <= LATEST):
        return None
    try:  # pandas reads "-1" as the year -1, which no datetime holds
        return ts.tz_localize(None).to_pydatetime() if ts.tzinfo is not None else ts.to_pydatetime()
    except ValueError:
        return None


def datetime_problem(
    field: str, value: object, ids: Container[str] = frozenset(), dayfirst: bool = False
) -> str:
    """Why a non-empty date/time cell was refused: a date outside what a history can hold, a
    numeric date that is no date in the file's order (01/13/2026 day-first), or not a date/time
    at all (quoted only when it looks like a date: see :func:`_shown`)."""
    text = str(value).strip()
    g = _NUMERIC_DATE.fullmatch(text)
    in_order = False  # a numeric date that is a date in the file's order, so outside the range
    if g is not None and g["a"] is not None:
        a, b, y = int(g["a"]), int(g["b"]), int(g["y"])
        y += 2000 if y < 100 else 0
        in_order = _is_date(y, b, a) if dayfirst else _is_date(y, a, b)
        if not in_order:
            order = "day/month/year" if dayfirst else "month/day/year"
            return f"{field}: expected a {order} date, got {_shown(value, _DATE_LIKE, ids)}"
    elif g is not None:
        in_order = _is_date(int(g["Y"]), int(g["M"]), int(g["D"]))
    if in_order or isinstance(value, (dt.datetime, pd.Timestamp)) or _parse_one(text, False, False):
        return (
            f"{field}: expected a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}, "
            f"got {_shown(value, _DATE_LIKE, ids)}"
        )
    return f"{field}: not a date/time: {_shown(value, _DATE_LIKE, ids)}"


class _Reasons:
    """The first failing reason of each row."""

    def __init__(self, n: int):
        self.reason = np.full(n, "", dtype=object)

    def add(self, mask: np.ndarray, reason) -> None:
        mask = np.asarray(mask, bool) & (self.reason == "")
        if not mask.any():
            return
        if callable(reason):
            idx = np.flatnonzero(mask)
            self.reason[idx] = [reason(i) for i in idx]
        else:
            self.reason[mask] = reason

    @property
    def bad(self) -> np.ndarray:
        return self.reason != ""


def _short(v: object) -> str:
    s = str(v)
    return repr(s if len(s) <= 30 else s[:27] + "...")


#: What a refused cell may look like to be quoted back in a reason (printed, and kept in the
#: quarantine table). A status or yes/no spelling is a word without digits; record numbers have
#: digits. A date is digits in a date's shape; a number is a number.
_WORD_LIKE = re.compile(r"[A-Za-z?!. _/'-]{1,30}")
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T][0-9:.]{1,15}(?:Z|[+-]\d\d:?\d\d)?)?")
_NUMBER_LIKE = re.compile(r"[+-]?\d{1,6}(?:\.\d{1,6})?")
HIDDEN = "(value not shown: it may identify a patient)"


class _Ids:
    """The file's patient and appointment ids, as a set built on the first question: only a refused
    cell asks, and building it for every import cost 0.4 s on a 110,000-row export."""

    def __init__(self, *columns: pd.Series):
        self._columns = columns
        self._set: frozenset[str] | None = None

    def __contains__(self, value: object) -> bool:
        if self._set is None:
            self._set = frozenset().union(*self._columns)
        return value in self._set


def _shown(v: object, shape: re.Pattern, ids: Container[str]) -> str:
    """``v`` quoted if it has ``shape`` and is not one of the file's identifiers, else :data:`HIDDEN`.

    A cell in the wrong column (a mapping that names the patient-number column as the status, an
    export with a shifted column) would otherwise put a record number or a name on the screen and
    into the quarantine table, which must hold no row content."""
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return _short(v)
    s = str(v).strip()
    if shape.fullmatch(s) and s not in ids:
        return _short(s)
    return HIDDEN


def normalize(raw: RawTable, pseudo: Pseudonymizer, timezone: str | None = None) -> Batch:
    """Check every row of ``raw`` and turn the good ones into store rows; times with an offset
    become wall-clock times of ``timezone`` (the clinic's; default the mapping's)."""
    df = raw.frame.reset_index(drop=True)
    n = len(df)
    m = raw.mapping
    why = _Reasons(n)
    col = df.get

    appt_id = _text(col("appointment_id"), n)
    patient_id = _text(col("patient_id"), n)
    ids = _Ids(appt_id, patient_id)  # never quoted in a reason
    why.add((appt_id == "").to_numpy(), "missing appointment id")
    why.add((patient_id == "").to_numpy(), "missing patient id")

    date_fields = ("start_at", "scheduled_at", "end_at", *TIMESTAMP_FIELDS)
    dayfirst = (
        bool(m.dayfirst)
        if m.datetime_format is not None
        else date_order({f: col(f) for f in date_fields}, df["line"], raw.file, m.dayfirst, ids)
    )
    tz = timezone or m.timezone
    if tz is None and raw.format != "noshow-kaggle":  # the public layout's Z marks dates, not instants
        utc = utc_problem({f: col(f) for f in date_fields}, df["line"])
        if utc is not None:
            raise InputError(
                raw.file,
                utc[0],
                "times are marked UTC (Z or +00:00); give --timezone with the clinic's zone "
                "(e.g. America/New_York) to read them as the clinic's wall-clock time",
                line=utc[1],
            )
    start, bad_start = parse_datetimes(col("start_at"), n, m.datetime_format, dayfirst, tz)
    why.add(start.isna().to_numpy() & ~bad_start, "missing appointment start")
    why.add(bad_start, lambda i: datetime_problem("start_at", df["start_at"].iat[i], ids, dayfirst))
    parsed: dict[str, pd.Series] = {}
    for f in date_fields[1:]:
        parsed[f], _bad = parse_datetimes(col(f), n, m.datetime_format, dayfirst, tz)
        why.add(_bad, lambda i, f=f: datetime_problem(f, df[f].iat[i], ids, dayfirst))

    # outcome
    status_raw = _text(col("status"), n)
    if raw.status_kind == "noshow-yes-no":
        low = status_raw.str.lower()
        status = pd.Series(
            np.where(low == "yes", "no_show", np.where(low == "no", "attended", "")), dtype="string"
        )
        why.add(
            (status == "").to_numpy(),
            lambda i: f"No-show: expected Yes or No, got {_shown(status_raw.iat[i], _WORD_LIKE, ids)}",
        )
    else:
        table = m.status_table()
        keys = status_raw.map(normalize_status)
        status = keys.map(table).astype("string").fillna("")
        not_outcome = keys.isin([normalize_status(s) for s in NOT_OUTCOMES]).to_numpy()
        why.add((status_raw == "").to_numpy(), "missing status")
        why.add(
            not_outcome,
            lambda i: (
                f"status {_shown(status_raw.iat[i], _WORD_LIKE, ids)} is not an outcome (the appointment has not happened)"
            ),
        )
        why.add(
            (status == "").to_numpy(),
            lambda i: (
                f"unknown status {_shown(status_raw.iat[i], _WORD_LIKE, ids)} (map it under statuses: in a mapping file)"
            ),
        )

    # age
    age_txt = _text(col("age"), n)
    age_num = pd.to_numeric(age_txt.where(age_txt != ""), errors="coerce")
    why.add(
        (age_txt != "").to_numpy() & (age_num.isna() | (age_num % 1 != 0)).to_numpy(),
        lambda i: f"age: expected a whole number, got {_shown(age_txt.iat[i], _NUMBER_LIKE, ids)}",
    )
    why.add((age_num < 0).fillna(False).to_numpy(), lambda i: f"negative age {int(age_num.iat[i])}")
    why.add((age_num > 120).fillna(False).to_numpy(), lambda i: f"age {int(age_num.iat[i])} above 120")
    age = age_num.where(age_num % 1 == 0).astype("Int64")
    bands = age_band(age)
    if col("age_band") is not None:
        given = _text(col("age_band"), n)
        bands = bands.fillna(given.where(given != "")).astype("string")

    # chronology
    appt_date = start.dt.normalize()
    sched = parsed["scheduled_at"]
    why.add(
        (appt_date < sched.dt.normalize()).fillna(False).to_numpy(), "appointment dated before it was booked"
    )
    why.add((parsed["end_at"] < start).fillna(False).to_numpy(), "end_at before start_at")
    why.add(
        (parsed["provider_end_at"] < parsed["provider_start_at"]).fillna(False).to_numpy(),
        "provider_end_at before provider_start_at",
    )
    # A file where every start is at midnight carries dates only (the public no-show layout):
    # the hour is unknown, not 00:00.
    has_time = bool(((start - appt_date).dt.total_seconds().fillna(0) != 0).any())

    reminder_txt = _text(col("reminder"), n).str.lower()
    reminder = pd.Series(pd.NA, index=range(n), dtype="boolean")
    reminder[reminder_txt.isin(_TRUE).to_numpy()] = True
    reminder[reminder_txt.isin(_FALSE).to_numpy()] = False
    why.add(
        ((reminder_txt != "") & reminder.isna()).to_numpy(),
        lambda i: f"reminder: expected yes/no, got {_shown(reminder_txt.iat[i], _WORD_LIKE, ids)}",
    )

    sex_txt = _text(col("sex"), n).str.upper().str[:1]
    sex_code = np.where(sex_txt.isin(["F", "W"]), "F", np.where(sex_txt == "M", "M", "other"))
    sex = pd.Series(sex_code, dtype="string").where(~sex_txt.isin(["", "U"]))

    flags: dict[str, pd.Series] = {}
    for f in FLAG_FIELDS:
        t = _text(col(f), n)
        v = pd.to_numeric(t.where(t != ""), errors="coerce")
        why.add(
            ((t != "") & (v.isna() | (v % 1 != 0) | (v < 0))).to_numpy(),
            lambda i, f=f, t=t: f"{f}: expected 0, 1, 2 …, got {_shown(t.iat[i], _NUMBER_LIKE, ids)}",
        )
        flags[f] = v.where(v % 1 == 0).astype("Int16")

    out = pd.DataFrame(
        {
            "appointment_ref": pd.Series(pseudo.appointments(appt_id), dtype="string"),
            "patient_ref": pd.Series(pseudo.patients(patient_id), dtype="string"),
            "provider": _text(col("provider"), n).replace("", pd.NA),
            "appointment_type": _text(col("appointment_type"), n).replace("", pd.NA),
            "scheduled_at": sched,
            "appt_date": appt_date,
            "start_at": start if has_time else pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
            "end_at": parsed["end_at"],
            "status": status,
            **{f: parsed[f] for f in TIMESTAMP_FIELDS},
            "age": age,
            "age_band": bands,
            "sex": sex,
            "reminder": reminder,
            **flags,
            "source_line": df["line"].astype("int64").to_numpy(),
        }
    )
    del appt_id, patient_id  # raw identifiers go no further
    ids = _Ids()  # (the reasons are all written by now)
    out["row_hash"] = row_hashes(out)

    # the same appointment twice in one file: identical rows are one row; differing rows are bad
    dup = out["appointment_ref"].duplicated(keep=False).to_numpy() & ~why.bad
    duplicates_in_file = 0
    if dup.any():
        sub = out.loc[dup, ["appointment_ref", "row_hash", "source_line"]]
        variants = sub.groupby("appointment_ref")["row_hash"].transform("nunique")
        conflict = sub.index[(variants > 1).to_numpy()]
        group_lines = sub.groupby("appointment_ref")["source_line"].agg(list).to_dict()
        refs, src = out["appointment_ref"], out["source_line"]

        def _other_line(i: int) -> int:
            return next(x for x in group_lines[refs.iat[i]] if x != src.iat[i])

        mask = np.zeros(n, bool)
        mask[conflict] = True
        why.add(
            mask,
            lambda i: (
                f"appointment id repeated with different data (also at {raw.location} {_other_line(i)})"
            ),
        )
        same = sub.index[(variants == 1).to_numpy()]
        repeat = out.loc[same, "appointment_ref"].duplicated(keep="first")
        drop = np.zeros(n, bool)
        drop[same[repeat.to_numpy()]] = True
        duplicates_in_file = int(drop.sum())
    else:
        drop = np.zeros(n, bool)

    bad_mask = why.bad
    bad = pd.DataFrame({"line": out["source_line"][bad_mask].to_numpy(), "reason": why.reason[bad_mask]})
    if raw.pre_bad:
        bad = pd.concat([pd.DataFrame(raw.pre_bad, columns=["line", "reason"]), bad], ignore_index=True)
        bad = bad.sort_values("line", kind="stable").reset_index(drop=True)
    good = out.loc[~bad_mask & ~drop, list(STORE_COLUMNS)].reset_index(drop=True)
    provided = provided_fields(set(df.columns), has_time)
    return Batch(good, bad, n + len(raw.pre_bad), duplicates_in_file, raw.location, provided)


def row_hashes(frame: pd.DataFrame) -> list[str]:
    """SHA-256 of each row's content (pseudonyms, not identifiers, so the hash reveals nothing).

    Computed by an in-memory DuckDB (vectorized, ~20x faster than hashing row by row in Python);
    every value is rendered by DuckDB's own casts, so the text hashed does not depend on the
    source file's spelling of a date.
    """
    con = duckdb.connect()
    try:
        con.register("f", pa.Table.from_pandas(frame[list(HASHED)], preserve_index=False))
        return [r[0] for r in con.execute(f"SELECT {row_hash_sql()} FROM f").fetchall()]
    finally:
        con.close()


def row_hash_sql() -> str:
    """The SQL expression of a row's hash over its ``HASHED`` columns (one place, so the store's hash
    of a merged row is the hash a file holding the same content gets here: a later full export of it
    then reads as unchanged). The columns must have the types :func:`normalize` gives them (DuckDB
    renders a DATE and a TIMESTAMP of the same day differently)."""
    expr = " || chr(31) || ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in HASHED)
    return f"sha256({expr})"

"""Surgical cases waiting to be booked: the case table and its validated reader.

A case file is input data, one row per case, written by the coordinator (or exported from the
practice-management system). It is checked against the scenario once, here, and becomes a list
of frozen ``SurgicalCase`` objects; the solver and the simulator never see a raw row. Every
problem is one line naming the file, the CSV line (header = line 1) and the column — and never
quotes a patient reference.

Columns (``*`` = required)::

    case_id*            unique id of the case (letters, digits, _ . -)
    surgeon*            provider id of the operating surgeon
    case_type*          id of a ``surgery.case_types`` entry
    patient_ref         pseudonymous patient reference: letters, digits, - and ., starting with a
                        letter or digit (never a name or MRN)
    expected_duration   the surgeon's own estimate in minutes; replaces the case type's mean,
                        keeping its coefficient of variation
    earliest_date*      first day the patient can have surgery (YYYY-MM-DD)
    latest_date*        last day the patient can have surgery
    auth_status*        prior authorization: approved | pending | denied
    auth_approved_date  approved: the day it was approved (no surgery before it — required);
                        pending: the payer's expected decision date (optional)
    priority            1 (routine elective) … 5 (most urgent); default 1
    deadline            clinical deadline: last medically acceptable day (optional)
    asc_ok              yes/no: patient fit for an ambulatory surgery center (ASA, BMI, …);
                        default no
    equipment           extra equipment the case needs, separated by ';' (the case type's
                        own equipment is always needed)
    requested_date      day the case was requested (order of the first-come baseline);
                        default: file order
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from pathlib import Path
from typing import Literal

from pydantic import Field

from ..errors import InputError
from ..tables import read_text, wrong_separator
from .base import Frozen, Identifier
from .distributions import MAX_MINUTES, Deterministic, Lognormal
from .scenario import Scenario

AuthStatus = Literal["approved", "pending", "denied"]

COLUMNS = [
    "case_id",
    "surgeon",
    "case_type",
    "patient_ref",
    "expected_duration",
    "earliest_date",
    "latest_date",
    "auth_status",
    "auth_approved_date",
    "priority",
    "deadline",
    "asc_ok",
    "equipment",
    "requested_date",
]
REQUIRED = ["case_id", "surgeon", "case_type", "earliest_date", "latest_date", "auth_status"]
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
#: The FHIR id alphabet, starting with a letter or digit: a leading "-" would be a spreadsheet formula
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-.]{0,63}$")
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0", ""}


class SurgicalCase(Frozen):
    """One case to book. ``order`` is its position in the file (request order when no
    ``requested_date`` is given)."""

    case_id: Identifier
    surgeon: Identifier
    case_type: Identifier
    patient_ref: str | None = None
    expected_duration: float | None = Field(default=None, gt=0)
    earliest_date: dt.date
    latest_date: dt.date
    auth_status: AuthStatus
    auth_date: dt.date | None = None
    priority: int = Field(default=1, ge=1, le=5)
    deadline: dt.date | None = None
    asc_ok: bool = False
    equipment: tuple[Identifier, ...] = ()
    requested_date: dt.date | None = None
    order: int = 0

    def duration(self, scenario: Scenario) -> Lognormal | Deterministic:
        """The case's duration distribution.

        Without a surgeon estimate this is the case type's distribution. With one, durations
        are lognormal with the estimate as mean and the type's coefficient of variation: the
        estimate moves the centre, the type still says how uncertain such a case is (Strum,
        May & Vargas 2000 found case-type CVs stable across surgeons).
        """
        ct = case_type(scenario, self.case_type)
        if self.expected_duration is None:
            return ct.duration
        cv = ct.duration.cv
        if cv <= 0:
            return Deterministic(value=self.expected_duration)
        # a spread of more than a day is no duration (a type with a tiny mean and a wide sd)
        return Lognormal(mean=self.expected_duration, sd=min(self.expected_duration * cv, MAX_MINUTES))

    def needs(self, scenario: Scenario) -> tuple[str, ...]:
        """Equipment the case needs: its type's plus its own, sorted, without repeats."""
        return tuple(sorted(set(case_type(scenario, self.case_type).equipment) | set(self.equipment)))

    def asc_allowed(self, scenario: Scenario) -> bool:
        """Both the procedure (case type) and the patient (``asc_ok``) must suit an ASC."""
        return self.asc_ok and case_type(scenario, self.case_type).asc_eligible

    @property
    def last_date(self) -> dt.date:
        """Last day the case may be done: patient window and clinical deadline."""
        return min(self.latest_date, self.deadline) if self.deadline else self.latest_date

    @property
    def first_date(self) -> dt.date:
        """First day the case may be done: patient window and authorization approval."""
        if self.auth_status == "approved" and self.auth_date and self.auth_date > self.earliest_date:
            return self.auth_date
        return self.earliest_date


def case_type(scenario: Scenario, type_id: str):
    assert scenario.surgery is not None
    return next(ct for ct in scenario.surgery.case_types if ct.id == type_id)


# ---------------------------------------------------------------------------------------------
# Reading


def _fail(file, line: int, column: str | None, message: str):
    raise InputError(file, f"row {line}, column {column}" if column else f"row {line}", message)


def _date(file, line, column, raw: str, required: bool) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        if required:
            _fail(file, line, column, "expected a date like 2026-11-30, got an empty cell")
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        _fail(file, line, column, f"expected a date like 2026-11-30, got {raw!r}")


def read_cases_csv(path: str | Path, scenario: Scenario) -> list[SurgicalCase]:
    """Read and validate a case file against the scenario. Raises ``InputError`` (one line)."""
    p = Path(path)
    text = read_text(p)
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(c.strip() for c in rows[0]):
        raise InputError(p, None, f"empty file (expected a header row: {', '.join(COLUMNS)})")
    separator = wrong_separator(rows[0])
    if separator is not None:
        raise InputError(p, None, separator)
    return parse_cases(rows[0], rows[1:], scenario, p)


def parse_cases(
    header: list[str], rows: list[list[str]], scenario: Scenario, file: str | Path | None = None
) -> list[SurgicalCase]:
    """Validate a header and data rows (as strings) into cases. Row 1 is the header."""
    if scenario.surgery is None:
        raise InputError(file, None, "the scenario has no surgery section (facilities, blocks, case types)")
    header = [h.strip() for h in header]
    for h in header:
        if h not in COLUMNS:
            raise InputError(
                file, f"column {h or '(blank)'}", f"unknown column (expected: {', '.join(COLUMNS)})"
            )
    for h in REQUIRED:
        if h not in header:
            raise InputError(file, f"column {h}", f"missing column (required: {', '.join(REQUIRED)})")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise InputError(file, f"column {dup}", "column appears twice")

    sg = scenario.surgery
    types = {ct.id: ct for ct in sg.case_types}  # scenario order: the same message on every run
    providers = scenario.provider_by_id
    equipment = sorted({e for f in sg.facilities for e in f.equipment})
    cases: list[SurgicalCase] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(rows):
        line = i + 2
        if not any(c.strip() for c in raw):
            continue  # blank line
        if len(raw) > len(header):
            _fail(file, line, None, f"expected {len(header)} cells, got {len(raw)}")
        row = {h: (raw[k] if k < len(raw) else "").strip() for k, h in enumerate(header)}

        cid = row["case_id"]
        if not _ID.match(cid) or len(cid) > 64:
            _fail(file, line, "case_id", "expected an id of letters, digits, _ . - starting with a letter")
        if cid in seen:
            _fail(file, line, "case_id", f"duplicate case id {cid!r} (first on row {seen[cid]})")
        seen[cid] = line
        surgeon = row["surgeon"]
        if surgeon not in providers:
            surgeons = [p.id for p in scenario.providers if p.role == "surgeon"]
            _fail(
                file, line, "surgeon", f"unknown surgeon {surgeon!r} (expected one of: {', '.join(surgeons)})"
            )
        if providers[surgeon].role != "surgeon":
            _fail(file, line, "surgeon", f"{surgeon} is a {providers[surgeon].role}, not a surgeon")
        ctype = row["case_type"]
        if ctype not in types:
            _fail(
                file, line, "case_type", f"unknown case type {ctype!r} (expected one of: {', '.join(types)})"
            )

        ref = row.get("patient_ref") or None
        if ref is not None and not _REF.match(ref):
            # the value is never quoted: it may be a real identifier typed in by mistake
            _fail(
                file,
                line,
                "patient_ref",
                "expected a pseudonymous reference of letters, digits, '-' and '.' (at most 64, starting with a "
                "letter or digit), "
                "e.g. PT-3f9a1c2e; pseudonymize names and record numbers before import",
            )
        expected = None
        if row.get("expected_duration"):
            try:
                expected = float(row["expected_duration"])
            except ValueError:
                _fail(file, line, "expected_duration", f"expected minutes, got {row['expected_duration']!r}")
            if not math.isfinite(expected) or not 0 < expected <= 24 * 60:
                _fail(
                    file, line, "expected_duration", f"expected minutes between 0 and 1440, got {expected:g}"
                )

        earliest = _date(file, line, "earliest_date", row["earliest_date"], True)
        latest = _date(file, line, "latest_date", row["latest_date"], True)
        if latest < earliest:
            _fail(file, line, "latest_date", f"expected on or after earliest_date {earliest}, got {latest}")

        status = row["auth_status"].lower()
        if status not in ("approved", "pending", "denied"):
            _fail(
                file, line, "auth_status", f"expected approved, pending or denied, got {row['auth_status']!r}"
            )
        auth_date = _date(file, line, "auth_approved_date", row.get("auth_approved_date", ""), False)
        if status == "approved" and auth_date is None:
            _fail(file, line, "auth_approved_date", "an approved authorization needs its approval date")
        if status == "denied" and auth_date is not None:
            _fail(file, line, "auth_approved_date", "a denied authorization has no approval date")

        priority = 1
        if row.get("priority"):
            try:
                priority = int(row["priority"])
            except ValueError:
                _fail(file, line, "priority", f"expected a whole number 1-5, got {row['priority']!r}")
            if not 1 <= priority <= 5:
                _fail(file, line, "priority", f"expected a whole number 1-5, got {priority}")
        deadline = _date(file, line, "deadline", row.get("deadline", ""), False)

        asc_raw = row.get("asc_ok", "").lower()
        if asc_raw not in _TRUE | _FALSE:
            _fail(file, line, "asc_ok", f"expected yes or no, got {row['asc_ok']!r}")
        extra = tuple(e.strip() for e in row.get("equipment", "").split(";") if e.strip())
        for e in extra:
            if e not in equipment:
                _fail(
                    file,
                    line,
                    "equipment",
                    f"unknown equipment {e!r} (facilities have: {', '.join(equipment) or 'none'})",
                )
        requested = _date(file, line, "requested_date", row.get("requested_date", ""), False)
        cases.append(
            SurgicalCase(
                case_id=cid,
                surgeon=surgeon,
                case_type=ctype,
                patient_ref=ref,
                expected_duration=expected,
                earliest_date=earliest,
                latest_date=latest,
                auth_status=status,
                auth_date=auth_date,
                priority=priority,
                deadline=deadline,
                asc_ok=asc_raw in _TRUE,
                equipment=extra,
                requested_date=requested,
                order=i,
            )
        )
    if not cases:
        raise InputError(file, None, "no cases (the file has a header but no rows)")
    return cases


def write_cases_csv(cases: list[SurgicalCase], path: str | Path) -> None:
    """Write cases in the file format ``read_cases_csv`` reads (round-trips)."""

    def cell(v):
        if v is None:
            return ""
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            return f"{v:g}"
        return str(v)

    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for c in cases:
            w.writerow(
                [
                    c.case_id,
                    c.surgeon,
                    c.case_type,
                    cell(c.patient_ref),
                    cell(c.expected_duration),
                    c.earliest_date,
                    c.latest_date,
                    c.auth_status,
                    cell(c.auth_date),
                    c.priority,
                    cell(c.deadline),
                    cell(c.asc_ok),
                    ";".join(c.equipment),
                    cell(c.requested_date),
                ]
            )

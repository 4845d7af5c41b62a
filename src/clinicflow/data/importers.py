"""Readers for appointment-history files: CSV, Excel, Parquet, the public no-show layout, FHIR.

Each reader returns a :class:`RawTable`: the file's rows renamed onto clinicflow's field names
(still raw text, identifiers included) with each row's line number in the file, so that problems
can be reported where a person can find them. Nothing here validates values or touches the store;
:mod:`clinicflow.data.normalize` does that, and pseudonymizes, before anything is kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from ..errors import InputError
from ..tables import csv_shape_problem, parse_csv_text, read_text
from .mapping import IDENTITY, Columns, Mapping
from .names import FORMATS

Format = Literal["auto", "csv", "excel", "parquet", "fhir", "noshow-kaggle"]

#: The widely used public no-show dataset (Brazil, 2016): one row per appointment; "Yes" in
#: ``No-show`` means the patient did not come. ``AppointmentDay`` carries a date only.
NOSHOW_KAGGLE_COLUMNS = (
    "PatientId",
    "AppointmentID",
    "Gender",
    "ScheduledDay",
    "AppointmentDay",
    "Age",
    "Neighbourhood",
    "Scholarship",
    "Hipertension",
    "Diabetes",
    "Alcoholism",
    "Handcap",
    "SMS_received",
    "No-show",
)
#: Extra 0/1 (Handcap 0–4) attributes of the public dataset kept as model features.
KAGGLE_FLAGS = {
    "Scholarship": "scholarship",
    "Hipertension": "hypertension",
    "Diabetes": "diabetes",
    "Alcoholism": "alcoholism",
    "Handcap": "handicap",
}
FLAG_FIELDS = tuple(KAGGLE_FLAGS.values())


@dataclass
class RawTable:
    """Rows of one file under clinicflow's field names, as text; ``line`` locates each row.

    ``location`` is how rows are located in messages: "line" for text files and sheets, "row"
    for Parquet, "entry" for FHIR bundles. ``status_kind`` says how ``status`` is spelled:
    "text" (mapped through the status table) or "noshow-yes-no" (the public dataset's flag).
    """

    frame: pd.DataFrame
    file: Path
    format: str
    digest: str
    location: str = "line"
    status_kind: str = "text"
    mapping: Mapping = field(default_factory=lambda: IDENTITY)
    pre_bad: list[tuple[int, str]] = field(default_factory=list)  # rows rejected while reading


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes: the same export imported twice is recognized at once."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_history(path: str | Path, fmt: str = "auto", mapping: Mapping | None = None) -> RawTable:
    """Read a history file in any supported format (``fmt="auto"`` decides from the name and header).

    A file with no appointment in it (a header only, an empty sheet, a bundle without Appointment
    entries) is refused: it is almost always the wrong export, and loading it would report a
    successful import of nothing.
    """
    raw = _read_history(Path(path), fmt, mapping)
    if raw.frame.empty and not raw.pre_bad:
        raise InputError(raw.file, None, _NO_ROWS[raw.location])
    return raw


#: What a file with no appointment lacks, by how its rows are located (``RawTable.location``).
_NO_ROWS = {
    "line": "no data rows (expected one appointment per row below the header)",
    "row": "no rows (expected one appointment per row)",
    "entry": "no Appointment entries (expected a Bundle with at least one Appointment resource)",
}


def _read_history(p: Path, fmt: str, mapping: Mapping | None) -> RawTable:
    if fmt not in FORMATS:
        raise InputError(p, None, f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    if not p.exists():
        raise InputError(p, None, "file not found")
    if not p.is_file():
        raise InputError(p, None, "not a file")
    digest = file_digest(p)
    if fmt == "auto":
        fmt = _detect_format(p, mapping)
    if fmt == "fhir":
        return _read_fhir(p, digest)
    if fmt == "noshow-kaggle":
        frame = _read_table(
            p, "csv" if p.suffix.lower() not in (".xlsx", ".xls", ".parquet", ".pq") else _ext_format(p), None
        )
        return _kaggle(frame, p, digest)
    frame = _read_table(p, fmt, mapping)
    if mapping is None and all(c in frame.columns for c in NOSHOW_KAGGLE_COLUMNS):
        return _kaggle(frame, p, digest)
    return _apply_mapping(frame, p, fmt, digest, mapping or IDENTITY)


def _ext_format(p: Path) -> str:
    ext = p.suffix.lower()
    if ext in (".xlsx", ".xlsm", ".xls"):
        return "excel"
    if ext in (".parquet", ".pq"):
        return "parquet"
    if ext in (".json", ".ndjson"):
        return "fhir"
    return "csv"


def _detect_format(p: Path, mapping: Mapping | None) -> str:
    if mapping is not None and mapping.format is not None:
        return mapping.format
    fmt = _ext_format(p)
    if fmt == "csv" and mapping is None:
        with p.open("r", encoding="utf-8-sig", errors="replace") as fh:
            header = [c.strip().strip('"') for c in fh.readline().strip().split(",")]
        if all(c in header for c in NOSHOW_KAGGLE_COLUMNS):
            return "noshow-kaggle"
    return fmt


#: What a file that the reader for its format could not open was expected to be.
_NOT_READABLE = {
    "excel": "expected an Excel workbook, .xlsx or .xls; a CSV file renamed .xlsx is not one",
    "parquet": "expected an Apache Parquet file; a CSV file renamed .parquet is not one",
}


def _not_readable(fmt: str) -> str:
    return f"not a readable {fmt} file ({_NOT_READABLE.get(fmt, 'the file may be damaged')})"


def _read_table(p: Path, fmt: str, mapping: Mapping | None) -> pd.DataFrame:
    """The file as a frame of text cells (Parquet keeps real timestamp columns as they are)."""
    try:
        if fmt == "csv":
            text = read_text(p)
            problem = csv_shape_problem(text)
            if problem is not None:  # a ragged row would shift every later column under pandas
                line, column, message = problem
                raise InputError(p, column, message, line=line)
            df = parse_csv_text(text, p)
        elif fmt == "excel":
            sheet = mapping.sheet if mapping is not None and mapping.sheet is not None else 0
            df = pd.read_excel(p, sheet_name=sheet, dtype=str, keep_default_na=False)
        elif fmt == "parquet":
            df = pd.read_parquet(p)
            for c in df.columns:
                if not pd.api.types.is_datetime64_any_dtype(df[c]):
                    df[c] = df[c].map(
                        lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v)
                    )
        else:  # pragma: no cover - guarded by FORMATS
            raise InputError(p, None, f"format {fmt!r} cannot be read as a table")
    except InputError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(p, None, f"not a readable {fmt} file ({e.__class__.__name__})") from None
    except ValueError as e:
        detail = str(e).splitlines()[0] if str(e) else ""
        if fmt == "excel" and detail.startswith("Worksheet"):  # the mapping's sheet is not in the workbook
            raise InputError(p, None, f"not a readable {fmt} file: {detail}") from None
        # the libraries' own words ("Excel file format cannot be determined, you must specify an engine
        # manually", pyarrow's with the file's path) do not say what the file should have been
        raise InputError(p, None, _not_readable(fmt)) from None
    except Exception:  # openpyxl / pyarrow raise their own types on corrupt files
        raise InputError(p, None, _not_readable(fmt)) from None

    df.columns = [str(c).strip() for c in df.columns]
    if fmt == "csv":
        df.index = _record_lines(text, len(df))
    else:  # a sheet's header is row 1 (blank rows are kept by the reader); Parquet rows count from 1
        df.index = pd.RangeIndex(2, len(df) + 2) if fmt == "excel" else pd.RangeIndex(1, len(df) + 1)
    return _drop_non_rows(df)


def _record_lines(text: str, n: int) -> pd.Index:
    """The line of the file each of the ``n`` data records starts on.

    Row k is line k + 2 only when every record is one line: a quoted cell with line breaks (a
    free-text note) spans several, and pandas skips blank lines, so either made every later row's
    reported line too small. The records are walked with :mod:`csv` only then (the usual file is
    one line a record, which the count of newlines shows at once)."""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines == n + 1:
        return pd.RangeIndex(2, n + 2)
    reader = csv.reader(io.StringIO(text))
    next(reader, None)  # the header
    starts, start = [], reader.line_num + 1
    for row in reader:
        if row:  # a blank line is no record (pandas skips it too)
            starts.append(start)
        start = reader.line_num + 1
    return pd.Index(starts, dtype="int64") if len(starts) == n else pd.RangeIndex(2, n + 2)


def _drop_non_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows that hold something other than the header again.

    Excel saves rows of empty cells (",,,,") below a CSV's data and keeps blank rows inside a
    sheet; paged reports repeat the header row on every page. None of them is an appointment, and
    each would otherwise refuse the whole import as a bad row (a missing id, a start of
    "start_at"). The index (each row's line) is kept, so later rows are still located right."""
    text = df.select_dtypes(exclude=["datetime", "datetimetz"])
    if text.empty or df.empty:
        return df
    first = text.iloc[:, 0].astype("string").fillna("").str.strip()
    maybe = df[((first == "") | (first == text.columns[0])).to_numpy()]  # the rest are rows: fast
    cells = maybe[text.columns].astype("string").fillna("").apply(lambda c: c.str.strip())
    empty = (cells == "").all(axis=1) & maybe.drop(columns=text.columns).isna().all(axis=1)
    header = (cells == pd.Series(text.columns, index=text.columns)).all(axis=1)
    return df.drop(index=maybe.index[(empty | header).to_numpy()])


def _apply_mapping(df: pd.DataFrame, p: Path, fmt: str, digest: str, mapping: Mapping) -> RawTable:
    cols: Columns = mapping.columns
    wanted = {f: src for f, src in cols.model_dump().items() if src is not None}
    required = ("appointment_id", "patient_id", "start_at", "status")
    missing = [f for f in required if wanted[f] not in df.columns]
    if missing:
        f = missing[0]
        hint = "" if mapping is not IDENTITY else " (give --mapping MAP.yaml to name the file's columns)"
        raise InputError(p, f"column {wanted[f]}", f"missing column for {f}{hint}")
    out = pd.DataFrame({"line": df.index.to_numpy(dtype="int64")})
    for f, src in wanted.items():
        if src in df.columns:
            out[f] = df[src].reset_index(drop=True)
        elif mapping is not IDENTITY:
            raise InputError(
                p, f"column {src}", f"mapping names column {src!r} for {f}, but the file has no such column"
            )
    rc = mapping.recode
    for f, table in (("provider", rc.provider), ("appointment_type", rc.appointment_type)):
        if table and f in out.columns:
            out[f] = out[f].map(lambda v, t=table: t.get(str(v).strip(), v))
    location = "row" if fmt == "parquet" else "line"
    return RawTable(out, p, fmt, digest, location=location, mapping=mapping)


def _kaggle(df: pd.DataFrame, p: Path, digest: str) -> RawTable:
    missing = [c for c in NOSHOW_KAGGLE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(p, f"column {missing[0]}", "missing column of the noshow-kaggle layout")
    out = pd.DataFrame(
        {
            "line": df.index.to_numpy(dtype="int64"),
            "appointment_id": df["AppointmentID"].to_numpy(),
            "patient_id": df["PatientId"].to_numpy(),
            "scheduled_at": df["ScheduledDay"].to_numpy(),
            "start_at": df["AppointmentDay"].to_numpy(),
            "status": df["No-show"].to_numpy(),
            "age": df["Age"].to_numpy(),
            "sex": df["Gender"].to_numpy(),
            "reminder": df["SMS_received"].to_numpy(),
        }
    )
    for src, name in KAGGLE_FLAGS.items():
        out[name] = df[src].to_numpy()
    # Neighbourhood is deliberately dropped: a small area is a quasi-identifier and not needed.
    return RawTable(out, p, "noshow-kaggle", digest, status_kind="noshow-yes-no")


# ---------------------------------------------------------------------------------------------
# FHIR R4 Bundles of Appointment resources


def _read_fhir(p: Path, digest: str) -> RawTable:
    from fhir.resources.R4B.appointment import Appointment  # R4B's Appointment is R4's
    from pydantic import ValidationError

    text = read_text(p)  # UTF-8, a byte-order mark tolerated as in every other file clinicflow reads
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        line = getattr(e, "lineno", None)
        raise InputError(p, None, "not valid JSON", line=line) from None
    except RecursionError:  # json decodes nested arrays recursively: [[[[… thousands deep
        raise InputError(
            p, None, "not valid JSON: nested too deeply (expected a FHIR Bundle of Appointment resources)"
        ) from None
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise InputError(p, None, "expected a FHIR Bundle (resourceType: Bundle) of Appointment resources")
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        raise InputError(p, "entry", "expected a list of bundle entries")
    rows: list[dict] = []
    bad: list[tuple[int, str]] = []
    for i, entry in enumerate(entries, start=1):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") != "Appointment":
            continue  # Patients, Practitioners … travel in the same bundles; only appointments count
        try:
            appt = Appointment.model_validate({k: v for k, v in res.items() if k != "resourceType"})
        except ValidationError as e:
            err = e.errors(include_url=False)[0]
            where = ".".join(str(x) for x in err["loc"] if not str(x).startswith("function"))
            bad.append((i, f"not a valid FHIR Appointment ({where}: {err['type']})"))
            continue
        rows.append(_fhir_row(appt, i))
    columns = [
        "line",
        "appointment_id",
        "patient_id",
        "provider",
        "appointment_type",
        "scheduled_at",
        "start_at",
        "end_at",
        "status",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return RawTable(frame, p, "fhir", digest, location="entry", pre_bad=bad)


def _fhir_row(appt, entry: int) -> dict:
    patient = provider = ""
    for part in appt.participant or []:
        actor = part.actor
        ref = (actor.reference or "") if actor is not None else ""
        kind, _, ident = ref.partition("/")
        if not ref and actor is not None and actor.identifier is not None:  # a logical reference
            kind, ident = actor.type or "", actor.identifier.value or ""
        if kind == "Patient" and not patient:
            patient = ident
        elif kind in ("Practitioner", "PractitionerRole") and not provider:
            provider = ident
    appt_type = ""
    for concept in [appt.appointmentType, *(appt.serviceType or [])]:
        if concept is not None and concept.coding:
            appt_type = concept.coding[0].code or ""
            if appt_type:
                break
    ident = appt.id or (appt.identifier[0].value if appt.identifier else "") or ""
    return {
        "line": entry,
        "appointment_id": ident,
        "patient_id": patient,
        "provider": provider,
        "appointment_type": appt_type,
        "scheduled_at": appt.created.isoformat() if appt.created else "",
        "start_at": appt.start.isoformat() if appt.start else "",
        "end_at": appt.end.isoformat() if appt.end else "",
        "status": appt.status or "",
    }

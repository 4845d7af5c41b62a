"""PHI audit regressions: raw patient ids never reach a message, the quarantine table or a file, and
exported cells never run as spreadsheet formulas (each test failed before its fix)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from clinicflow import InputError, load_scenario
from clinicflow.data.store import BadRowsError, import_history
from clinicflow.domain.cases import read_cases_csv
from clinicflow.domain.requests import parse_requests
from clinicflow.domain.schedule import validate_schedule
from conftest import FAMILY, run_main
from history_helpers import _key_in_tmp, generic_file, snapshot  # noqa: F401

MRN = "MRN-SECRET-0001"


def _raw_history(tmp_path):
    path, frame = generic_file(tmp_path / "h.csv", rows=400, weeks=4)
    frame = frame.astype(str).replace({"nan": "", "<NA>": ""})
    frame.loc[0, "patient_id"] = MRN
    return path, frame


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", MRN),  # a mapping that names the record-number column as the status
        ("status", "@cmd"),
        ("start_at", MRN),  # an id typed into a date
        ("scheduled_at", "4711-0815-99"),
        ("age", MRN),
        ("reminder", MRN),
    ],
)
def test_bad_row_reasons_do_not_quote_an_identifier(tmp_path, column, value):
    path, frame = _raw_history(tmp_path)
    frame.loc[5, column] = value
    if value != MRN:  # the value is also a patient's id in the file
        frame.loc[7, "patient_id"] = value
    frame.to_csv(path, index=False)
    db, key = tmp_path / "h.duckdb", tmp_path / "key"
    with pytest.raises(BadRowsError) as info:
        import_history(path, db=db, key_file=key)
    assert value not in str(info.value) and "value not shown" in str(info.value)
    import_history(path, db=db, key_file=key, skip_bad_rows=True)
    stored = repr(snapshot(db))
    assert value not in stored and "value not shown" in stored


def test_bad_row_reasons_still_quote_a_status_spelling(tmp_path):
    """Quoting what the person must map stays: a status word, a date out of range, a number."""
    path, frame = _raw_history(tmp_path)
    frame.loc[5, "status"] = "Rescheduled"
    frame.loc[6, "checkin_at"] = "0001-01-01T08:15"
    frame.loc[7, "age"] = "41.5"
    frame.to_csv(path, index=False)
    result = import_history(path, db=tmp_path / "h.duckdb", key_file=tmp_path / "key", skip_bad_rows=True)
    assert result.rows_quarantined == 3
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    reasons = [r[0] for r in con.execute("SELECT reason FROM quarantine ORDER BY line").fetchall()]
    con.close()
    assert reasons[0].startswith("unknown status 'Rescheduled'")
    assert reasons[1].endswith("got '0001-01-01T08:15'")
    assert reasons[2] == "age: expected a whole number, got '41.5'"


def test_pseudonymize_neutralizes_formula_cells_in_kept_columns(tmp_path):
    raw = tmp_path / "raw.csv"
    pd.DataFrame(
        {
            "patient_id": [MRN, "12345"],
            "note": ["=cmd|' /C calc'!A0", "@SUM(1)"],
            "balance": ["-12.50", "+3"],
        }
    ).to_csv(raw, index=False)
    out = tmp_path / "out.csv"
    r = run_main("history", "pseudonymize", raw, "--out", out, "--key-file", tmp_path / "key")
    assert r.code == 0, r.stderr
    assert MRN not in r.stdout + r.stderr + out.read_text()
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert df["note"].tolist() == ["'=cmd|' /C calc'!A0", "'@SUM(1)"]
    assert df["balance"].tolist() == ["-12.50", "+3"]  # numbers are kept as they were
    assert df["patient_ref"].str.match(r"^p_[0-9a-f]{20}$").all()


def _request_row(ref: str) -> dict:
    return {
        "patient_ref": ref,
        "appointment_type": "follow_up",
        "preferred_provider": "",
        "earliest_date": "2026-11-30",
        "latest_date": "2026-12-04",
        "time_of_day": "any",
        "urgency": "routine",
    }


@pytest.mark.parametrize("ref", ["-2302", "-SECRET-cmd"])
def test_requests_refuse_a_reference_a_spreadsheet_runs(ref):
    """``-…`` passed the requests check and reached calibrate's and plan's CSV / Excel cells."""
    with pytest.raises(InputError) as info:
        parse_requests(pd.DataFrame([_request_row(ref)]), load_scenario(FAMILY), "r.csv")
    assert "column patient_ref" in str(info.value) and ref not in str(info.value)


@pytest.mark.parametrize("ref", ["-2302", ".SECRET", "-SECRET-cmd"])
def test_cases_refuse_a_reference_a_spreadsheet_runs(tmp_path, ortho, ref):
    header = (
        "case_id,surgeon,case_type,patient_ref,expected_duration,earliest_date,latest_date,auth_status,"
        "auth_approved_date,priority,deadline,asc_ok,equipment,requested_date"
    )
    row = f"C1,dr_osei,acl,{ref},,2026-11-30,2026-12-20,approved,2026-11-20,2,,yes,,2026-11-01"
    p = tmp_path / "cases.csv"
    p.write_text(header + "\n" + row + "\n")
    with pytest.raises(InputError) as info:
        read_cases_csv(p, ortho)
    assert "column patient_ref" in str(info.value) and ref not in str(info.value)


@pytest.mark.parametrize(
    "ref", ["Jane SECRETNAME Doe", '=HYPERLINK("http://x","y")', "+SUM(1)", "-2+3", "@cmd", "\tTAB9"]
)
def test_schedule_refuses_names_and_formulas_as_patient_ref(tiny, ref):
    """The schedule reader took any text as a patient_ref: a name went on into calibrate
    --schedule-out, FHIR, iCalendar and the workbook."""
    row = {
        "date": "2026-11-30",
        "provider": "doc",
        "start": "08:00",
        "appointment_type": "visit",
        "kind": "booked",
        "patient_ref": ref,
    }
    with pytest.raises(InputError) as info:
        validate_schedule(pd.DataFrame([row]), tiny, "s.csv")
    assert "row 2, column patient_ref" in str(info.value) and ref not in str(info.value)
    ok = validate_schedule(pd.DataFrame([{**row, "patient_ref": "p_0123456789abcdef0123"}]), tiny)
    assert ok["patient_ref"].tolist() == ["p_0123456789abcdef0123"]
    assert ok["date"].tolist() == [dt.date(2026, 11, 30)]

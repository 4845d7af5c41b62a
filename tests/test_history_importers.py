"""Readers: the public layout, generic CSV / Excel / Parquet, mapping files, FHIR bundles; pseudonyms."""

from __future__ import annotations

import json
import os
import stat

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicflow.data.importers import FLAG_FIELDS, read_history
from clinicflow.data.mapping import load_mapping
from clinicflow.data.normalize import HASHED, TIMESTAMP_FIELDS, normalize
from clinicflow.data.pseudonym import Pseudonymizer, default_key_path, load_or_create_key
from clinicflow.data.store import BadRowsError, import_history
from clinicflow.errors import InputError
from conftest import ROOT
from history_helpers import _key_in_tmp, generic_file, kaggle_file  # noqa: F401

EXAMPLE_MAPPING = ROOT / "scenarios" / "history-mapping.example.yaml"


# -- pseudonyms -------------------------------------------------------------------------------


def test_key_created_once_owner_only_and_reused(tmp_path):
    path = tmp_path / "cfg" / "key"
    k1 = load_or_create_key(path)
    assert len(k1) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key(path) == k1
    assert load_or_create_key(tmp_path / "other") != k1


def test_key_path_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINICFLOW_KEY_FILE", str(tmp_path / "envkey"))
    assert default_key_path() == tmp_path / "envkey"
    monkeypatch.delenv("CLINICFLOW_KEY_FILE")
    assert default_key_path().parts[-3:] == (".config", "clinicflow", "key")


def test_bad_key_file_is_one_line_error(tmp_path):
    bad = tmp_path / "key"
    bad.write_text("not hex")
    with pytest.raises(InputError, match="not a clinicflow key file"):
        load_or_create_key(bad)


def test_pseudonyms_are_keyed_stable_and_namespaced():
    a, b = Pseudonymizer(b"a" * 32), Pseudonymizer(b"b" * 32)
    assert a.patient("12345") == a.patient(" 12345 ") == a.patient("12345.0")
    assert a.patient("12345") != b.patient("12345")
    assert a.patient("12345") != a.appointment("12345")[0:0] + a.patient("12346")
    assert a.patient("12345").startswith("p_") and len(a.patient("12345")) == 22
    assert a.appointment("12345")[2:] != a.patient("12345")[2:]
    assert a.fingerprint != b.fingerprint


# -- generic files ------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".csv", ".xlsx", ".parquet"])
def test_generic_layout_in_each_format_loads_the_same(tmp_path, ext):
    _, frame = generic_file(tmp_path / "g.csv", rows=150)
    f = tmp_path / f"same{ext}"
    if ext == ".xlsx":
        frame.to_excel(f, index=False)
    elif ext == ".parquet":
        frame.to_parquet(f, index=False)
    else:
        frame.to_csv(f, index=False)
    key = tmp_path / "key"
    r = import_history(f, tmp_path / "h.duckdb", key_file=key)
    assert r.rows_added == 150
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    hashes = sorted(x[0] for x in con.execute("SELECT row_hash FROM appointments").fetchall())
    con.close()
    ref = normalize(read_history(tmp_path / "g.csv"), Pseudonymizer(load_or_create_key(key)))
    assert hashes == sorted(ref.good["row_hash"])  # identical content whatever the container


def _mapped_export(tmp_path):
    rows = [
        [
            "A-1",
            "MRN001",
            "OKAFOR, AMARA MD",
            "FU20",
            "03/01/2025 10:05",
            "03/04/2025 09:20",
            "Checked Out",
            "03/04/2025 09:12",
            "03/04/2025 09:25",
            "03/04/2025 09:31",
            "03/04/2025 09:49",
            "03/04/2025 09:55",
            "54",
            "F",
            "Y",
        ],
        [
            "A-2",
            "MRN002",
            "LINDQVIST, ERIK MD",
            "NP40",
            "02/20/2025 16:00",
            "03/04/2025 10:00",
            "NS",
            "",
            "",
            "",
            "",
            "",
            "31",
            "M",
            "N",
        ],
        [
            "A-3",
            "MRN001",
            "OKAFOR, AMARA MD",
            "PE30",
            "03/03/2025 08:00",
            "03/05/2025 08:00",
            "Same-Day Cancel",
            "",
            "",
            "",
            "",
            "",
            "54",
            "F",
            "",
        ],
        [
            "A-4",
            "MRN003",
            "OKAFOR, AMARA MD",
            "FU20",
            "03/03/2025 08:00",
            "03/06/2025 11:00",
            "Rescheduled",
            "",
            "",
            "",
            "",
            "",
            "70",
            "F",
            "Y",
        ],
    ]
    cols = [
        "Appt ID",
        "MRN",
        "Provider",
        "Visit Type",
        "Booked On",
        "Appt Start",
        "Status",
        "Checked In",
        "Roomed",
        "Provider In",
        "Provider Out",
        "Checked Out",
        "Age",
        "Sex",
        "Reminder Sent",
    ]
    f = tmp_path / "export.csv"
    pd.DataFrame(rows, columns=cols).to_csv(f, index=False)
    return f


def test_example_mapping_file_maps_columns_statuses_and_ids(tmp_path):
    f = _mapped_export(tmp_path)
    mapping = load_mapping(EXAMPLE_MAPPING)
    batch = normalize(read_history(f, mapping=mapping), Pseudonymizer(b"k" * 32))
    assert batch.bad.empty
    g = batch.good.sort_values("source_line")
    assert list(g["status"]) == ["attended", "no_show", "late_cancel", "cancelled"]
    assert list(g["provider"]) == ["dr_okafor", "dr_lindqvist", "dr_okafor", "dr_okafor"]
    assert list(g["appointment_type"]) == ["follow_up", "new_patient", "annual_physical", "follow_up"]
    first = g.iloc[0]
    assert first["start_at"] == pd.Timestamp("2025-03-04 09:20")
    assert (first["provider_end_at"] - first["provider_start_at"]) == pd.Timedelta(minutes=18)
    assert first["age_band"] == "45-64" and bool(first["reminder"]) is True
    assert g["patient_ref"].iloc[0] == g["patient_ref"].iloc[2] != g["patient_ref"].iloc[1]


def test_excel_sheet_from_the_mapping(tmp_path):
    f = _mapped_export(tmp_path)
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    xlsx = tmp_path / "export.xlsx"
    with pd.ExcelWriter(xlsx) as w:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(w, sheet_name="Cover", index=False)
        df.to_excel(w, sheet_name="Appointments", index=False)
    text = (
        EXAMPLE_MAPPING.read_text()
        .replace("format: csv", "format: excel")
        .replace("# sheet: Appointments", "sheet: Appointments")
    )
    m = tmp_path / "m.yaml"
    m.write_text(text)
    batch = normalize(read_history(xlsx, mapping=load_mapping(m)), Pseudonymizer(b"k" * 32))
    assert batch.bad.empty and list(batch.good["source_line"]) == [2, 3, 4, 5]
    m.write_text(text.replace("sheet: Appointments", "sheet: Visits"))
    with pytest.raises(InputError, match="not a readable excel file"):
        read_history(xlsx, mapping=load_mapping(m))


def test_mapping_file_errors_are_one_line_with_the_yaml_line(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text(
        "columns:\n  appointment_id: ID\n  patient_id: MRN\n  start_at: S\n  status: St\n  provder: P\n"
    )
    with pytest.raises(InputError) as exc:
        load_mapping(m)
    assert str(exc.value) == f"{m}:6: columns.provder: unknown field 'provder' (did you mean 'provider'?)"
    m.write_text("columns:\n  appointment_id: ID\n  patient_id: MRN\n  start_at: S\n")
    with pytest.raises(InputError, match=r"columns.status: required field is missing"):
        load_mapping(m)
    m.write_text(
        "columns: {appointment_id: I, patient_id: P, start_at: S, status: T}\n"
        "statuses: {attended: [Done], no_show: [done]}\n"
    )
    with pytest.raises(InputError, match="listed under both attended and no_show"):
        load_mapping(m)


def test_missing_mapped_column_is_named(tmp_path):
    f = tmp_path / "x.csv"
    pd.DataFrame({"ID": ["1"], "Who": ["2"]}).to_csv(f, index=False)
    with pytest.raises(
        InputError, match=r"column appointment_id: missing column for appointment_id \(give --mapping"
    ):
        read_history(f)


def test_odd_dates_in_a_mapped_file(tmp_path):
    f = _mapped_export(tmp_path)
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df.loc[1, "Booked On"] = "03/09/2025 10:00"  # booked after the visit
    df.loc[2, "Provider Out"], df.loc[2, "Provider In"] = "03/05/2025 08:10", "03/05/2025 08:30"
    df.loc[3, "Age"] = "-4"
    df.to_csv(f, index=False)
    with pytest.raises(BadRowsError) as exc:
        import_history(
            f, tmp_path / "h.duckdb", mapping=load_mapping(EXAMPLE_MAPPING), key_file=tmp_path / "k"
        )
    assert list(zip(exc.value.bad["line"], exc.value.bad["reason"], strict=True)) == [
        (3, "appointment dated before it was booked"),
        (4, "provider_end_at before provider_start_at"),
        (5, "negative age -4"),
    ]


# -- FHIR ---------------------------------------------------------------------------------------


def _appointment(i, status, start="2025-03-04T09:00:00-06:00", patient="pat-77"):
    return {
        "resource": {
            "resourceType": "Appointment",
            "id": f"appt-{i}",
            "status": status,
            "appointmentType": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": "FOLLOWUP"}]
            },
            "created": "2025-02-20",
            "start": start,
            "end": "2025-03-04T09:20:00-06:00",
            "participant": [
                {"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
                {"actor": {"reference": "Practitioner/dr_okafor"}, "status": "accepted"},
            ],
        }
    }


def _bundle(entries):
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def test_fhir_bundle_of_appointments(tmp_path):
    entries = [
        _appointment(1, "fulfilled"),
        _appointment(2, "noshow", patient="pat-78"),
        _appointment(3, "cancelled"),
        {"resource": {"resourceType": "Patient", "id": "pat-77"}},
    ]
    f = tmp_path / "b.json"
    f.write_text(json.dumps(_bundle(entries)))
    batch = normalize(read_history(f), Pseudonymizer(b"k" * 32))
    assert batch.bad.empty
    g = batch.good
    assert list(g["status"]) == ["attended", "no_show", "cancelled"]
    assert list(g["source_line"]) == [1, 2, 3]
    # the offset is dropped after reading the clinic's wall-clock time: 09:00 stays 09:00
    assert set(g["start_at"]) == {pd.Timestamp("2025-03-04 09:00")}
    assert set(g["provider"]) == {"dr_okafor"} and set(g["appointment_type"]) == {"FOLLOWUP"}


def test_fhir_bad_entries_are_reported_by_entry(tmp_path):
    entries = [
        _appointment(1, "fulfilled"),
        _appointment(2, "booked"),
        _appointment(3, "fulfilled", start="yesterday"),
        _appointment(4, "sleeping"),
    ]
    f = tmp_path / "b.json"
    f.write_text(json.dumps(_bundle(entries)))
    with pytest.raises(BadRowsError) as exc:
        import_history(f, tmp_path / "h.duckdb", key_file=tmp_path / "k")
    assert list(exc.value.bad["line"]) == [2, 3, 4]
    assert "entry 2" in str(exc.value)
    reasons = list(exc.value.bad["reason"])
    assert reasons[0].startswith("status 'booked' is not an outcome")
    assert reasons[1].startswith("not a valid FHIR Appointment (start")
    assert reasons[2].startswith("unknown status 'sleeping'")


def test_fhir_not_a_bundle(tmp_path):
    f = tmp_path / "b.json"
    f.write_text('{"resourceType": "Patient"}')
    with pytest.raises(InputError, match="expected a FHIR Bundle"):
        read_history(f)
    f.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        read_history(f)


def test_bulk_pseudonyms_equal_the_reference_hmac():
    import hashlib
    import hmac

    key = bytes(range(32))
    ps = Pseudonymizer(key)
    ids = [str(10**13 + 7919 * i) for i in range(500)] + ["  42 ", "42.0", "Ünïcode-7", ""]
    bulk = ps.patients(ids)
    assert bulk == [ps.patient(i) for i in ids]
    assert bulk[0] == "p_" + hmac.new(key, b"patient\x1f" + ids[0].encode(), hashlib.sha256).hexdigest()[:20]
    assert bulk[-4] == bulk[-3] == ps.patient("42")
    assert ps.appointments(ids[:100]) == [ps.appointment(i) for i in ids[:100]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12), min_size=64, max_size=90)
)
def test_bulk_pseudonyms_equal_single_ones_for_any_text(ids):
    ps = Pseudonymizer(b"z" * 32)
    assert ps.patients(ids) == [ps.patient(i) for i in ids]


_ROW = {
    "appointment_id": "1",
    "patient_id": "9",
    "start_at": "2025-03-04T09:00:00",
    "scheduled_at": "2025-03-01T10:00:00",
    "status": "attended",
    "age": "40",
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.integers(-5, 130),
            st.sampled_from(["attended", "No Show", "late-cancel", "booked", "??"]),
            st.integers(-3, 3),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_each_row_is_good_or_reported_with_its_line(tmp_path, rows):
    records = []
    for k, (age, status, shift) in enumerate(rows):
        r = dict(_ROW, appointment_id=str(k), age=str(age), status=status)
        r["scheduled_at"] = (
            f"2025-03-{4 - shift:02d}T10:00:00"  # shift > 0: booked before; < 0: after the visit
        )
        records.append(r)
    f = tmp_path / "p.csv"
    pd.DataFrame(records).to_csv(f, index=False)
    batch = normalize(read_history(f), Pseudonymizer(b"h" * 32))
    bad = dict(zip(batch.bad["line"], batch.bad["reason"], strict=True))
    assert len(batch.good) + len(bad) == len(rows)
    for k, (age, status, shift) in enumerate(rows):
        line = k + 2
        expected = None
        if status == "booked":
            expected = "status 'booked' is not an outcome"
        elif status == "??":
            expected = "unknown status '??'"
        elif age < 0:
            expected = f"negative age {age}"
        elif age > 120:
            expected = f"age {age} above 120"
        elif shift < 0:
            expected = "appointment dated before it was booked"
        if expected is None:
            assert line not in bad
        else:
            assert bad[line].startswith(expected), (line, bad[line])
    assert set(batch.good["status"]) <= {"attended", "no_show", "late_cancel"}


def test_each_layout_says_which_store_fields_it_provides(tmp_path):
    """``Batch.provided``: the fields the store may replace from this file; the others keep their
    stored values (an age band follows its age; dates without a time of day give no ``start_at``)."""
    pseudo = Pseudonymizer(b"k" * 32)
    mapped = normalize(read_history(_mapped_export(tmp_path), mapping=load_mapping(EXAMPLE_MAPPING)), pseudo)
    assert set(HASHED) - mapped.provided == {"end_at", *FLAG_FIELDS}
    f, _ = generic_file(tmp_path / "g.csv", rows=50)
    thin = pd.read_csv(f, dtype=str, keep_default_na=False).drop(columns=["age", "roomed_at"])
    thin.to_csv(tmp_path / "thin.csv", index=False)
    batch = normalize(read_history(tmp_path / "thin.csv"), pseudo)
    assert set(HASHED) - batch.provided == {"end_at", "roomed_at", "age", "age_band", *FLAG_FIELDS}
    thin.assign(age_band="45-64").to_csv(tmp_path / "band.csv", index=False)  # a band column, no age
    batch = normalize(read_history(tmp_path / "band.csv"), pseudo)
    assert "age_band" in batch.provided and "age" not in batch.provided
    k, _ = kaggle_file(tmp_path / "k.csv", rows=50)
    batch = normalize(read_history(k), pseudo)
    no_times = {"provider", "appointment_type", "start_at", "end_at", *TIMESTAMP_FIELDS}
    assert set(HASHED) - batch.provided == no_times
    f = tmp_path / "b.json"
    f.write_text(json.dumps(_bundle([_appointment(1, "fulfilled")])))
    batch = normalize(read_history(f), pseudo)
    people = {"age", "age_band", "sex", "reminder", *FLAG_FIELDS}
    assert set(HASHED) - batch.provided == {*TIMESTAMP_FIELDS, *people}
